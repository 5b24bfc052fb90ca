"""Sessions that survive restarts: the session manager.

:class:`SessionManager` keeps conversations (messages + a state dict) in any session backend
(SQLite by default, PostgreSQL, Redis, JSON files; see :mod:`stores.sessions`) and adds, once for
all of them: get-or-create, idle expiry, touch, paginated listing, checkpoints with rollback, an
append-only event log that replays to the saved state, export/import as JSON, and optimistic
concurrency.

Concurrency: every save is a compare-and-set on ``Session.version``. If another process saved the
same session since you loaded it, :meth:`SessionManager.save` raises
:class:`~hybrid_memory.errors.SessionConflictError` and writes nothing. The pattern is
reload, reapply, save::

    while True:
        session = manager.get(session_id)
        session.state["count"] = session.state.get("count", 0) + 1
        try:
            manager.save(session)
            break
        except SessionConflictError:
            continue  # someone else saved first: start again from their version

:meth:`SessionManager.update` runs that loop for you.

Layout: the manager's lookup, save and expiry come from its base
:class:`~hybrid_memory.agent.session_lifecycle.SessionLifecycle`; what one save checks and writes
is :mod:`hybrid_memory.agent.session_save`; the export document is
:mod:`hybrid_memory.agent.session_export`.

Example:
    >>> from stores.sessions import SQLiteSessionConfig, open_session_backend
    >>> manager = SessionManager(open_session_backend(SQLiteSessionConfig(data_dir="data")))
    >>> s = manager.get_or_create("chat-1", user_id="alice")  # doctest: +SKIP
    >>> manager.record(s, [SessionEvent.user_message("Hi!"), SessionEvent.reply("Hello.")])
    >>> manager.get("chat-1").messages  # doctest: +SKIP
    [{'role': 'user', 'content': 'Hi!'}, {'role': 'assistant', 'content': 'Hello.'}]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hybrid_memory.agent.session_export import (
    EXPORT_FORMAT,
    check_entry,
    export_document,
    read_document,
)
from hybrid_memory.agent.session_lifecycle import DEFAULT_IDLE_TTL, SessionLifecycle
from hybrid_memory.errors import SessionNotFoundError, UserInputError
from hybrid_memory.session_models import (
    Checkpoint,
    Session,
    SessionEvent,
    SessionEventType,
    replay,
)
from stores.sessions.base import conflict

__all__ = [
    "DEFAULT_IDLE_TTL",
    "EXPORT_FORMAT",
    "Checkpoint",
    "Session",
    "SessionEvent",
    "SessionEventType",
    "SessionManager",
    "replay",
]


class SessionManager(SessionLifecycle):
    """Loads, saves and expires sessions in one backend, with checkpoints, an event log and
    export/import.

    Args:
        backend: Any :class:`stores.sessions.SessionBackend` (see ``open_session_backend``).
        idle_ttl: A session not saved or touched for this long expires: it is no longer returned
            and is purged. A timedelta or seconds; ``None`` for never. Default 30 days.
        clock: Returns the current aware UTC time (tests pass a controllable one).
    """

    # -- checkpoints --------------------------------------------------------------------------

    def checkpoint(self, session: Session, label: str | None = None) -> Checkpoint:
        """Save the session and take a checkpoint of the saved version.

        Raises:
            SessionConflictError: As :meth:`save`.
        """
        self.save(session, checkpoint=True, label=label)
        return self.load_checkpoint(session.id, session.checkpoint_count)

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        """A session's checkpoints, oldest first.

        Raises:
            SessionNotFoundError: If the session does not exist.
        """
        self.get(session_id)
        return self.backend.checkpoints(session_id)

    def load_checkpoint(self, session_id: str, number: int) -> Checkpoint:
        """One checkpoint of a session.

        Raises:
            SessionNotFoundError: If the session or the checkpoint does not exist.
        """
        if isinstance(number, bool) or not isinstance(number, int):
            raise UserInputError(f"a checkpoint number must be an int, got {type(number).__name__}")
        for cp in self.checkpoints(session_id):
            if cp.number == number:
                return cp
        raise SessionNotFoundError(
            f"session {session_id!r} has no checkpoint {number}; list them with checkpoints()"
        )

    def rollback(
        self, session_id: str, number: int, *, expected_version: int | None = None
    ) -> Session:
        """Restore a checkpoint's messages and state as a NEW version of the session.

        History is kept: later versions' checkpoints and events stay in place, and the log
        records the rollback as a ``snapshot`` event with ``rollback_to``.

        Args:
            session_id: The session.
            number: The checkpoint to restore.
            expected_version: If given, fail unless the session is still at this version.

        Raises:
            SessionNotFoundError: If the session or checkpoint does not exist.
            SessionConflictError: If the session changed (or is not at ``expected_version``).
        """
        cp = self.load_checkpoint(session_id, number)
        session = self.get(session_id)
        if expected_version is not None and expected_version != session.version:
            raise conflict(session_id, expected_version, session.version)
        event = SessionEvent.snapshot(cp.messages, cp.state)
        event = event.model_copy(update={"payload": {**event.payload, "rollback_to": number}})
        return self.save(session, events=[event])

    # -- event log ----------------------------------------------------------------------------

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        """A session's logged events after ``after_seq``, in order.

        Raises:
            SessionNotFoundError: If the session does not exist.
        """
        self.get(session_id)
        return self.backend.events(session_id, after_seq=after_seq)

    def replay(self, session_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Rebuild ``(messages, state)`` of a session from its event log alone."""
        return replay(self.events(session_id))

    # -- export / import ----------------------------------------------------------------------

    def export_sessions(
        self, *, user_id: str | None = None, session_ids: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """A JSON-serializable document of sessions with their checkpoints and event logs.

        Args:
            user_id: Export all live sessions of this user.
            session_ids: Export these sessions (each must exist).

        Raises:
            UserInputError: If neither or both of ``user_id``/``session_ids`` are given.
        """
        return export_document(self, user_id=user_id, session_ids=session_ids)

    def export_json(self, path: str | Path, **which: Any) -> int:
        """Write :meth:`export_sessions` to ``path``; the number of sessions written."""
        doc = self.export_sessions(**which)
        Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        return len(doc["sessions"])

    def import_sessions(self, document: Any, *, overwrite: bool = False) -> list[str]:
        """Store the sessions of an export document; their ids.

        Every session is checked (messages, event log replaying to its state) before any is
        written. Imported sessions get a fresh idle expiry.

        Args:
            document: A dict from :meth:`export_sessions` (or its JSON text).
            overwrite: Replace existing sessions with the same ids (otherwise a conflict).

        Raises:
            UserInputError: If the document is malformed; nothing was imported.
            SessionConflictError: If a session exists and ``overwrite`` is false.
        """
        entries = read_document(document)
        expires_at = self._expiry(self.now())
        ready = [check_entry(i, entry, expires_at) for i, entry in enumerate(entries)]
        for session, events, checkpoints in ready:
            if overwrite:
                self.backend.delete(session.id)
            self.backend.commit(session, expected_version=0, events=events, checkpoints=checkpoints)
        return [s.id for s, _, _ in ready]

    def import_json(self, path: str | Path, *, overwrite: bool = False) -> list[str]:
        """:meth:`import_sessions` from a JSON file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserInputError(f"cannot read the session export {path}: {exc}") from None
        return self.import_sessions(text, overwrite=overwrite)

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()
