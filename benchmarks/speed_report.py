"""One report of the speed targets from the results of one run of the speed benchmarks.

    python -m benchmarks.scale --sizes 1000,10000 --users 1,100,1000 --mem0 --out R/scale
    python -m benchmarks.core_latency --out R/core_latency.json
    python -m benchmarks.cli_timing --out R/cli.json
    python -m benchmarks.locomo --data D --systems hybrid --limit-conversations 2 \\
        --embedder all-MiniLM-L6-v2 --out R/locomo-onnx        (and sentence-transformers:...)
    python -m benchmarks.speed_report --results R

Writes ``R/report.md`` (every target met or missed, with its figure and the command that
measured it) and ``R/speed.png``. A result that is absent is reported as not measured.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def _merged_scale(results: Path) -> dict[str, Any] | None:
    """``scale/results.json``, with the parts run as separate processes (``scale-*/``)."""
    parts = [_load(p / "results.json") for p in sorted(results.glob("scale*")) if p.is_dir()]
    found = [p for p in parts if p is not None]
    if not found:
        return None
    merged: dict[str, Any] = {"embedder": found[0]["embedder"], "sizes": [], "users": []}
    for part in found:
        merged["sizes"] += part.get("sizes", [])
        merged["users"] += part.get("users", [])
        merged.setdefault("backend", part.get("backend"))
    from benchmarks.scale import mem0_ratios

    merged["mem0_ratio"] = mem0_ratios(merged["sizes"])
    return merged


def _cpu(stats: dict[str, Any], which: str = "p95") -> str:
    """The CPU-time figure beside a wall-time one, where it was recorded."""
    value = stats.get(f"cpu_{which}_ms")
    return "" if value is None else f" (CPU {value} ms)"


def _row(target: str, figure: str, met: bool | None, command: str) -> str:
    verdict = "not measured" if met is None else ("met" if met else "**missed**")
    return f"| {target} | {figure} | {verdict} | `{command}` |"


def _scale_rows(scale: dict[str, Any] | None) -> list[str]:
    cmd = "python -m benchmarks.scale --sizes ... --users ... --mem0"
    if scale is None:
        return [_row("scale targets", "-", None, cmd)]
    ours = {r["memories"]: r for r in scale["sizes"] if r["system"] == "hybrid"}
    rows = []
    if 10_000 in ours:
        r = ours[10_000]
        p95, c95 = r["search"]["p95_ms"], r["get_context"]["p95_ms"]
        rows.append(
            _row("search p95 <= 15 ms at 10,000", f"{p95} ms{_cpu(r['search'])}", p95 <= 15, cmd)
        )
        rows.append(
            _row(
                "get_context p95 <= 25 ms at 10,000",
                f"{c95} ms{_cpu(r['get_context'])}",
                c95 <= 25,
                cmd,
            )
        )
    else:
        rows.append(_row("search p95 <= 15 ms at 10,000", "-", None, cmd))
        rows.append(_row("get_context p95 <= 25 ms at 10,000", "-", None, cmd))
    largest, smallest = max(ours, default=None), min(ours, default=None)
    if largest and smallest and largest >= 100 * smallest:
        ratio = ours[largest]["search"]["p95_ms"] / ours[smallest]["search"]["p95_ms"]
        rows.append(
            _row(f"p95 at {largest:,} <= 2x p95 at {smallest:,}", f"{ratio:.2f}x", ratio <= 2, cmd)
        )
    else:
        rows.append(_row("p95 at 100,000 <= 2x p95 at 1,000", "-", None, cmd))
    single = [r["add"]["p50_ms"] for r in ours.values()]
    if single:
        rows.append(
            _row(
                "single add p50 <= 20 ms (scale steps, infer=False)",
                " / ".join(
                    f"{r['add']['p50_ms']} ms{_cpu(r['add'], 'p50')}" for r in ours.values()
                ),
                max(single) <= 20,
                cmd,
            )
        )
    users = {r["users"]: r for r in scale.get("users", [])}
    if 1000 in users:
        u = users[1000]
        label = f"search p95 <= 20 ms, 1 user of 1,000 ({u['memories'] // 1000} memories each)"
        p95 = u["search"]["p95_ms"]
        rows.append(_row(label, f"{p95} ms", p95 <= 20, cmd))
    at_10k = [r for r in scale.get("mem0_ratio", []) if r["memories"] == 10_000]
    for ratio in at_10k:
        value = ratio["search_p50_ratio"]
        rows.append(_row(">= 4x faster search than Mem0 at 10,000", f"{value}x", value >= 4, cmd))
    if not at_10k:
        rows.append(_row(">= 4x faster search than Mem0 at 10,000", "-", None, cmd))
    return rows


def _core_rows(core: dict[str, Any] | None, cli: dict[str, Any] | None) -> list[str]:
    rows = []
    cmd = "python -m benchmarks.core_latency"
    if core is None:
        rows.append(_row("core latency targets", "-", None, cmd))
    else:
        rate = core["add_batched_turns_per_s"]
        rows.append(_row("batched offline add >= 300 turns/s", f"{rate}/s", rate >= 300, cmd))
        p50 = core["add_single"]["p50_ms"]
        rows.append(_row("single add p50 <= 20 ms (with extraction)", f"{p50} ms", p50 <= 20, cmd))
        speedup = core["thread_speedup"]
        rows.append(
            _row(
                f"{core['threads']} threads >= 1.6x one thread's search throughput",
                f"{speedup}x",
                speedup >= 1.6,
                cmd,
            )
        )
    cmd = "python -m benchmarks.cli_timing"
    if cli is None:
        rows.append(_row("CLI targets", "-", None, cmd))
        return rows
    commands = cli["commands"]
    for name, limit in (("list", 1), ("get", 1), ("history", 1), ("search", 2)):
        entry = commands[name]
        seconds, cpu = entry["median_s"], entry.get("cpu_median_s")
        figure = f"{seconds} s" + ("" if cpu is None else f" (CPU {cpu} s)")
        rows.append(_row(f"`hybrid-memory {name}` < {limit} s wall", figure, seconds < limit, cmd))
    return rows


def _recall_rows(onnx: dict[str, Any] | None, torch: dict[str, Any] | None) -> list[str]:
    cmd = "python -m benchmarks.locomo --systems hybrid --limit-conversations N --embedder ..."
    if onnx is None or torch is None:
        return [_row("LoCoMo R@10 within 0.5 points of torch", "-", None, cmd)]
    a = onnx["systems"]["hybrid"]["recall"]["all@10"]
    b = torch["systems"]["hybrid"]["recall"]["all@10"]
    figure = f"{a} vs {b} ({onnx['conversations']} conversations, {onnx['questions']} questions)"
    return [_row("LoCoMo R@10 within 0.5 points of torch", figure, abs(a - b) <= 0.5, cmd)]


def plot(scale: dict[str, Any] | None, cli: dict[str, Any] | None, out: Path) -> Path | None:
    if scale is None and cli is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    if scale is not None:
        ours = [r for r in scale["sizes"] if r["system"] == "hybrid"]
        for key, label in (("p95_ms", "search p95, wall"), ("cpu_p95_ms", "search p95, CPU")):
            rows = [r for r in ours if key in r["search"]]
            if rows:
                left.plot(
                    [r["memories"] for r in rows],
                    [r["search"][key] for r in rows],
                    marker="o",
                    label=f"one scope: {label}",
                )
        users = scale.get("users", [])
        if users:
            left.plot(
                [r["memories"] for r in users],
                [r["search"]["p95_ms"] for r in users],
                marker="s",
                label="one user among many: search p95, wall",
            )
        for ratio in scale.get("mem0_ratio", []):
            left.annotate(f"Mem0 {ratio['search_p50_ratio']}x", (ratio["memories"], 1))
        left.set(xscale="log", xlabel="memories in the store", ylabel="ms", title="Search")
        left.legend()
    if cli is not None:
        names = list(cli["commands"])
        right.barh(names, [cli["commands"][n]["median_s"] for n in names])
        right.set(xlabel="seconds (median, cold process)", title="hybrid-memory commands")
    fig.tight_layout()
    path = out / "speed.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def report(results: Path) -> str:
    scale = _merged_scale(results)
    core = _load(results / "core_latency.json")
    cli = _load(results / "cli.json")
    onnx = _load(results / "locomo-onnx" / "results.json")
    torch = _load(results / "locomo-torch" / "results.json")
    lines = [
        "# Speed targets",
        "",
        "Verdicts are on wall time, as the targets are stated; the CPU time of the same calls "
        "(process time) is given beside it, which is what they cost when nothing else runs.",
        "",
        "| target | measured | verdict | command |",
        "|---|---|---|---|",
        *_scale_rows(scale),
        *_core_rows(core, cli),
        *_recall_rows(onnx, torch),
        "",
    ]
    if scale is not None:
        lines += ["## Scale steps", "", "```json", json.dumps(scale, indent=1), "```", ""]
    if core is not None:
        lines += ["## Core latency", "", "```json", json.dumps(core, indent=1), "```", ""]
    if cli is not None:
        lines += ["## Command line", "", "```json", json.dumps(cli, indent=1), "```", ""]
    path = plot(scale, cli, results)
    if path is not None:
        lines += [f"![speed]({path.name})", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results/speed"))
    args = parser.parse_args(argv)
    text = report(args.results)
    (args.results / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
