"""Tenant isolation through a real server: two tenants with the same user ids, and a seeded
random run of more than 2,000 operations that try to cross over (the other tenant's memory ids
and job ids in paths, scope ids, filters, extra body fields and headers, imports of the other
tenant's records). A plain-dict model says what each tenant must see; every answer is checked
against it, and at the end each tenant's memories are exactly the model's."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tests.service_process import serve

TENANTS = ("t-one", "t-two")
USERS = ("alice", "bob", "carol")
OPERATIONS = 2_100
SEED = 20261202


@dataclass
class World:
    """The two clients and the model: tenant -> memory id -> (user, text)."""

    http: dict[str, httpx.Client]
    rng: random.Random
    model: dict[str, dict[str, tuple[str, str]]] = field(
        default_factory=lambda: {t: {} for t in TENANTS}
    )
    jobs: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in TENANTS})
    ever: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TENANTS})
    """Every memory id a tenant has had (its history outlives a delete)."""
    counter: int = 0
    crossings: int = 0

    def remember(self, tenant: str, memory_id: str, user: str, text: str) -> None:
        self.model[tenant][memory_id] = (user, text)
        self.ever[tenant].add(memory_id)

    def other(self, tenant: str) -> str:
        return TENANTS[1 - TENANTS.index(tenant)]

    def foreign_id(self, tenant: str) -> str | None:
        """A memory id the other tenant has and this one never had."""
        mine = self.ever[tenant]
        theirs = [i for i in self.model[self.other(tenant)] if i not in mine]
        return self.rng.choice(theirs) if theirs else None

    def own(self, tenant: str) -> str | None:
        ids = list(self.model[tenant])
        return self.rng.choice(ids) if ids else None

    def text(self) -> str:
        self.counter += 1
        words = self.rng.sample(["tea", "ski", "jazz", "rome", "chess", "kayak", "opera"], 3)
        return f"note {self.counter}: " + " ".join(words)

    def crafted(self, tenant: str) -> dict[str, str]:
        """Headers and query parameters that name the other tenant (all ignored)."""
        other = self.other(tenant)
        return self.rng.choice([{}, {"X-Tenant-ID": other}, {"X-Tenant": other}])


def add(world: World, tenant: str) -> None:
    user, text = world.rng.choice(USERS), world.text()
    body = {"messages": text, "user_id": user, "infer": False}
    if world.rng.random() < 0.3:
        body["metadata"] = {"tenant_id": world.other(tenant), "tenant": world.other(tenant)}
    answer = world.http[tenant].post("/v1/memories", json=body, headers=world.crafted(tenant))
    assert answer.status_code == 200, answer.text
    added = [e for e in answer.json()["results"] if e["event"] == "ADD"]
    assert len(added) == 1
    world.remember(tenant, added[0]["id"], user, text)


def add_in_background(world: World, tenant: str) -> None:
    user, text = world.rng.choice(USERS), world.text()
    body = {"messages": text, "user_id": user, "infer": False, "async_mode": True}
    answer = world.http[tenant].post("/v1/memories", json=body)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    other = world.other(tenant)
    assert world.http[other].get(f"/v1/jobs/{job_id}").status_code == 404
    world.crossings += 1
    deadline = time.monotonic() + 30
    while (job := world.http[tenant].get(f"/v1/jobs/{job_id}").json())["status"] != "succeeded":
        assert job["status"] in ("accepted", "running") and time.monotonic() < deadline, job
        time.sleep(0.01)
    added = [e for e in job["result"]["results"] if e["event"] == "ADD"]
    world.remember(tenant, added[0]["id"], user, text)
    world.jobs[tenant].append(job_id)


def read_foreign(world: World, tenant: str) -> None:
    memory_id = world.foreign_id(tenant)
    if memory_id is None:
        return
    user = world.model[world.other(tenant)][memory_id][0]
    params = world.rng.choice([{}, {"user_id": user}])
    http = world.http[tenant]
    path = world.rng.choice([f"/v1/memories/{memory_id}", f"/v1/memories/{memory_id}/history"])
    answer = http.get(path, params=params, headers=world.crafted(tenant))
    assert answer.status_code == 404, answer.text
    world.crossings += 1


def write_foreign(world: World, tenant: str) -> None:
    memory_id = world.foreign_id(tenant)
    if memory_id is None:
        return
    http = world.http[tenant]
    if world.rng.random() < 0.5:
        answer = http.put(f"/v1/memories/{memory_id}", json={"text": "taken over"})
    else:
        answer = http.delete(f"/v1/memories/{memory_id}")
    assert answer.status_code == 404, answer.text
    world.crossings += 1


def read_own(world: World, tenant: str) -> None:
    memory_id = world.own(tenant)
    if memory_id is None:
        return
    user, text = world.model[tenant][memory_id]
    answer = world.http[tenant].get(f"/v1/memories/{memory_id}", params={"user_id": user})
    assert answer.status_code == 200 and answer.json()["memory"] == text, answer.text


def write_own(world: World, tenant: str) -> None:
    memory_id = world.own(tenant)
    if memory_id is None:
        return
    user, _ = world.model[tenant][memory_id]
    http = world.http[tenant]
    if world.rng.random() < 0.6:
        text = world.text()
        answer = http.put(f"/v1/memories/{memory_id}", json={"text": text})
        assert answer.status_code == 200, answer.text
        world.model[tenant][memory_id] = (user, text)
    else:
        assert http.delete(f"/v1/memories/{memory_id}").json() == {"deleted": 1}
        del world.model[tenant][memory_id]


def expected(world: World, tenant: str, user: str) -> dict[str, str]:
    return {i: text for i, (u, text) in world.model[tenant].items() if u == user}


def list_scope(world: World, tenant: str) -> None:
    user = world.rng.choice(USERS)
    params: dict[str, str | int] = {"user_id": user, "limit": 1000}
    if world.rng.random() < 0.3:
        params["filters"] = json.dumps({"metadata.tenant": world.other(tenant)})
        answer = world.http[tenant].get("/v1/memories", params=params).json()
        assert {m["id"] for m in answer["results"]} <= set(expected(world, tenant, user))
        return
    answer = world.http[tenant].get("/v1/memories", params=params, headers=world.crafted(tenant))
    got = {m["id"]: m["memory"] for m in answer.json()["results"]}
    assert got == expected(world, tenant, user)


def search_scope(world: World, tenant: str) -> None:
    user = world.rng.choice(USERS)
    query = world.text()
    body = {"query": query, "user_id": user, "limit": 20}
    answer = world.http[tenant].post("/v1/search", json=body, headers=world.crafted(tenant))
    hits = {h["id"] for h in answer.json()["results"]}
    assert hits <= set(expected(world, tenant, user))
    crossing = world.http[tenant].post("/v1/search", json={**body, "tenant_id": "x"})
    assert crossing.status_code == 422
    world.crossings += 1


def export_scope(world: World, tenant: str) -> None:
    user = world.rng.choice(USERS)
    text = world.http[tenant].get("/v1/export", params={"user_id": user}).text
    records = [json.loads(line) for line in text.splitlines()]
    memories = {r["id"] for r in records if r["type"] == "memory" and r["status"] == "active"}
    assert memories == set(expected(world, tenant, user))


def import_foreign(world: World, tenant: str) -> None:
    """The other tenant's exported record, imported here: it lands in this tenant only."""
    memory_id = world.foreign_id(tenant)
    if memory_id is None:
        return
    other = world.other(tenant)
    user, their_text = world.model[other][memory_id]
    lines = world.http[other].get("/v1/export", params={"user_id": user}).text.splitlines()
    record = next(r for r in map(json.loads, lines) if r.get("id") == memory_id)
    record["memory"] = world.text()
    answer = world.http[tenant].post("/v1/import", content=json.dumps(record) + "\n")
    assert answer.status_code == 200 and answer.json()["memories"] == 1, answer.text
    world.remember(tenant, memory_id, user, record["memory"])
    theirs = world.http[other].get(f"/v1/memories/{memory_id}").json()
    assert theirs["memory"] == their_text
    world.crossings += 1


