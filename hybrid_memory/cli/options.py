"""The options every command shares, and the memory a command opens.

``--data-dir`` and ``--json`` are accepted before the command name and after it (after wins);
``--user``, ``--agent`` and ``--run`` name the scope. With ``--server URL`` (or
``$HYBRID_MEMORY_SERVER``), before or after the command name, commands talk to a memory
service through :class:`~hybrid_memory.client.MemoryClient` instead of opening the data dir: no
model loads.
Without ``--run``, messages go to the scope of the user (or agent) itself: one buffer and
summary shared by every call without a run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from hybrid_memory.errors import UserInputError

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the memory lives [default: $HYBRID_MEMORY_DATA_DIR, else ./.hybrid_memory].",
        show_default=False,
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON, errors included ({'error': {'type', 'message'}}, status 2)."
    ),
]
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="HYBRID_MEMORY_SERVER",
        help="URL of a memory service (hybrid-memory serve), e.g. http://127.0.0.1:8000: "
        "commands use it instead of the local data dir, without loading a model.",
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="HYBRID_MEMORY_API_KEY",
        help="API key for --server (sent as Authorization: Bearer).",
        show_default=False,
    ),
]
User = Annotated[str | None, typer.Option("--user", help="User id of the scope.")]
Agent = Annotated[str | None, typer.Option("--agent", help="Agent id of the scope.")]
Run = Annotated[
    str | None,
    typer.Option(
        "--run",
        help="Run (conversation) id of the scope [default: none: the user's or agent's own "
        "buffer and summary, shared by every call without --run].",
        show_default=False,
    ),
]
AllScopes = Annotated[
    bool,
    typer.Option(
        "--all-scopes",
        help="Operator flag: look the id up in every scope instead of --user/--agent/--run.",
    ),
]
Filters = Annotated[
    str | None,
    typer.Option(
        "--filters",
        help="JSON filter on record fields (kind, status, subject, attribute, created_at, ...) "
        'or metadata keys as "metadata.<key>", e.g. \'{"kind": "fact"}\' or '
        '\'{"metadata.category": {"in": ["food", "travel"]}}\'.',
        show_default=False,
    ),
]
IncludeSuperseded = Annotated[
    bool | None,
    typer.Option(
        "--include-superseded/--current-only",
        help="Former values too, or current memories only [default: a former value only where "
        "it answers the question: a query about the past or about that value's attribute, or "
        "a --filters on status].",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Settings:
    """Where the memory is and how to print, as given before and after the command name."""

    data_dir: Path | None = None
    json: bool = False
    server: str | None = None
    api_key: str | None = None

    def config(self) -> Any:
        from hybrid_memory.config import MemoryConfig, VectorsConfig

        # Commands that read records only never open the vector store (nor load chromadb).
        config = MemoryConfig(data_dir=self.data_dir) if self.data_dir else MemoryConfig()
        vectors = VectorsConfig(**{**config.vectors.model_dump(), "lazy_open": True})
        return config.model_copy(update={"vectors": vectors})


def settings(ctx: typer.Context, data_dir: Path | None, json_out: bool) -> Settings:
    """The command's own ``--data-dir``/``--json`` on top of those given before it."""
    root = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    return Settings(
        data_dir=data_dir or root.data_dir,
        json=json_out or root.json,
        server=root.server,
        api_key=root.api_key,
    )


def scope(user: str | None, agent: str | None, run: str | None) -> dict[str, str | None]:
    return {"user_id": user, "agent_id": agent, "run_id": run}


def json_option(value: str | None, flag: str) -> Any:
    """The JSON value of an option (None when it was not given)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{flag} must be JSON: {exc}") from None


def read_input(path: Path, flag: str) -> str:
    """The text of a file given on the command line ('-' is stdin)."""
    if str(path) == "-":
        import sys

        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"{flag}: cannot read {path}: {exc.strerror}") from None


@contextlib.contextmanager
def open_memory(opts: Settings) -> Iterator[Any]:
    """The memory every command works on: the service's (``--server``), through the client,
    or the embedded one of the data dir, with its model calls recorded in
    ``<data dir>/usage.sqlite3`` (what ``stats`` reads). Imported here: the orchestrator pulls
    in chromadb and the model, which the client does not need."""
    if opts.server:
        from hybrid_memory.client import MemoryClient

        with MemoryClient(opts.server, api_key=opts.api_key) as client:
            yield client
        return
    from hybrid_memory.agent.usage import USAGE_DB_FILENAME, UsageTracker
    from hybrid_memory.memory import HybridMemory

    config = opts.config()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    tracker = UsageTracker(config.data_dir / USAGE_DB_FILENAME)
    try:
        with HybridMemory(config, on_usage=tracker.record) as memory:
            yield memory
    finally:
        tracker.close()
