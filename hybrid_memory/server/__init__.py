"""The memory service: ``hybrid-memory serve`` (FastAPI on uvicorn).

One process keeps the embedder and every tenant's stores open and serves the REST API under
``/v1``. Modules: :mod:`~hybrid_memory.server.app` (``create_app``),
:mod:`~hybrid_memory.server.settings`, :mod:`~hybrid_memory.server.auth` (API keys),
:mod:`~hybrid_memory.server.tenancy` (one memory per tenant),
:mod:`~hybrid_memory.server.errors` (problem details), :mod:`~hybrid_memory.server.middleware`
(request ids, body limit, access log), :mod:`~hybrid_memory.server.jobs` (background adds),
:mod:`~hybrid_memory.server.metrics`, :mod:`~hybrid_memory.server.schemas` and
:mod:`~hybrid_memory.server.routes` (one module per resource); the MCP tools in
:mod:`~hybrid_memory.server.mcp` (any memory) and :mod:`~hybrid_memory.server.mcp_http`
(streamable HTTP at ``/mcp``, per tenant).

The library never imports this package; the CLI's ``serve`` command imports it lazily.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Imported on use: ``hybrid-memory keys`` needs the key table, and the MCP tools (also
    # used through ``--server``) the SDK, not FastAPI and the stores.
    if name == "create_app":
        from hybrid_memory.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from hybrid_memory.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(name)
