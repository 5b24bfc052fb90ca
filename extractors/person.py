"""First and second person rewriting: a speaker's sentence as a self-contained statement.

"I really love hiking with you" said by Ana to Ben becomes "Ana really loves hiking with Ben":
pronouns are replaced by names and the first verb after "I" is conjugated for the third person.
Leading interjections ("Oh wow, ", "Good, ") are stripped before a sentence becomes a fact.
"""

from __future__ import annotations

import re

from extractors.lexicon import IRREGULAR_PAST, MODALS

# Adverbs that may sit between "I" and its verb ("I really love"), so the verb is still found.
_ADVERBS = {
    "really",
    "also",
    "just",
    "always",
    "never",
    "often",
    "usually",
    "still",
    "recently",
    "finally",
    "actually",
    "now",
    "sometimes",
    "already",
    "even",
    "only",
    "mostly",
    "totally",
    "definitely",
    "absolutely",
    "truly",
    "seriously",
    "generally",
    "rarely",
    "probably",
}
_I_VERB = re.compile(r"\bI((?:\s+(?:" + "|".join(sorted(_ADVERBS)) + r"))*)\s+([a-z][a-z']*)\b")
_INTERJECTION = re.compile(
    r"^(?:(?:yes|yeah|yep|no|nope|oh|wow|well|so|and|but|also|btw|haha|lol|hey|ok|okay|"
    r"omg|aw+|ah|hmm+|honestly|actually|anyway|sure|totally|right)\b[\s,!.:;-]*)+",
    re.IGNORECASE,
)
_EXCLAMATION = re.compile(
    r"^(?:good|great|nice|cool|awesome|perfect|thanks|sweet|amazing|wonderful|big news|"
    r"guess what|fun fact|update)[,!.:]\s*",
    re.IGNORECASE,
)
_THIRD_PERSON_SPECIAL = {
    "am": "is",
    "have": "has",
    "do": "does",
    "don't": "doesn't",
    "go": "goes",
    "haven't": "hasn't",
    "wasn't": "wasn't",
}


def _third_person(verb: str) -> str:
    """``verb`` as it follows "she": "love" -> "loves"; past, modal and negated forms stay."""
    low = verb.lower()
    past = low.endswith("ed") and not low.endswith("eed")
    negated = low.endswith(("s", "n't")) and low not in ("don't", "haven't")
    if low in MODALS or low in IRREGULAR_PAST or past or negated:
        return verb
    if low in _THIRD_PERSON_SPECIAL:
        return _THIRD_PERSON_SPECIAL[low]
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    if re.search(r"(ch|sh|x|z|o)$", low):
        return verb + "es"
    return verb + "s"


def _rewrite_first_person(text: str, s: str, addressee: str | None) -> str:
    text = re.sub(r"\bI'm\b", f"{s} is", text)
    text = re.sub(r"\bI've\b", f"{s} has", text)
    text = re.sub(r"\bI'd\b", f"{s} would", text)
    text = re.sub(r"\bI'll\b", f"{s} will", text)

    # "I really love" -> "Ana really loves": conjugate the first verb after the adverbs.
    text = _I_VERB.sub(lambda m: f"{s}{m.group(1)} {_third_person(m.group(2))}", text)
    text = re.sub(r"\bI\b", s, text)
    text = re.sub(r"\b(?:my|My)\b", f"{s}'s", text)
    text = re.sub(r"\bmine\b", f"{s}'s", text)
    text = re.sub(r"\bmyself\b", s, text)
    text = re.sub(r"\bme\b", s, text)
    # In a conversation "we" is most often the two people talking.
    group = f"{s} and {addressee}" if addressee else f"{s} and others"
    text = re.sub(r"\b(?:[Ww]e're)\b", f"{group} are", text)
    text = re.sub(r"\b(?:[Ww]e've)\b", f"{group} have", text)
    text = re.sub(r"\b[Ww]e\b", group, text)
    text = re.sub(r"\b[Oo]ur\b", f"{s}'s", text)
    text = re.sub(r"\bus\b", group, text)
    return text


def _rewrite_second_person(text: str, a: str) -> str:
    text = re.sub(r"\b[Yy]ou're\b", f"{a} is", text)
    text = re.sub(r"\b[Yy]ou've\b", f"{a} has", text)
    text = re.sub(r"\b[Yy]our\b", f"{a}'s", text)
    text = re.sub(r"\b[Yy]ou\b", a, text)
    return text


def rewrite_person(text: str, speaker: str | None, addressee: str | None) -> str:
    """Rewrite first person as ``speaker`` and second person as ``addressee`` (when known)."""
    if speaker:
        text = _rewrite_first_person(text, speaker, addressee)
    if addressee:
        text = _rewrite_second_person(text, addressee)
    return text


def strip_interjections(sentence: str) -> str:
    """Drop leading "Yes, ", "Oh wow, ", "Good, "... and capitalize what is left."""
    rest = _INTERJECTION.sub("", sentence).strip()
    rest = _EXCLAMATION.sub("", rest).strip()
    return rest[:1].upper() + rest[1:] if rest else sentence
