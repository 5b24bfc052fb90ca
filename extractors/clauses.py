"""Statements cut into clauses that each say one thing, without the chatter around them.

"I moved back to Bergen in January, and for now I'm renting a flat in Sandviken." holds two
facts; stored as one, no later change could replace either. A sentence is cut where a new clause
starts with its own subject and verb (after ``;``, after ", and/but/so ...", before ", I ...",
before " and I ..." once the left part has a verb of its own, so that "Abena and I live in..."
stays whole), and each clause loses its discourse fillers ("Big change:", "Work-wise", "Funny,",
"lol") so that the fact says only what it is about.
"""

from __future__ import annotations

import re

from extractors.lexicon import IRREGULAR_PAST, UPPER

_PRONOUN = (
    r"(?:I|I'm|I've|I'd|I'll|we|we're|we've|we'd|we'll|he|he's|she|she's|they|they're|my|our)"
)
_NAME_SUBJECT = (
    UPPER + r"[\w'’-]+\s+(?:is|was|has|had|got|says|said|will|would|can|'s|moved|proposed|retired|"
    r"died|left|started|took|made|did|does)"
)
_OPENER = r"(?:now\s+|then\s+|also\s+|for now\s+|these days\s+|when\s+|once\s+)?"
# Candidate cut points; a cut is kept only where the left part is a clause of its own.
_CUT = re.compile(
    r"\s*;\s+"
    r"|,\s+(?=(?:and|but|so|while|whereas|although|though)\s+" + _OPENER
    + r"(?:" + _PRONOUN + r"\b|" + _NAME_SUBJECT + r"\b))"
    r"|,\s+(?=so\s+(?:in|on|at|since|by|from|last|this|next)\b)"
    r"|,\s+(?=(?:" + _PRONOUN + r"\b|" + _NAME_SUBJECT + r"\b))"
    r"|,\s+(?=favou?rite\s)"
    r"|\s+(?=(?:and|but)\s+(?:now\s+|then\s+|so\s+)?(?:I|we)(?:'m|'ve|'d|'ll|'re)?\s)"
)  # fmt: skip
_LEADING_CONJUNCTION = re.compile(
    r"^(?:and|but|so|while|whereas|although|though|also|then|plus|anyway)\b[\s,]*", re.I
)
# A label that announces the news rather than being it: "Big change:", "Good news on two
# fronts:", "Confession:", "Also, heads up for any recipes:".
_LABEL = re.compile(r"^[^:.!?]{1,60}?:\s+(?=\S)")
_FILLER_PREFIX = re.compile(
    r"^(?:(?:funny|honestly|seriously|anyway|well|okay|ok|so|also|plus|oh|btw|by the way|now|"
    r"bad news|sad news|good news|great news|big news|fun fact|update|side note|"
    r"on the plus side|on the bright side|one good thing|less fun|the good news is|"
    r"the bad news is|work-wise|workwise|health-wise|speaking of which|as for me|"
    r"guess what|long story short)\b[\s,:!.-]*)+",
    re.I,
)
_FILLER_SUFFIX = re.compile(
    r"(?:[\s,]+(?:lol|haha+|hehe|obviously|honestly|i know,? i know|you know|"
    r"hands down|for sure|tbh))+[\s.!]*$",
    re.I,
)
_AUXILIARY = re.compile(
    r"\b(?:am|is|are|was|were|be|been|have|has|had|do|does|did|will|would|can|could|should|"
    r"may|might|must)\b|'(?:m|s|re|ve|d|ll)\b",
    re.I,
)
_WORD = re.compile(r"[a-z]+", re.I)


def has_verb(text: str) -> bool:
    """Crude but enough to tell a clause from a noun phrase: an auxiliary, a past form, or a
    word after a subject pronoun."""
    if _AUXILIARY.search(text):
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    if any(w in IRREGULAR_PAST or (w.endswith("ed") and len(w) > 3) for w in words):
        return True
    return bool(re.search(r"\b(?:I|we|they|you)\s+[a-z]+", text))


def strip_filler(clause: str) -> str:
    """The clause without the chatter around what it states."""
    text = clause.strip()
    label = _LABEL.match(text)
    if label and len(label.group(0).split()) <= 8 and has_verb(text[label.end() :]):
        text = text[label.end() :]
    text = _FILLER_PREFIX.sub("", text).strip()
    text = _FILLER_SUFFIX.sub("", text).strip()
    text = _LEADING_CONJUNCTION.sub("", text).strip()
    return text[:1].upper() + text[1:] if text else ""


def _split(sentence: str) -> list[str]:
    parts, start = [], 0
    for cut in _CUT.finditer(sentence):
        left, right = sentence[start : cut.start()], sentence[cut.end() :]
        # " and I ..." after a noun phrase is a compound subject ("Abena and I live..."), not
        # a new clause; after punctuation the left part may be an aside ("Tomasz here, 45").
        joined = not cut.group(0).strip(" ")
        if has_verb(right) and (has_verb(left) or not joined):
            parts.append(left)
            start = cut.end()
    parts.append(sentence[start:])
    return parts


