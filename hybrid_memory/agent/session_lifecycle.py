"""The lifecycle of sessions: create, find, save with compare-and-set, touch, expire, delete.

:class:`SessionLifecycle` is the base of :class:`~hybrid_memory.agent.sessions.SessionManager`
(which adds checkpoints, the event log and export/import); use the manager. The rules of one
save (what is checked, how direct edits are logged) are in
:mod:`hybrid_memory.agent.session_save`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from hybrid_memory.agent.session_save import check_save_input, plan_save
from hybrid_memory.errors import (
    ScopeError,
    SessionConflictError,
    SessionNotFoundError,
    UserInputError,
)
from hybrid_memory.models import as_utc, utcnow
from hybrid_memory.session_models import Session, SessionEvent, check_session_id
from stores.sessions.base import SessionBackend

DEFAULT_IDLE_TTL = timedelta(days=30)
"""How long an untouched session lives unless ``idle_ttl`` says otherwise."""


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


class SessionLifecycle:
    """Loads, saves and expires sessions in one backend (the base of ``SessionManager``).

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
        messages, state, events = check_save_input(session, events, label)
        stored = self.backend.load(session.id)
        now = self.now()
        if stored is not None and stored.is_expired(now):
            self.backend.purge_expired(now)
            stored = None
        commit = plan_save(
            session,
            stored,
            messages,
            state,
            events,
            now=now,
            expires_at=self._expiry(now),
            checkpoint=checkpoint,
            label=label,
        )
        self.backend.commit(
            commit.session,
            expected_version=session.version,
            events=commit.events,
            checkpoints=commit.checkpoints,
        )
        for name in Session.model_fields:
            setattr(session, name, getattr(commit.session, name))
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
