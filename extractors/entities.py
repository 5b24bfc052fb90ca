"""Named entities of a message with a coarse type: person, place, organization, pet or other.

Pets and relatives are recognised from how they are introduced ("my dog Max", "my sister
Emma"); other capitalized names are typed from the lexicon (known places and companies,
organisation suffixes) and from the word before them ("in", "to", "visited" -> a place).
"""

from __future__ import annotations

import re

from extractors.lexicon import (
    COMPANIES,
    FAMILY,
    NAME_JOINERS,
    ORG_SUFFIXES,
    PETS,
    PLACES,
    STOP_CAPITALIZED,
    UPPER,
)

_CAPITALIZED = re.compile(
    r"\b(" + UPPER + r"[\w'’-]+(?:\s+(?:" + NAME_JOINERS + r"\s+)?" + UPPER + r"[\w'’-]+)*)"
)
PET_NAMED = re.compile(
    r"\b(?:[Mm]y|[Oo]ur) (?P<kind>" + "|".join(sorted(PETS)) + r")(?:,)? (?:named |called )?"
    r"(?P<v>" + UPPER + r"\w+)\b"
    r"|\b(?:a|an) (?P<kind2>"
    + "|".join(sorted(PETS))
    + r") (?:named|called) (?P<v2>"
    + UPPER
    + r"\w+)"
)
"""A named pet: ``kind``/``v`` ("my dog Max") or ``kind2``/``v2`` ("a cat named Luna")."""
PET_NAMED_LATER = re.compile(
    r"\b(?:"
    + "|".join(sorted(PETS))
    + r")\b[^?]{0,80}?\b(?:named|called)\s+(?P<v>"
    + UPPER
    + r"\w+)"
)
"""A pet named just after it is mentioned ("a kitten from the shelter, a tiny menace called
Churro", "We adopted a cat! Grey rescue girl called Kinako")."""
PET_APPOSED = re.compile(
    r"(?:^|[.!?]\s+)(?P<v>" + UPPER + r"\w+)\b[^.!?]{0,40},\s+(?:my|our)\s+"
    r"(?:(?:old|little|new|sweet)\s+)?"
    r"(?i:" + "|".join(sorted(PETS, key=len, reverse=True)) + r")\b"
)
"""A pet named before it is described ("Sadie keeps me going, my old Jack Russell")."""
FAMILY_NAMED = re.compile(
    r"\b[Mm]y (?P<rel>" + "|".join(sorted(FAMILY, key=len, reverse=True)) + r")(?:,)? "
    r"(?:is |named |called )?(?P<v>" + UPPER + r"\w+)\b"
)
"""A named relative or acquaintance: ``rel`` and the name ``v`` ("my sister Emma")."""
_PLACE_PREPOSITIONS = ("in", "to", "from", "near", "visited", "visit")
# "the garden of X", "the terrace at X": a name after a place of this kind is a place.
_PLACE_NOUNS = {
    "garden", "gardens", "church", "chapel", "cathedral", "hall", "park", "beach", "terrace",
    "rooftop", "courtyard", "castle", "venue", "square", "street", "streets", "island",
}  # fmt: skip
# Words around a name that make it an organisation: "work at X", "joined X", "X hospital",
# "X matches" (a team), "my bakery, X".
_ORG_BEFORE = re.compile(
    r"\b(?:work(?:s|ed|ing)?\s+(?:at|for)|teach(?:es|ing)?\s+\w*\s*at|job\s+(?:at|with)|"
    r"joined|hired\s+by|employed\s+by|"
    r"drive\s+\w+\s+for|(?:bakery|shop|company|business|restaurant|cafe|café|studio|band|team),)"
    r"\s*$",
    re.I,
)
_ORG_AFTER = re.compile(
    r"^\s+(?:hospital|school|university|college|bank|clinic|hotel|library|office|museum|"
    r"restaurant|bakery|matches|games|fans|orchestra|band|fc|inc|ltd)\b",
    re.I,
)
# A name that opens a sentence is a person when a person's verb follows ("Abena retired").
_PERSON_VERB = re.compile(
    r"^(?:\s+(?:retired|proposed|died|passed away|moved in|got (?:a job|married|engaged|promoted)|"
    r"says|said|is (?:a|an|my|our|his|her) |was (?:a|an|my|our)|and I\b|told me|asked me|invited|"
    r"started (?:as|at|working|a new)|began (?:as|at|working)|joined|left (?:the|her|his|their)|"
    r"quit (?:her|his|the)|works (?:at|as|for)|lives (?:in|with)|defended|graduated|became|"
    r"moved (?:to|in|out)|opened (?:her|his|a)|is (?:doing|working|studying|teaching))|"
    r",\s+(?:she|he)\b)",
)
_PERSON_BEFORE = re.compile(
    r"\b(?:met|seeing|dating|with|married|named|called|wife|husband|boyfriend|girlfriend|partner|"
    r"fianc[ée]e?|sister|brother|mom|mum|dad|son|daughter|friend|someone[:.,]?)\s*$",
    re.I,
)
_PERSON_PAIR = re.compile(
    r"\b(" + UPPER + r"[\w'’-]+)\s+and\s+I\b|\bI\s+and\s+(" + UPPER + r"[\w'’-]+)\b"
)


