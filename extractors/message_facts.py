"""Facts a message states across its sentences.

- someone introduced after the news ("I've been seeing someone new. Priya, she's a vet"):
  the speaker's partner;
- a pet named in the sentence after its adoption ("We adopted a cat! Grey rescue girl called
  Kinako."): the speaker's pet;
- a pet named in apposition ("Sadie keeps me going, my old Jack Russell");
- a home got, bought or rented ("escaped the HSR flat, got a 1BHK in Indiranagar"), or given
  as a bare phrase in a message about moving ("we've been here since November,
  flat in Baner"; "we got the keys, small apartment in Madalena"): where the speaker lives.

Each is ``(attribute, value, canonical statement with {s} for the speaker)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from extractors.attribute_rules import HOMES
from extractors.lexicon import PETS, STOP_CAPITALIZED, UPPER

_NAME = r"(?P<v>" + UPPER + r"[\w'’-]+)"
_PLACE = r"(?P<v>" + UPPER + r"[\w'’-]+(?:\s+" + UPPER + r"[\w'’-]+)?)"
_INTRODUCED = re.compile(
    r"\bI(?:'ve| have|'m| am)(?: met| been seeing| been dating| seeing| dating) someone"
    r"(?: new)?[^\w]{0,8}\s*" + _NAME
)
_ADOPTED_PET = re.compile(
    r"\b(?:adopted|got|rescued|brought\s+home|I've|I\s+have|we've|we\s+have)\s+(?:a|an)\s+"
    r"[^.!?]{0,40}?\b(?P<kind>"
    + "|".join(sorted(PETS, key=len, reverse=True))
    + r")\b[^?]{0,80}?\b(?:called|named)\s+"
    + _NAME
)
_PET_KINDS = "|".join(sorted(PETS, key=len, reverse=True))
_PET_APPOSITION = re.compile(
    r"(?:^|[.!?]\s+)" + _NAME + r"\b[^.!?]{0,40},\s+(?:my|our)\s+(?:(?:old|little|new|sweet|"
    r"beloved)\s+)?(?P<kind>(?i:" + _PET_KINDS + r"))\b"
)
_MOVED = re.compile(
    r"\b(?:moved|moving|move\s+in|got\s+the\s+keys|been\s+here\s+since|new\s+(?:place|flat|home|"
    r"house|apartment)|settled\s+in)\b",
    re.I,
)
_HOME_PHRASE = re.compile(r"\b" + HOMES + r"\s+(?:in|outside|near)\s+" + _PLACE)
_NEW_HOME = re.compile(
    r"\b(?:got|bought|rented|found|into|renting|in)\s+(?:a|an|the|my|our)\s+(?:[\w-]+\s+){0,3}?"
    + HOMES
    + r"\s+(?:in|outside|near)\s+"
    + _PLACE
)
_GIVEN_UP = re.compile(
    r"\b(?:sold|left|gave\s+up|moved\s+out\s+of|selling|leaving)\b[^,.;]{0,25}$", re.I
)


def message_facts(content: str) -> Iterator[tuple[str, str, str]]:
    """The facts ``content`` states across sentences (see the module docstring)."""
    for match in _INTRODUCED.finditer(content):
        if match.group("v") not in STOP_CAPITALIZED:
            yield "partner", match.group("v"), "{s} is seeing " + match.group("v") + "."
    pets = [*_ADOPTED_PET.finditer(content), *_PET_APPOSITION.finditer(content)]
    for match in pets:  # a sentence's first word is no name ("Also, my dog Biscuit...")
        name, kind = match.group("v"), match.group("kind").lower()
        if name not in STOP_CAPITALIZED:
            yield f"pet:{name.lower()}", name, "{s} has a " + kind + " named " + name + "."
    # the home moved to, not the one left ("sold the house in X and bought a cottage in Y")
    homes = [m for m in _NEW_HOME.finditer(content) if not _GIVEN_UP.search(content[: m.start()])]
    if not homes and _MOVED.search(content):
        homes = [
            m for m in _HOME_PHRASE.finditer(content) if not _GIVEN_UP.search(content[: m.start()])
        ]
    if homes:
        yield "home", homes[-1].group("v"), "{s} lives in " + homes[-1].group("v") + "."
