"""Wall time of ``hybrid-memory`` commands, each in a new (cold) process.

    python -m benchmarks.cli_timing --repeat 5 --out benchmarks/results/cli/results.json

A data dir is filled with a few memories first (and the embedder used once, so the one-time
ONNX export is not what is timed); then every command runs ``--repeat`` times as its own
process. Medians (and the slowest run) in seconds. Numbers depend on the machine and on what
else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

FACTS = [
    "I moved to Boston last spring.",
    "My sister Ana just adopted a grey cat called Miso.",
    "I work as a nurse at the children's hospital.",
]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


LAST_CPU: list[float] = [0.0]
"""CPU seconds (user + system) of the last command run: on a machine others share, about
what its wall time would be alone."""


def _cli(data_dir: Path, *args: str, check: bool = True) -> tuple[float, str]:
    command = [sys.executable, "-m", "hybrid_memory.cli", "--data-dir", str(data_dir), *args]
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    seconds = time.perf_counter() - start
    LAST_CPU[:] = [_children_cpu() - cpu]
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return seconds, done.stdout


def run(repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="cli-timing-") as tmp:
        data = Path(tmp) / "memory"
        for fact in FACTS:
            _cli(data, "add", "--user", "alice", fact)
        listed = json.loads(_cli(data, "--json", "list", "--user", "alice")[1])
        memory_id = listed[0]["id"]
        commands = {
            "list": ["list", "--user", "alice"],
            "get": ["get", "--user", "alice", memory_id],
            "history": ["history", "--user", "alice", memory_id],
            "search": ["search", "--user", "alice", "Where does Alice live?"],
            "context": ["context", "--user", "alice", "Where does Alice live?"],
            "add": ["add", "--user", "alice", "I started learning the cello."],
            "bad input (search --limit 0)": ["search", "--user", "alice", "x", "--limit", "0"],
        }
        out: dict[str, dict[str, float]] = {}
        for name, args in commands.items():
            times, cpu = [], []
            for _ in range(repeat):
                times.append(_cli(data, *args, check=not name.startswith("bad input"))[0])
                cpu.append(LAST_CPU[0])
            out[name] = {
                "median_s": round(statistics.median(times), 3),
                "max_s": round(max(times), 3),
                "cpu_median_s": round(statistics.median(cpu), 3),
            }
            print(name, out[name], flush=True)
    return {"repeat": repeat, "commands": out}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run(args.repeat)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
