"""The embedded SQLite record store (the default source of truth)."""

from stores.sqlite.store import SQLiteRecordStore
from stores.sqlite.writes import SQLiteUnitOfWork

__all__ = ["SQLiteRecordStore", "SQLiteUnitOfWork"]
