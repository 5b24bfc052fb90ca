"""Context-window management: fit a chat request into a model's window.

:class:`ContextWindow` takes an OpenAI-style message list (plus optional tool schemas) and
returns a list that fits, with a :class:`WindowReport` of what was dropped, compacted,
truncated or summarized. Nothing happens until the request reaches the trigger
(``trigger_ratio`` of ``context_window - reserved_output_tokens``, 80% by default); then the
configured strategies run in order until the request is at or below ``target_ratio`` of that
limit. If it is still above the limit, the oldest turns are dropped as a last resort
(``fallback_drop``), and when even that cannot fit (a system prompt or the latest turn alone
too large) a :class:`~hybrid_memory.errors.TokenBudgetError` says what to change.

Strategies (names for ``strategies``, implemented in :mod:`hybrid_memory.agent.strategies`):

- ``truncate``: cut messages longer than ``max_message_tokens``, oldest first.
- ``compact_tools``: replace old tool results (all but the ``keep_tool_results`` most recent)
  by a one-line note from a per-tool rule (``read_file`` -> "Content of {path} was read here;
  read it again if needed"); the call itself is kept.
- ``selective``: drop acknowledgements ("ok", "thanks!") and earlier exact duplicates, then the
  oldest plain exchanges; keep system prompts, tool calls with their results, errors, messages
  flagged important (``"important": True`` or ``important_if``) and the current turn.
- ``summarize``: fold the oldest turns into a summary system message with any
  :class:`~extractors.base.Summarizer` (default: the offline summarizer).
- ``sliding_window``: keep only the ``keep_last`` most recent turns.
- ``token_window``: drop the oldest turns until the target is met.
- ``delete``: drop the old history outright: everything but the system prompts, the summary
  and the current turn.

Independently of the strategies, messages whose ``id`` is in ``delete_ids`` or that
``delete_if`` accepts are removed from every request, whatever its size.

Invariants (property-tested): system/developer messages are never dropped; an assistant message
with ``tool_calls`` and its tool results are kept or dropped together; order is preserved; the
current turn (the latest user message and everything after it, e.g. a tool loop in progress) is
never dropped, only shortened.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hybrid_memory import chat
from hybrid_memory.agent.registry import get_model_info
from hybrid_memory.agent.strategies import (
    DEFAULT_TOOL_NOTE,
    DEFAULT_TOOL_RULES,
    IMPLEMENTATIONS,
    PROTECTED_ROLES,
    STRATEGIES,
    SUMMARY_PREFIX,
    Tools,
    Units,
    drop_oldest,
    flat,
    is_protected,
    to_units,
)
from hybrid_memory.errors import ConfigError, TokenBudgetError
from hybrid_memory.tokens import REPLY_PRIMING, TokenCounter

__all__ = [
    "DEFAULT_TOOL_NOTE",
    "DEFAULT_TOOL_RULES",
    "PRESETS",
    "PROTECTED_ROLES",
    "ROLES",
    "STRATEGIES",
    "SUMMARY_PREFIX",
    "ContextWindow",
    "WindowReport",
    "WindowResult",
    "WindowSettings",
    "validate_messages",
]

ROLES = chat.ROLES
"""The accepted chat roles: :data:`hybrid_memory.chat.ROLES`, the one list of the package."""

PRESETS: dict[str, dict[str, Any]] = {
    "aggressive": {
        "trigger_ratio": 0.5,
        "target_ratio": 0.3,
        "strategies": ["compact_tools", "selective", "summarize", "token_window"],
        "keep_tool_results": 1,
        "keep_last": 6,
        "max_message_tokens": 1_000,
    },
    "balanced": {
        "trigger_ratio": 0.8,
        "target_ratio": 0.6,
        "strategies": ["compact_tools", "summarize", "token_window"],
        "keep_tool_results": 3,
        "keep_last": 10,
        "max_message_tokens": 4_000,
    },
    "conservative": {
        "trigger_ratio": 0.9,
        "target_ratio": 0.8,
        "strategies": ["compact_tools", "token_window"],
        "keep_tool_results": 5,
        "keep_last": 20,
        "max_message_tokens": 8_000,
    },
}


class WindowSettings(BaseSettings):
    """Every knob of the context window; ``None`` takes the preset's value.

    Environment variables use the prefix ``HYBRID_MEMORY_WINDOW_`` (e.g.
    ``HYBRID_MEMORY_WINDOW_PRESET=aggressive``, ``HYBRID_MEMORY_WINDOW_STRATEGIES='["truncate"]'``).
    """

    model_config = SettingsConfigDict(env_prefix="HYBRID_MEMORY_WINDOW_", extra="forbid")

    preset: Literal["aggressive", "balanced", "conservative"] = "balanced"
    model: str = "gpt-4o-mini"
    context_window: int | None = Field(None, gt=0, description="Overrides the registry.")
    reserved_output_tokens: int | None = Field(None, ge=0, description="Default: min(4096, max).")
    trigger_ratio: float | None = Field(None, gt=0, le=1)
    target_ratio: float | None = Field(None, gt=0, le=1)
    strategies: list[str] | None = None
    keep_tool_results: int | None = Field(None, ge=0)
    keep_last: int | None = Field(None, ge=1)
    max_message_tokens: int | None = Field(None, ge=1)
    summary_max_tokens: int = Field(300, ge=1)
    fallback_drop: bool = True

    def resolved(self) -> dict[str, Any]:
        """Preset values overlaid with the explicitly set ones."""
        values = dict(PRESETS[self.preset])
        for key, value in self.model_dump().items():
            if value is not None:
                values[key] = value
        unknown = [s for s in values["strategies"] if s not in STRATEGIES]
        if unknown:
            raise ConfigError(
                f"unknown context strategies {unknown}; choose among {list(STRATEGIES)}"
            )
        if values["target_ratio"] > values["trigger_ratio"]:
            raise ConfigError(
                f"target_ratio ({values['target_ratio']}) must not exceed trigger_ratio "
                f"({values['trigger_ratio']})"
            )
        return values


class WindowReport(BaseModel):
    """What :meth:`ContextWindow.fit` did."""

    tokens_before: int
    tokens_after: int
    limit: int
    trigger: int
    target: int
    triggered: bool = False
    strategies_applied: list[str] = Field(default_factory=list)
    dropped: int = 0
    compacted: int = 0
    truncated: int = 0
    summarized: int = 0
    fallback: bool = False
    deleted: int = 0
    """Messages removed because ``delete_ids`` / ``delete_if`` named them."""
    summary_error: str | None = None
    """Set when the summarizer failed and the offline one wrote the summary instead."""

    @property
    def tokens_saved(self) -> int:
        """Tokens removed from the request."""
        return self.tokens_before - self.tokens_after


class WindowResult(BaseModel):
    """The fitted messages and the report."""

    messages: list[dict[str, Any]]
    report: WindowReport


def validate_messages(messages: Sequence[dict[str, Any]]) -> None:
    """Check a request's messages before the window touches them.

    Each message is checked with :func:`hybrid_memory.chat.check_message` (roles of
    :data:`hybrid_memory.chat.ROLES`, content types, tool-call shapes); then every tool call
    must be answered right after it, each id once (what a model request needs).

    Raises:
        MessageFormatError: Naming the offending message and what to change.
    """
    checked = chat.check_messages(messages)
    chat.check_tool_pairing(checked, adjacent=True, allow_open=False)


class ContextWindow:
    """Fits message lists into a model's context window with composable strategies.

    Args:
        settings: A :class:`WindowSettings`; default reads the environment.
        summarizer: Any ``Summarizer`` for the ``summarize`` strategy (default: offline).
        tool_rules: Per-tool note templates for ``compact_tools`` (formatted with the call's
            arguments plus ``tool`` and ``tokens``); merged over :data:`DEFAULT_TOOL_RULES`.
        delete_ids: Message ids removed from every request (whatever the strategies).
        delete_if: Predicate on a message dict; the messages it accepts are removed from every
            request.
        important_if: Predicate on a message dict; ``selective`` keeps the messages it accepts
            (as it keeps those with ``"important": True``).

    Example:
        >>> cw = ContextWindow(WindowSettings(context_window=4000, reserved_output_tokens=500))
        >>> result = cw.fit([{"role": "user", "content": "hi"}])
        >>> result.report.triggered
        False
    """

    def __init__(
        self,
        settings: WindowSettings | None = None,
        *,
        summarizer: Any = None,
        tool_rules: dict[str, str] | None = None,
        delete_ids: set[str] | None = None,
        delete_if: Callable[[dict[str, Any]], bool] | None = None,
        important_if: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.settings = settings or WindowSettings()
        self.values = self.settings.resolved()
        self.counter = TokenCounter.for_model(self.settings.model)
        info = get_model_info(self.settings.model)
        window = self.settings.context_window or info.context_window
        reserved = self.settings.reserved_output_tokens
        if reserved is None:
            reserved = min(4_096, info.max_output_tokens)
        self.limit = window - reserved
        if self.limit <= 0:
            raise TokenBudgetError(
                f"reserved_output_tokens ({reserved}) leaves no room in a {window}-token window"
            )
        self._summarizer = summarizer
        self.tool_rules = DEFAULT_TOOL_RULES | (tool_rules or {})
        self.delete_ids = set(delete_ids or ())
        self.delete_if = delete_if
        self.important_if = important_if
        self._local = threading.local()

    @property
    def summarizer(self) -> Any:
        """The summarizer of the ``summarize`` strategy (the offline one unless given)."""
        if self._summarizer is None:
            from extractors.summary import OfflineSummarizer  # lazy: heavy lexicon imports

            self._summarizer = OfflineSummarizer()
        return self._summarizer

    def count(self, messages: list[dict[str, Any]], tools: Tools = None) -> int:
        """Tokens of a request for this window's model."""
        return self.counter.count_messages(messages, tools)

    def fit(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Tools = None,
        *,
        force: bool = False,
    ) -> WindowResult:
        """Return a fitting copy of ``messages`` and a report; the input is not modified.

        Args:
            messages: OpenAI chat messages.
            tools: Tool schemas sent with the request (counted, never changed).
            force: Run every configured strategy fully, even below the trigger.

        Raises:
            MessageFormatError: On malformed messages (see :func:`validate_messages`).
            TokenBudgetError: When the protected part cannot fit the limit.
        """
        validate_messages(messages)
        self._local.memo = {}
        try:
            return self._fit(messages, tools, force)
        finally:
            self._local.memo = None

    def _fit(self, messages: Sequence[dict[str, Any]], tools: Tools, force: bool) -> WindowResult:
        v = self.values
        units = to_units(copy.deepcopy(list(messages)))
        before = self.count_units(units, tools)
        report = WindowReport(
            tokens_before=before,
            tokens_after=before,
            limit=self.limit,
            trigger=int(self.limit * v["trigger_ratio"]),
            target=int(self.limit * v["target_ratio"]),
        )
        if self.delete_ids or self.delete_if:
            # an explicit deletion applies whatever the size
            units = self._delete_named(units, report)
        if self.count_units(units, tools) < report.trigger and not force:
            report.tokens_after = self.count_units(units, tools)
            return WindowResult(messages=flat(units), report=report)
        report.triggered = True
        goal = 0 if force else report.target  # force: every strategy runs fully
        for name in v["strategies"]:
            if self.count_units(units, tools) <= goal:
                continue
            units = IMPLEMENTATIONS[name](self, units, tools, report, goal)
            report.strategies_applied.append(name)
        if self.count_units(units, tools) > self.limit:
            units = self._last_resort(units, tools, report)
        report.tokens_after = self.count_units(units, tools)
        if report.tokens_after > self.limit:
            raise TokenBudgetError(
                f"the latest turn alone brings the request to {report.tokens_after} tokens, "
                f"over the limit of {self.limit}; shorten it or add the 'truncate' strategy"
            )
        return WindowResult(messages=flat(units), report=report)

    def _last_resort(self, units: Units, tools: Tools, report: WindowReport) -> Units:
        """Still over the limit after the strategies: drop the oldest turns, if allowed."""
        self._check_protected(units, tools)
        if not self.values["fallback_drop"]:
            raise TokenBudgetError(
                f"after {report.strategies_applied} the request is "
                f"{self.count_units(units, tools)} tokens, over the limit of {self.limit}; "
                "add token_window to the strategies or enable fallback_drop"
            )
        report.fallback = True
        return drop_oldest(self, units, tools, self.limit, report)

    def count_units(self, units: Units, tools: Tools) -> int:
        """Tokens of the request made of ``units`` (what the strategies measure).

        Memoized per message within one :meth:`fit`: strategies recount the request many
        times.
        """
        memo = getattr(self._local, "memo", None)
        if memo is None:
            return self.count(flat(units), tools)
        total = 0
        for u in units:
            for m in u:
                entry = memo.get(id(m))
                if entry is None or entry[0] is not m or entry[1] is not m.get("content"):
                    # keeping m and its content referenced keeps their ids unique meanwhile
                    entry = (m, m.get("content"), self.counter.count_message(m))
                    memo[id(m)] = entry
                total += entry[2]
        if total == 0 and not tools:
            return 0
        return total + self.counter.count_tools(tools) + REPLY_PRIMING

    def _check_protected(self, units: Units, tools: Tools) -> None:
        kept = [u for u in units if is_protected(u)]
        size = self.count_units(kept, tools)
        if size > self.limit:
            raise TokenBudgetError(
                f"system prompts and tool schemas alone are {size} tokens, over the limit of "
                f"{self.limit} (context window minus reserved reply tokens); shorten them or use "
                "a model with a larger window"
            )

    def _delete_named(self, units: Units, report: WindowReport) -> Units:
        out = []
        for u in units:
            doomed = not is_protected(u) and any(
                m.get("id") in self.delete_ids or (self.delete_if and self.delete_if(m)) for m in u
            )
            if doomed:
                report.dropped += len(u)
                report.deleted += len(u)
            else:
                out.append(u)
        return out
