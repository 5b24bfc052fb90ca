"""Commands that add and find memories: ``add``, ``search``, ``context``, ``list``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hybrid_memory.cli.options import (
    Agent,
    DataDir,
    Filters,
    IncludeSuperseded,
    Json,
    Run,
    User,
    json_option,
    open_memory,
    read_input,
    scope,
    settings,
)
from hybrid_memory.cli.output import ID_WIDTH, columns, emit, memory_table
from hybrid_memory.errors import UserInputError


def said_at(timestamp: str | None) -> str:
    """When the messages of an add were said: ``--timestamp``, else now (UTC)."""
    return timestamp or datetime.now(UTC).isoformat(timespec="seconds")


def file_messages(raw: Any, role: str, name: str | None, when: str) -> list[Any]:
    """The messages of ``--file`` (a JSON message list, one message, or a string), with
    ``--role`` for messages without a role, ``--name`` for the messages of that role without a
    name, and the time for messages without a timestamp."""
    items = raw if isinstance(raw, list) else [raw]
    messages: list[Any] = []
    for item in items:
        if isinstance(item, str):
            item = {"content": item}
        if isinstance(item, dict):
            item = {**item}
            item.setdefault("role", role)
            if name is not None and item.get("role") == role and not item.get("name"):
                item["name"] = name
            if item.get("timestamp") is None:
                item["timestamp"] = when
        messages.append(item)
    return messages


def given_messages(
    text: list[str] | None, file: Path | None, role: str, name: str | None, when: str
) -> list[Any]:
    """The messages of an ``add``: its text arguments, or the messages of ``--file``."""
    if file is not None and text:
        raise UserInputError("pass the text as arguments or --file, not both")
    if file is not None:
        raw = json_option(read_input(file, "--file"), "--file")
        return file_messages(raw, role, name, when)
    if not text:
        raise UserInputError("nothing to add: pass the text as arguments, or --file FILE")
    given = {"role": role, "name": name, "timestamp": when}
    fields = {k: v for k, v in given.items() if v is not None}
    return [{**fields, "content": t} for t in text]


def add(
    ctx: typer.Context,
    text: Annotated[
        list[str] | None,
        typer.Argument(help="Message text, one message per argument.", show_default=False),
    ] = None,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A JSON file ('-' = stdin) with a message list, one message or a string. "
            "--role, --name and --timestamp fill what its messages leave out.",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        str, typer.Option("--role", help="Role of the messages (user, assistant, ...).")
    ] = "user",
    name: Annotated[
        str | None,
        typer.Option("--name", help="Speaker name of the --role messages, e.g. Alice."),
    ] = None,
    timestamp: Annotated[
        str | None,
        typer.Option(
            "--timestamp",
            help="When it was said, ISO 8601 [default: now]: relative dates ('last spring') "
            "are resolved against it.",
            show_default=False,
        ),
    ] = None,
    metadata: Annotated[
        str | None, typer.Option("--metadata", help="JSON object stored with the memories.")
    ] = None,
    no_infer: Annotated[
        bool, typer.Option("--no-infer", help="Store the text verbatim, no extraction.")
    ] = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Remember messages: extract facts, consolidate them with what is known, keep the turns."""
    opts = settings(ctx, data_dir, json_out)
    messages = given_messages(text, file, role, name, said_at(timestamp))
    with open_memory(opts) as memory:
        result = memory.add(
            messages,
            **scope(user, agent, run),
            metadata=json_option(metadata, "--metadata"),
            infer=not no_infer,
        )
    rows = [
        (e.event.value, e.kind.value, e.id[:ID_WIDTH], e.memory, e.previous_memory or "")
        for e in result.results
    ]
    table = columns("add", ("event", "kind", "id", "memory", "previous"), rows)
    emit(opts, result.model_dump(mode="json"), table)


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    limit: Annotated[int, typer.Option("--limit", help="How many hits at most.")] = 10,
    filters: Filters = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Minimum score (0-1).")
    ] = None,
    include_superseded: IncludeSuperseded = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Search memories: dense and keyword retrieval fused, best first (higher score = more
    relevant)."""
    opts = settings(ctx, data_dir, json_out)
    parsed = json_option(filters, "--filters")  # bad input fails before anything loads
    with open_memory(opts) as memory:
        hits = memory.search(
            query,
            **scope(user, agent, run),
            limit=limit,
            filters=parsed,
            threshold=threshold,
            include_superseded=include_superseded,
        )
    rows = [h.model_dump(mode="json") for h in hits]
    emit(opts, rows, memory_table(f"search: {query}", rows, score=True))


def context(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The question the context is for.")],
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    budget: Annotated[int, typer.Option("--budget", help="Token budget.")] = 1500,
    model: Annotated[
        str, typer.Option("--model", help="Model whose tokenizer counts the budget.")
    ] = "gpt-4o-mini",
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """The token-budgeted context for a query: memories, summary and recent turns."""
    from rich.panel import Panel

    opts = settings(ctx, data_dir, json_out)
    with open_memory(opts) as memory:
        ctx_ = memory.get_context(
            query, **scope(user, agent, run), token_budget=budget, model=model
        )
    label = "" if ctx_.exact else " (estimate)"
    sections = ", ".join(f"{k} {v}" for k, v in ctx_.sections.items())
    panel = Panel(
        ctx_.text or "(empty)",
        title=f"{ctx_.tokens}/{ctx_.token_budget} tokens{label} for {ctx_.model}",
        subtitle=sections,
    )
    emit(opts, ctx_.model_dump(mode="json"), panel)


def list_(
    ctx: typer.Context,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="How many at most [default: all].")
    ] = None,
    filters: Filters = None,
    include_superseded: IncludeSuperseded = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Every current memory of a scope, newest first."""
    opts = settings(ctx, data_dir, json_out)
    parsed = json_option(filters, "--filters")
    with open_memory(opts) as memory:
        items = memory.get_all(
            **scope(user, agent, run),
            limit=limit,
            filters=parsed,
            include_superseded=include_superseded,
        )
    rows = [i.model_dump(mode="json") for i in items]
    emit(opts, rows, memory_table(f"{len(rows)} memories", rows))
