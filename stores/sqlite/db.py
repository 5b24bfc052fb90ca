"""The SQLite connections of a record store: one write connection, shared by the unit of work
and by reads made inside it, and a pool of read connections for every other read.

In WAL mode a reader on its own connection sees the last committed state and never waits for a
writer, so searches run while an add commits, and several run at once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hybrid_memory.errors import StoreError


class Db:
    """Every statement goes through here, so driver errors become :class:`StoreError` naming
    the file.

    Args:
        conn: the write connection, guarded by ``lock``.
        lock: held from a unit of work's ``BEGIN`` to its ``COMMIT``.
        path: the database file (for messages).
        reader: opens a read-only connection; ``None`` sends every read to ``conn`` (a unit of
            work reads what it is writing).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        lock: threading.RLock,
        path: Path,
        reader: Callable[[], sqlite3.Connection] | None = None,
    ):
        self._conn = conn
        self._lock = lock
        self.path = path
        self._reader = reader
        self._idle: list[sqlite3.Connection] = []
        self._opened: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._writer: int | None = None
        """The thread inside a write transaction: its reads go to the write connection."""
        self._commits = 0
        """Write transactions this connection committed (with SQLite's ``data_version``, which
        counts other connections' commits, it tells whether anything changed since a read)."""
        self._common: dict[tuple[Any, ...], Any] = {}
        self._common_stamp: tuple[int, int] | None = None
        self._common_lock = threading.Lock()
        self._stamp_conn: sqlite3.Connection | None = None

    def _data_version(self) -> tuple[int, int]:
        """What changes whenever anything commits: this store's own commits and SQLite's
        ``data_version`` of one connection (other connections' commits). Call it holding
        ``_common_lock``."""
        if self._reader is None:
            with self._lock:
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            return self._commits, int(version)
        if self._stamp_conn is None:
            self._stamp_conn = self._reader()
            with self._pool_lock:
                self._opened.append(self._stamp_conn)
        try:
            version = self._stamp_conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"SQLite query failed on {self.path}: {exc}") from exc
        return self._commits, int(version)

    def _fresh(self) -> tuple[tuple[int, int], bool]:
        """Empty the kept counts if anything committed since they were taken; returns the
        current stamp and whether they may be kept (not inside this thread's own write).
        Call it holding ``_common_lock``."""
        stamp = self._data_version()
        # Inside its own write transaction a thread counts what it has not committed yet.
        writing = self._writer == threading.get_ident() or (
            self._reader is None and self._conn.in_transaction
        )
        if self._common_stamp != stamp or writing:
            self._common.clear()
            self._common_stamp = stamp
        return stamp, not writing

    def _kept(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, kept under ``key`` until the store changes (see :meth:`_fresh`)."""
        with self._common_lock:
            stamp, keep = self._fresh()
            if key in self._common:
                return self._common[key]
        value = compute()
        with self._common_lock:
            # Computed after the stamp was read: at worst newer than the stamp, and dropped
            # at the next change.
            if keep and self._common_stamp == stamp:
                self._common[key] = value
        return value

    @contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection | None]:
        """A pooled read connection, or ``None`` where reads must use the write connection."""
        if self._reader is None or self._writer == threading.get_ident():
            yield None
            return
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._reader()
            with self._pool_lock:
                self._opened.append(conn)
        try:
            yield conn
        finally:
            with self._pool_lock:
                self._idle.append(conn)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._read_connection() as reader:
            try:
                if reader is not None:
                    return reader.execute(sql, params).fetchall()
                with self._lock:
                    return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLite query failed on {self.path}: {exc}") from exc

    def _close_readers(self) -> None:
        with self._pool_lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
            self._idle.clear()
            self._stamp_conn = None

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, params)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLite write failed on {self.path}: {exc}") from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            try:
                self._conn.executemany(sql, rows)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLite write failed on {self.path}: {exc}") from exc
