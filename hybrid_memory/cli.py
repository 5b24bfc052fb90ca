"""The ``hybrid-memory`` command line.

    hybrid-memory add --user alice "I moved to Boston last spring."
    hybrid-memory search --user alice "Where does Alice live?"
    hybrid-memory context --user alice --budget 800 "Where does Alice live?"
    hybrid-memory export --user alice --out alice.jsonl
    hybrid-memory stats --user alice

Every command takes ``--data-dir`` (default ``$HYBRID_MEMORY_DATA_DIR`` or ``./.hybrid_memory``)
and ``--json`` for machine-readable output; otherwise results print as tables. Errors print one
line saying what to change and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hybrid_memory.errors import HybridMemoryError, UserInputError


def _scope_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", dest="user_id", help="user id")
    parser.add_argument("--agent", dest="agent_id", help="agent id")
    parser.add_argument("--run", dest="run_id", help="run (conversation) id")


def _json_arg(value: str | None, what: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"--{what} must be JSON: {exc}") from None


def _add_parser(sub: Any) -> None:
    p = sub.add_parser("add", help="remember messages")
    _scope_args(p)
    p.add_argument("text", nargs="*", help="message text (one message per argument)")
    p.add_argument("--file", type=Path, help="a JSON file with a message list ('-' = stdin)")
    p.add_argument("--role", default="user", help="role of the text messages")
    p.add_argument("--name", help="speaker name of the text messages")
    p.add_argument("--timestamp", help="ISO 8601 time of the text messages")
    p.add_argument("--metadata", help="JSON object stored with the memories")
    p.add_argument("--no-infer", action="store_true", help="store verbatim, no extraction")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybrid-memory", description="Long-term memory for LLM assistants and agents."
    )
    parser.add_argument("--data-dir", type=Path, help="where the memory lives")
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_parser(sub)

    p = sub.add_parser("search", help="search memories")
    _scope_args(p)
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--filters", help='JSON filter, e.g. \'{"category": "food"}\'')
    p.add_argument("--threshold", type=float)

    p = sub.add_parser("context", help="the token-budgeted context for a query")
    _scope_args(p)
    p.add_argument("query")
    p.add_argument("--budget", type=int, default=1500, help="token budget")
    p.add_argument("--model", default="gpt-4o-mini")

    p = sub.add_parser("get", help="one memory")
    _scope_args(p)
    p.add_argument("id")

    p = sub.add_parser("list", help="all current memories of a scope")
    _scope_args(p)
    p.add_argument("--limit", type=int)
    p.add_argument("--filters")

    p = sub.add_parser("history", help="the audit trail of a memory")
    _scope_args(p)
    p.add_argument("id")

    p = sub.add_parser("delete", help="delete one memory, or --all of a scope")
    _scope_args(p)
    p.add_argument("id", nargs="?")
    p.add_argument("--all", action="store_true", help="delete every memory of the scope")

    p = sub.add_parser("export", help="export a scope as JSON Lines")
    _scope_args(p)
    p.add_argument("--out", type=Path, help="output file (default: stdout)")

    p = sub.add_parser("import", help="import JSON Lines written by export")
    p.add_argument("file", type=Path, help="input file ('-' = stdin)")

    p = sub.add_parser("stats", help="token usage and cost of the memory's model calls")
    p.add_argument("--user", dest="user_id", help="only this user's calls")
    p.add_argument("--session", dest="session_id", help="only this session's calls")
    # Also accepted after the command name; SUPPRESS keeps the value given before it.
    p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


@contextlib.contextmanager
def _open(args: argparse.Namespace) -> Iterator[Any]:
    """The memory, with its model calls recorded in ``<data dir>/usage.sqlite3`` (what
    ``stats`` reads)."""
    from hybrid_memory import HybridMemory, MemoryConfig
    from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageTracker

    config = MemoryConfig(data_dir=args.data_dir) if args.data_dir else MemoryConfig()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    tracker = UsageTracker(config.data_dir / USAGE_DB_FILENAME)
    try:
        with HybridMemory(config, on_usage=tracker.record) as memory:
            yield memory
    finally:
        tracker.close()


def _usage(args: argparse.Namespace) -> int:
    """``stats``: reads only ``<data dir>/usage.sqlite3`` (no stores, no models)."""
    from hybrid_memory import MemoryConfig
    from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageTracker, render_usage_table

    config = MemoryConfig(data_dir=args.data_dir) if args.data_dir else MemoryConfig()
    path = config.data_dir / USAGE_DB_FILENAME
    if path.exists():
        tracker = UsageTracker(path)
    else:
        # Nothing recorded yet: report zero calls without creating the database.
        if not args.json:
            print(f"no usage recorded yet ({path} does not exist)", file=sys.stderr)
        tracker = UsageTracker()
    try:
        stats = tracker.stats(session_id=args.session_id, user_id=args.user_id)
    finally:
        tracker.close()
    data = stats.model_dump(mode="json")
    data["compression"].update(
        tokens_saved=stats.compression.tokens_saved,
        savings_pct=stats.compression.savings_pct,
    )
    title = "Token usage and cost" + "".join(
        f", {what} {value}"
        for what, value in (("user", args.user_id), ("session", args.session_id))
        if value is not None
    )
    _print(args, data, render_usage_table(stats, title=title))
    return 0


def _scope(args: argparse.Namespace) -> dict[str, str | None]:
    return {"user_id": args.user_id, "agent_id": args.agent_id, "run_id": args.run_id}


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from None


def _print(args: argparse.Namespace, data: Any, table: Any) -> None:
    from rich.console import Console

    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        Console().print(table)


def _memory_table(title: str, rows: list[dict[str, Any]], score: bool = False):
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("id", overflow="fold", max_width=12)
    if score:
        table.add_column("score", justify="right")
    table.add_column("kind")
    table.add_column("when")
    table.add_column("memory", overflow="fold")
    table.add_column("sources", overflow="fold", max_width=18)
    for r in rows:
        when = (r.get("event_time") or r.get("created_at") or "")[:10]
        cells = [r["id"][:12]]
        if score:
            cells.append(f"{r['score']:.3f}")
        status = "" if r.get("status", "active") == "active" else f" ({r['status']})"
        cells += [r["kind"] + status, when, r["memory"], ", ".join(r.get("sources", []))]
        table.add_row(*cells)
    return table


def _import(args: argparse.Namespace) -> None:
    from rich.table import Table

    records = []
    lines = [line for line in _read(args.file).splitlines() if line.strip()]
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserInputError(f"line {n} of {args.file} is not JSON: {exc}") from None
    with _open(args) as memory:
        counts = memory.import_records(records)
    table = Table(title="imported")
    for key in counts:
        table.add_column(key, justify="right")
    table.add_row(*(str(v) for v in counts.values()))
    _print(args, counts, table)


def _add(args: argparse.Namespace, memory: Any) -> None:
    from rich.table import Table

    if args.file:
        messages = _json_arg(_read(args.file), "file")
    elif args.text:
        given = (("role", args.role), ("name", args.name), ("timestamp", args.timestamp))
        fields = {k: v for k, v in given if v is not None}
        messages = [{**fields, "content": t} for t in args.text]
    else:
        raise UserInputError("nothing to add: pass text arguments or --file")
    result = memory.add(
        messages,
        **_scope(args),
        metadata=_json_arg(args.metadata, "metadata"),
        infer=not args.no_infer,
    )
    table = Table(title="add")
    for col in ("event", "kind", "id", "memory", "previous"):
        table.add_column(col, overflow="fold")
    for e in result.results:
        table.add_row(e.event.value, e.kind.value, e.id[:12], e.memory, e.previous_memory or "")
    _print(args, result.model_dump(mode="json"), table)


def _search(args: argparse.Namespace, memory: Any) -> None:
    hits = memory.search(
        args.query,
        **_scope(args),
        limit=args.limit,
        filters=_json_arg(args.filters, "filters"),
        threshold=args.threshold,
    )
    rows = [h.model_dump(mode="json") for h in hits]
    _print(args, rows, _memory_table(f"search: {args.query}", rows, score=True))


def _context(args: argparse.Namespace, memory: Any) -> None:
    from rich.panel import Panel

    ctx = memory.get_context(args.query, **_scope(args), token_budget=args.budget, model=args.model)
    label = "" if ctx.exact else " (estimate)"
    sections = ", ".join(f"{k} {v}" for k, v in ctx.sections.items())
    panel = Panel(
        ctx.text or "(empty)",
        title=f"{ctx.tokens}/{ctx.token_budget} tokens{label} for {ctx.model}",
        subtitle=sections,
    )
    _print(args, ctx.model_dump(mode="json"), panel)


def _get(args: argparse.Namespace, memory: Any) -> None:
    item = memory.get(args.id, **_scope(args)).model_dump(mode="json")
    _print(args, item, _memory_table("memory", [item]))


def _list(args: argparse.Namespace, memory: Any) -> None:
    items = memory.get_all(
        **_scope(args), limit=args.limit, filters=_json_arg(args.filters, "filters")
    )
    rows = [i.model_dump(mode="json") for i in items]
    _print(args, rows, _memory_table(f"{len(rows)} memories", rows))


def _history(args: argparse.Namespace, memory: Any) -> None:
    from rich.table import Table

    entries = [e.model_dump(mode="json") for e in memory.history(args.id, **_scope(args))]
    table = Table(title=f"history of {args.id}")
    for col in ("when", "event", "actor", "old", "new", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries:
        cells = (e["old_memory"], e["new_memory"], e["reason"])
        table.add_row(e["created_at"][:19], e["event"], e["actor"] or "", *(c or "" for c in cells))
    _print(args, entries, table)


def _delete(args: argparse.Namespace, memory: Any) -> None:
    if args.all == bool(args.id):
        raise UserInputError("pass either a memory id or --all (with --user/--agent/--run)")
    if args.all:
        n = memory.delete_all(**_scope(args))
        _print(args, {"deleted": n}, f"deleted {n} memories")
    else:
        memory.delete(args.id, **_scope(args))
        _print(args, {"deleted": 1}, f"deleted {args.id}")


def _export(args: argparse.Namespace, memory: Any) -> None:
    records = memory.export(**_scope(args))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        if not args.json:
            print(f"exported {len(records)} records to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], None]] = {
    "add": _add,
    "search": _search,
    "context": _context,
    "get": _get,
    "list": _list,
    "history": _history,
    "delete": _delete,
    "export": _export,
}


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "stats":
        return _usage(args)
    if args.command == "import":
        _import(args)
        return 0
    with _open(args) as memory:
        COMMANDS[args.command](args, memory)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hybrid-memory`` command."""
    try:
        return run(argv)
    except HybridMemoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