def clear_scope(world: World, tenant: str) -> None:
    user = world.rng.choice(USERS)
    gone = world.http[tenant].delete("/v1/memories", params={"user_id": user}).json()["deleted"]
    mine = expected(world, tenant, user)
    assert gone == len(mine)
    for memory_id in mine:
        del world.model[tenant][memory_id]


STEPS: list[tuple[Callable[[World, str], None], int]] = [
    (add, 26),
    (add_in_background, 3),
    (read_foreign, 14),
    (write_foreign, 10),
    (read_own, 10),
    (write_own, 8),
    (list_scope, 10),
    (search_scope, 8),
    (export_scope, 4),
    (import_foreign, 3),
    (clear_scope, 1),
]


@pytest.mark.slow
def test_no_request_reads_or_writes_another_tenants_memories(tmp_path):
    with serve(tmp_path / "data") as server:
        keys = {t: server.create_key(t) for t in TENANTS}
        clients = {t: server.client(keys[t]) for t in TENANTS}
        world = World(clients, random.Random(SEED))
        steps, weights = zip(*STEPS, strict=True)
        try:
            for _ in range(OPERATIONS):
                step = world.rng.choices(steps, weights)[0]
                step(world, world.rng.choice(TENANTS))
            for tenant in TENANTS:
                for user in USERS:
                    answer = clients[tenant].get(
                        "/v1/memories", params={"user_id": user, "limit": 1000}
                    )
                    got = {m["id"]: m["memory"] for m in answer.json()["results"]}
                    assert got == expected(world, tenant, user)
        finally:
            for client in clients.values():
                client.close()
    assert world.crossings >= 500
    assert all(len(world.ever[t]) > 200 for t in TENANTS)
