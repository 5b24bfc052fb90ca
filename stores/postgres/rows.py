"""Rows to records and back, and the SQL condition of a scope (alias ``m`` by default)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

from hybrid_memory.filters import COLUMNS, DATE_COLUMNS, SCOPE_COLUMNS
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

MEMORY_COLUMNS = (
    "id, memory, kind, status, user_id, agent_id, run_id, metadata, sources, entities, "
    "subject, subject_folded, attribute, hash, importance, created_at, updated_at, event_time, "
    "valid_from, valid_to, superseded_by, expires_at, aspect, value, texts, folded"
)
_JSON_TYPES = ("metadata", "sources", "entities", "texts", "folded")


def scope_condition(scope: Scope, alias: str = "m") -> tuple[str, list[Any]]:
    """SQL condition restricting rows to ``scope`` (every given id must match exactly)."""
    ids = scope.as_filter()
    if not ids:
        return "FALSE", []  # an empty scope selects nothing
    return " AND ".join(f"{alias}.{k} = %s" for k in ids), list(ids.values())


def row_scope(row: dict[str, Any]) -> Scope:
    return Scope(user_id=row["user_id"], agent_id=row["agent_id"], run_id=row["run_id"])


def text_of(value: Any) -> str | None:
    """A value as filters read it as text (dates ISO 8601 UTC, booleans 0/1, JSON compact)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def _texts(item: MemoryItem) -> tuple[dict[str, str], dict[str, str]]:
    """The ``texts`` and ``folded`` columns: every filterable value as text, and folded."""
    texts: dict[str, str] = {}
    for name in (*COLUMNS, *DATE_COLUMNS, *SCOPE_COLUMNS):
        text = text_of(getattr(item, name))
        if text is not None:
            texts[name] = text
    for key, value in item.metadata.items():
        text = text_of(value)
        if text is not None:
            texts[f"metadata.{key}"] = text
    return texts, {k: v.casefold() for k, v in texts.items()}


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def item_params(item: MemoryItem) -> tuple[Any, ...]:
    """The values of :data:`MEMORY_COLUMNS`, in that order."""
    texts, folded = _texts(item)
    return (
        item.id,
        item.memory,
        item.kind.value,
        item.status.value,
        item.user_id,
        item.agent_id,
        item.run_id,
        _dump(item.metadata),
        _dump(item.sources),
        _dump(item.entities),
        item.subject,
        item.subject.casefold() if item.subject is not None else None,
        item.attribute,
        item.hash,
        item.importance,
        as_utc(item.created_at),
        as_utc(item.updated_at),
        *(as_utc(t) if t is not None else None for t in (item.event_time, item.valid_from)),
        as_utc(item.valid_to) if item.valid_to is not None else None,
        item.superseded_by,
        as_utc(item.expires_at) if item.expires_at is not None else None,
        item.aspect,
        item.value,
        _dump(texts),
        _dump(folded),
    )


def placeholders() -> str:
    """The VALUES list of :data:`MEMORY_COLUMNS` (JSON columns cast to jsonb)."""
    names = MEMORY_COLUMNS.split(", ")
    return ", ".join("%s::jsonb" if n in _JSON_TYPES else "%s" for n in names)


def row_to_item(row: dict[str, Any]) -> MemoryItem:
    return MemoryItem(
        id=row["id"],
        memory=row["memory"],
        kind=MemoryKind(row["kind"]),
        status=MemoryStatus(row["status"]),
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        run_id=row["run_id"],
        metadata=row["metadata"],
        sources=row["sources"],
        entities=row["entities"],
        subject=row["subject"],
        attribute=row["attribute"],
        hash=row["hash"],
        importance=row["importance"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        event_time=row["event_time"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        superseded_by=row["superseded_by"],
        expires_at=row["expires_at"],
        aspect=row["aspect"],
        value=row["value"],
    )


def row_to_history(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        id=row["id"],
        memory_id=row["memory_id"],
        old_memory=row["old_memory"],
        new_memory=row["new_memory"],
        event=EventType(row["event"]),
        actor=row["actor"],
        reason=row["reason"],
        created_at=row["created_at"],
    )


def row_to_audit(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry.model_validate({**row, "message_ids": json.loads(row["message_ids"])})
