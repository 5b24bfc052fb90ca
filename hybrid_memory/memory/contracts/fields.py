"""The field types of the input contracts: each public argument's check, as a pydantic
validator that raises the project's typed error (the message says what to change).

Validators read the memory's :class:`~hybrid_memory.config.LimitsConfig` from the validation
context (``model_validate(values, context={"limits": limits})``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationInfo

from hybrid_memory.config import LimitsConfig
from hybrid_memory.errors import ConfigError, InputTooLargeError, TokenBudgetError, UserInputError
from hybrid_memory.filters import Filter, parse_filter
from hybrid_memory.memory.context import CONTEXT_TIERS
from hybrid_memory.messages import MessageLimits, normalize_messages
from hybrid_memory.models import MAX_ID_LENGTH, Message, Scope, parse_datetime
from hybrid_memory.values import check_json, check_label, check_text, short

MAX_SEARCH_LIMIT = 1000
MAX_LIST_LIMIT = 1_000_000_000
MAX_TOKEN_BUDGET = 100_000_000
"""No model has a window near this; a bigger budget is a mistake, not a wish."""
MAX_PRESENT_IDS = 100_000


def limits_of(info: ValidationInfo) -> LimitsConfig:
    """The limits the call is checked against (the defaults when none were given)."""
    limits = (info.context or {}).get("limits")
    return limits if isinstance(limits, LimitsConfig) else LimitsConfig()


def scope_ids(user_id: Any, agent_id: Any, run_id: Any) -> dict[str, Any]:
    """The three scope arguments as one contract field."""
    return {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}


def _scope(value: Any, info: ValidationInfo) -> Scope:
    return Scope.of(**value)


def _any_scope(value: Any, info: ValidationInfo) -> Scope:
    return Scope.of(**value, require=False)


def _messages(value: Any, info: ValidationInfo) -> list[Message]:
    limits = limits_of(info)
    return normalize_messages(
        value,
        max_chars=limits.max_message_chars,
        max_messages=limits.max_messages_per_add,
        limits=MessageLimits(
            max_name_chars=limits.max_name_chars,
            max_tool_calls=limits.max_tool_calls,
            max_depth=limits.max_nesting_depth,
        ),
    )


def check_metadata(value: Any, limits: LimitsConfig, what: str = "metadata") -> dict[str, Any]:
    """A dict of JSON values with non-empty string keys, under the size and depth limits."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserInputError(f"{what} must be a dict, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise UserInputError(f"{what} keys must be non-empty strings, got {short(key)}")
    check_json(value, what, max_depth=limits.max_nesting_depth)
    encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
    size = len(encoded.encode("utf-8"))
    if size > limits.max_metadata_bytes:
        raise InputTooLargeError(
            f"{what} is {size} bytes as JSON; the limit is {limits.max_metadata_bytes}"
        )
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded


def _metadata(value: Any, info: ValidationInfo) -> dict[str, Any]:
    return check_metadata(value, limits_of(info))


def _flag(value: Any, info: ValidationInfo) -> bool:
    if not isinstance(value, bool):
        raise UserInputError(f"{info.field_name} must be True or False, got {short(value)}")
    return value


def _optional_flag(value: Any, info: ValidationInfo) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise UserInputError(
            f"{info.field_name} must be True, False or None (the default), got {short(value)}"
        )
    return value


def _when(value: Any, info: ValidationInfo) -> datetime | None:
    return parse_datetime(value, info.field_name or "time")


