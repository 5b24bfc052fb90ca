"""The profile: what is currently true about the person a scope's memories are about.

For each single-valued attribute (home, employer, job, partner, marital status, diet, age,
favourites...) the current value, and the current pets, health conditions, allergies and habits,
of the subject most of the scope's attribute facts are about (the user, for a user's memories).
The context shows it in a section of its own, inside the token budget, so that a model always
sees the current values even when the query did not retrieve them. Only facts still current are
read, so a replaced value can never appear here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hybrid_memory.attributes import ATTRIBUTES, family, single_valued
from hybrid_memory.filters import Filter
from hybrid_memory.models import MemoryItem, MemoryKind, Scope
from stores.base import MemoryQuery, RecordReads

LISTED = ("pet", "health", "allergy", "restriction", "habit")
"""Multi-valued families whose current values the profile lists too."""
LIMIT = 12
"""At most this many lines."""

_ORDER = {name: i for i, name in enumerate(ATTRIBUTES)}


def _in_profile(item: MemoryItem) -> bool:
    if item.aspect in ("event", "plan") or not item.attribute:
        return False
    return single_valued(item.attribute) or family(item.attribute) in LISTED


def _newest(facts: list[MemoryItem]) -> MemoryItem:
    """The current value: the newest statement, the shortest of those said together."""

    def when(item: MemoryItem) -> datetime:
        return item.event_time or item.valid_from or item.created_at

    latest = max(when(f) for f in facts)
    return min((f for f in facts if when(f) == latest), key=lambda f: (len(f.memory), f.id))


def profile(
    records: RecordReads, scope: Scope, now: datetime, filter: Filter | None = None
) -> list[MemoryItem]:
    """The profile facts of ``scope`` (see the module docstring), in vocabulary order."""
    query = MemoryQuery(kinds=(MemoryKind.FACT,), attributed=True, filter=filter, now=now)
    facts = [f for f in records.find_memories(scope, query) if _in_profile(f) and f.subject]
    if not facts:
        return []
    subjects = Counter((f.subject or "").casefold() for f in facts)
    subject = subjects.most_common(1)[0][0]
    by_attribute: dict[str, list[MemoryItem]] = {}
    for fact in facts:
        if (fact.subject or "").casefold() == subject:
            by_attribute.setdefault(fact.attribute or "", []).append(fact)
    chosen = [_newest(group) for group in by_attribute.values()]
    chosen.sort(key=lambda f: (_ORDER.get(family(f.attribute or ""), len(_ORDER)), f.attribute))
    return chosen[:LIMIT]
