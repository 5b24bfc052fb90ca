"""The command line starts fast: commands that need no embedding load no embedder (nor
chromadb), bad arguments fail before anything loads, and a search embeds without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("chromadb", "onnxruntime", "torch", "sentence_transformers", "transformers")
_PROBE = """
import json, sys
from hybrid_memory.cli import run
status = run(sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"status": status, "loaded": heavy}}))
"""


def _cli(data_dir: Path, *args: str) -> dict:
    """Run the command line in a new process; what it returned and which heavy modules it
    imported."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_commands_load_only_what_they_need(tmp_path):
    data = tmp_path / "memory"
    added = _cli(data, "--json", "add", "--user", "alice", "I moved to Boston last spring.")
    assert added["status"] == 0 and "torch" not in added["loaded"]
    for command in (["list"], ["stats"]):
        listed = _cli(data, *command, "--user", "alice")
        assert listed == {"status": 0, "loaded": []}, command
    searched = _cli(data, "search", "--user", "alice", "Where does Alice live?")
    assert searched["status"] == 0
    assert "onnxruntime" in searched["loaded"] and "torch" not in searched["loaded"]
    # Bad arguments are refused before the embedder or the vector store load.
    for bad in (
        ["search", "--user", "alice", "x", "--limit", "0"],
        ["search", "--user", "alice", "x", "--filters", "{not json"],
        ["search", "x"],
    ):
        refused = _cli(data, *bad)
        assert refused == {"status": 2, "loaded": []}, bad
