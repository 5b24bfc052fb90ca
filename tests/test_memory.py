"""HybridMemory end to end: tiers, consolidation, history, filters, isolation, bad input.

Runs the real chromadb and SQLite. Tests marked ``real_embedder`` use all-MiniLM-L6-v2; the rest
use the deterministic hashing embedder so the suite stays fast.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hybrid_memory import (
    EventType,
    FilterError,
    HybridMemory,
    InputTooLargeError,
    MemoryConfig,
    MemoryKind,
    MemoryNotFoundError,
    MessageFormatError,
    ScopeError,
    TokenBudgetError,
    UserInputError,
)
from hybrid_memory.config import BufferConfig, SummaryConfig
from hybrid_memory.tokens import TokenCounter


@pytest.fixture
def memory(tmp_path, hashing_embedder):
    mem = HybridMemory(MemoryConfig(data_dir=tmp_path / "mem", embedder=hashing_embedder))
    yield mem
    mem.close()


@pytest.fixture
def real_memory(tmp_path, real_embedder):
    mem = HybridMemory(MemoryConfig(data_dir=tmp_path / "real", embedder=real_embedder))
    yield mem
    mem.close()


def say(text, mid, when="2023-05-08T13:56:00", name="Caroline"):
    return {"role": "user", "name": name, "content": text, "id": mid, "timestamp": when}


def state(mem: HybridMemory, **scope):
    """Everything stored for a scope, to compare before/after a refused call."""
    return (
        [(m.id, m.memory, m.status) for m in mem.get_all(**scope, include_superseded=True)],
        [m.id for m in mem.get_messages(**scope)],
        mem.vectors.count(),
    )


# -- the example of the README, with the real model -----------------------------------------------


def test_add_search_context_with_real_embedder(real_memory):
    res = real_memory.add(
        [say("I moved to Boston last spring.", "m1")], user_id="caroline", run_id="chat-1"
    )
    assert res.message_ids == ["m1"]
    assert any(e.event == EventType.ADD for e in res.results)
    hits = real_memory.search("Where does Caroline live?", user_id="caroline", limit=10)
    assert hits, "nothing found"
    top = hits[0]
    assert "Boston" in top.memory
    assert top.sources == ["m1"]
    assert top.event_time is not None and top.event_time.year in (2022, 2023)
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    ctx = real_memory.get_context(
        "Where does Caroline live?",
        user_id="caroline",
        run_id="chat-1",
        token_budget=1500,
        model="gpt-4o-mini",
    )
    counter = TokenCounter.for_model("gpt-4o-mini")
    assert ctx.exact
    assert ctx.tokens == counter.count_messages(ctx.messages) <= 1500
    assert sum(ctx.sections.values()) == ctx.tokens
    assert "Boston" in ctx.text
    assert ctx.messages[-1]["content"] == "I moved to Boston last spring."


def test_semantic_search_ranks_the_relevant_memory_first(real_memory):
    turns = [
        say("My favourite food is sushi, I eat it every Friday.", "a"),
        say("I adopted a cat named Luna in March.", "b"),
        say("I work as a software engineer at Google.", "c"),
        say("I go hiking in the Alps every summer.", "d"),
    ]
    real_memory.add(turns, user_id="u")
    expectations = {
        "What pet does she have?": "b",
        "What does she do for a living?": "c",
        "Which cuisine does she like?": "a",
        "Where does she spend her summer holidays?": "d",
    }
    for question, source in expectations.items():
        hits = real_memory.search(question, user_id="u", limit=3)
        assert source in hits[0].sources, (question, [h.memory for h in hits])


# -- consolidation and history ----------------------------------------------------------------


def test_duplicate_is_none_and_adds_nothing(memory):
    memory.add(say("I live in Boston.", "m1"), user_id="c")
    before = len(memory.get_all(user_id="c"))
    res = memory.add(say("I live in Boston.", "m2"), user_id="c")
    assert res.results and all(e.event == EventType.NONE for e in res.results)
    assert len(memory.get_all(user_id="c")) == before
    # the repeated statement is linked to both messages
    fact = next(m for m in memory.get_all(user_id="c") if m.kind == MemoryKind.FACT)
    assert fact.sources == ["m1", "m2"]


def test_re_adding_the_same_message_id_is_idempotent(memory):
    first = memory.add(say("I live in Boston.", "m1"), user_id="c")
    again = memory.add(say("I live in Boston.", "m1"), user_id="c")
    assert first.results and again.results == []
    assert [m.id for m in memory.get_messages(user_id="c")] == ["m1"]


def test_new_value_updates_and_old_value_stays_findable(memory):
    memory.add(say("I live in Boston.", "m1", "2022-01-10T10:00:00"), user_id="c")
    res = memory.add(say("I live in Denver now.", "m2", "2023-06-01T10:00:00"), user_id="c")
    updates = res.events(EventType.UPDATE)
    assert len(updates) == 1, res.results
    upd = updates[0]
    assert "Boston" in upd.previous_memory and "Denver" in upd.memory

    current = memory.get(upd.id, user_id="c")
    assert "Denver" in current.memory
    assert current.valid_from == datetime(2023, 6, 1, 10, tzinfo=UTC)
    history = memory.history(upd.id, user_id="c")
    assert [h.event for h in history] == [EventType.ADD, EventType.UPDATE]
    assert "Boston" in history[1].old_memory and "Denver" in history[1].new_memory

    facts = [m for m in memory.get_all(user_id="c") if m.kind == MemoryKind.FACT]
    assert not any("Boston" in m.memory for m in facts), "superseded value still current"
    former = [
        m for m in memory.get_all(user_id="c", include_superseded=True) if m.status == "superseded"
    ]
    old = [m for m in former if m.kind == MemoryKind.FACT]
    assert len(old) == 1 and "Boston" in old[0].memory
    # the utterance that stated it is a former statement now, closed with it
    quotes = [m for m in former if m.kind == MemoryKind.OBSERVATION]
    assert len(quotes) == 1 and "Boston" in quotes[0].memory
    assert old[0].valid_to == datetime(2023, 6, 1, 10, tzinfo=UTC)
    assert old[0].superseded_by == upd.id

    now_hits = memory.search("Where does Caroline live?", user_id="c", limit=5)
    first_fact = next(h for h in now_hits if h.kind == MemoryKind.FACT)
    assert "Denver" in first_fact.memory
    before_hits = memory.search("Where did Caroline live before?", user_id="c", limit=10)
    assert any("Boston" in h.memory and h.status == "superseded" for h in before_hits)


def test_retraction_deletes_the_fact_but_keeps_the_utterance(memory):
    memory.add(say("I work at Google.", "m1", "2022-01-10T10:00:00"), user_id="c")
    res = memory.add(
        say("I don't work at Google anymore.", "m2", "2023-02-01T10:00:00"), user_id="c"
    )
    deletes = [e for e in res.events(EventType.DELETE) if e.kind == MemoryKind.FACT]
    assert len(deletes) == 1, res.results
    assert "Google" in deletes[0].previous_memory
    history = memory.history(deletes[0].id, user_id="c")
    assert [h.event for h in history] == [EventType.ADD, EventType.DELETE]
    current = memory.get_all(user_id="c")
    assert not any(m.kind == MemoryKind.FACT and "works at Google" in m.memory for m in current)
    # the retraction itself is remembered as an observation
    assert any(m.kind == MemoryKind.OBSERVATION and "anymore" in m.memory for m in current)


def test_junk_is_not_remembered(memory):
    res = memory.add(
        [say("hi!", "j1"), say("ok", "j2"), say("thanks!", "j3"), say("lol", "j4")], user_id="c"
    )
    assert res.results == []
    assert memory.get_all(user_id="c") == []
    # but the turns are kept in the buffer
    assert [m.id for m in memory.get_buffer(user_id="c")] == ["j1", "j2", "j3", "j4"]


def test_infer_false_stores_verbatim(memory):
    res = memory.add(
        [say("Remember: the wifi password is hunter2", "v1")],
        user_id="c",
        infer=False,
        metadata={"category": "secrets"},
    )
    assert [(e.event, e.memory) for e in res.results] == [
        (EventType.ADD, "Remember: the wifi password is hunter2")
    ]
    (item,) = memory.get_all(user_id="c")
    assert item.metadata == {"category": "secrets"} and item.sources == ["v1"]


def test_update_and_delete_by_id_with_history(memory):
    memory.add(say("I like tea.", "m1"), user_id="c", infer=False)
    (item,) = memory.get_all(user_id="c")
    updated = memory.update(
        item.id, "Caroline likes green tea.", metadata={"src": "manual"}, user_id="c"
    )
    assert updated.memory == "Caroline likes green tea." and updated.metadata["src"] == "manual"
    assert memory.search("green tea", user_id="c")[0].id == item.id
    memory.delete(item.id, user_id="c")
    with pytest.raises(MemoryNotFoundError):
        memory.get(item.id, user_id="c")
    assert memory.search("green tea", user_id="c") == []
    events = [h.event for h in memory.history(item.id, user_id="c")]
    assert events == [EventType.ADD, EventType.UPDATE, EventType.DELETE]


def test_expired_memories_are_not_returned(memory):
    past = datetime.now(UTC) - timedelta(days=1)
    future = datetime.now(UTC) + timedelta(days=1)
    memory.add(say("The door code is 1234.", "e1"), user_id="c", infer=False, expires_at=past)
    memory.add(
        say("The gate code is 9876.", "e2"), user_id="c", infer=False, expires_at=future.isoformat()
    )
    texts = [m.memory for m in memory.get_all(user_id="c")]
    assert texts == ["The gate code is 9876."]
    assert [h.memory for h in memory.search("code", user_id="c")] == ["The gate code is 9876."]


# -- buffer and summary tiers -----------------------------------------------------------------


def test_buffer_is_bounded_and_overflow_folds_into_the_summary(tmp_path, hashing_embedder):
    cfg = MemoryConfig(
        data_dir=tmp_path / "m",
        embedder=hashing_embedder,
        buffer=BufferConfig(max_tokens=60, max_turns=4),
        summary=SummaryConfig(max_tokens=80),
    )
    counter = TokenCounter.for_model(cfg.summary.token_model)
    with HybridMemory(cfg) as mem:
        for i in range(12):
            mem.add(
                say(f"On day {i} I visited museum number {i} in Paris with Tom.", f"t{i}"),
                user_id="c",
                run_id="r1",
            )
        buffer = mem.get_buffer(user_id="c", run_id="r1")
        assert 1 <= len(buffer) <= 4
        assert buffer[-1].id == "t11"
        summary = mem.get_summary(user_id="c", run_id="r1")
        assert summary and counter.count_text(summary) <= 80
        # another run of the same user has its own buffer and summary
        mem.add(say("Hello from another chat about Rome.", "o1"), user_id="c", run_id="r2")
        assert [m.id for m in mem.get_buffer(user_id="c", run_id="r2")] == ["o1"]
        assert mem.get_summary(user_id="c", run_id="r2") == ""
        # every turn is still stored
        assert len(mem.get_messages(user_id="c")) == 13


# -- the budget guarantee -------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4", "claude-3-5-sonnet-20241022"])
def test_context_never_exceeds_the_budget(tmp_path, hashing_embedder, model):
    cfg = MemoryConfig(
        data_dir=tmp_path / "m",
        embedder=hashing_embedder,
        buffer=BufferConfig(max_tokens=300, max_turns=10),
    )
    with HybridMemory(cfg) as mem:
        for i in range(30):
            mem.add(
                say(
                    f"Fact {i}: I met my friend Sam {i} times in Berlin and we cooked "
                    f"pasta number {i}.",
                    f"b{i}",
                ),
                user_id="c",
                run_id="r",
            )
        counter = TokenCounter.for_model(model)
        seen_full = False
        for budget in [0, 1, 2, 5, 10, 20, 50, 80, 120, 200, 350, 500, 800, 1500, 4000]:
            ctx = mem.get_context(
                "Where did I meet Sam?", user_id="c", run_id="r", token_budget=budget, model=model
            )
            assert ctx.tokens <= budget
            assert ctx.tokens == counter.count_messages(ctx.messages)
            assert ctx.exact == counter.exact
            assert sum(ctx.sections.values()) == ctx.tokens
            included = {m.id for m in ctx.memories}
            assert not included & {d.id for d in ctx.dropped if d.tier == "memories"}
            if budget == 0:
                assert ctx.messages == []
            if budget >= 1500:
                seen_full = True
                assert ctx.memories and ctx.recent and ctx.summary
        assert seen_full


def test_negative_budget_is_refused(memory):
    with pytest.raises(TokenBudgetError):
        memory.get_context("x", user_id="c", token_budget=-1)


# -- isolation --------------------------------------------------------------------------------


def test_users_never_see_each_other(memory):
    memory.add(say("My secret project is called Falcon.", "a1", name="Alice"), user_id="alice")
    memory.add(say("My secret project is called Osprey.", "b1", name="Bob"), user_id="bob")
    for user, own, other in (("alice", "Falcon", "Osprey"), ("bob", "Osprey", "Falcon")):
        hits = memory.search("secret project", user_id=user, limit=100)
        assert hits and all(h.user_id == user for h in hits)
        assert any(own in h.memory for h in hits) and not any(other in h.memory for h in hits)
        # filters can only narrow, never widen the scope
        widened = memory.search(
            "secret project",
            user_id=user,
            limit=100,
            filters={"OR": [{"user_id": "alice"}, {"user_id": "bob"}]},
        )
        assert all(h.user_id == user for h in widened)
        assert not memory.search("secret", user_id=user, filters={"user_id": other.lower()})
        ctx = memory.get_context("secret project", user_id=user, token_budget=2000)
        assert other not in ctx.text
    alice_item = memory.get_all(user_id="alice")[0]
    with pytest.raises(MemoryNotFoundError):
        memory.get(alice_item.id, user_id="bob")
    with pytest.raises(MemoryNotFoundError):
        memory.delete(alice_item.id, user_id="bob")
    with pytest.raises(MemoryNotFoundError):
        memory.update(alice_item.id, "hijacked", user_id="bob")
    with pytest.raises(MemoryNotFoundError):
        memory.history(alice_item.id, user_id="bob")
    assert memory.delete_all(user_id="alice") > 0
    assert memory.get_all(user_id="alice") == []
    assert memory.get_all(user_id="bob"), "delete_all of one user wiped another"


def test_agent_and_run_scopes_narrow(memory):
    memory.add(say("I prefer window seats.", "r1"), user_id="u", agent_id="travel", run_id="x")
    memory.add(say("I prefer dark mode.", "r2"), user_id="u", agent_id="coder", run_id="y")
    assert len(memory.search("prefer", user_id="u", limit=50)) >= 2
    travel = memory.search("prefer", user_id="u", agent_id="travel", limit=50)
    assert travel and all(h.agent_id == "travel" for h in travel)
    assert all(h.run_id == "y" for h in memory.search("prefer", run_id="y", limit=50))


# -- filters ----------------------------------------------------------------------------------


def test_metadata_filters_in_search_and_get_all(memory):
    for i, (cat, prio) in enumerate([("food", 1), ("travel", 2), ("food", 3), ("work", 4)]):
        memory.add(
            say(f"Note {i} about {cat} things", f"f{i}"),
            user_id="c",
            infer=False,
            metadata={"category": cat, "priority": prio},
        )
    food = memory.search("note", user_id="c", filters={"metadata.category": "food"}, limit=10)
    assert sorted(h.metadata["priority"] for h in food) == [1, 3]
    high = memory.get_all(user_id="c", filters={"metadata.priority": {"gte": 3}})
    assert sorted(m.metadata["priority"] for m in high) == [3, 4]
    either = memory.get_all(
        user_id="c",
        filters={"OR": [{"metadata.category": "travel"}, {"metadata.priority": {"gt": 3}}]},
    )
    assert sorted(m.metadata["category"] for m in either) == ["travel", "work"]
    with pytest.raises(FilterError):
        memory.search("note", user_id="c", filters={"metadata.priority": {"between": [1, 2]}})


# -- bad input: typed errors, nothing written -----------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.add("hello there, I live in Rome"), ScopeError),
        (lambda m: m.add("I live in Rome", user_id=""), ScopeError),
        (lambda m: m.add("I live in Rome", user_id=None, agent_id=" "), ScopeError),
        (lambda m: m.add({"role": "user", "content": 3}, user_id="c"), MessageFormatError),
        (
            lambda m: m.add(
                [{"role": "user", "content": "ok I live in Rome"}, {"role": "x"}], user_id="c"
            ),
            MessageFormatError,
        ),
        (lambda m: m.add([], user_id="c"), MessageFormatError),
        (lambda m: m.add("x" * 60_000, user_id="c"), InputTooLargeError),
        (lambda m: m.add("I live in Rome", user_id="c", metadata=["x"]), UserInputError),
        (lambda m: m.add("I live in Rome", user_id="c", metadata={"x": object()}), UserInputError),
        (lambda m: m.add("I live in Rome", user_id="c", expires_at="soon"), UserInputError),
        (lambda m: m.add("I live in Rome", user_id="c", infer="yes"), UserInputError),
        (lambda m: m.search("", user_id="c"), UserInputError),
        (lambda m: m.search(5, user_id="c"), UserInputError),
        (lambda m: m.search("rome", user_id="c", limit=0), UserInputError),
        (lambda m: m.search("rome", user_id="c", threshold=2), UserInputError),
        (lambda m: m.search("rome"), ScopeError),
        (
            lambda m: m.search("rome", user_id="c", filters={"metadata.a": {"bogus": 1}}),
            FilterError,
        ),
        (lambda m: m.get("no-such-id", user_id="c"), MemoryNotFoundError),
        (lambda m: m.update("no-such-id", "text", user_id="c"), MemoryNotFoundError),
        (lambda m: m.update("", "text"), UserInputError),
        (lambda m: m.delete("no-such-id", user_id="c"), MemoryNotFoundError),
        (lambda m: m.history("no-such-id", user_id="c"), MemoryNotFoundError),
        (lambda m: m.get("no-such-id"), ScopeError),
        (lambda m: m.update("no-such-id", "text"), ScopeError),
        (lambda m: m.delete("no-such-id"), ScopeError),
        (lambda m: m.history("no-such-id"), ScopeError),
        (lambda m: m.delete_all(), ScopeError),
        (lambda m: m.get_context("rome", user_id="c", token_budget="100"), TokenBudgetError),
        (lambda m: m.import_records([{"type": "memory", "id": "x"}]), UserInputError),
    ],
)
def test_bad_input_is_a_typed_error_and_writes_nothing(memory, call, error):
    memory.add(say("I live in Rome.", "seed"), user_id="c")
    before = state(memory, user_id="c")
    with pytest.raises(error) as info:
        call(memory)
    assert str(info.value), "an error must say what to change"
    assert state(memory, user_id="c") == before


# -- export / import --------------------------------------------------------------------------


def test_export_import_round_trip(tmp_path, hashing_embedder, memory):
    memory.add(say("I live in Boston.", "m1", "2022-01-01T00:00:00"), user_id="c", run_id="r")
    memory.add(say("I live in Denver now.", "m2", "2023-01-01T00:00:00"), user_id="c", run_id="r")
    records = memory.export(user_id="c")
    kinds = {r["type"] for r in records}
    assert {"memory", "message"} <= kinds
    other = HybridMemory(MemoryConfig(data_dir=tmp_path / "other", embedder=hashing_embedder))
    counts = other.import_records(records)
    assert counts["memories"] == sum(r["type"] == "memory" for r in records)
    assert other.import_records(records) == {"memories": 0, "messages": 0, "summaries": 0}
    a = sorted(
        (m.id, m.memory, m.status) for m in memory.get_all(user_id="c", include_superseded=True)
    )
    b = sorted(
        (m.id, m.memory, m.status) for m in other.get_all(user_id="c", include_superseded=True)
    )
    assert a == b
    assert (
        other.search("Denver", user_id="c")[0].memory
        == memory.search("Denver", user_id="c")[0].memory
    )
    other.close()


# -- concurrency ------------------------------------------------------------------------------


def test_concurrent_identical_adds_store_one_memory(memory):
    """Threads adding the same statement at once: one ADD, the rest NONE, no 'database is
    locked'."""
    from concurrent.futures import ThreadPoolExecutor

    def add(i):
        return memory.add(say("I keep bees in my garden.", f"c{i}"), user_id="c", infer=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(16)))
    events = [r.results[0].event for r in results]
    assert events.count(EventType.ADD) == 1 and events.count(EventType.NONE) == 15
    assert len(memory.get_all(user_id="c")) == 1
    assert len(memory.get_messages(user_id="c")) == 16


