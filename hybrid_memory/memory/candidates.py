"""Search, stage 1: candidates from the dense, lexical and entity signals, within one scope.

- dense: the nearest vectors of the scope (an unfiltered query over a wider pool when the scope
  holds most of the store, which is several times faster than a filtered one; with a metadata
  filter matching few memories, every match is scored exactly); and the same for the query
  with its names replaced by "someone", when it names anyone;
- lexical: BM25 over the memory texts of the scope;
- entities: names in the query linked to a candidate (names linked to most of the scope, such
  as the user's own, tell nothing and are ignored).

Every candidate is checked against its record (scope, status, expiry, filter) whatever a store
returned: a store can only narrow what a caller sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from hybrid_memory.config import RetrievalConfig
from hybrid_memory.filters import Filter
from hybrid_memory.memory.ranking import Candidate
from hybrid_memory.models import MemoryItem, MemoryStatus, Scope
from stores.base import ACTIVE_ONLY, ALL_STATUSES, MemoryQuery, RecordStore, ScopeStats, VectorStore

_WORD = re.compile(r"[\w'-]+", re.UNICODE)
# Words that say how a question is asked, not what about: searched for, they would rank every
# memory that happens to hold them.
_FUNCTION_WORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during before
    after above below to from up down in out on off over under again further then once here
    there when where why how all any both each few more most other some such no nor not only own
    same so than too very can will just don should now is are was were be been being have has
    had having do does did doing i me my myself we our ours you your yours he him his she her
    hers it its they them their what which who whom this that these those am would could might
    must shall s t d ll m re ve""".split()
)


def keywords(query: str) -> str:
    """The query's words that say what it is about (all of them when none does)."""
    words = _WORD.findall(query)
    kept = [w for w in words if w.casefold().strip("'") not in _FUNCTION_WORDS]
    return " ".join(kept) if kept else query


def in_view(
    item: MemoryItem, scope_ids: dict[str, str], statuses: tuple[MemoryStatus, ...], now: datetime
) -> bool:
    """Defence in depth: whatever a store returned, the record itself is of the scope
    (``Scope.as_filter()``), of one of ``statuses`` and not expired at ``now``."""
    return (
        all(getattr(item, k) == v for k, v in scope_ids.items())
        and item.status in statuses
        and (item.expires_at is None or item.expires_at > now)
    )


@dataclass(frozen=True)
class SearchRequest:
    """One validated search."""

    scope: Scope
    query: str
    limit: int
    filter: Filter | None
    threshold: float | None
    include_superseded: bool | None
    """True: former values too; False: current ones only; None: former values only where
    they answer the question (see :meth:`SearchService.search`)."""


