"""Reads of turns (the buffer), summaries, history, audit rows and the vector outbox."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from hybrid_memory.models import AuditEntry, HistoryEntry, Message, Scope
from stores.base import BufferedTurn, PendingBatch, QuarantinedOp, RunSummary, VectorOp
from stores.sqlite.db import Db
from stores.sqlite.rows import dt, row_scope, row_to_audit, row_to_history, scope_condition


class TurnReads(Db):
    """Turns, summaries, history, audit and outbox reads of the record store."""

    def buffer(self, scope: Scope) -> list[BufferedTurn]:
        rows = self._query(
            "SELECT seq, raw, tokens FROM turns WHERE scope_key = ? AND in_buffer = 1 ORDER BY seq",
            (scope.key,),
        )
        return [
            BufferedTurn(r["seq"], Message.model_validate_json(r["raw"]), r["tokens"]) for r in rows
        ]

    def turns(self, scope: Scope) -> list[tuple[Scope, Message]]:
        cond, params = scope_condition(scope, alias="t")
        rows = self._query(
            f"SELECT user_id, agent_id, run_id, raw FROM turns t WHERE {cond} ORDER BY seq", params
        )
        return [(row_scope(r), Message.model_validate_json(r["raw"])) for r in rows]

    def summaries(self, scope: Scope) -> list[tuple[Scope, RunSummary]]:
        cond, params = scope_condition(scope, alias="s")
        rows = self._query(
            f"SELECT user_id, agent_id, run_id, summary, tokens, turns_folded FROM summaries s "
            f"WHERE {cond}",
            params,
        )
        return [
            (row_scope(r), RunSummary(r["summary"], r["tokens"], r["turns_folded"])) for r in rows
        ]

    def scopes(self) -> list[Scope]:
        rows = self._query(
            "SELECT user_id, agent_id, run_id FROM memories UNION "
            "SELECT user_id, agent_id, run_id FROM turns UNION "
            "SELECT user_id, agent_id, run_id FROM summaries"
        )
        return sorted((row_scope(r) for r in rows), key=lambda s: s.key)

    def unextracted(self, scope: Scope | None) -> list[PendingBatch]:
        return self._batches(scope, quarantined=False)

    def quarantined_turns(self, scope: Scope | None) -> list[PendingBatch]:
        return self._batches(scope, quarantined=True)

    def _batches(self, scope: Scope | None, *, quarantined: bool) -> list[PendingBatch]:
        sql = (
            "SELECT scope_key, user_id, agent_id, run_id, options, raw, quarantined, "
            "quarantined_at FROM turns t WHERE extracted = 0 AND quarantined IS "
            + ("NOT NULL" if quarantined else "NULL")
        )
        params: list[Any] = []
        if scope is not None:
            cond, params = scope_condition(scope, alias="t")
            sql += f" AND {cond}"
        groups: list[PendingBatch] = []
        last: tuple[str, str, str | None] | None = None
        for r in self._query(sql + " ORDER BY seq", params):
            key = (r["scope_key"], r["options"], r["quarantined"])
            if key != last:
                options = _options(r["options"])
                at = dt(r["quarantined_at"])
                groups.append(PendingBatch(row_scope(r), options, [], r["quarantined"], at))
                last = key
            groups[-1].messages.append(Message.model_validate_json(r["raw"]))
        return groups

    def history(self, memory_id: str, scope: Scope | None = None) -> list[HistoryEntry]:
        sql, params = "SELECT * FROM history h WHERE memory_id = ?", [memory_id]
        if scope is not None:
            cond, more = scope_condition(scope, alias="h")
            sql, params = f"{sql} AND {cond}", [*params, *more]
        return [row_to_history(r) for r in self._query(sql + " ORDER BY seq", params)]

    def history_scope(self, memory_id: str) -> Scope | None:
        rows = self._query(
            "SELECT user_id, agent_id, run_id FROM history WHERE memory_id = ? "
            "ORDER BY seq LIMIT 1",
            (memory_id,),
        )
        return row_scope(rows[0]) if rows else None

    def audit(self, scope: Scope | None) -> list[AuditEntry]:
        sql, params = "SELECT * FROM audit a", list[Any]()
        if scope is not None and not scope.is_empty:
            cond, params = scope_condition(scope, alias="a")
            sql += f" WHERE {cond}"
        return [row_to_audit(r) for r in self._query(sql + " ORDER BY at, id", params)]

    def pending(self) -> list[tuple[int, VectorOp]]:
        rows = self._query("SELECT * FROM outbox WHERE quarantined IS NULL ORDER BY seq")
        return [(r["seq"], _op(r)) for r in rows]

    def quarantined_ops(self) -> list[QuarantinedOp]:
        rows = self._query("SELECT * FROM outbox WHERE quarantined IS NOT NULL ORDER BY seq")
        return [
            QuarantinedOp(r["seq"], _op(r), r["quarantined"], dt(r["quarantined_at"])) for r in rows
        ]


def _op(row: Any) -> VectorOp:
    vectors = None
    if row["vectors"] is not None:
        vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(-1, row["dimension"])
    metas = json.loads(row["metadatas"]) if row["metadatas"] else None
    return VectorOp(row["op"], json.loads(row["ids"]), vectors, metas)


def _options(text: str) -> dict[str, Any]:
    """The stored options of an add; text an earlier version could not read back is taken as
    no options (the batch is still processed, with the defaults)."""
    try:
        options = json.loads(text)
    except ValueError:
        return {}
    return options if isinstance(options, dict) else {}
