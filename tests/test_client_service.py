"""MemoryClient and AsyncMemoryClient against a real ``hybrid-memory serve`` process: every
method gives what the embedded memory gives for the same calls, errors come back as the
library's classes with their status and request id, and a tenant never sees another's
memories."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.client import (
    AsyncMemoryClient,
    AuthenticationError,
    JobInfo,
    JobStatus,
    MemoryClient,
)
from hybrid_memory.errors import (
    AmbiguousIdError,
    FilterError,
    InputTooLargeError,
    MemoryNotFoundError,
    ScopeError,
    UserInputError,
)
from hybrid_memory.testing import HashingEmbedder
from tests.service_process import Server, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("client") / "data") as running:
        yield running


@pytest.fixture
def client(server) -> Iterator[MemoryClient]:
    with MemoryClient(server.url, api_key=server.create_key("acme")) as memory:
        yield memory


def said(text: str, mid: str, when: str) -> dict[str, str]:
    return {"role": "user", "name": "Ana", "content": text, "id": mid, "timestamp": when}


CONVERSATION = [
    said("I live in Porto.", "m1", "2024-01-01T10:00:00Z"),
    said("I love green tea.", "m2", "2024-01-02T10:00:00Z"),
    said("I moved to Lisbon.", "m3", "2024-03-01T10:00:00Z"),
]


def scenario(memory: Any, user: str) -> dict[str, Any]:
    """The same calls on any memory with the library's surface; what they gave, without the
    ids and times that differ between two stores."""
    seen: dict[str, Any] = {}
    seen["adds"] = [
        sorted((e.event.value, e.memory) for e in memory.add(m, user_id=user).results)
        for m in CONVERSATION
    ]
    seen["again"] = memory.add(CONVERSATION[0], user_id=user).results  # same id: skipped
    hits = memory.search("Where does Ana live?", user_id=user, limit=3)
    seen["search"] = [h.memory for h in hits]
    context = memory.get_context("Where does Ana live?", user_id=user, token_budget=300)
    seen["context"] = (context.text, context.tokens, sorted(context.sections))
    everything = memory.get_all(user_id=user, include_superseded=True)
    seen["all"] = sorted((m.memory, m.status.value) for m in everything)
    seen["facts"] = sorted(m.memory for m in memory.get_all(user_id=user, filters={"kind": "fact"}))
    seen["two"] = len(memory.get_all(user_id=user, limit=2))
    tea = next(m for m in everything if "tea" in m.memory and m.kind.value == "fact")
    assert memory.get(tea.id[:10], user_id=user).id == tea.id
    assert memory.resolve_id(tea.id[:8], user_id=user) == tea.id
    seen["updated"] = memory.update(tea.id, "Ana drinks green tea daily.", user_id=user).memory
    seen["history"] = [(h.event.value, h.new_memory) for h in memory.history(tea.id, user_id=user)]
    seen["buffer"] = [m.content for m in memory.get_buffer(user_id=user)]
    seen["messages"] = [m.id for m in memory.get_messages(user_id=user)]
    seen["summary"] = memory.get_summary(user_id=user)
    exported = memory.export(user_id=user)
    seen["exported"] = sorted(r["type"] for r in exported)
    seen["deleted"] = memory.delete(tea.id, user_id=user)
    seen["delete_all"] = memory.delete_all(user_id=user)
    seen["imported"] = memory.import_records(exported)
    seen["restored"] = len(memory.get_all(user_id=user, include_superseded=True))
    return seen


def test_every_method_gives_what_the_embedded_memory_gives(client, tmp_path):
    remote = scenario(client, "ana")
    config = MemoryConfig(data_dir=tmp_path / "embedded", embedder=HashingEmbedder())
    with HybridMemory(config) as embedded:
        local = scenario(embedded, "ana")
    assert remote == local
    # and the scenario had something to compare
    assert "Lisbon" in remote["search"][0] and remote["imported"]["memories"] >= 4
    assert remote["history"][-1] == ("UPDATE", "Ana drinks green tea daily.")
    assert remote["deleted"] == 1 and remote["two"] == 2


def test_get_all_reads_every_page(client):
    client.import_records(
        [
            {
                "type": "memory",
                "id": f"{n:032x}",
                "memory": f"Note number {n}.",
                "kind": "fact",
                "user_id": "pages",
                "hash": f"h{n}",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            }
            for n in range(1, 1206)
        ]
    )
    assert len(client.get_all(user_id="pages")) == 1205  # two pages of 1000 and 205
    assert len(client.get_all(user_id="pages", limit=1001)) == 1001


def test_a_background_add_is_a_job_that_finishes_with_the_add_result(client):
    job = client.add("I play the cello.", user_id="bea", async_mode=True)
    assert isinstance(job, JobInfo) and job.message_ids
    deadline = time.monotonic() + 60
    while not job.status.finished and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get_job(job.id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result is not None and any("cello" in e.memory for e in job.result.results)
    assert any("cello" in m.memory for m in client.get_all(user_id="bea"))


def test_errors_are_the_library_classes_with_status_and_request_id(client):
    cases = [
        (lambda: client.get("0123456789abcdef", user_id="ana"), MemoryNotFoundError, 404),
        (lambda: client.get_all(user_id="ana", filters={"colour": "red"}), FilterError, 400),
        (lambda: client.search("tea"), ScopeError, 400),
        (lambda: client.delete_all(), ScopeError, 400),
        (lambda: client.search("x" * 10_001, user_id="ana"), InputTooLargeError, 413),
        (lambda: client.search("tea", user_id="ana", limit=0), UserInputError, 400),
    ]
    for call, expected, status in cases:
        with pytest.raises(expected) as caught:
            call()
        assert caught.value.status == status, (expected, caught.value.problem)
        assert caught.value.request_id
    with pytest.raises(FilterError, match="metadata.colour"):
        client.search("tea", user_id="ana", filters={"colour": "red"})
    with pytest.raises(UserInputError, match="actor"):
        client.add("I like tea.", user_id="ana", actor="someone")


def test_an_ambiguous_prefix_lists_its_candidates(client):
    client.import_records(
        [
            {
                "type": "memory",
                "id": mid,
                "memory": f"Memory {mid}.",
                "kind": "fact",
                "user_id": "cy",
                "hash": f"h{mid}",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
            }
            for mid in ("3fdb7c781bac0001", "3fdb7c781bac0002")
        ]
    )
    with pytest.raises(AmbiguousIdError) as caught:
        client.get("3fdb7c781bac", user_id="cy")
    assert caught.value.candidates == ["3fdb7c781bac0001", "3fdb7c781bac0002"]


def test_a_tenant_never_sees_another_tenants_memories(server, client):
    client.add("My locker code is 4711.", user_id="dan", infer=False)
    mine = client.get_all(user_id="dan")[0]
    with MemoryClient(server.url, api_key=server.create_key("other")) as other:
        assert other.get_all(user_id="dan") == []
        assert other.search("locker code", user_id="dan") == []
        with pytest.raises(MemoryNotFoundError):
            other.get(mine.id, all_scopes=True)
        with pytest.raises(MemoryNotFoundError):
            other.delete(mine.id, user_id="dan")
    assert client.get(mine.id, user_id="dan").memory == mine.memory


def test_a_missing_or_wrong_key_is_an_authentication_error(server):
    for key in (None, "hm_not-a-key"):
        with MemoryClient(server.url, api_key=key) as anonymous:
            with pytest.raises(AuthenticationError) as caught:
                anonymous.get_all(user_id="ana")
        assert caught.value.status == 401


def test_the_async_client_does_the_same_over_the_same_service(server):
    async def run(key: str) -> dict[str, Any]:
        async with AsyncMemoryClient(server.url, api_key=key) as memory:
            added = await memory.add(CONVERSATION[0], user_id="eve")
            hits = await memory.search("Where does Ana live?", user_id="eve")
            context = await memory.get_context("Where?", user_id="eve", token_budget=200)
            every = await memory.get_all(user_id="eve")
            job = await memory.add("I play chess.", user_id="eve", async_mode=True)
            with pytest.raises(MemoryNotFoundError):
                await memory.get("0123456789abcdef", user_id="eve")
            with pytest.raises(FilterError):
                await memory.get_all(user_id="eve", filters={"colour": 1})
            return {
                "added": [e.memory for e in added.results],
                "hit": hits[0].memory,
                "context": context.tokens <= 200 and "Porto" in context.text,
                "all": len(every),
                "job": await memory.get_job(job.id),
                "deleted": await memory.delete_all(user_id="eve"),
            }

    seen = asyncio.run(run(server.create_key("asyncco")))
    assert "Porto" in seen["hit"] and seen["context"] and seen["all"] == len(seen["added"])
    assert seen["job"].status in set(JobStatus) and seen["deleted"] >= seen["all"]
