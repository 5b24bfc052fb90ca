"""The storage contract: a vector store, a record store and its unit of work.

The memory talks to storage only through these protocols, so a backend is plugged in by
implementing them; ``tests/test_store_conformance.py`` runs the same suite against every backend,
and ``stores/inmemory`` (plain Python, no I/O) is the executable definition of the contract.

- :class:`VectorStore`: vectors keyed by memory id, with the scope ids as metadata.
- :class:`RecordStore`: the source of truth, read side: memories, history, turns (the buffer),
  summaries, audit rows and the vector outbox.
- :class:`UnitOfWork`: every write, inside one transaction (``with records.unit_of_work() as
  uow:``): all of it is stored, or none of it.

Conventions: a higher score is more relevant (:meth:`VectorStore.query` returns cosine
similarities, :meth:`RecordStore.lexical_search` relevance); a :class:`Scope` selects records
whose ids equal every id it gives, and an empty scope selects nothing; times are aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from hybrid_memory.filters import Filter
from hybrid_memory.models import (
    AuditEntry,
    HistoryEntry,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    Scope,
)

ACTIVE_ONLY: tuple[MemoryStatus, ...] = (MemoryStatus.ACTIVE,)
ALL_STATUSES: tuple[MemoryStatus, ...] = (MemoryStatus.ACTIVE, MemoryStatus.SUPERSEDED)


@dataclass
class VectorOp:
    """One pending vector-store operation, as kept in the outbox until it is applied."""

    op: Literal["upsert", "delete"]
    ids: list[str]
    vectors: np.ndarray | None = None
    metadatas: list[dict[str, str]] | None = None


COMMON_SHARE = 0.6
"""Lexical search ignores words found in more than this share of the memories it searches."""


@dataclass(frozen=True)
class MemoryQuery:
    """Which memories of a scope a read selects.

    Attributes:
        statuses: the lifecycle states to include.
        filter: a parsed metadata/field filter (:func:`hybrid_memory.filters.parse_filter`).
        now: hide memories whose ``expires_at`` is at or before this time.
        ids / hashes: only these memory ids / content hashes.
        sources: only memories drawn from at least one of these message ids.
        replying_to: only memories whose first source is one of these message ids (the
            observation of a reply lists the turn it answers first; an index serves it).
        kinds: only memories of these kinds.
        subject / attribute: only facts about this subject (case-insensitive) and attribute.
        attributed: only facts that name an attribute.
        order: ``newest`` (created last first), ``oldest`` (stored first first) or ``any``
            (whatever order the store finds them in: for counting up to a limit, which then
            costs the limit, not the scope).
        limit: at most this many.
    """

    statuses: tuple[MemoryStatus, ...] = ACTIVE_ONLY
    filter: Filter | None = None
    now: datetime | None = None
    ids: tuple[str, ...] | None = None
    hashes: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    replying_to: tuple[str, ...] | None = None
    kinds: tuple[MemoryKind, ...] | None = None
    subject: str | None = None
    attribute: str | None = None
    attributed: bool = False
    order: Literal["newest", "oldest", "any"] = "newest"
    limit: int | None = None


@dataclass(frozen=True)
class ScopeStats:
    """Active memories of a scope: how many, and the span of their event times."""

    count: int
    oldest: datetime | None
    newest: datetime | None


@dataclass(frozen=True)
class BufferedTurn:
    """A turn still in a run's recent buffer (``seq`` orders turns across the store)."""

    seq: int
    message: Message
    tokens: int


@dataclass(frozen=True)
class RunSummary:
    """The running summary of one exact scope."""

    text: str = ""
    tokens: int = 0
    turns_folded: int = 0


@dataclass
class PendingBatch:
    """Stored turns never extracted, of one exact scope and one set of add options."""

    scope: Scope
    options: dict[str, Any]
    messages: list[Message] = field(default_factory=list)
    error: str | None = None
    """Why the batch is quarantined (None for one waiting to be processed)."""
    quarantined_at: datetime | None = None


@dataclass(frozen=True)
class QuarantinedOp:
    """A vector operation the vector store refused, set aside with the error (its ids are
    reconciled with the record store when retried)."""

    seq: int
    op: VectorOp
    error: str
    at: datetime | None


