"""The MCP tools over streamable HTTP, inside the service app at ``/mcp``.

Every request carries an API key of the service (``Authorization: Bearer hm_...``); the SDK's
bearer middleware asks :class:`KeyVerifier` for the key's tenant and answers 401 without a
valid key. Each tool call then works on that tenant's memory only: the tenant comes from the
verified key of the HTTP request that carried the call, never from the call's arguments.

The transport is stateless (each POST is complete in itself, answered with JSON), so any
worker can answer any request and no session outlives its request.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from hybrid_memory.server.mcp import build_mcp

MCP_PATH = "/mcp"
NO_AUTH_TENANT = "default"


class KeyVerifier:
    """The SDK's token verifier over the service's API keys: a key is valid when
    ``tenant_for_key`` gives its tenant (None for an unknown or revoked key)."""

    def __init__(self, tenant_for_key: Callable[[str], str | None]) -> None:
        self.tenant_for_key = tenant_for_key

    async def verify_token(self, token: str) -> AccessToken | None:
        # The key store is SQLite: looked up in a worker thread, off the event loop.
        tenant = await anyio.to_thread.run_sync(self.tenant_for_key, token)
        if not tenant:
            return None
        return AccessToken(token=token, client_id=tenant, scopes=[])


def caller_tenant(ctx: Context) -> str:
    """The tenant of the key that authenticated the HTTP request carrying this call."""
    request = ctx.request_context.request
    scope = getattr(request, "scope", None) or {}
    user = scope.get("user") if isinstance(scope, dict) else None
    token = user.access_token if isinstance(user, AuthenticatedUser) else get_access_token()
    if token is None:  # the bearer middleware lets no such request through; never guess
        raise ToolError("AuthenticationError: this call carries no verified API key")
    return token.client_id


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tenant_mcp(
    memory_for_tenant: Callable[[str], Any],
    tenant_for_key: Callable[[str], str | None] | None,
) -> MCPServer:
    """The MCP server whose calls work on the caller's tenant memory (``tenant_for_key`` None:
    the service runs without auth, and every call is tenant ``default``)."""
    if tenant_for_key is None:
        return build_mcp(lambda ctx: memory_for_tenant(NO_AUTH_TENANT))
    return build_mcp(
        lambda ctx: memory_for_tenant(caller_tenant(ctx)),
        token_verifier=KeyVerifier(tenant_for_key),
    )


def mount_mcp(
    app: Any,
    *,
    memory_for_tenant: Callable[[str], Any],
    tenant_for_key: Callable[[str], str | None] | None,
    host: str = "127.0.0.1",
) -> MCPServer:
    """Serve the MCP tools at ``/mcp`` of a Starlette/FastAPI ``app``.

    The SDK's app is routed at exactly ``/mcp`` (no redirect to ``/mcp/``, which MCP clients
    do not follow for a POST), and its session manager runs inside the app's lifespan.

    Args:
        app: the service app.
        memory_for_tenant: the memory of a tenant id.
        tenant_for_key: the tenant of an API key, None when invalid; None: no auth.
        host: the address the service is bound to. On a loopback address the SDK's DNS
            rebinding protection stays on; elsewhere the API keys protect the endpoint.
    """
    server = tenant_mcp(memory_for_tenant, tenant_for_key)
    security = None
    if not is_loopback(host):
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=security,
        host=host,
    )
    app.router.routes.append(Route(MCP_PATH, endpoint=mcp_app))
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
        async with outer(asgi_app) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan
    return server
