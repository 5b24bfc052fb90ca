"""Real ``hybrid-memory serve`` processes on 127.0.0.1, started by the tests that need them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "admin-" + "s3cret" * 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its URL, its process, and the file its stderr (the access log) goes
    to."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    def client(self, key: str | None = None, headers: dict[str, str] | None = None) -> httpx.Client:
        sent = {"Authorization": f"Bearer {key}"} if key else {}
        sent.update(headers or {})
        return httpx.Client(base_url=self.url, headers=sent, timeout=60)

    def create_key(self, tenant: str) -> str:
        with self.client(ADMIN_KEY) as http:
            answer = http.post("/v1/admin/keys", json={"tenant_id": tenant, "name": "test"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["key"])

    def access_log(self) -> list[str]:
        return [
            line
            for line in self.log.read_text(encoding="utf-8").splitlines()
            if line.startswith('{"request_id"')
        ]

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HYBRID_MEMORY_"))}
    env.update(
        {
            "HYBRID_MEMORY_EMBEDDING_MODEL": "hashing",
            "HYBRID_MEMORY_ADMIN_KEY": ADMIN_KEY,
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def serve(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, ready_timeout: float = 120
) -> Iterator[Server]:
    """Start ``hybrid-memory serve`` on a free port and wait until it is ready."""
    port = free_port()
    log = data_dir.parent / f"{data_dir.name}-server-{port}.log"
    command = [sys.executable, "-m", "hybrid_memory.cli", "--data-dir", str(data_dir)]
    command += ["serve", "--port", str(port), *args]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env or server_env(), cwd=ROOT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log, data_dir)
    try:
        wait_ready(server, ready_timeout)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited:\n{server.log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/v1/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"the server was not ready in {timeout} s:\n{server.log.read_text()}")
