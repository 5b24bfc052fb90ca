"""Search: what the query asks → candidates (dense, lexical, entity) → rank → the answers to hits
that ask (:mod:`~hybrid_memory.memory.exchanges`) → hits; and the merged
context of a query (the profile, hits, the run's summary and recent turns) packed into a token
budget.

Reads take no lock: each call sees the store as it is when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from hybrid_memory.config import RetrievalConfig
from hybrid_memory.embeddings import Embedder, QueryVectors
from hybrid_memory.memory.candidates import Candidates, SearchRequest
from hybrid_memory.memory.context import build_context
from hybrid_memory.memory.exchanges import with_answers
from hybrid_memory.memory.profile import profile
from hybrid_memory.memory.question import Question, Questions, masked, unnamed
from hybrid_memory.memory.ranking import asks_about_past, fuse
from hybrid_memory.messages import to_chat
from hybrid_memory.models import MemoryContext, MemoryHit, MemoryItem, MemoryStatus, Scope, utcnow
from hybrid_memory.tokens import TokenCounter
from stores.base import RecordStore, VectorStore


class Search:
    """Hybrid retrieval within one scope, and context assembly on top of it."""

    def __init__(
        self,
        records: RecordStore,
        vectors: VectorStore,
        embedder: Embedder,
        config: RetrievalConfig,
    ):
        self.records = records
        self.vectors = vectors
        self.embedder = embedder
        self.config = config
        self.candidates = Candidates(records, vectors, config)
        self.queries = QueryVectors(embedder)
        self.questions = Questions(self.queries)

    def _read(self, query: str) -> Question:
        # The query, its masked form (what the question reader compares) and its name-free
        # form (a third ranking) in one batch.
        self.queries.get_many([query, masked(query), unnamed(query)])
        return self.questions.read(query)

    def search(self, request: SearchRequest) -> list[MemoryHit]:
        """Hits for ``request``, best first (``score`` in 0-1, higher = more relevant).

        With ``include_superseded=None`` a former value is returned only where it answers the
        question, as in the context: when the query asks about the past ("before", "when",
        "used to") or about that value's attribute ("Where did I live?")."""
        question = self._read(request.query)
        if request.include_superseded is not None:
            return self._ranked(request, question)
        wide = replace(request, include_superseded=True)
        return self._ranked(wide, question, keep=_answering(request.query, question))

    def _ranked(
        self,
        request: SearchRequest,
        question: Question,
        keep: Callable[[MemoryHit], bool] | None = None,
    ) -> list[MemoryHit]:
        now = utcnow()
        qvec = self.queries.get(request.query)
        free = unnamed(request.query)
        uvec = self.queries.get(free) if free != request.query else None
        stats = self.records.scope_stats(request.scope)
        found = self.candidates.gather(request, qvec, stats, now, unnamed=uvec)
        if not found:
            return []
        self.candidates.entity_overlap(request.scope, request.query, found, stats.count)
        scored = fuse(
            list(found.values()),
            self.config,
            query=request.query,
            time_span=(stats.oldest, stats.newest),
            question=question,
            vectors_of=self.vectors.get_vectors,
        )
        if self.config.follow_replies:
            scored = with_answers(self.records, request, scored, now)
        hits = []
        for cand, score in scored:
            if request.threshold is not None and score < request.threshold:
                continue
            hit = MemoryHit(
                **cand.item.model_dump(), score=round(score, 6), score_details=cand.details
            )
            if keep is not None and not keep(hit):
                continue
            hits.append(hit)
            if len(hits) >= request.limit:
                break
        return hits

    def context(
        self,
        request: SearchRequest,
        *,
        run: Scope,
        tiers: Sequence[str],
        token_budget: int,
        counter: TokenCounter,
        present_ids: Sequence[str],
    ) -> MemoryContext:
        """The profile and memories of ``request.scope`` (the owner), summary and recent turns
        of ``run``, packed into ``token_budget`` tokens of ``counter``'s model. A value no
        longer true is shown only when the query is about it or about the past."""
        hits: list[MemoryHit] = []
        current: list[MemoryItem] = []
        if "memories" in tiers:
            question = self._read(request.query)
            hits = self._ranked(request, question, keep=_answering(request.query, question))
            current = profile(self.records, request.scope, utcnow(), request.filter)
        summary = self.records.summary(run).text if "summary" in tiers else ""
        recent = (
            [(t.message, to_chat(t.message)) for t in self.records.buffer(run)]
            if "recent" in tiers
            else []
        )
        return build_context(
            hits=hits,
            profile=current,
            summary=summary,
            recent=recent,
            token_budget=token_budget,
            counter=counter,
            present_ids=present_ids,
        )


def _answering(query: str, question: Question) -> Callable[[MemoryHit], bool]:
    """Which hits a reader of ``query`` should see: current ones, and a former value only when
    the query asks about the past or about that value's attribute."""
    past = question.former or question.when or asks_about_past(query)

    def keep(hit: MemoryHit) -> bool:
        return hit.status == MemoryStatus.ACTIVE or past or question.answered_by(hit.attribute)

    return keep
