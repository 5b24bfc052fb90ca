"""``migrate``: copy a whole embedded data dir into the configured deployment, or back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hybrid_memory.cli.options import DataDir, Json, settings
from hybrid_memory.cli.output import columns, emit
from hybrid_memory.errors import StoreError, UserInputError


def _embedded(config: Any, directory: Path) -> Any:
    """The embedded stores in ``directory``, with the configured embedder."""
    return config.model_copy(
        update={
            "data_dir": directory,
            "records": config.records.model_copy(update={"kind": "sqlite"}),
            "vectors": config.vectors.model_copy(update={"kind": "chroma"}),
            "sqlite": config.sqlite.model_copy(update={"path": None}),
            "chroma": config.chroma.model_copy(update={"path": None}),
        }
    )


def _ends(
    configured: Any, from_dir: Path | None, to_dir: Path | None, tenant: str | None
) -> tuple[Any, Any]:
    """The configs of the copy's source and target: the embedded directory on one side, the
    configured stores (or a service tenant's part of them) on the other."""
    directory = from_dir or to_dir
    if directory is None or (from_dir is not None and to_dir is not None):
        raise UserInputError("give exactly one of --from-dir DIR or --to-dir DIR")
    if tenant is not None:
        from hybrid_memory.server.tenancy import tenant_config

        configured = tenant_config(configured, tenant, tenant_dir(configured.data_dir, tenant))
    if from_dir is not None and not (from_dir / "memory.db").exists():
        raise UserInputError(f"--from-dir: {from_dir} holds no memory (no memory.db)")
    embedded = _embedded(configured, directory)
    return (embedded, configured) if from_dir is not None else (configured, embedded)


def tenant_dir(data_dir: Path, tenant: str) -> Path:
    """Where the service keeps ``tenant``'s memory under its data dir."""
    from hybrid_memory.server.auth import check_tenant_id

    return data_dir / "tenants" / check_tenant_id(tenant)


def migrate(
    ctx: typer.Context,
    from_dir: Annotated[
        Path | None,
        typer.Option("--from-dir", help="Copy this embedded data dir INTO the configured stores."),
    ] = None,
    to_dir: Annotated[
        Path | None,
        typer.Option("--to-dir", help="Copy the configured stores INTO this embedded data dir."),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant",
            help="The service tenant whose memory is copied (what `hybrid-memory serve` "
            "gives that tenant's API keys); without it, the configured stores themselves.",
        ),
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", min=0, help="Memories searched for to verify the copy.")
    ] = 20,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Copy a whole memory between an embedded data dir and the configured stores (e.g.
    HYBRID_MEMORY_RECORDS__KIND=postgres, HYBRID_MEMORY_VECTORS__KIND=chroma-server), then
    verify it by counts and searches. Running it again copies nothing twice. With --tenant, the
    copy is that service tenant's memory (its own schema and collection on server backends, its
    own directory under the data dir on the embedded stores)."""
    from hybrid_memory.memory import HybridMemory
    from hybrid_memory.memory.copy import copy_memory

    opts = settings(ctx, data_dir, json_out)
    source_config, target_config = _ends(opts.config(), from_dir, to_dir, tenant)
    with HybridMemory(source_config) as source, HybridMemory(target_config) as target:
        report = copy_memory(source, target, sample=sample)
    figures = {
        "scopes": report.scopes,
        "memories": report.memories,
        "messages": report.messages,
        "summaries": report.summaries,
        **{f"written_{k}": v for k, v in report.written.items()},
        "searches_found": f"{report.found}/{report.searched}",
    }
    emit(
        opts,
        {**figures, "problems": report.problems},
        columns("copied", tuple(figures), [tuple(str(v) for v in figures.values())]),
    )
    if not report.ok:
        raise StoreError("the copy is incomplete: " + "; ".join(report.problems[:5]))
