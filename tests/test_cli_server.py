"""The command line with ``--server URL``: the same commands and the same output as on a data
dir, answered by a real ``hybrid-memory serve`` process, without loading a model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service_process import Server, serve

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "chromadb", "sentence_transformers", "hybrid_memory.memory", "fastapi")
# Runs the command line in this process and reports which heavy modules it imported.
PROBE = (
    "import json, sys\n"
    "from hybrid_memory.cli import main\n"
    "status = main(sys.argv[2:])\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "open(sys.argv[1], 'w').write(json.dumps(heavy))\n"
    "sys.exit(status)\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("cli") / "data") as running:
        yield running


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """``hybrid-memory ARGS`` in a fresh process; the result has ``.heavy``, the heavy modules
    the process imported."""
    report = tmp_path / f"heavy-{len(list(tmp_path.glob('heavy-*')))}.json"
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HYBRID_MEMORY_EMBEDDING_MODEL": "hashing",
        "HYBRID_MEMORY_DATA_DIR": str(tmp_path / "embedded"),
        "COLUMNS": "200",
        **(env or {}),
    }
    for name in ("HYBRID_MEMORY_SERVER", "HYBRID_MEMORY_API_KEY"):
        if env is None or name not in env:
            environment.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    done.heavy = json.loads(report.read_text()) if report.exists() else None  # type: ignore[attr-defined]
    return done


def masked(text: str) -> str:
    """Output without what differs between two stores: ids and dates."""
    text = re.sub(r"\b[0-9a-f]{12,32}\b", "<id>", text)
    text = re.sub(r"msg-[0-9a-f]+", "<msg>", text)
    return re.sub(r"\d{4}-\d{2}-\d{2}[T ]?[\d:.]*Z?", "<date>", text)


SESSION = [
    ("add", "--user", "ana", "--name", "Ana", "I live in Porto and I love green tea."),
    ("add", "--user", "ana", "--name", "Ana", "I moved to Lisbon."),
    ("search", "--user", "ana", "Where does Ana live?"),
    ("list", "--user", "ana"),
    ("context", "--user", "ana", "--budget", "300", "Where does Ana live?"),
    ("--json", "search", "--user", "ana", "--limit", "3", "tea"),
    ("--json", "list", "--user", "ana", "--filters", '{"kind": "fact"}'),
    ("export", "--user", "ana"),
    ("list", "--user", "ana", "--filters", '{"colour": "red"}'),
    ("get", "--user", "ana", "0123456789abcdef"),
    ("delete", "--all", "--user", "ana"),
]


def test_every_command_prints_what_it_prints_on_a_data_dir(server, tmp_path):
    remote = ("--server", server.url, "--api-key", server.create_key("acme"))
    outputs = {}
    for command in SESSION:
        local = run(tmp_path, *command)
        over = run(tmp_path, *remote, *command)
        assert over.returncode == local.returncode, (command, over.stderr, local.stderr)
        assert masked(over.stdout) == masked(local.stdout), command
        assert masked(over.stderr) == masked(local.stderr), command
        assert over.heavy == [], (command, over.heavy)
        outputs[command] = over
    # the comparison compared something: the service answered, and the errors were errors
    assert "Lisbon" in outputs[SESSION[2]].stdout and "Lisbon" in outputs[SESSION[4]].stdout
    assert "green tea" in outputs[SESSION[5]].stdout
    assert outputs[SESSION[8]].returncode == 2 and "metadata.colour" in outputs[SESSION[8]].stderr
    assert outputs[SESSION[9]].returncode == 2 and "no memory" in outputs[SESSION[9]].stderr


def test_the_server_and_key_can_come_from_the_environment(server, tmp_path):
    env = {"HYBRID_MEMORY_SERVER": server.url, "HYBRID_MEMORY_API_KEY": server.create_key("envco")}
    added = run(tmp_path, "--json", "add", "--user", "bo", "--no-infer", "Bo keeps bees.", env=env)
    assert added.returncode == 0, added.stderr
    listed = run(tmp_path, "--json", "list", "--user", "bo", env=env)
    assert [m["memory"] for m in json.loads(listed.stdout)] == ["Bo keeps bees."]
    assert listed.heavy == []
    # --server and --api-key also work after the command name, like --data-dir and --json
    after = run(
        tmp_path,
        "list",
        "--user",
        "bo",
        "--server",
        server.url,
        "--api-key",
        env["HYBRID_MEMORY_API_KEY"],
        "--json",
    )
    assert [m["memory"] for m in json.loads(after.stdout)] == ["Bo keeps bees."], after.stderr
    # the embedded data dir of the same machine holds nothing of it
    local = run(tmp_path, "--json", "list", "--user", "bo")
    assert json.loads(local.stdout) == []


def test_errors_of_the_service_read_like_local_ones(server, tmp_path):
    wrong = run(tmp_path, "--server", server.url, "--api-key", "hm_nope", "list", "--user", "a")
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: the API key is unknown")
    as_json = run(tmp_path, "--json", "--server", server.url, "list", "--user", "a")
    assert json.loads(as_json.stdout)["error"]["type"] == "AuthenticationError"
    down = run(tmp_path, "--server", "http://127.0.0.1:9", "list", "--user", "a")
    assert down.returncode == 2 and "cannot reach the memory service" in down.stderr
    stats = run(tmp_path, "--server", server.url, "stats")
    assert stats.returncode == 2 and "drop --server" in stats.stderr
