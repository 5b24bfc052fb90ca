"""Throughput and latency with several worker processes on one deployment.

    python -m benchmarks.scale --backend postgres+chroma-server --workers 1,2,4 --sizes 10000

A deployment is filled with ``size`` memories spread over ``--users`` users (batched,
``infer=False``, from one process); then for each worker count W, W processes (each its own
:class:`HybridMemory`, configured from the environment, as a deployment's workers are) start
together and each runs ``--worker-adds`` adds (the whole add path: extraction, consolidation,
commit, vector write) for random users; once every worker is done adding, they all run
``--queries`` searches for random users. Add and
search throughput are all operations over the wall time from the first start to the last end;
p50/p95 are over every operation of every worker. ``embedded`` (SQLite + embedded chroma)
allows one process, so it runs at one worker only. PostgreSQL (127.0.0.1:5432, database
``test`` unless ``--pg-dsn``) must be running; the Chroma server is started here.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.scale import QUESTIONS, _stats, sentences
from benchmarks.servers import chroma_server
from benchmarks.workers import server_env

ROOT = Path(__file__).resolve().parent.parent


def _env(backend: str, tmp: Path, dsn: str, address: tuple[str, int] | None, embedder: str):
    if backend == "embedded":
        return {
            "HYBRID_MEMORY_DATA_DIR": str(tmp / "data"),
            "HYBRID_MEMORY_EMBEDDING_MODEL": embedder,
        }
    assert address is not None
    schema = f"hm_bench_{uuid.uuid4().hex[:10]}"
    env = server_env(dsn, schema, address[0], address[1], f"bench-{uuid.uuid4().hex}")
    return {**env, "HYBRID_MEMORY_EMBEDDING_MODEL": embedder, "HYBRID_MEMORY_DATA_DIR": str(tmp)}


def _fill(env: dict[str, str], size: int, users: int, batch: int = 200) -> float:
    """Store ``size`` memories over ``users`` users from this process; returns seconds."""
    from hybrid_memory import HybridMemory, MemoryConfig

    os.environ.update(env)
    texts = sentences(size, seed=1)
    start = time.perf_counter()
    with HybridMemory(MemoryConfig()) as memory:
        per_user = max(1, size // users)
        for u in range(users):
            mine = texts[u * per_user : (u + 1) * per_user]
            for i in range(0, len(mine), batch):
                chunk = [
                    {"role": "user", "content": t, "id": f"fill-{u}-{i + k}"}
                    for k, t in enumerate(mine[i : i + batch])
                ]
                memory.add(chunk, user_id=f"user-{u}", infer=False)
    for name in env:
        os.environ.pop(name, None)
    return time.perf_counter() - start


def child(worker: int, adds: int, queries: int, users: int, go: Path, out: Path) -> None:
    """One worker: wait for ``go``, run its adds then its searches, write the timings."""
    from hybrid_memory import HybridMemory, MemoryConfig

    rng = random.Random(worker)
    texts = sentences(adds, seed=100 + worker)
    with HybridMemory(MemoryConfig()) as memory:
        out.with_suffix(".ready").touch()
        while not go.exists():
            time.sleep(0.01)
        timings: dict[str, Any] = {"add": [], "search": []}
        timings["add_start"] = time.time()
        for i, text in enumerate(texts):
            started = time.perf_counter()
            memory.add(
                {"role": "user", "content": text, "id": f"w{worker}-{uuid.uuid4().hex}-{i}"},
                user_id=f"user-{rng.randrange(users)}",
            )
            timings["add"].append(time.perf_counter() - started)
        timings["add_end"] = time.time()
        out.with_suffix(".added").touch()  # searches start together, once every worker added
        while not go.with_suffix(".search").exists():
            time.sleep(0.01)
        timings["search_start"] = time.time()
        for i in range(queries):
            started = time.perf_counter()
            memory.search(QUESTIONS[i % len(QUESTIONS)], user_id=f"user-{rng.randrange(users)}")
            timings["search"].append(time.perf_counter() - started)
        timings["search_end"] = time.time()
    out.write_text(json.dumps(timings))


def _round(env: dict[str, str], workers: int, args: Any, tmp: Path) -> dict[str, Any]:
    go = tmp / f"go-{workers}"
    outs = [tmp / f"w{workers}-{w}.json" for w in range(workers)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.scale_workers",
                str(w),
                str(args.worker_adds),
                str(args.queries),
                str(args.users),
                str(go),
                str(outs[w]),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        for w in range(workers)
    ]
    while not all(o.with_suffix(".ready").exists() for o in outs):
        if any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError("a worker failed to start")
        time.sleep(0.05)
    go.touch()
    while not all(o.with_suffix(".added").exists() for o in outs):
        if any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError("a worker failed")
        time.sleep(0.02)
    go.with_suffix(".search").touch()
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError(f"a worker exited with {p.returncode}")
    runs = [json.loads(o.read_text()) for o in outs]
    row: dict[str, Any] = {"workers": workers}
    for phase in ("add", "search"):
        values = [v for r in runs for v in r[phase]]
        wall = max(r[f"{phase}_end"] for r in runs) - min(r[f"{phase}_start"] for r in runs)
        row[phase] = {"per_s": round(len(values) / wall, 1), **_stats(values)}
    return row


def run(args: Any) -> list[dict[str, Any]]:
    """Every (backend, size, worker count) step of ``args``; one JSON line per step."""
    results = []
    for backend in args.backend.split(","):
        for size in sorted(int(x) for x in args.sizes.split(",") if x):
            with tempfile.TemporaryDirectory(prefix="scale-workers-") as name:
                tmp = Path(name)
                results += _backend(backend, size, args, tmp)
    return results


def _backend(backend: str, size: int, args: Any, tmp: Path) -> list[dict[str, Any]]:
    counts = sorted(int(x) for x in args.workers.split(",") if x)
    if backend == "embedded":
        counts = [c for c in counts if c == 1]  # one process may open an embedded data dir
        return _steps(backend, size, counts, args, tmp, None)
    with chroma_server(tmp) as address:
        try:
            return _steps(backend, size, counts, args, tmp, address)
        finally:
            _drop(args.pg_dsn, tmp)


def _steps(backend, size, counts, args, tmp, address) -> list[dict[str, Any]]:
    env = _env(backend, tmp, args.pg_dsn, address, args.embedder)
    (tmp / "schema").write_text(env.get("HYBRID_MEMORY_POSTGRES__SCHEMA_NAME", ""))
    fill_s = _fill(env, size, args.users)
    rows = []
    for workers in counts:
        row = {"backend": backend, "memories": size, "fill_per_s": round(size / fill_s, 1)}
        row.update(_round(env, workers, args, tmp))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def _drop(dsn: str, tmp: Path) -> None:
    schema = (tmp / "schema").read_text() if (tmp / "schema").exists() else ""
    if schema:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    w, adds, queries, users, go, out = sys.argv[1:7]
    child(int(w), int(adds), int(queries), int(users), Path(go), Path(out))
