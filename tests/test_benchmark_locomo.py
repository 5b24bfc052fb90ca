"""The LoCoMo benchmark: metric functions on hand-checked cases and a smoke run on a fixture."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from benchmarks import locomo

FIXTURE = Path(__file__).parent / "fixtures" / "locomo_mini.json"


def test_recall_on_known_cases():
    assert locomo.recall(["D1:1"], [["D1:1"]], 1) == 1.0
    assert locomo.recall(["D1:1", "D1:2"], [["D9:9"], ["D1:2", "D1:1"]], 1) == 0.0
    assert locomo.recall(["D1:1", "D1:2"], [["D9:9"], ["D1:2"]], 2) == 0.5
    assert locomo.recall(["D1:1", "D1:2"], [["D9:9"], ["D1:2", "D1:1"]], 2) == 1.0
    with pytest.raises(ValueError):
        locomo.recall([], [["D1:1"]], 1)


def test_evidence_quirks_and_dates():
    known = {"D8:6", "D9:17", "D11:26", "D30:5", "D4:4"}
    raw = ["D8:6; D9:17", "D:11:26", "D30:05", "D4:4 D77:1"]
    assert locomo.normalize_evidence(raw, known) == ["D8:6", "D9:17", "D11:26", "D30:5", "D4:4"]
    assert locomo.parse_when("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56)
    assert locomo.parse_when(None) is None


def test_loader_reads_turns_and_never_the_generated_summaries():
    conversations = locomo.load(FIXTURE)
    first = conversations[0]
    assert [len(s) for s in first.sessions] == [4, 4]  # session_3 has a date but no turns
    assert first.turns[3].text.endswith(
        "[shared an image: a photo of a small brown dog on the grass]"
    )
    assert all("NOT TO BE READ" not in t.text for t in first.turns)
    by_q = {q.question: q for q in first.questions}
    assert by_q["Where does Rosa volunteer and where is her sister moving?"].evidence == [
        "D1:3",
        "D2:3",
    ]
    assert by_q["Would Tomas enjoy a bike ride?"].evidence == ["D2:2"]
    assert by_q["What did Tomas eat?"].evidence == []


def test_smoke_run_writes_report_and_plots(tmp_path):
    out = tmp_path / "out"
    code = locomo.main(
        ["--data", str(FIXTURE), "--out", str(out), "--embedder", "hashing", "--no-progress"]
    )
    assert code == 0
    result = json.loads((out / "results.json").read_text())
    assert result["questions"] == 8 and result["skipped_without_evidence"] == 1
    assert result["adversarial_not_scored"] == 1
    systems = result["systems"]
    assert set(systems) == {"hybrid", "dense", "bm25", "rrf", "last_n"}
    for name in ("hybrid", "dense", "bm25", "rrf"):
        r = systems[name]["recall"]
        assert 0 <= r["all@5"] <= r["all@10"] <= r["all@25"] <= r["all@50"] <= 100
    # the raw-turn retrievers see every turn within k=50 of these tiny conversations
    assert systems["bm25"]["recall"]["all@50"] == 100.0
    for budget, tokens in systems["hybrid"]["context_tokens"].items():
        assert tokens <= int(budget)
    assert (out / "report.md").read_text().startswith("# LoCoMo evidence recall")
    assert (out / "recall_at_k.png").stat().st_size > 1000
    assert (out / "recall_vs_tokens.png").stat().st_size > 1000
    assert (out / "latency.png").stat().st_size > 1000


def test_the_report_puts_the_previous_release_beside_this_run(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["--data", str(FIXTURE), "--embedder", "hashing", "--no-progress", "--systems"]
    assert locomo.main([*args, "hybrid,rrf", "--out", str(first)]) == 0
    previous = ["--previous", str(first / "results.json"), "--previous-label", "v0.4"]
    assert locomo.main([*args, "hybrid,rrf", "--out", str(second), *previous]) == 0
    earlier = json.loads((first / "results.json").read_text())["systems"]["hybrid"]
    report = (second / "report.md").read_text()
    summary = report.split("## Summary", 1)[1].split("##", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert [r.split(" | ")[0] for r in rows] == [
        "| system",
        "| **hybrid-memory**",
        "| hybrid-memory, v0.4",
        "| RRF of dense + BM25",
    ]
    cells = rows[2].strip("| ").split(" | ")
    assert cells[1:3] == [str(earlier["recall"]["all@5"]), str(earlier["recall"]["all@10"])]
    assert cells[3] == str(earlier["recall"]["multi-hop@10"])
    with pytest.raises(SystemExit):
        locomo.main([*args, "hybrid", "--out", str(second), "--previous", str(tmp_path / "no")])


def test_the_run_rewrites_the_readme_table_and_nothing_else(tmp_path):
    readme = tmp_path / "README.md"
    before, after = "# Title\n\nIntro.\n\n" + locomo.README_MARK + "\n", "\n\nMore text.\n"
    readme.write_text(before + "| old | table |\n|---|---|\n| x | 1 |" + after)
    args = ["--data", str(FIXTURE), "--embedder", "hashing", "--no-progress", "--systems"]
    out = tmp_path / "out"
    assert locomo.main([*args, "hybrid,bm25", "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(before) and text.endswith(after)
    table = text[len(before) : -len(after)].splitlines()
    result = json.loads((out / "results.json").read_text())
    assert table == locomo.summary_table(result)
    assert [row.split(" | ")[0] for row in table[2:]] == [
        "| **hybrid-memory**",
        "| BM25 over raw turns",
    ]
    assert table[2].split(" | ")[2] == str(result["systems"]["hybrid"]["recall"]["all@10"])
    bare = tmp_path / "bare.md"
    bare.write_text("no mark here\n")
    with pytest.raises(ValueError, match="locomo-table"):
        locomo.write_readme_table(bare, result)
    with pytest.raises(SystemExit):  # refused before the run, not after it
        locomo.main([*args, "hybrid", "--out", str(out), "--readme", str(bare)])


def test_mem0_and_hybrid_side_by_side_with_the_real_model(real_embedder):
    conversations = locomo.load(FIXTURE)
    result = locomo.run(conversations, ["hybrid", "mem0", "dense"], real_embedder, progress=False)
    systems = result["systems"]
    for name in ("hybrid", "mem0"):
        assert systems[name]["add_latency"]["p50_ms"] > 0
        assert systems[name]["search_latency"]["p95_ms"] > 0
    # Mem0 (infer=False) stores raw turns: one source per hit, like the dense baseline
    assert systems["mem0"]["mean_sources_per_hit"] == 1.0
    assert systems["mem0"]["recall"]["all@50"] == 100.0
    # the puppy question is found by every system at k=5
    assert systems["hybrid"]["recall"]["single-hop@5"] > 0


def test_scale_benchmark_smoke(tmp_path):
    from benchmarks import scale

    out = tmp_path / "scale"
    assert (
        scale.main(
            [
                "--sizes",
                "100,200",
                "--users",
                "1,3",
                "--per-user",
                "4",
                "--queries",
                "3",
                "--batch",
                "50",
                "--embedder",
                "hashing",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "results.json").read_text())
    assert [r["memories"] for r in result["sizes"]] == [100, 200]
    assert [r["users"] for r in result["users"]] == [1, 3]
    for row in result["sizes"]:
        assert row["search"]["p95_ms"] >= row["search"]["p50_ms"] > 0
        assert row["disk_mb"] > 0 and row["rss_mb"] > 0
    assert (out / "scale.png").stat().st_size > 1000
