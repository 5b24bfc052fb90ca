"""Canonical attribute facts: home, employer, job, diet, likes, plans, pets, family...

Each rule of the table reads one attribute from a first-person sentence ("I moved to Boston" ->
``home = Boston``) and writes it as a fact about the speaker ("Caroline lives in Boston.");
single-valued attributes are the ones a newer value replaces in consolidation. Retractions ("I
don't work there anymore", "forget that ...") name the attribute they take back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import NamedTuple

from extractors.entities import FAMILY_NAMED, PET_NAMED
from extractors.lexicon import JOB_WORDS
from hybrid_memory.models import ExtractedFact

_V = r"(?P<v>[A-Z][\w'’&.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’&.-]*)*)"
_ATTRIBUTE_RULES: list[tuple[re.Pattern[str], str, bool, str]] = [
    # (pattern over the original first-person sentence, attribute, single-valued, template)
    (
        re.compile(r"\bI (?:now |currently |still )?(?:live|am living|'m living) in " + _V),
        "home",
        True,
        "{s} lives in {v}.",
    ),
    (
        re.compile(r"\bI(?: just| recently| finally)? moved (?:back )?(?:to|into) " + _V),
        "home",
        True,
        "{s} lives in {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:from|originally from) " + _V),
        "hometown",
        True,
        "{s} is from {v}.",
    ),
    (
        re.compile(r"\bI (?:now |currently |still )?work (?:at|for) " + _V),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI(?: \w+ly| also| just| finally)? (?:started|got|began|took|landed) "
            r"(?:a |my |the )?(?:new )?(?:job|position|role|internship)(?: as an? "
            r"[\w -]+?)? (?:at|with|for) " + _V
        ),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI(?: \w+ly| also| just| finally)? (?:started|got|began|took|landed) "
            r"(?:a |my |the )?(?:new )?(?:job|position|role) as an? "
            r"(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]| at | for | with |$)"
        ),
        "job",
        True,
        "{s} works as a {v}.",
    ),
    (
        re.compile(r"\bI(?: \w+ly| also| just| finally)? started working (?:at|for) " + _V),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI (?:now |currently )?work as an? (?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]| at "
            r"| for | in |$)"
        ),
        "job",
        True,
        "{s} works as a {v}.",
    ),
    (re.compile(r"\b[Mm]y name is " + _V), "name", True, "{s}'s name is {v}."),
    (
        re.compile(r"\bI(?:'m| am) (?P<v>\d{1,3}) (?:years old|yo)\b"),
        "age",
        True,
        "{s} is {v} years old.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:now )?(?P<v>married|single|engaged|divorced|widowed)\b"),
        "relationship_status",
        True,
        "{s} is {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:a )?(?P<v>vegetarian|vegan|pescatarian)\b"),
        "diet",
        True,
        "{s} is {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) allergic to (?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| and | but )"),
        "allergy",
        False,
        "{s} is allergic to {v}.",
    ),
    (
        re.compile(
            r"\bI (?:was |have been |got )?diagnosed with (?P<v>[\w ,'-]{2,60}?)"
            r"(?=[.!;]|$| and | but | in )"
        ),
        "health",
        False,
        "{s} was diagnosed with {v}.",
    ),
    (
        re.compile(
            r"\bI (?:really |absolutely )?(?:love|like|enjoy|adore) (?P<v>[\w ,'-]{2,60}?)"
            r"(?=[.!;]|$| and | but | because | so )"
        ),
        "likes",
        False,
        "{s} likes {v}.",
    ),
    (
        re.compile(
            r"\bI (?:really )?(?:hate|dislike|can't stand|do not like|don't like) "
            r"(?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| and | but | because )"
        ),
        "dislikes",
        False,
        "{s} dislikes {v}.",
    ),
    (
        re.compile(
            r"\b[Mm]y (?:favou?rite) (?P<k>[a-z]+(?: [a-z]+)?) (?:is|are) (?P<v>[\w ,'&-]{2,60}?)"
            r"(?=[.!;]|$| and | but | because )"
        ),
        "favorite_{k}",
        True,
        "{s}'s favorite {k} is {v}.",
    ),
    (
        re.compile(
            r"\bI(?:'m| am) (?:going|planning|hoping|about) to (?P<v>[\w ,'-]{3,80}?)"
            r"(?=[.!;]|$| because | but )"
        ),
        "plans",
        False,
        "{s} plans to {v}.",
    ),
    (
        re.compile(
            r"\bI (?:plan|want|intend|hope) to (?P<v>[\w ,'-]{3,80}?)(?=[.!;]|$| because "
            r"| but )"
        ),
        "plans",
        False,
        "{s} plans to {v}.",
    ),
    (
        re.compile(
            r"\bI(?:'m| am) (?:studying|majoring in) (?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| at "
            r"| and | but )"
        ),
        "education",
        False,
        "{s} studies {v}.",
    ),
    (re.compile(r"\bI graduated from " + _V), "education", False, "{s} graduated from {v}."),
]
_JOB_IS = re.compile(r"\bI(?:'m| am) (?:now )?an? (?P<v>(?:[a-z-]+ ){0,2}[a-z-]+)\b")
_RETRACTIONS: list[tuple[re.Pattern[str], str | None]] = [
    # (pattern, the attribute taken back or None when the sentence does not say)
    (re.compile(r"\bI (?:don't|do not|no longer) work (?:at|for) " + _V), "employer"),
    (re.compile(r"\bI (?:quit|left) (?:my job(?: at " + _V + r")?)"), "employer"),
    (re.compile(r"\bI (?:don't|do not|no longer) work (?:there|at that place)\b"), "employer"),
    (re.compile(r"\bI (?:don't|do not|no longer) live in " + _V), "home"),
    (
        re.compile(r"\bI(?:'m| am) (?:not|no longer) (?:a )?(?P<v>vegetarian|vegan|pescatarian)"),
        "diet",
    ),
    (re.compile(r"\bI(?:'m| am) (?:not|no longer) (?P<v>married|engaged)"), "relationship_status"),
    (re.compile(r"\bforget (?:that|what I said about|about) (?P<v>.{3,200})", re.IGNORECASE), None),
]
_NOT_A_VALUE = re.compile(
    r"^(?:is|are|was|were|it|that|this|to see|to hear|how|when|what|the way|you|your|him|her|"
    r"them|seeing|hearing|that you|it when)\b",
    re.IGNORECASE,
)


class Retraction(NamedTuple):
    """What a sentence takes back: the attribute (None when unnamed) and the value, if said."""

    attribute: str | None
    value: str | None


class _Candidate(NamedTuple):
    attribute: str
    value: str
    single: bool
    text: str
    names: list[str]  # entities the value names, beyond those of the sentence


def _clean_value(value: str) -> str:
    value = value.strip(" ,.'\"")
    value = re.sub(r"\s+(?:now|too|as well|again|lately|recently)$", "", value)
    return value


def find_retraction(sentence: str) -> Retraction | None:
    """The retraction ``sentence`` makes (the first rule that matches), or None."""
    for pattern, attribute in _RETRACTIONS:
        match = pattern.search(sentence)
        if match:
            value = _clean_value(match.groupdict().get("v") or "") or None
            return Retraction(attribute, value)
    return None


def _rule_candidates(sentence: str, speaker: str) -> Iterator[_Candidate]:
    for pattern, attribute, single, template in _ATTRIBUTE_RULES:
        for match in pattern.finditer(sentence):
            groups = match.groupdict()
            value = _clean_value(groups["v"])
            if not value or len(value) < 2 or _NOT_A_VALUE.match(value):
                continue
            key = groups.get("k")
            attr = attribute.format(k=key.replace(" ", "_")) if key else attribute
            text = template.format(s=speaker, v=value, k=key or "")
            named = [value] if value[:1].isupper() else []
            yield _Candidate(attr, value, single, text, named)


def _job_candidates(sentence: str, speaker: str) -> Iterator[_Candidate]:
    match = _JOB_IS.search(sentence)
    if not match:
        return
    words = match.group("v").split()
    # "a software engineer and ..." -> the longest prefix that ends in a job word
    for end in range(len(words), 0, -1):
        last = words[end - 1]
        if last in JOB_WORDS or (last.endswith(("ist", "ian")) and len(last) > 5):
            value = " ".join(words[:end])
            yield _Candidate("job", value, True, f"{speaker} works as a {value}.", [])
            return


def _relation_candidates(sentence: str, speaker: str) -> Iterator[_Candidate]:
    for match in PET_NAMED.finditer(sentence):
        kind = match.group("kind") or match.group("kind2")
        name = match.group("v") or match.group("v2")
        text = f"{speaker} has a {kind} named {name}."
        yield _Candidate(f"pet:{name.lower()}", name, False, text, [name])
    for match in FAMILY_NAMED.finditer(sentence):
        rel, name = match.group("rel"), match.group("v")
        text = f"{speaker}'s {rel} is {name}."
        yield _Candidate(f"family:{rel}:{name.lower()}", name, False, text, [name])


def attribute_facts(
    sentence: str,
    speaker: str | None,
    *,
    sources: list[str],
    event_time: datetime | None,
    entities: Sequence[str],
    seen: set[str],
    retracted: set[str],
) -> list[ExtractedFact]:
    """The attribute, pet and family facts of one first-person ``sentence`` of ``speaker``.

    ``seen`` holds the fact texts already produced for the message (updated here, so a fact is
    produced once); attributes in ``retracted`` were taken back earlier in the message and are
    not asserted again.
    """
    if not speaker:
        return []
    out: list[ExtractedFact] = []
    candidates = chain(
        _rule_candidates(sentence, speaker),
        _job_candidates(sentence, speaker),
        _relation_candidates(sentence, speaker),
    )
    for candidate in candidates:
        if candidate.attribute in retracted or candidate.text in seen:
            continue
        seen.add(candidate.text)
        out.append(
            ExtractedFact(
                text=candidate.text,
                subject=speaker,
                attribute=candidate.attribute,
                value=candidate.value,
                single_valued=candidate.single,
                speaker=speaker,
                sources=sources,
                event_time=event_time,
                entities=list(dict.fromkeys([*entities, *candidate.names])),
                importance=0.9,
            )
        )
    return out
