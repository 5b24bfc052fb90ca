"""The offline consolidator: ADD / UPDATE / DELETE / NONE by deterministic rules.

Rules, in order, for a candidate ``fact`` against the most similar stored memories of its scope:

1. A retraction ("I don't work there anymore", "forget that ...") DELETEs the stored fact with
   the same subject and attribute (and value, when the retraction names one), or, without an
   attribute, the most similar stored memory if it is similar enough. Nothing to retract: NONE.
2. A near-duplicate (same normalized text, or similarity >= ``duplicate_similarity`` with the
   same kind) is NONE.
3. A single-valued attribute (home, job...) with a stored value for the same subject: the same
   value is NONE, a different value UPDATEs the stored fact (the orchestrator keeps the old value
   as a superseded record with its validity interval).
4. Everything else is ADD.
"""

from __future__ import annotations

from collections.abc import Sequence

from extractors.base import ConsolidationDecision
from hybrid_memory.models import (
    EventType,
    ExtractedFact,
    MemoryItem,
    MemoryKind,
    content_hash,
    normalize_text,
)


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and normalize_text(a) == normalize_text(b)


def _value_matches(stored: MemoryItem, value: str | None) -> bool:
    if not value:
        return True
    needle = normalize_text(value)
    return bool(needle) and needle in normalize_text(stored.memory)


class OfflineConsolidator:
    """Deterministic consolidation rules (see the module docstring).

    Args:
        duplicate_similarity: similarity at or above which a same-kind memory is a duplicate.
        forget_similarity: minimum similarity for "forget that ..." to delete a memory.
    """

    name = "offline-rules-v1"

    def __init__(self, duplicate_similarity: float = 0.95, forget_similarity: float = 0.55):
        self.duplicate_similarity = duplicate_similarity
        self.forget_similarity = forget_similarity

    def decide(
        self,
        fact: ExtractedFact,
        existing: Sequence[MemoryItem],
        existing_scores: Sequence[float],
    ) -> ConsolidationDecision:
        same_attr = [
            i
            for i, item in enumerate(existing)
            if fact.attribute
            and item.attribute == fact.attribute
            and _same(item.subject, fact.subject)
            and item.kind == MemoryKind.FACT
        ]
        if fact.retraction:
            for i in same_attr:
                if _value_matches(existing[i], fact.value):
                    return ConsolidationDecision(
                        event=EventType.DELETE, target=i, reason="retracted by the speaker"
                    )
            if fact.attribute is None and existing:
                best = max(range(len(existing)), key=lambda i: existing_scores[i])
                if existing_scores[best] >= self.forget_similarity:
                    return ConsolidationDecision(
                        event=EventType.DELETE, target=best, reason="asked to forget it"
                    )
            return ConsolidationDecision(event=EventType.NONE, reason="nothing to retract")

        digest = content_hash(fact.text)
        for i, item in enumerate(existing):
            if item.kind != fact.kind:
                continue
            if item.hash == digest or existing_scores[i] >= self.duplicate_similarity:
                return ConsolidationDecision(event=EventType.NONE, target=i, reason="duplicate")

        if fact.single_valued:
            for i in same_attr:
                if _same(existing[i].memory, fact.text) or (
                    fact.value and _value_matches(existing[i], fact.value)
                ):
                    return ConsolidationDecision(
                        event=EventType.NONE, target=i, reason="same value"
                    )
            if same_attr:
                return ConsolidationDecision(
                    event=EventType.UPDATE,
                    target=same_attr[0],
                    text=fact.text,
                    reason=f"new value of {fact.attribute}",
                )
        return ConsolidationDecision(event=EventType.ADD, text=fact.text)
