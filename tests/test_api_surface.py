"""One consistent public surface: what the package exports, the async twin of every method,
shortened ids, the superseded default shared by ``get_all`` and ``search``, filters that refuse
unknown fields, and deletions that both return a count."""

from __future__ import annotations

import asyncio
import inspect
import types

import pytest

import hybrid_memory
from hybrid_memory import (
    AmbiguousIdError,
    AsyncHybridMemory,
    FilterError,
    HybridMemory,
    MemoryConfig,
    MemoryNotFoundError,
    MemoryStatus,
    ScopeError,
)
from hybrid_memory.testing import HashingEmbedder


@pytest.fixture
def memory(tmp_path):
    with HybridMemory(MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder())) as m:
        yield m


def said(text: str, mid: str, when: str) -> dict:
    return {"role": "user", "name": "Ana", "content": text, "id": mid, "timestamp": when}


# -- the package's names ------------------------------------------------------------------------


def test_the_package_exports_its_public_names_only():
    public = {
        name
        for name in dir(hybrid_memory)
        if not name.startswith("_")
        and not isinstance(getattr(hybrid_memory, name), types.ModuleType)
    }
    assert public == set(hybrid_memory.__all__)
    assert not {"Any", "TYPE_CHECKING", "annotations"} & public
    namespace: dict = {}
    exec("from hybrid_memory import *", namespace)
    assert {n for n in namespace if not n.startswith("__")} == set(hybrid_memory.__all__)
    # every type a public method returns or raises is importable from the package
    assert {"RepairReport", "QuarantineEntry", "AuditEntry", "AmbiguousIdError"} <= public


# -- async parity -------------------------------------------------------------------------------


