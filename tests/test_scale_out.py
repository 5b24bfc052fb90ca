"""Several processes, each with its own memory, on one PostgreSQL + Chroma server deployment.

Four worker processes (``benchmarks/workers.py``, configured from the environment) add for the
same 50 users at once; the shared stores must then hold no duplicate, lose no update, contain
every acknowledged add, and the vector store must agree with the record store. In the second
test one worker is killed with SIGKILL in the middle of its adds: nothing it acknowledged is
lost, and the others apply its pending vector writes. CI runs 4 x 50 x 2 = 400 adds per test;
``--fault-scale N`` runs N rounds (``--fault-scale 13``: 5,200 adds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from benchmarks.workers import check, read_acks, server_env
from tests.servers import PG_DSN, pg_schema

WORKERS = 4
USERS = 50
ROOT = Path(__file__).resolve().parent.parent


def _start(worker: int, rounds: int, out: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.workers", "--worker", str(worker)]
        + ["--users", str(USERS), "--rounds", str(rounds), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(proc: subprocess.Popen, timeout: float) -> None:
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, output.decode(errors="replace")[-3000:]


def _verdict(schema: str, host: str, port: int, collection: str, acks: list, users: int):
    from stores.chroma_server import ChromaServerVectorStore
    from stores.postgres import PostgresRecordStore

    records = PostgresRecordStore(PG_DSN, schema=schema, pool_size=2)
    vectors = ChromaServerVectorStore(host, port, collection)
    try:
        return check(records, vectors, acks, users)
    finally:
        records.close()
        vectors.close()


@pytest.fixture
def deployment(chroma_http):
    """A PostgreSQL schema and a Chroma collection of their own, and the workers' env."""
    host, port = chroma_http
    collection = f"scale-{uuid.uuid4().hex}"
    with pg_schema("scale") as schema:
        yield schema, host, port, collection, server_env(PG_DSN, schema, host, port, collection)


def test_four_worker_processes_adding_for_the_same_users_agree(tmp_path, deployment, fault_scale):
    schema, host, port, collection, env = deployment
    outs = [tmp_path / f"acks-{w}.jsonl" for w in range(WORKERS)]
    procs = [_start(w, fault_scale, outs[w], env) for w in range(WORKERS)]
    for proc in procs:
        _finish(proc, timeout=600 * fault_scale)
    acks = read_acks(outs)
    assert len(acks) == WORKERS * USERS * 2 * fault_scale
    verdict = _verdict(schema, host, port, collection, acks, USERS)
    assert verdict.problems == []
    assert verdict.memories > 0 and verdict.vectors == verdict.memories


def test_a_worker_killed_mid_load_loses_nothing_it_acknowledged(tmp_path, deployment, fault_scale):
    schema, host, port, collection, env = deployment
    rounds = 2 * fault_scale
    outs = [tmp_path / f"acks-{w}.jsonl" for w in range(WORKERS)]
    procs = [_start(w, rounds, outs[w], env) for w in range(WORKERS)]
    victim, total = procs[0], USERS * 2 * rounds
    deadline = time.monotonic() + 300
    while len(read_acks(outs[:1])) < total // 3:  # a third of its adds acknowledged
        assert victim.poll() is None, "the worker to kill finished too early"
        assert time.monotonic() < deadline, "the worker to kill made no progress"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for proc in procs[1:]:
        _finish(proc, timeout=600 * fault_scale)
    acks = read_acks(outs)
    killed = [
        a
        for a in acks
        if a["id"].endswith(tuple(f"-0-{r}-{u}" for r in range(rounds) for u in range(USERS)))
    ]
    assert 0 < len(killed) < total  # it was stopped in the middle
    assert len(acks) == len(killed) + (WORKERS - 1) * total
    # Read straight from the stores: the survivors drained the outbox, nobody repaired it.
    verdict = _verdict(schema, host, port, collection, acks, USERS)
    assert verdict.problems == []
    assert verdict.pending == 0 and verdict.vectors == verdict.memories
