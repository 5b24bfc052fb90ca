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

import typing as _typing

if _typing.TYPE_CHECKING:
    from hybrid_memory.server.app import create_app
    from hybrid_memory.server.settings import ServerSettings


def __getattr__(name: str) -> _typing.Any:
    # Imported lazily: ``hybrid-memory --server URL mcp`` imports the MCP tools from this
    # package and must not load the service app (and the stores it opens).
    if name == "create_app":
        from hybrid_memory.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from hybrid_memory.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'hybrid_memory.server' has no attribute {name!r}")


__all__ = ["ServerSettings", "create_app"]
