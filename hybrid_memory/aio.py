"""``AsyncHybridMemory``: the same memory for asyncio code, one implementation underneath.

Every method runs the synchronous :class:`~hybrid_memory.memory.HybridMemory` method in a worker
thread (``asyncio.to_thread``), so there is one source of truth. Model calls of different adds
run concurrently (extraction happens outside the memory's lock); writes are serialized.

Every public method of :class:`HybridMemory` has its coroutine here, with the same name,
arguments and result (``tests/test_api_surface.py`` compares the two classes).

Example:
    >>> async with AsyncHybridMemory(MemoryConfig(data_dir="./my-memory")) as memory:
    ...     await memory.add("I moved to Boston.", user_id="ana")
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Self

from hybrid_memory.config import MemoryConfig
from hybrid_memory.memory import HybridMemory
from hybrid_memory.models import (
    AddResult,
    AuditEntry,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    Message,
    QuarantineEntry,
    RepairReport,
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

    async def delete(self, memory_id: str, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.sync.delete, memory_id, **kwargs)

    async def delete_all(self, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.sync.delete_all, **kwargs)

    async def history(self, memory_id: str, **kwargs: Any) -> list[HistoryEntry]:
        return await asyncio.to_thread(self.sync.history, memory_id, **kwargs)

    async def reprocess(self, **kwargs: Any) -> AddResult:
        return await asyncio.to_thread(self.sync.reprocess, **kwargs)

    async def audit_log(self, **kwargs: Any) -> list[AuditEntry]:
        return await asyncio.to_thread(self.sync.audit_log, **kwargs)

    async def resolve_id(self, memory_id: str, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.resolve_id, memory_id, **kwargs)

    async def reset(self) -> None:
        await asyncio.to_thread(self.sync.reset)

    async def export(self, **kwargs: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.sync.export, **kwargs)

    async def import_records(self, records: Sequence[dict[str, Any]]) -> dict[str, int]:
        return await asyncio.to_thread(self.sync.import_records, records)

    async def get_summary(self, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.get_summary, **kwargs)

    async def get_buffer(self, **kwargs: Any) -> list[Message]:
        return await asyncio.to_thread(self.sync.get_buffer, **kwargs)

    async def get_messages(self, **kwargs: Any) -> list[Message]:
        return await asyncio.to_thread(self.sync.get_messages, **kwargs)

    async def repair(self) -> RepairReport:
        return await asyncio.to_thread(self.sync.repair)

    async def quarantined(self) -> list[QuarantineEntry]:
        return await asyncio.to_thread(self.sync.quarantined)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
