"""Message normalization: every accepted shape, and a typed error for every bad one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hybrid_memory.errors import InputTooLargeError, MessageFormatError, ScopeError
from hybrid_memory.messages import normalize_messages, to_chat
from hybrid_memory.models import Scope


def norm(messages, **kw):
    return normalize_messages(
        messages, max_chars=kw.get("max_chars", 1000), max_messages=kw.get("max_messages", 10)
    )


def test_accepted_shapes():
    (m,) = norm("hello there")
    assert m.role == "user" and m.content == "hello there" and m.id.startswith("msg-")
    (m,) = norm(
        {
            "role": "assistant",
            "content": "hi",
            "name": "Bot",
            "id": "x1",
            "timestamp": "2023-05-08T13:56:00",
        }
    )
    assert m.id == "x1" and m.name == "Bot"
    assert m.timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    (m,) = norm(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image_url", "image_url": {}},
                    {"type": "text", "text": "b"},
                ],
            }
        ]
    )
    assert m.content == "a\nb"
    (m,) = norm({"role": "user", "content": "x", "timestamp": "2023-05-08T13:56:00Z"})
    assert m.timestamp.tzinfo is not None
    msgs = norm(
        [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "content": "42", "tool_call_id": "c1"},
        ]
    )
    assert msgs[0].tool_calls and msgs[1].tool_call_id == "c1"


@pytest.mark.parametrize(
    ("messages", "error", "text"),
    [
        ([], MessageFormatError, "empty"),
        (42, MessageFormatError, "must be a string, a message dict or a list"),
        ([42], MessageFormatError, "must be a dict"),
        ({"content": "x"}, MessageFormatError, "'role' must be one of"),
        ({"role": "robot", "content": "x"}, MessageFormatError, "'role' must be one of"),
        ({"role": "user", "content": 5}, MessageFormatError, "'content' must be a string"),
        ({"role": "user", "content": [5]}, MessageFormatError, "content parts"),
        (
            {"role": "user", "content": [{"type": "text", "text": 1}]},
            MessageFormatError,
            "string 'text'",
        ),
        ({"role": "user", "content": "x", "name": ""}, MessageFormatError, "'name'"),
        ({"role": "user", "content": "x", "id": 7}, MessageFormatError, "'id'"),
        (
            {"role": "user", "content": "x", "timestamp": "yesterday"},
            MessageFormatError,
            "ISO 8601",
        ),
        ({"role": "user", "content": "x", "tool_calls": "f()"}, MessageFormatError, "tool_calls"),
        (
            [
                {"role": "user", "content": "a", "id": "d"},
                {"role": "user", "content": "b", "id": "d"},
            ],
            MessageFormatError,
            "twice",
        ),
        ({"role": "user", "content": "x" * 1001}, InputTooLargeError, "limit is 1000"),
        (["x"] * 11, InputTooLargeError, "limit is 10"),
    ],
)
def test_bad_messages(messages, error, text):
    with pytest.raises(error, match=text):
        norm(messages)


def test_to_chat_sanitizes_names_for_the_api():
    (m,) = norm({"role": "user", "content": "x", "name": "Mary Ann O'Neil"})
    assert to_chat(m) == {"role": "user", "content": "x", "name": "Mary_Ann_O_Neil"}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({}, "at least one of user_id"),
        ({"user_id": ""}, "must not be empty"),
        ({"user_id": "   "}, "must not be empty"),
        ({"agent_id": 3}, "must be a string"),
        ({"run_id": "a" * 300}, "at most 256"),
        ({"user_id": "a\x00b"}, "control characters"),
    ],
)
def test_bad_scopes(kwargs, text):
    with pytest.raises(ScopeError, match=text):
        Scope.of(**kwargs)
