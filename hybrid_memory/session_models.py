"""The session vocabulary: sessions, checkpoints, events, and replay of an event log.

These types are shared by :mod:`hybrid_memory.agent.sessions` (the manager) and the session
backends in :mod:`stores.sessions`; they import nothing but the vocabulary
(:mod:`hybrid_memory.models`, :mod:`hybrid_memory.errors`, :mod:`hybrid_memory.chat`), so a
backend never depends on the manager.

A session's ``messages`` and ``state`` can always be rebuilt from its event log:
``replay(events) == (session.messages, session.state)`` for every saved session. Saves that edit
``messages``/``state`` directly are logged as the equivalent events (``snapshot`` when history was
rewritten rather than appended to).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hybrid_memory import chat
from hybrid_memory.errors import UserInputError
from hybrid_memory.models import as_utc, utcnow

SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""Session ids: 1-128 characters of letters, digits, ``.``, ``_`` and ``-`` (not leading).

Restricted so that every backend can use an id as a file name, a key part or a column value.
"""

CHAT_ROLES = chat.ROLES
"""Kept importable: the accepted roles are :data:`hybrid_memory.chat.ROLES`."""


class SessionIdError(UserInputError):
    """A session id is not a string of the allowed characters (see ``SESSION_ID_PATTERN``)."""


def new_session_id() -> str:
    """A fresh random session id (32 hex characters)."""
    return uuid.uuid4().hex


