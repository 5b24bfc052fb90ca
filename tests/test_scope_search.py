"""A small scope in a bigger store is scored exactly from its own ids: the same hits as the
vector index gives, never another scope's, and a neighbour search for consolidation alike."""

from __future__ import annotations

from hybrid_memory import HybridMemory, MemoryConfig

SMALL = [
    "I adopted a grey cat called Miso.",
    "My sister Ana lives in Porto.",
    "I work as a nurse at the children's hospital.",
    "We went hiking near Sintra in May.",
    "My favourite dish is grilled sardines.",
    "I play the cello on Sundays.",
]
QUERIES = ["What is my cat called?", "Where does Ana live?", "What do I play?", "hiking"]


def _config(tmp_path, **overrides) -> MemoryConfig:
    return MemoryConfig(
        data_dir=tmp_path, embedding_model="hashing", llm_from_env=False, **overrides
    )


def _ranked(memory: HybridMemory) -> list[dict[str, float]]:
    """Per query: each hit's dense similarity."""
    return [
        {
            h.id: h.score_details["dense"]
            for h in memory.search(q, user_id="small", include_superseded=True)
        }
        for q in QUERIES
    ]


def test_the_exact_path_gives_the_index_hits(tmp_path):
    # The exact in-process vector index, so that only the path differs (HNSW is approximate).
    with HybridMemory(_config(tmp_path, vectors={"kind": "memory"})) as memory:
        memory.add(
            [{"role": "user", "content": f"Big user note {i} about cats, Porto and cellos."}
             for i in range(80)],
            user_id="big",
            infer=False,
        )  # fmt: skip
        memory.add([{"role": "user", "content": t} for t in SMALL], user_id="small", infer=False)
        small_ids = {m.id for m in memory.get_all(user_id="small")}
        exact = _ranked(memory)  # 6 of 86 memories: scored exactly from the scope's ids
        memory.config.retrieval.exact_scope_limit = 0
        indexed = _ranked(memory)  # the vector index, filtered by scope
    # The same hits with the same similarities (equal ones may be ranked either way).
    assert [set(hits) for hits in exact] == [set(hits) for hits in indexed]
    for mine, theirs in zip(exact, indexed, strict=True):
        assert all(abs(mine[i] - theirs[i]) < 1e-5 for i in mine)
    assert all(hits for hits in exact)
    assert {i for hits in exact for i in hits} <= small_ids


def test_a_small_scope_finds_its_duplicates_without_the_index(tmp_path):
    with HybridMemory(_config(tmp_path)) as memory:
        memory.add("I adopted a grey cat called Miso.", user_id="other", infer=False)
        memory.add("I adopted a grey cat called Miso.", user_id="small", infer=False)
        again = memory.add("I adopted a GREY cat called Miso!", user_id="small", infer=False)
        assert [e.event.value for e in again.results] == ["NONE"]  # a duplicate of its own
        first = memory.add("I adopted a GREY cat called Miso!", user_id="third", infer=False)
        assert [e.event.value for e in first.results] == ["ADD"]  # others' do not count
        assert len(memory.get_all(user_id="small")) == 1


def test_a_large_scope_judges_common_words_by_its_most_recent_memories(tmp_path):
    """Whether a query word is too common to search for is judged on the COMMON_SAMPLE most
    recent memories of a large selection, so the cost of a new word stays bounded (a smaller
    selection is judged on all of its memories: tests/test_store_conformance.py)."""
    from datetime import UTC, datetime

    from hybrid_memory.models import MemoryItem, Scope
    from stores.base import MemoryQuery
    from stores.sqlite import SQLiteRecordStore
    from stores.sqlite.reads import COMMON_SAMPLE

    def item(memory_id: str, text: str) -> MemoryItem:
        now = datetime(2024, 1, 1, tzinfo=UTC)
        return MemoryItem(id=memory_id, memory=text, user_id="alice", hash=f"h-{memory_id}",
                          created_at=now, updated_at=now)  # fmt: skip

    harbour = [item(f"o{n}", f"Ana walked by the harbour {n}.") for n in range(COMMON_SAMPLE // 2)]
    # 70% of these mention tea: 58% of the whole scope with the harbour walks.
    tea = [
        item(f"r{n}", f"Ana had tea {n}." if n % 10 < 7 else f"Ana read a novel {n}.")
        for n in range(COMMON_SAMPLE)
    ]
    found = {}
    for name, order in (("tea last", [*harbour, *tea]), ("tea first", [*tea, *harbour])):
        records = SQLiteRecordStore(tmp_path / f"{name}.db")
        with records.unit_of_work() as uow:
            for memory in order:
                uow.insert_memory(memory)
        hits = records.lexical_search(
            Scope(user_id="alice"), "tea harbour", limit=5000, query=MemoryQuery()
        )
        found[name] = {i for i, _ in hits}
        records.close()
    # Among the most recent memories 70% mention tea: only "harbour" is searched for.
    assert found["tea last"] == {m.id for m in harbour}
    # There 35% do (the harbour walks are the most recent): both words are searched for.
    assert found["tea first"] == {m.id for m in harbour} | {m.id for m in tea if "tea" in m.memory}


def _sqlite_work(memory: HybridMemory, call) -> int:
    """SQLite virtual-machine steps (in tens) that ``call`` costs, over the writer and every
    pooled reader connection of the record store (a count that does not depend on the
    machine's speed)."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    store = memory.records
    connections = [store._conn, *store._opened]  # white-box: the store's own connections
    for conn in connections:
        conn.set_progress_handler(tick, 10)
    try:
        call()
    finally:
        for conn in connections:
            conn.set_progress_handler(None, 0)
    return steps[0]


def test_the_cost_of_an_add_and_a_search_does_not_follow_the_scope_size(tmp_path):
    # Look-ups by id, hash and message id, a scope's latest turns, the next history number,
    # a user's facts of one attribute, the scope's time span and the sample that judges common
    # words each once read the whole scope: an add at 30,000 memories cost five times one at
    # 1,000. (The query's words are rare in the filler, as in a real scope: BM25 reads the
    # postings of every word it keeps.)
    def fill(memory: HybridMemory, start: int, stop: int) -> None:
        for first in range(start, stop, 500):
            memory.add(
                [
                    {"role": "user", "content": f"Note {i}: {i % 37} dogs out.", "id": f"n{i}"}
                    for i in range(first, min(stop, first + 500))
                ],
                user_id="u",
                infer=False,
            )  # fmt: skip

    def one_add(memory: HybridMemory, n: int) -> int:
        message = {"role": "user", "content": f"I adopted a cat called Miso {n}.", "id": f"m{n}"}
        return _sqlite_work(memory, lambda: memory.add(message, user_id="u"))

    def one_search(memory: HybridMemory) -> int:
        return _sqlite_work(memory, lambda: memory.search("What is the cat called?", user_id="u"))

    with HybridMemory(_config(tmp_path)) as memory:
        fill(memory, 0, 200)
        memory.search("warm the reader pool", user_id="u")
        small_add, small_search = one_add(memory, 1), one_search(memory)
        fill(memory, 200, 2400)  # twelve times the memories
        big_add, big_search = one_add(memory, 2), one_search(memory)
    assert small_add > 0 and small_search > 0
    assert big_add < 3 * small_add, (small_add, big_add)
    assert big_search < 3 * small_search, (small_search, big_search)
