"""Validation and normalization of the messages given to ``add``.

Accepts a string (one user message), one message dict, a :class:`Message`, or a list of those, in
the OpenAI chat format. Everything is checked before anything is written.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hybrid_memory.chat import check_message, content_text
from hybrid_memory.errors import InputTooLargeError, MessageFormatError
from hybrid_memory.models import MAX_ID_LENGTH, SAID_AT_RANGE, Message, parse_datetime
from hybrid_memory.values import check_json, check_label, check_text, short


@dataclass(frozen=True)
class MessageLimits:
    """How big one message may be (the memory takes these from ``LimitsConfig``)."""

    max_chars: int = 50_000
    """Characters of text; also of the tool calls, measured as JSON."""
    max_name_chars: int = 256
    max_tool_calls: int = 128
    max_depth: int = 16
    """Nesting of the tool calls' JSON."""


def _tool_calls(raw: dict[str, Any], index: int, limits: MessageLimits) -> None:
    """Tool calls are stored and counted whole: their number, size, nesting and ids are
    bounded like the text is."""
    calls = raw.get("tool_calls")
    if not calls:
        return
    where = f"message {index}: 'tool_calls'"
    if len(calls) > limits.max_tool_calls:
        raise InputTooLargeError(
            f"message {index} has {len(calls)} tool calls; the limit is {limits.max_tool_calls} "
            "(split the turn, or raise limits.max_tool_calls)"
        )
    check_json(calls, where, max_depth=limits.max_depth, error=MessageFormatError)
    size = len(json.dumps(calls, ensure_ascii=False))
    if size > limits.max_chars:
        raise InputTooLargeError(
            f"{where} are {size} characters as JSON; the limit is {limits.max_chars} "
            "(shorten the arguments, or raise limits.max_message_chars)"
        )
    for call in calls:
        check_label(
            call["id"], f"{where}: a call id", max_chars=MAX_ID_LENGTH, error=MessageFormatError
        )
        check_label(
            call["function"]["name"],
            f"{where}: a function name",
            max_chars=MAX_ID_LENGTH,
            error=MessageFormatError,
        )


def _labels(raw: dict[str, Any], index: int, limits: MessageLimits) -> None:
    """The short fields of a message: the speaker's name and the id of the call answered."""
    if raw.get("name") is not None:
        check_label(
            raw["name"],
            f"message {index}: 'name'",
            max_chars=limits.max_name_chars,
            error=MessageFormatError,
            limit_name="max_name_chars",
        )
    if raw.get("tool_call_id") is not None:
        check_label(
            raw["tool_call_id"],
            f"message {index}: 'tool_call_id'",
            max_chars=MAX_ID_LENGTH,
            error=MessageFormatError,
        )


def _text(raw: dict[str, Any], index: int, limits: MessageLimits) -> str:
    text = check_text(
        content_text(raw.get("content"), index),
        f"message {index}: 'content'",
        error=MessageFormatError,
    )
    if len(text) > limits.max_chars:
        raise InputTooLargeError(
            f"message {index} has {len(text)} characters; the limit is {limits.max_chars} "
            "(split it, or raise limits.max_message_chars)"
        )
    may_be_empty = raw["role"] == "tool" or (raw["role"] == "assistant" and raw.get("tool_calls"))
    if not text.strip() and not may_be_empty:
        raise MessageFormatError(
            f"message {index} ({raw['role']}) has no text; give it content (only tool results "
            "and assistant messages that call tools may be empty)"
        )
    return text


def _id(raw: dict[str, Any], index: int, seen: set[str]) -> str:
    given = raw.get("id")
    if given is not None and (not isinstance(given, str) or not given.strip()):
        raise MessageFormatError(
            f"message {index}: 'id' must be a non-empty string, got {short(given)}"
        )
    msg_id = given or f"msg-{uuid.uuid4().hex}"
    if len(msg_id) > MAX_ID_LENGTH:
        raise MessageFormatError(f"message {index}: 'id' is longer than 256 characters")
    check_label(msg_id, f"message {index}: 'id'", max_chars=MAX_ID_LENGTH, error=MessageFormatError)
    if msg_id in seen:
        raise MessageFormatError(f"message {index}: id {msg_id!r} appears twice in the batch")
    seen.add(msg_id)
    return msg_id


def normalize_message(
    raw: Any, index: int, limits: MessageLimits, seen: set[str] | None = None
) -> Message:
    """One message, validated and normalized; ``seen`` collects the batch's ids."""
    if isinstance(raw, Message):
        raw = raw.model_dump()
    if isinstance(raw, str):
        raw = {"role": "user", "content": raw}
    check_message(raw, index)
    text = _text(raw, index, limits)
    _labels(raw, index, limits)
    _tool_calls(raw, index, limits)
    msg_id = _id(raw, index, set() if seen is None else seen)
    return Message(
        role=raw["role"],
        content=text,
        name=raw.get("name"),
        id=msg_id,
        timestamp=parse_datetime(
            raw.get("timestamp"),
            f"message {index}: 'timestamp'",
            error=MessageFormatError,
            bounds=SAID_AT_RANGE,
        ),
        tool_calls=raw.get("tool_calls"),
        tool_call_id=raw.get("tool_call_id"),
    )


def normalize_messages(
    messages: Any, *, max_chars: int, max_messages: int, limits: MessageLimits | None = None
) -> list[Message]:
    """Validate and normalize ``messages``; raise a :class:`MessageFormatError` otherwise.

    Messages without an ``id`` get a generated one, so every memory can name its sources.
    ``limits`` bounds the other fields of each message (its ``max_chars`` is ``max_chars``).
    """
    if isinstance(messages, str | dict | Message):
        messages = [messages]
    if not isinstance(messages, Sequence) or isinstance(messages, bytes):
        raise MessageFormatError(
            "messages must be a string, a message dict or a list of message dicts, "
            f"got {type(messages).__name__}"
        )
    if not messages:
        raise MessageFormatError("messages is empty; pass at least one message")
    if len(messages) > max_messages:
        raise InputTooLargeError(
            f"{len(messages)} messages in one add; the limit is {max_messages} "
            "(split the batch, or raise limits.max_messages_per_add)"
        )
    one = replace(limits or MessageLimits(), max_chars=max_chars)
    seen: set[str] = set()
    return [normalize_message(raw, index, one, seen) for index, raw in enumerate(messages)]


def to_chat(message: Message) -> dict[str, Any]:
    """The OpenAI chat dict of a stored message (without our bookkeeping fields)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name and message.role in ("user", "assistant", "system", "developer"):
        # The chat API accepts names of [a-zA-Z0-9_-] only.
        out["name"] = re.sub(r"[^a-zA-Z0-9_-]", "_", message.name)[:64]
    if message.tool_calls:
        out["tool_calls"] = message.tool_calls
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out
