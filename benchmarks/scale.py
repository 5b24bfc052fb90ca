"""Latency and scale: add / search / get_context as one scope grows and as scopes multiply.

    python -m benchmarks.scale --sizes 1000,10000 --users 1,100,1000 --out benchmarks/results/scale

For each size, one user's scope is filled with generated memories (``infer=False``, batches of
``--batch``, so the store and not the extractor is measured); then single adds, searches and
get_context calls are timed, and resident memory and disk size are recorded. For each user
count, every user gets ``--per-user`` memories and searches go to random users. ``--mem0`` runs
Mem0 (``infer=False``, local Qdrant, the same model files) on the same size steps.
Figures depend on the machine: compare runs made on the same one, in one run.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUBJECTS = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
VERBS = [
    "visited",
    "talked about",
    "cooked",
    "painted",
    "read about",
    "photographed",
    "planned a trip to",
    "wrote a poem about",
    "bought a map of",
    "dreamed of",
]
OBJECTS = [
    "the old harbour",
    "a mountain lake",
    "Kyoto temples",
    "a jazz club",
    "the desert",
    "a lighthouse",
    "Lisbon trams",
    "a night market",
    "the northern lights",
    "a vineyard",
]
QUESTIONS = [
    "Who visited the old harbour?",
    "What did Chen cook?",
    "Where did Ana travel?",
    "Who wrote a poem about the desert?",
    "What did Hana photograph?",
]


def question(i: int) -> str:
    """The ``i``-th of 100 distinct questions (a repeated one would come from the query-vector
    cache and time no embedding)."""
    return f"Who {VERBS[i % len(VERBS)]} {OBJECTS[(i // len(VERBS)) % len(OBJECTS)]}?"


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} on day {i} "
        f"with {rng.choice(SUBJECTS)} and noted detail {rng.randint(0, 10**6)}."
        for i in range(n)
    ]


def _stats(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    out = {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)], 2),
    }
    cpu = getattr(values, "cpu", None)
    if cpu:
        ordered = sorted(cpu)
        out["cpu_p50_ms"] = round(1000 * statistics.median(ordered), 2)
        out["cpu_p95_ms"] = round(1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)], 2)
    return out


def _rss_mb() -> float:
    # ru_maxrss is the peak resident set size, in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


class Timings(list):
    """Wall seconds of each call, with the process's CPU seconds of each in ``cpu``: on a
    machine others share, CPU time is what a call would cost alone."""

    cpu: list[float]


def _timed(fn, repeat: int) -> Timings:
    out = Timings()
    out.cpu = []
    for i in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn(i)
        out.append(time.perf_counter() - start)
        out.cpu.append(time.process_time() - cpu)
    return out


def hybrid_sizes(embedder: Any, sizes: list[int], batch: int, queries: int) -> list[dict]:
    from hybrid_memory import HybridMemory, MemoryConfig

    results = []
    texts = sentences(max(sizes) + 200, seed=1)
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        memory = HybridMemory(MemoryConfig(data_dir=Path(tmp), embedder=embedder))
        filled = 0
        for size in sizes:
            start = time.perf_counter()
            while filled < size:
                chunk = texts[filled : min(size, filled + batch)]
                memory.add(
                    [
                        {"role": "user", "content": t, "id": f"s{filled + i}"}
                        for i, t in enumerate(chunk)
                    ],
                    user_id="u",
                    infer=False,
                )
                filled += len(chunk)
            fill_s = time.perf_counter() - start
            extra = texts[size + 100 : size + 150]
            adds = _timed(
                lambda i, extra=extra, size=size: memory.add(
                    {"role": "user", "content": extra[i] + f" #{size}", "id": f"x{size}-{i}"},
                    user_id="u",
                    infer=False,
                ),
                len(extra),
            )
            filled += len(extra)
            search = _timed(lambda i: memory.search(question(i), user_id="u"), queries)
            context = _timed(
                lambda i: memory.get_context(question(i + 50), user_id="u", token_budget=1500),
                queries,
            )
            results.append(
                {
                    "system": "hybrid",
                    "memories": size,
                    "batched_add_per_s": round(batch_rate(size, results, fill_s), 1),
                    "add": _stats(adds),
                    "search": _stats(search),
                    "get_context": _stats(context),
                    "rss_mb": _rss_mb(),
                    "disk_mb": _disk_mb(Path(tmp)),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        memory.close()
    return results


def batch_rate(size: int, previous: list[dict], seconds: float) -> float:
    """Memories added per second during the fill of this step."""
    before = previous[-1]["memories"] if previous else 0
    return (size - before) / seconds if seconds > 0 else 0.0


def hybrid_users(embedder: Any, user_counts: list[int], per_user: int, queries: int) -> list[dict]:
    from hybrid_memory import HybridMemory, MemoryConfig

    results = []
    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="scale-users-") as tmp:
        memory = HybridMemory(MemoryConfig(data_dir=Path(tmp), embedder=embedder))
        users = 0
        for count in user_counts:
            while users < count:
                texts = sentences(per_user, seed=users)
                memory.add(
                    [
                        {"role": "user", "content": t, "id": f"u{users}-{i}"}
                        for i, t in enumerate(texts)
                    ],
                    user_id=f"user-{users}",
                    infer=False,
                )
                users += 1
            search = _timed(
                lambda i, count=count: memory.search(
                    question(i), user_id=f"user-{rng.randrange(count)}"
                ),
                queries,
            )
            results.append(
                {
                    "system": "hybrid",
                    "users": count,
                    "memories": count * per_user,
                    "search": _stats(search),
                    "rss_mb": _rss_mb(),
                    "disk_mb": _disk_mb(Path(tmp)),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        memory.close()
    return results


def mem0_sizes(embedder: Any, sizes: list[int], queries: int) -> list[dict]:
    from benchmarks.locomo import _model_path, make_mem0

    results = []
    texts = sentences(max(sizes) + 200, seed=1)
    with tempfile.TemporaryDirectory(prefix="scale-mem0-") as tmp:
        memory = make_mem0(Path(tmp), _model_path(embedder), embedder.dimension, "scale")
        filled = 0
        for size in sizes:
            start = time.perf_counter()
            while filled < size:  # Mem0 stores one memory per message with infer=False
                memory.add([{"role": "user", "content": texts[filled]}], user_id="u", infer=False)
                filled += 1
            fill_s = time.perf_counter() - start
            search = _timed(
                lambda i: memory.search(question(i), filters={"user_id": "u"}, top_k=10),
                queries,
            )
            results.append(
                {
                    "system": "mem0",
                    "memories": size,
                    "batched_add_per_s": round(batch_rate(size, results, fill_s), 1),
                    "search": _stats(search),
                    "disk_mb": _disk_mb(Path(tmp)),
                }
            )
            print(json.dumps(results[-1]), flush=True)
    return results


def mem0_ratios(rows: list[dict]) -> list[dict]:
    """Mem0's search time over hybrid-memory's at each size both ran (higher = we are faster)."""
    ours = {r["memories"]: r for r in rows if r["system"] == "hybrid"}
    out = []
    for theirs in (r for r in rows if r["system"] == "mem0"):
        mine = ours.get(theirs["memories"])
        if mine is None:
            continue
        out.append(
            {
                "memories": theirs["memories"],
                "search_p50_ratio": round(theirs["search"]["p50_ms"] / mine["search"]["p50_ms"], 2),
                "search_p95_ratio": round(theirs["search"]["p95_ms"] / mine["search"]["p95_ms"], 2),
            }
        )
    return out


def plot(result: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for system in ("hybrid", "mem0"):
        rows = [r for r in result["sizes"] if r["system"] == system]
        if not rows:
            continue
        xs = [r["memories"] for r in rows]
        left.plot(
            xs, [r["search"]["p95_ms"] for r in rows], marker="o", label=f"{system} search p95"
        )
        if system == "hybrid":
            left.plot(
                xs,
                [r["get_context"]["p95_ms"] for r in rows],
                marker="s",
                label="hybrid get_context p95",
            )
            left.plot(
                xs, [r["add"]["p95_ms"] for r in rows], marker="^", label="hybrid single add p95"
            )
    left.set(
        xscale="log",
        xlabel="memories in one scope",
        ylabel="ms",
        title="Latency as one scope grows",
    )
    left.legend()
    users = result.get("users", [])
    if users:
        right.plot(
            [r["users"] for r in users],
            [r["search"]["p95_ms"] for r in users],
            marker="o",
            label="hybrid search p95",
        )
        right.set(xscale="log", xlabel="users", ylabel="ms", title="Latency as users multiply")
        right.legend()
    fig.tight_layout()
    path = out / "scale.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="e.g. 1000,10000,100000")
    parser.add_argument("--users", default="1,100,1000", help="e.g. 1,100,10000")
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--mem0", action="store_true", help="also run Mem0 on the size steps")
    parser.add_argument(
        "--embedder",
        default="all-MiniLM-L6-v2",
        help="all-MiniLM-L6-v2 (onnxruntime), sentence-transformers:<model> (torch), hashing",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale"))
    parser.add_argument(
        "--backend",
        default=None,
        help="embedded and/or postgres+chroma-server (comma-separated): throughput with "
        "--workers processes instead of the single-process steps (benchmarks/scale_workers.py)",
    )
    parser.add_argument("--workers", default="1,2,4", help="worker processes, e.g. 1,2,4")
    parser.add_argument("--worker-adds", type=int, default=100, help="adds per worker")
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 dbname=test")
    parser.add_argument(
        "--only",
        default="sizes,users,mem0",
        help="which parts to run (comma-separated: sizes, users, mem0); run them as separate "
        "processes and merge with benchmarks.speed_report",
    )
    args = parser.parse_args(argv)
    if args.backend:
        from benchmarks.scale_workers import run

        args.users = int(args.users.split(",")[-1])
        rows = run(args)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "workers.json").write_text(json.dumps(rows, indent=2) + "\n")
        return 0
    sizes = sorted(int(x) for x in args.sizes.split(",") if x)
    user_counts = sorted(int(x) for x in args.users.split(",") if x)
    from hybrid_memory.embeddings import load_embedder

    embedder = load_embedder(args.embedder)
    result: dict[str, Any] = {"embedder": embedder.name, "backend": type(embedder).__name__}
    run = set(args.only.split(","))
    result["sizes"] = (
        hybrid_sizes(embedder, sizes, args.batch, args.queries) if "sizes" in run else []
    )
    if user_counts and "users" in run:
        result["users"] = hybrid_users(embedder, user_counts, args.per_user, args.queries)
    if args.mem0 and "mem0" in run:
        result["sizes"] += mem0_sizes(embedder, sizes, args.queries)
        result["mem0_ratio"] = mem0_ratios(result["sizes"])
        print(json.dumps({"mem0_ratio": result["mem0_ratio"]}), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {plot(result, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
