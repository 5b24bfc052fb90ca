"""Validation and normalization of the messages given to ``add``.

Accepts a string (one user message), one message dict, a :class:`Message`, or a list of those, in
the OpenAI chat format. Everything is checked before anything is written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from hybrid_memory.chat import check_message, content_text
from hybrid_memory.errors import InputTooLargeError, MessageFormatError
from hybrid_memory.models import Message, parse_datetime


def _one(raw: Any, index: int, max_chars: int, seen: set[str]) -> Message:
    """One message, validated and normalized; ``seen`` collects the batch's ids."""
    if isinstance(raw, Message):
        raw = raw.model_dump()
    if isinstance(raw, str):
        raw = {"role": "user", "content": raw}
    check_message(raw, index)
    text = content_text(raw.get("content"), index)
    if len(text) > max_chars:
        raise InputTooLargeError(
            f"message {index} has {len(text)} characters; the limit is {max_chars} "
            "(split it, or raise limits.max_message_chars)"
        )
    given = raw.get("id")
    if given is not None and (not isinstance(given, str) or not given.strip()):
        raise MessageFormatError(f"message {index}: 'id' must be a non-empty string, got {given!r}")
    msg_id = given or f"msg-{uuid.uuid4().hex}"
    if len(msg_id) > 256:
        raise MessageFormatError(f"message {index}: 'id' is longer than 256 characters")
    if msg_id in seen:
        raise MessageFormatError(f"message {index}: id {msg_id!r} appears twice in the batch")
    seen.add(msg_id)
    return Message(
        role=raw["role"],
        content=text,
        name=raw.get("name"),
        id=msg_id,
        timestamp=parse_datetime(
            raw.get("timestamp"), f"message {index}: 'timestamp'", error=MessageFormatError
        ),
        tool_calls=raw.get("tool_calls"),
        tool_call_id=raw.get("tool_call_id"),
    )


def normalize_messages(messages: Any, *, max_chars: int, max_messages: int) -> list[Message]:
    """Validate and normalize ``messages``; raise a :class:`MessageFormatError` otherwise.

    Messages without an ``id`` get a generated one, so every memory can name its sources.
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
    seen: set[str] = set()
    return [_one(raw, index, max_chars, seen) for index, raw in enumerate(messages)]


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
