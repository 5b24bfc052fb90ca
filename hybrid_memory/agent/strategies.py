"""The strategies of the context window: each shrinks a request towards a token goal.

A strategy works on *units*, what it keeps or drops as one: a system/developer message, a
single message, or an assistant message calling tools together with its tool results (a call
without its results, or a result without its call, would make the request invalid). Every
strategy has the signature of :class:`Strategy`: it gets the :class:`ContextWindow` (for
counting and settings), the units, the tool schemas, the report to update and the goal in
tokens, and returns the units to keep. Strategies may shorten the current turn (the latest user
message and what followed it) but never drop it, and never drop system/developer messages.

:data:`IMPLEMENTATIONS` maps each name of :data:`STRATEGIES` to its function; the module
docstring of :mod:`hybrid_memory.agent.window` says what each one does.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Protocol

from hybrid_memory.fallback import Fallback
from hybrid_memory.models import Message

if TYPE_CHECKING:
    from hybrid_memory.agent.window import ContextWindow, WindowReport

Unit = list[dict[str, Any]]
"""Messages kept or dropped together."""
Units = list[Unit]
Tools = list[dict[str, Any]] | None

PROTECTED_ROLES = ("system", "developer")
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"

DEFAULT_TOOL_RULES: dict[str, str] = {
    "read_file": "Content of {path} was read here; read it again if needed.",
    "open_file": "Content of {path} was read here; read it again if needed.",
    "search": "Results of the search for {query!r} were here; search again if needed.",
    "web_search": "Results of the search for {query!r} were here; search again if needed.",
    "list_dir": "Listing of {path} was here; list it again if needed.",
    "run": "Output of {command!r} was here; run it again if needed.",
}
DEFAULT_TOOL_NOTE = "Result of {tool} ({tokens} tokens) was here; call it again if needed."

_ERROR = re.compile(r"^\s*(error|exception|traceback|failed)\b", re.IGNORECASE)
_ACK = re.compile(
    r"^\s*(ok(ay)?|k|thanks?( you)?|thx|great|cool|got it|sure|yes|no|yep|nope|nice|perfect|"
    r"sounds good|alright|👍)[\s.!]*$",
    re.IGNORECASE,
)


class Strategy(Protocol):
    """What every strategy is: shrink ``units`` towards ``goal`` tokens, updating ``report``."""

    def __call__(
        self,
        window: ContextWindow,
        units: Units,
        tools: Tools,
        report: WindowReport,
        goal: int,
    ) -> Units: ...


# -- units ------------------------------------------------------------------------------------


def to_units(messages: list[dict[str, Any]]) -> Units:
    """Group validated messages into units (tool results join the call before them)."""
    units: Units = []
    for m in messages:
        if m["role"] == "tool":
            units[-1].append(m)
        else:
            units.append([m])
    return units


def flat(units: Units) -> list[dict[str, Any]]:
    """The messages of ``units``, in order."""
    return [m for u in units for m in u]


def is_protected(unit: Unit) -> bool:
    """Whether the unit is a system/developer message, which no strategy drops."""
    return unit[0]["role"] in PROTECTED_ROLES


def current_turn(units: Units) -> int:
    """Index of the first unit of the current turn: the latest user message and what
    followed it (the calls and results of a tool loop). Strategies may shorten it
    (truncate, compact_tools) but never drop it, so the model always sees the request it
    is working on. Without a user message, the last unit."""
    for i in range(len(units) - 1, -1, -1):
        if units[i][0]["role"] == "user":
            return i
    return max(0, len(units) - 1)


def text_of(content: Any) -> str:
    """The text of a validated message's content (content parts joined by newlines)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        p if isinstance(p, str) else str(p.get("text", "")) for p in content if p is not None
    )


def drop_oldest(
    window: ContextWindow, units: Units, tools: Tools, goal: int, report: WindowReport
) -> Units:
    """Drop the oldest droppable units until the request is at most ``goal`` tokens."""
    units = list(units)
    tail = current_turn(units)
    while window.count_units(units, tools) > goal:
        idx = next((i for i, u in enumerate(units[:tail]) if not is_protected(u)), None)
        if idx is None:
            break
        report.dropped += len(units.pop(idx))
        tail -= 1
    return units


