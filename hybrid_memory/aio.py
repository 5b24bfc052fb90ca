"""``AsyncHybridMemory``: the same memory for asyncio code, one implementation underneath.

Every method runs the synchronous :class:`~hybrid_memory.memory.HybridMemory` method in a worker
thread (``asyncio.to_thread``), so there is one source of truth. Model calls of different adds
run concurrently (extraction happens outside the memory's lock); writes are serialized.

Example:
    >>> memory = AsyncHybridMemory(MemoryConfig(data_dir="./my-memory"))
    >>> await memory.add("I moved to Boston.", user_id="ana")
"""

from __future__ import annotations

import asyncio
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.memory import HybridMemory
from hybrid_memory.models import (
    AddResult,
    AuditEntry,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
)


class AsyncHybridMemory:
    """Async facade of :class:`HybridMemory` (same arguments, same results)."""

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        memory: HybridMemory | None = None,
        **overrides: Any,
    ):
        self.sync = memory or HybridMemory(config, **overrides)

    async def add(self, messages: Any, **kwargs: Any) -> AddResult:
        return await asyncio.to_thread(self.sync.add, messages, **kwargs)

    async def search(self, query: str, **kwargs: Any) -> list[MemoryHit]:
        return await asyncio.to_thread(self.sync.search, query, **kwargs)

    async def get_context(self, query: str, **kwargs: Any) -> MemoryContext:
        return await asyncio.to_thread(self.sync.get_context, query, **kwargs)

    async def get(self, memory_id: str, **kwargs: Any) -> MemoryItem:
        return await asyncio.to_thread(self.sync.get, memory_id, **kwargs)

    async def get_all(self, **kwargs: Any) -> list[MemoryItem]:
        return await asyncio.to_thread(self.sync.get_all, **kwargs)

    async def update(self, memory_id: str, text: str, **kwargs: Any) -> MemoryItem:
        return await asyncio.to_thread(self.sync.update, memory_id, text, **kwargs)

    async def delete(self, memory_id: str, **kwargs: Any) -> None:
        await asyncio.to_thread(self.sync.delete, memory_id, **kwargs)

    async def delete_all(self, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.sync.delete_all, **kwargs)

    async def history(self, memory_id: str, **kwargs: Any) -> list[HistoryEntry]:
        return await asyncio.to_thread(self.sync.history, memory_id, **kwargs)

    async def reprocess(self, **kwargs: Any) -> AddResult:
        return await asyncio.to_thread(self.sync.reprocess, **kwargs)

    async def audit_log(self, **kwargs: Any) -> list[AuditEntry]:
        return await asyncio.to_thread(self.sync.audit_log, **kwargs)

    async def reset(self) -> None:
        await asyncio.to_thread(self.sync.reset)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)
