"""Tenants: each has its own :class:`HybridMemory` under ``<data_dir>/tenants/<tenant_id>/``
(its own SQLite and chroma), opened on first use and kept open. One embedder instance is
shared by every tenant, so the model loads once per process.

A tenant's memory holds only that tenant's records: a memory id of another tenant does not
exist in it, whatever a request names.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory import HybridMemory
from hybrid_memory.memory.components import build_embedder
from hybrid_memory.server.auth import check_tenant_id

DEFAULT_TENANT = "default"


def tenant_config(base: MemoryConfig, tenant_id: str, data_dir: Path) -> MemoryConfig:
    """A tenant's memory: its own data dir and, on server backends, its own PostgreSQL schema
    (``<schema>_<tenant>_<hash>``, a valid identifier for any tenant id) and its own
    collection (``<collection>-<tenant>``), so tenants never share a store."""
    update: dict[str, Any] = {"data_dir": data_dir}
    if base.records.kind == "postgres":
        digest = hashlib.blake2b(tenant_id.encode("utf-8"), digest_size=4).hexdigest()
        readable = tenant_id.replace("-", "_")[:24]
        schema = f"{base.postgres.schema_name[:28]}_{readable}_{digest}"
        update["postgres"] = base.postgres.model_copy(update={"schema_name": schema})
    for name in ("chroma_server", "qdrant"):
        settings = getattr(base, name)
        update[name] = settings.model_copy(
            update={"collection": f"{settings.collection}-{tenant_id}"}
        )
    return base.model_copy(update=update)


class Tenants:
    """The open memories of every tenant of one data dir.

    Args:
        data_dir: the service's data dir.
        embedding_model: the embedder all tenants share (None: the configured default).
        on_usage: called after every model call of any tenant's pipeline (for metrics).
        **overrides: further :class:`MemoryConfig` fields for every tenant.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        embedding_model: str | None = None,
        on_usage: Callable[[str, int, int, str], None] | None = None,
        **overrides: Any,
    ):
        self.data_dir = data_dir
        base = MemoryConfig(data_dir=data_dir, **overrides)
        if embedding_model:
            base = base.model_copy(update={"embedding_model": embedding_model})
        self.embedder: Embedder = build_embedder(base)
        self._base = base.model_copy(update={"embedder": self.embedder})
        self._on_usage = on_usage
        self._open: dict[str, HybridMemory] = {}
        self._lock = threading.Lock()
        self._closed = False

    def path(self, tenant_id: str) -> Path:
        """Where a tenant's memory lives."""
        return self.data_dir / "tenants" / check_tenant_id(tenant_id)

    def memory(self, tenant_id: str) -> HybridMemory:
        """The tenant's memory, opened on first use (its recovery runs then)."""
        memory = self._open.get(tenant_id)
        if memory is not None:
            return memory
        with self._lock:
            if self._closed:
                raise RuntimeError("the service is shutting down")
            memory = self._open.get(tenant_id)
            if memory is None:
                config = tenant_config(self._base, tenant_id, self.path(tenant_id))
                memory = HybridMemory(config, on_usage=self._on_usage)
                self._open[tenant_id] = memory
            return memory

    def open_memories(self) -> list[HybridMemory]:
        """The memories open now."""
        return list(self._open.values())

    def open_ids(self) -> list[str]:
        """The tenants whose memory is open now."""
        return sorted(self._open)

    def close(self) -> None:
        """Close every open memory (giving their data dir locks back)."""
        with self._lock:
            self._closed = True
            memories, self._open = list(self._open.values()), {}
        for memory in memories:
            memory.close()
