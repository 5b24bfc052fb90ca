"""Which sentences of a message are worth a fact.

A message is split into sentences; questions and junk are skipped, and a sentence becomes a fact
only when it is in the first person, says something beyond pronouns and pleasantries, and is not
a reaction to the other person ("That's great!", "Good luck with it").
"""

from __future__ import annotations

import re

from extractors.lexicon import is_junk
from extractors.person import strip_interjections

_SENTENCE = re.compile(r"(?<=[.!?])[ \t]+")
# Where a break after ".", "!" or "?" does not end a sentence: after an abbreviation, or (after
# "!"/"?") before words that carry on the same statement ("we got married!! on the 9th...").
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|approx|Mr|Mrs|Ms|Dr|St|Mt|No)\.|\b[A-Za-z]\.)$"
)
_NEW_STATEMENT = re.compile(
    r"^(?:[\"'A-Z0-9]|(?:now |then |so |and |but |also )?(?:i|i'm|i've|we|we're|we've|she|he|"
    r"they|my|our|still|got|just)\b)"
)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        start = len(out)
        for part in _SENTENCE.split(line):
            if (
                len(out) > start
                and part
                and (_ABBREVIATION.search(out[-1]) or not _NEW_STATEMENT.match(part))
            ):
                out[-1] = f"{out[-1]} {part}"
            else:
                out.append(part)
    return out


_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|we|we're|we've|our|us)\b")
# Sentences that are reactions to the other person rather than information.
PLEASANTRY = re.compile(
    r"^(?:that's|that is|wow|oh|aw+|haha|lol|thanks|thank you|congrats|congratulations|"
    r"i'm (?:so )?(?:glad|happy|sorry|proud|stoked|excited for you)|glad|sorry|sounds|"
    r"so (?:cool|great|nice)|good (?:luck|job)|can't wait|keep (?:it up|up)|you (?:got|can)|"
    r"love (?:it|that|having)|i hope|hope (?:you|it)|let me know|take care|have fun|enjoy|"
    r"you're|you are|you should|you'll|you've got|way to go|well done|nice|cool|great|"
    r"awesome|amazing|what a|how (?:cool|nice|great|awesome))\b",
    re.IGNORECASE,
)

# fmt: off
_FILLER_WORDS = {
    "a", "agree", "all", "am", "amazing", "an", "and", "are", "awesome", "be", "but", "can",
    "can't", "cool", "could", "do", "excited", "feel", "feeling", "for", "fun", "glad", "good",
    "great", "had", "haha", "happy", "has", "have", "hear", "hello", "here", "hey", "hi", "how",
    "i", "i'd", "i'll", "i'm", "i've", "is", "it", "it's", "just", "know", "like", "lol",
    "love", "me", "much", "my", "nice", "no", "not", "of", "oh", "or", "our", "proud", "really",
    "same", "should", "so", "sound", "sounds", "sure", "thank", "thanks", "that", "that's",
    "the", "there", "think", "this", "to", "too", "totally", "true", "very", "was", "we",
    "what", "will", "with", "wonderful", "would", "wow", "yeah", "yes", "you", "you're", "your",
}
# fmt: on


def statements(text: str) -> list[str]:
    """The sentences of ``text`` that state something: not empty, not junk, not questions."""
    out = []
    for sentence in _sentences(text):
        sentence = sentence.strip()
        if sentence and not is_junk(sentence) and not sentence.endswith("?"):
            out.append(sentence)
    return out


def ending(text: str, max_words: int = 30) -> str:
    """The end of ``text``, which a reply answers: its last sentence, with the one before when
    the last is short and the one before says something; at most ``max_words`` words (the
    front cut off with "...")."""
    parts = [p.strip() for p in _sentences(text) if p.strip()]
    if not parts:
        return ""
    tail = parts[-1]
    if len(tail.split()) < 6 and len(parts) > 1 and not PLEASANTRY.match(parts[-2]):
        tail = f"{parts[-2]} {tail}"
    words = tail.split()
    return tail if len(words) <= max_words else "... " + " ".join(words[-max_words:])


def _informative(sentence: str) -> bool:
    """Enough content to be worth a fact: a few words beyond pronouns and pleasantries."""
    words = re.findall(r"[A-Za-z0-9']+", sentence)
    if len(words) < 4:
        return False
    content = [w for w in words if w.lower() not in _FILLER_WORDS]
    return len(content) >= 2


# A subordinate clause left on its own when its sentence was split ("Since our last chat",
# "By sharing my stories", "When I look after myself"): it qualifies a statement it no longer
# has. A date after the word makes it a phrase of a whole sentence ("Since 2019 I ...").
_SUBORDINATE = re.compile(
    r"^(?:much\s+)?(?:since|when|whenever|because|by|if|although|though|while|until|unless)\s+"
    r"(?!\d|then\b|now\b|(?:last|next|this)\s+(?:year|month|week|summer|winter|spring|fall|"
    r"autumn)\b)[^,;:]*$",
    re.IGNORECASE,
)
_CLAUSE_SUBJECT = re.compile(r"\b(?:I|we|you|he|she|they|it)\b", re.IGNORECASE)


def fragment(sentence: str) -> bool:
    """Whether ``sentence`` is a subordinate clause without the statement it belonged to."""
    rest = strip_interjections(sentence).strip().rstrip(".!")
    return bool(_SUBORDINATE.match(rest)) and len(_CLAUSE_SUBJECT.findall(rest)) <= 1


def worth_a_fact(sentence: str, *, first_person: bool = True) -> bool:
    """Whether ``sentence`` (a statement) says enough to be kept as a fact: informative, not a
    reaction to the other person, not a fragment, and (with ``first_person``) about the
    speaker."""
    if first_person and not _FIRST_PERSON.search(sentence):
        return False
    if not _informative(sentence) or fragment(sentence):
        return False
    return not PLEASANTRY.match(strip_interjections(sentence))


# What an assistant says that is worth remembering: advice, a suggestion, a commitment ("Pack
# books in small boxes", "Guava rolls could be lovely", "I'll keep dairy out"), as opposed to
# small talk about what the user said ("Tema is close to the sea").
_ADVICE = re.compile(
    r"\b(?:could|should|might|recommend|suggest|try|how about|consider|let's|we can|you can|"
    r"I'll|I will|I'd|remember to|make sure|don't forget|avoid)\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^(?:pack|try|add|use|make|keep|take|bring|start|avoid|go|remember|consider|check|book|"
    r"ask|put|get|cook|bake|drink|eat|serve|wear|call|plan|move|buy|look|visit|swap|skip|"
    r"choose|pick|set|write|read|watch|listen|stretch|rest|walk|limit|replace|mix|store)\b",
    re.IGNORECASE,
)


def advice(sentence: str) -> bool:
    """Whether an assistant's statement advises, suggests or commits to something."""
    rest = strip_interjections(sentence)
    return bool(_ADVICE.search(rest) or _IMPERATIVE.match(rest))
