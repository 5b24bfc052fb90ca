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
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hybrid_memory.errors import (
    ScopeError,
    SessionConflictError,
    SessionNotFoundError,
    UserInputError,
)
from hybrid_memory.models import as_utc, utcnow
from hybrid_memory.session_models import (
    Checkpoint,
    Session,
    SessionEvent,
    SessionEventType,
    apply_event,
    check_session_id,
    diff_events,
    json_roundtrip,
    replay,
    validate_chat_messages,
)
from stores.sessions.base import SessionBackend, conflict

__all__ = [
    "EXPORT_FORMAT",
    "Checkpoint",
    "Session",
    "SessionEvent",
    "SessionEventType",
    "SessionManager",
    "replay",
]

EXPORT_FORMAT = "hybrid-memory-sessions/1"
"""The ``format`` field of a session export document."""

DEFAULT_IDLE_TTL = timedelta(days=30)


def _ttl(value: timedelta | float | int | None) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, timedelta | int | float):
        raise UserInputError(
            f"idle_ttl must be a timedelta, a number of seconds or None, got {type(value).__name__}"
        )
    ttl = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if ttl.total_seconds() <= 0:
        raise UserInputError(f"idle_ttl must be positive (or None for no expiry), got {value!r}")
    return ttl


class SessionManager:
    """Loads, saves and expires sessions in one backend.

    Args:
        backend: Any :class:`stores.sessions.SessionBackend` (see ``open_session_backend``).
        idle_ttl: A session not saved or touched for this long expires: it is no longer returned
            and is purged. A timedelta or seconds; ``None`` for never. Default 30 days.
        clock: Returns the current aware UTC time (tests pass a controllable one).
    """

    def __init__(
        self,
        backend: SessionBackend,
        *,
        idle_ttl: timedelta | float | None = DEFAULT_IDLE_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not isinstance(backend, SessionBackend):
            raise UserInputError(
                "backend must implement stores.sessions.SessionBackend, got "
                f"{type(backend).__name__}; build one with "
                "stores.sessions.open_session_backend(config)"
            )
        self.backend = backend
        self.idle_ttl = _ttl(idle_ttl)
        self._clock = clock

    # -- basics -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The manager's current time (aware UTC)."""
        return as_utc(self._clock())

    def _expiry(self, now: datetime) -> datetime | None:
        return None if self.idle_ttl is None else now + self.idle_ttl

    def find(self, session_id: str) -> Session | None:
        """The session, or ``None`` if it does not exist or expired (an expired one is purged).

        Raises:
            SessionIdError: If ``session_id`` is malformed.
            SessionCorruptError: If the stored session cannot be read back.
        """
        check_session_id(session_id)
        session = self.backend.load(session_id)
        if session is None:
            return None
        now = self.now()
        if session.is_expired(now):
            self.backend.purge_expired(now)
            return None
        return session

    def get(self, session_id: str) -> Session:
        """The session with this id.

        Raises:
            SessionNotFoundError: If it was never saved, was deleted, or expired.
        """
        session = self.find(session_id)
        if session is None:
            raise SessionNotFoundError(
                f"no session {session_id!r} (never saved, deleted, or expired after "
                f"{self.idle_ttl} idle); create it with get_or_create()"
            )
        return session

    def create(
        self,
        user_id: str,
        *,
        agent_id: str | None = None,
        session_id: str | None = None,
        messages: Sequence[dict[str, Any]] = (),
        state: dict[str, Any] | None = None,
    ) -> Session:
        """Create and save a new session (version 1).

        Raises:
            SessionConflictError: If a session with ``session_id`` already exists.
        """
        try:
            fields: dict[str, Any] = {
                "user_id": user_id,
                "agent_id": agent_id,
                "messages": list(messages),
                "state": dict(state or {}),
            }
            if session_id is not None:
                fields["id"] = session_id
            session = Session(**fields)
        except ValueError as exc:
            raise ScopeError(f"cannot create a session: {exc}") from None
        return self.save(session)

    def get_or_create(
        self, session_id: str, *, user_id: str, agent_id: str | None = None
    ) -> Session:
        """The session with this id, created empty for ``user_id`` if it does not exist.

        Raises:
            ScopeError: If the session exists but belongs to another user or agent.
        """
        session = self.find(session_id)
        if session is None:
            try:
                return self.create(user_id, agent_id=agent_id, session_id=session_id)
            except SessionConflictError:
                session = self.get(session_id)  # created by someone else in the meantime
        if session.user_id != user_id or (agent_id is not None and session.agent_id != agent_id):
            raise ScopeError(
                f"session {session_id!r} belongs to user {session.user_id!r}"
                f" (agent {session.agent_id!r}), not to user {user_id!r}"
                f" (agent {agent_id!r}); use another session id"
            )
        return session

    # -- writing ------------------------------------------------------------------------------

    def save(
        self,
        session: Session,
        *,
        events: Iterable[SessionEvent] = (),
        checkpoint: bool = False,
        label: str | None = None,
    ) -> Session:
        """Save a session (compare-and-set on its version) and return it, updated in place.

        Direct edits of ``session.messages``/``session.state`` are logged as the equivalent
        events; ``events`` are then applied and logged after them. The save bumps ``version``,
        ``updated_at`` and ``expires_at``.

        Args:
            session: A session from :meth:`get`/:meth:`create`, or a new ``Session(...)``.
            events: Events to apply and log (see :meth:`record`).
            checkpoint: Also take a checkpoint of the saved version.
            label: The checkpoint's label.

        Raises:
            SessionConflictError: If it was saved by someone else since it was loaded (or
                deleted/expired meanwhile); nothing was written and ``session`` is unchanged.
            MessageFormatError: If the messages are malformed.
            ScopeError: If the session's user_id/agent_id differ from the stored ones.
            UserInputError: If the state or an event is not JSON-serializable or malformed.
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
            raise UserInputError(
                f"session state must be a dict, got {type(session.state).__name__}"
            )
        state = json_roundtrip(session.state, "session state")
        if label is not None and not isinstance(label, str):
            raise UserInputError("a checkpoint label must be a string")

        stored = self.backend.load(session.id)
        now = self.now()
        if stored is not None and stored.is_expired(now):
            self.backend.purge_expired(now)
            stored = None
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

        base_messages = stored.messages if stored is not None else []
        base_state = stored.state if stored is not None else {}
        log = diff_events(base_messages, base_state, messages, state)
        for event in events:
            payload = json_roundtrip(event.payload, f"the payload of a {event.type.value} event")
            event = event.model_copy(update={"payload": payload})
            apply_event(messages, state, event)
            log.append(event)
        messages = validate_chat_messages(messages)

        # The stored counters are authoritative (the version matched): a hand-built Session
        # with stale counters must not collide with logged seqs or checkpoint numbers.
        seq = stored.event_count if stored is not None else 0
        checkpoint_count = stored.checkpoint_count if stored is not None else 0
        stamped = []
        for event in log:
            seq += 1
            stamped.append(
                event.model_copy(update={"seq": seq, "session_id": session.id, "created_at": now})
            )
        new = session.model_copy(
            update={
                "messages": messages,
                "state": state,
                "version": session.version + 1,
                "created_at": stored.created_at if stored is not None else now,
                "updated_at": now,
                "expires_at": self._expiry(now),
                "event_count": seq,
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
        self.backend.commit(
            new, expected_version=session.version, events=stamped, checkpoints=checkpoints
        )
        for name in Session.model_fields:
            setattr(session, name, getattr(new, name))
        return session

    def record(self, session: Session, events: Iterable[SessionEvent]) -> Session:
        """Apply agent events to a session, append them to its log, and save it.

        Example:
            >>> manager.record(session, [  # doctest: +SKIP
            ...     SessionEvent.user_message("What's in notes.txt?"),
            ...     SessionEvent.tool_call("c1", "read_file", {"path": "notes.txt"}),
            ...     SessionEvent.tool_result("c1", "buy milk"),
            ...     SessionEvent.reply("It says: buy milk."),
            ... ])

        Raises:
            SessionConflictError: As :meth:`save`.
        """
        return self.save(session, events=events)

    def update(
        self,
        session_id: str,
        change: Callable[[Session], Iterable[SessionEvent] | None],
        *,
        retries: int = 20,
    ) -> Session:
        """Reload, apply ``change``, save; again on a conflict (the documented retry pattern).

        Args:
            session_id: The session to change.
            change: Edits the session in place and/or returns events to record. It may run
                several times, each time on the latest stored version, so it must not have
                side effects outside the session.
            retries: How many conflicts to absorb before giving up.

        Raises:
            SessionConflictError: If it still conflicted after ``retries`` attempts.
            SessionNotFoundError: If the session does not exist.
        """
        for attempt in range(retries + 1):
            session = self.get(session_id)
            events = change(session) or ()
            try:
                return self.save(session, events=events)
            except SessionConflictError:
                if attempt == retries:
                    raise
                # Jitter so that two writers that collided do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def touch(self, session_id: str) -> datetime | None:
        """Mark a session active now (its idle expiry restarts) without changing its version.

        Returns:
            The new expiry time (``None`` when sessions never expire).

        Raises:
            SessionNotFoundError: If it does not exist or already expired.
        """
        self.get(session_id)
        expires_at = self._expiry(self.now())
        if not self.backend.touch(session_id, expires_at):
            raise SessionNotFoundError(f"session {session_id!r} was deleted meanwhile")
        return expires_at

    def delete(self, session_id: str) -> None:
        """Delete a session with its checkpoints and event log.

        Raises:
            SessionNotFoundError: If there is no such session.
        """
        check_session_id(session_id)
        if not self.backend.delete(session_id):
            raise SessionNotFoundError(f"no session {session_id!r} to delete")

    def list(
        self, user_id: str, *, agent_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[Session]:
        """A user's live sessions, most recently updated first.

        Args:
            user_id: Whose sessions.
            agent_id: Only this agent's sessions, if given.
            limit: Page size, 1-1000.
            offset: Sessions to skip (``offset += limit`` for the next page).

        Raises:
            ScopeError: If ``user_id`` is empty or not a string.
            UserInputError: If ``limit``/``offset`` are out of range.
        """
        if not isinstance(user_id, str) or not user_id.strip():
            raise ScopeError("list() needs a non-empty user_id string")
        for name, value, low, high in (("limit", limit, 1, 1000), ("offset", offset, 0, None)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise UserInputError(f"{name} must be an int, got {type(value).__name__}")
            if value < low or (high is not None and value > high):
                raise UserInputError(f"{name} must be in [{low}, {high or 'inf'}], got {value}")
        return self.backend.list_sessions(
            user_id, agent_id=agent_id, now=self.now(), limit=limit, offset=offset
        )

    def purge_expired(self) -> int:
        """Delete every expired session now; the number deleted."""
        return self.backend.purge_expired(self.now())

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
        if (user_id is None) == (session_ids is None):
            raise UserInputError("export_sessions() takes exactly one of user_id or session_ids")
        if user_id is not None:
            sessions, offset = [], 0
            while page := self.list(user_id, limit=1000, offset=offset):
                sessions.extend(page)
                offset += len(page)
        else:
            if isinstance(session_ids, str):
                raise UserInputError("session_ids must be a list of ids, not one string")
            sessions = [self.get(i) for i in session_ids]
        return {
            "format": EXPORT_FORMAT,
            "exported_at": self.now().isoformat(),
            "sessions": [
                {
                    "session": s.model_dump(mode="json"),
                    "checkpoints": [
                        c.model_dump(mode="json") for c in self.backend.checkpoints(s.id)
                    ],
                    "events": [e.model_dump(mode="json") for e in self.backend.events(s.id)],
                }
                for s in sessions
            ],
        }

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
        now = self.now()
        ready = []
        for i, entry in enumerate(entries):
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
                e.model_copy(update={"seq": n, "session_id": session.id})
                for n, e in enumerate(events, 1)
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
            session.expires_at = self._expiry(now)
            ready.append((session, events, checkpoints))
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
