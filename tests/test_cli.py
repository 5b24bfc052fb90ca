"""The command line, run as a real subprocess against a real data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hybrid_memory.agent.usage import UsageTracker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(data_dir, *args, stdin=None, real_model=False):
    env = {**os.environ, "PYTHONPATH": ROOT, "HYBRID_MEMORY_DATA_DIR": str(data_dir)}
    if not real_model:
        # One real-model invocation below is enough; the rest use the deterministic embedder.
        env["HYBRID_MEMORY_EMBEDDING_MODEL"] = "hashing"
    return subprocess.run(
        [sys.executable, "-m", "hybrid_memory.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


def test_cli_round_trip(tmp_path):
    data = tmp_path / "data"
    added = cli(
        data,
        "--json",
        "add",
        "--user",
        "ana",
        "--name",
        "Ana",
        "--timestamp",
        "2024-03-01T10:00:00",
        "I live in Porto and I work as a nurse.",
    )
    assert added.returncode == 0, added.stderr
    events = json.loads(added.stdout)["results"]
    assert events and all(e["event"] == "ADD" for e in events)

    found = cli(data, "--json", "search", "--user", "ana", "Where does Ana live?")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert "Porto" in hits[0]["memory"]

    table = cli(data, "search", "--user", "ana", "Where does Ana live?")
    assert table.returncode == 0 and "Porto" in table.stdout

    ctx = cli(data, "--json", "context", "--user", "ana", "--budget", "300", "job?")
    body = json.loads(ctx.stdout)
    assert body["tokens"] <= 300 and body["exact"] is True

    memory_id = hits[0]["id"]
    hist = json.loads(cli(data, "--json", "history", "--user", "ana", memory_id).stdout)
    assert [h["event"] for h in hist] == ["ADD"]

    out = tmp_path / "ana.jsonl"
    exported = cli(data, "export", "--user", "ana", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text().splitlines()
    assert lines and all(
        json.loads(line)["type"] in ("memory", "message", "summary") for line in lines
    )

    other = tmp_path / "other"
    imported = cli(other, "--json", "import", str(out))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["memories"] == sum(
        json.loads(line)["type"] == "memory" for line in lines
    )
    listed = json.loads(cli(other, "--json", "list", "--user", "ana").stdout)
    assert {m["id"] for m in listed} >= {memory_id}

    deleted = cli(data, "--json", "delete", "--user", "ana", "--all")
    assert json.loads(deleted.stdout)["deleted"] >= 1
    assert json.loads(cli(data, "--json", "list", "--user", "ana").stdout) == []


def test_cli_errors_say_what_to_change(tmp_path):
    data = tmp_path / "data"
    no_scope = cli(data, "add", "hello, I live in Rome")
    assert no_scope.returncode == 2
    assert "at least one of --user" in no_scope.stderr
    bad_filter = cli(data, "search", "--user", "a", "--filters", "{not json", "x")
    assert bad_filter.returncode == 2 and "--filters must be JSON" in bad_filter.stderr
    missing = cli(data, "get", "--user", "a", "nope")
    assert missing.returncode == 2 and "no memory with id" in missing.stderr
    bad_import = cli(data, "import", "-", stdin='{"type": "memory"}\nnot json\n')
    assert bad_import.returncode == 2 and "line 2" in bad_import.stderr


def test_cli_with_the_real_model(tmp_path):
    data = tmp_path / "real"
    added = cli(
        data, "add", "--user", "bo", "--name", "Bo", "I adopted a cat named Miso.", real_model=True
    )
    assert added.returncode == 0, added.stderr
    assert "Loading weights" not in added.stderr  # no progress bar noise on every open
    found = cli(
        data, "--json", "search", "--user", "bo", "Which pet does Bo have?", real_model=True
    )
    assert found.returncode == 0, found.stderr
    assert "Miso" in json.loads(found.stdout)[0]["memory"]


def test_benchmarks_entry_point_runs_the_locomo_benchmark(tmp_path):
    """The benchmarks have their own entry point (the package never imports them)."""
    fixture = os.path.join(ROOT, "tests", "fixtures", "locomo_mini.json")
    out = tmp_path / "bench"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "locomo",
            "--data",
            fixture,
            "--out",
            str(out),
            "--embedder",
            "hashing",
            "--systems",
            "hybrid,bm25",
            "--no-progress",
        ],
        env={**os.environ, "PYTHONPATH": ROOT, "HYBRID_MEMORY_DATA_DIR": str(tmp_path / "d")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "results.json").read_text())["questions"] == 8


def test_cli_stats_reads_the_usage_database(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    t = UsageTracker(data / "usage.sqlite3")
    t.record("gpt-4o-mini", 1_000_000, 0, "extraction", session_id="s1", user_id="alice")
    t.record("gpt-4o", 1_234, 56, "chat", session_id="s1", user_id="alice")
    t.record("gpt-4o", 500, 5, "chat", session_id="s2", user_id="bob")
    t.record_compression(1_000, 250, session_id="s1", user_id="alice")
    t.close()

    table = cli(data, "stats", "--user", "alice")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "bob" not in table.stdout and "750 tokens saved (75.0%)" in table.stdout
    total = next(line for line in lines if "total" in line).replace("│", " ").split()
    assert total == ["total", "2", "1,001,234", "56", "0.1536"]

    body = json.loads(cli(data, "--json", "stats", "--user", "alice").stdout)
    assert body["total"]["calls"] == 2
    assert body["total"]["prompt_tokens"] == 1_001_234
    assert body["total"]["cost_usd"] == pytest.approx(0.15 + (1_234 * 2.5 + 56 * 10) / 1e6)
    assert set(body["by_category"]) == {"extraction", "chat"} and set(body["by_user"]) == {"alice"}
    assert body["compression"] == {
        "compressions": 1,
        "tokens_before": 1_000,
        "tokens_after": 250,
        "tokens_saved": 750,
        "savings_pct": 75.0,
    }

    # options after the command name, --data-dir overriding the environment's data dir
    session = cli(tmp_path / "elsewhere", "stats", "--session", "s2", "--json", "--data-dir", data)
    body = json.loads(session.stdout)
    assert body["by_user"]["bob"]["completion_tokens"] == 5 and body["total"]["calls"] == 1
    assert body["compression"]["compressions"] == 0


def test_cli_stats_without_usage_yet_and_with_a_bad_file(tmp_path):
    empty = cli(tmp_path / "none", "--json", "stats")
    assert empty.returncode == 0, empty.stderr
    body = json.loads(empty.stdout)
    assert body["total"]["calls"] == 0 and body["compression"]["savings_pct"] == 0.0
    assert not (tmp_path / "none").exists()  # reading creates nothing
    table = cli(tmp_path / "none", "stats")
    assert table.returncode == 0 and "0 compressions" in table.stdout

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "usage.sqlite3").write_text("not a database " * 100)
    broken = cli(bad, "stats")
    assert broken.returncode == 2
    assert broken.stderr.startswith("error: cannot open the usage database")
    assert len(broken.stderr.strip().splitlines()) == 1
