"""The session backend protocol: a handful of typed methods every backend implements.

Everything else (get_or_create, expiry, touch, checkpoints, rollback, the event log, export and
import, the reload-and-retry loop) is built once on top of it in
:class:`hybrid_memory.agent.sessions.SessionManager`.

Contract of :meth:`SessionBackend.commit`, the only write of session content: it is atomic and
a compare-and-set on ``version``. It writes ``session`` only if the stored version equals
``expected_version`` (0 meaning "no such session yet"); otherwise it writes nothing and raises
:class:`~hybrid_memory.errors.SessionConflictError`. The events and checkpoints given with it are
appended in the same atomic step, so the log never disagrees with the saved session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from hybrid_memory.errors import SessionConflictError, SessionCorruptError
from hybrid_memory.session_models import Checkpoint, Session, SessionEvent


@runtime_checkable
class SessionBackend(Protocol):
    """Where sessions, their checkpoints and their event logs are kept."""

    def load(self, session_id: str) -> Session | None:
        """The stored session, expired or not, or ``None`` if there is none.

        Raises:
            SessionCorruptError: If the stored session cannot be read back.
        """
        ...

    def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        events: Sequence[SessionEvent] = (),
        checkpoints: Sequence[Checkpoint] = (),
    ) -> None:
        """Store ``session`` if the stored version is ``expected_version``, with its new events
        and checkpoints, atomically.

        Raises:
            SessionConflictError: If the stored version differs; nothing was written.
        """
        ...

    def touch(self, session_id: str, expires_at: datetime | None) -> bool:
        """Move a session's expiry without changing its content or version; False if absent."""
        ...

    def delete(self, session_id: str) -> bool:
        """Remove a session with its checkpoints and events; False if there was none."""
        ...

    def list_sessions(
        self,
        user_id: str,
        *,
        agent_id: str | None,
        now: datetime,
        limit: int,
        offset: int,
    ) -> list[Session]:
        """A user's sessions not expired at ``now``, most recently updated first (ties by id)."""
        ...

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        """A session's checkpoints, oldest (number 1) first."""
        ...

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        """A session's logged events with ``seq > after_seq``, in order."""
        ...

    def purge_expired(self, now: datetime) -> int:
        """Delete every session expired at ``now``; the number deleted."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def conflict(session_id: str, expected: int, actual: int | None) -> SessionConflictError:
    """The error a backend raises when a compare-and-set on ``version`` fails."""
    if not actual:
        found = "it no longer exists (deleted or expired)"
    elif expected == 0:
        found = f"a session with this id already exists (version {actual})"
    else:
        found = f"it is at version {actual} now"
    return SessionConflictError(
        f"session {session_id!r} changed since it was loaded at version {expected}: {found}. "
        "Nothing was saved. Reload it with SessionManager.get(), apply your change again and "
        "save, or use SessionManager.update(session_id, change), which retries for you.",
        session_id=session_id,
        expected_version=expected,
        actual_version=actual or None,
    )


def parse_session(raw: str | bytes, where: str) -> Session:
    """Read a stored session body, raising :class:`SessionCorruptError` naming ``where``."""
    try:
        return Session.model_validate_json(raw)
    except ValueError as exc:
        raise SessionCorruptError(
            f"stored session {where} is corrupt and cannot be read ({_first_line(exc)}); "
            "delete it or restore it from an export/backup. Other sessions are unaffected."
        ) from None


def parse_checkpoint(raw: str | bytes, where: str) -> Checkpoint:
    """Read a stored checkpoint, raising :class:`SessionCorruptError` naming ``where``."""
    try:
        return Checkpoint.model_validate_json(raw)
    except ValueError as exc:
        raise SessionCorruptError(
            f"stored checkpoint {where} is corrupt ({_first_line(exc)})"
        ) from None


def parse_event(raw: str | bytes, where: str) -> SessionEvent:
    """Read a stored event, raising :class:`SessionCorruptError` naming ``where``."""
    try:
        return SessionEvent.model_validate_json(raw)
    except ValueError as exc:
        raise SessionCorruptError(f"stored event {where} is corrupt ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
