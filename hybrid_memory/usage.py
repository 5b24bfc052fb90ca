"""Token usage, cost and compression statistics, per session, user, category and model.

Every LLM call is recorded with its model, tokens in and out and a ``category`` (``"chat"``
for the assistant's own calls, ``"memory"`` or a finer name such as ``"extraction"`` for the
memory pipeline's), optionally a session and a user. Actual counts come from an OpenAI
response's ``usage`` when given (:meth:`UsageTracker.record_call`); otherwise they are
estimated with :class:`~hybrid_memory.tokens.TokenCounter` and the row is marked estimated.
Costs come from :mod:`hybrid_memory.registry`; unknown models cost 0 and are listed in
``unpriced``. Context-window compressions are recorded with the tokens before and after, which
gives the tokens saved and the savings percentage.

:meth:`UsageTracker.record` keeps the ``(model, prompt_tokens, completion_tokens, category)``
signature of an LLM client's ``on_usage`` hook. Pass ``db_path`` to persist rows to SQLite
(reloaded on start). :func:`render_usage_table` draws :class:`UsageStats` with rich.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from hybrid_memory.models import utcnow
from hybrid_memory.registry import get_model_info


def price_of(model: str) -> tuple[float, float] | None:
    """USD per 1M (input, output) tokens of ``model`` from the registry; None when unknown."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = get_model_info(model)
    return (info.input_price, info.output_price) if info.known else None


