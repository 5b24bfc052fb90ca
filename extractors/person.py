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
    "no longer",
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
_I_VERB = re.compile(
    r"\bI((?:\s+(?:" + "|".join(sorted(_ADVERBS)) + r"|[a-z]+ly))*)\s+([a-z][a-z']*)\b"
)
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


def third_person(verb: str) -> str:
    """``verb`` as it follows "she": "love" -> "loves"; past, modal and negated forms stay."""
    low = verb.lower()
    past = low.endswith("ed") and not low.endswith("eed")
    negated = (
        low.endswith(("s", "n't")) and not low.endswith("ss") and low not in ("don't", "haven't")
    )
    if low in MODALS or low in IRREGULAR_PAST or past or negated:
        return verb
    if low in _THIRD_PERSON_SPECIAL:
        return _THIRD_PERSON_SPECIAL[low]
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    if re.search(r"(ch|sh|x|z|o|ss)$", low):
        return verb + "es"
    return verb + "s"


_COUPLE = re.compile(
    r"\b(?:got\s+(?:married|engaged|divorced)|broke\s+up|split\s+up|honeymoon|wedding|"
    r"moved\s+in\s+together|anniversary)\b",
    re.I,
)


def _rewrite_first_person(text: str, s: str, addressee: str | None, we: str | None) -> str:
    # "Abena and I are" / "I and Abena": a plural subject, nothing to conjugate.
    text = re.sub(r"\band I\b(?!['’])", f"and {s}", text)
    text = re.sub(r"\bI and\b", f"{s} and", text)
    text = re.sub(r"\bI'm\b", f"{s} is", text)
    text = re.sub(r"\bI've\b", f"{s} has", text)
    text = re.sub(r"\bI'd\b", f"{s} would", text)
    text = re.sub(r"\bI'll\b", f"{s} will", text)

    # "I really love" -> "Ana really loves": conjugate the first verb after the adverbs.
    text = _I_VERB.sub(lambda m: f"{s}{m.group(1)} {third_person(m.group(2))}", text)
    text = re.sub(r"\bI\b", s, text)
    text = re.sub(r"\b(?:my|My)\b", f"{s}'s", text)
    text = re.sub(r"\bmine\b", f"{s}'s", text)
    text = re.sub(r"\bmyself\b", s, text)
    text = re.sub(r"\bme\b", s, text)
    # In a conversation "we" is most often the two people talking; with an assistant, the
    # speaker and the people around them.
    # What only a couple does ("we got married") is done with a partner.
    unknown = f"{s} and {s}'s partner" if _COUPLE.search(text) else f"{s} and family"
    group = f"{s} and {we or addressee}" if we or addressee else unknown
    text = re.sub(r"\b(?:[Ww]e're)\b", f"{group} are", text)
    text = re.sub(r"\b(?:[Ww]e've)\b", f"{group} have", text)
    text = re.sub(r"\b(?:[Ww]e'd)\b", f"{group} would", text)
    text = re.sub(r"\b(?:[Ww]e'll)\b", f"{group} will", text)
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


def rewrite_person(
    text: str, speaker: str | None, addressee: str | None, *, we: str | None = None
) -> str:
    """Rewrite first person as ``speaker`` and second person as ``addressee`` (when known);
    "we" is the speaker and ``we`` (someone the message names with them), else the speaker and
    the addressee."""
    if speaker:
        text = _rewrite_first_person(text, speaker, addressee, we)
    if addressee:
        text = _rewrite_second_person(text, addressee)
    return text


def strip_interjections(sentence: str) -> str:
    """Drop leading "Yes, ", "Oh wow, ", "Good, "... and capitalize what is left."""
    rest = _INTERJECTION.sub("", sentence).strip()
    rest = _EXCLAMATION.sub("", rest).strip()
    return rest[:1].upper() + rest[1:] if rest else sentence
