"""The benchmarks' own entry point (run from a checkout; they are not part of the package).

    python -m benchmarks locomo --data ../shared/locomo/locomo10_dev.json --out DIR
    python -m benchmarks scale --sizes 1000,10000
    python -m benchmarks core_latency
    python -m benchmarks context_strategies
    python -m benchmarks faults --minutes 10
    python -m benchmarks service --memories 10000

``python -m benchmarks <name> --help`` shows each benchmark's options.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

BENCHMARKS = {
    "locomo": "recall on LoCoMo, beside the baselines and Mem0",
    "scale": "latency, memory and disk as a scope grows and users multiply",
    "core_latency": "add / search / get_context latency on a synthetic conversation",
    "context_strategies": "tokens and cost per context-window strategy on an agent run",
    "faults": "kill -9 during adds, isolation and bad input: what must stay zero",
    "service": "add / search / context over HTTP at concurrency 1, 8, 32 beside in-process",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args[0] not in BENCHMARKS:
        print(__doc__.strip() + "\n")
        for name, what in BENCHMARKS.items():
            print(f"  {name:<20} {what}")
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    module = importlib.import_module(f"benchmarks.{args[0]}")
    result = module.main(args[1:])
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
