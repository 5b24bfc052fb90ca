"""``/v1/admin/keys``: API keys, with the admin key (``HYBRID_MEMORY_ADMIN_KEY``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from hybrid_memory.server.auth import ApiKey, CreatedKey
from hybrid_memory.server.deps import AdminDep
from hybrid_memory.server.routes import problems
from hybrid_memory.server.schemas import KeyRequest, Revoked

router = APIRouter(prefix="/v1/admin/keys", tags=["admin"])
_ERRORS = problems(400, 401, 403, 413, 422)


@router.post(
    "",
    response_model=CreatedKey,
    status_code=201,
    summary="Create an API key",
    description="A new key bound to `tenant_id`; the secret is in this answer only (the "
    "server keeps its SHA-256 hash).",
    responses=_ERRORS,
)
def create_key(body: KeyRequest, _: AdminDep, request: Request) -> CreatedKey:
    created: CreatedKey = request.app.state.keys.create(body.tenant_id, body.name)
    return created


@router.get(
    "",
    summary="List API keys",
    description="Every key (of one tenant when given), revoked ones included; never secrets.",
    responses=_ERRORS,
)
def list_keys(
    _: AdminDep,
    request: Request,
    tenant_id: Annotated[str | None, Query(description="Only this tenant's keys.")] = None,
) -> dict[str, list[ApiKey]]:
    return {"results": request.app.state.keys.list(tenant_id)}


@router.delete(
    "/{key_id}",
    response_model=Revoked,
    summary="Revoke an API key",
    description="The key authenticates nothing from now on.",
    responses={**_ERRORS, **problems(404)},
)
def revoke_key(key_id: str, _: AdminDep, request: Request) -> Revoked:
    request.app.state.keys.revoke(key_id)
    return Revoked(revoked=True)
