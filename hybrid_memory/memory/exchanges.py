"""Search, stage 3: a hit that asks a question brings the reply that answers it.

An utterance that ends with a question is found by what it asks ("What does it mean to you?"),
but what a reader needs is the answer, which the other speaker gave in the next turn. The
offline pipeline stores that reply's observation with the end of the question quoted and the
question's message as its first source, so the reply is read by an index on first sources and
placed at its question's rank, with its score, just before the question: the exchange comes back
whole, the answer first (its observation quotes what was asked).
"""

from __future__ import annotations

from datetime import datetime

from extractors.offline import asks
from hybrid_memory.memory.candidates import SearchRequest, in_view
from hybrid_memory.memory.ranking import Candidate
from hybrid_memory.models import MemoryItem, MemoryKind
from stores.base import ACTIVE_ONLY, MemoryQuery, RecordStore

Scored = list[tuple[Candidate, float]]


def with_answers(
    records: RecordStore, request: SearchRequest, scored: Scored, now: datetime
) -> Scored:
    """``scored`` (best first) with the reply to each of its first ``request.limit`` hits
    that asks a question placed just before that hit (moved up when it ranked lower)."""
    asking = {
        cand.item.sources[-1]: cand.item.id
        for cand, _ in scored[: request.limit]
        if cand.item.kind == MemoryKind.OBSERVATION and cand.item.sources and asks(cand.item.memory)
    }
    if not asking:
        return scored
    replies = _replies(records, request, tuple(asking), now)
    answer_of = {asking[item.sources[0]]: item for item in replies}
    if not answer_of:
        return scored
    placed: set[str] = set()
    out: Scored = []
    known = {cand.item.id: cand for cand, _ in scored}
    for cand, score in scored:
        if cand.item.id in placed:
            continue  # already placed, just before its question
        answer = answer_of.get(cand.item.id)
        if answer is not None and answer.id not in placed:
            reply = known.get(answer.id) or Candidate(item=answer)
            reply.details = {**reply.details, "answers": 1.0}
            out.append((reply, score))  # the exchange, question quoted, answer first
            placed.add(answer.id)
        out.append((cand, score))
        placed.add(cand.item.id)
    return out


def _replies(
    records: RecordStore, request: SearchRequest, asked: tuple[str, ...], now: datetime
) -> list[MemoryItem]:
    """Observations of replies to the messages ``asked``, within the request's scope and
    filter (checked again on each record)."""
    query = MemoryQuery(
        statuses=ACTIVE_ONLY,
        filter=request.filter,
        now=now,
        replying_to=asked,
        kinds=(MemoryKind.OBSERVATION,),
    )
    scope_ids = request.scope.as_filter()
    return [
        item
        for item in records.find_memories(request.scope, query)
        if len(item.sources) >= 2
        and item.sources[0] in asked
        and in_view(item, scope_ids, ACTIVE_ONLY, now)
    ]