def _name_words(raw: str) -> list[str]:
    """The words of a capitalized run, without possessive and capitalized stop words."""
    name = raw.strip("'’")
    if name.endswith("'s") or name.endswith("’s"):
        name = name[:-2]
    words = name.split()
    while words and re.sub(r"['’]\w+$", "", words[0]) in STOP_CAPITALIZED:  # "How's Diego"
        words = words[1:]
    while words and words[-1] in STOP_CAPITALIZED:
        words = words[:-1]
    return words


def _capitalized_type(
    name: str, words: list[str], before: list[str], speaker: str | None, after: str = ""
) -> str | None:
    """The type of a capitalized name given the words ``before`` it (and the text ``after``
    it); None when not a name."""
    prev = before[-1].lower() if before else ""
    if any(w in ORG_SUFFIXES for w in words) or name in COMPANIES or _ORG_AFTER.match(after):
        return "organization"
    if _ORG_BEFORE.search(" ".join(before[-4:])):
        return "organization"
    if name in PLACES or (prev in _PLACE_PREPOSITIONS and len(words) <= 3):
        return "place"
    if prev in ("of", "at") and len(before) > 1 and before[-2].lower() in _PLACE_NOUNS:
        return "place"
    if len(words) == 1 and (not before or before[-1][-1:] in ".!?:"):
        # A capitalized word that only starts a sentence ("Perfect.", "Big news") is not a
        # name unless it is the speaker or a person's verb follows ("Abena retired...").
        return "person" if name == speaker or _PERSON_VERB.match(after) else None
    return "person" if len(words) <= 2 else "other"


def people_in(text: str, speaker: str | None) -> list[str]:
    """Names ``text`` gives good reason to take for people (or pets), in order: named with a
    relation ("my sister Kari"), paired with "I", followed by a person's verb ("Abena retired"),
    or introduced ("met someone. Agnieszka")."""
    found: list[str] = []
    for match in PET_NAMED.finditer(text):
        found.append(match.group("v") or match.group("v2"))
    for pattern in (PET_NAMED_LATER, PET_APPOSED):
        found.extend(
            m.group("v") for m in pattern.finditer(text) if m.group("v") not in STOP_CAPITALIZED
        )
    for match in FAMILY_NAMED.finditer(text):
        found.append(match.group("v"))
    for match in _PERSON_PAIR.finditer(text):
        before = text[: match.start()].rstrip().split()
        if not before or before[-1].lower() not in (*_PLACE_PREPOSITIONS, "at", "of"):
            found.append(match.group(1) or match.group(2))
    for match in _CAPITALIZED.finditer(text):
        words = _name_words(match.group(1))
        if len(words) == 1 and (
            _PERSON_VERB.match(text[match.end() :]) or _PERSON_BEFORE.search(text[: match.start()])
        ):
            found.append(words[0])
    return [n for n in dict.fromkeys(found) if n and n != speaker and n not in STOP_CAPITALIZED]


def entities(text: str, speaker: str | None) -> dict[str, str]:
    """Named entities of ``text`` with a coarse type, in order of discovery."""
    found: dict[str, str] = {}
    for match in PET_NAMED.finditer(text):
        name = match.group("v") or match.group("v2")
        if name:
            found[name] = "pet"
    for pattern in (PET_NAMED_LATER, PET_APPOSED):
        for match in pattern.finditer(text):
            if match.group("v") not in STOP_CAPITALIZED:
                found.setdefault(match.group("v"), "pet")
    for match in FAMILY_NAMED.finditer(text):
        found.setdefault(match.group("v"), "person")
    for match in _PERSON_PAIR.finditer(text):  # "Henrik and I" names a person
        name = match.group(1) or match.group(2)
        before = text[: match.start()].rstrip().split()
        if before and before[-1].lower() in (*_PLACE_PREPOSITIONS, "at", "of"):
            continue  # "I live in Lisbon and I work...": a place
        if name not in STOP_CAPITALIZED:
            found.setdefault(name, "person")
    for match in _CAPITALIZED.finditer(text):
        words = _name_words(match.group(1))
        if not words:
            continue
        name = " ".join(words)
        if name in found or len(name) < 2:
            continue
        before = text[: match.start()].rstrip().split()
        etype = _capitalized_type(name, words, before, speaker, text[match.end() :])
        if etype is not None:
            found[name] = etype
    if speaker and speaker in text:
        found.setdefault(speaker, "person")
    return found
