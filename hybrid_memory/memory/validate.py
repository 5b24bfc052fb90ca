"""Checks of the public methods' arguments, in one place: bad input is refused with a typed
error that says what to change, before anything is read or written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybrid_memory.config import LimitsConfig
from hybrid_memory.errors import (
    ConfigError,
    InputTooLargeError,
    TokenBudgetError,
    UserInputError,
)
from hybrid_memory.memory.context import CONTEXT_TIERS
from hybrid_memory.models import parse_datetime

MAX_LIMIT = 1000


def when(value: Any, what: str) -> datetime | None:
    """A caller's time argument (ISO 8601 string or datetime)."""
    return parse_datetime(value, what)


def metadata(value: Any, limits: LimitsConfig) -> dict[str, Any]:
    """A JSON-serializable dict with non-empty string keys, under the size limit."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserInputError(f"metadata must be a dict, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise UserInputError(f"metadata keys must be non-empty strings, got {key!r}")
    try:
        encoded = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"metadata must be JSON-serializable: {exc}") from None
    if len(encoded.encode("utf-8")) > limits.max_metadata_bytes:
        raise InputTooLargeError(
            f"metadata is {len(encoded)} bytes as JSON; the limit is {limits.max_metadata_bytes}"
        )
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded


def flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise UserInputError(f"{what} must be True or False, got {value!r}")
    return value


def query(value: Any, limits: LimitsConfig) -> str:
    if not isinstance(value, str):
        raise UserInputError(f"query must be a string, got {type(value).__name__}")
    if not value.strip():
        raise UserInputError("query is empty; pass the text to search for")
    if len(value) > limits.max_query_chars:
        raise InputTooLargeError(
            f"query has {len(value)} characters; the limit is {limits.max_query_chars}"
        )
    return value


def search_limit(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise UserInputError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {value!r}")
    return value


def list_limit(value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise UserInputError(f"limit must be a positive integer or None, got {value!r}")
    return value


def threshold(value: Any) -> float | None:
    if value is not None and not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise UserInputError(f"threshold must be a number from 0 to 1, got {value!r}")
    return value


def memory_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"memory_id must be a non-empty string, got {value!r}")
    return value


def memory_text(value: Any, limits: LimitsConfig) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UserInputError("text must be a non-empty string")
    if len(value) > limits.max_message_chars:
        raise InputTooLargeError(
            f"text has {len(value)} characters; the limit is {limits.max_message_chars}"
        )
    return value


def tiers(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not set(value) <= set(CONTEXT_TIERS):
        raise UserInputError(
            f"tiers must be a list drawn from {list(CONTEXT_TIERS)}, got {value!r}"
        )
    return tuple(value)


def present_ids(value: Any) -> Sequence[str]:
    if isinstance(value, str) or not all(isinstance(i, str) for i in value):
        raise UserInputError("present_ids must be a list of message id strings")
    return value


def token_budget(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TokenBudgetError(f"token_budget must be a non-negative integer, got {value!r}")
    return value


def model_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("model must be a model name such as 'gpt-4o-mini'")
    return value