class Candidates:
    """Gathers the candidates of a search (see the module docstring)."""

    def __init__(self, records: RecordStore, vectors: VectorStore, config: RetrievalConfig):
        self.records = records
        self.vectors = vectors
        self.config = config

    def gather(
        self,
        request: SearchRequest,
        qvec: np.ndarray,
        stats: ScopeStats,
        now: datetime,
        unnamed: np.ndarray | None = None,
    ) -> dict[str, Candidate]:
        """The candidates of ``request``; ``unnamed``: the vector of the query with its names
        replaced (a third ranking, see :class:`RetrievalConfig`), None when it names no one."""
        statuses = ALL_STATUSES if request.include_superseded else ACTIVE_ONLY
        selection = MemoryQuery(statuses=statuses, filter=request.filter, now=now)
        pool = max(self.config.candidates, request.limit * 2)
        qvecs = [qvec] if unnamed is None or not self.config.unnamed_weight else [qvec, unnamed]
        rankings, allowed = self._dense(request, qvecs, selection, pool, stats.count)
        dense = rankings[0]
        lexical = self.records.lexical_search(
            request.scope,
            keywords(request.query),
            limit=pool,
            query=MemoryQuery(statuses=ALL_STATUSES, filter=request.filter, now=now),
        )
        ids = list(dict.fromkeys([i for r in rankings for i, _ in r] + [i for i, _ in lexical]))
        items = self.records.get_memories(ids)
        if request.filter is not None and allowed is None:
            matching = MemoryQuery(
                statuses=statuses, filter=request.filter, now=now, ids=tuple(ids)
            )
            allowed = set(self.records.find_memory_ids(request.scope, matching)) if ids else set()

        scope_ids = request.scope.as_filter()

        def visible(memory_id: str) -> bool:
            item = items.get(memory_id)
            return (
                item is not None
                and in_view(item, scope_ids, statuses, now)
                and (allowed is None or item.id in allowed)
            )

        found: dict[str, Candidate] = {}
        kept_dense = [(i, s) for i, s in dense if visible(i)]
        for rank, (memory_id, sim) in enumerate(kept_dense, 1):
            found[memory_id] = Candidate(item=items[memory_id], dense=sim, dense_rank=rank)
        kept_lexical = [(i, s) for i, s in lexical if visible(i)]
        for rank, (memory_id, score) in enumerate(kept_lexical, 1):
            cand = found.setdefault(memory_id, Candidate(item=items[memory_id]))
            cand.lexical, cand.lexical_rank = score, rank
        if len(rankings) > 1:
            kept_unnamed = [(i, s) for i, s in rankings[1] if visible(i)]
            for rank, (memory_id, sim) in enumerate(kept_unnamed, 1):
                cand = found.setdefault(memory_id, Candidate(item=items[memory_id]))
                cand.unnamed, cand.unnamed_rank = sim, rank
        return found

    def _dense(
        self,
        request: SearchRequest,
        qvecs: list[np.ndarray],
        selection: MemoryQuery,
        pool: int,
        in_scope: int,
    ) -> tuple[list[list[tuple[str, float]]], set[str] | None]:
        """The nearest memories to each query vector, and the ids a filter allows when that
        was computed."""
        filtered = request.filter is not None
        if not filtered:
            wide = unfiltered_pool(in_scope, self.vectors.count(), pool, self.config)
            if wide is not None:
                return [self.vectors.query(q, where={}, limit=wide) for q in qvecs], None
        limit = self.config.exact_filter_limit if filtered else self.config.exact_scope_limit
        if filtered or in_scope <= limit:
            # Scored exactly from the scope's own ids: the cost follows the scope, whatever
            # else the store holds.
            matching = self.records.find_memory_ids(
                request.scope,
                MemoryQuery(
                    statuses=selection.statuses,
                    filter=selection.filter,
                    now=selection.now,
                    limit=limit + 1,
                ),
            )
            if len(matching) <= limit:
                vectors = self.vectors.get_vectors(matching)
                return [exact_nearest(q, vectors, pool) for q in qvecs], (
                    set(matching) if filtered else None
                )
        where = request.scope.as_filter()
        wide = pool * 4 if filtered else pool
        return [self.vectors.query(q, where=where, limit=wide) for q in qvecs], None

    def entity_overlap(
        self, scope: Scope, query: str, found: dict[str, Candidate], total: int
    ) -> None:
        """Set each candidate's share of the query's entities it is linked to."""
        words = _WORD.findall(query)
        grams = {w.casefold() for w in words}
        grams |= {f"{a} {b}".casefold() for a, b in zip(words, words[1:], strict=False)}
        grams |= {w[:-2].casefold() for w in words if w.endswith("'s")}
        known = self.records.known_entities(scope, sorted(grams))
        cap = max(3, int(total * self.config.entity_max_share))
        entities = {name for name, n in known.items() if n <= cap}
        if not entities:
            return
        links = self.records.entity_links(list(found))
        for memory_id, cand in found.items():
            cand.entity_overlap = len(links.get(memory_id, set()) & entities) / len(entities)


def unfiltered_pool(in_scope: int, total: int, pool: int, config: RetrievalConfig) -> int | None:
    """How many nearest neighbours to ask of the whole vector store so that about ``pool`` of
    them fall in a scope of ``in_scope`` memories; None when the scope holds too small a share
    of the store (a filtered query then costs less than dropping the others' hits)."""
    if not total or in_scope / total < config.unfiltered_share:
        return None
    return min(total, int(pool * total / max(in_scope, 1)) + pool)


def exact_nearest(
    qvec: np.ndarray, vectors: dict[str, np.ndarray], pool: int
) -> list[tuple[str, float]]:
    """The ``pool`` best of ``vectors`` by cosine similarity (they are unit length)."""
    if not vectors:
        return []
    ids = list(vectors)
    sims = np.stack([vectors[i] for i in ids]) @ qvec
    best = np.argsort(-sims, kind="stable")[:pool]
    return [(ids[k], float(sims[k])) for k in best]
