"""The LangGraph store: a real graph writes and searches through it, LangGraph's own
``BaseStore`` methods (put/get/search/delete/list_namespaces, sync and async) keep their
contract, namespaces map to scopes without ever crossing users, TTLs expire."""

from __future__ import annotations

import asyncio
import time
from typing import TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.errors import FilterError, InputTooLargeError, ScopeError, UserInputError
from hybrid_memory.integrations.langgraph import HybridMemoryStore, NamespaceError, NamespaceMap
from hybrid_memory.testing import HashingEmbedder


@pytest.fixture
def memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as m:
        yield m


@pytest.fixture
def store(memory):
    return HybridMemoryStore(memory)


class State(TypedDict, total=False):
    user: str
    said: str
    found: list[str]


def test_a_graph_writes_and_searches_through_the_store(store, memory):
    def remember(state: State, *, store: BaseStore) -> State:
        store.put((state["user"], "notes"), "n1", {"text": state["said"]})
        return {}

    def recall(state: State, *, store: BaseStore) -> State:
        hits = store.search((state["user"],), query="which city does she live in", limit=3)
        return {"found": [h.value["text"] for h in hits]}

    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    graph = builder.compile(store=store)

    out = graph.invoke({"user": "alice", "said": "Alice lives in Lisbon"})
    assert out["found"] == ["Alice lives in Lisbon"]
    # The same item is a memory of alice's scope, visible to the memory's own search.
    assert [h.memory for h in memory.search("Lisbon", user_id="alice")] == ["Alice lives in Lisbon"]
    # Another user's graph run sees nothing of alice's.
    assert graph.invoke({"user": "bob", "said": "Bob likes tea"})["found"] == ["Bob likes tea"]


def test_put_replaces_and_get_returns_exactly_what_was_put(store):
    value = {"text": "likes green tea", "n": 3, "tags": ["a", "b"], "nested": {"x": None}}
    store.put(("alice", "prefs"), "drink", value)
    first = store.get(("alice", "prefs"), "drink")
    assert first.value == value and first.key == "drink" and first.namespace == ("alice", "prefs")
    store.put(("alice", "prefs"), "drink", {"text": "now prefers coffee"})
    second = store.get(("alice", "prefs"), "drink")
    assert second.value == {"text": "now prefers coffee"}
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    assert len(store.search(("alice", "prefs"))) == 1
    # Two keys with the same text stay two items (no deduplication across keys).
    store.put(("alice", "prefs"), "other", {"text": "now prefers coffee"})
    assert {i.key for i in store.search(("alice", "prefs"))} == {"drink", "other"}
    store.delete(("alice", "prefs"), "drink")
    assert store.get(("alice", "prefs"), "drink") is None
    assert store.get(("alice", "prefs"), "other").value == {"text": "now prefers coffee"}


def test_search_filters_prefixes_offsets_and_unindexed_items(store):
    store.put(("alice", "tasks"), "t1", {"text": "book the flight to Oslo", "done": False, "p": 1})
    store.put(("alice", "tasks"), "t2", {"text": "renew the passport", "done": True, "p": 2})
    store.put(("alice", "tasks", "old"), "t3", {"text": "pay the Oslo hotel", "p": 3})
    store.put(("alice", "secrets"), "s1", {"text": "Oslo locker code 1234"}, index=False)
    assert {i.key for i in store.search(("alice", "tasks"))} == {"t1", "t2", "t3"}
    assert [i.key for i in store.search(("alice", "tasks"), filter={"p": {"$gte": 2}})] == [
        "t3",
        "t2",
    ]
    assert [i.key for i in store.search(("alice",), filter={"done": False})] == ["t1"]
    ranked = store.search(("alice", "tasks"), query="Oslo flight")
    assert ranked[0].key == "t1" and all(0 < i.score <= 1 for i in ranked)
    # An unindexed item never ranks; it only fills up a query search, with no score.
    everything = store.search(("alice",), query="Oslo locker code", limit=10)
    assert everything[-1].key == "s1" and everything[-1].score is None
    assert all(i.score is not None for i in everything[:-1])
    assert len(store.search(("alice",), limit=2, offset=3)) == 1
    with pytest.raises(FilterError):
        store.search(("alice",), filter={"nested": {"x": 1}})