_PAST_VERB = r"(?:" + "|".join(sorted(IRREGULAR_PAST)) + r"|[a-z]{2,}ed)"
# Two verbs sharing one subject: "I quit Kumo and joined Hikari Labs" says two things.
_SHARED_SUBJECT = re.compile(r"^(?P<subject>I|We|" + UPPER + r"[\w'’-]+\s+and\s+I)\s+\S")
_SECOND_VERB = re.compile(
    r",?\s+and\s+(?=(?:then\s+|also\s+|later\s+|finally\s+)?" + _PAST_VERB + r"\s)"
)
# The present tense of the verbs people describe their lives with, after "I/we ... and": "I live
# in Lisbon and work as a nurse" says two things too.
_PRESENT_VERB = (
    r"(?:work|live|study|teach|run|own|rent|have|love|like|hate|prefer|enjoy|speak|play|drive|"
    r"volunteer|coach|manage|lead|cook|write|train|practi[cs]e|attend|support|share|go|need|"
    r"want|plan|am|'m|do|keep|raise|care\s+for|look\s+after)"
)
_SECOND_PRESENT = re.compile(
    r",?\s+and\s+(?=(?:also\s+|still\s+|now\s+|currently\s+)?" + _PRESENT_VERB + r"\s)"
)
_FIRST_PERSON = re.compile(r"^(?:I|We|we)\s+(?!'|am\b|was\b|were\b)\S")


def _split_verbs(clause: str) -> list[str]:
    """A clause whose subject has two past verbs ("I quit X and joined Y"), or a first-person
    subject two present ones ("I live in X and work as Y"), as two clauses, the second with
    the subject repeated."""
    subject = _SHARED_SUBJECT.match(clause)
    if not subject or not has_verb(clause.split(" and ", 1)[0]):
        return [clause]
    parts = _SECOND_VERB.split(clause, maxsplit=1)
    if len(parts) < 2 and _FIRST_PERSON.match(clause):
        parts = _SECOND_PRESENT.split(clause, maxsplit=1)
    if len(parts) < 2 or len(parts[0].split()) < 3:
        return [clause]
    return [parts[0], f"{subject.group('subject')} {parts[1]}"]


def clauses(sentence: str) -> list[str]:
    """The clauses of one sentence that each state one thing (fillers stripped)."""
    out = []
    for part in _split(sentence):
        part = strip_filler(part.strip(" ,"))
        for piece in _split_verbs(part) if len(part.split()) >= 2 else []:
            out.append(piece)
    return out


_ADVERB = re.compile(
    r"\b(?P<subject>I|[Ww]e)(?P<aux>'m|'ve|'re|'d|\s+am|\s+have|\s+are|\s+had)?"
    r"(?:\s+(?:now|currently|still|also|just|finally|recently|officially|actually|already|"
    r"really|even|then|eventually))+(?=\s)"
)


def core(clause: str) -> str:
    """``clause`` without the adverbs between its first-person subject and its verb ("I finally
    quit smoking" -> "I quit smoking", "I'm now renting" -> "I'm renting"), for the rules that
    read attributes and endings; the stored fact keeps what was said."""
    return _ADVERB.sub(lambda m: m.group("subject") + (m.group("aux") or ""), clause)


_DID_IT = re.compile(r"\b(?:did|do|does|done)\s+(?:it|that|this)\b")
_PREDICATE = re.compile(
    r"^(?:I|We|we|" + UPPER + r"[\w'’-]+\s+and\s+I)\s+(?P<vp>(?:got|had|went|made|took|"
    r"finally\s+\w+|[a-z]+ed)\b[^,;]*?)[!.]*$"
)


def predicate(clause: str) -> str | None:
    """What the speaker did, in a clause that says so ("We got married!!" -> "got married"),
    for a later "did it" in the same message to refer to."""
    match = _PREDICATE.match(clause.strip())
    return match.group("vp") if match and not _DID_IT.search(clause) else None


_REFERS_BACK = re.compile(
    r"^(?:They|It|That|This|He|She)\s+(?:did|do|does|done|had|has)\s+(?:it|that)\b"
    r"|^(?:I|We)\s+(?:could|would|can|will)\s+\w+\s+it\b"
)


def refers_back(clause: str) -> bool:
    """Whether ``clause`` only makes sense with the one before it ("I have a new hip. They did
    it in March.")."""
    return bool(_REFERS_BACK.match(clause))


def resolve_ellipsis(clause: str, earlier: str | None) -> str:
    """``clause`` with "did it" spelled out as what an earlier clause of the message said was
    done ("so we did it in Guadalajara" after "We got married" -> "so we got married in
    Guadalajara")."""
    if not earlier:
        return clause
    return _DID_IT.sub(earlier, clause, count=1)
