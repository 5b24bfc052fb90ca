"""Canonical attribute facts: home, employer, job, partner, diet, health, pets, favourites...

The rules of :mod:`extractors.attribute_rules` read a value from a clause in the first person
("I moved to Boston" -> ``home = Boston``) and state it about the speaker ("Caroline lives in
Boston."). A clause about someone else ("Abena is a branch manager") is read the same way with
that person as the subject. The attribute names are the vocabulary of
:mod:`hybrid_memory.attributes`; whether one replaces another is decided in consolidation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import NamedTuple

from extractors.attribute_rules import JOB_IS, NOT_A_VALUE, RULES
from extractors.entities import FAMILY_NAMED, PET_NAMED
from extractors.lexicon import JOB_WORDS, NOT_JOBS, ROMANTIC, UPPER
from extractors.person import third_person
from hybrid_memory.attributes import favorite, single_valued


class Candidate(NamedTuple):
    """One attribute read from a clause."""

    attribute: str
    value: str
    text: str
    """The canonical statement ("" when the rule only names the clause's attribute)."""
    names: list[str]
    """Entities the value names, beyond those of the clause."""

    @property
    def single(self) -> bool:
        return single_valued(self.attribute)


def _clean_value(value: str) -> str:
    value = value.strip(" ,.'\"")
    return re.sub(r"\s+(?:now|too|as well|again|lately|recently|though)$", "", value)


# A value made of these words alone, or ending in one, names nothing: an elided object ("I love
# to."), a clause ("made me who I am") or a cut-off phrase ("joined a new LGBTQ group").
_FUNCTION_WORDS = frozenset(
    "a an the to of in on at for with by from about into as and or but so than this that these "
    "those it its them they he she him her his hers me my mine you your yours we us our ours "
    "their who whom whose which what where when why how there here some any all one ones own "
    "new such".split()
)
_DANGLING = _FUNCTION_WORDS - {"it", "them", "him", "her", "me", "you", "us", "mine", "yours",
                               "hers", "ours", "there", "here", "all", "one", "ones"}  # fmt: skip
_CLAUSE_START = frozenset("who whom whose which what where why how those these".split())


def hollow(value: str) -> bool:
    """Whether ``value`` names nothing a reader could use (see :data:`_FUNCTION_WORDS`)."""
    words = re.findall(r"[\w'’-]+", value.lower())
    return (
        not words
        or all(w in _FUNCTION_WORDS for w in words)
        or words[-1] in _DANGLING
        or words[0] in _CLAUSE_START
    )


def _article(value: str) -> str:
    return "an" if value[:1].lower() in "aeiou" else "a"


def _attribute(template: str, groups: dict[str, str | None], value: str) -> str:
    if template.startswith("favorite:"):
        return favorite(groups.get("k") or template.split(":", 1)[1])
    return template.format(v=value.lower(), k=groups.get("k") or "")


def _rule_candidates(clause: str, subject: str) -> Iterator[Candidate]:
    for pattern, attribute, template in RULES:
        for match in pattern.finditer(clause):
            groups = match.groupdict()
            value = _clean_value(groups.get("v") or "")
            if groups.get("v") is not None and (
                len(value) < 2 or NOT_A_VALUE.match(value) or hollow(value)
            ):
                continue
            fields = {**groups, "v": value, "s": subject, "a": _article(value)}
            words = value.split()
            fields["v3"] = " ".join([third_person(words[0]), *words[1:]]) if words else ""
            text = template.format(**{k: v or "" for k, v in fields.items()}) if template else ""
            named = [value] if value[:1].isupper() and not value.isdigit() else []
            yield Candidate(_attribute(attribute, groups, value), value, text, named)


def _job_candidates(clause: str, subject: str) -> Iterator[Candidate]:
    match = JOB_IS.search(clause)
    if not match:
        return
    words = match.group("v").split()
    # "a software engineer and ..." -> the longest prefix that ends in a job word
    for end in range(len(words), 0, -1):
        last = words[end - 1]
        if last in NOT_JOBS:
            continue
        if last in JOB_WORDS or (last.endswith(("ist", "ian")) and len(last) > 5):
            value = " ".join(words[:end])
            yield Candidate("job", value, f"{subject} works as {_article(value)} {value}.", [])
            return


# "I drive trucks", "I teach maths": the role a work verb and its object name.
_ROLE_OF_VERB = {
    "teach": "teacher", "drive": "driver", "write": "writer", "design": "designer",
    "bake": "baker", "edit": "editor", "coach": "coach", "train": "trainer", "fly": "pilot",
}  # fmt: skip
_ROLE = re.compile(
    r"\bI\s+(?:now\s+|currently\s+|still\s+)?(?P<verb>" + "|".join(_ROLE_OF_VERB) + r")\s+"
    r"(?P<obj>[a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)\s+(?:for|at)\s+"
)


_BACK_TO = re.compile(
    r"\bI(?:'ve|\s+have|'m|\s+am)?\s+(?:went|gone|go|going|am\s+going)\s+back\s+to\s+"
    r"(?P<gerund>[a-z]+ing)\b|\bI(?:'m|\s+am)\s+back\s+to\s+(?P<gerund2>[a-z]+ing)\b"
)
_ROLE_OF_GERUND = {
    "nursing": "nurse", "teaching": "teacher", "driving": "driver", "cooking": "cook",
    "coding": "programmer", "programming": "programmer", "writing": "writer",
    "designing": "designer", "baking": "baker", "farming": "farmer", "consulting": "consultant",
    "tutoring": "tutor", "coaching": "coach", "editing": "editor", "accounting": "accountant",
    "engineering": "engineer", "waitressing": "waitress", "bartending": "bartender",
}  # fmt: skip


def _singular(word: str) -> str:
    if word.endswith(("ches", "shes", "xes", "sses", "uses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "ics")):
        return word[:-1]
    return word


def _role_candidates(clause: str, subject: str) -> Iterator[Candidate]:
    back = _BACK_TO.search(clause)
    role = _ROLE_OF_GERUND.get(back.group("gerund") or back.group("gerund2")) if back else None
    if role:
        yield Candidate("job", role, f"{subject} works as {_article(role)} {role}.", [])
    match = _ROLE.search(clause)
    if not match:
        return
    role = _ROLE_OF_VERB[match.group("verb")]
    obj = match.group("obj").split()
    value = " ".join([*obj[:-1], _singular(obj[-1]), role]) if role != "pilot" else role
    yield Candidate("job", value, f"{subject} works as {_article(value)} {value}.", [])


_ABBREVIATION = re.compile(r"\b(?:Inc|Co|Ltd|Corp|Bros|St|Jr|Sr|[A-Z])\.$")
_JOB_THEN_PLACE = re.compile(
    r"\b(?:an?\s+)?(?:[a-z]+\s+){0,2}(?:"
    + "|".join(sorted(JOB_WORDS, key=len, reverse=True))
    + r")\b,?\s+(?:but\s+)?(?:now\s+)?at\s+(?:the\s+)?(?P<v>"
    + UPPER
    + r"[\w'’&.-]*(?:\s+"
    + UPPER
    + r"[\w'’&.-]*)*)"
)


def _workplace_candidates(clause: str, subject: str) -> Iterator[Candidate]:
    """ "still a vet nurse, but at Hospital Capibaribe now": where the person works."""
    match = _JOB_THEN_PLACE.search(clause)
    if match:
        value = match.group("v")
        if value.endswith(".") and not _ABBREVIATION.search(value):
            value = value[:-1]  # the sentence's full stop, not part of the name
        end = "" if value.endswith(".") else "."
        yield Candidate("employer", value, f"{subject} works at {value}{end}", [value])


def _relation_candidates(clause: str, subject: str) -> Iterator[Candidate]:
    for match in PET_NAMED.finditer(clause):
        kind = match.group("kind") or match.group("kind2")
        name = match.group("v") or match.group("v2")
        text = f"{subject} has a {kind} named {name}."
        yield Candidate(f"pet:{name.lower()}", name, text, [name])
    for match in FAMILY_NAMED.finditer(clause):
        rel, name = match.group("rel"), match.group("v")
        text = f"{subject}'s {rel} is {name}."
        attribute = "partner" if rel in ROMANTIC else f"family:{rel}:{name.lower()}"
        yield Candidate(attribute, name, text, [name])


def candidates(clause: str, subject: str) -> list[Candidate]:
    """Every attribute ``clause`` states about ``subject`` (in the first person), in rule order;
    the speaker's own name is not news."""
    found = chain(
        _rule_candidates(clause, subject),
        _job_candidates(clause, subject),
        _role_candidates(clause, subject),
        _workplace_candidates(clause, subject),
        _relation_candidates(clause, subject),
    )
    out: list[Candidate] = []
    for candidate in found:
        if candidate.value == subject:
            continue
        if all(c.text != candidate.text or not c.text for c in out):
            out.append(candidate)
    return out


def main_attribute(found: list[Candidate]) -> Candidate | None:
    """The attribute a whole clause is about: the first single-valued one, else the first."""
    return next((c for c in found if c.single), found[0] if found else None)
