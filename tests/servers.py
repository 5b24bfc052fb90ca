"""The server backends the tests run against: PostgreSQL (one throwaway schema per use) and a
Chroma server started by the tests themselves (:func:`benchmarks.servers.chroma_server`).

Both are real: PostgreSQL at 127.0.0.1:5432 (database ``test``), started before the tests on
this machine and in CI; the Chroma server ships inside the chromadb package.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks.servers import chroma_server, free_port

__all__ = ["chroma_server", "free_port", "pg_schema", "new_schema", "drop_schema", "PG_DSN"]

PG_DSN = os.environ.get("HYBRID_MEMORY_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test")
PG_ABSENT = (
    "PostgreSQL at 127.0.0.1:5432 (database 'test') is absent: {error}. Start it with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and rerun."
)
RUN_TOKEN = uuid.uuid4().hex[:8]
"""Names made by this test process start with it, so parallel runs never share a schema."""


def new_schema(label: str = "t") -> str:
    """A schema name no other test (or test run) uses."""
    return f"hm_{label}_{RUN_TOKEN}_{uuid.uuid4().hex[:8]}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def check_postgres() -> None:
    """Fail (never skip) with how to start PostgreSQL when it is not there."""
    import psycopg

    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(PG_ABSENT.format(error=str(exc).strip().splitlines()[0]), pytrace=False)


@contextmanager
def pg_schema(label: str = "t") -> Iterator[str]:
    """A fresh schema name, dropped (with everything in it) afterwards."""
    check_postgres()
    schema = new_schema(label)
    try:
        yield schema
    finally:
        drop_schema(schema)
