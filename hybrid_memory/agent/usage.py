"""Token usage, cost and compression statistics, per session, user, category and model.

Every LLM call is recorded with its model, tokens in and out and a ``category`` (``"chat"``
for the assistant's own calls, ``"memory"`` or a finer name such as ``"extraction"`` for the
memory pipeline's), optionally a session and a user. Actual counts come from an OpenAI
response's ``usage`` when given (:meth:`UsageTracker.record_call`); otherwise they are
estimated with :class:`~hybrid_memory.tokens.TokenCounter` and the row is marked estimated.
Costs come from :mod:`hybrid_memory.agent.registry`; unknown models cost 0 and are listed in
``unpriced``. Context-window compressions are recorded with the tokens before and after, which
gives the tokens saved and the savings percentage.

:meth:`UsageTracker.record` keeps the ``(model, prompt_tokens, completion_tokens, category)``
signature of an LLM client's ``on_usage`` hook; :meth:`UsageTracker.attribute` supplies the
session and user such a hook cannot pass. Rows live in SQLite (a file with ``db_path``, else in
memory), versioned by :data:`MIGRATIONS` in the ``usage_schema`` table, and
:meth:`UsageTracker.stats` aggregates them with SQL. :class:`UsageStats` and
:func:`render_usage_table`, which draws it with rich, are in
:mod:`hybrid_memory.agent.usage_stats`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hybrid_memory.agent.usage_stats import (
    CompressionTotals,
    UsageStats,
    UsageTotals,
    aggregate,
    price_of,
    render_usage_table,
)
from hybrid_memory.errors import StoreError
from hybrid_memory.models import utcnow
from stores.migrations import Migration, migrate

__all__ = [
    "MIGRATIONS",
    "USAGE_DB_FILENAME",
    "USAGE_SCHEMA_TABLE",
    "CompressionTotals",
    "UsageStats",
    "UsageTotals",
    "UsageTracker",
    "price_of",
    "render_usage_table",
]


USAGE_DB_FILENAME = "usage.sqlite3"
"""File name of the usage database inside a memory's data directory."""

USAGE_SCHEMA_TABLE = "usage_schema"
"""The version table of the usage database (see :mod:`stores.migrations`)."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        (
            "CREATE TABLE IF NOT EXISTS usage_calls ("
            " at TEXT, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,"
            " category TEXT, session_id TEXT, user_id TEXT, estimated INTEGER)",
            "CREATE TABLE IF NOT EXISTS usage_compressions ("
            " at TEXT, session_id TEXT, user_id TEXT, tokens_before INTEGER, tokens_after INTEGER)",
            "CREATE TABLE IF NOT EXISTS usage_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS usage_calls_session ON usage_calls(session_id)",
            "CREATE INDEX IF NOT EXISTS usage_calls_user ON usage_calls(user_id)",
        ),
        # IF NOT EXISTS: files written before the version table existed hold some or all of
        # these already; migration 1 adopts them as they are.
        "calls, compressions and meta tables",
    ),
)
"""The usage database's schema steps, applied by :func:`stores.migrations.migrate`."""

# The first call or compression recorded (the database's start), for ``UsageStats.since``.
# A database written before the meta table existed takes its oldest row's time.
_SINCE = """
INSERT OR IGNORE INTO usage_meta(key, value) VALUES ('since', COALESCE(
  (SELECT MIN(at) FROM (SELECT at FROM usage_calls UNION ALL SELECT at FROM usage_compressions)),
  ?))
"""

_BUSY_TIMEOUT_S = 5.0

# Restricts a query to one session and/or user; parameters (session_id, user_id), None = any.
_WHERE = "WHERE (?1 IS NULL OR session_id = ?1) AND (?2 IS NULL OR user_id = ?2)"

# Defaults supplied by UsageTracker.attribute: tracker key -> (session_id, user_id).
_ATTRIBUTION: ContextVar[Mapping[object, tuple[str | None, str | None]]] = ContextVar(
    "hybrid_memory_usage_attribution", default=MappingProxyType({})
)


def _usage_numbers(usage: Any) -> tuple[int, int] | None:
    if usage is None:
        return None
    get = usage.get if isinstance(usage, dict) else lambda k: getattr(usage, k, None)
    prompt = get("prompt_tokens")
    if prompt is None:
        prompt = get("input_tokens")  # Responses API naming
    completion = get("completion_tokens")
    if completion is None:
        completion = get("output_tokens")
    if prompt is None and completion is None:
        return None
    return int(prompt or 0), int(completion or 0)


