"""Who a clause is about, and who "we" is.

A clause in the first person is about the speaker. A clause that opens with someone the
conversation has named ("Abena is a branch manager", "She's a nurse" right after naming
Agnieszka) is about that person, and is read by the same attribute rules once turned into the
first person. "We" is the speaker and the person the message pairs them with ("Diego and I",
"my wife Abena"), when it does.
"""

from __future__ import annotations

import re

from extractors.entities import FAMILY_NAMED, people_in
from extractors.lexicon import ROMANTIC, UPPER

_FIRST_PERSON = re.compile(
    r"\b(?:I|I'm|I've|I'd|I'll|me|my|mine|myself|we|we're|we've|we'd|our|us)\b", re.I
)
_PAIR = re.compile(
    r"\b(?P<a>" + UPPER + r"[\w'’-]+)\s+and\s+I\b|\bI\s+and\s+(?P<b>" + UPPER + r"[\w'’-]+)\b"
)
_PRONOUN_START = re.compile(r"^(?:He|She)(?:'s|\s+)")
_INTRODUCED = re.compile(
    r"\b(?:met|seeing|dating)\s+someone(?:\s+new)?[^\w]{0,8}\s*(?P<v>" + UPPER + r"[\w'’-]+)"
)
_SUBJECT_VERB = {"is": "am", "'s": "'m", "has": "have", "was": "was", "does": "do"}


def companion(content: str, speaker: str | None, entities: dict[str, str]) -> str | None:
    """Who "we" is besides the speaker: the person paired with "I", someone just introduced, a
    partner named in the message, else the one person the message names; None otherwise."""
    introduced = _INTRODUCED.search(content)
    if introduced:
        return introduced.group("v")
    pair = _PAIR.search(content)
    if pair:
        name = pair.group("a") or pair.group("b")
        if name != speaker and entities.get(name, "person") == "person":
            return name
    for match in FAMILY_NAMED.finditer(content):
        if match.group("rel") in ROMANTIC:
            return match.group("v")
    # Otherwise the one person the message names, when it gives reason to take the name for a
    # person ("we did it at Casa Cortés" names a place, "we lost Bingo" whom we lost).
    named = [n for n, t in entities.items() if t == "person" and n != speaker]
    evident = set(people_in(content, speaker))
    return named[0] if len(named) == 1 and named[0] in evident else None


def _leading_person(clause: str, people: list[str]) -> str | None:
    for name in people:
        if re.match(re.escape(name) + r"(?:'s\s|\s+(?!and\s+I\b))", clause):
            return name
    if _PRONOUN_START.match(clause) and people:
        return people[0]
    return None


def clause_subject(clause: str, speaker: str, people: list[str]) -> str | None:
    """The person ``clause`` is about: someone named at its start (or "he"/"she" for the last
    person named), else the speaker when it is in the first person, else None."""
    leading = _leading_person(clause, people)
    if leading is not None:
        return leading
    return speaker if _FIRST_PERSON.search(clause) else None


def as_first_person(clause: str, subject: str | None, speaker: str) -> str:
    """``clause`` with its third-person subject turned into "I", so that the first-person
    attribute rules read it ("Abena is a branch manager" -> "I am a branch manager")."""
    if not subject or subject == speaker:
        return clause
    pattern = r"^(?:" + re.escape(subject) + r"|He|She)(?:'s\b|\s+(?P<verb>[a-z']+))"
    match = re.match(pattern, clause)
    if not match:
        return clause
    verb = match.group("verb")
    if verb is None:  # "She's a nurse"
        return "I'm" + clause[match.end() :]
    first = _SUBJECT_VERB.get(verb)
    if first is None:
        first = verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb
    return f"I {first}" + clause[match.end() :]
