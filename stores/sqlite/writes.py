"""The SQLite unit of work: every write of the record store, inside one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from hybrid_memory.errors import StoreError
from hybrid_memory.models import AuditEntry, HistoryEntry, MemoryItem, Message, Scope
from stores.base import RunSummary, VectorOp
from stores.sqlite.reads import MemoryReads
from stores.sqlite.rows import (
    MEMORY_COLUMNS,
    chunks,
    item_params,
    marks,
    row_to_item,
    scope_condition,
    ts,
)

_TABLES = ("memories", "memory_entities", "history", "turns", "summaries", "outbox", "audit")


class SQLiteUnitOfWork(MemoryReads):
    """Writes of one transaction (opened and committed by the store's ``unit_of_work``)."""

    def _link_entities(self, item: MemoryItem) -> None:
        names = {e.casefold().strip() for e in item.entities if e.strip()}
        self._executemany(
            "INSERT OR IGNORE INTO memory_entities(memory_id, entity) VALUES (?, ?)",
            [(item.id, n) for n in names],
        )

    def insert_memory(self, item: MemoryItem) -> None:
        self._execute(
            f"INSERT INTO memories ({MEMORY_COLUMNS}) VALUES ({marks(MEMORY_COLUMNS.split(', '))})",
            item_params(item),
        )
        self._link_entities(item)

    def replace_memory(self, item: MemoryItem) -> None:
        params = item_params(item)
        columns = MEMORY_COLUMNS.split(", ")[1:]
        cur = self._execute(
            f"UPDATE memories SET {', '.join(c + '=?' for c in columns)} WHERE id=?",
            (*params[1:], params[0]),
        )
        if cur.rowcount != 1:
            raise StoreError(f"memory {item.id!r} vanished during an update")
        self._execute("DELETE FROM memory_entities WHERE memory_id = ?", (item.id,))
        self._link_entities(item)

    def delete_memories(self, ids: Sequence[str]) -> None:
        for chunk in chunks(list(ids)):
            self._execute(f"DELETE FROM memories WHERE id IN ({marks(chunk)})", chunk)
            self._execute(f"DELETE FROM memory_entities WHERE memory_id IN ({marks(chunk)})", chunk)

    def delete_scope(self, scope: Scope) -> list[MemoryItem]:
        cond, params = scope_condition(scope)
        rows = self._query(f"SELECT m.* FROM memories m WHERE {cond}", params)
        items = [row_to_item(r) for r in rows]
        self.delete_memories([i.id for i in items])
        for table in ("turns", "summaries"):
            tcond, tparams = scope_condition(scope, alias=table)
            self._execute(f"DELETE FROM {table} WHERE {tcond}", tparams)
        return items

    def add_history(self, entry: HistoryEntry, scope: Scope) -> None:
        seq = self._query("SELECT coalesce(max(seq), 0) + 1 AS n FROM history")[0]["n"]
        self._execute(
            """INSERT INTO history (id, memory_id, old_memory, new_memory, event, actor,
            reason, user_id, agent_id, run_id, created_at, seq)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
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
                ts(entry.created_at),
                seq,
            ),
        )

    def add_audit(self, entry: AuditEntry) -> None:
        self._execute(
            "INSERT INTO audit (id, at, user_id, agent_id, run_id, stage, message_ids, "
            "error, raw) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                entry.id,
                ts(entry.at),
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
        self._execute(
            """INSERT INTO turns (scope_key, user_id, agent_id, run_id, message_id, role,
            name, content, timestamp, created_at, tokens, in_buffer, options, raw)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)""",
            (
                scope.key,
                scope.user_id,
                scope.agent_id,
                scope.run_id,
                message.id,
                message.role,
                message.name,
                message.content,
                ts(message.timestamp),
                ts(at),
                tokens,
                json.dumps(options, default=str),
                message.model_dump_json(),
            ),
        )

    def mark_extracted(self, scope: Scope, message_ids: Sequence[str]) -> None:
        for chunk in chunks(list(message_ids)):
            self._execute(
                "UPDATE turns SET extracted = 1, quarantined = NULL, quarantined_at = NULL "
                f"WHERE scope_key = ? AND message_id IN ({marks(chunk)})",
                [scope.key, *chunk],
            )

    def quarantine_turns(
        self, scope: Scope, message_ids: Sequence[str], error: str, at: datetime
    ) -> None:
        for chunk in chunks(list(message_ids)):
            self._execute(
                "UPDATE turns SET quarantined = ?, quarantined_at = ? WHERE scope_key = ? "
                f"AND extracted = 0 AND message_id IN ({marks(chunk)})",
                [error, ts(at), scope.key, *chunk],
            )

    def quarantine_op(self, op: VectorOp, error: str, at: datetime) -> None:
        self._insert_op(op, quarantined=(error, ts(at)))

    def evict(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._execute(
                f"UPDATE turns SET in_buffer = 0 WHERE seq IN ({marks(seqs)})", list(seqs)
            )

    def set_summary(self, scope: Scope, summary: RunSummary, at: datetime) -> None:
        self._execute(
            """INSERT INTO summaries (scope_key, user_id, agent_id, run_id, summary, tokens,
            turns_folded, updated_at) VALUES (?,?,?,?,?,?,?,?)
            ON CONFLICT(scope_key) DO UPDATE SET summary=excluded.summary,
            tokens=excluded.tokens, turns_folded=excluded.turns_folded,
            updated_at=excluded.updated_at""",
            (
                scope.key,
                scope.user_id,
                scope.agent_id,
                scope.run_id,
                summary.text,
                summary.tokens,
                summary.turns_folded,
                ts(at),
            ),
        )

    def enqueue(self, op: VectorOp) -> None:
        self._insert_op(op, quarantined=(None, None))

    def _insert_op(self, op: VectorOp, *, quarantined: tuple[str | None, str | None]) -> None:
        vectors: bytes | None = None
        dim: int | None = None
        if op.vectors is not None:
            arr = np.ascontiguousarray(op.vectors, dtype=np.float32)
            vectors, dim = arr.tobytes(), int(arr.shape[1]) if arr.ndim == 2 else 0
        self._execute(
            "INSERT INTO outbox (op, ids, vectors, dimension, metadatas, quarantined, "
            "quarantined_at) VALUES (?,?,?,?,?,?,?)",
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
            self._execute(f"DELETE FROM outbox WHERE seq IN ({marks(seqs)})", list(seqs))

    def reset(self) -> None:
        for table in _TABLES:
            self._execute(f"DELETE FROM {table}")
        self._execute("DELETE FROM meta WHERE key IN ('embedder', 'dimension')")
