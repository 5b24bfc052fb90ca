"""A Chroma server for benchmarks and tests: ``chroma run`` on a free port, in a directory of
the caller's, stopped afterwards (it ships inside the chromadb package)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
