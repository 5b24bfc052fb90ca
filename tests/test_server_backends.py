"""Server backends picked by name: configuration from the environment, the data-dir lock only
for embedded stores, the extras' install hints, the schema migrated once by concurrent openers,
and ``hybrid-memory migrate`` (embedded data dir -> PostgreSQL + Chroma server -> back)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid

import pytest

from benchmarks.workers import server_env
from hybrid_memory.errors import ConfigError, StoreLockedError
from tests.servers import PG_DSN, pg_schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def deployment(chroma_http):
    host, port = chroma_http
    with pg_schema("srv") as schema:
        yield server_env(PG_DSN, schema, host, port, f"srv-{uuid.uuid4().hex}")


def test_the_environment_picks_server_backends_and_no_data_dir_lock(
    tmp_path, monkeypatch, deployment
):
    from hybrid_memory import HybridMemory, MemoryConfig
    from stores.chroma_server import ChromaServerVectorStore
    from stores.postgres import PostgresRecordStore

    for name, value in deployment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HYBRID_MEMORY_DATA_DIR", str(tmp_path / "d"))
    config = MemoryConfig()
    assert (config.records.kind, config.vectors.kind) == ("postgres", "chroma-server")
    # Two memories on the same deployment (and data dir) at once: server stores are shared.
    with HybridMemory(config) as one, HybridMemory(config) as two:
        assert isinstance(one.records, PostgresRecordStore)
        assert isinstance(one.vectors, ChromaServerVectorStore)
        assert one._data_lock is None and two._data_lock is None
        one.add({"role": "user", "name": "Ana", "content": "I live in Porto."}, user_id="ana")
        assert two.search("Where does Ana live?", user_id="ana")[0].memory == (
            "Ana lives in Porto."
        )
    # The embedded stores still allow one process at a time, and so does Qdrant's local mode.
    qdrant_local = MemoryConfig(data_dir=tmp_path / "q", vectors={"kind": "qdrant"})
    with HybridMemory(qdrant_local) as held:
        assert held._data_lock is not None
        with pytest.raises(StoreLockedError):
            HybridMemory(qdrant_local)


@pytest.mark.parametrize(
    ("module", "build", "extra"),
    [
        ("psycopg", lambda: _postgres_store(), "postgres"),
        ("qdrant_client", lambda: _qdrant_store(), "qdrant"),
    ],
)
def test_a_missing_extra_names_the_install_command(monkeypatch, module, build, extra):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf'pip install "hybrid-memory\[{extra}\]"'):
        build()


def _postgres_store():
    from stores.postgres import PostgresRecordStore

    return PostgresRecordStore(PG_DSN, schema="never_created")


def _qdrant_store():
    from stores.qdrant import QdrantVectorStore

    return QdrantVectorStore(url="http://127.0.0.1:1")


def test_a_schema_name_that_is_not_an_identifier_is_refused():
    from hybrid_memory.config import load_config
    from stores.postgres import PostgresRecordStore

    with pytest.raises(ConfigError, match="lowercase"):
        PostgresRecordStore(PG_DSN, schema="x; DROP TABLE memories")
    with pytest.raises(ConfigError, match="schema_name"):
        load_config(postgres={"schema_name": "Robert'); DROP"})


def test_processes_opening_a_new_schema_at_once_migrate_it_once():
    import psycopg

    from stores.postgres import PostgresRecordStore
    from stores.postgres.schema import MIGRATIONS

    with pg_schema("mig") as schema:
        errors: list[BaseException] = []

        def open_store() -> None:
            try:
                PostgresRecordStore(PG_DSN, schema=schema, pool_size=1).close()
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with psycopg.connect(PG_DSN) as conn:
            rows = conn.execute(f"SELECT version FROM {schema}.schema_migrations").fetchall()
        assert sorted(rows) == [(m.version,) for m in MIGRATIONS]  # each applied once


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybrid_memory.cli", "--json", *args],
        env={**os.environ, "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_migrate_copies_a_data_dir_to_servers_and_back(tmp_path, deployment):
    source, back = tmp_path / "embedded", tmp_path / "back"
    local = {"HYBRID_MEMORY_EMBEDDING_MODEL": "hashing", "HYBRID_MEMORY_DATA_DIR": str(source)}
    for n, (user, text) in enumerate(
        [("ana", "I live in Porto."), ("ana", "I moved to Lisbon."), ("bo", "I like green tea.")]
    ):
        added = _cli(local, "add", "--user", user, "--run", f"r{n}", "--name", user.title(), text)
        assert added.returncode == 0, added.stderr

    first = _cli(deployment, "migrate", "--from-dir", str(source))
    assert first.returncode == 0, first.stderr
    copied = json.loads(first.stdout)
    assert copied["problems"] == [] and copied["scopes"] == 3
    assert copied["written_memories"] == copied["memories"] > 0
    assert copied["written_messages"] == copied["messages"] == 3
    found, searched = map(int, copied["searches_found"].split("/"))
    assert searched > 0 and found == searched

    again = json.loads(_cli(deployment, "migrate", "--from-dir", str(source)).stdout)
    assert (again["written_memories"], again["written_messages"]) == (0, 0)  # idempotent

    returned = _cli(deployment, "migrate", "--to-dir", str(back))
    assert returned.returncode == 0, returned.stderr
    assert json.loads(returned.stdout)["written_memories"] == copied["memories"]
    found = _cli(
        {**local, "HYBRID_MEMORY_DATA_DIR": str(back)},
        "search",
        "--user",
        "ana",
        "Where does Ana live?",
    )
    assert json.loads(found.stdout)[0]["memory"] == "Ana lives in Lisbon."

    wrong = _cli(deployment, "migrate", "--from-dir", str(tmp_path / "nothing"))
    assert wrong.returncode == 2 and "holds no memory" in wrong.stdout


def test_migrate_into_a_service_tenant_reaches_that_tenant_only(tmp_path, deployment, monkeypatch):
    from hybrid_memory.server.tenancy import Tenants

    source, service_dir = tmp_path / "embedded", tmp_path / "service"
    local = {"HYBRID_MEMORY_EMBEDDING_MODEL": "hashing", "HYBRID_MEMORY_DATA_DIR": str(source)}
    added = _cli(local, "add", "--user", "ana", "--name", "Ana", "I live in Porto.")
    assert added.returncode == 0, added.stderr
    target = {**deployment, "HYBRID_MEMORY_DATA_DIR": str(service_dir)}
    copied = _cli(target, "migrate", "--from-dir", str(source), "--tenant", "acme")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["written_messages"] == 1

    # What the service opens for each tenant's keys: acme has the memory, another tenant not.
    for name, value in target.items():
        monkeypatch.setenv(name, value)
    tenants = Tenants(service_dir, embedding_model="hashing")
    try:
        hits = tenants.memory("acme").search("Where does Ana live?", user_id="ana")
        assert hits and hits[0].memory == "Ana lives in Porto."
        assert tenants.memory("other").get_all(user_id="ana") == []
    finally:
        tenants.close()

    bad = _cli(target, "migrate", "--from-dir", str(source), "--tenant", "Not A Tenant")
    assert bad.returncode == 2 and "tenant_id" in bad.stdout


def test_look_alike_scopes_and_crafted_filters_never_cross_on_postgres(
    tmp_path, fault_scale, chroma_http
):
    from benchmarks.faults import isolation_run

    host, port = chroma_http
    with pg_schema("iso") as schema:
        figures = isolation_run(
            tmp_path / "isolation",
            200 * fault_scale,
            seed=7,
            records={"kind": "postgres"},
            vectors={"kind": "chroma-server"},
            postgres={"dsn": PG_DSN, "schema_name": schema, "pool_size": 4},
            chroma_server={"host": host, "port": port, "collection": f"iso-{uuid.uuid4().hex}"},
        )
    assert figures.isolation_ops == 200 * fault_scale
    assert figures.cross_scope_reads == 0, figures.problems


def test_bad_input_on_postgres_gets_a_typed_error_and_changes_nothing(tmp_path, fault_scale):
    import warnings

    from hypothesis import HealthCheck, given, settings

    from benchmarks.bad_inputs import Call, calls, check_call, seed_memory
    from benchmarks.faults import open_memory

    with pg_schema("bad") as schema:
        memory = open_memory(
            tmp_path / "bad",
            records={"kind": "postgres"},
            vectors={"kind": "memory"},
            postgres={"dsn": PG_DSN, "schema_name": schema, "pool_size": 2},
        )
        seed_memory(memory)

        @settings(
            max_examples=100 * fault_scale,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(call=calls())
        def property_holds(call: Call) -> None:
            outcome = check_call(memory, call)
            assert outcome.non_project is None, outcome.non_project
            assert outcome.changed is None, outcome.changed

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # quarantine warnings are expected
            try:
                property_holds()
            finally:
                memory.close()


def test_an_unreachable_server_is_a_store_error_that_says_what_to_check(tmp_path):
    from benchmarks.servers import free_port
    from hybrid_memory import HybridMemory, MemoryConfig
    from hybrid_memory.errors import StoreError

    closed = free_port()
    with pytest.raises(StoreError, match="Is the server running"):
        HybridMemory(
            MemoryConfig(
                data_dir=tmp_path / "d",
                embedding_model="hashing",
                records={"kind": "postgres"},
                vectors={"kind": "memory"},
                postgres={"dsn": f"host=127.0.0.1 port={closed} dbname=test", "timeout": 2},
            )
        )
    with pytest.raises(StoreError, match="chroma run"):
        HybridMemory(
            MemoryConfig(
                data_dir=tmp_path / "d",
                embedding_model="hashing",
                records={"kind": "memory"},
                vectors={"kind": "chroma-server"},
                chroma_server={"port": closed},
            )
        )


def test_each_tenant_of_the_service_gets_its_own_schema_and_collection(tmp_path):
    from hybrid_memory.config import MemoryConfig
    from hybrid_memory.server.tenancy import tenant_config

    base = MemoryConfig(
        data_dir=tmp_path, records={"kind": "postgres"}, vectors={"kind": "chroma-server"}
    )
    names = {}
    for tenant in ("acme", "a-b", "a_b", "x" * 63):
        config = tenant_config(base, tenant, tmp_path / tenant)
        names[tenant] = (config.postgres.schema_name, config.chroma_server.collection)
        # a valid schema name for any tenant id (the config validates it)
        assert MemoryConfig(postgres=config.postgres.model_dump()).postgres == config.postgres
    assert len({schema for schema, _ in names.values()}) == 4
    assert len({collection for _, collection in names.values()}) == 4
    assert names["acme"] == ("hybrid_memory_acme_" + names["acme"][0][-8:], "hybrid_memory-acme")
