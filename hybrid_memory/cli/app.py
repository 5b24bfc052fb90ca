"""The ``hybrid-memory`` application: its commands, and how an error leaves it.

Every error is one line on stderr (``error: ...``, naming the flag to change) or, with
``--json`` anywhere on the line, a JSON object on stdout::

    {"error": {"type": "ScopeError", "message": "at least one of --user, ..."}}

and the exit status is 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from hybrid_memory.cli import by_id, mcp_command, memories, migrate, serve, stats, transfer
from hybrid_memory.cli.options import ApiKey, DataDir, Json, Server, Settings
from hybrid_memory.cli.output import error, in_flags
from hybrid_memory.errors import AmbiguousIdError, HybridMemoryError

app = typer.Typer(
    name="hybrid-memory",
    help="Long-term memory for LLM assistants and agents. Options before the command name "
    "(--data-dir, --json, --server, --api-key) are also accepted after it.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: DataDir = None,
    json_out: Json = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    ctx.obj = Settings(data_dir=data_dir, json=json_out, server=server, api_key=api_key)


app.command("add")(memories.add)
app.command("search")(memories.search)
app.command("context")(memories.context)
app.command("list")(memories.list_)
app.command("get")(by_id.get)
app.command("history")(by_id.history)
app.command("update")(by_id.update)
app.command("delete")(by_id.delete)
app.command("export")(transfer.export)
app.command("import")(transfer.import_)
app.command("stats")(stats.stats)
app.command("migrate")(migrate.migrate)
app.command("serve")(serve.serve)
app.add_typer(serve.keys_app, name="keys")
app.command("mcp")(mcp_command.mcp)


def _wants_json(argv: Sequence[str]) -> bool:
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


def _usage_message(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "hybrid-memory"
    return f"{exc.format_message()} (see {command} --help)"


ROOT_ONLY = ("--server", "--api-key")
"""Options read by the application before the command runs (they decide what the command
opens); given after the command name, they are moved in front of it."""


def _hoisted(args: list[str]) -> list[str]:
    """``args`` with :data:`ROOT_ONLY` options (``--server URL``, ``--server=URL``) moved to
    the front, so they work after the command name like ``--data-dir`` and ``--json``."""
    end = args.index("--") if "--" in args else len(args)
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < end:
        inline = "=" in args[i]
        if args[i].split("=", 1)[0] in ROOT_ONLY and (inline or i + 1 < end):
            width = 1 if inline else 2
            front += args[i : i + width]
            i += width
        else:
            rest.append(args[i])
            i += 1
    return front + rest + args[end:]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = _hoisted(list(sys.argv[1:] if argv is None else argv)) or ["--help"]
    json_mode = _wants_json(args)
    try:
        app(args=args, prog_name="hybrid-memory", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:  # --show-completion and --install-completion exit themselves
        return exc.code if isinstance(exc.code, int) else 0
    except typer.Abort:
        return error("Aborted", "aborted", json_mode=json_mode)
    except typer.TyperException as exc:
        # usage errors (unknown option, missing argument, bad value) and the like
        kind = "UsageError" if exc.exit_code == 2 else type(exc).__name__
        return error(kind, _usage_message(exc), json_mode=json_mode)
    except AmbiguousIdError as exc:
        return error(
            type(exc).__name__, in_flags(str(exc)), json_mode=json_mode, candidates=exc.candidates
        )
    except HybridMemoryError as exc:
        return error(type(exc).__name__, in_flags(str(exc)), json_mode=json_mode)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hybrid-memory`` command."""
    return run(argv)
