"""Which sentences of a message are worth a fact.

A message is split into sentences; questions and junk are skipped, and a sentence becomes a fact
only when it is in the first person, says something beyond pronouns and pleasantries, and is not
a reaction to the other person ("That's great!", "Good luck with it").
"""

from __future__ import annotations

import re

from extractors.lexicon import is_junk
from extractors.person import strip_interjections

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])|\n+")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|we|we're|we've|our|us)\b")
_ANYMORE = re.compile(r"\b(anymore|any more|no longer)\b", re.IGNORECASE)
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
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if sentence and not is_junk(sentence) and not sentence.endswith("?"):
            out.append(sentence)
    return out


def _informative(sentence: str) -> bool:
    """Enough content to be worth a fact: a few words beyond pronouns and pleasantries."""
    words = re.findall(r"[A-Za-z0-9']+", sentence)
    if len(words) < 4:
        return False
    content = [w for w in words if w.lower() not in _FILLER_WORDS]
    return len(content) >= 2


def worth_a_fact(sentence: str) -> bool:
    """Whether ``sentence`` (a statement) should be kept as a first-person fact."""
    if _ANYMORE.search(sentence):
        return False  # a negated state is not a fact to store as current
    if not _FIRST_PERSON.search(sentence) or not _informative(sentence):
        return False
    return not PLEASANTRY.match(strip_interjections(sentence))
