"""``stats``: token usage and cost of the memory's model calls.

It reads only ``<data dir>/usage.sqlite3``: no stores, no embedding model, so it answers at
once (and creates nothing when no usage was recorded yet).
"""

from __future__ import annotations

from typing import Annotated

import typer

from hybrid_memory.cli.options import DataDir, Json, settings
from hybrid_memory.cli.output import emit, note
from hybrid_memory.errors import UserInputError


def stats(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's calls.")] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Only this session's calls.")
    ] = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Token usage and cost of the memory's model calls, per category, model, session, user."""
    from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageTracker, render_usage_table

    opts = settings(ctx, data_dir, json_out)
    if opts.server:
        raise UserInputError(
            "stats reads the usage recorded in a local data dir; drop --server (the service "
            "reports its model calls at /metrics)"
        )
    path = opts.config().data_dir / USAGE_DB_FILENAME
    if path.exists():
        tracker = UsageTracker(path)
    else:
        note(opts, f"no usage recorded yet ({path} does not exist)")
        tracker = UsageTracker()
    try:
        found = tracker.stats(session_id=session, user_id=user)
    finally:
        tracker.close()
    data = found.model_dump(mode="json")
    data["compression"].update(
        tokens_saved=found.compression.tokens_saved,
        savings_pct=found.compression.savings_pct,
    )
    title = "Token usage and cost" + "".join(
        f", {what} {value}"
        for what, value in (("user", user), ("session", session))
        if value is not None
    )
    emit(opts, data, render_usage_table(found, title=title))
