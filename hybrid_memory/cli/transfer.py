"""Commands that move a scope in and out as JSON Lines: ``export`` and ``import``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from hybrid_memory.cli.options import (
    Agent,
    DataDir,
    Json,
    Run,
    User,
    open_memory,
    read_input,
    scope,
    settings,
)
from hybrid_memory.cli.output import columns, emit, note
from hybrid_memory.errors import UserInputError


def export(
    ctx: typer.Context,
    user: User = None,
    agent: Agent = None,
    run: Run = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output file [default: stdout].", show_default=False),
    ] = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Export a scope (memories, messages, summaries) as JSON Lines."""
    opts = settings(ctx, data_dir, json_out)
    with open_memory(opts) as memory:
        records = memory.export(**scope(user, agent, run))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"--out: cannot write {out}: {exc.strerror}") from None
    note(opts, f"exported {len(records)} records to {out}")


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSON Lines written by export ('-' = stdin).")],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Import JSON Lines written by export (records already present are skipped)."""
    opts = settings(ctx, data_dir, json_out)
    records = []
    lines = [line for line in read_input(file, "FILE").splitlines() if line.strip()]
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserInputError(f"line {n} of {file} is not JSON: {exc}") from None
    with open_memory(opts) as memory:
        counts = memory.import_records(records)
    table = columns("imported", tuple(counts), [tuple(str(v) for v in counts.values())])
    emit(opts, counts, table)
