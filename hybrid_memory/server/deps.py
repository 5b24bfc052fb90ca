"""Who is calling: the API key of a request, the tenant it is bound to, and that tenant's
memory. Every memory route takes :func:`caller`, so every request is confined to its tenant's
own memory whatever its body, path or filters name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from hybrid_memory.memory import HybridMemory
from hybrid_memory.server.auth import is_admin
from hybrid_memory.server.errors import AuthenticationError, ForbiddenError
from hybrid_memory.server.tenancy import DEFAULT_TENANT

# Declared for the OpenAPI schema (and Swagger's "Authorize"); the key is read by key_of.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <API key>")


def key_of(request: Request) -> str | None:
    """The API key a request carries: ``Authorization: Bearer <key>`` or ``Token <key>``
    (Mem0's form), or ``X-API-Key``."""
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    header = request.headers.get("x-api-key", "").strip()
    return header or None


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its tenant and that tenant's memory."""

    tenant_id: str
    memory: HybridMemory


def tenant_of_request(request: Request) -> str:
    """The tenant of the request's key; :class:`AuthenticationError` without a live key."""
    app = request.app
    if app.state.settings.no_auth:
        tenant_id: str | None = DEFAULT_TENANT
    else:
        key = key_of(request)
        if key is None:
            raise AuthenticationError(
                "this request needs an API key: send 'Authorization: Bearer <key>' (create one "
                "with `hybrid-memory keys create --tenant T`)"
            )
        tenant_id = app.state.authenticate(key)
        if tenant_id is None:
            if is_admin(key, app.state.admin_key):
                raise ForbiddenError(
                    "the admin key only manages API keys (/v1/admin/keys): use a tenant's key"
                )
            raise AuthenticationError("the API key is unknown or revoked")
    assert tenant_id is not None
    request.state.tenant = tenant_id
    return tenant_id


def caller(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _k: Annotated[str | None, Depends(_api_key)] = None,
) -> Caller:
    """The calling tenant and its memory (a dependency of every memory route)."""
    tenant_id = tenant_of_request(request)
    return Caller(tenant_id, request.app.state.tenants.memory(tenant_id))


def admin(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _k: Annotated[str | None, Depends(_api_key)] = None,
) -> None:
    """Admin routes: the admin key only (403 for a tenant key, 401 otherwise)."""
    key = key_of(request)
    admin_key = request.app.state.admin_key
    if key is not None and is_admin(key, admin_key):
        request.state.tenant = "admin"
        return
    if key is not None and request.app.state.authenticate(key) is not None:
        raise ForbiddenError("managing API keys needs the admin key (HYBRID_MEMORY_ADMIN_KEY)")
    if not admin_key:
        raise AuthenticationError(
            "no admin key is configured: set HYBRID_MEMORY_ADMIN_KEY for the server, or use "
            "`hybrid-memory keys create` on its data dir"
        )
    raise AuthenticationError("this route needs the admin key (HYBRID_MEMORY_ADMIN_KEY)")


CallerDep = Annotated[Caller, Depends(caller)]
AdminDep = Annotated[None, Depends(admin)]
