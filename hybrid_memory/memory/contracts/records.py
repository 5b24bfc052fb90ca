"""The contract of ``import_records``: every record of the batch is checked (shape, ids, sizes,
times, numbers, duplicates) before anything is written, with the same limits as the calls that
write the same things (``add``, ``update``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast, get_args

from hybrid_memory.config import LimitsConfig
from hybrid_memory.errors import InputTooLargeError, UserInputError
from hybrid_memory.memory.contracts.fields import check_memory_text, check_metadata
from hybrid_memory.messages import MessageLimits, normalize_message
from hybrid_memory.models import (
    MAX_ID_LENGTH,
    Aspect,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    Scope,
    content_hash,
    parse_datetime,
)
from hybrid_memory.values import check_json, check_label, check_number, check_text, short

RECORD_TYPES = ("memory", "message", "summary")
MAX_LIST_ITEMS = 1000
"""Sources and entities of one imported memory."""
MAX_TURNS_FOLDED = 2**31 - 1
_ASPECTS: tuple[str, ...] = get_args(Aspect)


@dataclass
class ImportBatch:
    """Records validated for import, grouped by type."""

    memories: list[MemoryItem] = field(default_factory=list)
    messages: list[tuple[Scope, Message]] = field(default_factory=list)
    summaries: list[tuple[Scope, str, int]] = field(default_factory=list)


def _scope(body: dict[str, Any]) -> Scope:
    return Scope.of(body.get("user_id"), body.get("agent_id"), body.get("run_id"))


def _enum(enum: Any, value: Any, what: str, default: Any) -> Any:
    if value is None:
        return default
    try:
        return enum(value)
    except Exception:  # whatever a caller's object does when compared
        allowed = [e.value for e in enum]
        raise UserInputError(f"{what} must be one of {allowed}, got {short(value)}") from None


def _labels(value: Any, what: str, *, ids: bool) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserInputError(f"{what} must be a list of strings, got {type(value).__name__}")
    if len(value) > MAX_LIST_ITEMS:
        raise InputTooLargeError(f"{what} has {len(value)} items; the limit is {MAX_LIST_ITEMS}")
    if ids:
        return [check_label(v, f"{what} item", max_chars=MAX_ID_LENGTH) for v in value]
    for v in value:
        if not isinstance(v, str) or len(v) > MAX_ID_LENGTH:
            raise UserInputError(f"{what} items must be strings of at most {MAX_ID_LENGTH}")
    return value


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        raise UserInputError(f"{what} must be a string of at most {MAX_ID_LENGTH} characters")
    return check_text(value, what)


def _importance(value: Any) -> float:
    if value is None:
        return 0.5
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserInputError(f"importance must be a number from 0 to 1, got {short(value)}")
    check_number(value, "importance", error=UserInputError)
    if not 0.0 <= value <= 1.0:
        raise UserInputError(f"importance must be a number from 0 to 1, got {short(value)}")
    return float(value)


def _required_time(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise UserInputError(f"a memory record needs '{name}' (export writes it)")
    return parse_datetime(body[name], name)


def memory_item(body: dict[str, Any], limits: LimitsConfig) -> MemoryItem:
    """A memory record as the item to store; raises a typed error naming the bad field."""
    memory_id = check_label(body.get("id"), "id", max_chars=MAX_ID_LENGTH)
    text = check_memory_text(body.get("memory"), limits, "memory")
    scope = _scope(body)
    superseded_by = body.get("superseded_by")
    digest = body.get("hash")
    if digest is not None and (not isinstance(digest, str) or len(digest) > 128):
        raise UserInputError("hash must be a string of at most 128 characters")
    return MemoryItem(
        id=memory_id,
        memory=text,
        kind=_enum(MemoryKind, body.get("kind"), "kind", MemoryKind.FACT),
        status=_enum(MemoryStatus, body.get("status"), "status", MemoryStatus.ACTIVE),
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        metadata=check_metadata(body.get("metadata"), limits),
        sources=_labels(body.get("sources"), "sources", ids=True),
        entities=_labels(body.get("entities"), "entities", ids=False),
        subject=_optional_text(body.get("subject"), "subject"),
        attribute=_optional_text(body.get("attribute"), "attribute"),
        hash=check_text(digest, "hash") if digest else content_hash(text),
        importance=_importance(body.get("importance")),
        created_at=_required_time(body, "created_at"),
        updated_at=_required_time(body, "updated_at"),
        superseded_by=(
            None
            if superseded_by is None
            else check_label(superseded_by, "superseded_by", max_chars=MAX_ID_LENGTH)
        ),
        value=_optional_text(body.get("value"), "value"),
        aspect=_aspect(body.get("aspect")),
        event_time=parse_datetime(body.get("event_time"), "event_time"),
        valid_from=parse_datetime(body.get("valid_from"), "valid_from"),
        valid_to=parse_datetime(body.get("valid_to"), "valid_to"),
        expires_at=parse_datetime(body.get("expires_at"), "expires_at"),
    )


def _aspect(value: Any) -> Aspect | None:
    if value is None:
        return None
    if value not in _ASPECTS:
        raise UserInputError(
            f"aspect must be one of {', '.join(_ASPECTS)} or null, got {short(value)}"
        )
    return cast(Aspect, value)


def _message(body: dict[str, Any], limits: LimitsConfig) -> tuple[Scope, Message]:
    scope = _scope(body)
    raw = body.get("message")
    if not isinstance(raw, dict):
        raise UserInputError("a message record needs 'message': a chat message dict")
    if raw.get("id") is None:
        raise UserInputError("a message record needs 'message.id' (export writes it)")
    return scope, normalize_message(raw, 0, _message_limits(limits))


def _message_limits(limits: LimitsConfig) -> MessageLimits:
    return MessageLimits(
        max_chars=limits.max_message_chars,
        max_name_chars=limits.max_name_chars,
        max_tool_calls=limits.max_tool_calls,
        max_depth=limits.max_nesting_depth,
    )


def _summary(body: dict[str, Any], limits: LimitsConfig) -> tuple[Scope, str, int]:
    scope = _scope(body)
    text = body.get("summary")
    if not isinstance(text, str):
        raise UserInputError("a summary record needs a string 'summary'")
    if len(text) > limits.max_message_chars:
        raise InputTooLargeError(
            f"summary has {len(text)} characters; the limit is {limits.max_message_chars}"
        )
    folded = body.get("turns_folded") or 0
    if isinstance(folded, bool) or not isinstance(folded, int):
        raise UserInputError(f"turns_folded must be a non-negative integer, got {short(folded)}")
    if not 0 <= folded <= MAX_TURNS_FOLDED:
        raise UserInputError(f"turns_folded must be from 0 to {MAX_TURNS_FOLDED}")
    return scope, check_text(text, "summary"), folded


class _Seen:
    """Which record first used each key, to refuse a batch that says one thing twice."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, ...], int] = {}

    def once(self, key: tuple[str, ...], n: int, what: str) -> None:
        if key in self.first:
            raise UserInputError(
                f"{what} appears twice in the import (first in record {self.first[key]}); keep one"
            )
        self.first[key] = n