def check_session_id(value: Any) -> str:
    """Return ``value`` if it is a valid session id.

    Raises:
        SessionIdError: If it is not a string matching :data:`SESSION_ID_PATTERN`.
    """
    if not isinstance(value, str):
        raise SessionIdError(f"session id must be a string, got {type(value).__name__}")
    if not SESSION_ID_PATTERN.match(value):
        raise SessionIdError(
            f"session id {value[:60]!r} is invalid: use 1-128 characters of letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return value


def json_roundtrip(value: Any, what: str) -> Any:
    """A deep copy of ``value`` as it reads back from JSON (tuples become lists).

    Raises:
        UserInputError: If ``value`` is not JSON-serializable (or holds NaN/infinity), naming
            ``what``.
    """
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise UserInputError(
            f"{what} must be JSON-serializable (dicts with string keys, lists, strings, finite "
            f"numbers, booleans, None): {exc}"
        ) from None


def validate_chat_messages(messages: Any) -> list[dict[str, Any]]:
    """Check a session's message history and return a JSON-normalized copy.

    Each message is checked with :func:`hybrid_memory.chat.check_message` (known roles, string or
    content-part content, assistant ``tool_calls`` with ids and function names); every ``tool``
    result must answer an earlier call, each call once, though not necessarily right after it.
    Calls still waiting for their result at the end are allowed (the agent is mid-turn).

    Raises:
        MessageFormatError: Naming the offending message and what to change.
        UserInputError: If the messages are not JSON-serializable.
    """
    checked = chat.check_messages(messages)
    chat.check_tool_pairing(checked, adjacent=False, allow_open=True)
    return json_roundtrip(checked, "session messages")


class Session(BaseModel):
    """A conversation that survives restarts: its messages, a state dict and a version.

    ``version`` counts saves: 0 for a session never saved, then 1, 2, ... Every save is a
    compare-and-set on it, so two writers never silently overwrite each other (see
    :class:`~hybrid_memory.errors.SessionConflictError`).

    Attributes:
        id: The session id (see :data:`SESSION_ID_PATTERN`).
        user_id: Whose session this is; fixed once saved.
        agent_id: Optionally, which agent runs it; fixed once saved.
        messages: The history as OpenAI chat dicts.
        state: Free JSON-serializable state of the agent (plan, counters, flags...).
        version: Number of saves so far.
        created_at: When it was first saved.
        updated_at: When its content was last saved.
        expires_at: When it expires if untouched (``None``: never); each save and touch moves it.
        event_count: Number of events in its log (the last event's ``seq``).
        checkpoint_count: Number of checkpoints taken (the last checkpoint's ``number``).
    """

    model_config = ConfigDict(validate_assignment=False)

    id: str = Field(default_factory=new_session_id)
    user_id: str
    agent_id: str | None = None
    messages: list[dict[str, Any]] = Field(default_factory=list)
    state: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(default=0, ge=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    event_count: int = Field(default=0, ge=0)
    checkpoint_count: int = Field(default=0, ge=0)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_session_id(value)

    @field_validator("user_id", "agent_id")
    @classmethod
    def _valid_owner(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or len(value) > 256):
            raise ValueError("user_id/agent_id must be a non-empty string of at most 256 chars")
        return value

    @field_validator("created_at", "updated_at", "expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    def is_expired(self, now: datetime) -> bool:
        """Whether the session's idle time ran out at ``now``."""
        return self.expires_at is not None and self.expires_at <= as_utc(now)


class Checkpoint(BaseModel):
    """A versioned snapshot of a session's messages and state.

    Attributes:
        session_id: The session it belongs to.
        number: 1 for the session's first checkpoint, then 2, 3, ...
        session_version: The session version the snapshot equals.
        label: Optional name given when it was taken.
        messages: The messages at that version.
        state: The state at that version.
        created_at: When it was taken.
    """

    session_id: str
    number: int = Field(ge=1)
    session_version: int = Field(ge=1)
    label: str | None = None
    messages: list[dict[str, Any]]
    state: dict[str, Any]
    created_at: datetime = Field(default_factory=utcnow)


class SessionEventType(StrEnum):
    """What an agent did; the event log records these in order."""

    USER_MESSAGE = "user_message"
    """The user said something: payload is the user message without ``role``."""
    THOUGHT = "thought"
    """The agent's private reasoning: ``{"content": ...}``; logged only, never sent."""
    TOOL_CALL = "tool_call"
    """One tool call ``{"id", "name", "arguments"}``, joined to the assistant turn calling tools."""
    TOOL_RESULT = "tool_result"
    """A tool's answer: the tool message without ``role`` (``tool_call_id``, ``content``)."""
    REPLY = "reply"
    """An assistant message without ``role`` (``content``, optionally ``tool_calls``)."""
    ERROR = "error"
    """Something failed: ``{"message": ...}``; logged only."""
    STATE_UPDATE = "state_update"
    """``{"set": {key: value}, "unset": [key, ...]}`` applied to ``state``."""
    SNAPSHOT = "snapshot"
    """``{"messages": [...], "state": {...}}`` replacing both: written by rollbacks and by saves
    that rewrote history instead of appending to it."""


class SessionEvent(BaseModel):
    """One entry of a session's append-only event log.

    Build them with the helpers (``SessionEvent.user_message("hi")``, ``.tool_call(...)``...) and
    hand them to ``SessionManager.record``; ``seq`` and ``session_id`` are filled in when logged.

    Attributes:
        type: What happened.
        payload: The event's data (see :class:`SessionEventType` for each shape).
        seq: Position in the session's log, from 1 (0 until logged).
        session_id: The session it was logged in ("" until logged).
        created_at: When it was logged.
    """

    model_config = ConfigDict(frozen=True)

    type: SessionEventType
    payload: dict[str, Any] = Field(default_factory=dict)
    seq: int = Field(default=0, ge=0)
    session_id: str = ""
    created_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def user_message(cls, content: str | list, **extra: Any) -> SessionEvent:
        """The user said ``content``."""
        return cls(type=SessionEventType.USER_MESSAGE, payload={"content": content, **extra})

    @classmethod
    def thought(cls, content: str) -> SessionEvent:
        """The agent reasoned ``content`` (not sent to the model again)."""
        return cls(type=SessionEventType.THOUGHT, payload={"content": content})

    @classmethod
    def tool_call(cls, call_id: str, name: str, arguments: str | Mapping[str, Any]) -> SessionEvent:
        """The agent called tool ``name``; ``arguments`` as a JSON string or a dict."""
        if not isinstance(arguments, str):
            arguments = json.dumps(dict(arguments))
        return cls(
            type=SessionEventType.TOOL_CALL,
            payload={"id": call_id, "name": name, "arguments": arguments},
        )

    @classmethod
    def tool_result(cls, call_id: str, content: str, **extra: Any) -> SessionEvent:
        """Tool call ``call_id`` returned ``content``."""
        return cls(
            type=SessionEventType.TOOL_RESULT,
            payload={"tool_call_id": call_id, "content": content, **extra},
        )

    @classmethod
    def reply(cls, content: str | None, **extra: Any) -> SessionEvent:
        """The assistant answered ``content``."""
        return cls(type=SessionEventType.REPLY, payload={"content": content, **extra})

    @classmethod
    def error(cls, message: str, **extra: Any) -> SessionEvent:
        """Something failed with ``message``."""
        return cls(type=SessionEventType.ERROR, payload={"message": message, **extra})

    @classmethod
    def state_update(
        cls, set: Mapping[str, Any] | None = None, unset: Iterable[str] = ()
    ) -> SessionEvent:
        """Set keys of ``state`` to values and remove the keys in ``unset``."""
        return cls(
            type=SessionEventType.STATE_UPDATE,
            payload={"set": dict(set or {}), "unset": list(unset)},
        )

    @classmethod
    def snapshot(cls, messages: list[dict[str, Any]], state: dict[str, Any]) -> SessionEvent:
        """Replace messages and state wholesale."""
        return cls(
            type=SessionEventType.SNAPSHOT,
            payload={"messages": copy.deepcopy(messages), "state": copy.deepcopy(state)},
        )


def _is_open_tool_turn(messages: list[dict[str, Any]]) -> bool:
    """Whether the last message is an assistant tool-calling turn no result has answered yet."""
    return (
        bool(messages)
        and messages[-1].get("role") == "assistant"
        and bool(messages[-1].get("tool_calls"))
    )


def apply_event(messages: list[dict[str, Any]], state: dict[str, Any], event: SessionEvent) -> None:
    """Apply one event to ``messages`` and ``state`` in place (the step of :func:`replay`).

    Raises:
        UserInputError: If the payload does not have the shape its type needs.
    """
    p = copy.deepcopy(event.payload)
    kind = event.type
    try:
        if kind is SessionEventType.USER_MESSAGE:
            messages.append({"role": "user", **p})
        elif kind is SessionEventType.REPLY:
            messages.append({"role": "assistant", **p})
        elif kind is SessionEventType.TOOL_RESULT:
            messages.append({"role": "tool", **p})
        elif kind is SessionEventType.TOOL_CALL:
            call = {
                "id": p["id"],
                "type": "function",
                "function": {"name": p["name"], "arguments": p.get("arguments", "{}")},
            }
            # Parallel calls of one turn belong to one assistant message, as the API sends them.
            if _is_open_tool_turn(messages):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind is SessionEventType.STATE_UPDATE:
            state.update(p.get("set", {}))
            for key in p.get("unset", []):
                state.pop(key, None)
        elif kind is SessionEventType.SNAPSHOT:
            messages[:] = p["messages"]
            state.clear()
            state.update(p["state"])
        # THOUGHT and ERROR are logged only: they change neither the history nor the state.
    except (KeyError, TypeError, AttributeError) as exc:
        raise UserInputError(
            f"{kind.value} event payload {event.payload!r} is malformed ({exc!r}); "
            f"see SessionEventType.{kind.name} for its shape"
        ) from None


def replay(
    events: Iterable[SessionEvent],
    *,
    messages: Sequence[dict[str, Any]] = (),
    state: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rebuild a session's ``(messages, state)`` from its event log.

    Args:
        events: The events in log order (``SessionManager.events(session_id)``).
        messages: Messages to start from (empty for a full log).
        state: State to start from (empty for a full log).

    Returns:
        The messages and state after every event, equal to the saved session's.

    Example:
        >>> replay([SessionEvent.user_message("hi"), SessionEvent.state_update({"n": 1})])
        ([{'role': 'user', 'content': 'hi'}], {'n': 1})
    """
    out_messages = copy.deepcopy(list(messages))
    out_state = copy.deepcopy(dict(state or {}))
    for event in events:
        apply_event(out_messages, out_state, event)
    return out_messages, out_state


def diff_events(
    old_messages: list[dict[str, Any]],
    old_state: dict[str, Any],
    new_messages: list[dict[str, Any]],
    new_state: dict[str, Any],
) -> list[SessionEvent]:
    """The events that turn ``(old_messages, old_state)`` into ``(new_messages, new_state)``.

    Appended messages become message events; anything else (an edited or removed message, an
    appended system message) becomes one ``snapshot``. Used to log saves that edited a session
    directly, so the log always replays to the saved state.
    """
    n = len(old_messages)
    if new_messages[:n] != old_messages:
        return [SessionEvent.snapshot(new_messages, new_state)]
    events: list[SessionEvent] = []
    for m in new_messages[n:]:
        rest = {k: v for k, v in m.items() if k != "role"}
        role = m["role"]
        if role == "user":
            events.append(SessionEvent(type=SessionEventType.USER_MESSAGE, payload=rest))
        elif role == "assistant":
            events.append(SessionEvent(type=SessionEventType.REPLY, payload=rest))
        elif role == "tool":
            events.append(SessionEvent(type=SessionEventType.TOOL_RESULT, payload=rest))
        else:
            return [SessionEvent.snapshot(new_messages, new_state)]
    changed = {k: v for k, v in new_state.items() if k not in old_state or old_state[k] != v}
    removed = [k for k in old_state if k not in new_state]
    if changed or removed:
        events.append(SessionEvent.state_update(changed, removed))
    # Float keys/ordering aside, equality is on JSON values; make sure replay really matches.
    replayed_messages, replayed_state = replay(events, messages=old_messages, state=old_state)
    if replayed_messages != new_messages or replayed_state != new_state:
        return [SessionEvent.snapshot(new_messages, new_state)]
    return events