def public_methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_public_method_has_an_async_twin_with_the_same_result():
    sync, coro = public_methods(HybridMemory), public_methods(AsyncHybridMemory)
    assert set(sync) == set(coro), "methods only on one side"
    for name, method in coro.items():
        assert inspect.iscoroutinefunction(method), f"AsyncHybridMemory.{name} is not async"
        expected = inspect.signature(sync[name]).return_annotation
        got = inspect.signature(method).return_annotation
        assert got == expected, f"{name}: async returns {got}, sync {expected}"
        # the positional arguments are the same, in the same order
        positional = [
            p.name
            for p in inspect.signature(sync[name]).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        assert [
            p.name
            for p in inspect.signature(method).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ] == positional, name
    assert hasattr(HybridMemory, "__enter__") and hasattr(AsyncHybridMemory, "__aenter__")


def test_the_async_memory_does_everything_the_sync_one_does(tmp_path):
    config = MemoryConfig(data_dir=tmp_path / "a", embedder=HashingEmbedder())

    async def scenario() -> None:
        async with AsyncHybridMemory(config) as memory:
            await memory.add(said("I live in Porto.", "m1", "2024-01-01"), user_id="ana")
            exported = await memory.export(user_id="ana")
            assert [m.content for m in await memory.get_buffer(user_id="ana")] == [
                "I live in Porto."
            ]
            assert len(await memory.get_messages(user_id="ana")) == 1
            assert await memory.get_summary(user_id="ana") == ""
            assert (await memory.repair()).quarantined == [] and await memory.quarantined() == []
            item = (await memory.get_all(user_id="ana"))[0]
            assert await memory.resolve_id(item.id[:12], user_id="ana") == item.id
            assert await memory.delete(item.id[:12], user_id="ana") == 1
            assert await memory.delete_all(user_id="ana") >= 1
            counts = await memory.import_records(exported)
            assert counts["memories"] == sum(r["type"] == "memory" for r in exported)
        # the block closed the memory: its data dir opens again in this process
        with HybridMemory(config) as again:
            assert again.get_all(user_id="ana")

    asyncio.run(scenario())


# -- ids: any unique prefix of at least 8 characters --------------------------------------------


def imported(memory: HybridMemory, *ids: str, user: str = "ana") -> None:
    records = [
        {
            "type": "memory",
            "id": mid,
            "memory": f"Memory {n} about tea.",
            "kind": "fact",
            "user_id": user,
            "hash": f"h{mid}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        for n, mid in enumerate(ids)
    ]
    memory.import_records(records)


def test_a_unique_prefix_of_eight_characters_or_more_names_a_memory(memory):
    memory.add(said("I live in Porto.", "m1", "2024-01-01"), user_id="ana")
    full = memory.get_all(user_id="ana")[0].id
    assert len(full) == 32
    shown = full[:12]  # what the CLI's tables print
    assert memory.get(shown, user_id="ana").id == full
    assert memory.resolve_id(full[:8], user_id="ana") == full
    assert memory.update(shown, "Ana lives in Porto, Portugal.", user_id="ana").id == full
    assert [h.event.value for h in memory.history(shown, user_id="ana")] == ["ADD", "UPDATE"]
    # still scope-checked: another user's memory is not found by its prefix either
    with pytest.raises(MemoryNotFoundError):
        memory.get(shown, user_id="bob")
    with pytest.raises(ScopeError):
        memory.get(shown)
    assert memory.get(shown, all_scopes=True).id == full
    # shorter than 8 characters: not an id, and the error says how long a prefix must be
    with pytest.raises(MemoryNotFoundError, match="at least 8 characters"):
        memory.get(full[:7], user_id="ana")
    assert memory.delete(shown, user_id="ana") == 1
    # a deleted memory's history is still reached by its prefix
    assert [h.event.value for h in memory.history(shown, user_id="ana")][-1] == "DELETE"
    with pytest.raises(MemoryNotFoundError):
        memory.get(shown, user_id="ana")


def test_an_ambiguous_prefix_is_an_error_listing_the_candidates(memory):
    imported(memory, "3fdb7c781bac0001", "3fdb7c781bac0002", "3fdb7c7900000003")
    imported(memory, "3fdb7c781bac0004", user="bob")
    with pytest.raises(AmbiguousIdError) as caught:
        memory.get("3fdb7c781bac", user_id="ana")
    message = str(caught.value)
    assert "3fdb7c781bac0001" in message and "3fdb7c781bac0002" in message
    assert "3fdb7c781bac0004" not in message  # bob's id is never shown to ana's scope
    assert caught.value.candidates == ["3fdb7c781bac0001", "3fdb7c781bac0002"]
    for call in (
        lambda: memory.update("3fdb7c78", "text", user_id="ana"),
        lambda: memory.delete("3fdb7c78", user_id="ana"),
        lambda: memory.history("3fdb7c78", user_id="ana"),
        lambda: memory.resolve_id("3fdb7c78", user_id="ana"),
    ):
        with pytest.raises(AmbiguousIdError):
            call()
    assert memory.get("3fdb7c79", user_id="ana").id == "3fdb7c7900000003"
    assert memory.get("3fdb7c781bac0001", user_id="ana").id == "3fdb7c781bac0001"
    # the operator path sees every scope, so bob's id makes it ambiguous there
    with pytest.raises(AmbiguousIdError, match="3fdb7c781bac0004"):
        memory.get("3fdb7c781bac000", all_scopes=True)


# -- one superseded default for get_all and search ----------------------------------------------


def moved(memory: HybridMemory) -> None:
    memory.add(said("I live in Porto.", "m1", "2024-01-01"), user_id="ana")
    memory.add(said("I moved to Lisbon.", "m2", "2024-03-01"), user_id="ana")


def test_a_filter_on_status_decides_which_memories_get_all_and_search_return(memory):
    moved(memory)
    current = memory.get_all(user_id="ana")
    assert current and all(m.status == MemoryStatus.ACTIVE for m in current)
    former = memory.get_all(user_id="ana", filters={"status": "superseded"})
    assert "Ana lives in Porto." in [m.memory for m in former]
    assert all(m.status == MemoryStatus.SUPERSEDED for m in former)
    found = memory.search("tea or coffee", user_id="ana", filters={"status": "superseded"})
    assert {h.memory for h in found} == {m.memory for m in former}
    # an explicit flag still wins over the filter
    assert (
        memory.get_all(user_id="ana", filters={"status": "superseded"}, include_superseded=False)
        == []
    )
    both = memory.get_all(user_id="ana", include_superseded=True)
    assert len(both) == len(current) + len(former)


# -- filters name fields or metadata keys -------------------------------------------------------


def test_a_filter_on_an_unknown_field_is_refused_with_the_known_fields(memory):
    memory.add("red car", user_id="ana", infer=False, metadata={"colour": "red"})
    for call in (
        lambda f: memory.get_all(user_id="ana", filters=f),
        lambda f: memory.search("car", user_id="ana", filters=f),
        lambda f: memory.get_context("car", user_id="ana", token_budget=200, filters=f),
    ):
        with pytest.raises(FilterError, match="unknown filter field 'colour'") as caught:
            call({"colour": "red"})
        assert "'metadata.colour'" in str(caught.value) and "kind, status" in str(caught.value)
        assert call({"metadata.colour": "red"})
    assert memory.get_all(user_id="ana", filters={"metadata.colour": "blue"}) == []


# -- deletions return how many they deleted -----------------------------------------------------


def test_delete_and_delete_all_both_return_a_count(memory):
    memory.add("first note", user_id="ana", infer=False)
    memory.add("second note", user_id="ana", infer=False)
    one = memory.get_all(user_id="ana")[0].id
    assert memory.delete(one, user_id="ana") == 1
    assert memory.delete_all(user_id="ana") == 1
    assert memory.delete_all(user_id="ana") == 0
    assert inspect.signature(HybridMemory.delete).return_annotation in (int, "int")
