"""The owner's memories as one add sees them while it plans: the store, overlaid with what the
plan has already decided (new memories, changed ones and their vectors).

Consolidating the second fact of an add must see the first one (added, updated or ended a
moment ago) although nothing is written until the commit; every read of the planner goes
through here so it does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hybrid_memory.memory.plan import Plan
from hybrid_memory.models import MemoryItem, MemoryKind, MemoryStatus, Scope
from stores.base import MemoryQuery, RecordStore


class WorkingSet:
    """Planned states of memories over the stored ones (see the module docstring)."""

    def __init__(self, records: RecordStore, owner: Scope, plan: Plan):
        self.records = records
        self.owner = owner
        self.plan = plan
        self.items: dict[str, MemoryItem] = {}
        self.planned: dict[str, np.ndarray] = {}
        """Memories added or updated by this add and still current, with their vectors,
        in the order they were decided (the latest last)."""
        self._stored_about: dict[str | None, list[MemoryItem]] = {}
        """The stored facts per subject, read once per add: nothing is written while planning."""
        self._read: dict[str, MemoryItem | None] = {}
        """Stored memories by id as read once in this add (None: no such id)."""

    def get(self, ids: list[str]) -> dict[str, MemoryItem]:
        """The owner's memories among ``ids``, in their planned state (others are left out:
        a store's filter on the ids that are set would also match other owners)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.items and i not in self._read]
        if missing:
            found = self.records.get_memories(missing)
            self._read.update((i, found.get(i)) for i in missing)
        out: dict[str, MemoryItem] = {}
        for memory_id in ids:
            item = self.items.get(memory_id) or self._read.get(memory_id)
            if item is not None and self.owner.owns(item):
                out[memory_id] = item
        return out

    def put(self, item: MemoryItem, *, new: bool = False, vector: np.ndarray | None = None) -> None:
        """Record the planned state of ``item`` (``new`` for a memory the plan creates)."""
        if new or item.id in self.plan.inserts:
            self.plan.inserts[item.id] = item
        else:
            self.plan.updates[item.id] = item
        self.items[item.id] = item
        self.planned.pop(item.id, None)
        if vector is not None and item.status == MemoryStatus.ACTIVE:
            self.planned[item.id] = vector

    def remember_read(self, item: MemoryItem) -> None:
        """Note the stored version of a memory the plan is about to change."""
        if item.id not in self.plan.inserts and item.id not in self.plan.expected:
            self.plan.expected[item.id] = item.updated_at

    def _current(
        self, stored: list[MemoryItem], keep: Callable[[MemoryItem], bool]
    ) -> list[MemoryItem]:
        """Stored matches with their planned state, still matching, then planned ones."""
        seen = {i.id for i in stored}
        out = [self.items.get(i.id, i) for i in stored]
        out += [i for i in self.items.values() if i.id not in seen]
        return [
            i for i in out if i.status == MemoryStatus.ACTIVE and self.owner.owns(i) and keep(i)
        ]

    def by_hash(self, digest: str) -> MemoryItem | None:
        """The first current memory of the owner with this content hash."""
        stored = self.records.find_memories(
            self.owner, MemoryQuery(hashes=(digest,), order="oldest")
        )
        found = self._current(stored, lambda i: i.hash == digest)
        return found[0] if found else None

    def by_attribute(self, subject: str, attribute: str) -> list[MemoryItem]:
        """Current facts of the owner about ``subject``'s ``attribute``, oldest first."""
        stored = self.records.find_memories(
            self.owner, MemoryQuery(subject=subject, attribute=attribute, order="oldest")
        )
        folded = subject.casefold()
        return self._current(
            stored,
            lambda i: i.attribute == attribute and (i.subject or "").casefold() == folded,
        )

    def about(self, subject: str | None) -> list[MemoryItem]:
        """Current facts of the owner about ``subject`` (case-insensitive; every current fact
        when None), oldest first."""
        folded = subject.casefold() if subject else None
        stored = self._stored_about.get(folded)
        if stored is None:
            query = MemoryQuery(subject=subject, order="oldest")
            stored = self._stored_about[folded] = self.records.find_memories(self.owner, query)
        return self._current(
            stored,
            lambda i: (
                i.kind == MemoryKind.FACT
                and (folded is None or (i.subject or "").casefold() == folded)
            ),
        )

    def observations_of(self, sources: list[str]) -> list[MemoryItem]:
        """Current verbatim observations of these messages."""
        query = MemoryQuery(sources=tuple(sources), kinds=(MemoryKind.OBSERVATION,))
        stored = self.records.find_memories(self.owner, query)
        return self._current(
            stored,
            lambda i: i.kind == MemoryKind.OBSERVATION and bool(set(i.sources) & set(sources)),
        )

    def active_hashes(self, hashes: list[str]) -> set[str]:
        """Which of ``hashes`` belong to current memories of the owner (as stored)."""
        if not hashes:
            return set()
        stored = self.records.find_memories(
            self.owner, MemoryQuery(hashes=tuple(dict.fromkeys(hashes)))
        )
        return {i.hash for i in stored if self.owner.owns(i)}
