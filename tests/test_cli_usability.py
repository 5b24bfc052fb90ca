"""The command line as a newcomer meets it: the ids the tables print work, ``--json`` goes
anywhere (errors included), errors name flags, adds are dated, ``--name`` reaches ``--file``
messages, shell completion is there. Run in process (``hybrid_memory.cli.run``) against a real
data dir; tests/test_cli.py runs the installed entry point as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hybrid_memory.cli import run


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli(*args)`` -> (exit status, stdout, stderr), on one data dir."""
    monkeypatch.setenv("HYBRID_MEMORY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYBRID_MEMORY_EMBEDDING_MODEL", "hashing")

    def call(*args: str) -> tuple[int, str, str]:
        status = run(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return call


def test_the_ids_the_tables_print_are_accepted(cli):
    status, out, _ = cli("add", "--user", "alice", "--name", "Alice", "I live in Porto.")
    assert status == 0
    shown = re.findall(r"│ ADD\s+│ \w+\s+│ ([0-9a-f]{12}) │", out)
    assert shown, out
    status, out, err = cli("history", "--user", "alice", shown[0])
    assert status == 0, err
    assert "ADD" in out
    status, out, _ = cli("--json", "get", "--user", "alice", shown[0][:8])
    assert status == 0 and json.loads(out)["id"].startswith(shown[0])
    status, out, _ = cli("delete", "--user", "alice", shown[0], "--json")
    assert json.loads(out) == {"deleted": 1, "id": json.loads(out)["id"]}
    assert json.loads(out)["id"].startswith(shown[0]) and len(json.loads(out)["id"]) == 32


def test_an_ambiguous_prefix_lists_the_candidates(cli, tmp_path):
    lines = [
        {
            "type": "memory",
            "id": f"3fdb7c781bac{n:04d}",
            "memory": f"note {n}",
            "kind": "fact",
            "user_id": "alice",
            "hash": f"h{n}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        for n in (1, 2)
    ]
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert cli("import", str(path))[0] == 0
    status, out, _ = cli("history", "--user", "alice", "3fdb7c781bac", "--json")
    assert status == 2
    err = json.loads(out)["error"]
    assert err["type"] == "AmbiguousIdError"
    assert err["candidates"] == ["3fdb7c781bac0001", "3fdb7c781bac0002"]
    status, _, stderr = cli("get", "--user", "alice", "3fdb7c781bac")
    assert status == 2 and "3fdb7c781bac0001" in stderr and "more characters" in stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_json_and_data_dir_go_before_or_after_the_command(cli, tmp_path, where):
    other = str(tmp_path / "other")
    given = ["--json", "--data-dir", other]
    command = ["add", "--user", "alice", "--no-infer", "tea every morning"]
    args = [*given, *command] if where == "before" else [*command, *given]
    status, out, err = cli(*args)
    assert status == 0, err
    assert json.loads(out)["results"][0]["memory"] == "tea every morning"
    status, out, _ = cli("search", "--json", "--user", "alice", "--data-dir", other, "tea")
    assert [h["memory"] for h in json.loads(out)] == ["tea every morning"]


@pytest.mark.parametrize(
    ("args", "kind", "says"),
    [
        (["add", "hello, I live in Rome"], "ScopeError", "--user alice"),
        (["get", "0123456789ab"], "ScopeError", "--all-scopes"),
        (["get", "--user", "a", "--all-scopes", "0123456789ab"], "UserInputError", "--all-scopes"),
        (["search", "--user", "a", "--filters", "{bad", "x"], "UserInputError", "--filters"),
        (["list", "--user", "a", "--filters", '{"colour": "red"}'], "FilterError", "metadata."),
        (["search", "--user", "a", "--limit", "0", "x"], "UserInputError", "--limit must"),
        (["search", "--user", "a"], "UsageError", "Missing argument"),
        (["search", "--usr", "a", "x"], "UsageError", "No such option"),
        (["get", "--user", "a", "nope"], "MemoryNotFoundError", "at least 8 characters"),
        (["delete", "--user", "a"], "UserInputError", "--all"),
    ],
)
def test_errors_name_flags_and_come_as_json_with_json(cli, args, kind, says):
    status, out, err = cli(*args)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1
    assert "user_id" not in err and "all_scopes" not in err
    status, out, err = cli(*args, "--json")
    assert status == 2 and err == ""
    body = json.loads(out)["error"]
    assert body["type"] == kind and says in body["message"]


def test_an_add_is_dated_now_unless_a_timestamp_is_given(cli):
    status, out, _ = cli(
        "--json", "add", "--user", "alice", "--name", "Alice", "I moved to Boston last spring."
    )
    assert status == 0
    facts = [e["memory"] for e in json.loads(out)["results"]]
    year = datetime.now(UTC).year
    assert f"Alice moved to Boston in spring {year}." in facts, facts
    status, out, _ = cli("--json", "list", "--user", "alice")
    assert all(m["event_time"] is None or m["event_time"][:4] == str(year) for m in json.loads(out))
    status, out, _ = cli(
        "--json",
        "add",
        "--user",
        "bo",
        "--name",
        "Bo",
        "--timestamp",
        "2023-05-08T13:56:00",
        "I moved to Lisbon last spring.",
    )
    facts = [e["memory"] for e in json.loads(out)["results"]]
    assert "Bo moved to Lisbon in spring 2022." in facts, facts


def test_name_role_and_timestamp_apply_to_file_messages(cli, tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps(
            [
                {"role": "user", "content": "My sister is Jo."},
                {"role": "assistant", "content": "Nice! Say hi to her."},
                {"role": "user", "name": "Max", "content": "I work as a pilot.", "id": "x1"},
            ]
        )
    )
    status, out, err = cli(
        "--json",
        "add",
        "--user",
        "ana",
        "--name",
        "Ana",
        "--timestamp",
        "2024-02-01",
        "--file",
        str(path),
    )
    assert status == 0, err
    facts = {e["memory"] for e in json.loads(out)["results"] if e["kind"] == "fact"}
    assert "Ana's sister is Jo." in facts and "Max works as a pilot." in facts, facts
    assert not any("the user" in f for f in facts)
    status, out, _ = cli("--json", "export", "--user", "ana")
    records = [json.loads(line) for line in out.splitlines()]
    stored = [r["message"] for r in records if r["type"] == "message"]
    assert [m["name"] for m in stored] == ["Ana", None, "Max"]
    assert {m["timestamp"][:10] for m in stored} == {"2024-02-01"}
    # a plain string in the file is a message of --role
    path.write_text(json.dumps("I live in Porto."))
    status, out, _ = cli("--json", "add", "--user", "li", "--name", "Li", "--file", str(path))
    assert "Li lives in Porto." in [e["memory"] for e in json.loads(out)["results"]]


def test_shell_completion_is_available(cli):
    # The installed command, in its own process. Typer detects the user's shell from the
    # process tree, which a test run does not have; its own switch makes the shell explicit.
    command = Path(sys.executable).with_name("hybrid-memory")
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [str(command), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert shown.returncode == 0 and "_HYBRID_MEMORY_COMPLETE" in shown.stdout, shown
    status, out, _ = cli("--help")
    assert status == 0 and "--install-completion" in out
    for command in ("add", "search", "context", "list", "get", "history", "update", "delete"):
        assert command in out
