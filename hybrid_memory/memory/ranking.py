"""Fusion of the retrieval signals into one relevance score (higher = more relevant).

Dense similarity (vector store) and BM25 (SQLite FTS5) each rank the candidates; the two rankings
are fused by weighted reciprocal-rank fusion (RRF), which needs no calibration between the two
score scales. Small additive boosts follow: memories linked to entities named in the query,
recency (within the scope's time span) and importance. A superseded value is damped unless the
query asks about the past ("before", "used to", "previously"...).

The final score is scaled to [0, 1]: 1 means ranked first by both retrievers with every boost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from hybrid_memory.config import RetrievalConfig
from hybrid_memory.models import MemoryItem, MemoryStatus

_PAST_CUE = re.compile(
    r"\b(before|previous(ly)?|used to|former(ly)?|old|earlier|past|originally|first|ago|"
    r"back then|anymore|no longer|did)\b",
    re.IGNORECASE,
)


def asks_about_past(query: str) -> bool:
    """True when the query is about earlier states ("where did she live before?")."""
    return bool(_PAST_CUE.search(query))


@dataclass
class Candidate:
    """The signals gathered for one memory during a search."""

    item: MemoryItem
    dense: float | None = None
    dense_rank: int | None = None
    lexical: float | None = None
    lexical_rank: int | None = None
    entity_overlap: float = 0.0
    details: dict[str, float] = field(default_factory=dict)


def fuse(
    candidates: list[Candidate],
    config: RetrievalConfig,
    *,
    query: str,
    time_span: tuple[datetime | None, datetime | None] = (None, None),
) -> list[tuple[Candidate, float]]:
    """Score and sort candidates, best first."""
    k = config.rrf_k
    best_rrf = (config.dense_weight + config.lexical_weight) / (k + 1)
    boosts = config.entity_weight + config.recency_weight + config.importance_weight
    scale = 1.0 / (1.0 + boosts) if best_rrf > 0 else 1.0
    lo, hi = time_span
    span = (hi - lo).total_seconds() if lo is not None and hi is not None and hi > lo else 0.0
    past = asks_about_past(query)
    scored = []
    for cand in candidates:
        rrf = 0.0
        if cand.dense_rank is not None:
            rrf += config.dense_weight / (k + cand.dense_rank)
        if cand.lexical_rank is not None:
            rrf += config.lexical_weight / (k + cand.lexical_rank)
        relevance = rrf / best_rrf if best_rrf > 0 else 0.0
        recency = 0.0
        when = cand.item.event_time or cand.item.created_at
        if span and when is not None and lo is not None:
            recency = max(0.0, min(1.0, (when - lo).total_seconds() / span))
        score = (
            relevance
            + config.entity_weight * cand.entity_overlap
            + config.recency_weight * recency
            + config.importance_weight * cand.item.importance
        ) * scale
        score *= config.kind_weights.get(cand.item.kind.value, 1.0)
        if cand.item.status == MemoryStatus.SUPERSEDED and not past:
            score *= config.superseded_penalty
        cand.details = {
            "relevance": round(relevance, 6),
            "dense": round(cand.dense, 6) if cand.dense is not None else 0.0,
            "lexical": round(cand.lexical, 6) if cand.lexical is not None else 0.0,
            "entity": round(cand.entity_overlap, 6),
            "recency": round(recency, 6),
            "importance": cand.item.importance,
        }
        scored.append((cand, min(1.0, max(0.0, score))))
    scored.sort(key=lambda pair: (-pair[1], pair[0].item.id))
    return diversify(scored, config.redundancy_penalty)


def diversify(
    scored: list[tuple[Candidate, float]], penalty: float
) -> list[tuple[Candidate, float]]:
    """Greedy re-ranking against redundancy: a memory whose source messages are all covered by
    better-ranked memories (the fact, the observation and the entity card of one utterance)
    has its score multiplied by ``penalty``, so the next hits bring new information."""
    if penalty >= 1.0 or len(scored) < 2:
        return scored
    pending = list(scored)
    covered: set[str] = set()
    out: list[tuple[Candidate, float]] = []
    while pending:
        best_index, best_score = 0, -1.0
        for index, (cand, score) in enumerate(pending):
            sources = cand.item.sources
            effective = score * penalty if sources and covered.issuperset(sources) else score
            if effective > best_score:
                best_index, best_score = index, effective
            if score <= best_score:
                break  # sorted by raw score: nothing further can beat the best
        cand, _ = pending.pop(best_index)
        covered.update(cand.item.sources)
        out.append((cand, best_score))
    return out
