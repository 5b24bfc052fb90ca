"""The demo: a three-session conversation, what was remembered, and contexts for a few questions.

Run it with ``make demo`` (or ``python -m hybrid_memory.demo``). It uses the embedded defaults
(offline embedder, chromadb and SQLite) in a temporary directory, removed at the end. With
``--data-dir DIR`` it keeps its data in DIR: a new or empty directory, which it marks as its own,
or one it marked before (it then starts by deleting its own demo user's memories there, so it
can be run again and again). It never deletes data it did not create: a directory holding
anything else is refused.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from hybrid_memory import HybridMemory, MemoryConfig, UserInputError

USER = "maya-demo"
MARKER = ".hybrid-memory-demo"
"""The file that marks a data dir as the demo's own."""

SESSIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "session-1",
        "2024-03-02T18:30:00",
        [
            (
                "user",
                "Hi! I'm Maya. I live in Lisbon and I work as a nurse at Santa Maria Hospital.",
            ),
            ("assistant", "Nice to meet you, Maya! How can I help today?"),
            (
                "user",
                "I need dinner ideas. I'm allergic to peanuts, and my partner Leo is vegetarian.",
            ),
            ("assistant", "Noted. A chickpea curry without peanuts would suit you both."),
            (
                "user",
                "Perfect. Also, my dog Biscuit needs a walk schedule, he's a 3 year old beagle.",
            ),
            ("user", "thanks!"),
        ],
    ),
    (
        "session-2",
        "2024-06-14T09:10:00",
        [
            ("user", "Big news: I moved to Porto last month."),
            ("user", "I also started a new job as a data analyst at Lumen Labs."),
            ("assistant", "Congratulations on the move and the new job!"),
            ("user", "I'm planning a trip to Japan in October with my sister Ana."),
            ("user", "ok"),
        ],
    ),
    (
        "session-3",
        "2024-09-20T20:45:00",
        [
            ("user", "I don't work at Lumen Labs anymore. I went back to nursing."),
            ("user", "I'm training for the Porto half marathon in November."),
            ("assistant", "That's a great goal. How is your training going?"),
            ("user", "Good, I ran 15 km yesterday!"),
        ],
    ),
]

QUESTIONS = [
    "Where does Maya live now?",
    "Where did Maya live before?",
    "What should I avoid when suggesting food for Maya?",
    "What are Maya's travel plans?",
    "What is Maya's job?",
]


def ingest(memory: HybridMemory, console: Console) -> list[float]:
    """Add the demo conversation session by session; print what each add changed."""
    latencies = []
    for run_id, when, turns in SESSIONS:
        table = Table(title=f"{run_id} ({when[:10]}): what add() did", show_lines=False)
        for col in ("event", "kind", "memory"):
            table.add_column(col, overflow="fold")
        for n, (role, text) in enumerate(turns, 1):
            message = {"role": role, "content": text, "id": f"{run_id}:{n}", "timestamp": when}
            if role == "user":
                message["name"] = "Maya"
            start = time.perf_counter()
            result = memory.add(message, user_id=USER, run_id=run_id)
            latencies.append(time.perf_counter() - start)
            for event in result.results:
                if event.kind.value == "entity" and event.event.value == "NONE":
                    continue
                shown = event.memory
                if event.previous_memory and event.event.value == "UPDATE":
                    shown = f"{event.previous_memory}  ->  {event.memory}"
                table.add_row(event.event.value, event.kind.value, shown)
            if not result.results:
                table.add_row("-", "-", f"[dim]{text!r}: nothing worth remembering[/dim]")
        console.print(table)
    return latencies


def claim(data_dir: Path) -> bool:
    """Make ``data_dir`` the demo's: a new or empty directory gets the marker. Returns whether
    the demo used it before (then its demo user's memories may be deleted).

    Raises:
        UserInputError: the directory holds data the demo did not create.
    """
    if (data_dir / MARKER).exists():
        return True
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise UserInputError(
            f"{data_dir} is not empty and was not created by the demo; pass a new or empty "
            "directory to --data-dir (or none: the demo then uses a temporary one)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("data written by python -m hybrid_memory.demo\n")
    return False


def run(console: Console, data_dir: Path, budget: int, model: str) -> None:
    """The whole demo on the memory under ``data_dir``."""
    start = time.perf_counter()
    with HybridMemory(MemoryConfig(data_dir=data_dir)) as memory:
        console.print(
            f"[bold]hybrid-memory demo[/bold]: data in {memory.config.data_dir.resolve()}, "
            f"embedder {memory.embedder.name}, extractor {memory.extractor.name} "
            f"(opened in {time.perf_counter() - start:.1f} s)"
        )
        memory.delete_all(user_id=USER)  # only ever in the demo's own data dir
        latencies = ingest(memory, console)
        show_facts(memory, console)
        search_times = contexts(memory, console, budget, model)
    console.print(
        f"add: {len(latencies)} messages, median {median(latencies) * 1000:.0f} ms; "
        f"get_context: median {median(search_times) * 1000:.0f} ms"
    )


def show_facts(memory: HybridMemory, console: Console) -> None:
    facts = memory.get_all(user_id=USER, filters={"kind": {"in": ["fact"]}})
    table = Table(title=f"current facts about Maya ({len(facts)})")
    table.add_column("since")
    table.add_column("fact", overflow="fold")
    for item in sorted(facts, key=lambda i: i.event_time or i.created_at):
        table.add_row(f"{(item.event_time or item.created_at):%Y-%m-%d}", item.memory)
    console.print(table)


def contexts(memory: HybridMemory, console: Console, budget: int, model: str) -> list[float]:
    """The context for each question; returns how long each took."""
    search_times = []
    for question in QUESTIONS:
        t0 = time.perf_counter()
        ctx = memory.get_context(
            question, user_id=USER, run_id="session-3", token_budget=budget, model=model
        )
        search_times.append(time.perf_counter() - t0)
        hits = "\n".join(f"  {h.score:.3f}  [{h.kind.value}] {h.memory}" for h in ctx.memories[:3])
        sections = ", ".join(f"{k} {v}" for k, v in ctx.sections.items())
        console.print(
            Panel(
                f"[bold]top memories in the context[/bold]\n{hits}\n\n"
                f"[bold]context sent to the model[/bold] ({len(ctx.messages)} messages: "
                f"{sections}; {len(ctx.dropped)} items left out)\n{ctx.text}",
                title=f"{question}  —  {ctx.tokens}/{ctx.token_budget} tokens "
                f"({'exact' if ctx.exact else 'estimate'}, {ctx.model})",
            )
        )
    return search_times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--budget", type=int, default=400, help="token budget per context")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the demo's data here (a new or empty directory, or one the demo used "
        "before); default: a temporary directory, removed at the end",
    )
    args = parser.parse_args(argv)
    console = Console(width=120)
    if args.data_dir is None:
        with tempfile.TemporaryDirectory(prefix="hybrid-memory-demo-") as tmp:
            run(console, Path(tmp), args.budget, args.model)
        return 0
    try:
        claim(args.data_dir)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run(console, args.data_dir, args.budget, args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
