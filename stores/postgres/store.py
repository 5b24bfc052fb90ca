"""The PostgreSQL record store: memories, history, turns, summaries, audit and the outbox.

The same contract as the SQLite store (one transaction per unit of work, the outbox committed
with the records), for deployments where several processes or hosts share one memory. Tables
live in one PostgreSQL schema per deployment (``hybrid_memory`` by default), created by the
numbered :data:`~stores.postgres.schema.MIGRATIONS` under an advisory lock, so processes that
open the store at once migrate it once. Connections come from a ``psycopg_pool`` pool; every
value reaches the server as a query parameter. Lexical search ranks with BM25 inside
PostgreSQL (full-text search with a GIN index, see :mod:`stores.postgres.reads`).

Writers of one owner scope are serialized across processes by advisory locks
(:mod:`stores.postgres.locks`), which the memory composes with its in-process per-owner locks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hybrid_memory.errors import EmbedderMismatchError, StoreError
from hybrid_memory.models import Scope
from stores.migrations import Migration, migrate
from stores.postgres.db import check_schema, driver, open_pool
from stores.postgres.locks import AdvisoryLocks, lock_key
from stores.postgres.reads import MemoryReads, SearchReads
from stores.postgres.schema import MIGRATIONS, VERSION_TABLE
from stores.postgres.turns import TurnReads
from stores.postgres.writes import PostgresUnitOfWork


class _TupleRows:
    """A connection whose ``execute`` returns plain tuples (what the migration runner reads)."""

    def __init__(self, conn: Any):
        self._conn = conn

    def execute(self, sql: str, params: Any = ()) -> Any:
        from psycopg.rows import tuple_row

        cursor = self._conn.cursor(row_factory=tuple_row)
        return cursor.execute(sql, params)


class PostgresRecordStore(MemoryReads, SearchReads, TurnReads):
    """The record store in one PostgreSQL schema (see the module docstring).

    Thread-safe: each thread's unit of work holds its own pooled connection.

    Args:
        dsn: a libpq connection string or URL (``postgresql://user@host:5432/db``).
        schema: the PostgreSQL schema of the tables (created when missing).
        pool_size: most connections for statements (and as many more for locks).
        timeout: seconds to wait for a connection, and for a lock another process holds.

    Example:
        >>> store = PostgresRecordStore("host=127.0.0.1 dbname=test", schema="memory_prod")
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "hybrid_memory",
        pool_size: int = 10,
        timeout: float = 30.0,
    ):
        driver()
        self.dsn = dsn
        schema = check_schema(schema)
        pool = open_pool(dsn, min_size=1, max_size=pool_size, timeout=timeout, name=schema)
        super().__init__(pool, schema, threading.local())
        try:
            self._locks = AdvisoryLocks(
                open_pool(dsn, min_size=0, max_size=pool_size, timeout=timeout, name="locks"),
                schema,
                timeout,
            )
        except BaseException:
            pool.close()
            raise
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        steps = [
            Migration(m.version, tuple(self._sql(s) for s in m.statements), m.description)
            for m in MIGRATIONS
        ]
        with self.unit_of_work():
            # Processes opening the store at once wait here, and the first one migrates.
            self._execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.schema, "migrate"),))
            self._execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            with self._connection() as conn:
                try:
                    migrate(
                        _TupleRows(conn),
                        steps,
                        table=self._sql(VERSION_TABLE),
                        where=f"PostgreSQL schema {self.schema}",
                        placeholder="%s",
                    )
                except driver().Error as exc:
                    raise StoreError(
                        f"cannot migrate PostgreSQL schema {self.schema}: {exc}"
                    ) from exc

    @contextmanager
    def unit_of_work(self) -> Iterator[PostgresUnitOfWork]:
        """A write transaction on one pooled connection; everything in the block commits
        together or not at all. Nested blocks (in the same thread) join the outer one."""
        uow = PostgresUnitOfWork(self._pool, self.schema, self._local)
        if getattr(self._local, "conn", None) is not None:
            yield uow
            return
        try:
            with self._pool.connection() as conn, conn.transaction():
                self._local.conn = conn
                try:
                    yield uow
                finally:
                    self._local.conn = None
        except StoreError:
            raise
        except driver().Error as exc:
            raise StoreError(f"PostgreSQL transaction failed ({self.schema}): {exc}") from exc
        except Exception as exc:
            if type(exc).__name__ == "PoolTimeout":
                raise StoreError(f"no PostgreSQL connection free ({self.schema}): {exc}") from exc
            raise

    def owner_lock(self, owner: Scope) -> Any:
        """Serialize writers of ``owner`` across processes (see :mod:`stores.postgres.locks`)."""
        return self._locks.owner_lock(owner)

    def exclusive_lock(self) -> Any:
        """Keep every owner writer of every process out while the block runs."""
        return self._locks.exclusive_lock()

    def drain_lock(self) -> Any:
        """One drainer of the vector outbox at a time across processes."""
        return self._locks.drain_lock()

    def ensure_embedder(self, name: str, dimension: int) -> None:
        with self.unit_of_work():
            # The first process to record an embedder wins; everyone compares with it.
            self._execute(
                "INSERT INTO {s}.meta (key, value) VALUES ('embedder', %s), ('dimension', %s) "
                "ON CONFLICT (key) DO NOTHING",
                (name, str(dimension)),
            )
            rows = {r["key"]: r["value"] for r in self._query("SELECT key, value FROM {s}.meta")}
        if rows["embedder"] != name or int(rows["dimension"]) != dimension:
            raise EmbedderMismatchError(
                f"PostgreSQL schema {self.schema} holds memories embedded with "
                f"{rows['embedder']!r} ({rows['dimension']} dimensions), not {name!r} "
                f"({dimension}); configure the same embedder, or use another schema"
            )

    def close(self) -> None:
        """Close both pools (closing twice is harmless)."""
        self._pool.close()
        self._locks.close()
