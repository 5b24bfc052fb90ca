"""Worker processes sharing one memory on server backends (PostgreSQL + a vector server).

Each worker is its own process with its own :class:`HybridMemory`, configured from the
environment only (``HYBRID_MEMORY_RECORDS__KIND=postgres`` ...), as a deployment's workers are.

    python -m benchmarks.workers --worker 0 --users 50 --rounds 2 --out acks-0.jsonl

For every round and user (in the same order in every worker, so workers collide on the same
user), a worker adds two messages in that user's scope: ``I like green tea.`` (the same fact
from every worker: it must be stored once, with every message as a source) and
``I live in City<w>x<r>.`` (a new home: the user keeps one current home, and every home a
worker stored is kept, current or former). After each add returns, the worker appends a line
to ``--out``: the add is acknowledged. :func:`check` verifies the shared stores afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def server_env(dsn: str, schema: str, host: str, port: int, collection: str) -> dict[str, str]:
    """The environment that points a memory at PostgreSQL + a Chroma server."""
    return {
        "HYBRID_MEMORY_RECORDS__KIND": "postgres",
        "HYBRID_MEMORY_POSTGRES__DSN": dsn,
        "HYBRID_MEMORY_POSTGRES__SCHEMA_NAME": schema,
        "HYBRID_MEMORY_POSTGRES__POOL_SIZE": "4",
        "HYBRID_MEMORY_VECTORS__KIND": "chroma-server",
        "HYBRID_MEMORY_CHROMA_SERVER__HOST": host,
        "HYBRID_MEMORY_CHROMA_SERVER__PORT": str(port),
        "HYBRID_MEMORY_CHROMA_SERVER__COLLECTION": collection,
        "HYBRID_MEMORY_EMBEDDING_MODEL": "hashing",
        "ANONYMIZED_TELEMETRY": "False",
    }


def user_name(u: int) -> str:
    return f"User{u:02d}"


def messages(worker: int, rnd: int, u: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The adds of one worker, round and user: ``(kind, value, message)``."""
    name, city = user_name(u), f"City{worker}x{rnd}"
    said = {"role": "user", "name": name}
    return [
        ("tea", "", {**said, "content": "I like green tea.", "id": f"tea-{worker}-{rnd}-{u}"}),
        ("home", city, {**said, "content": f"I live in {city}.", "id": f"home-{worker}-{rnd}-{u}"}),
    ]


def run_worker(worker: int, users: int, rounds: int, out: Path) -> None:
    """Add this worker's messages, acknowledging each in ``out`` once the add returned."""
    from hybrid_memory import HybridMemory, MemoryConfig

    with HybridMemory(MemoryConfig()) as memory, open(out, "a", encoding="utf-8") as acks:
        for rnd in range(rounds):
            for u in range(users):
                for kind, value, message in messages(worker, rnd, u):
                    started = time.perf_counter()
                    memory.add(message, user_id=user_name(u).lower())
                    seconds = time.perf_counter() - started
                    ack = {"id": message["id"], "user": user_name(u).lower(), "kind": kind}
                    acks.write(json.dumps({**ack, "value": value, "s": seconds}) + "\n")
                    acks.flush()


def run_http_client(url: str, client: int, users: int, rounds: int, out: Path) -> None:
    """The same adds as :func:`run_worker`, through the service's ``POST /v1/memories``; an
    add is acknowledged when it is answered 200 (a request that fails is not)."""
    import httpx

    with httpx.Client(base_url=url, timeout=120) as http, open(out, "a", encoding="utf-8") as acks:
        for rnd in range(rounds):
            for u in range(users):
                for kind, value, message in messages(client, rnd, u):
                    uid = user_name(u).lower()
                    started = time.perf_counter()
                    try:
                        answer = http.post(
                            "/v1/memories", json={"messages": [message], "user_id": uid}
                        )
                    except httpx.HTTPError:
                        continue
                    if answer.status_code != 200:
                        continue
                    ack = {"id": message["id"], "user": uid, "kind": kind, "value": value}
                    acks.write(json.dumps({**ack, "s": time.perf_counter() - started}) + "\n")
                    acks.flush()


@dataclass
class Verdict:
    """What the shared stores hold after a run, against what workers acknowledged."""

    acknowledged: int = 0
    memories: int = 0
    vectors: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)


