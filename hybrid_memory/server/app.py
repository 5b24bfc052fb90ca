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
from stores.lockfile import DataDirLock

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


class Service:
    """What one app keeps open: the tenants' memories (one shared embedder), the key and job
    tables, the job workers and the metrics."""

    def __init__(self, settings: ServerSettings, memory_overrides: dict[str, Any]):
        self.settings = settings
        self.metrics = Metrics()
        settings.service_dir.mkdir(parents=True, exist_ok=True)
        # One server per data dir: a second one would resume the first one's jobs.
        self._lock = DataDirLock.acquire(settings.service_dir)
        try:
            self.tenants = Tenants(
                settings.data_dir, embedding_model=settings.embedding_model, **memory_overrides
            )
        except BaseException:
            self._lock.release()
            raise
        self.keys = KeyStore(settings.service_dir)
        self.jobs = JobStore(settings.service_dir)
        self.runner = JobRunner(self.jobs, self._run_job, settings.job_workers, self._job_done)
        self.metrics.watch_models(lambda: [m.llm for m in self.tenants.open_memories()])

    def _run_job(self, tenant_id: str, request: dict[str, Any]) -> AddResult:
        return self.tenants.memory(tenant_id).add(**request)

    def _job_done(self, status: str, result: AddResult | None) -> None:
        self.metrics.jobs.labels(status=status).inc()
        if result is not None:
            self.metrics.observe_add(result, "background")

    def install(self, app: FastAPI) -> None:
        """Put what the routes share into ``app.state``."""
        admin_key = self.settings.admin_key
        app.state.settings = self.settings
        app.state.tenants = self.tenants
        app.state.keys = self.keys
        app.state.jobs = self.jobs
        app.state.runner = self.runner
        app.state.metrics = self.metrics
        app.state.admin_key = admin_key.get_secret_value() if admin_key else None
        app.state.ready = False
        no_auth = self.settings.no_auth
        app.state.authenticate = (lambda key: DEFAULT_TENANT) if no_auth else self.keys.tenant_of

    def close(self) -> None:
        """Finish running jobs (queued ones stay for the next start), close every store."""
        self.runner.shutdown()
        self.tenants.close()
        self.keys.close()
        self.jobs.close()
        self._lock.release()


def create_app(settings: ServerSettings | None = None, **memory_overrides: Any) -> FastAPI:
    """The service on ``settings.data_dir``: opens the shared embedder, the key and job
    tables; each tenant's memory opens on its first request.

    Args:
        settings: how to serve (default: from the environment).
        **memory_overrides: :class:`~hybrid_memory.config.MemoryConfig` fields for every
            tenant's memory (e.g. ``llm``).
    """
    settings = (settings or ServerSettings()).check()
    service = Service(settings, memory_overrides)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.runner.resume()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready, app.state.phase = False, "stopping"
            service.close()

    app = FastAPI(
        title="hybrid-memory", version="0.1.0", description=DESCRIPTION, lifespan=lifespan
    )
    service.install(app)
    for module in (memories, search, tiers, transfer, jobs, admin, system):
        app.include_router(module.router)
    _install_error_handlers(app)
    # MCP over streamable HTTP at /mcp (see .mcp_http): the same API keys, each call confined
    # to the caller's tenant memory, its session manager running inside the lifespan above.
    mount_mcp(
        app,
        memory_for_tenant=service.tenants.memory,
        tenant_for_key=None if settings.no_auth else service.keys.tenant_of,
        host=settings.host,
    )
    app.add_middleware(
        ServiceMiddleware, max_body_bytes=settings.max_body_bytes, metrics=service.metrics
    )
    configure_logging()
    return app
