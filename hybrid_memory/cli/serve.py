"""``hybrid-memory serve`` (the REST service) and ``hybrid-memory keys create|list|revoke``
(its API keys, on the data dir). The server package is imported only here, when one of these
commands runs: the other commands never load FastAPI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from hybrid_memory.cli.options import DataDir, Json, Settings, settings
from hybrid_memory.cli.output import columns, emit, note
from hybrid_memory.errors import ConfigError

keys_app = typer.Typer(help="API keys of the service (on its data dir; shown once).")


def _data_dir(opts: Settings) -> Path:
    if opts.data_dir is not None:
        return opts.data_dir
    return Path(os.environ.get("HYBRID_MEMORY_DATA_DIR") or ".hybrid_memory")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Serve without API keys (every request is tenant 'default'); only on a "
            "loopback address.",
        ),
    ] = False,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Larger request bodies get 413.", min=1)
    ] = 16 * 1024 * 1024,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Server processes: 1 on the embedded stores, more on server backends "
            "(PostgreSQL and a Chroma or Qdrant server).",
        ),
    ] = 1,
    job_workers: Annotated[
        int, typer.Option("--job-workers", help="Background adds run at once.", min=1, max=64)
    ] = 2,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Serve the memory over HTTP (REST under /v1, OpenAPI at /docs, metrics at /metrics)."""
    opts = settings(ctx, data_dir, json_out)
    _check_workers(opts, workers)
    from hybrid_memory.server import ServerSettings

    server_settings = ServerSettings(
        data_dir=_data_dir(opts),
        host=host,
        port=port,
        no_auth=no_auth,
        max_body_bytes=max_body_bytes,
        job_workers=job_workers,
    ).check()
    _run(server_settings, workers)


def _check_workers(opts: Settings, workers: int) -> None:
    """Several workers only where every store is a server (the embedded ones allow one)."""
    from hybrid_memory.memory.components import shared

    if workers < 1 or (workers > 1 and not shared(opts.config())):
        raise ConfigError(
            f"--workers {workers}: the embedded stores (SQLite and chroma under one data dir) "
            "allow one writing process, so the service runs one worker; several workers need "
            "server backends for the stores (HYBRID_MEMORY_RECORDS__KIND=postgres and "
            "HYBRID_MEMORY_VECTORS__KIND=chroma-server or qdrant with a url)"
        )


def _run(server_settings: Any, workers: int) -> None:
    import uvicorn

    from hybrid_memory.server import create_app

    host, port = server_settings.host, server_settings.port
    if workers == 1:
        app = create_app(server_settings)
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", workers=1)
        return
    # Each worker process builds the app from the environment (it inherits these settings).
    for name, value in server_settings.model_dump(exclude={"admin_key", "embedding_model"}).items():
        os.environ[f"HYBRID_MEMORY_SERVER_{name.upper()}"] = str(value)
    uvicorn.run(
        "hybrid_memory.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        access_log=False,
        log_level="info",
        workers=workers,
    )


def _keys(opts: Settings) -> Any:
    from hybrid_memory.server.auth import KeyStore

    return KeyStore(_data_dir(opts) / "service")


@keys_app.command("create")
def create(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant the key belongs to.")],
    name: Annotated[str, typer.Option("--name", help="A label for listings.")] = "",
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Create an API key for a tenant; prints the key (shown this once)."""
    opts = settings(ctx, data_dir, json_out)
    store = _keys(opts)
    try:
        created = store.create(tenant, name)
    finally:
        store.close()
    if opts.json:
        emit(opts, created.model_dump(mode="json"), None)
        return
    print(created.key)
    note(opts, f"key {created.id} for tenant {tenant!r}: keep it, it is not shown again")


@keys_app.command("list")
def list_(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's.")] = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """List the API keys (never their secrets)."""
    opts = settings(ctx, data_dir, json_out)
    store = _keys(opts)
    try:
        keys = store.list(tenant)
    finally:
        store.close()
    rows = [
        [k.id, k.prefix + "…", k.tenant_id, k.name, str(k.created_at)[:19], str(k.revoked_at or "")]
        for k in keys
    ]
    table = columns("API keys", ["id", "key", "tenant", "name", "created", "revoked"], rows)
    emit(opts, [k.model_dump(mode="json") for k in keys], table)


@keys_app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Revoke an API key: it authenticates nothing from now on."""
    opts = settings(ctx, data_dir, json_out)
    store = _keys(opts)
    try:
        store.revoke(key_id)
    finally:
        store.close()
    emit(opts, {"revoked": True, "id": key_id}, f"revoked {key_id}")
