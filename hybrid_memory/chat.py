"""OpenAI chat messages: the one role list and the one validator of the whole package.

Every part that accepts chat messages (``HybridMemory.add``, the context window, sessions)
checks each message with :func:`check_message`, and, where the order of tool calls and results
matters, the sequence with :func:`check_tool_pairing`. Errors are
:class:`~hybrid_memory.errors.MessageFormatError` naming the message and what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid_memory.errors import MessageFormatError
from hybrid_memory.values import short

ROLES: tuple[str, ...] = ("system", "developer", "user", "assistant", "tool")
"""The chat roles accepted everywhere."""
PRIVILEGED_ROLES: tuple[str, ...] = ("system", "developer")
"""Roles whose messages instruct the model; stored text never comes back in one of these."""


def content_text(content: Any, index: int) -> str:
    """The text of a message's ``content``: a string, or the text parts of a content-part
    list joined by newlines (image and audio parts carry no text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise MessageFormatError(
            f"message {index}: 'content' must be a string or a list of content parts, "
            f"got {type(content).__name__}"
        )
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif (
            isinstance(part, dict) and isinstance(part.get("type"), str) and part["type"] == "text"
        ):
            text = part.get("text")
            if not isinstance(text, str):
                raise MessageFormatError(
                    f"message {index}: a text content part needs a string 'text'"
                )
            parts.append(text)
        elif isinstance(part, dict) and isinstance(part.get("type"), str):
            continue
        else:
            raise MessageFormatError(
                f"message {index}: content parts must be strings or "
                "{'type': 'text', 'text': ...} dicts"
            )
    return "\n".join(parts)


def _check_tool_call(call: Any, index: int) -> str:
    if not isinstance(call, dict):
        raise MessageFormatError(f"message {index}: each tool call must be a dict")
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        raise MessageFormatError(
            f"message {index}: each tool call needs a non-empty string 'id' (a tool call "
            "without an id cannot be answered)"
        )
    fn = call.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise MessageFormatError(
            f"message {index}: tool call {call_id!r} needs 'function': "
            "{'name': <string>, 'arguments': <JSON string>}"
        )
    if not isinstance(fn.get("arguments", ""), str):
        raise MessageFormatError(
            f"message {index}: tool call {call_id!r} 'function.arguments' must be a JSON string"
        )
    return call_id


def check_message(message: Any, index: int) -> dict[str, Any]:
    """Check one chat message's shape and return it.

    A message is a dict with a known ``role``; ``content`` is a string or a list of content
    parts, and may be missing only on an assistant message that calls tools; ``tool_calls``
    (assistant only) is a list of ``{"id", "function": {"name", "arguments"}}``; ``name`` and
    ``tool_call_id`` are non-empty strings when given.

    Raises:
        MessageFormatError: naming message ``index`` and what to change.
    """
    if not isinstance(message, dict):
        raise MessageFormatError(
            f"message {index} must be a dict with 'role' and 'content', "
            f"got {type(message).__name__}"
        )
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise MessageFormatError(
            f"message {index} has unknown role {short(role)}; 'role' must be one of {list(ROLES)}"
        )
    content = message.get("content")
    if content is not None:
        content_text(content, index)
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if role != "assistant":
            raise MessageFormatError(
                f"message {index} ({role}): only assistant messages have tool_calls"
            )
        if not isinstance(tool_calls, list):
            raise MessageFormatError(f"message {index}: 'tool_calls' must be a list of dicts")
        for call in tool_calls:
            _check_tool_call(call, index)
    if content is None and not (role == "assistant" and tool_calls):
        raise MessageFormatError(f"message {index} ({role}) has no 'content'; give it text")
    for key in ("name", "tool_call_id"):
        value = message.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise MessageFormatError(
                f"message {index}: '{key}' must be a non-empty string, got {short(value)}"
            )
    if role == "tool" and message.get("tool_call_id") is None:
        raise MessageFormatError(
            f"message {index} is a tool result without 'tool_call_id'; name the call it answers"
        )
    return message


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """:func:`check_message` over a list; returns the list."""
    if not isinstance(messages, list | tuple):
        raise MessageFormatError(
            f"messages must be a list of chat dicts, got {type(messages).__name__}"
        )
    for index, message in enumerate(messages):
        check_message(message, index)
    return list(messages)


def check_tool_pairing(
    messages: Sequence[dict[str, Any]], *, adjacent: bool, allow_open: bool
) -> None:
    """Check that tool results answer earlier calls, each exactly once.

    Args:
        messages: messages already checked by :func:`check_message`.
        adjacent: results must follow their call directly (what a model request needs);
            otherwise any later position is accepted (a stored history).
        allow_open: calls still waiting for their result at the end are accepted (an agent
            in the middle of a turn).

    Raises:
        MessageFormatError: naming the message and what to change.
    """
    pending: dict[str, int] = {}
    called: set[str] = set()
    for i, m in enumerate(messages):
        role = m["role"]
        if adjacent and role != "tool" and pending:
            raise MessageFormatError(
                f"tool call(s) {sorted(pending)} of message {min(pending.values())} have no "
                f"tool result before message {i}; add the results right after the call"
            )
        for call in m.get("tool_calls") or []:
            if call["id"] in called:
                raise MessageFormatError(f"message {i}: tool call id {call['id']!r} is reused")
            called.add(call["id"])
            pending[call["id"]] = i
        if role == "tool":
            call_id = m.get("tool_call_id")
            if call_id in called and call_id not in pending:
                raise MessageFormatError(f"message {i}: tool call {call_id!r} already has a result")
            if call_id not in pending:
                raise MessageFormatError(
                    f"message {i} is a tool result for {call_id!r} without a preceding tool "
                    "call, i.e. without an earlier assistant message calling that id; add the "
                    "call first or drop the result"
                )
            del pending[call_id]
    if pending and not allow_open:
        raise MessageFormatError(
            f"tool call(s) {sorted(pending)} have no tool result; add the results after the call"
        )
