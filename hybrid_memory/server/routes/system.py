"""``/v1/health``, ``/v1/ready`` and ``/metrics`` (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hybrid_memory.server.metrics import CONTENT_TYPE_LATEST
from hybrid_memory.server.schemas import Health

router = APIRouter(tags=["system"])


@router.get(
    "/v1/health",
    response_model=Health,
    summary="Liveness",
    description="`ok` while the process serves requests.",
)
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/v1/ready",
    response_model=Health,
    summary="Readiness",
    description="`ready` once the embedder is loaded and the service's stores are open; 503 "
    "`starting` (or `stopping`) otherwise.",
    responses={503: {"model": Health, "description": "Not ready."}},
)
async def ready(request: Request) -> Response:
    state = request.app.state
    if getattr(state, "ready", False):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": getattr(state, "phase", "starting")}, status_code=503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Request latency by route template and status, adds, memories written, model "
    "calls and failures, background jobs.",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