@runtime_checkable
class ProcessLocks(Protocol):
    """What a record store shared by several processes offers, so their writers take turns
    (the memory composes these with its in-process locks, :mod:`hybrid_memory.memory.locks`).

    Each method returns a context manager held for the block; a process that dies releases
    what it held.
    """

    def owner_lock(self, owner: Scope) -> AbstractContextManager[Any]:
        """Writers of ``owner`` (the user/agent a memory belongs to), one at a time."""
        ...

    def exclusive_lock(self) -> AbstractContextManager[Any]:
        """No owner writer of any process while the block runs (reset, import, delete_all)."""
        ...

    def drain_lock(self) -> AbstractContextManager[Any]:
        """One drainer of the vector outbox at a time, so operations apply in commit order."""
        ...


@runtime_checkable
class VectorStore(Protocol):
    """Vectors of memories, keyed by memory id, with their scope ids as metadata."""

    def ensure_embedder(self, name: str, dimension: int) -> None:
        """Record the embedder on first use; raise EmbedderMismatchError for another one."""
        ...

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None:
        """Insert or replace; applying the same upsert twice changes nothing."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove these ids; unknown ids are ignored."""
        ...

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        """The ``limit`` nearest ids whose metadata equal every item of ``where``, with their
        cosine similarity (higher = more similar), best first."""
        ...

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        """:meth:`query` for several vectors at once (one round trip)."""
        ...

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def count(self) -> int: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class RecordReads(Protocol):
    """Reads a unit of work also offers (they see its own uncommitted writes)."""

    def get_memories(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        """The memories with these ids, whatever their scope (callers check it)."""
        ...

    def find_memories(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]: ...

    def summary(self, scope: Scope) -> RunSummary:
        """The running summary of exactly ``scope`` (empty when none)."""
        ...

    def extracted(self, scope: Scope, message_ids: Sequence[str]) -> set[str]:
        """Which of these stored messages of exactly ``scope`` were already extracted."""
        ...

    def message_ids_exist(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        """Which of these message ids are stored in exactly ``scope``."""
        ...

    def recent_turns(self, scope: Scope, limit: int) -> list[Message]:
        """The last ``limit`` turns of exactly ``scope``, oldest first."""
        ...


@runtime_checkable
class UnitOfWork(RecordReads, Protocol):
    """Every write of the record store, applied atomically when the block ends without error."""

    def insert_memory(self, item: MemoryItem) -> None: ...

    def replace_memory(self, item: MemoryItem) -> None:
        """Overwrite every field of an existing memory (same id); StoreError if it is gone."""
        ...

    def delete_memories(self, ids: Sequence[str]) -> None: ...

    def delete_scope(self, scope: Scope) -> list[MemoryItem]:
        """Delete every memory, turn and summary of ``scope`` (history stays as the audit
        trail); return the deleted memories."""
        ...

    def add_history(self, entry: HistoryEntry, scope: Scope) -> None: ...

    def add_audit(self, entry: AuditEntry) -> None: ...

    def insert_turn(
        self, scope: Scope, message: Message, tokens: int, at: datetime, options: dict[str, Any]
    ) -> None:
        """Store a turn (in the buffer, not yet extracted) with the options of its add."""
        ...

    def mark_extracted(self, scope: Scope, message_ids: Sequence[str]) -> None:
        """These turns are processed (which also takes them out of quarantine)."""
        ...

    def quarantine_turns(
        self, scope: Scope, message_ids: Sequence[str], error: str, at: datetime
    ) -> None:
        """Set these unextracted turns aside: :meth:`RecordStore.unextracted` no longer
        returns them, :meth:`RecordStore.quarantined_turns` does."""
        ...

    def quarantine_op(self, op: VectorOp, error: str, at: datetime) -> None:
        """Keep a refused vector operation aside (not in :meth:`RecordStore.pending`)."""
        ...

    def evict(self, seqs: Sequence[int]) -> None:
        """Take these turns out of their run's buffer (they were folded into the summary)."""
        ...

    def set_summary(self, scope: Scope, summary: RunSummary, at: datetime) -> None: ...

    def enqueue(self, op: VectorOp) -> None:
        """Append a vector operation to the outbox (applied after the commit)."""
        ...

    def done(self, seqs: Sequence[int]) -> None:
        """Remove applied (or quarantined) outbox entries."""
        ...

    def reset(self) -> None:
        """Delete everything, the recorded embedder included."""
        ...


@runtime_checkable
class RecordStore(RecordReads, Protocol):
    """The source of truth (see the module docstring); reads, and :meth:`unit_of_work`."""

    def ensure_embedder(self, name: str, dimension: int) -> None:
        """Record the embedder on first use; raise EmbedderMismatchError for another one."""
        ...

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A write transaction: ``with store.unit_of_work() as uow: ...``."""
        ...

    def find_memory_ids(self, scope: Scope, query: MemoryQuery) -> list[str]:
        """:meth:`find_memories`, ids only (cheap for large selections)."""
        ...

    def memory_ids_with_prefix(
        self, prefix: str, scope: Scope | None, *, limit: int, history: bool = False
    ) -> list[str]:
        """The ids of stored memories that start with ``prefix`` (case-sensitive) and carry
        every id of ``scope`` (any scope when None), sorted, at most ``limit``. With
        ``history``, ids known only from history rows recorded in ``scope`` (deleted
        memories) count too."""
        ...

    def lexical_search(
        self, scope: Scope, text: str, *, limit: int, query: MemoryQuery
    ) -> list[tuple[str, float]]:
        """Memories of ``scope`` (selected by ``query``) sharing words with ``text``, ranked
        by a BM25-like relevance: ``(id, score)``, higher = more relevant. A word found in more
        than :data:`COMMON_SHARE` of the selected memories (the user's own name in their
        memories) tells nothing there and is not searched, unless every word of ``text`` is
        such a word."""
        ...

    def entity_links(self, ids: Sequence[str]) -> dict[str, set[str]]:
        """The case-folded entity names linked to each memory."""
        ...

    def known_entities(self, scope: Scope, names: Sequence[str]) -> dict[str, int]:
        """Which of ``names`` (case-folded) are linked to memories of ``scope``, with how many
        memories each (a store may estimate the count of a large scope from a sample of its
        most recent memories)."""
        ...

    def scope_stats(self, scope: Scope) -> ScopeStats: ...

    def history(self, memory_id: str, scope: Scope | None = None) -> list[HistoryEntry]:
        """The history rows of a memory id, oldest first; with ``scope``, only the rows
        recorded with every id it gives."""
        ...

    def history_scope(self, memory_id: str) -> Scope | None:
        """The scope recorded with a memory id's history, None when it has none."""
        ...

    def audit(self, scope: Scope | None) -> list[AuditEntry]:
        """Audit rows of ``scope`` (all when None or empty), oldest first."""
        ...

    def buffer(self, scope: Scope) -> list[BufferedTurn]:
        """The turns still in the recent buffer of exactly ``scope``, oldest first."""
        ...

    def turns(self, scope: Scope) -> list[tuple[Scope, Message]]:
        """Every stored turn selected by ``scope``, with its own exact scope, in order."""
        ...

    def summaries(self, scope: Scope) -> list[tuple[Scope, RunSummary]]:
        """The summaries of every exact scope selected by ``scope``."""
        ...

    def scopes(self) -> list[Scope]:
        """Every exact scope holding a memory, a turn or a summary, sorted by key (what a copy
        of the whole store exports)."""
        ...

    def unextracted(self, scope: Scope | None) -> list[PendingBatch]:
        """Turns never extracted and not quarantined (of ``scope``, or all), oldest first,
        grouped into runs of the same exact scope and add options."""
        ...

    def quarantined_turns(self, scope: Scope | None) -> list[PendingBatch]:
        """Quarantined turns, grouped like :meth:`unextracted`, with their error."""
        ...

    def pending(self) -> list[tuple[int, VectorOp]]:
        """Outbox entries not applied yet (and not quarantined), in order."""
        ...

    def quarantined_ops(self) -> list[QuarantinedOp]:
        """Outbox entries set aside, in order."""
        ...

    def close(self) -> None: ...
