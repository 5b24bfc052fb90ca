"""The PostgreSQL unit of work: every write of the record store, inside one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from hybrid_memory.errors import StoreError
from hybrid_memory.models import AuditEntry, HistoryEntry, MemoryItem, Message, Scope, as_utc
from stores.base import RunSummary, VectorOp
from stores.postgres.reads import MemoryReads
from stores.postgres.rows import (
    MEMORY_COLUMNS,
    item_params,
    placeholders,
    row_to_item,
    scope_condition,
)

TABLES = ("memories", "memory_entities", "history", "turns", "summaries", "outbox", "audit")


class PostgresUnitOfWork(MemoryReads):
    """Writes of one transaction (opened and committed by the store's ``unit_of_work``)."""

    def _link_entities(self, item: MemoryItem) -> None:
        names = sorted({e.casefold().strip() for e in item.entities if e.strip()})
        self._executemany(
            "INSERT INTO {s}.memory_entities (memory_id, entity) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            [(item.id, n) for n in names],
        )

    def insert_memory(self, item: MemoryItem) -> None:
        self._execute(
            f"INSERT INTO {{s}}.memories ({MEMORY_COLUMNS}) VALUES ({placeholders()})",
            item_params(item),
        )
        self._link_entities(item)

    def replace_memory(self, item: MemoryItem) -> None:
        params = item_params(item)
        columns = MEMORY_COLUMNS.split(", ")[1:]
        marks = placeholders().split(", ")[1:]
        sets = ", ".join(f"{c} = {m}" for c, m in zip(columns, marks, strict=True))
        touched = self._execute(
            f"UPDATE {{s}}.memories SET {sets} WHERE id = %s", (*params[1:], params[0])
        )
        if touched != 1:
            raise StoreError(f"memory {item.id!r} vanished during an update")
        self._execute("DELETE FROM {s}.memory_entities WHERE memory_id = %s", (item.id,))
        self._link_entities(item)

    def delete_memories(self, ids: Sequence[str]) -> None:
        if ids:
            self._execute("DELETE FROM {s}.memories WHERE id = ANY(%s)", (list(ids),))
            self._execute("DELETE FROM {s}.memory_entities WHERE memory_id = ANY(%s)", (list(ids),))

    def delete_scope(self, scope: Scope) -> list[MemoryItem]:
        cond, params = scope_condition(scope)
        rows = self._query(f"SELECT m.* FROM {{s}}.memories m WHERE {cond}", params)
        items = [row_to_item(r) for r in rows]
        self.delete_memories([i.id for i in items])
        for table in ("turns", "summaries"):
            tcond, tparams = scope_condition(scope, alias="t")
            self._execute(f"DELETE FROM {{s}}.{table} t WHERE {tcond}", tparams)
        return items

    def add_history(self, entry: HistoryEntry, scope: Scope) -> None:
        self._execute(
            """INSERT INTO {s}.history (id, memory_id, old_memory, new_memory, event, actor,
            reason, user_id, agent_id, run_id, created_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                entry.id,
                entry.memory_id,
                entry.old_memory,
                entry.new_memory,
                entry.event.value,
                entry.actor,
                entry.reason,
                scope.user_id,
                scope.agent_id,
                scope.run_id,
                as_utc(entry.created_at),
            ),
        )

    def add_audit(self, entry: AuditEntry) -> None:
        self._execute(
            "INSERT INTO {s}.audit (id, at, user_id, agent_id, run_id, stage, message_ids, "
            "error, raw) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                entry.id,
                as_utc(entry.at),
                entry.user_id,
                entry.agent_id,
                entry.run_id,
                entry.stage,
                json.dumps(list(entry.message_ids)),
                entry.error,
                entry.raw,
            ),
        )

    def insert_turn(
        self, scope: Scope, message: Message, tokens: int, at: datetime, options: dict[str, Any]
    ) -> None:
        # Another process may store the same message at the same moment: one row is kept.
        self._execute(
            """INSERT INTO {s}.turns (scope_key, user_id, agent_id, run_id, message_id,
            created_at, tokens, options, raw) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (scope_key, message_id) DO NOTHING""",
            (
                scope.key,
                scope.user_id,
                scope.agent_id,
                scope.run_id,
                message.id,
                as_utc(at),
                tokens,
                json.dumps(options, default=str),
                message.model_dump_json(),
            ),
        )

    def mark_extracted(self, scope: Scope, message_ids: Sequence[str]) -> None:
        if message_ids:
            self._execute(
                "UPDATE {s}.turns SET extracted = TRUE, quarantined = NULL, quarantined_at = NULL "
                "WHERE scope_key = %s AND message_id = ANY(%s)",
                (scope.key, list(message_ids)),
            )

    def quarantine_turns(
        self, scope: Scope, message_ids: Sequence[str], error: str, at: datetime
    ) -> None:
        if message_ids:
            self._execute(
                "UPDATE {s}.turns SET quarantined = %s, quarantined_at = %s WHERE scope_key = %s "
                "AND NOT extracted AND message_id = ANY(%s)",
                (error, as_utc(at), scope.key, list(message_ids)),
            )

    def quarantine_op(self, op: VectorOp, error: str, at: datetime) -> None:
        self._insert_op(op, quarantined=(error, as_utc(at)))

    def evict(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._execute(
                "UPDATE {s}.turns SET in_buffer = FALSE WHERE seq = ANY(%s)",
                ([int(s) for s in seqs],),
            )

    def set_summary(self, scope: Scope, summary: RunSummary, at: datetime) -> None:
        self._execute(
            """INSERT INTO {s}.summaries (scope_key, user_id, agent_id, run_id, summary, tokens,
            turns_folded, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (scope_key) DO UPDATE SET summary = excluded.summary,
            tokens = excluded.tokens, turns_folded = excluded.turns_folded,
            updated_at = excluded.updated_at""",
            (
                scope.key,
                scope.user_id,
                scope.agent_id,
                scope.run_id,
                summary.text,
                summary.tokens,
                summary.turns_folded,
                as_utc(at),
            ),
        )

    def enqueue(self, op: VectorOp) -> None:
        self._insert_op(op, quarantined=(None, None))

    def _insert_op(self, op: VectorOp, *, quarantined: tuple[str | None, Any]) -> None:
        vectors: bytes | None = None
        dim: int | None = None
        if op.vectors is not None:
            arr = np.ascontiguousarray(op.vectors, dtype=np.float32)
            vectors, dim = arr.tobytes(), int(arr.shape[1]) if arr.ndim == 2 else 0
        self._execute(
            "INSERT INTO {s}.outbox (op, ids, vectors, dimension, metadatas, quarantined, "
            "quarantined_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                op.op,
                json.dumps(op.ids),
                vectors,
                dim,
                json.dumps(op.metadatas) if op.metadatas is not None else None,
                *quarantined,
            ),
        )

    def done(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._execute("DELETE FROM {s}.outbox WHERE seq = ANY(%s)", ([int(s) for s in seqs],))

    def reset(self) -> None:
        self._execute("TRUNCATE " + ", ".join(f"{{s}}.{t}" for t in TABLES))
        self._execute("DELETE FROM {s}.meta WHERE key IN ('embedder', 'dimension')")
