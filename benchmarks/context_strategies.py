"""Tokens and cost per context strategy on a long scripted tool-heavy agent conversation.

    python -m benchmarks.context_strategies [--turns 200] [--model gpt-4o-mini] [--out DIR]

The script is deterministic: each turn the user asks about a file or a topic, the assistant
calls ``read_file`` (a large file body) or ``search`` (a page of hits), gets the result and
answers; acknowledgements and repeated questions are sprinkled in. Every turn makes two calls
(one returning the tool call, one the answer). Like a real agent, each configuration keeps the
history it sent last time (compressions persist) and fits it again before every call. Reported
per configuration: tokens sent per call (median, max, total), calls over the model's usable
window (``none`` only: such calls would fail), compressions, reply tokens and the cost of the
run from the registry prices. Token counts are tiktoken's (exact for OpenAI models).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from hybrid_memory.agent.registry import get_model_info
from hybrid_memory.agent.window import ContextWindow, WindowSettings
from hybrid_memory.tokens import TokenCounter

SYSTEM = (
    "You are a careful coding assistant working in a Python repository. Use the tools to read "
    "files and search the code before answering; answer concisely."
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the repository.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the repository for a query.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    },
]
WORDS = "cache index token budget user session store vector graph merge parse retry".split()

CONFIGS: dict[str, dict[str, Any]] = {
    "none": {},
    "truncate": {"strategies": ["truncate"], "max_message_tokens": 300},
    "sliding_window": {"strategies": ["sliding_window"], "keep_last": 40},
    "token_window": {"strategies": ["token_window"]},
    "selective": {"strategies": ["selective"]},
    "compact_tools": {"strategies": ["compact_tools"]},
    "summarize": {"strategies": ["summarize"]},
    "delete": {"strategies": ["delete"]},
    "preset:conservative": {"preset": "conservative"},
    "preset:balanced": {"preset": "balanced"},
    "preset:aggressive": {"preset": "aggressive"},
}


def _file_body(rng: random.Random, n: int, lines: int) -> str:
    out = [f'"""Module {n}."""', "", "from __future__ import annotations", ""]
    for i in range(lines):
        a, b = rng.sample(WORDS, 2)
        out.append(f"def {a}_{b}_{n}_{i}(x, limit={rng.randint(1, 999)}):")
        out.append(f"    return [v for v in x if v.{b} < limit]  # {a} {rng.randint(0, 9999)}")
    return "\n".join(out)


def script(turns: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    """Per turn: [user, assistant tool call, tool result, assistant answer] (+ extras)."""
    rng = random.Random(seed)
    out = []
    for t in range(turns):
        call_id = f"call_{t}"
        if t % 3 == 2:
            query = " ".join(rng.sample(WORDS, 2))
            user = f"Where do we handle {query}?"
            name, args = "search", {"query": query}
            body = "\n".join(
                f"src/pkg/mod{rng.randint(0, 80)}.py:{rng.randint(1, 400)}: "
                f"{query} = compute_{rng.choice(WORDS)}(x)  # {rng.randint(0, 9999)}"
                for _ in range(40)
            )
        else:
            n = rng.randint(0, 80)
            user = f"Explain what src/pkg/mod{n}.py does and whether it is safe."
            name, args = "read_file", {"path": f"src/pkg/mod{n}.py"}
            body = _file_body(rng, n, rng.randint(30, 80))
        answer = (
            f"{args.get('path', args.get('query'))}: it filters values by "
            f"{rng.choice(WORDS)} under a limit; no unsafe calls. Turn {t}."
        )
        turn = [
            {"role": "user", "content": user},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": body},
            {"role": "assistant", "content": answer},
        ]
        if t % 5 == 4:
            turn.append({"role": "user", "content": "ok thanks"})
            turn.append({"role": "assistant", "content": "You're welcome."})
        out.append(turn)
    return out


def run(
    config: dict[str, Any],
    turns: list[list[dict[str, Any]]],
    model: str,
    context_window: int | None = None,
) -> dict[str, Any]:
    """Replay the script under one configuration (``context_window`` overrides the model's)."""
    counter = TokenCounter.for_model(model)
    settings = WindowSettings(model=model, context_window=context_window, **config)
    window = ContextWindow(settings) if config else None
    usable = (context_window or get_model_info(model).context_window) - 4_096
    history: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    sent: list[int] = []
    replies = compressions = fallbacks = over = 0
    started = time.perf_counter()
    for turn in turns:
        # call 1: the user's question -> the tool call; call 2: with the result -> the answer
        steps = [(turn[:1], turn[1]), (turn[2:3], turn[3])]
        if len(turn) > 4:
            steps.append((turn[4:5], turn[5]))
        for new, reply in steps:
            history = history + new
            if window is not None:
                result = window.fit(history, TOOLS)
                history = result.messages
                compressions += result.report.triggered
                fallbacks += result.report.fallback
            tokens = counter.count_messages(history, TOOLS)
            over += tokens > usable
            sent.append(tokens)
            replies += counter.count_message(reply)
            history = history + [reply]
    info = get_model_info(model)
    return {
        "calls": len(sent),
        "median_tokens": int(statistics.median(sent)),
        "max_tokens": max(sent),
        "total_tokens": sum(sent),
        "reply_tokens": replies,
        "cost_usd": round(info.cost(sum(sent), replies), 4),
        "compressions": compressions,
        "fallback_drops": fallbacks,
        "calls_over_window": over,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--context-window", type=int, help="override the model's window")
    parser.add_argument("--only", nargs="*", help="configuration names to run")
    parser.add_argument("--out", default="benchmarks/results", help="directory or .json path")
    args = parser.parse_args(argv)
    turns = script(args.turns)
    names = args.only or list(CONFIGS)
    results = {name: run(CONFIGS[name], turns, args.model, args.context_window) for name in names}
    header = (
        f"{'config':<22}{'calls':>6}{'median':>9}{'max':>9}{'total':>12}{'cost $':>9}"
        f"{'compr.':>8}{'over':>6}"
    )
    print(f"model {args.model}, {args.turns} turns")
    print(header)
    for name, r in results.items():
        print(
            f"{name:<22}{r['calls']:>6}{r['median_tokens']:>9}{r['max_tokens']:>9}"
            f"{r['total_tokens']:>12,}{r['cost_usd']:>9.3f}{r['compressions']:>8}"
            f"{r['calls_over_window']:>6}"
        )
    out = Path(args.out)
    if out.suffix != ".json":
        out = out / "context_strategies.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"model": args.model, "turns": args.turns, "results": results}
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")
    return payload


if __name__ == "__main__":
    main()
