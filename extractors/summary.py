"""The offline running summary: the most salient statements, dated, under a token bound.

Turns leaving the recent buffer are rewritten as dated third-person sentences ("On 8 May 2023,
Caroline moved to Boston."); chit-chat is dropped. Each sentence gets a salience score (names,
numbers, dates, attribute statements, length); when the summary is over its bound, the least
salient sentences go first (the oldest among equals). Deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from extractors.dates import day, resolve_relative_dates
from extractors.lexicon import is_junk
from extractors.person import rewrite_person, strip_interjections
from extractors.sentences import PLEASANTRY
from hybrid_memory.models import Message

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])|\n+")
_CAPITALIZED = re.compile(r"\b[A-Z][a-z]+")
_NUMBER = re.compile(r"\d")
_STATE = re.compile(
    r"\b(live|lives|moved|work|works|working|job|married|engaged|born|allergic|diagnosed|"
    r"adopted|bought|started|finished|graduated|plan|plans|planning|going to|favou?rite|"
    r"name|sister|brother|mother|father|mom|dad|wife|husband|partner|son|daughter|kids?|"
    r"dog|cat|pet|birthday|anniversary|trip|visit|visited)\b",
    re.IGNORECASE,
)


def salience(sentence: str) -> float:
    """How much a sentence is worth keeping (higher = more)."""
    score = 0.0
    score += 1.0 * min(3, len(_CAPITALIZED.findall(sentence[1:])))
    score += 1.5 if _NUMBER.search(sentence) else 0.0
    score += 2.0 if _STATE.search(sentence) else 0.0
    score += min(2.0, len(sentence.split()) / 10)
    return score


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


class OfflineSummarizer:
    """Salience-based extractive running summary (see the module docstring)."""

    name = "offline-salience-v1"

    def _turn_sentences(self, turns: Sequence[Message]) -> list[str]:
        out: list[str] = []
        speakers: list[str] = []
        for turn in turns:
            if turn.role in ("tool", "system", "developer") or not turn.content.strip():
                continue
            speaker = turn.name or turn.role
            addressee = next((s for s in reversed(speakers) if s != speaker), None)
            speakers.append(speaker)
            for sentence in _sentences(turn.content):
                if (
                    is_junk(sentence)
                    or sentence.endswith("?")
                    or PLEASANTRY.match(strip_interjections(sentence))
                ):
                    continue
                if len(sentence.split()) < 4:
                    continue
                resolved, _ = resolve_relative_dates(sentence, turn.timestamp)
                text = rewrite_person(strip_interjections(resolved), speaker, addressee).rstrip(
                    " !"
                )
                if text[-1:] != ".":
                    text += "."
                if turn.timestamp is not None:
                    first = text.split(" ", 1)[0]
                    if first in ("The", "A", "An", "It", "This", "That", "There"):
                        text = text[0].lower() + text[1:]
                    text = f"On {day(turn.timestamp)}, {text}"
                out.append(text)
        return out

    def summarize(
        self,
        previous: str,
        turns: Sequence[Message],
        *,
        max_tokens: int,
        count_tokens: Callable[[str], int],
    ) -> str:
        if max_tokens <= 0:
            return ""
        sentences = _sentences(previous) + self._turn_sentences(turns)
        # Drop exact repeats, keep the first occurrence.
        sentences = list(dict.fromkeys(sentences))
        ranked = sorted(range(len(sentences)), key=lambda i: (salience(sentences[i]), i))
        keep = set(range(len(sentences)))
        costs = [count_tokens(s) + 1 for s in sentences]
        total = sum(costs[i] for i in keep)
        for i in ranked:  # least salient (and oldest among equals) first
            if total <= max_tokens:
                break
            keep.discard(i)
            total -= costs[i]
        text = " ".join(sentences[i] for i in sorted(keep))
        while text and count_tokens(text) > max_tokens:
            # Joining can cost a token more than the parts; drop from the front.
            text = text.split(" ", 1)[1] if " " in text else ""
        return text
