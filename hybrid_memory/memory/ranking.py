"""Fusion of the retrieval signals into one relevance score (higher = more relevant).

Dense similarity (vector store) and BM25 (SQLite FTS5) each rank the candidates, and so does
dense similarity to the query with its names replaced by "someone" when it names anyone (what
it asks, whoever it is about); the rankings are fused by weighted reciprocal-rank fusion (RRF),
which needs no calibration between score scales. Small additive boosts follow: a memory about
a person the query names, memories linked to entities named in the query,
recency (within the scope's time span) and importance; and what the query asks
(:mod:`hybrid_memory.memory.question`): a fact whose attribute answers it (its current value, or
for "before ..." its former values and most of all the value just before the one the query
names), a memory that carries a date when it asks "when". A superseded value is damped unless
the query asks about the past ("before", "used to", "previously", "when did"...).

The final score is scaled to [0, 1]: 1 means ranked first by both retrievers with every boost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from hybrid_memory.config import RetrievalConfig
from hybrid_memory.memory.question import Question
from hybrid_memory.models import MemoryItem, MemoryKind, MemoryStatus

_PAST_CUE = re.compile(
    r"\b(before|previous(ly)?|used to|former(ly)?|(?<!how )old|earlier|past|originally|ago|"
    r"back then|anymore|no longer|at first|in the beginning)\b",
    re.IGNORECASE,
)


_MONTHS = (
    r"(?i:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)"
)
_DATED = re.compile(
    _MONTHS + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+\d{4}\b|\b\d{4}-\d{2}\b|"
    r"\b(?:in|since|from|until|of)\s+(?:\d{4}|" + _MONTHS + r")\b"
)
_SAME_MOMENT = 2 * 86400.0  # seconds: a value ending when another began


def asks_about_past(query: str) -> bool:
    """True when the query is about earlier states ("where did she live before?")."""
    return bool(_PAST_CUE.search(query))


def dated(text: str) -> bool:
    """Whether a memory says when something happened ("in March 2024", "2024-03-08")."""
    return bool(_DATED.search(text))


def _predecessors(candidates: list[Candidate], question: Question, relevance: dict[int, float]
                  ) -> set[int]:  # fmt: skip
    """For "before ...": the value that ended last before the one the query names began (the
    topical fact most relevant to the query), with whatever ended at the same moment."""
    topical = [c for c in candidates if question.answered_by(c.item.attribute)]
    if not topical:
        return set()
    anchor = max(topical, key=lambda c: relevance[id(c)])
    began = anchor.item.event_time or anchor.item.valid_from
    if began is None:
        return set()
    ended = [
        c
        for c in topical
        if c is not anchor
        and c.item.valid_to is not None
        and (c.item.valid_to - began).total_seconds() <= _SAME_MOMENT
    ]
    if not ended:
        return set()
    last = max(c.item.valid_to for c in ended if c.item.valid_to is not None)
    return {
        id(c)
        for c in ended
        if c.item.valid_to is not None and (last - c.item.valid_to).total_seconds() <= _SAME_MOMENT
    }


def _subjects(candidates: list[Candidate], query: str) -> set[str]:
    """The subjects of candidate facts the query asks about: those it names, but not the one
    named only as an owner ("What does Arjun's wife Meera do?": Meera; "What is Ana's job?":
    Ana)."""
    folded = query.casefold()
    names = {(c.item.subject or "").casefold() for c in candidates if c.item.subject}
    named = {n for n in names if n and re.search(r"\b" + re.escape(n) + r"\b", folded)}
    owners = {n for n in named if re.search(r"\b" + re.escape(n) + r"(?:'s|’s)\b", folded)}
    return (named - owners) or named


def _asked(cand: Candidate, question: Question, predecessor: bool) -> float:
    """How much of the attribute boost ``cand`` earns for what ``question`` asks (0-2)."""
    if cand.item.kind != MemoryKind.FACT or not question.answered_by(cand.item.attribute):
        return 0.0
    if question.about and (cand.item.subject or "").casefold() not in question.about:
        return 0.0  # Henrik's job does not answer "What is Ingrid's job?"
    current = cand.item.status == MemoryStatus.ACTIVE
    if not question.former:
        return 1.0 if current or question.when else 0.0
    return (0.0 if current else 1.0) + (1.0 if predecessor else 0.0)


@dataclass
class Candidate:
    """The signals gathered for one memory during a search."""

    item: MemoryItem
    dense: float | None = None
    dense_rank: int | None = None
    lexical: float | None = None
    lexical_rank: int | None = None
    unnamed: float | None = None
    unnamed_rank: int | None = None
    entity_overlap: float = 0.0
    details: dict[str, float] = field(default_factory=dict)


def _relevance(candidates: list[Candidate], config: RetrievalConfig) -> dict[int, float]:
    """Each candidate's weighted reciprocal-rank fusion of its ranks, scaled to 0-1 (1: first
    in every ranking that was made)."""
    k = config.rrf_k
    unnamed = any(c.unnamed_rank is not None for c in candidates)
    weights = config.dense_weight + config.lexical_weight
    weights += config.unnamed_weight if unnamed else 0.0
    best_rrf = weights / (k + 1)
    out: dict[int, float] = {}
    for cand in candidates:
        rrf = 0.0
        if cand.dense_rank is not None:
            rrf += config.dense_weight / (k + cand.dense_rank)
        if cand.lexical_rank is not None:
            rrf += config.lexical_weight / (k + cand.lexical_rank)
        if cand.unnamed_rank is not None:
            rrf += config.unnamed_weight / (k + cand.unnamed_rank)
        out[id(cand)] = rrf / best_rrf if best_rrf > 0 else 0.0
    return out


def _most_boost(config: RetrievalConfig) -> float:
    """The largest sum of boosts a memory can earn (a score is scaled by 1 / (1 + it))."""
    return (
        config.subject_weight
        + config.entity_weight
        + config.recency_weight
        + config.importance_weight
        + 2 * config.attribute_weight
        + config.when_weight
    )


def fuse(
    candidates: list[Candidate],
    config: RetrievalConfig,
    *,
    query: str,
    time_span: tuple[datetime | None, datetime | None] = (None, None),
    question: Question | None = None,
    vectors_of: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
) -> list[tuple[Candidate, float]]:
    """Score and sort candidates, best first (``vectors_of``: the stored vectors of memory
    ids, for ``similar_penalty``)."""
    question = question or Question()
    named = _subjects(candidates, query)
    if question.topics:
        question = replace(question, about=frozenset(named))
    scale = 1.0 / (1.0 + _most_boost(config))
    lo, hi = time_span
    span = (hi - lo).total_seconds() if lo is not None and hi is not None and hi > lo else 0.0
    past = asks_about_past(query) or question.when
    relevance = _relevance(candidates, config)
    before = _predecessors(candidates, question, relevance) if question.former else set()
    scored = []
    for cand in candidates:
        recency = 0.0
        when = cand.item.event_time or cand.item.created_at
        if span and when is not None and lo is not None:
            recency = max(0.0, min(1.0, (when - lo).total_seconds() / span))
        asked = _asked(cand, question, id(cand) in before)
        timed = 1.0 if question.when and dated(cand.item.memory) else 0.0
        subject = 1.0 if (cand.item.subject or "").casefold() in named else 0.0
        score = (
            relevance[id(cand)]
            + config.subject_weight * subject
            + config.entity_weight * cand.entity_overlap
            + config.recency_weight * recency
            + config.importance_weight * cand.item.importance
            + config.attribute_weight * asked
            + config.when_weight * timed
        ) * scale
        score *= config.kind_weights.get(cand.item.kind.value, 1.0)
        if cand.item.status == MemoryStatus.SUPERSEDED and not past:
            score *= config.superseded_penalty
        cand.details = {
            "relevance": round(relevance[id(cand)], 6),
            "dense": round(cand.dense, 6) if cand.dense is not None else 0.0,
            "lexical": round(cand.lexical, 6) if cand.lexical is not None else 0.0,
            "unnamed": round(cand.unnamed, 6) if cand.unnamed is not None else 0.0,
            "subject": subject,
            "entity": round(cand.entity_overlap, 6),
            "recency": round(recency, 6),
            "importance": cand.item.importance,
            "asked": asked,
            "dated": timed,
        }
        scored.append((cand, min(1.0, max(0.0, score))))
    scored.sort(key=lambda pair: (-pair[1], pair[0].item.id))
    return diversify(scored, config.redundancy_penalty, _similar(scored, config, vectors_of))


def _similar(
    scored: list[tuple[Candidate, float]],
    config: RetrievalConfig,
    vectors_of: Callable[[list[str]], dict[str, np.ndarray]] | None,
) -> Similar | None:
    """The near-duplicate check over the best candidates, when it is on."""
    if vectors_of is None or config.similar_penalty >= 1.0 or not config.similar_window:
        return None
    window = [c.item.id for c, _ in scored[: config.similar_window]]
    return Similar(vectors_of(window), config.similar_threshold, config.similar_penalty)


class Similar:
    """Near-duplicates among the best candidates: their vectors, from which cosine they count
    as the same thing said again, and the multiplier they get. Their similarities are computed
    once; choosing a hit marks the candidates it repeats."""

    def __init__(self, vectors: dict[str, np.ndarray], threshold: float, penalty: float):
        self.penalty = penalty
        self._ids = list(vectors)
        self._index = {memory_id: i for i, memory_id in enumerate(self._ids)}
        matrix = np.stack([vectors[i] for i in self._ids]) if self._ids else np.zeros((0, 0))
        # einsum, not a BLAS product: BLAS worker threads woken for a 50 x 50 product keep
        # spinning and take the cores the query embedding needs (search doubled its time).
        close = np.einsum("ik,jk->ij", matrix, matrix) >= threshold
        self._close = close if self._ids else np.zeros((0, 0), bool)
        self._repeated: set[str] = set()

    def repeats(self, item: MemoryItem) -> bool:
        """Whether ``item`` is nearly the same as a hit chosen before it."""
        return item.id in self._repeated

    def choose(self, item: MemoryItem) -> None:
        row = self._index.get(item.id)
        if row is not None:
            self._repeated.update(self._ids[j] for j in np.flatnonzero(self._close[row]))


def diversify(
    scored: list[tuple[Candidate, float]], penalty: float, similar: Similar | None = None
) -> list[tuple[Candidate, float]]:
    """Greedy re-ranking against redundancy: a memory whose source messages are all covered by
    better-ranked memories (the observation and the entity card of an utterance whose fact is
    already listed, or a fact whose whole utterance is) has its score multiplied by
    ``penalty``, so the next hits bring new information. Two facts of one message say different
    things and do not damp each other. With ``similar``, a memory from other messages that
    says nearly what a better hit says (the same thing told again) gets its multiplier."""
    if (penalty >= 1.0 and similar is None) or len(scored) < 2:
        return scored
    pending = list(scored)
    by_others: set[str] = set()  # sources of the chosen memories that are not facts
    by_any: set[str] = set()  # sources of every chosen memory (kept, not rebuilt per look)
    out: list[tuple[Candidate, float]] = []
    while pending:
        best_index, best_score = 0, -1.0
        for index, (cand, score) in enumerate(pending):
            sources = cand.item.sources
            covered = by_others if cand.item.kind == MemoryKind.FACT else by_any
            effective = score
            if sources and covered.issuperset(sources):
                effective = score * penalty
            elif similar is not None and similar.repeats(cand.item):
                effective = score * similar.penalty
            if effective > best_score:
                best_index, best_score = index, effective
            if score <= best_score:
                break  # sorted by raw score: nothing further can beat the best
        cand, _ = pending.pop(best_index)
        by_any.update(cand.item.sources)
        if cand.item.kind != MemoryKind.FACT:
            by_others.update(cand.item.sources)
        if similar is not None:
            similar.choose(cand.item)
        out.append((cand, best_score))
    return out
