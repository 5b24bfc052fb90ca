"""What one :meth:`SessionManager.save` writes: the new version, its log entries, a checkpoint.

:func:`check_save_input` refuses a malformed save before anything is read from the backend;
:func:`plan_save` compares the session with the stored version and builds the one atomic
:class:`SessionCommit` the backend applies. Nothing here touches a backend, so the rules of a
save (compare-and-set, fixed owner, edits logged as events, counters taken from the stored
version) read in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hybrid_memory.errors import ScopeError, UserInputError
from hybrid_memory.session_models import (
    Checkpoint,
    Session,
    SessionEvent,
    apply_event,
    diff_events,
    json_roundtrip,
    validate_chat_messages,
)
from stores.sessions.base import conflict


@dataclass(frozen=True)
class SessionCommit:
    """One save, ready for :meth:`stores.sessions.SessionBackend.commit`.

    Attributes:
        session: The new version of the session.
        events: The log entries of the save, numbered after the stored ones.
        checkpoints: The checkpoint taken with the save, if one was asked for.
    """

    session: Session
    events: list[SessionEvent]
    checkpoints: list[Checkpoint]


def check_save_input(
    session: Any, events: Iterable[Any], label: Any
) -> tuple[list[dict[str, Any]], dict[str, Any], list[SessionEvent]]:
    """Check what was handed to ``save``: the session's messages, state and the events.

    Returns:
        The JSON-normalized messages and state, and the events as a list.

    Raises:
        UserInputError: For a non-Session, a non-event, a non-dict or non-JSON state, or a
            label that is not a string.
        MessageFormatError: If the messages are malformed.
    """
    if not isinstance(session, Session):
        raise UserInputError(f"save() takes a Session, got {type(session).__name__}")
    events = list(events)
    for event in events:
        if not isinstance(event, SessionEvent):
            raise UserInputError(
                f"events must be SessionEvent objects (e.g. SessionEvent.user_message(...)), "
                f"got {type(event).__name__}"
            )
    messages = validate_chat_messages(session.messages)
    if not isinstance(session.state, dict):
        raise UserInputError(f"session state must be a dict, got {type(session.state).__name__}")
    state = json_roundtrip(session.state, "session state")
    if label is not None and not isinstance(label, str):
        raise UserInputError("a checkpoint label must be a string")
    return messages, state, events


def _check_against_stored(session: Session, stored: Session | None) -> None:
    actual = stored.version if stored is not None else 0
    if actual != session.version:
        raise conflict(session.id, session.version, actual)
    if stored is not None and (
        stored.user_id != session.user_id or stored.agent_id != session.agent_id
    ):
        raise ScopeError(
            f"session {session.id!r} belongs to user {stored.user_id!r} (agent "
            f"{stored.agent_id!r}); its user_id/agent_id cannot change"
        )


def _log(
    stored: Session | None,
    messages: list[dict[str, Any]],
    state: dict[str, Any],
    events: list[SessionEvent],
) -> list[SessionEvent]:
    """Direct edits as the equivalent events, then ``events``, applied to messages/state."""
    base_messages = stored.messages if stored is not None else []
    base_state = stored.state if stored is not None else {}
    log = diff_events(base_messages, base_state, messages, state)
    for event in events:
        payload = json_roundtrip(event.payload, f"the payload of a {event.type.value} event")
        event = event.model_copy(update={"payload": payload})
        apply_event(messages, state, event)
        log.append(event)
    return log


def plan_save(
    session: Session,
    stored: Session | None,
    messages: list[dict[str, Any]],
    state: dict[str, Any],
    events: list[SessionEvent],
    *,
    now: datetime,
    expires_at: datetime | None,
    checkpoint: bool,
    label: str | None,
) -> SessionCommit:
    """The commit that saves ``session`` over ``stored`` (``None``: not stored, or expired).

    ``messages`` and ``state`` (from :func:`check_save_input`) are updated in place with
    ``events``.

    Raises:
        SessionConflictError: If ``session.version`` is not the stored version.
        ScopeError: If the session's user_id/agent_id differ from the stored ones.
        MessageFormatError: If the events leave malformed messages.
        UserInputError: If an event payload is not JSON-serializable or malformed.
    """
    _check_against_stored(session, stored)
    log = _log(stored, messages, state, events)
    messages = validate_chat_messages(messages)
    # The stored counters are authoritative (the version matched): a hand-built Session
    # with stale counters must not collide with logged seqs or checkpoint numbers.
    seq = stored.event_count if stored is not None else 0
    checkpoint_count = stored.checkpoint_count if stored is not None else 0
    stamped = [
        event.model_copy(update={"seq": n, "session_id": session.id, "created_at": now})
        for n, event in enumerate(log, seq + 1)
    ]
    new = session.model_copy(
        update={
            "messages": messages,
            "state": state,
            "version": session.version + 1,
            "created_at": stored.created_at if stored is not None else now,
            "updated_at": now,
            "expires_at": expires_at,
            "event_count": seq + len(log),
            "checkpoint_count": checkpoint_count + (1 if checkpoint else 0),
        }
    )
    checkpoints = []
    if checkpoint:
        checkpoints.append(
            Checkpoint(
                session_id=new.id,
                number=new.checkpoint_count,
                session_version=new.version,
                label=label,
                messages=messages,
                state=state,
                created_at=now,
            )
        )
    return SessionCommit(session=new, events=stamped, checkpoints=checkpoints)
