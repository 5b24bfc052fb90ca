"""PostgreSQL session backend (psycopg 3): sessions shared by many processes and hosts.

Install with ``pip install "hybrid-memory[postgres]"``. Tables live in their own schema
(``hybrid_memory`` by default) and are created by the versioned :data:`MIGRATIONS`, applied by
:meth:`PostgresSessionBackend.migrate` under an advisory lock (on open unless
``auto_migrate=False``). A commit is an ``UPDATE ... WHERE version = expected`` (or an insert
that must not find the row) in one transaction with its events and checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hybrid_memory.errors import StoreError
from hybrid_memory.session_models import Checkpoint, Session, SessionEvent
from stores.migrations import Migration, migrate
from stores.sessions.base import conflict, parse_checkpoint, parse_event, parse_session
from stores.sessions.sqlite import SCHEMA_TABLE, from_ts, ts

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        (
            """CREATE TABLE {schema}.sessions (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            agent_id TEXT,
            version INTEGER NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION,
            body TEXT NOT NULL)""",
            "CREATE INDEX sessions_by_user ON {schema}.sessions (user_id, updated_at DESC, id)",
            "CREATE INDEX sessions_by_expiry ON {schema}.sessions (expires_at)",
            """CREATE TABLE {schema}.session_checkpoints (
            session_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (session_id, number))""",
            """CREATE TABLE {schema}.session_events (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (session_id, seq))""",
        ),
        "sessions, checkpoints and events",
    ),
)
"""Schema migrations, applied in order; applied versions are rows of ``session_schema``.

