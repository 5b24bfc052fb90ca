"""Connections of the PostgreSQL record store: a pool, and the transaction of this thread.

Reads outside a unit of work take a pooled connection in autocommit mode for one statement; a
unit of work holds one connection for its transaction, and every read of the same thread inside
it goes through that connection, so it sees its own uncommitted writes (as in SQLite).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hybrid_memory.errors import ConfigError, StoreError

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def driver() -> Any:
    """The psycopg module, or an ImportError that says how to install it."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "the PostgreSQL record store needs psycopg and psycopg-pool: "
            'pip install "hybrid-memory[postgres]"'
        ) from exc
    return psycopg


def check_schema(schema: str) -> str:
    """``schema`` if it is a plain lowercase identifier (it is written into SQL unquoted)."""
    if not SCHEMA_NAME.match(schema):
        raise ConfigError(
            f"PostgreSQL schema {schema!r} is not valid: use 1-63 characters of lowercase "
            "letters, digits and '_', not starting with a digit"
        )
    return schema


def open_pool(dsn: str, *, min_size: int, max_size: int, timeout: float, name: str) -> Any:
    """A psycopg connection pool of autocommit connections in UTC with dict rows."""
    driver()
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    def configure(conn: Any) -> None:
        conn.execute("SET TIME ZONE 'UTC'")

    try:
        pool = ConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=configure,
            name=name,
            open=False,
        )
        pool.open(wait=True, timeout=timeout)
    except Exception as exc:
        raise StoreError(
            f"cannot connect to PostgreSQL ({dsn!r}): {str(exc).strip()}. Is the server "
            "running, and does the dsn name it?"
        ) from exc
    return pool


class Db:
    """Statements of the store: SQL with ``{s}.`` for the schema, parameters as ``%s``."""

    def __init__(self, pool: Any, schema: str, local: threading.local):
        self._pool = pool
        self.schema = schema
        self._local = local

    def _sql(self, sql: str) -> str:
        return sql.replace("{s}.", f"{self.schema}.")

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        try:
            with self._pool.connection() as conn:
                yield conn
        except StoreError:
            raise
        except Exception as exc:
            if isinstance(exc, driver().Error) or type(exc).__name__ == "PoolTimeout":
                raise StoreError(f"PostgreSQL ({self.schema}): {str(exc).strip()}") from exc
            raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._connection() as conn:
            try:
                return conn.execute(self._sql(sql), params).fetchall()
            except driver().Error as exc:
                raise StoreError(f"PostgreSQL query failed ({self.schema}): {exc}") from exc

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write; returns how many rows it touched."""
        with self._connection() as conn:
            try:
                return int(conn.execute(self._sql(sql), params).rowcount)
            except driver().Error as exc:
                raise StoreError(f"PostgreSQL write failed ({self.schema}): {exc}") from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self._connection() as conn:
            try:
                with conn.cursor() as cur:
                    cur.executemany(self._sql(sql), rows)
            except driver().Error as exc:
                raise StoreError(f"PostgreSQL write failed ({self.schema}): {exc}") from exc