def test_list_namespaces_within_a_scope(store):
    for ns in [("alice", "a", "x"), ("alice", "a", "y"), ("alice", "b"), ("bob", "a")]:
        store.put(ns, "k", {"text": "v"})
    assert store.list_namespaces(prefix=("alice",)) == [
        ("alice", "a", "x"),
        ("alice", "a", "y"),
        ("alice", "b"),
    ]
    assert store.list_namespaces(prefix=("alice",), max_depth=2) == [("alice", "a"), ("alice", "b")]
    assert store.list_namespaces(prefix=("alice",), suffix=("y",)) == [("alice", "a", "y")]
    assert store.list_namespaces(prefix=("alice", "*", "x")) == [("alice", "a", "x")]
    # Listing every user's namespaces would cross scopes: refused with a typed error.
    with pytest.raises(NamespaceError, match="does not name a scope"):
        store.list_namespaces()


def test_a_template_maps_namespaces_to_scopes_and_rejects_what_does_not_fit(memory):
    store = HybridMemoryStore(memory, namespaces=NamespaceMap(("users", "{user_id}", "{agent_id}")))
    store.put(("users", "alice", "planner", "notes"), "k", {"text": "Alice flies on Friday"})
    [hit] = memory.search("Friday", user_id="alice", agent_id="planner")
    assert hit.memory == "Alice flies on Friday" and hit.metadata["lg_key"] == "k"
    assert memory.search("Friday", user_id="alice", agent_id="other") == []
    with pytest.raises(NamespaceError, match="expected 'users'"):
        store.put(("people", "alice", "planner"), "k", {"text": "x"})
    with pytest.raises(NamespaceError, match="does not name a scope"):
        store.search(("users", "alice"))
    with pytest.raises(ScopeError):
        store.put(("users", " ", "planner"), "k", {"text": "x"})
    with pytest.raises(NamespaceError, match="names no scope"):
        NamespaceMap(("memories",))


def test_ttl_expires_items_and_reads_refresh_them(memory):
    store = HybridMemoryStore(memory, ttl_config={"default_ttl": 3 / 60, "refresh_on_read": True})
    store.put(("alice",), "kept", {"text": "read often"})
    store.put(("alice",), "gone", {"text": "never read"})
    for _ in range(3):
        time.sleep(1.1)  # each read moves the 3 s expiry of "kept"
        assert store.get(("alice",), "kept").value == {"text": "read often"}
    assert store.get(("alice",), "gone", refresh_ttl=False) is None
    store.put(("alice",), "forever", {"text": "no ttl"}, ttl=None)
    time.sleep(3.3)
    assert store.get(("alice",), "kept") is None
    assert store.get(("alice",), "forever").value == {"text": "no ttl"}
    # Expired for the memory too: only the item without TTL is left.
    assert [h.memory for h in memory.search("read often", user_id="alice")] == ["no ttl"]


def test_the_async_methods_give_the_same_results(store):
    async def run():
        await store.aput(("alice", "n"), "k1", {"text": "async note about Rome"})
        item = await store.aget(("alice", "n"), "k1")
        found = await store.asearch(("alice",), query="Rome")
        spaces = await store.alist_namespaces(prefix=("alice",))
        await store.adelete(("alice", "n"), "k1")
        return item, found, spaces, await store.aget(("alice", "n"), "k1")

    item, found, spaces, after = asyncio.run(run())
    assert item.value == {"text": "async note about Rome"}
    assert [f.key for f in found] == ["k1"] and spaces == [("alice", "n")] and after is None


def test_bad_values_are_refused_and_nothing_is_written(store, memory):
    with pytest.raises(InputTooLargeError, match="cannot store key 'k' of namespace"):
        store.put(("alice",), "k", {"blob": "x" * 20_000})
    with pytest.raises(UserInputError, match="JSON values"):
        store.put(("alice",), "k", {"when": object()})
    assert store.get(("alice",), "k") is None and memory.get_all(user_id="alice") == []
