"""Latency of the core operations on the embedded defaults (real embedder, chromadb, SQLite).

    python -m benchmarks.core_latency --turns 600 --queries 100

Ingests generated conversational turns into one user (one message per add, then batches of
``--batch``), then times ``search`` and ``get_context``. Prints medians and p95 in milliseconds
and writes JSON with ``--out``. Numbers depend on the machine; compare runs made on the same one.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana"]
PLACES = ["Lisbon", "Boston", "Kyoto", "Denver", "Oslo", "Lima", "Porto", "Seattle"]
ACTIVITIES = [
    "hiking",
    "painting",
    "running",
    "baking bread",
    "chess",
    "pottery",
    "surfing",
    "learning Spanish",
    "gardening",
    "playing the guitar",
]
TEMPLATES = [
    "I went {activity} with {name} near {place} yesterday.",
    "My sister {name} just moved to {place}.",
    "I'm planning a trip to {place} next month to try {activity}.",
    "I started {activity} last week and I love it.",
    "{name} and I talked about {activity} for hours.",
    "I work at a small studio in {place} now.",
    "We adopted a dog named {name} last spring.",
    "I've been {activity} every weekend since I moved to {place}.",
]
QUESTIONS = [
    "Where did {name} move to?",
    "What does the user do on weekends?",
    "When did the user start {activity}?",
    "Who went {activity} near {place}?",
    "What is the dog's name?",
]


def _turns(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 9, 0)
    out = []
    for i in range(n):
        text = rng.choice(TEMPLATES).format(
            name=rng.choice(NAMES), place=rng.choice(PLACES), activity=rng.choice(ACTIVITIES)
        )
        when = start + timedelta(hours=7 * i)
        out.append(
            {
                "role": "user",
                "name": "Sam",
                "content": text,
                "id": f"t{i}",
                "timestamp": when.isoformat(),
            }
        )
    return out


def _questions(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct questions (a repeated one would be answered from the query cache)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        q = rng.choice(QUESTIONS).format(
            name=rng.choice(NAMES), place=rng.choice(PLACES), activity=rng.choice(ACTIVITIES)
        )
        if q in seen:
            q = f"{q[:-1]}, in week {len(out)}?"
        seen.add(q)
        out.append(q)
    return out


def _throughput(memory, questions: list[str], threads: int) -> float:
    """Searches per second with ``threads`` threads searching at once (distinct queries)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        start = time.perf_counter()
        list(pool.map(lambda q: memory.search(q, user_id="bench"), questions))
        return len(questions) / (time.perf_counter() - start)


def _stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)], 2),
    }


def run(turns: int, queries: int, batch: int, seed: int, threads: int = 8) -> dict:
    from hybrid_memory import HybridMemory, MemoryConfig

    data = _turns(turns, seed)
    half = turns // 2
    rng = random.Random(seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        memory = HybridMemory(MemoryConfig(data_dir=Path(tmp)))
        open_s = time.perf_counter() - t0
        single = []
        for message in data[:half]:
            t = time.perf_counter()
            memory.add(message, user_id="bench", run_id="r1")
            single.append(time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(half, turns, batch):
            memory.add(data[i : i + batch], user_id="bench", run_id="r2")
        batched_s = time.perf_counter() - t
        n_memories = len(memory.get_all(user_id="bench", include_superseded=True))
        questions = _questions(rng, queries)
        memory.search("warm-up", user_id="bench")
        search, context = [], []
        for q in questions:
            t = time.perf_counter()
            memory.search(q, user_id="bench", limit=10)
            search.append(time.perf_counter() - t)
            t = time.perf_counter()
            memory.get_context(q, user_id="bench", run_id="r2", token_budget=1500)
            context.append(time.perf_counter() - t)
        rates = {n: _throughput(memory, _questions(rng, 4 * queries), n) for n in (1, threads)}
        memory.close()
    return {
        "turns": turns,
        "memories": n_memories,
        "open_s": round(open_s, 2),
        "add_single": _stats(single),
        "add_batched_turns_per_s": round((turns - half) / batched_s, 1),
        "batch": batch,
        "search": _stats(search),
        "get_context": _stats(context),
        "threads": threads,
        "searches_per_s": {str(n): round(r, 1) for n, r in rates.items()},
        "thread_speedup": round(rates[threads] / rates[1], 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=8, help="threads of the throughput run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run(args.turns, args.queries, args.batch, args.seed, args.threads)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
