"""Context packing on its own: the budget guarantee, tier order, dedup and what is dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_memory.context import INSTRUCTIONS, build_context
from hybrid_memory.messages import to_chat
from hybrid_memory.models import MemoryHit, MemoryKind, Message
from hybrid_memory.tokens import TokenCounter

T0 = datetime(2024, 1, 1, tzinfo=UTC)
COUNTER = TokenCounter.for_model("gpt-4o-mini")


def hit(i: int, text: str, kind=MemoryKind.FACT, sources=None, score=None) -> MemoryHit:
    return MemoryHit(
        id=f"h{i}",
        memory=text,
        kind=kind,
        user_id="u",
        sources=sources or [f"old{i}"],
        created_at=T0,
        updated_at=T0,
        event_time=T0 + timedelta(days=i),
        score=score if score is not None else 1.0 - i / 100,
    )


def turn(i: int, text: str) -> tuple[Message, dict]:
    message = Message(
        role="user" if i % 2 == 0 else "assistant",
        content=text,
        id=f"t{i}",
        name="Ana" if i % 2 == 0 else None,
    )
    return message, to_chat(message)


HITS = [
    hit(i, f"Ana mentioned fact number {i} about her trip to Kyoto in spring.") for i in range(30)
]
RECENT = [turn(i, f"Turn {i}: we talked about the museum and the weather.") for i in range(8)]
SUMMARY = " ".join(f"On {d} January 2024, Ana visited place {d}." for d in range(1, 15))


def test_layout_and_order():
    ctx = build_context(
        hits=HITS[:3],
        summary="Ana lives in Lisbon.",
        recent=RECENT[-2:],
        token_budget=4000,
        counter=COUNTER,
    )
    system = ctx.messages[0]
    assert system["role"] == "system" and system["content"].startswith(INSTRUCTIONS)
    body = system["content"]
    assert body.index("## Relevant memories") < body.index("## Summary of the earlier")
    assert "- [2024-01-01] Ana mentioned fact number 0" in body
    assert [m["content"] for m in ctx.messages[1:]] == [c["content"] for _, c in RECENT[-2:]]
    assert ctx.tokens == COUNTER.count_messages(ctx.messages)
    assert [h.id for h in ctx.memories] == ["h0", "h1", "h2"] and ctx.dropped == []


def test_observations_of_recent_turns_are_not_repeated():
    obs = hit(
        0, "On 1 January 2024, Ana said: Turn 7 ...", kind=MemoryKind.OBSERVATION, sources=["t6"]
    )
    ctx = build_context(
        hits=[obs, HITS[1]], summary="", recent=RECENT, token_budget=4000, counter=COUNTER
    )
    assert [h.id for h in ctx.memories] == ["h1"]


def test_tight_budget_keeps_the_newest_turns_and_best_memories():
    ctx = build_context(
        hits=HITS, summary=SUMMARY, recent=RECENT, token_budget=300, counter=COUNTER
    )
    assert ctx.tokens <= 300
    kept_turns = [m["content"] for m in ctx.recent]
    assert kept_turns and kept_turns[-1] == RECENT[-1][1]["content"]
    # turns are a contiguous tail
    all_turns = [c["content"] for _, c in RECENT]
    assert all_turns[-len(kept_turns) :] == kept_turns
    # memories are the best-ranked ones, in rank order
    ids = [h.id for h in ctx.memories]
    assert ids == [f"h{i}" for i in range(len(ids))]
    dropped = {(d.tier, d.id) for d in ctx.dropped}
    assert ("memories", "h29") in dropped
    assert {d.tier for d in ctx.dropped} >= {"memories", "recent"}
    # the summary contributes its newest sentences when it cannot fit whole
    if ctx.summary:
        assert ctx.summary.endswith("Ana visited place 14.")


def test_room_a_tier_leaves_goes_to_the_best_memories_before_older_turns():
    # No summary and no profile: their shares are free. The recent turns keep their own share
    # (a contiguous tail); the free room goes to memories ranked by relevance first.
    long_recent = [
        turn(i, f"Turn {i}: we talked about the museum and the weather.") for i in range(60)
    ]
    ctx = build_context(
        hits=HITS, summary="", recent=long_recent, token_budget=1000, counter=COUNTER
    )
    assert ctx.tokens <= 1000
    assert ctx.sections["recent"] <= 0.30 * 1000
    assert ctx.sections["memories"] > 0.40 * 1000
    assert [h.id for h in ctx.memories] == [f"h{i}" for i in range(len(ctx.memories))]
    kept = [m["content"] for m in ctx.recent]
    assert kept == [c["content"] for _, c in long_recent][-len(kept) :]
    # with few memories, the room they leave still goes to the conversation
    few = build_context(
        hits=HITS[:2], summary="", recent=long_recent, token_budget=1000, counter=COUNTER
    )
    assert few.sections["recent"] > 0.30 * 1000
    assert len(few.memories) == 2


def test_estimates_are_labelled():
    counter = TokenCounter.for_model("claude-3-5-sonnet-20241022")
    ctx = build_context(
        hits=HITS[:2], summary="", recent=RECENT[-1:], token_budget=500, counter=counter
    )
    assert ctx.exact is False and ctx.model.startswith("claude")
    assert ctx.tokens == counter.count_messages(ctx.messages) <= 500


@settings(max_examples=150, deadline=None)
@given(
    budget=st.integers(min_value=0, max_value=2500),
    n_hits=st.integers(min_value=0, max_value=30),
    n_turns=st.integers(min_value=0, max_value=8),
    with_summary=st.booleans(),
)
def test_budget_is_never_exceeded(budget, n_hits, n_turns, with_summary):
    ctx = build_context(
        hits=HITS[:n_hits],
        summary=SUMMARY if with_summary else "",
        recent=RECENT[len(RECENT) - n_turns :],
        token_budget=budget,
        counter=COUNTER,
    )
    assert ctx.tokens == COUNTER.count_messages(ctx.messages) <= budget
    assert sum(ctx.sections.values()) == ctx.tokens
    included = len(ctx.memories) + len(ctx.recent) + (1 if ctx.summary else 0)
    assert (included == 0) == (ctx.messages == [])


def test_an_utterance_s_own_date_is_shown_once():
    said = hit(1, "On 2 January 2024, Ana said: the museum opens at nine.")  # dated 2 January
    other = hit(2, "On 5 March 2020, Ana said: the museum opened.")  # not the memory's date
    ctx = build_context(
        hits=[said, other], summary="", recent=[], token_budget=500, counter=COUNTER
    )
    body = ctx.messages[0]["content"]
    assert "- [2024-01-02] Ana said: the museum opens at nine." in body
    assert "- [2024-01-03] On 5 March 2020, Ana said: the museum opened." in body