class UsageTracker:
    """Thread-safe record of LLM calls and compressions, aggregated with SQL.

    Rows live in SQLite only: the file ``db_path`` when given (WAL mode with a busy timeout,
    so another process, e.g. ``hybrid-memory stats``, can read while this one writes), else a
    private in-memory database.

    Args:
        db_path: Optional SQLite file; rows are appended there and counted by every tracker
            that opens it later.

    Example:
        >>> t = UsageTracker()
        >>> t.record("gpt-4o-mini", 1000, 100, "chat")
        >>> t.stats().total.calls
        1
    """

    def __init__(self, db_path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self._key = object()  # identifies this tracker in the attribution context
        self._path = str(db_path) if db_path is not None else None
        self._in_memory = db_path is None
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(
                ":memory:" if db_path is None else str(db_path),
                timeout=_BUSY_TIMEOUT_S,
                check_same_thread=False,
                isolation_level=None,  # autocommit: every INSERT is its own transaction
            )
            if db_path is not None:
                db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            self._since = self._migrate(db)
        except BaseException as exc:
            if db is not None:
                db.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"cannot open the usage database at {db_path}: {exc}") from exc
            raise
        self._db: sqlite3.Connection | None = db

    def _migrate(self, db: sqlite3.Connection) -> str:
        """Bring the schema up to date and return ``since``, in one write transaction (two
        processes opening a new file at once must not both apply a step)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            where = f"the usage database {self._path}" if self._path else "the usage database"
            migrate(db, MIGRATIONS, table=USAGE_SCHEMA_TABLE, where=where)
            db.execute(_SINCE, (utcnow().isoformat(),))
            row = db.execute("SELECT value FROM usage_meta WHERE key = 'since'").fetchone()
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return str(row[0])

    # -- attribution ----------------------------------------------------------------------------

    @contextmanager
    def attribute(
        self, *, session_id: str | None = None, user_id: str | None = None
    ) -> Iterator[None]:
        """Attribute the calls recorded inside the block to a session and/or user.

        :meth:`record`, :meth:`record_call` and :meth:`record_compression` calls made inside
        (in this thread or asyncio task, and tasks it starts) that pass ``session_id`` or
        ``user_id`` as None get these instead; explicit values win. A None here keeps the
        enclosing block's value; nested blocks restore the outer values on exit. Built on
        :mod:`contextvars`, so other threads and concurrent tasks are unaffected.

        Useful for hooks that know nothing of sessions, such as an LLM client's ``on_usage``:

        Example:
            >>> t = UsageTracker()
            >>> with t.attribute(session_id="s1", user_id="alice"):
            ...     t.record("gpt-4o-mini", 100, 10, "extraction")  # the hook's signature
            >>> t.stats().by_user["alice"].calls
            1
        """
        current = _ATTRIBUTION.get()
        outer_session, outer_user = current.get(self._key, (None, None))
        inner = (
            session_id if session_id is not None else outer_session,
            user_id if user_id is not None else outer_user,
        )
        token = _ATTRIBUTION.set(MappingProxyType({**current, self._key: inner}))
        try:
            yield
        finally:
            _ATTRIBUTION.reset(token)

    def _attributed(
        self, session_id: str | None, user_id: str | None
    ) -> tuple[str | None, str | None]:
        default_session, default_user = _ATTRIBUTION.get().get(self._key, (None, None))
        return (
            session_id if session_id is not None else default_session,
            user_id if user_id is not None else default_user,
        )

    # -- writing --------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"the usage database {self._path} is closed")
        return self._db

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            try:
                self._connection().execute(sql, params)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot write usage to {self._path}: {exc}") from exc

    def record(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        category: str = "memory",
        *,
        session_id: str | None = None,
        user_id: str | None = None,
        estimated: bool = False,
    ) -> None:
        """Record one call's tokens (usable directly as an LLM client's ``on_usage`` hook)."""
        session_id, user_id = self._attributed(session_id, user_id)
        self._write(
            "INSERT INTO usage_calls VALUES (?,?,?,?,?,?,?,?)",
            (
                utcnow().isoformat(),
                model,
                int(prompt_tokens),
                int(completion_tokens),
                category,
                session_id,
                user_id,
                int(estimated),
            ),
        )

    def record_call(
        self,
        model: str,
        messages: list[dict[str, Any]] | None = None,
        reply: str | None = None,
        *,
        response: Any = None,
        tools: list[dict[str, Any]] | None = None,
        category: str = "chat",
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> tuple[int, int]:
        """Record a call from the response's ``usage`` when present, else from estimates.

        Returns:
            The recorded (prompt_tokens, completion_tokens).
        """
        numbers = _usage_numbers(
            getattr(response, "usage", None)
            if not isinstance(response, dict)
            else response.get("usage")
        )
        estimated = numbers is None
        if numbers is None:
            from hybrid_memory.tokens import TokenCounter

            counter = TokenCounter.for_model(model)
            numbers = (
                counter.count_messages(messages or [], tools),
                counter.count_text(reply or ""),
            )
        self.record(
            model,
            *numbers,
            category,
            session_id=session_id,
            user_id=user_id,
            estimated=estimated,
        )
        return numbers

    def record_compression(
        self,
        tokens_before: int,
        tokens_after: int,
        *,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Record one context-window compression (e.g. from a ``WindowReport``)."""
        session_id, user_id = self._attributed(session_id, user_id)
        self._write(
            "INSERT INTO usage_compressions VALUES (?,?,?,?,?)",
            (utcnow().isoformat(), session_id, user_id, int(tokens_before), int(tokens_after)),
        )

    # -- reading --------------------------------------------------------------------------------

    def stats(self, *, session_id: str | None = None, user_id: str | None = None) -> UsageStats:
        """Totals, optionally restricted to one session and/or user."""
        with self._lock:
            db = self._connection()
            try:
                groups = db.execute(
                    "SELECT model, category, session_id, user_id, COUNT(*),"
                    " SUM(prompt_tokens), SUM(completion_tokens), SUM(estimated)"
                    f" FROM usage_calls {_WHERE}"
                    " GROUP BY model, category, session_id, user_id ORDER BY MIN(rowid)",
                    (session_id, user_id),
                ).fetchall()
                compressions, before, after = db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(tokens_before), 0),"
                    f" COALESCE(SUM(tokens_after), 0) FROM usage_compressions {_WHERE}",
                    (session_id, user_id),
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"cannot read usage from {self._path}: {exc}") from exc
        totals = CompressionTotals(
            compressions=compressions, tokens_before=before, tokens_after=after
        )
        return aggregate(groups, totals, self._since)

    def close(self) -> None:
        """Close the SQLite file, if any (an in-memory tracker stays usable)."""
        with self._lock:
            if self._db is not None and not self._in_memory:
                self._db.close()
                self._db = None
