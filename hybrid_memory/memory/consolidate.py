"""Consolidation, planned: each candidate is compared with the owner's most similar memories and
becomes ADD / UPDATE / DELETE / NONE in the plan. Nothing is written here.

- An exact duplicate (same content hash) is NONE; the memory gains the new source.
- Entities and verbatim memories are only deduplicated by content.
- Other facts go to the consolidator (model-backed when configured, the offline rules otherwise
  or when the model fails), which sees the most similar current memories of the owner plus every
  current fact of the same subject and attribute. A current state whose attribute the extractor
  did not name is first recognised by its meaning (:mod:`hybrid_memory.memory.meaning`).
- Then, whatever decided, the rules of :mod:`hybrid_memory.memory.truth` keep one current truth:
  the replaced values of single-valued attributes and whatever the statement ends are closed;
  retractions close what they name and are not stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from extractors.base import ConsolidationDecision
from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.fallback import Fallback
from hybrid_memory.memory import changes
from hybrid_memory.memory.candidates import exact_nearest, unfiltered_pool
from hybrid_memory.memory.changes import AddOptions, fact_hash
from hybrid_memory.memory.components import Pipeline
from hybrid_memory.memory.meaning import Meaning
from hybrid_memory.memory.plan import Plan
from hybrid_memory.memory.truth import (
    Retraction,
    conflicts,
    ended,
    newest_wins,
    settle_ending,
    when,
)
from hybrid_memory.memory.working_set import WorkingSet
from hybrid_memory.models import (
    AddEvent,
    EventType,
    ExtractedFact,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Scope,
)
from stores.base import ACTIVE_ONLY, MemoryQuery, RecordStore, VectorStore

__all__ = ["AddOptions", "Consolidation", "fact_hash", "validate_decision"]


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
        self.meaning = Meaning(embedder)
        self.retraction = Retraction(embedder, vectors, config.consolidation.forget_similarity)

    def plan(
        self,
        plan: Plan,
        candidates: list[ExtractedFact],
        options: AddOptions,
        fallback: Fallback,
    ) -> None:
        """Decide every candidate, in order, into ``plan``."""
        ws = WorkingSet(self.records, plan.scope.owner, plan)
        if options.infer:
            self.meaning.recognise([c for c in candidates if c.kind == MemoryKind.FACT])
        # Exact duplicates of stored memories are settled by their hash alone, so only the
        # other candidates are embedded (each distinct text once).
        stored = ws.active_hashes([fact_hash(c) for c in candidates])
        texts = list(
            dict.fromkeys(c.text for c in candidates if c.retraction or fact_hash(c) not in stored)
        )
        embedded, neighbours = self._embed_and_prefetch(texts, ws)
        for cand in candidates:
            plan.events.extend(
                self._one(
                    ws, cand, embedded.get(cand.text), neighbours.get(cand.text), options, fallback
                )
            )

    def _embed_and_prefetch(
        self, texts: list[str], ws: WorkingSet
    ) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[str, float]]]]:
        """Vectors of ``texts`` and their stored neighbours: one embedding batch, one
        vector-store round trip."""
        if not texts:
            return {}, {}
        vectors = self.embedder.embed_batch(texts)
        limit = self.config.consolidation.neighbours * 2
        in_scope = self.records.scope_stats(ws.owner).count
        hits = self._small_scope_neighbours(ws.owner, in_scope, vectors, limit)
        if hits is None:
            # Other owners' hits are dropped by the working set, which reads only the owner's.
            wide = unfiltered_pool(in_scope, self.vectors.count(), limit, self.config.retrieval)
            where = ws.owner.as_filter() if wide is None else {}
            hits = self.vectors.query_many(vectors, where=where, limit=wide or limit)
        ws.get([memory_id for found in hits for memory_id, _ in found])  # one read for all
        return dict(zip(texts, vectors, strict=True)), dict(zip(texts, hits, strict=True))

    def _small_scope_neighbours(
        self, owner: Scope, in_scope: int, vectors: np.ndarray, limit: int
    ) -> list[list[tuple[str, float]]] | None:
        """Neighbours scored exactly from the owner's own ids when it holds at most
        ``retrieval.exact_scope_limit`` current memories (the cost then follows the owner's
        size, not the store's); None when it holds more."""
        most = self.config.retrieval.exact_scope_limit
        if in_scope > most:
            return None
        ids = self.records.find_memory_ids(
            owner, MemoryQuery(statuses=ACTIVE_ONLY, order="any", limit=most + 1)
        )
        if len(ids) > most:
            return None
        stored = self.vectors.get_vectors(ids)
        return [exact_nearest(vector, stored, limit) for vector in vectors]

    def _one(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray | None,
        hits: list[tuple[str, float]] | None,
        options: AddOptions,
        fallback: Fallback,
    ) -> list[AddEvent]:
        who = options.actor or cand.speaker or self.config.actor
        if not cand.retraction:
            duplicate = ws.by_hash(fact_hash(cand))
            if duplicate is not None:
                changes.extend_sources(ws, duplicate, cand.sources)
                event = AddEvent(
                    id=duplicate.id,
                    memory=duplicate.memory,
                    event=EventType.NONE,
                    kind=duplicate.kind,
                )
                return [event, *self._settle(ws, cand, None, who)]
        if vec is None:  # its hash was stored when the add began, but is gone now
            vec = self.embedder.embed_batch([cand.text])[0]
        if cand.retraction:
            targets = self.retraction.targets(ws, cand, vec)
            reason = "retracted by the speaker"
            return [changes.close(ws, t, when(cand), who, reason) for t in targets]
        settle_ending(ws, cand)
        existing, scores = self._neighbours(ws, cand, vec, hits)
        decision = self._decide(ws.plan, cand, existing, scores, options, fallback)
        return self._apply(ws, cand, vec, existing, decision, options, who)

    def _apply(
        self,
        ws: WorkingSet,
        cand: ExtractedFact,
        vec: np.ndarray,
        existing: list[MemoryItem],
        decision: ConsolidationDecision,
        options: AddOptions,
        who: str | None,
    ) -> list[AddEvent]:
        """The decision's changes, then what keeping one current truth requires."""
        if decision.event == EventType.NONE:
            if decision.target is None:
                return self._settle(ws, cand, None, who)
            target = existing[decision.target]
            changes.extend_sources(ws, target, cand.sources)
            event = AddEvent(
                id=target.id, memory=target.memory, event=EventType.NONE, kind=target.kind
            )
            return [event, *self._settle(ws, cand, None, who)]
        if decision.event == EventType.DELETE:
            assert decision.target is not None
            target = existing[decision.target]
            event = changes.close(ws, target, when(cand), who, decision.reason)
            return [event, *self._outdated_quotes(ws, [ws.items[target.id]], who)]
        former: list[MemoryItem] = []
        if decision.event == EventType.ADD:
            event, item = changes.add(ws, cand, vec, decision, options, who)
        else:
            assert decision.target is not None
            change = (cand, vec, existing[decision.target], decision)
            event, item, archived = changes.update(
                ws, self.vectors, self.embedder, change, options, who
            )
            former.append(archived)
        return [event, *self._outdated_quotes(ws, former, who), *self._settle(ws, cand, item, who)]

    def _settle(
        self, ws: WorkingSet, cand: ExtractedFact, item: MemoryItem | None, who: str | None
    ) -> list[AddEvent]:
        """Close what ``cand`` (stored as ``item`` when it was) replaces or ends."""
        events: list[AddEvent] = []
        if item is not None and item.status == MemoryStatus.ACTIVE:
            older, newer = newest_wins(item, conflicts(ws, item))
            reason = f"a newer {item.attribute} replaces it"
            events += [changes.close(ws, o, when(item), who, reason) for o in older]
            if newer:  # a newer value was already known: this one is a former value
                until = min((t for t in map(when, newer) if t is not None), default=None)
                events.append(changes.close(ws, ws.items[item.id], until, who, "already replaced"))
        for target in ended(ws, cand):
            events.append(changes.close(ws, target, when(cand), who, "ended by the speaker"))
        closed = [ws.items[e.id] for e in events if e.event == EventType.DELETE]
        return events + self._outdated_quotes(ws, closed, who)

    @staticmethod
    def _outdated_quotes(
        ws: WorkingSet, closed: list[MemoryItem], who: str | None
    ) -> list[AddEvent]:
        """An utterance whose statement of a current state or plan no longer holds is a former
        statement too: its verbatim observation is closed with the fact, and so is a reply
        that quotes it (an observation lists the turn it replies to, then its own)."""
        events: list[AddEvent] = []
        for fact in closed:
            if fact.kind != MemoryKind.FACT or fact.aspect == "event":
                continue
            for quote in ws.observations_of(fact.sources):  # those sharing a source with it
                events.append(changes.close(ws, quote, fact.valid_to, who, "states it"))
        return events

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
