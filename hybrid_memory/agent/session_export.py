"""Export and import of sessions as one JSON document (the work of
:meth:`SessionManager.export_sessions` and :meth:`SessionManager.import_sessions`).

The document is ``{"format": EXPORT_FORMAT, "exported_at": ..., "sessions": [{"session": ...,
"checkpoints": [...], "events": [...]}, ...]}``. An import checks every entry (messages, an
event log that replays to the session's messages and state, checkpoints numbered 1, 2, ...)
before the manager writes any.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_memory.errors import UserInputError
from hybrid_memory.session_models import (
    Checkpoint,
    Session,
    SessionEvent,
    replay,
    validate_chat_messages,
)

if TYPE_CHECKING:
    from hybrid_memory.agent.sessions import SessionManager

EXPORT_FORMAT = "hybrid-memory-sessions/1"
"""The ``format`` field of a session export document."""

ImportEntry = tuple[Session, list[SessionEvent], list[Checkpoint]]
"""A checked session of an import, with its event log and checkpoints."""


def _sessions_to_export(
    manager: SessionManager, user_id: str | None, session_ids: Iterable[str] | None
) -> list[Session]:
    if user_id is not None:
        sessions: list[Session] = []
        offset = 0
        while page := manager.list(user_id, limit=1000, offset=offset):
            sessions.extend(page)
            offset += len(page)
        return sessions
    if isinstance(session_ids, str):
        raise UserInputError("session_ids must be a list of ids, not one string")
    return [manager.get(i) for i in session_ids or ()]


def export_document(
    manager: SessionManager, *, user_id: str | None, session_ids: Iterable[str] | None
) -> dict[str, Any]:
    """The export document of a user's live sessions, or of the sessions named.

    Raises:
        UserInputError: If neither or both of ``user_id``/``session_ids`` are given.
        SessionNotFoundError: If a named session does not exist.
    """
    if (user_id is None) == (session_ids is None):
        raise UserInputError("export_sessions() takes exactly one of user_id or session_ids")
    backend = manager.backend
    return {
        "format": EXPORT_FORMAT,
        "exported_at": manager.now().isoformat(),
        "sessions": [
            {
                "session": s.model_dump(mode="json"),
                "checkpoints": [c.model_dump(mode="json") for c in backend.checkpoints(s.id)],
                "events": [e.model_dump(mode="json") for e in backend.events(s.id)],
            }
            for s in _sessions_to_export(manager, user_id, session_ids)
        ],
    }


def read_document(document: Any) -> list[Any]:
    """The ``sessions`` entries of an export document (a dict or its JSON text).

    Raises:
        UserInputError: If it is not JSON, not an export, or has no ``sessions`` list.
    """
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise UserInputError(f"the session export is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise UserInputError(
            f"not a session export: expected a JSON object with format {EXPORT_FORMAT!r}"
        )
    entries = document.get("sessions")
    if not isinstance(entries, list):
        raise UserInputError("a session export needs a 'sessions' list")
    return entries


def check_entry(i: int, entry: Any, expires_at: datetime | None) -> ImportEntry:
    """Entry ``i`` of an export as a session ready to store (fresh expiry, counters set).

    Raises:
        UserInputError: If it is malformed or its log does not replay to its state.
        MessageFormatError: If its messages are malformed.
    """
    try:
        session = Session.model_validate(entry["session"])
        checkpoints = [Checkpoint.model_validate(c) for c in entry.get("checkpoints", [])]
        events = [SessionEvent.model_validate(e) for e in entry.get("events", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"session export entry {i} is malformed: {exc}") from None
    session.messages = validate_chat_messages(session.messages)
    if session.version < 1:
        raise UserInputError(f"session export entry {i}: version must be >= 1")
    if not events and (session.messages or session.state):
        events = [SessionEvent.snapshot(session.messages, session.state)]
    events = [
        e.model_copy(update={"seq": n, "session_id": session.id}) for n, e in enumerate(events, 1)
    ]
    if replay(events) != (session.messages, session.state):
        raise UserInputError(
            f"session export entry {i} ({session.id!r}): its event log does not replay "
            "to its messages and state"
        )
    numbers = [c.number for c in checkpoints]
    if numbers != list(range(1, len(numbers) + 1)) or any(
        c.session_id != session.id for c in checkpoints
    ):
        raise UserInputError(
            f"session export entry {i} ({session.id!r}): checkpoints must be numbered "
            "1, 2, ... and belong to the session"
        )
    session.event_count = len(events)
    session.checkpoint_count = len(checkpoints)
    session.expires_at = expires_at
    return session, events, checkpoints
