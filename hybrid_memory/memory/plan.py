"""A plan: everything one add will write, decided before anything is written.

The add path reads and calls models first (extraction, consolidation decisions, the running
summary) and collects the outcome in a :class:`Plan`; :func:`hybrid_memory.memory.commit.commit`
then applies it in one short transaction. The plan also records what it assumed about the store
(the versions of the memories it changes, that its messages were not extracted yet, the summary
it extended), and the commit refuses a plan whose assumptions no longer hold
(:class:`PlanConflict`), so a concurrent writer can never be overwritten by a stale plan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from hybrid_memory.models import AddEvent, AuditEntry, HistoryEntry, MemoryItem, Scope, utcnow
from stores.base import RunSummary, VectorOp


class PlanConflict(Exception):
    """The store changed after the plan was made; make the plan again."""


def audit_entry(scope: Scope, stage: str, message_ids: list[str], exc: Exception) -> AuditEntry:
    """The audit row of a model failure, with the raw reply when there was one."""
    return AuditEntry(
        id=uuid.uuid4().hex,
        at=utcnow(),
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        stage=stage,
        message_ids=message_ids,
        error=f"{type(exc).__name__}: {exc}",
        raw=getattr(exc, "raw", None),
    )


@dataclass
class Fold:
    """Turns leaving a run's buffer, and the running summary that absorbs them."""

    scope: Scope
    summary: RunSummary
    evict: list[int]
    expected_folded: int
    """``turns_folded`` of the summary the plan started from."""


@dataclass
class Plan:
    """The writes of one add, in the order they were decided."""

    scope: Scope
    now: datetime
    events: list[AddEvent] = field(default_factory=list)
    inserts: dict[str, MemoryItem] = field(default_factory=dict)
    updates: dict[str, MemoryItem] = field(default_factory=dict)
    expected: dict[str, datetime] = field(default_factory=dict)
    """``updated_at`` of each stored memory the plan changes, as it was read."""
    history: list[tuple[HistoryEntry, Scope]] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)
    upserts: dict[str, tuple[np.ndarray, dict[str, str]]] = field(default_factory=dict)
    fold: Fold | None = None
    extracted: list[str] = field(default_factory=list)
    """Ids of the messages of ``scope`` this plan marks extracted (they must not be yet)."""
    new_hashes: set[str] = field(default_factory=set)
    """Content hashes the plan makes current (no other current memory may have them)."""

    def model_failed(self, stage: str, message_ids: list[str], exc: Exception) -> None:
        """Keep an audit row for a model failure the pipeline recovered from."""
        self.audits.append(audit_entry(self.scope, stage, message_ids, exc))

    def upsert(self, memory_id: str, vector: np.ndarray, metadata: dict[str, str]) -> None:
        """Queue a vector write; a later write of the same id replaces the earlier one."""
        self.upserts.pop(memory_id, None)
        self.upserts[memory_id] = (vector, metadata)

    def vector_op(self) -> VectorOp | None:
        """One merged upsert for the whole plan (a vector write costs the same for 1 or 50)."""
        if not self.upserts:
            return None
        ids = list(self.upserts)
        return VectorOp(
            "upsert",
            ids,
            np.stack([self.upserts[i][0] for i in ids]),
            [self.upserts[i][1] for i in ids],
        )