class UsageTotals(BaseModel):
    """Sums over a group of calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    estimated_calls: int = 0


class CompressionTotals(BaseModel):
    """Context-window compressions and what they saved."""

    compressions: int = 0
    tokens_before: int = 0
    tokens_after: int = 0

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    @property
    def savings_pct(self) -> float:
        return 100.0 * self.tokens_saved / self.tokens_before if self.tokens_before else 0.0


class UsageStats(BaseModel):
    """Totals overall and per category, model, session and user, plus compressions."""

    total: UsageTotals = Field(default_factory=UsageTotals)
    by_category: dict[str, UsageTotals] = Field(default_factory=dict)
    by_model: dict[str, UsageTotals] = Field(default_factory=dict)
    by_session: dict[str, UsageTotals] = Field(default_factory=dict)
    by_user: dict[str, UsageTotals] = Field(default_factory=dict)
    compression: CompressionTotals = Field(default_factory=CompressionTotals)
    unpriced: list[str] = Field(default_factory=list)
    since: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_calls (
  at TEXT, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, category TEXT,
  session_id TEXT, user_id TEXT, estimated INTEGER);
CREATE TABLE IF NOT EXISTS usage_compressions (
  at TEXT, session_id TEXT, user_id TEXT, tokens_before INTEGER, tokens_after INTEGER);
"""


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
    """Thread-safe accumulator of LLM calls and compressions.

    Args:
        db_path: Optional SQLite file; rows are appended there and reloaded on start.

    Example:
        >>> t = UsageTracker()
        >>> t.record("gpt-4o-mini", 1000, 100, "chat")
        >>> t.stats().total.calls
        1
    """

    def __init__(self, db_path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self._since = utcnow().isoformat()
        self._rows: list[tuple[str, int, int, str, str | None, str | None, bool]] = []
        self._compressions: list[tuple[str | None, str | None, int, int]] = []
        self._db: sqlite3.Connection | None = None
        if db_path is not None:
            self._db = sqlite3.connect(str(db_path), check_same_thread=False)
            self._db.executescript(_SCHEMA)
            for row in self._db.execute(
                "SELECT model, prompt_tokens, completion_tokens, category, session_id, user_id,"
                " estimated FROM usage_calls"
            ):
                self._rows.append((*row[:6], bool(row[6])))
            self._compressions.extend(
                self._db.execute(
                    "SELECT session_id, user_id, tokens_before, tokens_after"
                    " FROM usage_compressions"
                )
            )

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
        row = (
            model,
            int(prompt_tokens),
            int(completion_tokens),
            category,
            session_id,
            user_id,
            estimated,
        )
        with self._lock:
            self._rows.append(row)
            if self._db is not None:
                self._db.execute(
                    "INSERT INTO usage_calls VALUES (?,?,?,?,?,?,?,?)",
                    (utcnow().isoformat(), *row[:6], int(estimated)),
                )
                self._db.commit()

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
        row = (session_id, user_id, int(tokens_before), int(tokens_after))
        with self._lock:
            self._compressions.append(row)
            if self._db is not None:
                self._db.execute(
                    "INSERT INTO usage_compressions VALUES (?,?,?,?,?)",
                    (utcnow().isoformat(), *row),
                )
                self._db.commit()

    def stats(self, *, session_id: str | None = None, user_id: str | None = None) -> UsageStats:
        """Totals, optionally restricted to one session and/or user."""
        with self._lock:
            rows = list(self._rows)
            compressions = list(self._compressions)
        rows = [
            r
            for r in rows
            if (session_id is None or r[4] == session_id) and (user_id is None or r[5] == user_id)
        ]
        groups: dict[str, dict[str, UsageTotals]] = {
            k: defaultdict(UsageTotals) for k in ("category", "model", "session", "user")
        }
        total, unpriced = UsageTotals(), set()
        for model, prompt, completion, category, session, user, estimated in rows:
            price = price_of(model)
            cost = (prompt * price[0] + completion * price[1]) / 1e6 if price else 0.0
            if price is None:
                unpriced.add(model)
            buckets = [total, groups["category"][category], groups["model"][model]]
            if session is not None:
                buckets.append(groups["session"][session])
            if user is not None:
                buckets.append(groups["user"][user])
            for bucket in buckets:
                bucket.calls += 1
                bucket.prompt_tokens += prompt
                bucket.completion_tokens += completion
                bucket.cost_usd = round(bucket.cost_usd + cost, 8)
                bucket.estimated_calls += int(estimated)
        comp = CompressionTotals()
        for session, user, before, after in compressions:
            if (session_id is None or session == session_id) and (
                user_id is None or user == user_id
            ):
                comp.compressions += 1
                comp.tokens_before += before
                comp.tokens_after += after
        return UsageStats(
            total=total,
            by_category=dict(groups["category"]),
            by_model=dict(groups["model"]),
            by_session=dict(groups["session"]),
            by_user=dict(groups["user"]),
            compression=comp,
            unpriced=sorted(unpriced),
            since=self._since,
        )

    def close(self) -> None:
        """Close the SQLite file, if any."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def render_usage_table(stats: UsageStats, title: str = "Token usage and cost"):
    """A ``rich.table.Table`` of the stats: one row per category, model, session and user."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("group", "name", "calls", "tokens in", "tokens out", "cost (USD)"):
        table.add_column(column, justify="left" if column in ("group", "name") else "right")

    def add(group: str, name: str, t: UsageTotals) -> None:
        est = f" ({t.estimated_calls} est.)" if t.estimated_calls else ""
        table.add_row(
            group,
            name,
            f"{t.calls}{est}",
            f"{t.prompt_tokens:,}",
            f"{t.completion_tokens:,}",
            f"{t.cost_usd:.4f}",
        )

    for group, mapping in (
        ("category", stats.by_category),
        ("model", stats.by_model),
        ("session", stats.by_session),
        ("user", stats.by_user),
    ):
        for name, totals in sorted(mapping.items()):
            add(group, name, totals)
    add("total", "", stats.total)
    c = stats.compression
    table.caption = (
        f"{c.compressions} compressions, {c.tokens_saved:,} tokens saved "
        f"({c.savings_pct:.1f}%)"
        + (f"; unpriced: {', '.join(stats.unpriced)}" if stats.unpriced else "")
    )
    return table
