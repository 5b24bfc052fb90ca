"""The offline consolidator: ADD / UPDATE / DELETE / NONE by deterministic rules.

Rules, in order, for a candidate ``fact`` against the most similar stored memories of its scope:

1. A retraction ("I don't work there anymore", "forget that ...") DELETEs the stored fact with
   the same subject and attribute (and value, when the retraction names one), or, without an
   attribute, the most similar stored memory if it is similar enough. Nothing to retract: NONE.
2. A near-duplicate (same normalized text, or similarity >= ``duplicate_similarity`` with the
   same kind) is NONE.
3. A single-valued attribute (home, job...) with a stored value for the same subject: the same
   value is NONE (unless the statement tells more about it, then it is added beside it), a
   different value UPDATEs the stored fact (the orchestrator keeps the old value
   as a superseded record with its validity interval).
4. Everything else is ADD.
"""

from __future__ import annotations

import re
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


_NEGATION = re.compile(r"\b(?:not|no|never|no longer|anymore|any more|n't)\b|n't\b", re.I)
_DISTINCT = re.compile(r"\d[\d.,]*|(?<!^)\b[^\W\d_][\w'’-]*", re.UNICODE)


_FUNCTION = frozenset(
    "a an the and or but of at in on to for with from by is are was were be been has have had "
    "do does did it its this that these those so very really just also still now then".split()
)


def _distinct(text: str) -> tuple[bool, frozenset[str], frozenset[str]]:
    """What tells two similar statements apart: a negation, their numbers and names, and their
    words of substance ("pharmacist" and "chief pharmacist")."""
    names = {w for w in _DISTINCT.findall(text) if w[:1].isdigit() or w[:1].isupper()}
    words = {w for w in normalize_text(text).split() if w not in _FUNCTION}
    return bool(_NEGATION.search(text)), frozenset(names), frozenset(words)


def near_duplicate(a: str, b: str) -> bool:
    """Whether two highly similar statements say the same thing: no negation on one side only,
    the same numbers, names and words of substance ("Kwame is 52" and "Kwame is 53" are not
    duplicates, nor "works as a pharmacist" and "works as a chief pharmacist")."""
    return _distinct(a) == _distinct(b)


def _says_more(text: str, than: str) -> bool:
    """Whether ``text`` tells more than ``than``: two or more words of substance it lacks ("...
    as a dispatcher at Trans-Wisła since November 2023" beside "... works at Trans-Wisła")."""
    have = set(normalize_text(than).split())
    extra = [w for w in normalize_text(text).split() if w not in have and len(w) > 3]
    return len(extra) >= 2


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
        # Facts said in the same message describe the same moment: they never replace each
        # other ("I moved back to Bergen, and for now I'm renting a flat in Sandviken").
        same_attr = [
            i
            for i, item in enumerate(existing)
            if fact.attribute
            and item.attribute == fact.attribute
            and _same(item.subject, fact.subject)
            and item.kind == MemoryKind.FACT
            and item.aspect != "event"
            and not set(item.sources) & set(fact.sources)
        ]
        if fact.retraction:
            return self._retraction(fact, existing, existing_scores, same_attr)
        duplicate = self._duplicate(fact, existing, existing_scores)
        if duplicate is not None:
            return duplicate
        if fact.single_valued and fact.aspect in ("state", None):
            return self._new_value(fact, existing, same_attr)
        return ConsolidationDecision(event=EventType.ADD, text=fact.text)

    def _retraction(
        self,
        fact: ExtractedFact,
        existing: Sequence[MemoryItem],
        scores: Sequence[float],
        same_attr: list[int],
    ) -> ConsolidationDecision:
        for i in same_attr:
            if _value_matches(existing[i], fact.value):
                return ConsolidationDecision(
                    event=EventType.DELETE, target=i, reason="retracted by the speaker"
                )
        if fact.attribute is None and existing:
            best = max(range(len(existing)), key=lambda i: scores[i])
            if scores[best] >= self.forget_similarity:
                return ConsolidationDecision(
                    event=EventType.DELETE, target=best, reason="asked to forget it"
                )
        return ConsolidationDecision(event=EventType.NONE, reason="nothing to retract")

    def _duplicate(
        self, fact: ExtractedFact, existing: Sequence[MemoryItem], scores: Sequence[float]
    ) -> ConsolidationDecision | None:
        digest = content_hash(fact.text)
        for i, item in enumerate(existing):
            if item.kind != fact.kind:
                continue
            if item.hash == digest or (
                scores[i] >= self.duplicate_similarity
                and not fact.ends
                and near_duplicate(item.memory, fact.text)
            ):
                return ConsolidationDecision(event=EventType.NONE, target=i, reason="duplicate")
        return None

    @staticmethod
    def _new_value(
        fact: ExtractedFact, existing: Sequence[MemoryItem], same_attr: list[int]
    ) -> ConsolidationDecision:
        """A single-valued state against the stored facts of its attribute."""
        same_value = [
            i
            for i in same_attr
            if _same(existing[i].memory, fact.text)
            or (fact.value and _value_matches(existing[i], fact.value))
        ]
        for i in same_value:
            if not _says_more(fact.text, existing[i].memory):
                return ConsolidationDecision(event=EventType.NONE, target=i, reason="same value")
        if same_value:
            return ConsolidationDecision(
                event=EventType.ADD, text=fact.text, reason="tells more of the same value"
            )
        if same_attr:
            return ConsolidationDecision(
                event=EventType.UPDATE,
                target=same_attr[0],
                text=fact.text,
                reason=f"new value of {fact.attribute}",
            )
        return ConsolidationDecision(event=EventType.ADD, text=fact.text)
