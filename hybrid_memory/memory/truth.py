"""What a new statement makes no longer true: the general rules that keep one current truth.

Whatever wrote the facts (the offline rules or a model), after each new statement:

- **conflicts**: two current facts about the same subject and the same single-valued attribute
  (home, employer, job, partner, diet, favourite food...) cannot both stay current: the newer
  by event time wins and the older is closed, its validity interval ending when the newer
  began. Facts stated in the same message describe the same moment and never close each other;
  a fact restating the same value closes nothing.
- **endings**: a statement that ends something ("I left Acme", "we broke up", "the trip is
  off", "I'm not allergic after all") closes the current facts it refers to: those of the
  attribute it names, and those that mention what it is about (or carry the ended relation:
  "boyfriend" after a wedding, "wife" after a divorce).
- **retractions** ("forget what I said about dairy") close what they name, or the most similar
  current fact, and are not stored.

Closed facts are kept, superseded with their validity interval, so "where did she live before?"
still finds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from hybrid_memory.attributes import family, single_valued
from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory.working_set import WorkingSet
from hybrid_memory.models import Ending, ExtractedFact, MemoryItem, MemoryKind, normalize_text
from stores.base import VectorStore

_GENERIC = {
    "plan", "plans", "trip", "thing", "idea", "the", "a", "an", "my", "our", "that", "this",
    "stuff", "part", "bit",
}  # fmt: skip
_CLOSABLE = ("state", "plan", None)


def when(item: MemoryItem | ExtractedFact) -> datetime | None:
    """The time a fact took effect."""
    return item.event_time or getattr(item, "created_at", None)


def _forms(word: str) -> set[str]:
    """A word and what it may be without a plural or third-person ending ("hikes" -> "hike",
    "dishes" -> "dish", "stories" -> "story")."""
    forms = {word}
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
        if word.endswith("es"):
            forms.add(word[:-2])
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
    return forms


def mentions(text: str, words: str) -> bool:
    """Whether ``text`` names ``words``: every one of its non-generic words, as whole words
    (singular or plural: "the hikes" is mentioned by "a long hike")."""
    wanted = [_forms(w) for w in normalize_text(words).split() if w not in _GENERIC]
    have: set[str] = set()
    for word in normalize_text(text).split():
        have |= _forms(word)
    return bool(wanted) and all(forms & have for forms in wanted)


def _shared_sources(a: Iterable[str], b: Iterable[str]) -> bool:
    return bool(set(a) & set(b))


def _sets_value(item: MemoryItem) -> bool:
    """A current state, or an event that set a value ("rented a flat in Bałuty": home)."""
    if item.aspect == "plan" or not single_valued(item.attribute):
        return False
    return item.aspect != "event" or item.value is not None


def conflicts(ws: WorkingSet, item: MemoryItem) -> list[MemoryItem]:
    """Current facts ``item`` (a new current fact) replaces: same subject, same single-valued
    attribute, another message, another value. Events that set the old value are closed with
    it: what they established is no longer current."""
    if not _sets_value(item):
        return []
    value = normalize_text(item.memory if item.value is None else item.value)
    out = []
    for other in ws.about(item.subject):
        if other.id == item.id or other.attribute != item.attribute or not _sets_value(other):
            continue
        if _shared_sources(other.sources, item.sources):
            continue
        if other.value is not None and normalize_text(other.value) == value:
            continue  # the same value said again
        out.append(other)
    return out


def _about_matches(item: MemoryItem, ending: Ending) -> bool:
    return bool(ending.about) and mentions(item.memory, ending.about or "")


def _cue_matches(item: MemoryItem, ending: Ending) -> bool:
    return any(mentions(item.memory, cue) for cue in ending.cues)


def _ended(item: MemoryItem, ending: Ending, subject: str | None) -> bool:
    """Whether ``ending`` (said about ``subject``) ends the current fact ``item``."""
    same_subject = (item.subject or "").casefold() == (subject or "").casefold()
    fam = family(item.attribute) if item.attribute else None
    if ending.attribute and fam == ending.attribute and same_subject:
        if not ending.about and not ending.cues:
            return item.aspect in _CLOSABLE
        if _about_matches(item, ending) or _cue_matches(item, ending):
            return True
        return bool(item.value and ending.about and mentions(ending.about, item.value))
    if _about_matches(item, ending) and (ending.cues and _cue_matches(item, ending)):
        return True  # "Ingrid's boyfriend Henrik stayed..." after "Henrik and I broke up"
    if item.aspect not in _CLOSABLE:
        return False
    if ending.about:
        return _about_matches(item, ending)
    return same_subject and _cue_matches(item, ending)


_GOES_WITH = {"employer": "job"}
"""Ending one attribute ends what was said with it: leaving an employer ends the role held
there ("I work as a nurse at Santa Maria" is over when "I left Santa Maria")."""


def ended(ws: WorkingSet, cand: ExtractedFact) -> list[MemoryItem]:
    """Current facts the endings of ``cand`` refer to (never facts of the same message)."""
    out: list[MemoryItem] = []
    if not cand.ends:
        return out
    current = [i for i in ws.about(None) if i.kind == MemoryKind.FACT]
    for ending in cand.ends:
        subject = ending.subject or cand.subject
        for item in current:
            if _shared_sources(item.sources, cand.sources):
                continue
            if item not in out and _ended(item, ending, subject):
                out.append(item)
    for target in list(out):
        with_it = _GOES_WITH.get(family(target.attribute or ""))
        for item in current:
            if (
                with_it
                and family(item.attribute or "") == with_it
                and item.subject == target.subject
                and item.aspect in _CLOSABLE
                and _shared_sources(item.sources, target.sources)
                and not _shared_sources(item.sources, cand.sources)
                and item not in out
            ):
                out.append(item)
    return out


def settle_ending(ws: WorkingSet, cand: ExtractedFact) -> None:
    """Name what an ending statement is about after the facts it ends, when they agree: their
    attribute when it names none ("it turns out I'm not lactose intolerant" ends
    ``health:lactose intolerant``), and their subject ("Benny passed away" ends Marek's
    ``pet:benny``: it is news about Marek's pets)."""
    if not cand.ends:
        return
    targets = ended(ws, cand)
    attributes = {t.attribute for t in targets if t.attribute}
    if cand.attribute is None and len(attributes) == 1:
        cand.attribute = attributes.pop()
    if cand.attribute:  # whose attribute it is: the facts of that attribute tell
        named = [t for t in targets if family(t.attribute or "") == family(cand.attribute)]
        targets = named or targets
    subjects = {t.subject for t in targets if t.subject}
    if len(subjects) == 1 and cand.subject not in subjects:
        cand.subject = subjects.pop()


class Retraction:
    """Finds what a retraction names; failing that, the most similar current fact."""

    def __init__(self, embedder: Embedder, vectors: VectorStore, threshold: float):
        self.embedder = embedder
        self.vectors = vectors
        self.threshold = threshold

    def targets(self, ws: WorkingSet, cand: ExtractedFact, vec: np.ndarray) -> list[MemoryItem]:
        named = ended(ws, cand)
        if named:
            return named
        about = " ".join(e.about for e in cand.ends if e.about) or cand.value
        if not about and not cand.attribute:
            return []  # "That was wrong": the correction that follows replaces the fact
        probe = self.embedder.embed_batch([about])[0] if about else vec
        facts = [
            i for i in ws.about(None)
            if i.kind == MemoryKind.FACT and not _shared_sources(i.sources, cand.sources)
            and (cand.attribute is None or family(i.attribute or "") == family(cand.attribute))
        ]  # fmt: skip
        vectors = self.vectors.get_vectors([i.id for i in facts])
        vectors.update({i: v for i, v in ws.planned.items() if i in {f.id for f in facts}})
        scored = [(float(np.dot(probe, vectors[f.id])), f) for f in facts if f.id in vectors]
        best = max(scored, key=lambda p: p[0], default=None)
        return [best[1]] if best and best[0] >= self.threshold else []


def newest_wins(
    item: MemoryItem, others: list[MemoryItem]
) -> tuple[list[MemoryItem], list[MemoryItem]]:
    """Split ``others`` into those ``item`` replaces (not newer than it) and those newer than
    it (then ``item`` itself is already a former value)."""
    start = when(item)
    older = [o for o in others if start is None or (when(o) or start) <= start]
    return older, [o for o in others if o not in older]
