"""Context-window management: fit a chat request into a model's window.

:class:`ContextWindow` takes an OpenAI-style message list (plus optional tool schemas) and
returns a list that fits, with a :class:`WindowReport` of what was dropped, compacted,
truncated or summarized. Nothing happens until the request reaches the trigger
(``trigger_ratio`` of ``context_window - reserved_output_tokens``, 80% by default); then the
configured strategies run in order until the request is at or below ``target_ratio`` of that
limit. If it is still above the limit, the oldest turns are dropped as a last resort
(``fallback_drop``), and when even that cannot fit (a system prompt or the latest turn alone
too large) a :class:`~hybrid_memory.errors.TokenBudgetError` says what to change.

Strategies (names for ``strategies``):

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
import json
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hybrid_memory.agent.registry import get_model_info
from hybrid_memory.errors import (
    ConfigError,
    ExtractionError,
    MessageFormatError,
    TokenBudgetError,
)
from hybrid_memory.tokens import REPLY_PRIMING, TokenCounter

STRATEGIES = (
    "truncate",
    "compact_tools",
    "selective",
    "summarize",
    "sliding_window",
    "token_window",
    "delete",
)
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
PROTECTED_ROLES = ("system", "developer")
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"

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

DEFAULT_TOOL_RULES: dict[str, str] = {
    "read_file": "Content of {path} was read here; read it again if needed.",
    "open_file": "Content of {path} was read here; read it again if needed.",
    "search": "Results of the search for {query!r} were here; search again if needed.",
    "web_search": "Results of the search for {query!r} were here; search again if needed.",
    "list_dir": "Listing of {path} was here; list it again if needed.",
    "run": "Output of {command!r} was here; run it again if needed.",
}
_ERROR = re.compile(r"^\s*(error|exception|traceback|failed)\b", re.IGNORECASE)
DEFAULT_TOOL_NOTE = "Result of {tool} ({tokens} tokens) was here; call it again if needed."

_ACK = re.compile(
    r"^\s*(ok(ay)?|k|thanks?( you)?|thx|great|cool|got it|sure|yes|no|yep|nope|nice|perfect|"
    r"sounds good|alright|👍)[\s.!]*$",
    re.IGNORECASE,
)


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
    """Check roles, content types and tool-call pairing.

    Raises:
        MessageFormatError: On an unknown role, non-string content, a tool result without a
            preceding call, or a tool call without its result.
    """
    if not isinstance(messages, (list, tuple)):
        raise MessageFormatError("messages must be a list of dicts")
    pending: dict[str, int] = {}
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise MessageFormatError(f"message {i} must be a dict, got {type(m).__name__}")
        role = m.get("role")
        if role not in ROLES:
            raise MessageFormatError(f"message {i} has unknown role {role!r}; use one of {ROLES}")
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise MessageFormatError(
                f"message {i} content must be a string or a list of content parts, "
                f"got {type(content).__name__}"
            )
        if content is None and not (role == "assistant" and m.get("tool_calls")):
            raise MessageFormatError(f"message {i} ({role}) has no content")
        if role != "tool" and pending:
            raise MessageFormatError(
                f"tool call(s) {sorted(pending)} of message {min(pending.values())} have no "
                f"tool result before message {i}; add the results right after the call"
            )
        if role == "assistant":
            for call in m.get("tool_calls") or []:
                if not isinstance(call, dict) or not call.get("id"):
                    raise MessageFormatError(f"message {i} has a tool call without an id")
                pending[call["id"]] = i
        elif role == "tool":
            call_id = m.get("tool_call_id")
            if call_id not in pending:
                raise MessageFormatError(
                    f"message {i} is a tool result for {call_id!r} without a preceding "
                    "assistant tool call with that id"
                )
            del pending[call_id]
    if pending:
        raise MessageFormatError(
            f"tool call(s) {sorted(pending)} have no tool result; add the results after the call"
        )


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        p if isinstance(p, str) else str(p.get("text", "")) for p in content if p is not None
    )


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
    ):
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
        if self._summarizer is None:
            from extractors.summary import OfflineSummarizer  # lazy: heavy lexicon imports

            self._summarizer = OfflineSummarizer()
        return self._summarizer

    def count(self, messages: list[dict[str, Any]], tools: list[dict] | None = None) -> int:
        """Tokens of a request for this window's model."""
        return self.counter.count_messages(messages, tools)

    def fit(
        self,
        messages: Sequence[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
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

    def _fit(self, messages, tools, force) -> WindowResult:
        v = self.values
        units = self._units(copy.deepcopy(list(messages)))
        before = self._count_units(units, tools)
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
        if self._count_units(units, tools) < report.trigger and not force:
            report.tokens_after = self._count_units(units, tools)
            return WindowResult(messages=self._flat(units), report=report)
        report.triggered = True
        goal = 0 if force else report.target  # force: every strategy runs fully
        for name in v["strategies"]:
            if self._count_units(units, tools) <= goal:
                continue
            units = getattr(self, f"_s_{name}")(units, tools, report, goal)
            report.strategies_applied.append(name)
        if self._count_units(units, tools) > self.limit:
            self._check_protected(units, tools)
            if not v["fallback_drop"]:
                raise TokenBudgetError(
                    f"after {report.strategies_applied} the request is "
                    f"{self._count_units(units, tools)} tokens, over the limit of {self.limit}; "
                    "add token_window to the strategies or enable fallback_drop"
                )
            report.fallback = True
            units = self._drop_oldest(units, tools, self.limit, report)
        report.tokens_after = self._count_units(units, tools)
        if report.tokens_after > self.limit:
            raise TokenBudgetError(
                f"the latest turn alone brings the request to {report.tokens_after} tokens, "
                f"over the limit of {self.limit}; shorten it or add the 'truncate' strategy"
            )
        return WindowResult(messages=self._flat(units), report=report)

    # -- units: a protected message, a single message, or a tool call with its results --

    @staticmethod
    def _units(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        units: list[list[dict[str, Any]]] = []
        for m in messages:
            if m["role"] == "tool":
                units[-1].append(m)
            else:
                units.append([m])
        return units

    @staticmethod
    def _flat(units: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [m for u in units for m in u]

    @staticmethod
    def _protected(unit: list[dict[str, Any]]) -> bool:
        return unit[0]["role"] in PROTECTED_ROLES

    def _count_units(self, units, tools) -> int:
        # memoized per message within one fit: strategies recount the request many times
        memo = getattr(self._local, "memo", None)
        if memo is None:
            return self.count(self._flat(units), tools)
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

    def _check_protected(self, units, tools) -> None:
        kept = [u for u in units if self._protected(u)]
        size = self._count_units(kept, tools)
        if size > self.limit:
            raise TokenBudgetError(
                f"system prompts and tool schemas alone are {size} tokens, over the limit of "
                f"{self.limit} (context window minus reserved reply tokens); shorten them or use "
                "a model with a larger window"
            )

    @staticmethod
    def _tail(units: list[list[dict[str, Any]]]) -> int:
        """Index of the first unit of the current turn: the latest user message and what
        followed it (the calls and results of a tool loop). Strategies may shorten it
        (truncate, compact_tools) but never drop it, so the model always sees the request it
        is working on. Without a user message, the last unit."""
        for i in range(len(units) - 1, -1, -1):
            if units[i][0]["role"] == "user":
                return i
        return max(0, len(units) - 1)

    def _drop_oldest(self, units, tools, goal, report) -> list[list[dict[str, Any]]]:
        units = list(units)
        tail = self._tail(units)
        while self._count_units(units, tools) > goal:
            idx = next((i for i, u in enumerate(units[:tail]) if not self._protected(u)), None)
            if idx is None:
                break
            report.dropped += len(units.pop(idx))
            tail -= 1
        return units

    # -- strategies --

    def _s_token_window(self, units, tools, report, goal):
        return self._drop_oldest(units, tools, goal, report)

    def _s_sliding_window(self, units, tools, report, goal):
        keep = self.values["keep_last"]
        tail = self._tail(units)
        movable = [i for i, u in enumerate(units) if not self._protected(u)]
        drop = {i for i in movable[: max(0, len(movable) - keep)] if i < tail}
        report.dropped += sum(len(units[i]) for i in drop)
        return [u for i, u in enumerate(units) if i not in drop]

    def _delete_named(self, units, report):
        out = []
        for u in units:
            doomed = not self._protected(u) and any(
                m.get("id") in self.delete_ids or (self.delete_if and self.delete_if(m)) for m in u
            )
            if doomed:
                report.dropped += len(u)
                report.deleted += len(u)
            else:
                out.append(u)
        return out

    def _s_delete(self, units, tools, report, goal):
        tail = self._tail(units)
        out = []
        for i, u in enumerate(units):
            if self._protected(u) or i >= tail:
                out.append(u)
            else:
                report.dropped += len(u)
        return out

    def _s_truncate(self, units, tools, report, goal):
        cap = self.values["max_message_tokens"]
        for u in units:
            if self._protected(u):
                continue
            for m in u:
                text = _text(m.get("content"))
                size = self.counter.count_text(text)
                if size > cap:
                    cut = self.counter.truncate_text(text, cap)
                    m["content"] = f"{cut}\n[... {size - self.counter.count_text(cut)} tokens cut]"
                    report.truncated += 1
            if self._count_units(units, tools) <= goal:
                break
        return units

    def _note(self, call: dict[str, Any], result: dict[str, Any]) -> str:
        fn = call.get("function", {})
        name = fn.get("name", "tool")
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except (json.JSONDecodeError, TypeError):
            args = {}
        if not isinstance(args, dict):
            args = {}
        fields = {"tool": name, "tokens": self.counter.count_text(_text(result.get("content")))}
        template = self.tool_rules.get(name, DEFAULT_TOOL_NOTE)
        try:
            return template.format(**(args | fields))
        except (KeyError, IndexError, ValueError):
            return DEFAULT_TOOL_NOTE.format(**fields)

    def _s_compact_tools(self, units, tools, report, goal):
        tool_units = [i for i, u in enumerate(units) if len(u) > 1]
        keep = self.values["keep_tool_results"]
        old = tool_units[: max(0, len(tool_units) - keep)]
        for i in old:
            calls = {c["id"]: c for c in units[i][0].get("tool_calls") or []}
            for m in units[i][1:]:
                note = self._note(calls.get(m.get("tool_call_id"), {}), m)
                if self.counter.count_text(note) < self.counter.count_text(_text(m["content"])):
                    m["content"] = note
                    report.compacted += 1
            if self._count_units(units, tools) <= goal:
                break
        return units

    def _s_selective(self, units, tools, report, goal):
        seen: set[tuple[str, str]] = set()
        out: list[list[dict[str, Any]]] = []
        tail = self._tail(units)
        # walk newest first so the latest copy of a duplicate is the one kept
        for i in range(len(units) - 1, -1, -1):
            u = units[i]
            m = u[0]
            text = _text(m.get("content")).strip()
            key = (m["role"], text)
            if self._protected(u) or len(u) > 1 or i >= tail:
                seen.add(key)
                out.append(u)
                continue
            if _ACK.match(text) or key in seen:
                report.dropped += 1
                continue
            seen.add(key)
            out.append(u)
        out.reverse()
        # Then the plain exchanges, oldest first: what stays is the system prompts, tool calls
        # with their results, errors, messages flagged important and the current turn.
        tail = self._tail(out)
        keep = [
            self._protected(u) or i >= tail or self._kept_by_selective(u) for i, u in enumerate(out)
        ]
        i = 0
        while i < len(out) and self._count_units(out, tools) > goal:
            if keep[i]:
                i += 1
                continue
            report.dropped += len(out.pop(i))
            keep.pop(i)
        return out

    def _kept_by_selective(self, unit: list[dict[str, Any]]) -> bool:
        if len(unit) > 1 or unit[0].get("tool_calls"):
            return True
        m = unit[0]
        if m.get("important") is True or (self.important_if and self.important_if(m)):
            return True
        return bool(_ERROR.match(_text(m.get("content"))))

    def _s_summarize(self, units, tools, report, goal):
        from hybrid_memory.models import Message

        cap = self.settings.summary_max_tokens
        tail = self._tail(units)
        head = [u for u in units if self._protected(u)]
        rest = [u for u in units[:tail] if not self._protected(u)]
        current = [u for u in units[tail:] if not self._protected(u)]
        # the summary must leave room for the current turn under the hard limit: it cannot
        # be dropped later (it is a system message)
        fixed = self._count_units(head + current, tools)
        cap = min(cap, self.limit - fixed - 10)
        if cap <= 0:
            return units
        budget = goal - fixed - cap - 10
        # keep the newest turns that fit next to the summary; fold everything older
        kept: list[list[dict[str, Any]]] = []
        for u in reversed(rest):
            if self._count_units([*kept, u], None) > budget:
                break
            kept.insert(0, u)
        if len(kept) == len(rest) and rest:
            kept = rest[1:]  # over the goal with everything kept: fold at least the oldest
        folded = rest[: len(rest) - len(kept)]
        if not folded:
            return units
        turns = [
            Message(role=m["role"], content=_text(m.get("content")), name=m.get("name"))
            for u in folded
            for m in u
            if m["role"] in ("user", "assistant") and _text(m.get("content")).strip()
        ]
        previous = ""
        for u in head:
            content = _text(u[0].get("content"))
            if content.startswith(SUMMARY_PREFIX):
                previous = content[len(SUMMARY_PREFIX) :]
        try:
            summary = self.summarizer.summarize(
                previous, turns, max_tokens=cap, count_tokens=self.counter.count_text
            )
        except ExtractionError as exc:
            # A model-backed summarizer failed: the offline one stands in, as in HybridMemory.
            from extractors.summary import OfflineSummarizer

            report.summary_error = f"{type(exc).__name__}: {exc}"
            summary = OfflineSummarizer().summarize(
                previous, turns, max_tokens=cap, count_tokens=self.counter.count_text
            )
        summary = self.counter.truncate_text(summary, cap)
        report.summarized += sum(len(u) for u in folded)
        report.dropped += sum(len(u) for u in folded)
        folded_ids = {id(u) for u in folded}
        out: list[list[dict[str, Any]]] = []
        placed = False
        for u in units:
            if self._protected(u) and _text(u[0].get("content")).startswith(SUMMARY_PREFIX):
                continue  # replaced by the new summary
            if id(u) in folded_ids:
                if not placed and summary.strip():
                    out.append([{"role": "system", "content": SUMMARY_PREFIX + summary}])
                placed = True
                continue
            out.append(u)
        return out
