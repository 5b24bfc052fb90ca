"""What the command line prints: JSON or rich tables, and errors in the words of its flags."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from hybrid_memory.cli.options import Settings

ID_WIDTH = 12
"""How much of a memory id the tables show; any unique prefix of 8 or more characters works."""

# The library's messages name Python arguments; on the command line the same thing is a flag.
_ASSIGNED = re.compile(r"\b(user_id|agent_id|run_id)='([^']*)'")
_FLAGS = {
    "all_scopes=True": "--all-scopes",
    "user_id": "--user",
    "agent_id": "--agent",
    "run_id": "--run",
    "all_scopes": "--all-scopes",
    "token_budget": "--budget",
    "include_superseded": "--include-superseded",
}
_NAMES = re.compile(r"\b(" + "|".join(re.escape(k) for k in _FLAGS) + r")(?![\w=])")
_LEADING = re.compile(r"^(limit|threshold|filters|metadata) (must|is)\b")


def in_flags(message: str) -> str:
    """``message`` with the Python argument names of the library replaced by the flags that
    set them on the command line (``user_id='alice'`` becomes ``--user alice``)."""
    message = _ASSIGNED.sub(lambda m: f"{_FLAGS[m.group(1)]} {m.group(2)}", message)
    message = message.replace("all_scopes=True", "--all-scopes")
    message = _NAMES.sub(lambda m: _FLAGS[m.group(1)], message)
    return _LEADING.sub(lambda m: f"--{m.group(1)} {m.group(2)}", message)


def emit(opts: Settings, data: Any, table: Any) -> None:
    """Print ``data`` as JSON with ``--json``, else ``table`` (a rich renderable or text)."""
    if opts.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    from rich.console import Console

    Console().print(table)


def note(opts: Settings, text: str) -> None:
    """A line for the person at the terminal (stderr; nothing with ``--json``)."""
    if not opts.json:
        print(text, file=sys.stderr)


def error(kind: str, message: str, *, json_mode: bool, **extra: Any) -> int:
    """Print an error (one line on stderr, or a JSON object on stdout with ``--json``);
    return the exit status, 2."""
    if json_mode:
        body = {"type": kind, "message": message, **extra}
        print(json.dumps({"error": body}, indent=2, ensure_ascii=False, default=str))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2


def memory_table(title: str, rows: list[dict[str, Any]], score: bool = False) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("id", overflow="fold", max_width=ID_WIDTH)
    if score:
        table.add_column("score", justify="right")
    table.add_column("kind")
    table.add_column("when")
    table.add_column("memory", overflow="fold")
    table.add_column("sources", overflow="fold", max_width=18)
    for r in rows:
        when = (r.get("event_time") or r.get("created_at") or "")[:10]
        cells = [r["id"][:ID_WIDTH]]
        if score:
            cells.append(f"{r['score']:.3f}")
        status = "" if r.get("status", "active") == "active" else f" ({r['status']})"
        cells += [r["kind"] + status, when, r["memory"], ", ".join(r.get("sources", []))]
        table.add_row(*cells)
    return table


def columns(title: str, names: Sequence[str], rows: Sequence[Sequence[str]]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table