# -- the strategies ---------------------------------------------------------------------------


def token_window(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Drop the oldest turns until the goal is met."""
    return drop_oldest(window, units, tools, goal, report)


def sliding_window(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Keep only the ``keep_last`` most recent turns (and the current one)."""
    keep = window.values["keep_last"]
    tail = current_turn(units)
    movable = [i for i, u in enumerate(units) if not is_protected(u)]
    drop = {i for i in movable[: max(0, len(movable) - keep)] if i < tail}
    report.dropped += sum(len(units[i]) for i in drop)
    return [u for i, u in enumerate(units) if i not in drop]


def delete(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Drop everything but the system prompts, the summary and the current turn."""
    tail = current_turn(units)
    out = []
    for i, u in enumerate(units):
        if is_protected(u) or i >= tail:
            out.append(u)
        else:
            report.dropped += len(u)
    return out


def truncate(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Cut messages longer than ``max_message_tokens``, oldest first."""
    cap = window.values["max_message_tokens"]
    counter = window.counter
    for u in units:
        if is_protected(u):
            continue
        for m in u:
            text = text_of(m.get("content"))
            size = counter.count_text(text)
            if size > cap:
                cut = counter.truncate_text(text, cap)
                m["content"] = f"{cut}\n[... {size - counter.count_text(cut)} tokens cut]"
                report.truncated += 1
        if window.count_units(units, tools) <= goal:
            break
    return units


def tool_note(window: ContextWindow, call: dict[str, Any], result: dict[str, Any]) -> str:
    """The one-line note that replaces a compacted tool result, from the tool's rule."""
    fn = call.get("function", {})
    name = fn.get("name", "tool")
    try:
        args = json.loads(fn.get("arguments") or "{}")
    except (json.JSONDecodeError, TypeError):
        args = {}
    if not isinstance(args, dict):
        args = {}
    fields = {"tool": name, "tokens": window.counter.count_text(text_of(result.get("content")))}
    template = window.tool_rules.get(name, DEFAULT_TOOL_NOTE)
    try:
        return template.format(**(args | fields))
    except (KeyError, IndexError, ValueError):
        return DEFAULT_TOOL_NOTE.format(**fields)


def compact_tools(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Replace old tool results (all but ``keep_tool_results``) by one-line notes."""
    tool_units = [i for i, u in enumerate(units) if len(u) > 1]
    keep = window.values["keep_tool_results"]
    old = tool_units[: max(0, len(tool_units) - keep)]
    count_text = window.counter.count_text
    for i in old:
        calls = {c["id"]: c for c in units[i][0].get("tool_calls") or []}
        for m in units[i][1:]:
            note = tool_note(window, calls.get(m.get("tool_call_id"), {}), m)
            if count_text(note) < count_text(text_of(m["content"])):
                m["content"] = note
                report.compacted += 1
        if window.count_units(units, tools) <= goal:
            break
    return units


def _without_acks_and_duplicates(units: Units, report: WindowReport) -> Units:
    seen: set[tuple[str, str]] = set()
    out: Units = []
    tail = current_turn(units)
    # walk newest first so the latest copy of a duplicate is the one kept
    for i in range(len(units) - 1, -1, -1):
        u = units[i]
        m = u[0]
        text = text_of(m.get("content")).strip()
        key = (m["role"], text)
        if is_protected(u) or len(u) > 1 or i >= tail:
            seen.add(key)
            out.append(u)
            continue
        if _ACK.match(text) or key in seen:
            report.dropped += 1
            continue
        seen.add(key)
        out.append(u)
    out.reverse()
    return out


def _kept_by_selective(window: ContextWindow, unit: Unit) -> bool:
    if len(unit) > 1 or unit[0].get("tool_calls"):
        return True
    m = unit[0]
    if m.get("important") is True or (window.important_if and window.important_if(m)):
        return True
    return bool(_ERROR.match(text_of(m.get("content"))))


def selective(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Drop acknowledgements and earlier duplicates, then the oldest plain exchanges."""
    out = _without_acks_and_duplicates(units, report)
    # Then the plain exchanges, oldest first: what stays is the system prompts, tool calls
    # with their results, errors, messages flagged important and the current turn.
    tail = current_turn(out)
    keep = [
        is_protected(u) or i >= tail or _kept_by_selective(window, u) for i, u in enumerate(out)
    ]
    i = 0
    while i < len(out) and window.count_units(out, tools) > goal:
        if keep[i]:
            i += 1
            continue
        report.dropped += len(out.pop(i))
        keep.pop(i)
    return out


def _fold(window: ContextWindow, units: Units, tools: Tools, goal: int) -> tuple[Units, int]:
    """The oldest units to fold into the summary, and the summary's token cap (<= 0: none)."""
    tail = current_turn(units)
    head = [u for u in units if is_protected(u)]
    rest = [u for u in units[:tail] if not is_protected(u)]
    current = [u for u in units[tail:] if not is_protected(u)]
    # the summary must leave room for the current turn under the hard limit: it cannot
    # be dropped later (it is a system message)
    fixed = window.count_units(head + current, tools)
    cap = min(window.settings.summary_max_tokens, window.limit - fixed - 10)
    if cap <= 0:
        return [], cap
    budget = goal - fixed - cap - 10
    # keep the newest turns that fit next to the summary; fold everything older
    kept: Units = []
    for u in reversed(rest):
        if window.count_units([*kept, u], None) > budget:
            break
        kept.insert(0, u)
    if len(kept) == len(rest) and rest:
        kept = rest[1:]  # over the goal with everything kept: fold at least the oldest
    return rest[: len(rest) - len(kept)], cap


def _write_summary(
    window: ContextWindow, units: Units, folded: Units, cap: int, report: WindowReport
) -> str:
    turns = [
        Message(role=m["role"], content=text_of(m.get("content")), name=m.get("name"))
        for u in folded
        for m in u
        if m["role"] in ("user", "assistant") and text_of(m.get("content")).strip()
    ]
    previous = ""
    for u in units:
        content = text_of(u[0].get("content"))
        if is_protected(u) and content.startswith(SUMMARY_PREFIX):
            previous = content[len(SUMMARY_PREFIX) :]
    count = window.counter.count_text

    def offline() -> str:
        from extractors.summary import OfflineSummarizer  # lazy: heavy lexicon imports

        return OfflineSummarizer().summarize(previous, turns, max_tokens=cap, count_tokens=count)

    def failed(stage: str, exc: Exception) -> None:
        report.summary_error = f"{type(exc).__name__}: {exc}"

    # A model-backed summarizer that fails is replaced by the offline one, as in HybridMemory.
    summary: str = Fallback(on_failure=failed).run(
        "summary",
        lambda: window.summarizer.summarize(previous, turns, max_tokens=cap, count_tokens=count),
        offline,
    )
    return window.counter.truncate_text(summary, cap)


def summarize(
    window: ContextWindow, units: Units, tools: Tools, report: WindowReport, goal: int
) -> Units:
    """Fold the oldest turns into one summary system message (replacing an earlier one)."""
    folded, cap = _fold(window, units, tools, goal)
    if not folded:
        return units
    summary = _write_summary(window, units, folded, cap, report)
    report.summarized += sum(len(u) for u in folded)
    report.dropped += sum(len(u) for u in folded)
    folded_ids = {id(u) for u in folded}
    out: Units = []
    placed = False
    for u in units:
        if is_protected(u) and text_of(u[0].get("content")).startswith(SUMMARY_PREFIX):
            continue  # replaced by the new summary
        if id(u) in folded_ids:
            if not placed and summary.strip():
                out.append([{"role": "system", "content": SUMMARY_PREFIX + summary}])
            placed = True
            continue
        out.append(u)
    return out


IMPLEMENTATIONS: dict[str, Strategy] = {
    "truncate": truncate,
    "compact_tools": compact_tools,
    "selective": selective,
    "summarize": summarize,
    "sliding_window": sliding_window,
    "token_window": token_window,
    "delete": delete,
}
"""Strategy name -> implementation."""

STRATEGIES: tuple[str, ...] = tuple(IMPLEMENTATIONS)
"""The names accepted in ``WindowSettings.strategies``."""
