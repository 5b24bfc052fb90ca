"""What :meth:`UsageTracker.stats` returns, how it is summed, and how it is drawn.

:class:`UsageStats` holds the totals overall and per category, model, session and user, with
the context-window compressions. :func:`aggregate` turns the tracker's grouped rows into it,
pricing each model once from :mod:`hybrid_memory.agent.registry`; :func:`render_usage_table`
draws it with rich.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from hybrid_memory.agent.registry import get_model_info

if TYPE_CHECKING:
    from rich.table import Table


def price_of(model: str) -> tuple[float, float] | None:
    """USD per 1M (input, output) tokens of ``model`` from the registry; None when unknown."""
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
        """Tokens removed from the requests."""
        return self.tokens_before - self.tokens_after

    @property
    def savings_pct(self) -> float:
        """The tokens saved as a percentage of the tokens before compression."""
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


def aggregate(
    groups: Iterable[tuple[Any, ...]], compression: CompressionTotals, since: str
) -> UsageStats:
    """Sum the tracker's grouped call rows into :class:`UsageStats`.

    Args:
        groups: Rows ``(model, category, session_id, user_id, calls, prompt_tokens,
            completion_tokens, estimated_calls)``, one per distinct first four columns.
        compression: The compressions of the same selection.
        since: When the database started recording.
    """
    by: dict[str, dict[str, UsageTotals]] = {
        k: defaultdict(UsageTotals) for k in ("category", "model", "session", "user")
    }
    total, unpriced = UsageTotals(), set()
    prices: dict[str, tuple[float, float] | None] = {}
    for model, category, session, user, calls, prompt, completion, estimated in groups:
        if model not in prices:
            prices[model] = price_of(model)
        price = prices[model]
        cost = (prompt * price[0] + completion * price[1]) / 1e6 if price else 0.0
        if price is None:
            unpriced.add(model)
        buckets = [total, by["category"][category], by["model"][model]]
        if session is not None:
            buckets.append(by["session"][session])
        if user is not None:
            buckets.append(by["user"][user])
        for bucket in buckets:
            bucket.calls += calls
            bucket.prompt_tokens += prompt
            bucket.completion_tokens += completion
            bucket.cost_usd = round(bucket.cost_usd + cost, 8)
            bucket.estimated_calls += estimated
    return UsageStats(
        total=total,
        by_category=dict(by["category"]),
        by_model=dict(by["model"]),
        by_session=dict(by["session"]),
        by_user=dict(by["user"]),
        compression=compression,
        unpriced=sorted(unpriced),
        since=since,
    )


def render_usage_table(stats: UsageStats, title: str = "Token usage and cost") -> Table:
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
