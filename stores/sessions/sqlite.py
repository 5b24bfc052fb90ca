"""SQLite session backend: the embedded default, one file under the data directory.

WAL mode lets readers work while a writer commits; ``busy_timeout`` makes a second process wait
for the write lock instead of failing at once. Each commit is one ``BEGIN IMMEDIATE``
transaction, so the version check and the write cannot interleave with another process's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hybrid_memory.errors import StoreError
from hybrid_memory.session_models import Checkpoint, Session, SessionEvent
from stores.migrations import Migration, migrate
from stores.sessions.base import conflict, parse_checkpoint, parse_event, parse_session

SCHEMA_TABLE = "session_schema"
"""The version table of the session schema (see :mod:`stores.migrations`)."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        (
            """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            agent_id TEXT,
            version INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            expires_at REAL,
            body TEXT NOT NULL)""",
            "CREATE INDEX sessions_by_user ON sessions (user_id, updated_at DESC, id)",
            "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
            """CREATE TABLE session_checkpoints (
            session_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (session_id, number))""",
            """CREATE TABLE session_events (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (session_id, seq))""",
        ),
        # sessions with their version and expiry as columns (queried), the rest as a JSON body
        "sessions, checkpoints and events",
    ),
)
"""Schema migrations, applied in order; applied versions are rows of ``session_schema``."""


class SQLiteSessionConfig(BaseModel):
    """Configuration of :class:`SQLiteSessionBackend`.

    Attributes:
        data_dir: Directory holding the database file (created if missing).
        filename: Name of the database file inside ``data_dir``.
        busy_timeout_ms: How long a writer waits for another process's write lock.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["sqlite"] = "sqlite"
    data_dir: Path
    filename: str = Field(default="sessions.db", pattern=r"^[A-Za-z0-9._-]+$")
    busy_timeout_ms: int = Field(default=10_000, ge=0)


def ts(value: datetime | None) -> float | None:
    """A datetime as epoch seconds (``None`` stays ``None``)."""
    return None if value is None else value.timestamp()


def from_ts(value: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


class SQLiteSessionBackend:
    """Sessions in one SQLite file (WAL, busy timeout), safe across threads and processes.

    Example:
        >>> backend = SQLiteSessionBackend(SQLiteSessionConfig(data_dir="data"))  # doctest: +SKIP
    """

    def __init__(self, config: SQLiteSessionConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = config.data_dir / config.filename
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=config.busy_timeout_ms / 1000,
            )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the session database {self.path}: {exc}") from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(config.busy_timeout_ms)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
        except BaseException as exc:
            self._db.close()  # a backend that failed to open holds no file handle
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"cannot open the session database {self.path}: {exc}") from exc
            raise

    def migrate(self) -> int:
        """Apply the migrations not applied yet; returns the schema version.

        Raises:
            StoreError: If the file has a newer schema than this release knows.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = migrate(
                    self._db,
                    MIGRATIONS,
                    table=SCHEMA_TABLE,
                    where=f"the session database {self.path}",
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return version

    def _session(self, row: tuple) -> Session:
        session = parse_session(row[0], f"{row[1]!r} in {self.path}")
        session.version = row[2]
        session.expires_at = from_ts(row[3])
        return session

    def load(self, session_id: str) -> Session | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, id, version, expires_at FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        return None if row is None else self._session(row)

    def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        events: Sequence[SessionEvent] = (),
        checkpoints: Sequence[Checkpoint] = (),
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT version FROM sessions WHERE id = ?", (session.id,)
                ).fetchone()
                actual = row[0] if row else 0
                if actual != expected_version:
                    raise conflict(session.id, expected_version, actual)
                self._db.execute(
                    "INSERT INTO sessions (id, user_id, agent_id, version, updated_at, expires_at,"
                    " body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                    " version = excluded.version, updated_at = excluded.updated_at,"
                    " expires_at = excluded.expires_at, body = excluded.body",
                    (
                        session.id,
                        session.user_id,
                        session.agent_id,
                        session.version,
                        ts(session.updated_at),
                        ts(session.expires_at),
                        session.model_dump_json(),
                    ),
                )
                self._db.executemany(
                    "INSERT INTO session_events (session_id, seq, body) VALUES (?, ?, ?)",
                    [(session.id, e.seq, e.model_dump_json()) for e in events],
                )
                self._db.executemany(
                    "INSERT INTO session_checkpoints (session_id, number, body) VALUES (?, ?, ?)",
                    [(session.id, c.number, c.model_dump_json()) for c in checkpoints],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def touch(self, session_id: str, expires_at: datetime | None) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE sessions SET expires_at = ? WHERE id = ?", (ts(expires_at), session_id)
            )
        return cur.rowcount > 0

    def delete(self, session_id: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                self._db.execute("DELETE FROM session_events WHERE session_id = ?", (session_id,))
                self._db.execute(
                    "DELETE FROM session_checkpoints WHERE session_id = ?", (session_id,)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cur.rowcount > 0

    def list_sessions(
        self, user_id: str, *, agent_id: str | None, now: datetime, limit: int, offset: int
    ) -> list[Session]:
        sql = (
            "SELECT body, id, version, expires_at FROM sessions WHERE user_id = ?"
            " AND (expires_at IS NULL OR expires_at > ?)"
        )
        params: list = [user_id, ts(now)]
        if agent_id is not None:
            sql += " AND agent_id = ?"
            params.append(agent_id)
        sql += " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._db.execute(sql, [*params, limit, offset]).fetchall()
        return [self._session(row) for row in rows]

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, number FROM session_checkpoints WHERE session_id = ? ORDER BY number",
                (session_id,),
            ).fetchall()
        return [parse_checkpoint(b, f"{n} of session {session_id!r}") for b, n in rows]

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, seq FROM session_events WHERE session_id = ? AND seq > ?"
                " ORDER BY seq",
                (session_id, after_seq),
            ).fetchall()
        return [parse_event(b, f"{n} of session {session_id!r}") for b, n in rows]

    def purge_expired(self, now: datetime) -> int:
        with self._lock:
            # One write transaction: a session saved again meanwhile is not expired any more.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    (r[0],)
                    for r in self._db.execute(
                        "SELECT id FROM sessions WHERE expires_at IS NOT NULL AND expires_at <= ?",
                        (ts(now),),
                    ).fetchall()
                ]
                self._db.executemany("DELETE FROM sessions WHERE id = ?", ids)
                self._db.executemany("DELETE FROM session_events WHERE session_id = ?", ids)
                self._db.executemany("DELETE FROM session_checkpoints WHERE session_id = ?", ids)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(ids)

    def close(self) -> None:
        with self._lock:
            self._db.close()
