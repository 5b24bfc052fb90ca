"""Bad input over every public method of ``HybridMemory``, property-based (hypothesis).

A call is a public method with valid arguments, some of which are replaced by hostile values:
lone surrogates, control characters, NaN and infinities, integers of 64 bits and beyond,
1,000-deep nesting, huge strings, wrong types, objects whose ``repr`` fails, and shapes built
for each argument (messages, filters, import records). Whatever is sent, the call returns or
raises a ``HybridMemoryError``; a refused call leaves the store as it was (export, vectors,
outbox, audit log, quarantine).

:func:`check_call` is the property (``tests/test_faults.py`` runs it under hypothesis, failing
and shrinking on the first counterexample); :func:`bad_input_run` counts over many examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

SCOPES = ({"user_id": "u1"}, {"user_id": "u2", "run_id": "r1"}, {"agent_id": "a1"})
KNOWN_ID = "known-memory"
T = "2024-01-02T10:00:00Z"


class Hostile:
    """An object that fails whenever it is looked at (repr, str, equality, iteration)."""

    def __repr__(self) -> str:
        raise RuntimeError("repr of a hostile object")

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("equality of a hostile object")

    __hash__ = object.__hash__

    def __iter__(self) -> Any:
        raise RuntimeError("iteration of a hostile object")


def nested(depth: int, leaf: Any = 1, *, as_list: bool = False) -> Any:
    out: Any = leaf
    for _ in range(depth):
        out = [out] if as_list else {"k": out}
    return out


def deep_not(depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {"category": "food"}
    for _ in range(depth):
        out = {"NOT": out}
    return out


SCALARS: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    10**400,
    1.5,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\u202eevil",
    "\n\r\t",
    "x" * 70_000,
    "💥",
    "' OR 1=1 --",
    "%_",
    b"bytes",
    Decimal("NaN"),
    complex(1, 2),
    date(2024, 1, 1),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    1e20,
)
SHAPES: tuple[Any, ...] = (
    list,
    lambda: [None],
    dict,
    lambda: {"a": math.nan},
    lambda: {"\ud800": 1},
    lambda: {1: "int key"},
    lambda: {"a": {1, 2}},
    lambda: nested(1000),
    lambda: nested(1000, as_list=True),
    lambda: nested(20),
    set,
    tuple,
)
"""Made fresh for each call (a call may keep or change what it is given)."""


def hostile() -> st.SearchStrategy[Any]:
    """Any hostile value (built fresh each time: some of them are mutable)."""
    return st.one_of(
        st.sampled_from(SCALARS),
        st.sampled_from(SHAPES).map(lambda make: make()),
        st.builds(Hostile),
        st.text(min_size=0, max_size=20),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def messages() -> st.SearchStrategy[Any]:
    bad = hostile()
    said = {"role": "user", "content": "I like green tea.", "id": "m-x"}
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    return st.one_of(
        bad,
        bad.map(lambda v: {**said, "content": v}),
        bad.map(lambda v: {**said, "name": v}),
        bad.map(lambda v: {**said, "id": v}),
        bad.map(lambda v: {**said, "timestamp": v}),
        bad.map(lambda v: {**said, "role": v}),
        bad.map(lambda v: {"role": "assistant", "tool_calls": v}),
        bad.map(lambda v: {"role": "assistant", "tool_calls": [{**call, "function": v}]}),
        bad.map(lambda v: {"role": "assistant", "tool_calls": [{**call, "id": v}]}),
        bad.map(lambda v: {"role": "tool", "content": "42", "tool_call_id": v}),
        bad.map(lambda v: [said, v]),
        st.just([{"role": "user"}]),
        st.just({"role": "user", "content": "I was born 5000 years ago.", "timestamp": T}),
    )


def filters() -> st.SearchStrategy[Any]:
    bad = hostile()
    return st.one_of(
        bad,
        bad.map(lambda v: {"metadata.category": v}),
        bad.map(lambda v: {"metadata.category": {"gt": v}}),
        bad.map(lambda v: {"metadata.category": {"in": v}}),
        bad.map(lambda v: {"metadata.category": {"contains": v}}),
        bad.map(lambda v: {"created_at": {"gte": v}}),
        bad.map(lambda v: {"AND": v}),
        bad.map(lambda v: {"NOT": v}),
        st.just(deep_not(1000)),
        st.just({f"k{i}": i for i in range(500)}),
        st.just({"metadata.category": {"in": list(range(10_000))}}),
    )


def _memory_record(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "memory",
        "id": "imported-1",
        "memory": "Ana likes tea.",
        "user_id": "u1",
        "created_at": T,
        "updated_at": T,
    }
    return {**base, **fields}


def records() -> st.SearchStrategy[Any]:
    bad = hostile()
    fields = st.sampled_from(
        [
            "id",
            "memory",
            "kind",
            "status",
            "user_id",
            "metadata",
            "sources",
            "entities",
            "subject",
            "hash",
            "importance",
            "created_at",
            "event_time",
            "expires_at",
            "superseded_by",
        ]
    )
    message = {"type": "message", "user_id": "u1", "message": {"role": "user", "content": "hi"}}
    return st.one_of(
        bad,
        bad.map(lambda v: [v]),
        st.tuples(fields, bad).map(lambda fv: [_memory_record(**{fv[0]: fv[1]})]),
        bad.map(lambda v: [{**message, "message": v}]),
        bad.map(lambda v: [{**message, "message": {"role": "user", "content": "hi", "id": v}}]),
        bad.map(
            lambda v: [{"type": "summary", "user_id": "u1", "summary": "s", "turns_folded": v}]
        ),
        st.just([_memory_record(), _memory_record()]),
        st.just([_memory_record(id="")]),
    )


VALID: dict[str, dict[str, Any]] = {
    "add": {"messages": "I like green tea.", "user_id": "u1", "metadata": {"category": "food"}},
    "search": {
        "query": "tea",
        "user_id": "u1",
        "limit": 5,
        "filters": {"metadata.category": "food"},
    },
    "get_context": {"query": "tea", "user_id": "u1", "token_budget": 300, "tiers": ["memories"]},
    "get": {"memory_id": KNOWN_ID, "user_id": "u1"},
    "get_all": {"user_id": "u1", "limit": 10, "include_superseded": True},
    "update": {"memory_id": KNOWN_ID, "text": "Ana likes black tea.", "user_id": "u1"},
    "delete": {"memory_id": "not-there", "user_id": "u1"},
    "delete_all": {"user_id": "scratch"},
    "history": {"memory_id": KNOWN_ID, "user_id": "u1"},
    "export": {"user_id": "u1"},
    "import_records": {"records": [_memory_record()]},
    "get_summary": {"user_id": "u1"},
    "get_buffer": {"user_id": "u2", "run_id": "r1"},
    "get_messages": {"user_id": "u1"},
    "audit_log": {"user_id": "u1"},
    "reprocess": {"user_id": "u1"},
}
EXTRA_ARGS = {
    "add": ("agent_id", "run_id", "infer", "expires_at", "actor"),
    "search": ("threshold", "include_superseded", "run_id"),
    "get_context": ("model", "limit", "filters", "present_ids", "run_id"),
    "get": ("agent_id", "all_scopes"),
    "get_all": ("filters", "agent_id"),
    "update": ("metadata", "actor", "all_scopes"),
    "delete": ("actor", "all_scopes"),
    "delete_all": ("actor", "agent_id"),
    "history": ("run_id", "all_scopes"),
    "export": ("agent_id",),
    "get_summary": ("run_id",),
    "audit_log": ("agent_id",),
    "reprocess": ("agent_id",),
}
SPECIAL = {"messages": messages, "filters": filters, "records": records}


@dataclass(frozen=True)
class Call:
    method: str
    arguments: dict[str, Any]

    def __repr__(self) -> str:  # hypothesis prints it for a counterexample
        shown = {k: _show(v) for k, v in self.arguments.items()}
        return f"memory.{self.method}(**{shown})"


def _show(value: Any) -> str:
    from hybrid_memory.values import short

    return short(value, 120)


@st.composite
def calls(draw: st.DrawFn) -> Call:
    """A public method with valid arguments, one to three of them made hostile."""
    method = draw(st.sampled_from(sorted(VALID)))
    arguments = dict(VALID[method])
    names = list(arguments) + list(EXTRA_ARGS.get(method, ()))
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
        arguments[name] = draw(SPECIAL.get(name, hostile)())
    return Call(method, arguments)


def seed_memory(memory: Any) -> None:
    """What the calls work on: a known memory, messages in two scopes, a scratch scope."""
    memory.import_records([_memory_record(id=KNOWN_ID, metadata={"category": "food"})])
    memory.add("I live in Porto and I like green tea.", user_id="u1", metadata={"n": 1})
    memory.add("Note: the boiler code is 4321.", user_id="u2", run_id="r1", infer=False)
    memory.add("I keep bees.", user_id="scratch")


def snapshot(memory: Any) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    scopes = [*SCOPES, {"user_id": "scratch"}, {"user_id": "u2"}]
    exported = tuple(tuple(sorted(map(repr, memory.export(**s)))) for s in scopes)
    return (
        exported,
        memory.vectors.count(),
        len(memory.records.pending()),
        len(memory.audit_log()),
        len(memory.quarantined()),
    )


@dataclass
class Outcome:
    """What one call did: ``None`` fields mean it behaved."""

    non_project: str | None = None
    changed: str | None = None


def check_call(memory: Any, call: Call) -> Outcome:
    """Make ``call``; it must return or raise a ``HybridMemoryError``, and a refused call must
    change nothing (a ProcessingError stores the messages it quarantines, by design)."""
    from hybrid_memory import HybridMemoryError, ProcessingError

    before = snapshot(memory)
    try:
        getattr(memory, call.method)(**call.arguments)
    except Exception as exc:
        outcome = Outcome()
        if not isinstance(exc, HybridMemoryError):
            outcome.non_project = f"{call!r} raised {type(exc).__name__}: {_show(exc)}"
        if not isinstance(exc, ProcessingError) and snapshot(memory) != before:
            outcome.changed = f"{call!r} raised {type(exc).__name__} and changed the store"
        return outcome
    return Outcome()


def bad_input_run(data_dir: Path, examples: int, *, seed: int = 0) -> Any:
    """``examples`` hostile calls on one memory, then a reopen; returns the figures."""
    import warnings

    from benchmarks.faults import Figures, open_memory, verify_reopen

    figures = Figures()
    memory = open_memory(data_dir)
    seed_memory(memory)

    @fixed_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(call=calls())
    def run(call: Call) -> None:
        outcome = check_call(memory, call)
        figures.bad_inputs += 1
        if outcome.non_project:
            figures.problem("non_project_exceptions", outcome.non_project)
        if outcome.changed:
            figures.problem("changed_on_error", outcome.changed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quarantine and unknown-model warnings are expected
        try:
            run()
        finally:
            memory.close()
    verify_reopen(data_dir, figures)
    return figures
