"""``hybrid-memory mcp``: the memory as an MCP server on stdio, for MCP clients (Claude
Desktop, IDEs, agent frameworks) that start it as a subprocess.

It serves the embedded memory of ``--data-dir`` or, with ``--server URL`` before the command
name, the service's memory through :class:`~hybrid_memory.client.MemoryClient`. Nothing but the
protocol is written to stdout.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hybrid_memory.cli.options import DataDir, open_memory, settings


def mcp(
    ctx: typer.Context,
    user: Annotated[
        str | None,
        typer.Option("--user", help="User id used by tool calls that name no scope."),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option("--agent", help="Agent id used by tool calls that name no scope."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the memory to MCP clients over stdio (add, search, context, list, get, update,
    delete, history)."""
    from hybrid_memory.server.mcp import build_mcp

    opts = settings(ctx, data_dir, False)
    default_scope = {k: v for k, v in (("user_id", user), ("agent_id", agent)) if v}
    with open_memory(opts) as memory:
        build_mcp(lambda _ctx: memory, default_scope=default_scope).run("stdio")
