"""The changes a consolidation decision makes, recorded in the plan (nothing is written here).

- ``add``: a new memory, with its vector and an ADD history row;
- ``update``: the memory takes the new text; its old value is kept as a superseded copy with its
  validity interval (valid_to = when the new value began);
- ``close``: the fact stops being current (superseded, valid_to set) but is kept, so "where did
  she work before?" still finds it;
- ``extend_sources``: the same statement said again; the memory lists the new message too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from extractors.base import ConsolidationDecision
from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory.plan import Plan
from hybrid_memory.memory.working_set import WorkingSet
from hybrid_memory.models import (
    AddEvent,
    EventType,
    ExtractedFact,
    HistoryEntry,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    content_hash,
)
from stores.base import VectorStore

SOURCES_CAP = 8


@dataclass(frozen=True)
class AddOptions:
    """What the caller asked of an add (kept with its messages, so an interrupted add is
    finished the same way)."""

    metadata: dict[str, Any]
    infer: bool = True
    actor: str | None = None
    expires_at: datetime | None = None


def fact_hash(cand: ExtractedFact) -> str:
    """The content hash of a candidate (an entity is identified by its name)."""
    if cand.kind == MemoryKind.ENTITY and cand.entities:
        return content_hash("entity " + cand.entities[0])
    return content_hash(cand.text)


def vector_meta(item: MemoryItem) -> dict[str, str]:
    """The metadata stored with a memory's vector: its scope ids and kind."""
    return {
        "user_id": item.user_id or "",
        "agent_id": item.agent_id or "",
        "run_id": item.run_id or "",
        "kind": item.kind.value,
    }


def history(
    plan: Plan,
    memory_id: str,
    old: str | None,
    new: str | None,
    event: EventType,
    who: str | None,
    reason: str | None,
) -> None:
    """Record one history row of the plan's add."""
    entry = HistoryEntry(
        id=uuid.uuid4().hex,
        memory_id=memory_id,
        old_memory=old,
        new_memory=new,
        event=event,
        actor=who,
        reason=reason,
        created_at=plan.now,
    )
    plan.history.append((entry, plan.scope))


def extend_sources(ws: WorkingSet, item: MemoryItem, sources: list[str]) -> None:
    """The statement was said again: the memory lists the new messages too."""
    merged = list(dict.fromkeys([*item.sources, *sources]))[:SOURCES_CAP]
    if merged != item.sources:
        ws.remember_read(item)
        ws.put(item.model_copy(update={"sources": merged, "updated_at": ws.plan.now}))


def add(
    ws: WorkingSet,
    cand: ExtractedFact,
    vec: np.ndarray,
    decision: ConsolidationDecision,
    options: AddOptions,
    who: str | None,
) -> tuple[AddEvent, MemoryItem]:
    """A new memory of ``cand`` (text from the decision when it rewrote it)."""
    plan, now = ws.plan, ws.plan.now
    item = MemoryItem(
        id=uuid.uuid4().hex,
        memory=decision.text or cand.text,
        kind=cand.kind,
        user_id=plan.scope.user_id,
        agent_id=plan.scope.agent_id,
        run_id=plan.scope.run_id,
        metadata={**cand.metadata, **options.metadata},
        sources=list(dict.fromkeys(cand.sources)),
        entities=list(dict.fromkeys(cand.entities)),
        subject=cand.subject,
        attribute=cand.attribute,
        value=cand.value,
        hash=fact_hash(cand),
        importance=cand.importance,
        aspect=cand.aspect,
        created_at=now,
        updated_at=now,
        event_time=cand.event_time,
        valid_from=cand.event_time,
        expires_at=options.expires_at,
    )
    ws.put(item, new=True, vector=vec)
    plan.new_hashes.add(item.hash)
    history(plan, item.id, None, item.memory, EventType.ADD, who, decision.reason)
    plan.upsert(item.id, vec, vector_meta(item))
    event = AddEvent(id=item.id, memory=item.memory, event=EventType.ADD, kind=item.kind)
    return event, item


def update(
    ws: WorkingSet,
    vectors: VectorStore,
    embedder: Embedder,
    change: tuple[ExtractedFact, np.ndarray, MemoryItem, ConsolidationDecision],
    options: AddOptions,
    who: str | None,
) -> tuple[AddEvent, MemoryItem, MemoryItem]:
    """``target`` takes the candidate's text; its old value stays as a superseded copy (the
    event, the updated memory and that copy)."""
    cand, vec, target, decision = change
    plan, now = ws.plan, ws.plan.now
    text = decision.text or cand.text
    ws.remember_read(target)
    archived = target.model_copy(
        update={
            "id": uuid.uuid4().hex,
            "status": MemoryStatus.SUPERSEDED,
            "valid_to": cand.event_time or now,
            "superseded_by": target.id,
            "updated_at": now,
            "hash": content_hash("superseded " + target.id + target.memory),
        }
    )
    stored_vec = vectors.get_vectors([target.id]).get(target.id)
    old_vec = stored_vec if stored_vec is not None else embedder.embed_batch([target.memory])[0]
    ws.put(archived, new=True)
    plan.upsert(archived.id, old_vec, vector_meta(archived))
    updated = target.model_copy(
        update={
            "memory": text,
            "hash": fact_hash(cand),
            "sources": list(dict.fromkeys(cand.sources)),
            "entities": list(dict.fromkeys(cand.entities)),
            "updated_at": now,
            "event_time": cand.event_time,
            "valid_from": cand.event_time,
            "importance": max(target.importance, cand.importance),
            "metadata": {**target.metadata, **cand.metadata, **options.metadata},
            "value": cand.value if cand.value is not None else target.value,
            "aspect": cand.aspect or target.aspect,
        }
    )
    ws.put(updated, vector=vec)
    plan.new_hashes.add(updated.hash)
    history(plan, target.id, target.memory, text, EventType.UPDATE, who, decision.reason)
    plan.upsert(target.id, vec, vector_meta(updated))
    event = AddEvent(
        id=target.id,
        memory=text,
        event=EventType.UPDATE,
        previous_memory=target.memory,
        kind=target.kind,
    )
    return event, updated, archived


def close(
    ws: WorkingSet, target: MemoryItem, at: datetime | None, who: str | None, reason: str | None
) -> AddEvent:
    """``target`` stops being current at ``at`` (the plan's time when unknown) but is kept,
    with its validity interval, as a former value."""
    ws.remember_read(target)
    closed = target.model_copy(
        update={
            "status": MemoryStatus.SUPERSEDED,
            "valid_to": at or ws.plan.now,
            "updated_at": ws.plan.now,
        }
    )
    ws.put(closed)
    history(ws.plan, target.id, target.memory, None, EventType.DELETE, who, reason)
    return AddEvent(
        id=target.id,
        memory=target.memory,
        event=EventType.DELETE,
        previous_memory=target.memory,
        kind=target.kind,
    )
