"""``create_app``: the FastAPI application of the memory service.

Everything the routes share lives in ``app.state``: ``settings``, ``tenants``
(:class:`~hybrid_memory.server.tenancy.Tenants`), ``keys``, ``jobs`` and ``runner``
(background adds), ``metrics``, ``admin_key``, and ``authenticate(key) -> tenant id | None``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hybrid_memory.errors import HybridMemoryError
from hybrid_memory.models import AddResult
from hybrid_memory.server.auth import KeyStore
from hybrid_memory.server.errors import problem, problem_for
from hybrid_memory.server.jobs import JobRunner, JobStore
from hybrid_memory.server.mcp_http import mount_mcp
from hybrid_memory.server.metrics import Metrics
from hybrid_memory.server.middleware import ServiceMiddleware
from hybrid_memory.server.routes import admin, jobs, memories, search, system, tiers, transfer
from hybrid_memory.server.settings import ServerSettings
from hybrid_memory.server.tenancy import DEFAULT_TENANT, Tenants

DESCRIPTION = """Long-term memory for LLM assistants and agents, served over HTTP.

Authenticate with `Authorization: Bearer <API key>` (or `Token <key>`, or `X-API-Key`).
Every key belongs to one tenant, and every request sees that tenant's memories only.
Errors are problem details (`application/problem+json`) whose `error` names the
`hybrid_memory.errors` class and whose `detail` says what to change.
"""


def configure_logging() -> None:
    """One JSON line per request on stderr (the access log), and errors with tracebacks."""
    for name in ("hybrid_memory.server.access", "hybrid_memory.server.errors"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False


def _install_error_handlers(app: FastAPI) -> None:
    def request_id(request: Request) -> str | None:
        return getattr(request.state, "request_id", None)

    @app.exception_handler(HybridMemoryError)
    async def library_error(request: Request, exc: HybridMemoryError) -> Response:
        return problem_for(exc, request_id(request))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
        return problem(422, "ValidationError", str(detail), request_id(request), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "NotFoundError", 405: "MethodNotAllowed"}
        name = names.get(exc.status_code, "HTTPError")
        return problem(
            exc.status_code,
            name,
            str(exc.detail),
            request_id(request),
            headers=dict(exc.headers or {}),
        )


def _install_routes(app: FastAPI) -> None:
    """The REST routers and their error handlers, and the MCP tools at /mcp: the same API keys
    (``app.state.authenticate``), each call confined to the caller's tenant memory, the MCP
    session manager running inside the app's lifespan (see :mod:`.mcp_http`)."""
    for module in (memories, search, tiers, transfer, jobs, admin, system):
        app.include_router(module.router)
    _install_error_handlers(app)
    settings = app.state.settings
    mount_mcp(
        app,
        memory_for_tenant=app.state.tenants.memory,
        tenant_for_key=None if settings.no_auth else app.state.authenticate,
        host=settings.host,
    )


def create_app(settings: ServerSettings | None = None, **memory_overrides: Any) -> FastAPI:
    """The service on ``settings.data_dir``: opens the shared embedder, the key and job
    tables; each tenant's memory opens on its first request.

    Args:
        settings: how to serve (default: from the environment).
        **memory_overrides: :class:`~hybrid_memory.config.MemoryConfig` fields for every
            tenant's memory (e.g. ``llm``).
    """
    settings = (settings or ServerSettings()).check()
    metrics = Metrics()
    tenants = Tenants(
        settings.data_dir, embedding_model=settings.embedding_model, **memory_overrides
    )
    keys = KeyStore(settings.service_dir)
    job_store = JobStore(settings.service_dir)

    def run_job(tenant_id: str, request: dict[str, Any]) -> AddResult:
        return tenants.memory(tenant_id).add(**request)

    def job_done(status: str, result: AddResult | None) -> None:
        metrics.jobs.labels(status=status).inc()
        if result is not None:
            metrics.observe_add(result, "background")

    runner = JobRunner(job_store, run_job, settings.job_workers, job_done)
    metrics.watch_models(lambda: [m.llm for m in tenants.open_memories()])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner.resume()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready, app.state.phase = False, "stopping"
            runner.shutdown()
            tenants.close()
            keys.close()
            job_store.close()

    app = FastAPI(
        title="hybrid-memory", version="0.1.0", description=DESCRIPTION, lifespan=lifespan
    )
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else None
    app.state.settings = settings
    app.state.tenants = tenants
    app.state.keys = keys
    app.state.jobs = job_store
    app.state.runner = runner
    app.state.metrics = metrics
    app.state.admin_key = admin_key
    app.state.ready = False
    app.state.authenticate = (lambda key: DEFAULT_TENANT) if settings.no_auth else keys.tenant_of
    _install_routes(app)
    app.add_middleware(ServiceMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    configure_logging()
    return app
