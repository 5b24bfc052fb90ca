"""What a search query asks: which attributes answer it, and whether it asks about the past or
about a time.

"What does Ana do for a living?" is answered by her current employer and job whatever words the
facts use; "where did she work before Acme?" by the value her employer had before Acme;
"when did she start there?" by a statement that carries a date. The attribute topic is
recognised by meaning, like the attribute of a statement (:mod:`hybrid_memory.memory.meaning`):
the query, with its names masked, is compared to the example questions of each topic
(:data:`hybrid_memory.attributes.TOPICS`); a topic counts only when it is clearly near.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hybrid_memory.attributes import TOPICS, Topic
from hybrid_memory.embeddings import Embedder

PLACEHOLDER = "Sam"
THRESHOLD = 0.68
MARGIN = 0.03

_FORMER = re.compile(
    r"\b(?:before|previous(?:ly)?|used to|former(?:ly)?|originally|earlier|back then|"
    r"no longer|any ?more|in the past|at first|prior to)\b",
    re.I,
)
_WHEN = re.compile(
    r"^\s*(?:when|since when|how long ago|what (?:date|day|month|year|time)|"
    r"(?:in|on) (?:which|what) (?:date|day|month|year))\b|\bwhen (?:did|was|were|is|will)\b",
    re.I,
)
# A capitalized word that is not the first of the query: a name to mask ("Ana's" too).
_NAME = re.compile(
    r"(?<=\s)(?!I\b)[A-ZÀ-ÖØ-Þ][\w’'-]*?(?:\s+[A-ZÀ-ÖØ-Þ][\w’'-]*?)*(?=(?:'s|’s)?\b)"
)


@dataclass(frozen=True)
class Question:
    """What a query asks (see the module docstring)."""

    topics: tuple[Topic, ...] = ()
    former: bool = False
    """It asks for a former value ("before", "used to", "previously")."""
    when: bool = False
    """It asks for a time ("when did...", "what year...")."""
    about: frozenset[str] = frozenset()
    """The (case-folded) subjects it names, when known; empty: anyone."""

    def answered_by(self, attribute: str | None) -> bool:
        from hybrid_memory.attributes import answers

        return any(answers(t, attribute) for t in self.topics)


def masked(query: str) -> str:
    """``query`` with the names in it replaced by a placeholder."""
    return _NAME.sub(PLACEHOLDER, query)


def unnamed(query: str) -> str:
    """``query`` with the names in it replaced by "someone": what it asks, whoever it is about
    (the query itself when it names no one)."""
    return _NAME.sub("someone", query)


class Questions:
    """Reads what queries ask (one embedding of the masked query per call)."""

    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD, margin: float = MARGIN):
        self.embedder = embedder
        self.threshold = threshold
        self.margin = margin
        self._centroids: np.ndarray | None = None

    def _prototypes(self) -> np.ndarray:
        if self._centroids is None:
            texts = [q.format(s=PLACEHOLDER) for t in TOPICS for q in t.questions]
            vectors = self.embedder.embed_batch(texts)
            rows, start = [], 0
            for topic in TOPICS:
                block = vectors[start : start + len(topic.questions)]
                start += len(topic.questions)
                rows.append(block)
            self._rows = rows
            self._centroids = np.stack(
                [b.mean(axis=0) / (np.linalg.norm(b.mean(axis=0)) or 1.0) for b in rows]
            )
        return self._centroids

    def scores(self, query: str) -> np.ndarray:
        """Similarity of the masked query to each topic: its nearest example question."""
        self._prototypes()
        vector = self.embedder.embed_batch([masked(query)])[0]
        return np.array([float(np.max(block @ vector)) for block in self._rows])

    def read(self, query: str) -> Question:
        scores = self.scores(query)
        best = float(scores.max())
        # A question nearer to the questions about events than to a topic is about no topic.
        events = max((float(scores[i]) for i, t in enumerate(TOPICS) if not t.attributes),
                     default=0.0)  # fmt: skip
        topics = tuple(
            TOPICS[i]
            for i in np.argsort(-scores)
            if TOPICS[i].attributes
            and scores[i] >= self.threshold
            and best - scores[i] <= self.margin
            and scores[i] > events
        )
        return Question(topics=topics, former=bool(_FORMER.search(query)),
                        when=bool(_WHEN.search(query)))  # fmt: skip
