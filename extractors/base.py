"""The extractor and summarizer protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from hybrid_memory.models import EventType, ExtractedFact, MemoryItem, Message


@runtime_checkable
class Extractor(Protocol):
    """Turns new messages into candidate memories.

    ``messages`` are the new messages of one ``add`` call, in order, each with an ``id`` and (when
    known) a ``timestamp``. ``context`` holds the preceding turns of the same run (oldest first),
    so that "you" can be resolved to the other speaker. Implementations return facts, entities and
    one observation per meaningful utterance; every candidate lists the ids of its source messages.
    They raise :class:`hybrid_memory.errors.ExtractionError` on failure, never return ``[]`` to
    mean "failed".
    """

    name: str

    def extract(
        self, messages: Sequence[Message], *, context: Sequence[Message] = ()
    ) -> list[ExtractedFact]: ...


@runtime_checkable
class Summarizer(Protocol):
    """Folds turns leaving the recent-turn buffer into a running summary under a token bound."""

    name: str

    def summarize(
        self,
        previous: str,
        turns: Sequence[Message],
        *,
        max_tokens: int,
        count_tokens: Callable[[str], int],
    ) -> str:
        """Return the new summary; ``count_tokens(result) <= max_tokens`` must hold."""
        ...


class ConsolidationDecision(BaseModel):
    """What to do with one new candidate fact, given the similar memories already stored.

    ``target`` is the index (into the ``existing`` list passed to the consolidator) of the memory
    an UPDATE or DELETE applies to; it is ``None`` for ADD and NONE. ``text`` is the memory text
    to store for ADD/UPDATE (defaults to the candidate's text).
    """

    event: EventType
    target: int | None = None
    text: str | None = None
    reason: str | None = None


@runtime_checkable
class Consolidator(Protocol):
    """Decides ADD / UPDATE / DELETE / NONE for a candidate against similar stored memories.

    ``existing`` are the most similar active memories of the same scope, most similar first, with
    their similarity in ``existing_scores``. The orchestrator validates every decision (an index
    out of range or an UPDATE without a target is rejected) before applying it.
    """

    name: str

    def decide(
        self,
        fact: ExtractedFact,
        existing: Sequence[MemoryItem],
        existing_scores: Sequence[float],
    ) -> ConsolidationDecision: ...
