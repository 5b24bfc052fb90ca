"""One conformance suite for the storage contract (``stores/base.py``), run against every backend.

The in-memory backend is the executable definition of the contract; the embedded SQLite +
chroma backends (the defaults), PostgreSQL + a Chroma server (started once per test session)
and PostgreSQL + Qdrant (local mode) must behave the same. Each PostgreSQL store gets a schema
of its own, dropped after its test, so parallel runs never meet. A new backend joins by adding
a factory to ``BACKENDS``. Everything here goes through the protocols, the way the memory uses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hybrid_memory.errors import EmbedderMismatchError, StoreError
from hybrid_memory.filters import parse_filter
from hybrid_memory.models import (
    AuditEntry,
    EventType,
    HistoryEntry,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    Scope,
)
from stores.base import (
    ALL_STATUSES,
    MemoryQuery,
    RecordStore,
    RunSummary,
    UnitOfWork,
    VectorOp,
    VectorStore,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _inmemory(tmp_path) -> tuple[RecordStore, VectorStore]:
    from stores.inmemory import InMemoryRecordStore, InMemoryVectorStore

    return InMemoryRecordStore(), InMemoryVectorStore()


def _embedded(tmp_path) -> tuple[RecordStore, VectorStore]:
    from stores.chroma import ChromaVectorStore
    from stores.sqlite import SQLiteRecordStore

    return SQLiteRecordStore(tmp_path / "memory.db"), ChromaVectorStore(tmp_path / "chroma")


def _embedded_cached(tmp_path) -> tuple[RecordStore, VectorStore]:
    """What the memory opens: chroma behind the in-process vector cache, opened on first use."""
    from stores.chroma import ChromaVectorStore
    from stores.sqlite import SQLiteRecordStore
    from stores.vector_cache import CachedVectorStore

    vectors = CachedVectorStore(lambda: ChromaVectorStore(tmp_path / "chroma"), lazy=True)
    return SQLiteRecordStore(tmp_path / "memory.db"), vectors


def _postgres(request, tmp_path) -> RecordStore:
    """A PostgreSQL record store in a schema of its own, dropped after the test."""
    from stores.postgres import PostgresRecordStore
    from tests.servers import PG_DSN, check_postgres, drop_schema, new_schema

    check_postgres()
    schema = new_schema("conf")
    request.addfinalizer(lambda: drop_schema(schema))
    return PostgresRecordStore(PG_DSN, schema=schema, pool_size=4)


def _postgres_chroma_server(request, tmp_path) -> tuple[RecordStore, VectorStore]:
    from stores.chroma_server import ChromaServerVectorStore

    host, port = request.getfixturevalue("chroma_http")
    collection = f"conf-{uuid.uuid4().hex}"
    return _postgres(request, tmp_path), ChromaServerVectorStore(host, port, collection)


def _postgres_qdrant(request, tmp_path) -> tuple[RecordStore, VectorStore]:
    from stores.qdrant import QdrantVectorStore

    return _postgres(request, tmp_path), QdrantVectorStore(path=tmp_path / "qdrant")


BACKENDS = {
    "inmemory": lambda request, tmp_path: _inmemory(tmp_path),
    "sqlite+chroma": lambda request, tmp_path: _embedded(tmp_path),
    "sqlite+chroma+cache": lambda request, tmp_path: _embedded_cached(tmp_path),
    "postgres+chroma-server": _postgres_chroma_server,
    "postgres+qdrant": _postgres_qdrant,
}


@pytest.fixture(params=sorted(BACKENDS))
def stores(request, tmp_path) -> Iterator[tuple[RecordStore, VectorStore]]:
    records, vectors = BACKENDS[request.param](request, tmp_path)
    assert isinstance(records, RecordStore) and isinstance(vectors, VectorStore)
    yield records, vectors
    records.close()
    vectors.close()


@pytest.fixture
def records(stores) -> RecordStore:
    return stores[0]


@pytest.fixture
def vectors(stores) -> VectorStore:
    return stores[1]


def item(memory_id: str, text: str = "x", **fields) -> MemoryItem:
    base = {
        "id": memory_id,
        "memory": text,
        "user_id": "alice",
        "hash": f"h-{memory_id}",
        "created_at": T0,
        "updated_at": T0,
    }
    return MemoryItem(**{**base, **fields})


def put(records: RecordStore, *items: MemoryItem) -> None:
    with records.unit_of_work() as uow:
        for i in items:
            uow.insert_memory(i)


def ids(items) -> list[str]:
    return [i.id if hasattr(i, "id") else i for i in items]


# -- memories -------------------------------------------------------------------------------------


def test_a_memory_comes_back_with_every_field(records):
    full = item(
        "m1",
        "Ana lives in Porto.",
        kind=MemoryKind.FACT,
        agent_id="bot",
        run_id="r1",
        metadata={"category": "home", "nested": {"a": [1, 2]}, "ok": True},
        sources=["s1", "s2"],
        entities=["Porto", "Ana"],
        subject="Ana",
        attribute="home",
        aspect="state",
        value="Porto",
        importance=0.9,
        event_time=T0 + timedelta(days=3),
        valid_from=T0 + timedelta(days=3),
        valid_to=T0 + timedelta(days=9),
        superseded_by="m0",
        expires_at=T0 + timedelta(days=400),
    )
    put(records, full)
    assert records.get_memories(["m1", "nope"]) == {"m1": full}


def test_replace_and_delete(records):
    put(records, item("m1", entities=["Porto"]), item("m2"))
    with records.unit_of_work() as uow:
        uow.replace_memory(item("m1", "changed", entities=["Lisbon"], updated_at=T0 + timedelta(1)))
    got = records.get_memories(["m1"])["m1"]
    assert got.memory == "changed" and got.updated_at == T0 + timedelta(1)
    assert records.entity_links(["m1"]) == {"m1": {"lisbon"}}
    with pytest.raises(StoreError):
        with records.unit_of_work() as uow:
            uow.replace_memory(item("ghost"))
    with records.unit_of_work() as uow:
        uow.delete_memories(["m1"])
    assert set(records.get_memories(["m1", "m2"])) == {"m2"}
    assert records.entity_links(["m1"]) == {}


def test_a_scope_selects_exactly_its_ids(records):
    put(
        records,
        item("a", user_id="alice"),
        item("a-run", user_id="alice", run_id="r1"),
        item("look-alike", user_id="alice "),
        item("upper", user_id="Alice"),
        item("bob-run", user_id="bob", run_id="r1"),
        item("agent", user_id=None, agent_id="alice"),
    )
    everything = MemoryQuery(statuses=ALL_STATUSES)
    assert set(ids(records.find_memories(Scope(user_id="alice"), everything))) == {"a", "a-run"}
    assert ids(records.find_memories(Scope(user_id="alice", run_id="r1"), everything)) == ["a-run"]
    assert set(ids(records.find_memories(Scope(run_id="r1"), everything))) == {"a-run", "bob-run"}
    assert ids(records.find_memories(Scope(agent_id="alice"), everything)) == ["agent"]
    assert records.find_memories(Scope(), everything) == []  # an empty scope selects nothing


def test_query_fields(records):
    now = T0 + timedelta(days=10)
    put(
        records,
        item("old", subject="Émile", attribute="home", hash="h1", created_at=T0),
        item("new", subject="ÉMILE", attribute="home", hash="h1", created_at=T0 + timedelta(1)),
        item("job", subject="émile", attribute="job", hash="h2", created_at=T0 + timedelta(2)),
        item("gone", status=MemoryStatus.SUPERSEDED, created_at=T0 + timedelta(3)),
        item("expired", expires_at=now, created_at=T0 + timedelta(4)),
    )
    scope = Scope(user_id="alice")
    assert ids(records.find_memories(scope, MemoryQuery())) == ["expired", "job", "new", "old"]
    assert ids(records.find_memories(scope, MemoryQuery(now=now))) == ["job", "new", "old"]
    assert ids(records.find_memories(scope, MemoryQuery(statuses=ALL_STATUSES, limit=2))) == [
        "expired",
        "gone",
    ]
    home = MemoryQuery(subject="émile", attribute="home", order="oldest")
    assert ids(records.find_memories(scope, home)) == ["old", "new"]
    assert ids(records.find_memories(scope, MemoryQuery(hashes=("h1",), order="oldest"))) == [
        "old",
        "new",
    ]
    assert ids(records.find_memories(scope, MemoryQuery(ids=("job", "gone", "x")))) == ["job"]
    assert ids(records.find_memories(scope, MemoryQuery(attributed=True))) == ["job", "new", "old"]
    facts = MemoryQuery(sources=("s9",), kinds=(MemoryKind.FACT,))
    assert records.find_memories(scope, facts) == []
    assert records.find_memory_ids(scope, MemoryQuery(hashes=("h2",))) == ["job"]
    assert records.find_memories(scope, MemoryQuery(ids=())) == []


def test_replies_are_found_by_the_turn_they_answer(records):
    put(
        records,
        item("q", kind=MemoryKind.OBSERVATION, sources=["m0", "m1"], hash="hq"),
        item("a", kind=MemoryKind.OBSERVATION, sources=["m1", "m2"], hash="ha"),
        item("f", kind=MemoryKind.FACT, sources=["m2"], hash="hf"),
        item("other", kind=MemoryKind.OBSERVATION, sources=["m1", "m3"], user_id="bob"),
        item("none", kind=MemoryKind.OBSERVATION, sources=[], hash="hn"),
    )
    scope = Scope(user_id="alice")
    replies = MemoryQuery(replying_to=("m1",), kinds=(MemoryKind.OBSERVATION,))
    assert ids(records.find_memories(scope, replies)) == ["a"]  # not q, whose m1 is second
    firsts = MemoryQuery(replying_to=("m2", "m0"))
    assert sorted(ids(records.find_memories(scope, firsts))) == ["f", "q"]
    assert ids(records.find_memories(Scope(user_id="bob"), replies)) == ["other"]
    assert records.find_memories(scope, MemoryQuery(replying_to=())) == []
    assert records.find_memories(scope, MemoryQuery(replying_to=("m9",))) == []


# Every filter case with the ids it must select, whatever the backend (filters.py semantics).
FILTER_ROWS = [
    item("a", kind=MemoryKind.FACT, metadata={"category": "food", "priority": 1, "tags": "spicy"}),
    item("b", kind=MemoryKind.FACT, metadata={"category": "travel", "priority": 3, "vip": True}),
    item("c", kind=MemoryKind.OBSERVATION, metadata={"category": "work", "priority": "5"}),
    item("d", kind=MemoryKind.ENTITY, metadata={"tags": "Grüße ÄPFEL", "vip": False}),
]
FILTER_CASES = [
    ({"metadata.category": "food"}, {"a"}),
    ({"metadata.category": {"ne": "food"}}, {"b", "c", "d"}),
    ({"metadata.category": {"in": ["food", "work"]}}, {"a", "c"}),
    ({"metadata.category": {"nin": ["food", "work"]}}, {"b", "d"}),
    ({"NOT": {"metadata.category": "food"}}, {"b", "c", "d"}),
    ({"metadata.category": None}, {"d"}),
    ({"metadata.category": {"ne": None}}, {"a", "b", "c"}),
    ({"metadata.priority": {"gt": 1}}, {"b", "c"}),  # every number is below every string
    ({"metadata.priority": {"lt": 5}}, {"a", "b"}),
    ({"metadata.priority": {"gte": "0"}}, {"c"}),
    ({"metadata.priority": 3.0}, {"b"}),
    ({"metadata.vip": True}, {"b"}),
    ({"metadata.vip": {"ne": True}}, {"a", "c", "d"}),
    ({"metadata.tags": {"contains": "spic"}}, {"a"}),
    ({"metadata.tags": {"contains": "SPIC"}}, set()),
    ({"metadata.tags": {"icontains": "äpfel"}}, {"d"}),
    ({"metadata.tags": {"icontains": "GRÜSSE"}}, {"d"}),
    ({"NOT": {"metadata.tags": {"contains": "x"}}}, {"a", "b", "c", "d"}),
    ({"kind": {"in": ["observation", "entity"]}}, {"c", "d"}),
    ({"created_at": {"gte": T0}}, {"a", "b", "c", "d"}),
    ({"created_at": {"lt": "2024-01-01"}}, set()),
    ({"OR": [{"metadata.category": "food"}, {"metadata.vip": False}]}, {"a", "d"}),
    ({"AND": [{"metadata.priority": {"ne": 1}}, {"NOT": {"metadata.vip": True}}]}, {"c", "d"}),
    ({}, {"a", "b", "c", "d"}),
]


def test_a_word_most_memories_contain_weighs_nothing_as_soon_as_it_is_common(records):
    scope = Scope(user_id="alice")
    put(
        records,
        item("m1", "Ana drinks green tea."),
        item("m2", "Ana walks her dog."),
        item("m3", "Ana reads novels."),
    )
    question = "Ana tea"  # "Ana" is in every memory: only "tea" tells them apart
    assert [
        i for i, _ in records.lexical_search(scope, question, limit=10, query=MemoryQuery())
    ] == ["m1"]
    # once most memories mention tea, it no longer tells them apart either (the store changed,
    # so nothing it counted before may be reused)
    put(records, *(item(f"t{n}", f"Ana had tea number {n}.") for n in range(6)))
    hits = records.lexical_search(scope, question, limit=20, query=MemoryQuery())
    assert {i for i, _ in hits} == {"m1", "m2", "m3", *(f"t{n}" for n in range(6))}


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_filters_mean_the_same_in_every_store(records, filters, expected):
    put(records, *FILTER_ROWS)
    query = MemoryQuery(filter=parse_filter(filters))
    assert set(records.find_memory_ids(Scope(user_id="alice"), query)) == expected


def test_lexical_search(records):
    put(
        records,
        item("tea", "Ana drinks green tea every morning."),
        item("tea2", "tea tea and more tea, tea all day"),
        item("coffee", "Ana drinks coffee."),
        item("other", "green tea", user_id="bob"),
        item("old", "tea in the past", status=MemoryStatus.SUPERSEDED),
    )
    scope = Scope(user_id="alice")
    hits = records.lexical_search(scope, "tea", limit=10, query=MemoryQuery())
    assert [i for i, _ in hits] == ["tea2", "tea"]
    assert all(score > 0 for _, score in hits)
    everything = MemoryQuery(statuses=ALL_STATUSES)
    found = records.lexical_search(scope, "TEA?", limit=10, query=everything)
    assert {i for i, _ in found} == {"tea", "tea2", "old"}
    assert records.lexical_search(scope, "tea", limit=1, query=MemoryQuery())[0][0] == "tea2"
    assert records.lexical_search(scope, "a", limit=10, query=MemoryQuery()) == []
    only = MemoryQuery(filter=parse_filter({"kind": "entity"}))
    assert records.lexical_search(scope, "tea", limit=10, query=only) == []


def test_entities_and_scope_stats(records):
    put(
        records,
        item("m1", entities=["Porto", "Ana"], event_time=T0 + timedelta(5)),
        item("m2", entities=["porto"], created_at=T0 + timedelta(1)),
        item("m3", entities=["Porto"], user_id="bob"),
        item("m4", entities=["Ana"], status=MemoryStatus.SUPERSEDED),
    )
    assert records.entity_links(["m1", "m2"]) == {"m1": {"porto", "ana"}, "m2": {"porto"}}
    alice = Scope(user_id="alice")
    assert records.known_entities(alice, ["PORTO", "Ana", "Lima"]) == {"porto": 2, "ana": 2}
    stats = records.scope_stats(alice)
    assert (stats.count, stats.oldest, stats.newest) == (2, T0 + timedelta(1), T0 + timedelta(5))


def test_history_and_audit(records):
    scope = Scope(user_id="alice", run_id="r")
    rows = [
        HistoryEntry(
            id=f"h{n}", memory_id="m1", event=event, created_at=T0 + timedelta(n), new_memory="x"
        )
        for n, event in enumerate([EventType.ADD, EventType.UPDATE, EventType.DELETE])
    ]
    with records.unit_of_work() as uow:
        for row in rows:
            uow.add_history(row, scope if row.id == "h0" else Scope(user_id="other"))
        for n, who in enumerate(["alice", "bob"]):
            uow.add_audit(
                AuditEntry(
                    id=f"a{n}", at=T0 + timedelta(n), user_id=who, stage="summary", error="e"
                )
            )
    assert records.history("m1") == rows
    # with a scope, only the rows recorded with every id it gives
    assert records.history("m1", Scope(user_id="alice")) == rows[:1]
    assert records.history("m1", Scope(user_id="other")) == rows[1:]
    assert records.history("m1", Scope(user_id="alice", run_id="x")) == []
    assert records.history("m1", Scope()) == []
    assert records.history_scope("m1") == scope  # the first row's scope
    assert records.history_scope("nope") is None
    assert [a.id for a in records.audit(Scope(user_id="bob"))] == ["a1"]
    assert [a.id for a in records.audit(None)] == ["a0", "a1"]


def test_memory_ids_by_prefix(records):
    put(
        records,
        item("3fdb7c78aaaa"),
        item("3fdb7c78bbbb", run_id="r1"),
        item("3fdb7c79cccc"),
        item("3fdb7c78dddd", user_id="bob"),
        item("3fdb7c7%_eee"),
        item("3fdb7c78ffff\U0010ffff"),
    )
    alice = Scope(user_id="alice")
    assert records.memory_ids_with_prefix("3fdb7c78", alice, limit=10) == [
        "3fdb7c78aaaa",
        "3fdb7c78bbbb",
        "3fdb7c78ffff\U0010ffff",
    ]
    assert records.memory_ids_with_prefix("3fdb7c78", alice, limit=2) == [
        "3fdb7c78aaaa",
        "3fdb7c78bbbb",
    ]
    # every id of the scope must match; None is any scope; an empty scope selects nothing
    assert records.memory_ids_with_prefix("3fdb7c78", Scope(run_id="r1"), limit=10) == [
        "3fdb7c78bbbb"
    ]
    assert records.memory_ids_with_prefix("3fdb7c78d", None, limit=10) == ["3fdb7c78dddd"]
    assert records.memory_ids_with_prefix("3fdb7c78", Scope(), limit=10) == []
    # prefixes are text, never patterns, and case-sensitive
    assert records.memory_ids_with_prefix("3fdb7c7%", alice, limit=10) == ["3fdb7c7%_eee"]
    assert records.memory_ids_with_prefix("3FDB7C78", alice, limit=10) == []
    assert records.memory_ids_with_prefix("3fdb7c78aaaa", alice, limit=10) == ["3fdb7c78aaaa"]
    # a deleted memory is found through its history rows, in their scope, only when asked
    with records.unit_of_work() as uow:
        uow.delete_memories(["3fdb7c78aaaa"])
        entry = HistoryEntry(
            id="h1", memory_id="3fdb7c78aaaa", event=EventType.DELETE, created_at=T0
        )
        uow.add_history(entry, alice)
    assert "3fdb7c78aaaa" not in records.memory_ids_with_prefix("3fdb7c78", alice, limit=10)
    assert records.memory_ids_with_prefix("3fdb7c78a", alice, limit=10, history=True) == [
        "3fdb7c78aaaa"
    ]
    bob = Scope(user_id="bob")
    assert records.memory_ids_with_prefix("3fdb7c78a", bob, limit=10, history=True) == []


# -- turns, summaries, outbox ---------------------------------------------------------------------


def turn(n: int, scope: Scope, records: RecordStore, options: dict | None = None) -> Message:
    msg = Message(role="user", content=f"turn {n}", id=f"t{n}", timestamp=T0 + timedelta(n))
    with records.unit_of_work() as uow:
        uow.insert_turn(scope, msg, 10 + n, T0, options or {})
    return msg


def test_turns_buffer_and_extraction(records):
    run = Scope(user_id="alice", run_id="r1")
    other = Scope(user_id="alice", run_id="r2")
    msgs = [turn(n, run, records, {"infer": n != 2}) for n in range(4)]
    turn(9, other, records)
    assert records.message_ids_exist(run, ["t0", "t9", "zz"]) == {"t0"}
    assert [t.message for t in records.buffer(run)] == msgs
    assert [t.tokens for t in records.buffer(run)] == [10, 11, 12, 13]
    assert [m.id for m in records.recent_turns(run, 2)] == ["t2", "t3"]
    assert [(s.run_id, m.id) for s, m in records.turns(Scope(user_id="alice"))] == [
        ("r1", "t0"),
        ("r1", "t1"),
        ("r1", "t2"),
        ("r1", "t3"),
        ("r2", "t9"),
    ]
    batches = records.unextracted(run)
    assert [([m.id for m in b.messages], b.options) for b in batches] == [
        (["t0", "t1"], {"infer": True}),
        (["t2"], {"infer": False}),
        (["t3"], {"infer": True}),
    ]
    assert len(records.unextracted(None)) == 4
    with records.unit_of_work() as uow:
        uow.mark_extracted(run, ["t0", "t1"])
        uow.evict([t.seq for t in records.buffer(run)[:2]])
        assert uow.extracted(run, ["t0", "t3"]) == {"t0"}
    assert records.extracted(run, ["t0", "t1", "t2"]) == {"t0", "t1"}
    assert [t.message.id for t in records.buffer(run)] == ["t2", "t3"]
    assert [m.id for m in records.recent_turns(run, 9)] == ["t0", "t1", "t2", "t3"]


def test_quarantined_turns_are_set_aside_until_extracted(records):
    run = Scope(user_id="alice", run_id="r1")
    for n in range(3):
        turn(n, run, records, {"infer": True})
    at = T0 + timedelta(days=1)
    with records.unit_of_work() as uow:
        uow.quarantine_turns(run, ["t1"], "ValueError: boom", at)
        uow.quarantine_turns(Scope(user_id="bob"), ["t2"], "not this scope", at)
    assert [[m.id for m in b.messages] for b in records.unextracted(None)] == [["t0", "t2"]]
    (aside,) = records.quarantined_turns(None)
    assert [m.id for m in aside.messages] == ["t1"] and aside.scope == run
    assert (aside.error, aside.quarantined_at, aside.options) == (
        "ValueError: boom",
        at,
        {"infer": True},
    )
    assert records.quarantined_turns(Scope(user_id="bob")) == []
    assert records.extracted(run, ["t1"]) == set()
    with records.unit_of_work() as uow:  # a new error replaces the old one
        uow.quarantine_turns(run, ["t1"], "ValueError: again", at)
    assert [b.error for b in records.quarantined_turns(run)] == ["ValueError: again"]
    with records.unit_of_work() as uow:
        uow.mark_extracted(run, ["t1"])
        uow.quarantine_turns(run, ["t1"], "too late: extracted turns stay extracted", at)
    assert records.quarantined_turns(None) == []
    assert [[m.id for m in b.messages] for b in records.unextracted(None)] == [["t0", "t2"]]


def test_quarantined_vector_operations_leave_the_outbox(records):
    vecs = np.ones((1, 3), dtype=np.float32)
    with records.unit_of_work() as uow:
        uow.enqueue(VectorOp("upsert", ["a"], vecs, [{"user_id": "x"}]))
        uow.quarantine_op(VectorOp("delete", ["b", ""]), "StoreError: refused", T0)
    assert [op.ids for _, op in records.pending()] == [["a"]]
    (aside,) = records.quarantined_ops()
    assert (aside.op.op, aside.op.ids, aside.error, aside.at) == (
        "delete",
        ["b", ""],
        "StoreError: refused",
        T0,
    )
    with records.unit_of_work() as uow:
        uow.done([aside.seq])
    assert records.quarantined_ops() == [] and len(records.pending()) == 1


def test_summaries(records):
    run = Scope(user_id="alice", run_id="r1")
    assert records.summary(run) == RunSummary()
    with records.unit_of_work() as uow:
        uow.set_summary(run, RunSummary("first", 1, 2), T0)
        uow.set_summary(run, RunSummary("second", 3, 4), T0)
        uow.set_summary(Scope(user_id="bob"), RunSummary("bob's", 1, 1), T0)
    assert records.summary(run) == RunSummary("second", 3, 4)
    assert records.summaries(Scope(user_id="alice")) == [(run, RunSummary("second", 3, 4))]


def test_outbox_keeps_vectors_in_order(records):
    vecs = np.arange(6, dtype=np.float32).reshape(2, 3)
    with records.unit_of_work() as uow:
        uow.enqueue(VectorOp("upsert", ["a", "b"], vecs, [{"user_id": "x"}, {"user_id": "y"}]))
        uow.enqueue(VectorOp("delete", ["a"]))
    (s1, up), (s2, down) = records.pending()
    assert s1 < s2 and up.ids == ["a", "b"] and down.op == "delete" and down.vectors is None
    assert up.vectors is not None and np.array_equal(up.vectors, vecs)
    assert up.metadatas == [{"user_id": "x"}, {"user_id": "y"}]
    with records.unit_of_work() as uow:
        uow.done([s1])
    assert [s for s, _ in records.pending()] == [s2]


def test_a_unit_of_work_is_all_or_nothing(records):
    run = Scope(user_id="alice", run_id="r")
    put(records, item("kept"))
    with pytest.raises(RuntimeError):
        with records.unit_of_work() as uow:
            assert isinstance(uow, UnitOfWork)
            uow.insert_memory(item("m1"))
            uow.replace_memory(item("kept", "changed"))
            uow.insert_turn(run, Message(role="user", content="hi", id="t"), 1, T0, {})
            uow.add_history(
                HistoryEntry(id="h", memory_id="m1", event=EventType.ADD, created_at=T0), run
            )
            uow.enqueue(VectorOp("delete", ["m1"]))
            uow.set_summary(run, RunSummary("s", 1, 1), T0)
            assert set(uow.get_memories(["m1", "kept"])) == {"m1", "kept"}  # sees its writes
            raise RuntimeError("crash")
    assert set(records.get_memories(["m1", "kept"])) == {"kept"}
    assert records.get_memories(["kept"])["kept"].memory == "x"
    assert records.turns(run) == [] and records.history("m1") == []
    assert records.pending() == [] and records.summary(run) == RunSummary()


def test_delete_scope_and_reset(records):
    run = Scope(user_id="alice", run_id="r")
    put(records, item("a1"), item("a2", run_id="r"), item("b1", user_id="bob"))
    turn(1, run, records)
    turn(2, Scope(user_id="bob"), records)
    with records.unit_of_work() as uow:
        uow.set_summary(run, RunSummary("s", 1, 1), T0)
        gone = uow.delete_scope(Scope(user_id="alice"))
    assert {i.id for i in gone} == {"a1", "a2"}
    assert set(records.get_memories(["a1", "a2", "b1"])) == {"b1"}
    assert records.turns(run) == [] and records.summary(run) == RunSummary()
    assert len(records.turns(Scope(user_id="bob"))) == 1
    records.ensure_embedder("e", 3)
    with records.unit_of_work() as uow:
        uow.reset()
    assert records.get_memories(["b1"]) == {} and records.turns(Scope(user_id="bob")) == []
    records.ensure_embedder("another", 5)  # reset forgets the embedder too


def test_the_embedder_is_recorded_and_another_refused(records, vectors):
    for store in (records, vectors):
        store.ensure_embedder("model-a", 3)
        store.ensure_embedder("model-a", 3)
        with pytest.raises(EmbedderMismatchError):
            store.ensure_embedder("model-b", 3)
        with pytest.raises(EmbedderMismatchError):
            store.ensure_embedder("model-a", 4)


# -- vectors --------------------------------------------------------------------------------------


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_vector_store_contract(vectors):
    vecs = np.stack([unit(1, 0, 0), unit(0.9, 0.1, 0), unit(0, 1, 0)])
    metas = [
        {"user_id": "alice", "run_id": "r1"},
        {"user_id": "alice", "run_id": "r2"},
        {"user_id": "bob", "run_id": "r1"},
    ]
    vectors.upsert(["a", "b", "c"], vecs, metas)
    vectors.upsert(["a", "b", "c"], vecs, metas)  # idempotent
    assert vectors.count() == 3
    hits = vectors.query(unit(1, 0, 0), where={}, limit=3)
    assert [i for i, _ in hits] == ["a", "b", "c"]
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5) and hits[0][1] > hits[1][1] > hits[2][1]
    assert [i for i, _ in vectors.query(unit(1, 0, 0), where={"user_id": "bob"}, limit=5)] == ["c"]
    where = {"user_id": "alice", "run_id": "r2"}
    assert [i for i, _ in vectors.query(unit(1, 0, 0), where=where, limit=5)] == ["b"]
    many = vectors.query_many(np.stack([unit(0, 1, 0), unit(1, 0, 0)]), where={}, limit=1)
    assert [[i for i, _ in row] for row in many] == [["c"], ["a"]]
    got = vectors.get_vectors(["a", "zz"])
    assert set(got) == {"a"} and np.allclose(got["a"], vecs[0], atol=1e-6)
    vectors.delete(["a", "zz"])
    assert vectors.count() == 2 and vectors.get_vectors(["a"]) == {}
    assert vectors.query(unit(1, 0, 0), where={"user_id": "nobody"}, limit=3) == []
    vectors.reset()
    assert vectors.count() == 0


# -- the memory on every backend ------------------------------------------------------------------

MEMORY_BACKENDS = {
    "inmemory": {"records": {"kind": "memory"}, "vectors": {"kind": "memory"}},
    "sqlite+chroma": {"records": {"kind": "sqlite"}, "vectors": {"kind": "chroma"}},
    "postgres+chroma-server": {
        "records": {"kind": "postgres"},
        "vectors": {"kind": "chroma-server"},
    },
    "postgres+qdrant": {"records": {"kind": "postgres"}, "vectors": {"kind": "qdrant"}},
}


def server_settings(request, kinds: dict) -> dict:
    """The settings of the server backends ``kinds`` names: a PostgreSQL schema of its own
    (dropped after the test), a collection of its own on the session's Chroma server."""
    from tests.servers import PG_DSN, check_postgres, drop_schema, new_schema

    settings: dict = {}
    if kinds["records"]["kind"] == "postgres":
        check_postgres()
        schema = new_schema("mem")
        request.addfinalizer(lambda: drop_schema(schema))
        settings["postgres"] = {"dsn": PG_DSN, "schema_name": schema, "pool_size": 4}
    if kinds["vectors"]["kind"] == "chroma-server":
        host, port = request.getfixturevalue("chroma_http")
        collection = f"mem-{uuid.uuid4().hex}"
        settings["chroma_server"] = {"host": host, "port": port, "collection": collection}
    return settings


