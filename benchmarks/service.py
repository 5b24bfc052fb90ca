"""The service over HTTP beside the same calls in-process: add, search and context on one
scope of ``--memories`` memories, at concurrency 1, 8 and 32.

    python -m benchmarks service                   # real embedder, 10,000 memories
    python -m benchmarks service --hashing --memories 2000 --requests 50

The scope is seeded in-process (``infer=False`` batches) before the server starts; the
in-process figures are taken on the same data dir first, then the memory is closed and
``hybrid-memory serve`` opens it. Prints throughput, p50/p95 (ms) and errors per operation and
concurrency, and checks the targets: HTTP adds at most 5 ms to the in-process p50 at
concurrency 1; zero errors at concurrency 32; throughput at 8 no lower than at 1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.scale import OBJECTS, sentences

TENANT = "bench"
USER = "u0"
OPERATIONS = ("add", "search", "context")


def sentence(i: int) -> str:
    """A stored memory: the scale benchmark's varied sentences (people, verbs, places and a
    number), so that query words match some memories, not every one."""
    return sentences(1, seed=i)[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    return {
        "throughput": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else float("nan"),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "errors": errors,
    }


def seed(data_dir: Path, memories: int, embedding_model: str) -> None:
    from hybrid_memory import HybridMemory, MemoryConfig

    config = MemoryConfig(data_dir=data_dir / "tenants" / TENANT, embedding_model=embedding_model)
    with HybridMemory(config) as memory:
        for start in range(0, memories, 500):
            batch = [
                {"role": "user", "content": sentence(i)}
                for i in range(start, min(memories, start + 500))
            ]
            memory.add(batch, user_id=USER, infer=False)


def calls(counter: itertools.count) -> dict[str, Callable[[], tuple[str, str, dict[str, Any]]]]:
    """Each operation as (method name, HTTP path, arguments), with a fresh text for adds."""

    def add() -> tuple[str, str, dict[str, Any]]:
        text = f"Yesterday I went to {OBJECTS[next(counter) % len(OBJECTS)]} for the first time."
        return "add", "/v1/memories", {"messages": text, "user_id": USER}

    def search() -> tuple[str, str, dict[str, Any]]:
        return "search", "/v1/search", {"query": sentence(next(counter)), "user_id": USER}

    def context() -> tuple[str, str, dict[str, Any]]:
        query = f"What did I say about {OBJECTS[next(counter) % len(OBJECTS)]}?"
        body = {"query": query, "user_id": USER, "token_budget": 500}
        return "get_context", "/v1/context", body

    return {"add": add, "search": search, "context": context}


def in_process(data_dir: Path, embedding_model: str, levels: Sequence[int], n: int) -> dict:
    from hybrid_memory import HybridMemory, MemoryConfig

    config = MemoryConfig(data_dir=data_dir / "tenants" / TENANT, embedding_model=embedding_model)
    out: dict[str, dict[int, dict[str, float]]] = {}
    with HybridMemory(config) as memory:
        make = calls(itertools.count(10**6))
        for op in OPERATIONS:
            out[op] = {}
            for level in levels:
                latencies: list[float] = []
                errors = 0

                def one(_: int, op: str = op, latencies: list[float] = latencies) -> None:
                    nonlocal errors
                    method, _path, body = make[op]()
                    query = body.pop("query", None) if method != "add" else None
                    started = time.perf_counter()
                    try:
                        if method == "add":
                            memory.add(body.pop("messages"), **body)
                        else:
                            getattr(memory, method)(query, **body)
                        latencies.append(time.perf_counter() - started)
                    except Exception:
                        errors += 1

                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=level) as pool:
                    list(pool.map(one, range(n)))
                out[op][level] = summary(latencies, errors, time.perf_counter() - started)
                print(f"in-process {op} x{level}: {out[op][level]}", flush=True)
    return out


async def over_http(url: str, key: str, levels: Sequence[int], n: int) -> dict:
    import httpx

    out: dict[str, dict[int, dict[str, float]]] = {}
    make = calls(itertools.count(2 * 10**6))
    headers = {"Authorization": f"Bearer {key}"}
    for op in OPERATIONS:
        out[op] = {}
        for level in levels:
            latencies: list[float] = []
            errors = 0
            limits = httpx.Limits(max_connections=level, max_keepalive_connections=level)
            async with httpx.AsyncClient(
                base_url=url, headers=headers, limits=limits, timeout=120
            ) as http:
                gate = asyncio.Semaphore(level)

                async def one(
                    op: str = op, http: Any = http, gate: Any = gate, latencies: Any = latencies
                ) -> None:
                    nonlocal errors
                    _method, path, body = make[op]()
                    async with gate:
                        started = time.perf_counter()
                        try:
                            answer = await http.post(path, json=body)
                            if answer.status_code >= 400:
                                errors += 1
                                return
                            latencies.append(time.perf_counter() - started)
                        except Exception:
                            errors += 1

                started = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(n)))
                out[op][level] = summary(latencies, errors, time.perf_counter() - started)
                print(f"HTTP {op} x{level}: {out[op][level]}", flush=True)
    return out


def start_server(data_dir: Path, hashing: bool) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HYBRID_MEMORY_"))}
    env["HF_HUB_OFFLINE"] = "1"
    if hashing:
        env["HYBRID_MEMORY_EMBEDDING_MODEL"] = "hashing"
    command = [sys.executable, "-m", "hybrid_memory.cli", "--data-dir", str(data_dir), "serve"]
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start; see {data_dir / 'server.log'}")


def verdicts(local: dict, remote: dict, levels: Sequence[int]) -> list[str]:
    lines = []
    first, mid, top = levels[0], levels[min(1, len(levels) - 1)], levels[-1]
    for op in OPERATIONS:
        extra = remote[op][first]["p50_ms"] - local[op][first]["p50_ms"]
        lines.append(
            f"{op}: HTTP adds {extra:+.1f} ms to the in-process p50 at concurrency {first} "
            f"({'met' if extra <= 5 else 'MISSED'}: at most 5 ms)"
        )
        errors = remote[op][top]["errors"]
        lines.append(
            f"{op}: {errors} errors at concurrency {top} ({'met' if errors == 0 else 'MISSED'})"
        )
        low, high = remote[op][first]["throughput"], remote[op][mid]["throughput"]
        lines.append(
            f"{op}: throughput {high}/s at {mid} vs {low}/s at {first} "
            f"({'met' if high >= low else 'MISSED'}: no lower)"
        )
    return lines


def table(local: dict, remote: dict, levels: Sequence[int]) -> str:
    rows = ["| operation | concurrency | where | req/s | p50 ms | p95 ms | errors |"]
    rows.append("|---|---|---|---|---|---|---|")
    for op in OPERATIONS:
        for level in levels:
            for where, figures in (("in-process", local), ("HTTP", remote)):
                f = figures[op][level]
                rows.append(
                    f"| {op} | {level} | {where} | {f['throughput']} | {f['p50_ms']} | "
                    f"{f['p95_ms']} | {f['errors']} |"
                )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks service", description=__doc__)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100, help="per operation and level")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--hashing", action="store_true", help="the hashing embedder")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    model = "hashing" if args.hashing else "all-MiniLM-L6-v2"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        seed(data_dir, args.memories, model)
        print(
            f"seeded {args.memories} memories in {time.perf_counter() - started:.0f} s", flush=True
        )
        local = in_process(data_dir, model, levels, args.requests)
        from hybrid_memory.server.auth import KeyStore

        keys = KeyStore(data_dir / "service")
        key = keys.create(TENANT, "bench").key
        keys.close()
        process, url = start_server(data_dir, args.hashing)
        try:
            asyncio.run(over_http(url, key, [1], 5))  # opens the tenant's memory
            remote = asyncio.run(over_http(url, key, levels, args.requests))
        finally:
            process.terminate()
            process.wait(timeout=60)
    report = {"memories": args.memories, "embedder": model, "requests": args.requests}
    print(table(local, remote, levels))
    for line in verdicts(local, remote, levels):
        print(line)
    if args.out:
        args.out.write_text(json.dumps({**report, "in_process": local, "http": remote}, indent=2))
    return 0
