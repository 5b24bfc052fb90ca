"""Memories by id and by scope: get, list, update, delete, history, and the run's tiers.

Every by-id call checks the memory's own scope ids against the ids given; writes run under the
owner's write lock, embed before their transaction, and drain the outbox after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.errors import AmbiguousIdError, MemoryNotFoundError
from hybrid_memory.filters import Filter
from hybrid_memory.memory.changes import vector_meta
from hybrid_memory.memory.locks import ScopeLocks
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.models import (
    EventType,
    HistoryEntry,
    MemoryItem,
    Scope,
    content_hash,
    utcnow,
)
from stores.base import ACTIVE_ONLY, ALL_STATUSES, MemoryQuery, RecordStore, UnitOfWork, VectorOp


def history_entry(
    memory_id: str,
    old: str | None,
    new: str | None,
    event: EventType,
    actor: str,
    reason: str,
    at: datetime,
) -> HistoryEntry:
    """One row of a memory's audit trail."""
    return HistoryEntry(
        id=uuid.uuid4().hex,
        memory_id=memory_id,
        old_memory=old,
        new_memory=new,
        event=event,
        actor=actor,
        reason=reason,
        created_at=at,
    )


MIN_PREFIX = 8
"""A memory id may be shortened to any unique prefix of at least this many characters."""
MAX_CANDIDATES = 10
"""How many ids an ambiguous prefix lists."""


def in_scope(item: MemoryItem, scope: Scope | None) -> bool:
    """Whether ``item`` carries every id of ``scope`` (None: the operator's any-scope path)."""
    if scope is None:
        return True
    return all(getattr(item, k) == v for k, v in scope.as_filter().items())


@dataclass
class Crud:
    """By-id and by-scope operations of one memory."""

    records: RecordStore
    embedder: Embedder
    config: MemoryConfig
    locks: ScopeLocks
    outbox: Outbox

    def resolve(self, memory_id: str, scope: Scope | None, *, history: bool = False) -> str:
        """The full id of ``memory_id`` within ``scope`` (any scope when None): the id itself
        when a memory has it, else the one memory whose id starts with it (at least
        :data:`MIN_PREFIX` characters). ``history`` also counts deleted memories (those with
        history rows in the scope). An unknown id is returned as it is, so the caller's own
        not-found error names it.

        Raises:
            AmbiguousIdError: the prefix matches several memories; the message lists them.
        """
        found = self.records.get_memories([memory_id]).get(memory_id)
        if found is not None and in_scope(found, scope):
            return memory_id
        if len(memory_id) < MIN_PREFIX:
            return memory_id
        matches = self.records.memory_ids_with_prefix(
            memory_id, scope, limit=MAX_CANDIDATES + 1, history=history
        )
        if len(matches) > 1:
            shown = matches[:MAX_CANDIDATES]
            count = f"more than {MAX_CANDIDATES}" if len(matches) > MAX_CANDIDATES else len(matches)
            raise AmbiguousIdError(
                f"memory id {memory_id!r} is ambiguous: {count} memories in this scope have ids "
                f"starting with it ({', '.join(shown)}); give more characters of the id",
                prefix=memory_id,
                candidates=shown,
            )
        return matches[0] if matches else memory_id

    def get(self, memory_id: str, scope: Scope | None) -> MemoryItem:
        item = self.records.get_memories([memory_id]).get(memory_id)
        if item is None or not in_scope(item, scope):
            raise MemoryNotFoundError(_not_found(memory_id))
        return item

    def get_all(
        self, scope: Scope, filter: Filter | None, limit: int | None, include_superseded: bool
    ) -> list[MemoryItem]:
        statuses = ALL_STATUSES if include_superseded else ACTIVE_ONLY
        query = MemoryQuery(statuses=statuses, filter=filter, now=utcnow(), limit=limit)
        return self.records.find_memories(scope, query)

    def update(
        self, memory_id: str, text: str, metadata: dict, scope: Scope | None, actor: str | None
    ) -> MemoryItem:
        item = self.get(memory_id, scope)
        vec = self.embedder.embed_batch([text])[0]  # before the transaction
        with self.locks.hold(item.scope.owner):
            with self.records.unit_of_work() as uow:
                item = self._current(uow, memory_id, scope)
                now = utcnow()
                updated = item.model_copy(
                    update={
                        "memory": text.strip(),
                        "hash": content_hash(text),
                        "metadata": {**item.metadata, **metadata},
                        "updated_at": now,
                    }
                )
                uow.replace_memory(updated)
                who = actor or self.config.actor
                entry = history_entry(
                    item.id,
                    item.memory,
                    updated.memory,
                    EventType.UPDATE,
                    who,
                    "updated by the caller",
                    now,
                )
                uow.add_history(entry, item.scope)
                uow.enqueue(VectorOp("upsert", [item.id], vec[None, :], [vector_meta(updated)]))
        self.outbox.drain()
        return updated

    def _current(self, uow: UnitOfWork, memory_id: str, scope: Scope | None) -> MemoryItem:
        item = uow.get_memories([memory_id]).get(memory_id)
        if item is None or not in_scope(item, scope):
            raise MemoryNotFoundError(_not_found(memory_id))
        return item

    def delete(self, memory_id: str, scope: Scope | None, actor: str | None) -> int:
        item = self.get(memory_id, scope)
        with self.locks.hold(item.scope.owner):
            with self.records.unit_of_work() as uow:
                item = self._current(uow, memory_id, scope)
                uow.delete_memories([item.id])
                who = actor or self.config.actor
                entry = history_entry(
                    item.id,
                    item.memory,
                    None,
                    EventType.DELETE,
                    who,
                    "deleted by the caller",
                    utcnow(),
                )
                uow.add_history(entry, item.scope)
                uow.enqueue(VectorOp("delete", [item.id]))
        self.outbox.drain()
        return 1

    def delete_all(self, scope: Scope, actor: str | None) -> int:
        with self.locks.exclusive():
            with self.records.unit_of_work() as uow:
                items = uow.delete_scope(scope)
                now, who = utcnow(), actor or self.config.actor
                for item in items:
                    entry = history_entry(
                        item.id, item.memory, None, EventType.DELETE, who, "delete_all", now
                    )
                    uow.add_history(entry, item.scope)
                if items:
                    uow.enqueue(VectorOp("delete", [i.id for i in items]))
        self.outbox.drain()
        return len(items)

    def history(self, memory_id: str, scope: Scope | None) -> list[HistoryEntry]:
        """The rows of ``memory_id`` written in ``scope`` (every row when None): an id freed by
        a delete and reused by another scope has a history in each, never a shared one."""
        rows = self.records.history(memory_id, scope)
        if not rows:
            raise MemoryNotFoundError(_not_found(memory_id, "no history for memory id"))
        return rows


def _not_found(memory_id: str, what: str = "no memory with id") -> str:
    hint = ""
    if len(memory_id) < MIN_PREFIX:
        hint = f" (a shortened id needs at least {MIN_PREFIX} characters)"
    return f"{what} {memory_id!r} in this scope{hint}"
