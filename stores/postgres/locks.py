"""Locks across processes: PostgreSQL advisory locks, keyed by the schema and the owner scope.

- :meth:`AdvisoryLocks.owner_lock`: the writers of one owner scope, one at a time, in every
  process (a session lock on the owner's key), plus a shared hold of the schema-wide key.
- :meth:`AdvisoryLocks.exclusive_lock`: an operation across owners (reset, import,
  delete_all) takes the schema-wide key exclusively: it waits for every owner writer of every
  process, and keeps new ones out.
- :meth:`AdvisoryLocks.drain_lock`: one drainer of the vector outbox at a time, so operations
  reach the vector store in the order they were committed (an upsert and a later delete of the
  same id are never applied the other way round by two drainers).

Each lock is held by a connection of its own pool, for as long as the block runs: when the
process dies (``kill -9`` included) the server drops the connection and its locks, so a crashed
worker never blocks the others. A lock not obtained within ``timeout`` seconds is a
:class:`~hybrid_memory.errors.StoreError`. Locks are re-entrant within a thread, and a thread
holding the exclusive lock passes owner locks freely (they are implied).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hybrid_memory.errors import StoreError
from hybrid_memory.models import Scope
from stores.postgres.db import driver


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts`` (stable across processes)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLocks:
    """Advisory locks of one schema (see the module docstring)."""

    def __init__(self, pool: Any, schema: str, timeout: float):
        self._pool = pool
        self._schema = schema
        self._timeout_ms = int(timeout * 1000)
        self._held = threading.local()
        self._global = lock_key(schema, "writers")

    def _depths(self) -> dict[str, int]:
        depths = getattr(self._held, "depths", None)
        if depths is None:
            depths = self._held.depths = {}
        return depths

    @contextmanager
    def _hold(self, name: str, statements: list[tuple[str, int]]) -> Iterator[None]:
        depths = self._depths()
        if depths.get(name) or (name.startswith("owner:") and depths.get("exclusive")):
            depths[name] = depths.get(name, 0) + 1
            try:
                yield
            finally:
                depths[name] -= 1
            return
        try:
            with self._pool.connection() as conn:
                conn.execute(f"SET lock_timeout = {self._timeout_ms}")
                try:
                    for sql, key in statements:
                        conn.execute(sql, (key,))
                    depths[name] = 1
                    yield
                except driver().errors.LockNotAvailable as exc:
                    raise StoreError(
                        f"another process held the {name} lock of PostgreSQL schema "
                        f"{self._schema} for over {self._timeout_ms / 1000:g} s; retry"
                    ) from exc
                finally:
                    depths[name] = 0
                    conn.execute("SELECT pg_advisory_unlock_all()")
        except StoreError:
            raise
        except driver().Error as exc:
            raise StoreError(f"PostgreSQL lock failed ({self._schema}): {exc}") from exc

    def owner_lock(self, owner: Scope) -> Any:
        """Serialize the writers of ``owner`` across processes."""
        return self._hold(
            f"owner:{owner.key}",
            [
                ("SELECT pg_advisory_lock_shared(%s)", self._global),
                ("SELECT pg_advisory_lock(%s)", lock_key(self._schema, "owner", owner.key)),
            ],
        )

    def exclusive_lock(self) -> Any:
        """Run alone across processes (no owner writer anywhere meanwhile)."""
        return self._hold("exclusive", [("SELECT pg_advisory_lock(%s)", self._global)])

    def drain_lock(self) -> Any:
        """One outbox drainer at a time across processes."""
        return self._hold(
            "drain", [("SELECT pg_advisory_lock(%s)", lock_key(self._schema, "drain"))]
        )

    def close(self) -> None:
        self._pool.close()
