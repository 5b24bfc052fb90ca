"""Commands on one memory, by its id or any unique prefix of 8 or more characters (the tables
print 12): ``get``, ``history``, ``update``, ``delete`` (or ``delete --all`` of a scope).

A memory is looked up within the scope given (``--user``/``--agent``/``--run``, the memory's
own ids); ``--all-scopes`` is the operator's explicit path to any scope.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hybrid_memory.cli.options import (
    Agent,
    AllScopes,
    DataDir,
    Json,
    Run,
    User,
    json_option,
    open_memory,
    scope,
    settings,
)
from hybrid_memory.cli.output import columns, emit, memory_table
from hybrid_memory.errors import UserInputError

MemoryIdArg = Annotated[
    str, typer.Argument(help="The memory's id, or a unique prefix of 8+ characters.")
]


def _where(user: str | None, agent: str | None, run: str | None, all_scopes: bool) -> Any:
    return {**scope(user, agent, run), "all_scopes": all_scopes}


def get(
    ctx: typer.Context,
    memory_id: MemoryIdArg,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    all_scopes: AllScopes = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """One memory."""
    opts = settings(ctx, data_dir, json_out)
    with open_memory(opts) as memory:
        item = memory.get(memory_id, **_where(user, agent, run, all_scopes))
    row = item.model_dump(mode="json")
    emit(opts, row, memory_table("memory", [row]))


def history(
    ctx: typer.Context,
    memory_id: MemoryIdArg,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    all_scopes: AllScopes = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """The audit trail of a memory (also after it was deleted)."""
    opts = settings(ctx, data_dir, json_out)
    with open_memory(opts) as memory:
        found = memory.history(memory_id, **_where(user, agent, run, all_scopes))
    entries = [e.model_dump(mode="json") for e in found]
    rows = [
        (
            e["created_at"][:19],
            e["event"],
            e["actor"] or "",
            e["old_memory"] or "",
            e["new_memory"] or "",
            e["reason"] or "",
        )
        for e in entries
    ]
    title = f"history of {found[0].memory_id}" if found else "history"
    table = columns(title, ("when", "event", "actor", "old", "new", "reason"), rows)
    emit(opts, entries, table)


def update(
    ctx: typer.Context,
    memory_id: MemoryIdArg,
    text: Annotated[str, typer.Argument(help="The memory's new text.")],
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    all_scopes: AllScopes = False,
    metadata: Annotated[
        str | None,
        typer.Option("--metadata", help="JSON object merged into the memory's metadata."),
    ] = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Replace a memory's text (recorded in its history)."""
    opts = settings(ctx, data_dir, json_out)
    with open_memory(opts) as memory:
        item = memory.update(
            memory_id,
            text,
            metadata=json_option(metadata, "--metadata"),
            **_where(user, agent, run, all_scopes),
        )
    row = item.model_dump(mode="json")
    emit(opts, row, memory_table("updated", [row]))


def delete(
    ctx: typer.Context,
    memory_id: Annotated[
        str | None,
        typer.Argument(
            help="The memory's id, or a unique prefix of 8+ characters.", show_default=False
        ),
    ] = None,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Delete every memory, turn and summary of the scope.")
    ] = False,
    all_scopes: AllScopes = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Delete one memory, or with --all every memory of a scope."""
    opts = settings(ctx, data_dir, json_out)
    if all_ == (memory_id is not None):
        raise UserInputError("pass either a memory id or --all (with --user/--agent/--run)")
    if all_ and all_scopes:
        raise UserInputError(
            "--all deletes the memories of one scope: pass --user/--agent/--run, not --all-scopes"
        )
    with open_memory(opts) as memory:
        if all_:
            n = memory.delete_all(**scope(user, agent, run))
            emit(opts, {"deleted": n}, f"deleted {n} memories")
            return
        assert memory_id is not None
        full = memory.resolve_id(memory_id, **_where(user, agent, run, all_scopes))
        n = memory.delete(full, **_where(user, agent, run, all_scopes))
    emit(opts, {"deleted": n, "id": full}, f"deleted {full}")
