"""No id reaches another scope: by-id calls need the memory's own scope ids (or the explicit
``all_scopes=True`` of an operator), and a memory's history only shows what happened in the
scope that asks."""

from __future__ import annotations

import pytest

from hybrid_memory import (
    EventType,
    HybridMemory,
    MemoryConfig,
    MemoryNotFoundError,
    ScopeError,
    UserInputError,
)
from hybrid_memory.testing import HashingEmbedder

T = "2024-01-02T10:00:00Z"


@pytest.fixture
def memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as mem:
        yield mem


def imported(memory_id: str, text: str, user: str) -> dict:
    return {
        "type": "memory",
        "id": memory_id,
        "memory": text,
        "user_id": user,
        "created_at": T,
        "updated_at": T,
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda m, i: m.get(i),
        lambda m, i: m.update(i, "Alice likes coffee."),
        lambda m, i: m.delete(i),
        lambda m, i: m.history(i),
    ],
    ids=["get", "update", "delete", "history"],
)
def test_by_id_calls_without_a_scope_are_refused(memory, call):
    memory.add("Alice likes tea.", user_id="alice", infer=False)
    (item,) = memory.get_all(user_id="alice")
    before = memory.export(user_id="alice")
    with pytest.raises(ScopeError, match="all_scopes=True"):
        call(memory, item.id)
    assert memory.export(user_id="alice") == before


def test_by_id_calls_need_the_memorys_own_ids(memory):
    memory.add("Alice likes tea.", user_id="alice", agent_id="bot", run_id="r1", infer=False)
    (item,) = memory.get_all(user_id="alice")
    for scope in ({"user_id": "alice"}, {"agent_id": "bot"}, {"run_id": "r1"}):
        assert memory.get(item.id, **scope).id == item.id
        assert memory.history(item.id, **scope)
    for scope in ({"user_id": "bob"}, {"user_id": "alice", "run_id": "r2"}, {"agent_id": "x"}):
        with pytest.raises(MemoryNotFoundError):
            memory.get(item.id, **scope)
        with pytest.raises(MemoryNotFoundError):
            memory.history(item.id, **scope)


def test_the_operator_path_is_explicit(memory):
    memory.add("Alice likes tea.", user_id="alice", infer=False)
    (item,) = memory.get_all(user_id="alice")
    assert memory.get(item.id, all_scopes=True).user_id == "alice"
    memory.update(item.id, "Alice likes green tea.", all_scopes=True, actor="ops")
    assert [h.actor for h in memory.history(item.id, all_scopes=True)][-1] == "ops"
    memory.delete(item.id, all_scopes=True)
    with pytest.raises(MemoryNotFoundError):
        memory.get(item.id, all_scopes=True)
    with pytest.raises(UserInputError, match="all_scopes"):
        memory.get(item.id, all_scopes="yes")
    with pytest.raises(UserInputError, match="not both"):
        memory.get(item.id, user_id="alice", all_scopes=True)


def test_history_belongs_to_the_scope_that_asks(memory):
    """A's memory is deleted; B then imports a record with the same id. A's history keeps A's
    rows only, B sees only its own."""
    memory.import_records([imported("shared-id", "Alice's door code is 1234.", "alice")])
    memory.delete("shared-id", user_id="alice")
    memory.import_records([imported("shared-id", "Bob's door code is 9876.", "bob")])
    alice = memory.history("shared-id", user_id="alice")
    assert [h.event for h in alice] == [EventType.ADD, EventType.DELETE]
    assert all("Bob" not in (h.new_memory or "") + (h.old_memory or "") for h in alice)
    bob = memory.history("shared-id", user_id="bob")
    assert [(h.event, h.new_memory) for h in bob] == [(EventType.ADD, "Bob's door code is 9876.")]
    assert len(memory.history("shared-id", all_scopes=True)) == 3
    with pytest.raises(MemoryNotFoundError):
        memory.history("shared-id", user_id="carol")


def test_a_fact_updated_from_another_run_keeps_its_history_in_its_own_scope(memory):
    said = {"role": "user", "name": "Ana", "timestamp": T}
    memory.add({**said, "content": "I live in Porto.", "id": "m1"}, user_id="ana", run_id="r1")
    moved = memory.add(
        {**said, "content": "I moved to Lisbon.", "id": "m2"}, user_id="ana", run_id="r2"
    )
    (update,) = moved.events(EventType.UPDATE)
    events = [h.event for h in memory.history(update.id, user_id="ana", run_id="r1")]
    assert events == [EventType.ADD, EventType.UPDATE]
