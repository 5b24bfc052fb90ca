"""The one schema-migration runner of every SQL store (SQLite and PostgreSQL).

A store declares its schema as numbered :class:`Migration` steps; :func:`migrate` applies the
steps a database has not seen yet, in order, inside the caller's transaction, and records each
applied version as a row of the store's version table (one ``version`` column). A database
written by a newer release (a version above the newest step) is refused with a
:class:`~hybrid_memory.errors.StoreError`, never altered.

Example::

    MIGRATIONS = (Migration(1, ("CREATE TABLE t (x INTEGER)",)),)
    with transaction(conn):
        migrate(conn, MIGRATIONS, table="t_schema", where="memory.db")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hybrid_memory.errors import StoreError


@dataclass(frozen=True)
class Migration:
    """One numbered step of a schema: its SQL statements, applied in order."""

    version: int
    statements: tuple[str, ...]
    description: str = ""


class _Connection(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


def latest(migrations: Sequence[Migration]) -> int:
    """The schema version the migrations lead to."""
    return max((m.version for m in migrations), default=0)


def _check(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3... in order; got {versions}")


def migrate(
    conn: _Connection,
    migrations: Sequence[Migration],
    *,
    table: str,
    where: str,
    placeholder: str = "?",
) -> int:
    """Apply the pending ``migrations`` through ``conn`` and return the schema version.

    Runs inside the caller's transaction (and, for servers, under the caller's lock), so a
    failed step leaves the database as it was.

    Args:
        conn: a DB-API style connection (``sqlite3`` or ``psycopg``) with ``execute``.
        migrations: the store's steps, numbered from 1.
        table: the version table (schema-qualified for PostgreSQL).
        where: how to name the database in errors (a path, a schema).
        placeholder: the driver's parameter marker (``?`` for sqlite3, ``%s`` for psycopg).
    """
    _check(migrations)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER)")
    row = conn.execute(f"SELECT MAX(version) FROM {table}").fetchone()
    current = int(row[0] or 0) if row else 0
    newest = latest(migrations)
    if current > newest:
        raise StoreError(
            f"{where} has schema version {current}, newer than this hybrid-memory ({newest}); "
            "upgrade hybrid-memory"
        )
    for step in migrations[current:]:
        for statement in step.statements:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {table} (version) VALUES ({placeholder})", (step.version,))
    return max(current, newest)
