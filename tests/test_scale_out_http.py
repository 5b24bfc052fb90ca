"""The memory service with four uvicorn workers on PostgreSQL + a Chroma server.

Eight HTTP clients add for the same 50 users at once through ``hybrid-memory serve --workers
4``; the tenant's stores must then hold no duplicate, lose no update and contain every
acknowledged add (answered 200), with the vector store equal to the record store. In the second
test one worker process is killed with SIGKILL in the middle of the load: the requests it was
serving fail (they were never acknowledged), everything acknowledged is stored, and the other
workers apply its pending vector writes. CI runs 800 adds per test; ``--fault-scale 7`` runs
5,600.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

from benchmarks.workers import check, read_acks, run_http_client, server_env
from tests.servers import PG_DSN, check_postgres, drop_schema
from tests.service_process import serve
from tests.service_process import server_env as service_env

CLIENTS = 8
USERS = 50


@pytest.fixture
def service(tmp_path, chroma_http):
    """``serve --workers 4 --no-auth`` on PostgreSQL + the Chroma server; yields the server
    and the config of tenant ``default`` (its own schema and collection, dropped afterwards)."""
    from hybrid_memory.config import MemoryConfig
    from hybrid_memory.server.tenancy import tenant_config

    check_postgres()
    host, port = chroma_http
    schema, collection = f"hm_http_{uuid.uuid4().hex[:8]}", f"http-{uuid.uuid4().hex}"
    env = service_env(**server_env(PG_DSN, schema, host, port, collection))
    base = MemoryConfig(
        data_dir=tmp_path / "svc",
        records={"kind": "postgres"},
        vectors={"kind": "chroma-server"},
        postgres={"dsn": PG_DSN, "schema_name": schema},
        chroma_server={"host": host, "port": port, "collection": collection},
    )
    tenant = tenant_config(base, "default", tmp_path / "svc" / "tenants" / "default")
    try:
        with serve(tmp_path / "svc", "--workers", "4", "--no-auth", env=env) as server:
            yield server, tenant
    finally:
        drop_schema(tenant.postgres.schema_name)


def _clients(url: str, rounds: int, outs: list[Path]) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=run_http_client, args=(url, c, USERS, rounds, outs[c]))
        for c in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    return threads


def _verdict(tenant, acks):
    from stores.chroma_server import ChromaServerVectorStore
    from stores.postgres import PostgresRecordStore

    records = PostgresRecordStore(PG_DSN, schema=tenant.postgres.schema_name, pool_size=2)
    c = tenant.chroma_server
    vectors = ChromaServerVectorStore(c.host, c.port, c.collection)
    try:
        return check(records, vectors, acks, USERS)
    finally:
        records.close()
        vectors.close()


def _workers(pid: int) -> list[int]:
    """The uvicorn worker processes of the server ``pid`` (its spawned children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    out = []
    for child in map(int, children):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            out.append(child)
    return out


def test_four_service_workers_adding_for_the_same_users_agree(tmp_path, service, fault_scale):
    server, tenant = service
    assert len(_workers(server.process.pid)) == 4
    outs = [tmp_path / f"acks-{c}.jsonl" for c in range(CLIENTS)]
    for t in _clients(server.url, fault_scale, outs):
        t.join()
    acks = read_acks(outs)
    assert len(acks) == CLIENTS * USERS * 2 * fault_scale  # every add answered 200
    verdict = _verdict(tenant, acks)
    assert verdict.problems == []
    assert verdict.memories > 0 and verdict.vectors == verdict.memories


def test_a_service_worker_killed_mid_load_loses_nothing_acknowledged(
    tmp_path, service, fault_scale
):
    server, tenant = service
    outs = [tmp_path / f"acks-{c}.jsonl" for c in range(CLIENTS)]
    threads = _clients(server.url, fault_scale, outs)
    total = CLIENTS * USERS * 2 * fault_scale
    deadline = time.monotonic() + 300
    while len(read_acks(outs)) < total // 3:
        assert time.monotonic() < deadline, "the load made no progress"
        time.sleep(0.05)
    victim = _workers(server.process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    for t in threads:
        t.join()
    acks = read_acks(outs)
    assert total // 3 <= len(acks) <= total
    # Read straight from the stores: the surviving workers drained the outbox.
    verdict = _verdict(tenant, acks)
    assert verdict.problems == []
    assert verdict.pending == 0 and verdict.vectors == verdict.memories