def read_acks(paths: Sequence[Path]) -> list[dict[str, Any]]:
    acks = []
    for path in paths:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.endswith("}"):  # a line cut by a kill is not an acknowledgement
                    acks.append(json.loads(line))
    return acks


def tea_ids(acks: list[dict[str, Any]], u: int) -> set[str]:
    """Every tea message id user ``u`` could have been sent: each worker and round seen in
    any acknowledgement (a killed worker's other adds are acknowledged)."""
    seen = [a["id"].split("-") for a in acks]
    workers = 1 + max((int(p[1]) for p in seen), default=0)
    rounds = 1 + max((int(p[2]) for p in seen), default=0)
    return {f"tea-{w}-{r}-{u}" for w in range(workers) for r in range(rounds)}


def check(records: Any, vectors: Any, acks: list[dict[str, Any]], users: int) -> Verdict:
    """Verify the stores (read directly, not through a memory, which would repair on open):
    per user one current ``likes green tea`` fact whose sources are that user's extracted tea
    messages up to the cap on sources per memory (acknowledged or not: an add cut by a kill
    may have landed), one current home, every acknowledged home
    stored (current or former), no two current memories with the same content, every
    acknowledged message extracted; the outbox empty and the vector store holding exactly the
    stored memories."""
    from hybrid_memory.memory.changes import SOURCES_CAP
    from hybrid_memory.models import MemoryStatus, Scope
    from stores.base import ALL_STATUSES, MemoryQuery

    verdict = Verdict(acknowledged=len(acks), pending=len(records.pending()))
    problems = verdict.problems
    all_ids: list[str] = []
    for u in range(users):
        uid = user_name(u).lower()
        scope = Scope(user_id=uid)
        items = records.find_memories(scope, MemoryQuery(statuses=ALL_STATUSES))
        all_ids += [i.id for i in items]
        active = [i for i in items if i.status == MemoryStatus.ACTIVE]
        mine = [a for a in acks if a["user"] == uid]
        tea = [i for i in active if i.memory == f"{user_name(u)} likes green tea."]
        if mine and len(tea) != 1:
            problems.append(f"{uid}: {len(tea)} current tea facts")
        # A memory lists at most SOURCES_CAP of the messages that said it (the first ones it
        # was extracted from). An add that was not acknowledged may still have landed (a
        # worker killed after the store committed, before it could acknowledge), so the
        # sources are checked against every tea message of this user that was extracted:
        # only this user's tea messages, each of them up to the cap, every acknowledged one
        # among the extracted.
        said = {a["id"] for a in mine if a["kind"] == "tea"}
        landed = records.extracted(scope, sorted(tea_ids(acks, u) | said))
        sources = set(tea[0].sources if tea else [])
        if sources - landed:
            stray = sorted(sources - landed)[:5]
            problems.append(f"{uid}: tea sources not among its extracted messages: {stray}")
        if landed and len(sources) != min(SOURCES_CAP, len(landed)):
            problems.append(
                f"{uid}: tea fact lists {len(sources)} of {len(landed)} extracted messages "
                f"(the cap is {SOURCES_CAP}): a restatement was lost"
            )
        homes = [i for i in active if i.attribute == "home"]
        if mine and len(homes) != 1:
            problems.append(f"{uid}: {len(homes)} current homes: {[h.memory for h in homes]}")
        stored = {i.memory for i in items if i.attribute == "home"}
        for a in mine:
            if a["kind"] == "home" and f"{user_name(u)} lives in {a['value']}." not in stored:
                problems.append(f"{uid}: acknowledged home {a['value']} lost")
        hashes = [i.hash for i in active]
        if len(hashes) != len(set(hashes)):
            problems.append(f"{uid}: duplicate current memories")
        done = records.extracted(scope, [a["id"] for a in mine])
        if len(done) != len(mine):
            problems.append(f"{uid}: {len(mine) - len(done)} acknowledged messages not extracted")
    verdict.memories = len(all_ids)
    verdict.vectors = vectors.count()
    if verdict.vectors != verdict.memories or len(vectors.get_vectors(all_ids)) != len(all_ids):
        problems.append(
            f"vector store holds {verdict.vectors} vectors for {verdict.memories} memories"
        )
    if verdict.pending:
        problems.append(f"{verdict.pending} vector operations still in the outbox")
    return verdict


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    run_worker(args.worker, args.users, args.rounds, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
