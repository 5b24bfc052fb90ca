"""Consolidation, planned: each candidate is compared with the owner's most similar memories and
becomes ADD / UPDATE / DELETE / NONE in the plan. Nothing is written here.

- An exact duplicate (same content hash) is NONE; the memory gains the new source.
- Entities and verbatim memories are only deduplicated by content.
- Other facts go to the consolidator (model-backed when configured, the offline rules otherwise
  or when the model fails), which sees the most similar current memories of the owner plus every
  current fact of the same subject and attribute.
- UPDATE keeps the old value as a superseded record with its validity interval; DELETE ends the
  fact's validity (it stays findable as a former value).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from extractors.base import ConsolidationDecision
from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.fallback import Fallback
from hybrid_memory.memory.components import Pipeline
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
from stores.base import RecordStore, VectorStore

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


def validate_decision(
    decision: ConsolidationDecision, existing: Sequence[MemoryItem]
) -> ConsolidationDecision:
    """Refuse decisions that point nowhere; fall back to ADD rather than lose a fact."""
    valid = decision.target is not None and 0 <= decision.target < len(existing)
    if decision.event in (EventType.UPDATE, EventType.DELETE) and not valid:
        return ConsolidationDecision(
            event=EventType.ADD,
            text=decision.text,
            reason=f"{decision.event.value} without a valid target; added instead",
        )
    if decision.event == EventType.NONE and decision.target is not None and not valid:
        return ConsolidationDecision(event=EventType.NONE)
    return decision


class Consolidation:
    """Plans the consolidation of an add's candidates (see the module docstring)."""

    def __init__(
        self,
        records: RecordStore,
        vectors: VectorStore,
        embedder: Embedder,
        pipeline: Pipeline,
        config: MemoryConfig,
    ):
        self.records = records
        self.vectors = vectors
        self.embedder = embedder
        self.pipeline = pipeline
        self.config = config

    def plan(
        self,
        plan: Plan,
        candidates: list[ExtractedFact],
        options: AddOptions,
        fallback: Fallback,
    ) -> None:
        """Decide every candidate, in order, into ``plan``."""
        ws = WorkingSet(self.records, plan.scope.owner, plan)
        # Exact duplicates of stored memories are settled by their hash alone, so only the
        # other candidates are embedded (each distinct text once).
        stored = ws.active_hashes([fact_hash(c) for c in candidates])
        texts = list(
            dict.fromkeys(c.text for c in candidates if c.retraction or fact_hash(c) not in stored)
        )
        embedded, neighbours = self._embed_and_prefetch(texts, ws)
        for cand in candidates:
            event = self._one(
                ws, cand, embedded.get(cand.text), neighbours.get(cand.text), options, fallback
            )
            if event is not None:
                plan.events.append(event)

    def _embed_and_prefetch(
        self, texts: list[str], ws: WorkingSet
    ) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[str, float]]]]:
        """Vectors of ``texts`` and their stored neighbours: one embedding batch, one
        vector-store round trip."""
        if not texts:
            return {}, {}
        vectors = self.embedder.embed_batch(texts)
        hits = self.vectors.query_many(
            vectors,
            where=ws.owner.as_filter(),
            limit=self.config.consolidation.neighbours * 2,
        )
        return dict(zip(texts, vectors, strict=True)), dict(zip(texts, hits, strict=True))

    def _one(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray | None,
        hits: list[tuple[str, float]] | None,
        options: AddOptions,
        fallback: Fallback,
    ) -> AddEvent | None:
        if not cand.retraction:
            duplicate = ws.by_hash(fact_hash(cand))
            if duplicate is not None:
                self._extend_sources(ws, duplicate, cand.sources)
                return AddEvent(
                    id=duplicate.id,
                    memory=duplicate.memory,
                    event=EventType.NONE,
                    kind=duplicate.kind,
                )
        if vec is None:  # its hash was stored when the add began, but is gone now
            vec = self.embedder.embed_batch([cand.text])[0]
        existing, scores = self._neighbours(ws, cand, vec, hits)
        decision = self._decide(ws.plan, cand, existing, scores, options, fallback)
        who = options.actor or cand.speaker or self.config.actor
        if decision.event == EventType.NONE:
            if decision.target is None:
                return None
            target = existing[decision.target]
            self._extend_sources(ws, target, cand.sources)
            return AddEvent(
                id=target.id, memory=target.memory, event=EventType.NONE, kind=target.kind
            )
        if decision.event == EventType.ADD:
            return self._add(ws, cand, vec, decision, options, who)
        assert decision.target is not None
        target = existing[decision.target]
        if decision.event == EventType.UPDATE:
            return self._update(ws, cand, vec, target, decision, options, who)
        return self._invalidate(ws, cand, target, decision, who)

    def _neighbours(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray,
        hits: list[tuple[str, float]] | None,
    ) -> tuple[list[MemoryItem], list[float]]:
        """The most similar current memories of the owner (stored and planned in this add),
        plus every current fact of the same subject and attribute."""
        n = self.config.consolidation.neighbours
        if hits is None:
            hits = self.vectors.query(vec, where=ws.owner.as_filter(), limit=n * 2)
        items = ws.get([i for i, _ in hits])
        scored: dict[str, tuple[MemoryItem, float]] = {}
        for memory_id, sim in hits:
            item = items.get(memory_id)
            if item is not None and item.status == MemoryStatus.ACTIVE:
                scored[memory_id] = (item, sim)
        for memory_id, pvec in ws.planned.items():
            scored[memory_id] = (ws.items[memory_id], float(np.dot(vec, pvec)))
        ranked = sorted(scored.values(), key=lambda p: -p[1])[:n]
        if cand.subject and cand.attribute:
            have = {i.id for i, _ in ranked}
            for item in ws.by_attribute(cand.subject, cand.attribute):
                if item.id not in have:
                    planned = ws.planned.get(item.id)
                    sim = float(np.dot(vec, planned)) if planned is not None else 0.0
                    ranked.append((item, sim))
        # Duplicates by exact text are found whatever the vector store says.
        dup = ws.by_hash(fact_hash(cand))
        if dup is not None and dup.id not in {i.id for i, _ in ranked}:
            ranked.insert(0, (dup, 1.0))
        return [i for i, _ in ranked], [s for _, s in ranked]

    def _decide(
        self,
        plan: Plan,
        cand: ExtractedFact,
        existing: list[MemoryItem],
        scores: list[float],
        options: AddOptions,
        fallback: Fallback,
    ) -> ConsolidationDecision:
        if cand.kind == MemoryKind.ENTITY or not options.infer:
            # Entities and verbatim memories are only ever deduplicated by exact content.
            digest = fact_hash(cand)
            same = next((i for i, e in enumerate(existing) if e.hash == digest), None)
            if same is not None:
                return ConsolidationDecision(event=EventType.NONE, target=same)
            return ConsolidationDecision(event=EventType.ADD)
        model = self.pipeline.model_consolidator
        offline = self.pipeline.offline_consolidator
        decision = fallback.run(
            "consolidation",
            (lambda: model.decide(cand, existing, scores)) if model is not None else None,
            lambda: offline.decide(cand, existing, scores),
            on_failure=lambda stage, exc: plan.model_failed(stage, list(cand.sources), exc),
        )
        return validate_decision(decision, existing)

    def _history(
        self,
        plan: Plan,
        memory_id: str,
        old: str | None,
        new: str | None,
        event: EventType,
        who: str | None,
        reason: str | None,
    ) -> None:
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

    def _extend_sources(self, ws: WorkingSet, item: MemoryItem, sources: list[str]) -> None:
        merged = list(dict.fromkeys([*item.sources, *sources]))[:SOURCES_CAP]
        if merged != item.sources:
            ws.remember_read(item)
            ws.put(item.model_copy(update={"sources": merged, "updated_at": ws.plan.now}))

    def _add(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray,
        decision: ConsolidationDecision,
        options: AddOptions,
        who: str | None,
    ) -> AddEvent:
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
            hash=fact_hash(cand),
            importance=cand.importance,
            created_at=now,
            updated_at=now,
            event_time=cand.event_time,
            valid_from=cand.event_time,
            expires_at=options.expires_at,
        )
        ws.put(item, new=True, vector=vec)
        plan.new_hashes.add(item.hash)
        self._history(plan, item.id, None, item.memory, EventType.ADD, who, decision.reason)
        plan.upsert(item.id, vec, vector_meta(item))
        return AddEvent(id=item.id, memory=item.memory, event=EventType.ADD, kind=item.kind)

    def _update(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray,
        target: MemoryItem,
        decision: ConsolidationDecision,
        options: AddOptions,
        who: str | None,
    ) -> AddEvent:
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
        stored_vec = self.vectors.get_vectors([target.id]).get(target.id)
        old_vec = (
            stored_vec if stored_vec is not None else self.embedder.embed_batch([target.memory])[0]
        )
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
            }
        )
        ws.put(updated, vector=vec)
        plan.new_hashes.add(updated.hash)
        self._history(plan, target.id, target.memory, text, EventType.UPDATE, who, decision.reason)
        plan.upsert(target.id, vec, vector_meta(updated))
        return AddEvent(
            id=target.id,
            memory=text,
            event=EventType.UPDATE,
            previous_memory=target.memory,
            kind=target.kind,
        )

    def _invalidate(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        target: MemoryItem,
        decision: ConsolidationDecision,
        who: str | None,
    ) -> AddEvent:
        """DELETE from consolidation ends the fact's validity instead of destroying it, so
        "where did she work before?" still finds it."""
        ws.remember_read(target)
        invalidated = target.model_copy(
            update={
                "status": MemoryStatus.SUPERSEDED,
                "valid_to": cand.event_time or ws.plan.now,
                "updated_at": ws.plan.now,
            }
        )
        ws.put(invalidated)
        self._history(
            ws.plan, target.id, target.memory, None, EventType.DELETE, who, decision.reason
        )
        return AddEvent(
            id=target.id,
            memory=target.memory,
            event=EventType.DELETE,
            previous_memory=target.memory,
            kind=target.kind,
        )