def _one(batch: ImportBatch, record: dict[str, Any], n: int, limits: LimitsConfig, seen: _Seen):
    # The whole record first: nothing in it may nest deeper than what it is made of allows.
    check_json(record, "the record", max_depth=limits.max_nesting_depth + 4)
    if record["type"] == "memory":
        item = memory_item(record, limits)
        seen.once(("memory", item.id), n, f"memory id {item.id!r}")
        batch.memories.append(item)
    elif record["type"] == "message":
        scope, message = _message(record, limits)
        seen.once(("message", scope.key, message.id or ""), n, f"message id {message.id!r}")
        batch.messages.append((scope, message))
    else:
        scope, text, folded = _summary(record, limits)
        seen.once(("summary", scope.key), n, "a summary of the same scope")
        batch.summaries.append((scope, text, folded))


def validate_records(records: Any, limits: LimitsConfig) -> ImportBatch:
    """Check every record before anything is written; the error names the record."""
    if not isinstance(records, list | tuple):
        raise UserInputError(
            f"records must be a list of dicts written by export(), got {type(records).__name__}"
        )
    if len(records) > limits.max_import_records:
        raise InputTooLargeError(
            f"{len(records)} records in one import; the limit is {limits.max_import_records} "
            "(import the file in parts, or raise limits.max_import_records)"
        )
    batch, seen = ImportBatch(), _Seen()
    for n, record in enumerate(records, 1):
        kind = record.get("type") if isinstance(record, dict) else None
        if not isinstance(kind, str) or kind not in RECORD_TYPES:
            raise UserInputError(
                f"record {n}: expected a dict with type 'memory', 'message' or 'summary'"
            )
        try:
            _one(batch, record, n, limits, seen)
        except UserInputError as exc:
            raise type(exc)(f"record {n}: {exc}") from None
    return batch