``{schema}`` in a statement stands for the backend's schema name."""

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresSessionConfig(BaseModel):
    """Configuration of :class:`PostgresSessionBackend`.

    Attributes:
        conninfo: A libpq connection string or URL.
        schema_name: The PostgreSQL schema holding the tables (lowercase identifier).
        auto_migrate: Apply pending migrations when the backend opens.
        connect_timeout: Seconds to wait for the server.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["postgres"] = "postgres"
    conninfo: str = "host=127.0.0.1 port=5432 dbname=test"
    schema_name: str = Field(default="hybrid_memory", pattern=_SCHEMA_NAME.pattern)
    auto_migrate: bool = True
    connect_timeout: float = Field(default=5.0, gt=0)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            'the PostgreSQL session backend needs psycopg: pip install "hybrid-memory[postgres]"'
        ) from exc
    return psycopg


class PostgresSessionBackend:
    """Sessions in PostgreSQL tables, with compare-and-set commits."""

    def __init__(self, config: PostgresSessionConfig) -> None:
        psycopg = _psycopg()
        self.config = config
        self._s = config.schema_name
        self._lock = threading.RLock()
        try:
            self._db = psycopg.connect(
                config.conninfo,
                connect_timeout=max(1, int(config.connect_timeout)),
                autocommit=True,  # every operation below opens its own explicit transaction
            )
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL ({config.conninfo!r}): {str(exc).strip()}. "
                "Is the server running? (pg_ctlcluster <version> main start)"
            ) from exc
        if config.auto_migrate:
            try:
                self.migrate()
            except BaseException:
                self._db.close()  # a backend that failed to open holds no connection
                raise

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One transaction under the instance lock; driver errors become StoreError."""
        psycopg = _psycopg()
        with self._lock:
            try:
                with self._db.transaction():
                    yield
            except psycopg.errors.UndefinedTable as exc:
                first = str(exc).strip().splitlines()[0]
                raise StoreError(
                    f"the session tables in schema {self._s} do not exist ({first}); "
                    "run PostgresSessionBackend.migrate() (or open with auto_migrate=True)"
                ) from exc
            except psycopg.errors.UniqueViolation:
                raise
            except psycopg.Error as exc:
                raise StoreError(f"PostgreSQL session backend failed: {exc}") from exc

    def migrate(self) -> int:
        """Create the schema and apply pending migrations; returns the schema version.

        Raises:
            StoreError: If the schema has a newer version than this release knows.
        """
        steps = [
            dataclasses.replace(m, statements=tuple(s.format(schema=self._s) for s in m.statements))
            for m in MIGRATIONS
        ]
        with self._tx():
            # Several processes may open the backend at once; one migrates, the others wait.
            self._db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._s,))
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {self._s}")
            # The connection's rows are tuples (psycopg's default row factory), as migrate reads.
            return migrate(
                self._db,
                steps,
                table=f"{self._s}.{SCHEMA_TABLE}",
                where=f"schema {self._s}",
                placeholder="%s",
            )

    def _session(self, row: tuple) -> Session:
        session = parse_session(row[0], f"{row[1]!r} in {self._s}.sessions")
        session.version = row[2]
        session.expires_at = from_ts(row[3])
        return session

    def load(self, session_id: str) -> Session | None:
        with self._tx():
            row = self._db.execute(
                f"SELECT body, id, version, expires_at FROM {self._s}.sessions WHERE id = %s",
                (session_id,),
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
        values = (
            session.version,
            ts(session.updated_at),
            ts(session.expires_at),
            session.model_dump_json(),
        )
        s = self._s
        with self._lock:
            try:
                with self._tx():
                    if expected_version == 0:
                        cur = self._db.execute(
                            f"INSERT INTO {s}.sessions (version, updated_at, expires_at, body, id,"
                            " user_id, agent_id) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                            " ON CONFLICT (id) DO NOTHING",
                            (*values, session.id, session.user_id, session.agent_id),
                        )
                    else:
                        # The WHERE re-checks the version after waiting for a concurrent writer's
                        # row lock, so exactly one of two racing commits matches.
                        cur = self._db.execute(
                            f"UPDATE {s}.sessions SET version = %s, updated_at = %s,"
                            " expires_at = %s, body = %s WHERE id = %s AND version = %s",
                            (*values, session.id, expected_version),
                        )
                    if cur.rowcount != 1:
                        row = self._db.execute(
                            f"SELECT version FROM {s}.sessions WHERE id = %s", (session.id,)
                        ).fetchone()
                        raise conflict(session.id, expected_version, row[0] if row else None)
                    with self._db.cursor() as c:
                        c.executemany(
                            f"INSERT INTO {s}.session_events (session_id, seq, body)"
                            " VALUES (%s, %s, %s)",
                            [(session.id, e.seq, e.model_dump_json()) for e in events],
                        )
                        c.executemany(
                            f"INSERT INTO {s}.session_checkpoints (session_id, number, body)"
                            " VALUES (%s, %s, %s)",
                            [(session.id, cp.number, cp.model_dump_json()) for cp in checkpoints],
                        )
            except _psycopg().errors.UniqueViolation as exc:
                # Log rows left by a session deleted between our read and this insert.
                raise conflict(session.id, expected_version, None) from exc

    def touch(self, session_id: str, expires_at: datetime | None) -> bool:
        with self._tx():
            cur = self._db.execute(
                f"UPDATE {self._s}.sessions SET expires_at = %s WHERE id = %s",
                (ts(expires_at), session_id),
            )
        return cur.rowcount == 1

    def _delete_ids(self, ids: list[str]) -> None:
        for table in ("session_events", "session_checkpoints"):
            self._db.execute(f"DELETE FROM {self._s}.{table} WHERE session_id = ANY(%s)", (ids,))

    def delete(self, session_id: str) -> bool:
        with self._tx():
            cur = self._db.execute(f"DELETE FROM {self._s}.sessions WHERE id = %s", (session_id,))
            self._delete_ids([session_id])
        return cur.rowcount == 1

    def list_sessions(
        self, user_id: str, *, agent_id: str | None, now: datetime, limit: int, offset: int
    ) -> list[Session]:
        sql = (
            f"SELECT body, id, version, expires_at FROM {self._s}.sessions WHERE user_id = %s"
            " AND (expires_at IS NULL OR expires_at > %s)"
        )
        params: list = [user_id, ts(now)]
        if agent_id is not None:
            sql += " AND agent_id = %s"
            params.append(agent_id)
        sql += " ORDER BY updated_at DESC, id LIMIT %s OFFSET %s"
        with self._tx():
            rows = self._db.execute(sql, [*params, limit, offset]).fetchall()
        return [self._session(row) for row in rows]

    def checkpoints(self, session_id: str) -> list[Checkpoint]:
        with self._tx():
            rows = self._db.execute(
                f"SELECT body, number FROM {self._s}.session_checkpoints WHERE session_id = %s"
                " ORDER BY number",
                (session_id,),
            ).fetchall()
        return [parse_checkpoint(b, f"{n} of session {session_id!r}") for b, n in rows]

    def events(self, session_id: str, *, after_seq: int = 0) -> list[SessionEvent]:
        with self._tx():
            rows = self._db.execute(
                f"SELECT body, seq FROM {self._s}.session_events WHERE session_id = %s"
                " AND seq > %s ORDER BY seq",
                (session_id, after_seq),
            ).fetchall()
        return [parse_event(b, f"{n} of session {session_id!r}") for b, n in rows]

    def purge_expired(self, now: datetime) -> int:
        with self._tx():
            ids = [
                r[0]
                for r in self._db.execute(
                    f"DELETE FROM {self._s}.sessions WHERE expires_at <= %s RETURNING id",
                    (ts(now),),
                ).fetchall()
            ]
            if ids:
                self._delete_ids(ids)
        return len(ids)

    def drop_schema(self) -> None:
        """Drop the backend's schema with every table in it (for tests and teardown)."""
        with self._tx():
            self._db.execute(f"DROP SCHEMA IF EXISTS {self._s} CASCADE")

    def close(self) -> None:
        with self._lock:
            self._db.close()
