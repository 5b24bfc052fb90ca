"""Whether a clause states something true now, something that happened, or an intention.

- ``state``: "I live in Oslo", "I'm renting a flat", "I've been vegan since January": true now,
  until a newer statement says otherwise (consolidation replaces or ends it);
- ``event``: "I moved to Oslo in May", "We lost Bingo", "I was promoted": it happened, and it
  stays true as history (never replaced by a newer value);
- ``plan``: "I'm going to...", "we'd love to get a cat", "the wedding is planned for November":
  an intention, which a later statement can fulfil or call off.

A tense heuristic over the clause as it was said (first person), not a parser: good enough to
keep events out of the "current value" machinery.
"""

from __future__ import annotations

import re
from typing import Literal

from extractors.lexicon import IRREGULAR_PAST

Aspect = Literal["state", "event", "plan"]

_FUTURE = re.compile(
    r"\b(?:will|'ll|shall|(?<!been )going to(?!\s+(?:the|a|an)\b)|gonna|plan to|"
    r"plans to|planning|hoping to|hope to|"
    r"want to|wants to|wanna|would love to|'d love to|would like to|'d like to|intend to|"
    r"about to|is planned|are planned|planned for|next (?:week|month|year|spring|summer|"
    r"autumn|fall|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"tomorrow|soon|one day)\b",
    re.I,
)
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?", re.I)
_PRONOUNS = {"i", "we", "you", "he", "she", "they", "it"}
_AUX = set(
    "am is are was were have has had do does did will would can could should may might must".split()
)
_CONTRACTIONS = {"m": "am", "s": "is", "re": "are", "ve": "have", "d": "would", "ll": "will"}
_STATE_PERFECT = {"become", "grown", "gotten"}
_NOT_VERBS = {"need", "indeed", "bed", "red", "seed", "speed", "feed", "weed", "united"}


def _verb_group(clause: str) -> list[str]:
    """The words from the clause's first verb on (skipping the subject and adverbs)."""
    words = [w.lower() for w in _TOKEN.findall(clause)]
    for i, word in enumerate(words):
        if "'" in word:  # i'm, we've, she's, ingrid's (a possessive is not a verb)
            head, _, tail = word.partition("'")
            if tail in _CONTRACTIONS and (head in _PRONOUNS or tail != "s"):
                return [_CONTRACTIONS[tail], *words[i + 1 :]]
            continue
        past = word in IRREGULAR_PAST or (
            word.endswith("ed") and len(word) > 3 and word not in _NOT_VERBS
        )
        if word in _AUX or past or (i and words[i - 1] in _PRONOUNS and not word.endswith("ly")):
            return words[i:]
    return []


def _perfect(rest: list[str], clause: str) -> Aspect:
    """After have/has: "have been ... since" and "has become" are states; else an event."""
    if not rest:
        return "state"
    if rest[0] == "been":
        return "state"
    if rest[0] in _STATE_PERFECT:
        return "state"
    if rest[0].endswith("ed") or rest[0] in IRREGULAR_PAST or rest[0] in ("met", "gone"):
        return "event"
    return "state"  # "I have a rabbit"


def aspect(clause: str) -> Aspect:
    """``state``, ``event`` or ``plan`` for one clause (see the module docstring)."""
    if _FUTURE.search(clause):
        return "plan"
    group = _verb_group(clause)
    if not group:
        return "state"
    verb, rest = group[0], group[1:]
    if verb in ("was", "were", "did", "had"):
        return "event"
    if verb in ("have", "has"):
        return _perfect(rest, clause)
    if verb in _AUX - {"was", "were", "did", "had", "have", "has"}:
        return "state"
    if verb in IRREGULAR_PAST or (verb.endswith("ed") and len(verb) > 3):
        return "event"
    return "state"
