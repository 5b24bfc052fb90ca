"""Rows to records and back, and the SQL condition of a scope."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from hybrid_memory.models import (
    AuditEntry,
    EventType,
    HistoryEntry,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Scope,
    as_utc,
)

SCOPE_COLUMNS = ("user_id", "agent_id", "run_id")
MEMORY_COLUMNS = (
    "id, memory, kind, status, user_id, agent_id, run_id, metadata, sources, entities, "
    "subject, attribute, hash, importance, created_at, updated_at, event_time, valid_from, "
    "valid_to, superseded_by, expires_at, aspect, value"
)


def ts(value: datetime | None) -> str | None:
    """A time as stored: ISO 8601 in UTC (sorts and compares as text)."""
    return as_utc(value).isoformat() if value is not None else None


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dt_required(value: str) -> datetime:
    return datetime.fromisoformat(value)


def scope_condition(
    scope: Scope, alias: str = "m", *, keyed: bool = False
) -> tuple[str, list[Any]]:
    """SQL condition restricting rows to ``scope`` (every given id must match exactly).

    ``keyed``: the query also names the rows by a more selective indexed key (an id, a
    hash), so the scope's columns are kept out of index choice (a unary ``+``). Without
    statistics SQLite would rate the scope index as selective as the key's and scan the whole
    scope for each look-up: a cost that grows with the scope."""
    ids = scope.as_filter()
    if not ids:
        return "0", []  # an empty scope selects nothing
    plus = "+" if keyed else ""
    return " AND ".join(f"{plus}{alias}.{k} = ?" for k in ids), list(ids.values())


def row_scope(row: sqlite3.Row) -> Scope:
    return Scope(user_id=row["user_id"], agent_id=row["agent_id"], run_id=row["run_id"])


def _json(text: str) -> Any:
    """A stored JSON value; the empty list and object (most memories' metadata and entities)
    without the parser."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text)


def row_to_item(row: sqlite3.Row) -> MemoryItem:
    """The memory of a row. Rows are written from validated items only (``item_params``), so
    they are not validated again: a search reads hundreds."""
    return MemoryItem.model_construct(
        id=row["id"],
        memory=row["memory"],
        kind=MemoryKind(row["kind"]),
        status=MemoryStatus(row["status"]),
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        run_id=row["run_id"],
        metadata=_json(row["metadata"]),
        sources=_json(row["sources"]),
        entities=_json(row["entities"]),
        subject=row["subject"],
        attribute=row["attribute"],
        hash=row["hash"],
        importance=row["importance"],
        created_at=dt_required(row["created_at"]),
        updated_at=dt_required(row["updated_at"]),
        event_time=dt(row["event_time"]),
        valid_from=dt(row["valid_from"]),
        valid_to=dt(row["valid_to"]),
        superseded_by=row["superseded_by"],
        expires_at=dt(row["expires_at"]),
        aspect=row["aspect"],
        value=row["value"],
    )


def item_params(item: MemoryItem) -> tuple[Any, ...]:
    """The values of :data:`MEMORY_COLUMNS`, in that order."""
    return (
        item.id,
        item.memory,
        item.kind.value,
        item.status.value,
        item.user_id,
        item.agent_id,
        item.run_id,
        json.dumps(item.metadata, default=str, ensure_ascii=False),
        json.dumps(item.sources, ensure_ascii=False),
        json.dumps(item.entities, ensure_ascii=False),
        item.subject,
        item.attribute,
        item.hash,
        item.importance,
        ts(item.created_at),
        ts(item.updated_at),
        ts(item.event_time),
        ts(item.valid_from),
        ts(item.valid_to),
        item.superseded_by,
        ts(item.expires_at),
        item.aspect,
        item.value,
    )


def row_to_history(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry(
        id=row["id"],
        memory_id=row["memory_id"],
        old_memory=row["old_memory"],
        new_memory=row["new_memory"],
        event=EventType(row["event"]),
        actor=row["actor"],
        reason=row["reason"],
        created_at=dt_required(row["created_at"]),
    )


def row_to_audit(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry.model_validate({**dict(row), "message_ids": json.loads(row["message_ids"])})


def marks(values: Any) -> str:
    """``?, ?, ?`` for an IN list."""
    return ",".join("?" * len(values))


def chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    """SQLite limits host parameters; long IN lists go in chunks."""
    return [values[i : i + size] for i in range(0, len(values), size)]
