"""The server backends the tests run against: PostgreSQL (one throwaway schema per use) and a
Chroma server started by the tests themselves (``chroma run`` on a free port, in a temp dir).

Both are real: PostgreSQL at 127.0.0.1:5432 (database ``test``), started before the tests on
this machine and in CI; the Chroma server ships inside the chromadb package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chroma_command() -> list[str]:
    exe = Path(sys.executable).with_name("chroma")
    return [str(exe)] if exe.exists() else [shutil.which("chroma") or "chroma"]


@contextmanager
def chroma_server(directory: Path, *, timeout: float = 60.0) -> Iterator[tuple[str, int]]:
    """``chroma run`` on a free port with its data in ``directory``; yields (host, port) once
    its heartbeat answers, and stops it afterwards."""
    import chromadb
    from chromadb.config import Settings

    port = free_port()
    log = open(directory / "chroma.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            *_chroma_command(),
            "run",
            "--path",
            str(directory / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"chroma run exited ({proc.returncode}): "
                    + (directory / "chroma.log").read_text(errors="replace")[-2000:]
                )
            try:
                client = chromadb.HttpClient(
                    host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
                )
                client.heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
