"""The SQLite record store: memory records, history, turns, summaries, audit and the outbox.

SQLite is the source of truth. An ``add`` writes everything it changes in ONE transaction (a
:class:`~stores.sqlite.writes.SQLiteUnitOfWork`), including an *outbox* row holding the vector
operations with the vectors themselves; the vector store is updated from the outbox after the
commit, and pending rows are replayed when the memory opens, so after a crash either all of an
add's effects are there or none are.

WAL mode and a busy timeout let readers in other processes work while one process writes.
Lexical search uses FTS5's BM25 over the memory texts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hybrid_memory.errors import EmbedderMismatchError, StoreError
from stores.migrations import migrate
from stores.sqlite.filters import casefold
from stores.sqlite.reads import MemoryReads, SearchReads
from stores.sqlite.schema import MIGRATIONS, VERSION_TABLE
from stores.sqlite.turns import TurnReads
from stores.sqlite.writes import SQLiteUnitOfWork


class SQLiteRecordStore(MemoryReads, SearchReads, TurnReads):
    """The record store in one SQLite file (see the module docstring).

    Thread-safe: one write connection guarded by a re-entrant lock (a unit of work holds it
    from ``BEGIN IMMEDIATE`` to ``COMMIT``, and reads inside it use that connection), and a
    pool of read-only connections for every other read, so reads never wait for a writer.
    Each read sees the last committed state when it runs.

    Args:
        path: the database file (created with its directory).
        busy_timeout_ms: how long a write waits for another process's transaction.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000):
        path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect(path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the SQLite store at {path}: {exc}") from exc
        super().__init__(conn, threading.RLock(), path, reader=self._open_reader)
        self._in_transaction = False
        with self.unit_of_work():
            try:
                migrate(self._conn, MIGRATIONS, table=VERSION_TABLE, where=str(path))
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot open the SQLite store at {path}: {exc}") from exc

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(path),
            timeout=self._busy_timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
        conn.row_factory = sqlite3.Row
        conn.create_function("hm_casefold", 1, casefold, deterministic=True)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        return conn

    def _open_reader(self) -> sqlite3.Connection:
        """A read connection of the pool (WAL: it never waits for the writer)."""
        try:
            conn = self._connect(self.path)
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open a read connection to {self.path}: {exc}") from exc
        return conn

    @contextmanager
    def unit_of_work(self) -> Iterator[SQLiteUnitOfWork]:
        """A write transaction (``BEGIN IMMEDIATE``); everything in the block commits together
        or not at all. Nested blocks join the outer transaction."""
        with self._lock:
            uow = SQLiteUnitOfWork(self._conn, self._lock, self.path)
            if self._in_transaction:
                yield uow
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"cannot start a write on {self.path}: {exc}") from exc
            self._in_transaction = True
            self._writer = threading.get_ident()
            try:
                yield uow
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                    self._commits += 1
                except sqlite3.DatabaseError as exc:
                    self._conn.execute("ROLLBACK")
                    raise StoreError(f"commit failed on {self.path}: {exc}") from exc
            finally:
                self._in_transaction = False
                self._writer = None

    def ensure_embedder(self, name: str, dimension: int) -> None:
        rows = {r["key"]: r["value"] for r in self._query("SELECT key, value FROM meta")}
        if "embedder" not in rows:
            with self.unit_of_work():
                self._executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    [("embedder", name), ("dimension", str(dimension))],
                )
            return
        if rows["embedder"] != name or int(rows["dimension"]) != dimension:
            raise EmbedderMismatchError(
                f"{self.path} holds memories embedded with {rows['embedder']!r} "
                f"({rows['dimension']} dimensions), not {name!r} ({dimension}); configure the "
                "same embedder, or use another data_dir"
            )

    def close(self) -> None:
        self._close_readers()
        with self._lock:
            self._conn.close()
