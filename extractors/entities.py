"""Named entities of a message with a coarse type: person, place, organization, pet or other.

Pets and relatives are recognised from how they are introduced ("my dog Max", "my sister
Emma"); other capitalized names are typed from the lexicon (known places and companies,
organisation suffixes) and from the word before them ("in", "to", "visited" -> a place).
"""

from __future__ import annotations

import re

from extractors.lexicon import COMPANIES, FAMILY, ORG_SUFFIXES, PETS, PLACES, STOP_CAPITALIZED

_CAPITALIZED = re.compile(r"\b([A-Z][a-zA-Z'’-]+(?:\s+(?:of\s+)?[A-Z][a-zA-Z'’-]+)*)")
PET_NAMED = re.compile(
    r"\b(?:[Mm]y|[Oo]ur) (?P<kind>" + "|".join(sorted(PETS)) + r")(?:,)? (?:named |called )?"
    r"(?P<v>[A-Z][a-z]+)\b"
    r"|\b(?:a|an) (?P<kind2>" + "|".join(sorted(PETS)) + r") (?:named|called) (?P<v2>[A-Z][a-z]+)"
)
"""A named pet: ``kind``/``v`` ("my dog Max") or ``kind2``/``v2`` ("a cat named Luna")."""
FAMILY_NAMED = re.compile(
    r"\b[Mm]y (?P<rel>" + "|".join(sorted(FAMILY, key=len, reverse=True)) + r")(?:,)? "
    r"(?:is |named |called )?(?P<v>[A-Z][a-z]+)\b"
)
"""A named relative or acquaintance: ``rel`` and the name ``v`` ("my sister Emma")."""
_PLACE_PREPOSITIONS = ("in", "to", "from", "near", "visited", "visit")


def _name_words(raw: str) -> list[str]:
    """The words of a capitalized run, without possessive and capitalized stop words."""
    name = raw.strip("'’")
    if name.endswith("'s") or name.endswith("’s"):
        name = name[:-2]
    words = name.split()
    while words and words[0] in STOP_CAPITALIZED:
        words = words[1:]
    while words and words[-1] in STOP_CAPITALIZED:
        words = words[:-1]
    return words


def _capitalized_type(
    name: str, words: list[str], before: list[str], speaker: str | None
) -> str | None:
    """The type of a capitalized name given the words ``before`` it; None when not a name."""
    prev = before[-1].lower() if before else ""
    if name in PLACES or (prev in _PLACE_PREPOSITIONS and len(words) <= 3):
        return "place"
    if any(w in ORG_SUFFIXES for w in words) or name in COMPANIES:
        return "organization"
    if len(words) == 1 and (not before or before[-1][-1:] in ".!?:"):
        # A capitalized word that only starts a sentence ("Perfect.", "Big news") is not a
        # name unless it is the speaker.
        return "person" if name == speaker else None
    return "person" if len(words) <= 2 else "other"


def entities(text: str, speaker: str | None) -> dict[str, str]:
    """Named entities of ``text`` with a coarse type, in order of discovery."""
    found: dict[str, str] = {}
    for match in PET_NAMED.finditer(text):
        name = match.group("v") or match.group("v2")
        if name:
            found[name] = "pet"
    for match in FAMILY_NAMED.finditer(text):
        found.setdefault(match.group("v"), "person")
    for match in _CAPITALIZED.finditer(text):
        words = _name_words(match.group(1))
        if not words:
            continue
        name = " ".join(words)
        if name in found or len(name) < 2:
            continue
        before = text[: match.start()].rstrip().split()
        etype = _capitalized_type(name, words, before, speaker)
        if etype is not None:
            found[name] = etype
    if speaker and speaker in text:
        found.setdefault(speaker, "person")
    return found