def test_a_dominant_user_and_a_small_one_stay_apart(memory):
    """The vector store is queried unfiltered when the caller's scope is most of it; hits of
    other scopes must still never come back, for the big scope or the small one."""
    memory.add(
        [say(f"Note {i}: the garden shed holds tool number {i}.", f"g{i}") for i in range(40)],
        user_id="big",
        infer=False,
    )
    memory.add(
        say("The garden shed key is under the blue pot.", "s1"), user_id="small", infer=False
    )
    big = memory.search("garden shed", user_id="big", limit=100)
    small = memory.search("garden shed", user_id="small", limit=100)
    assert len(big) == 40 and all(h.user_id == "big" for h in big)
    assert [h.memory for h in small] == ["The garden shed key is under the blue pot."]


def test_context_tiers_and_messages_already_sent(memory):
    texts = [
        "I go sailing on Lake Geneva every summer.",
        "My sailing boat is a red dinghy called Mistral.",
        "Next year I want to try sailing across the Channel.",
    ]
    memory.add([say(t, f"s{i}") for i, t in enumerate(texts)], user_id="c", run_id="r")
    full = memory.get_context("sailing", user_id="c", run_id="r", token_budget=800)
    assert full.recent_ids == ["s0", "s1", "s2"]
    only = memory.get_context(
        "sailing", user_id="c", run_id="r", token_budget=800, tiers=["memories"]
    )
    assert only.recent == [] and only.summary is None and only.sections["recent"] == 0
    assert len(only.messages) == 1 and only.messages[0]["role"] == "system"
    # without the recent tier the observations of those turns come back as memories...
    observed = {s for m in only.memories if m.kind == "observation" for s in m.sources}
    assert observed == {"s0", "s1", "s2"}
    # ...unless the caller says it sends them verbatim anyway
    skipped = memory.get_context(
        "sailing",
        user_id="c",
        run_id="r",
        token_budget=800,
        tiers=["memories"],
        present_ids=["s0", "s1"],
    )
    observed = {s for m in skipped.memories if m.kind == "observation" for s in m.sources}
    assert observed == {"s2"}
    for bad in ({"tiers": "memories"}, {"tiers": ["facts"]}, {"present_ids": "s0"}):
        with pytest.raises(UserInputError):
            memory.get_context("sailing", user_id="c", token_budget=100, **bad)