def _actor(value: Any, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    return check_label(value, "actor", max_chars=MAX_ID_LENGTH)


def check_query(value: Any, limits: LimitsConfig) -> str:
    """A search query: non-blank, valid Unicode, at most ``max_query_chars``."""
    if not isinstance(value, str):
        raise UserInputError(f"query must be a string, got {type(value).__name__}")
    if not value.strip():
        raise UserInputError("query is empty; pass the text to search for")
    if len(value) > limits.max_query_chars:
        raise InputTooLargeError(
            f"query has {len(value)} characters; the limit is {limits.max_query_chars}"
        )
    return check_text(value, "query")


def _query(value: Any, info: ValidationInfo) -> str:
    return check_query(value, limits_of(info))


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _search_limit(value: Any, info: ValidationInfo) -> int:
    if not _integer(value) or not 1 <= value <= MAX_SEARCH_LIMIT:
        raise UserInputError(
            f"limit must be an integer from 1 to {MAX_SEARCH_LIMIT}, got {short(value)}"
        )
    return int(value)


def _list_limit(value: Any, info: ValidationInfo) -> int | None:
    if value is not None and (not _integer(value) or not 1 <= value <= MAX_LIST_LIMIT):
        raise UserInputError(
            f"limit must be a positive integer (at most {MAX_LIST_LIMIT:,}) or None, "
            f"got {short(value)}"
        )
    return value


def _threshold(value: Any, info: ValidationInfo) -> float | None:
    if value is not None and not (
        isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0
    ):
        raise UserInputError(f"threshold must be a number from 0 to 1, got {short(value)}")
    return None if value is None else float(value)


def _filter(value: Any, info: ValidationInfo) -> Filter | None:
    return parse_filter(value)


def _memory_id(value: Any, info: ValidationInfo) -> str:
    return check_label(value, "memory_id", max_chars=MAX_ID_LENGTH)


def check_memory_text(value: Any, limits: LimitsConfig, what: str = "text") -> str:
    """A memory's text: non-blank, valid Unicode, at most ``max_message_chars``."""
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"{what} must be a non-empty string")
    if len(value) > limits.max_message_chars:
        raise InputTooLargeError(
            f"{what} has {len(value)} characters; the limit is {limits.max_message_chars}"
        )
    return check_text(value, what)


def _text(value: Any, info: ValidationInfo) -> str:
    return check_memory_text(value, limits_of(info))


def _tiers(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    chosen: tuple[Any, ...] | None = None
    if not isinstance(value, str | bytes | dict):
        try:
            chosen = tuple(value)
        except Exception:  # a caller's object may fail to iterate in any way
            chosen = None
    if chosen is None or not all(isinstance(t, str) and t in CONTEXT_TIERS for t in chosen):
        raise UserInputError(
            f"tiers must be a list drawn from {list(CONTEXT_TIERS)}, got {short(value)}"
        )
    return chosen


def _present_ids(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(i, str) for i in value
    ):
        raise UserInputError("present_ids must be a list of message id strings")
    if len(value) > MAX_PRESENT_IDS:
        raise InputTooLargeError(
            f"present_ids has {len(value)} ids; the limit is {MAX_PRESENT_IDS}"
        )
    return tuple(value)


def _token_budget(value: Any, info: ValidationInfo) -> int:
    if not _integer(value) or not 0 <= value <= MAX_TOKEN_BUDGET:
        raise TokenBudgetError(
            f"token_budget must be a non-negative integer (at most {MAX_TOKEN_BUDGET:,}), "
            f"got {short(value)}"
        )
    return int(value)


def _model_name(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ConfigError("model must be a model name such as 'gpt-4o-mini'")
    return check_text(value, "model", error=ConfigError)


RequiredScope = Annotated[Scope, PlainValidator(_scope)]
"""At least one of user_id, agent_id, run_id."""
AnyScope = Annotated[Scope, PlainValidator(_any_scope)]
"""Scope ids that may all be missing (then: every scope, or none, as the call says)."""
Messages = Annotated[list[Message], PlainValidator(_messages)]
Metadata = Annotated[dict[str, Any], PlainValidator(_metadata)]
Flag = Annotated[bool, PlainValidator(_flag)]
OptionalFlag = Annotated[bool | None, PlainValidator(_optional_flag)]
When = Annotated[datetime | None, PlainValidator(_when)]
Actor = Annotated[str | None, PlainValidator(_actor)]
Query = Annotated[str, PlainValidator(_query)]
SearchLimit = Annotated[int, PlainValidator(_search_limit)]
ListLimit = Annotated[int | None, PlainValidator(_list_limit)]
Threshold = Annotated[float | None, PlainValidator(_threshold)]
FilterArg = Annotated[Any, PlainValidator(_filter)]
MemoryId = Annotated[str, PlainValidator(_memory_id)]
Text = Annotated[str, PlainValidator(_text)]
Tiers = Annotated[tuple[str, ...], PlainValidator(_tiers)]
PresentIds = Annotated[tuple[str, ...], PlainValidator(_present_ids)]
TokenBudget = Annotated[int, PlainValidator(_token_budget)]
ModelName = Annotated[str, PlainValidator(_model_name)]
