"""JSON-file session backend: one readable file per session in a directory.

Each ``<id>.json`` holds the session with its checkpoints and event log. Writes go to a temporary
file in the same directory, are fsynced, then renamed over the old file, so a crash leaves the
old or the new file, never half of one. A per-session lock file (``flock``) makes the version
check and the write one step across processes. A file that cannot be parsed raises
:class:`~hybrid_memory.errors.SessionCorruptError` naming it and is never overwritten; the other
sessions keep working.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hybrid_memory.errors import SessionCorruptError, StoreError
from hybrid_memory.session_models import Checkpoint, Session, SessionEvent
from stores.sessions.base import conflict, parse_checkpoint, parse_event, parse_session

FILE_FORMAT = "hybrid-memory-session/1"


class JSONFileSessionConfig(BaseModel):
    """Configuration of :class:`JSONFileSessionBackend`.

    Attributes:
        directory: Where the session files live (created if missing).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["json"] = "json"
    directory: Path


class CorruptSessionFileWarning(UserWarning):
    """A session file was skipped while listing because it cannot be read."""


class JSONFileSessionBackend:
    """Sessions as JSON files in a directory (atomic replace, flock per session)."""

    def __init__(self, config: JSONFileSessionConfig) -> None:
        self.config = config
        self.directory = config.directory
        try:
            (self.directory / ".locks").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the session directory {self.directory}: {exc}"
            ) from exc

    def path(self, session_id: str) -> Path:
        """The file holding a session."""
        return self.directory / f"{session_id}.json"

    @contextlib.contextmanager
    def _locked(self, session_id: str) -> Iterator[None]:
        with open(self.directory / ".locks" / f"{session_id}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self, session_id: str) -> dict[str, Any] | None:
        path = self.path(session_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read session file {path}: {exc}") from exc
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
                raise ValueError(f"not a {FILE_FORMAT} document")
            session = parse_session(json.dumps(doc["session"]), f"file {path}")
            if session.id != session_id:
                raise ValueError(f"it holds session {session.id!r}")
            doc["session"] = session
            doc["checkpoints"] = [
                parse_checkpoint(json.dumps(c), f"in file {path}") for c in doc["checkpoints"]
            ]
            doc["events"] = [parse_event(json.dumps(e), f"in file {path}") for e in doc["events"]]
        except SessionCorruptError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise SessionCorruptError(
                f"session file {path} is corrupt ({exc}); delete it or restore it from an "
                "export/backup. Other sessions are unaffected."
            ) from None
        return doc

    def _write(self, session: Session, checkpoints: list, events: list) -> None:
        doc = {
            "format": FILE_FORMAT,
            "session": session.model_dump(mode="json"),
            "checkpoints": [c.model_dump(mode="json") for c in checkpoints],
            "events": [e.model_dump(mode="json") for e in events],
        }
        path = self.path(session.id)
        fd, tmp = tempfile.mkstemp(prefix=f".{session.id}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def load(self, session_id: str) -> Session | None:
        doc = self._read(session_id)
        return None if doc is None else doc["session"]

    def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        events: Sequence[SessionEvent] = (),
        checkpoints: Sequence[Checkpoint] = (),
    ) -> None:
        with self._locked(session.id):
            doc = self._read(session.id)
            actual = doc["session"].version if doc else 0
            if actual != expected_version:
                raise conflict(session.id, expected_version, actual)
            old_cps = doc["checkpoints"] if doc else []
            old_events = doc["events"] if doc else []
            self._write(session, [*old_cps, *checkpoints], [*old_events, *events])

    def touch(self, session_id: str, expires_at: datetime | None) -> bool:
        with self._locked(session_id):
            doc = self._read(session_id)
            if doc is None:
                return False
            session = doc["session"]
            session.expires_at = expires_at
            self._write(session, doc["checkpoints"], doc["events"])
            return True

    def delete(self, session_id: str) -> bool:
        with self._locked(session_id):
            try:
                self.path(session_id).unlink()
            except FileNotFoundError:
                return False
        return True

    def _ids(self) -> list[str]:
        return sorted(p.name[: -len(".json")] for p in self.directory.glob("*.json"))

    def _readable(self) -> Iterator[Session]:
        for session_id in self._ids():
            try:
                session = self.load(session_id)
            except SessionCorruptError as exc:
                # Listing must keep working for the healthy sessions; get() on this id raises.
                warnings.warn(str(exc), CorruptSessionFileWarning, stacklevel=3)
                continue
            if session is not None:
                yield session

    def list_sessions(
        self, user_id: str, *, agent_id: str | None, now: datetime, limit: int, offset: int
    ) -> list[Session]:
        found = [
            s
            for s in self._readable()
            if s.user_id == user_id
            and (agent_id is None or s.agent_id == agent_id)
            and not s.is_expired(now)
        ]
        found.sort(key=lambda s: s.id)
        found.sort(key=lambda s: s.updated_at, reverse=True)
        return found[offset : offset + limit]

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        doc = self._read(session_id)
        return [] if doc is None else doc["checkpoints"]

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        doc = self._read(session_id)
        return [] if doc is None else [e for e in doc["events"] if e.seq > after_seq]

    def purge_expired(self, now: datetime) -> int:
        purged = 0
        for session in list(self._readable()):
            if not session.is_expired(now):
                continue
            with self._locked(session.id):
                # Re-read under the lock: it may have been saved again since.
                current = self.load(session.id)
                if current is not None and current.is_expired(now):
                    self.path(session.id).unlink()
                    purged += 1
        return purged

    def close(self) -> None:
        """Nothing to release: files are opened per operation."""
