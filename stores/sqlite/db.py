"""The one SQLite connection of a record store, shared by its reads and its unit of work."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hybrid_memory.errors import StoreError


class Db:
    """A connection guarded by a re-entrant lock; every statement goes through here, so
    driver errors become :class:`StoreError` naming the file."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, path: Path):
        self._conn = conn
        self._lock = lock
        self.path = path
        self._commits = 0
        """Write transactions this connection committed (with SQLite's ``data_version``, which
        counts other connections' commits, it tells whether anything changed since a read)."""
        self._common: dict[tuple[Any, ...], int] = {}
        self._common_stamp: tuple[int, int] | None = None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLite query failed on {self.path}: {exc}") from exc

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