@pytest.fixture(params=sorted(MEMORY_BACKENDS))
def memory(request, tmp_path, hashing_embedder):
    from hybrid_memory import HybridMemory, MemoryConfig

    kinds = MEMORY_BACKENDS[request.param]
    config = MemoryConfig(
        data_dir=tmp_path / "m",
        embedder=hashing_embedder,
        **kinds,
        **server_settings(request, kinds),
    )
    with HybridMemory(config) as mem:
        yield mem


def test_the_memory_works_the_same_on_every_backend(memory):
    said = {"role": "user", "name": "Ana", "timestamp": "2024-01-01T10:00:00"}
    first = memory.add({**said, "content": "I live in Porto.", "id": "m1"}, user_id="ana")
    assert "Ana lives in Porto." in [e.memory for e in first.results]
    moved = memory.add(
        {**said, "content": "I moved to Lisbon.", "id": "m2", "timestamp": "2024-03-01"},
        user_id="ana",
        run_id="chat-2",
    )
    (update,) = moved.events(EventType.UPDATE)
    assert (update.previous_memory, update.memory) == (
        "Ana lives in Porto.",
        "Ana lives in Lisbon.",
    )
    hits = memory.search("Where does Ana live?", user_id="ana", include_superseded=True)
    assert hits[0].memory == "Ana lives in Lisbon." and hits[0].status == MemoryStatus.ACTIVE
    former = [h for h in hits if h.status == MemoryStatus.SUPERSEDED]
    assert {h.memory for h in former} == {
        "Ana lives in Porto.",
        "On 1 January 2024, Ana said: I live in Porto.",  # the utterance is a former statement
    }
    assert all(h.valid_to for h in former)
    assert memory.search("Porto", user_id="bo") == []
    assert [e.event for e in memory.history(update.id, user_id="ana")] == [
        EventType.ADD,
        EventType.UPDATE,
    ]
    ctx = memory.get_context("Where does Ana live?", user_id="ana", token_budget=200)
    assert ctx.tokens <= 200 and "Lisbon" in ctx.text
    exported = memory.export(user_id="ana")
    assert memory.delete_all(user_id="ana") == len([r for r in exported if r["type"] == "memory"])
    assert memory.get_all(user_id="ana") == [] and memory.vectors.count() == 0
    counts = memory.import_records(exported)
    assert counts["memories"] == len([r for r in exported if r["type"] == "memory"])
    assert memory.search("Where does Ana live?", user_id="ana")[0].memory == (
        "Ana lives in Lisbon."
    )
    assert memory.records.pending() == []
    assert memory.vectors.count() == len(memory.get_all(user_id="ana", include_superseded=True))


def test_scopes_lists_every_exact_scope_once(records):
    put(
        records, item("a"), item("b"), item("c", run_id="r1"), item("d", user_id=None, agent_id="x")
    )
    turn(1, Scope(user_id="bob", run_id="r2"), records)
    turn(2, Scope(user_id="alice", run_id="r1"), records)
    with records.unit_of_work() as uow:
        uow.set_summary(Scope(run_id="r9"), RunSummary("s", 1, 1), T0)
    assert [s.key for s in records.scopes()] == sorted(
        s.key
        for s in (
            Scope(user_id="alice"),
            Scope(user_id="alice", run_id="r1"),
            Scope(agent_id="x"),
            Scope(user_id="bob", run_id="r2"),
            Scope(run_id="r9"),
        )
    )
