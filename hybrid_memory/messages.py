"""Validation and normalization of the messages given to ``add``.

Accepts a string (one user message), one message dict, a :class:`Message`, or a list of those, in
the OpenAI chat format. Everything is checked before anything is written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybrid_memory.errors import InputTooLargeError, MessageFormatError
from hybrid_memory.models import Message, as_utc

_ROLES = ("system", "user", "assistant", "tool", "developer")


def _content_text(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise MessageFormatError(
                        f"message {index}: a text content part needs a string 'text'"
                    )
                parts.append(text)
            elif isinstance(part, dict) and "type" in part:
                continue  # images/audio parts carry no text to remember
            else:
                raise MessageFormatError(
                    f"message {index}: content parts must be strings or "
                    "{'type': 'text', 'text': ...} dicts"
                )
        return "\n".join(parts)
    raise MessageFormatError(
        f"message {index}: 'content' must be a string or a list of content parts, "
        f"got {type(content).__name__}"
    )


def _timestamp(value: Any, index: int) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return as_utc(datetime.fromtimestamp(value, tz=None).astimezone())
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise MessageFormatError(
        f"message {index}: 'timestamp' must be an ISO 8601 string (e.g. '2023-05-08T13:56:00'), "
        f"a datetime or a Unix time; got {value!r}"
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
    out: list[Message] = []
    seen: set[str] = set()
    for index, raw in enumerate(messages):
        if isinstance(raw, Message):
            raw = raw.model_dump()
        if isinstance(raw, str):
            raw = {"role": "user", "content": raw}
        if not isinstance(raw, dict):
            raise MessageFormatError(
                f"message {index} must be a dict with 'role' and 'content', "
                f"got {type(raw).__name__}"
            )
        role = raw.get("role")
        if role not in _ROLES:
            raise MessageFormatError(
                f"message {index}: 'role' must be one of {list(_ROLES)}, got {role!r}"
            )
        text = _content_text(raw.get("content"), index)
        if len(text) > max_chars:
            raise InputTooLargeError(
                f"message {index} has {len(text)} characters; the limit is {max_chars} "
                "(split it, or raise limits.max_message_chars)"
            )
        for key in ("name", "id", "tool_call_id"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise MessageFormatError(
                    f"message {index}: '{key}' must be a non-empty string, got {value!r}"
                )
        msg_id = raw.get("id") or f"msg-{uuid.uuid4().hex}"
        if len(msg_id) > 256:
            raise MessageFormatError(f"message {index}: 'id' is longer than 256 characters")
        if msg_id in seen:
            raise MessageFormatError(f"message {index}: id {msg_id!r} appears twice in the batch")
        seen.add(msg_id)
        tool_calls = raw.get("tool_calls")
        if tool_calls is not None and not (
            isinstance(tool_calls, list) and all(isinstance(c, dict) for c in tool_calls)
        ):
            raise MessageFormatError(f"message {index}: 'tool_calls' must be a list of dicts")
        out.append(
            Message(
                role=role,
                content=text,
                name=raw.get("name"),
                id=msg_id,
                timestamp=_timestamp(raw.get("timestamp"), index),
                tool_calls=tool_calls,
                tool_call_id=raw.get("tool_call_id"),
            )
        )
    return out


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
