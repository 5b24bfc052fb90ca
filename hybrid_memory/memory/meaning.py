"""The attribute of a statement, recognised by its meaning when no rule named it.

People say where they live in more ways than rules can list ("for now I'm crashing at my
sister's", "we finally got the keys to our own place"). A current state whose attribute the
extractor did not name is compared, with the embedder already loaded, to the prototype
statements of each attribute family (:data:`hybrid_memory.attributes.ATTRIBUTES`); the subject's
name is masked on both sides so that only what is said counts. The nearest family is taken only
when it is clearly near (``threshold``) and clearly nearer than the next (``margin``): an
unrecognised statement stays without an attribute rather than replacing the wrong fact.
"""

from __future__ import annotations

import re

import numpy as np

from hybrid_memory.attributes import ATTRIBUTES, FAVORITE_PROTOTYPES, favorite, single_valued
from hybrid_memory.embeddings import Embedder
from hybrid_memory.models import ExtractedFact

PLACEHOLDER = "Sam"
THRESHOLD = 0.70
MARGIN = 0.05


def masked(cand: ExtractedFact) -> str:
    """The candidate's text with its subject's name replaced by a placeholder."""
    if not cand.subject:
        return cand.text
    return re.sub(r"\b" + re.escape(cand.subject) + r"\b", PLACEHOLDER, cand.text)


class Meaning:
    """Nearest attribute family of a statement (see the module docstring)."""

    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD, margin: float = MARGIN):
        self.embedder = embedder
        self.threshold = threshold
        self.margin = margin
        self._families: list[str] = []
        self._centroids: np.ndarray | None = None
        self._kind_rows: tuple[list[str], np.ndarray] | None = None

    def _prototypes(self) -> np.ndarray:
        if self._centroids is None:
            families = [a for a in ATTRIBUTES.values() if a.prototypes]
            texts = [p.format(s=PLACEHOLDER) for a in families for p in a.prototypes]
            vectors = self.embedder.embed_batch(texts)
            rows, start = [], 0
            for a in families:
                centroid = vectors[start : start + len(a.prototypes)].mean(axis=0)
                rows.append(centroid / (np.linalg.norm(centroid) or 1.0))
                start += len(a.prototypes)
            self._families = [a.name for a in families]
            self._centroids = np.stack(rows)
        return self._centroids

    def family(self, vector: np.ndarray) -> str | None:
        """The attribute family of a (masked) statement's vector, or None when unclear."""
        scores = self._prototypes() @ vector
        order = np.argsort(-scores)
        best, second = float(scores[order[0]]), float(scores[order[1]])
        if best >= self.threshold and best - second >= self.margin:
            return self._families[int(order[0])]
        return None

    def _kinds(self) -> tuple[list[str], np.ndarray]:
        if self._kind_rows is None:
            kinds = list(FAVORITE_PROTOTYPES)
            texts = [p.format(s=PLACEHOLDER) for k in kinds for p in FAVORITE_PROTOTYPES[k]]
            vectors = self.embedder.embed_batch(texts)
            rows, start = [], 0
            for kind in kinds:
                block = vectors[start : start + len(FAVORITE_PROTOTYPES[kind])]
                start += len(FAVORITE_PROTOTYPES[kind])
                centroid = block.mean(axis=0)
                rows.append(centroid / (np.linalg.norm(centroid) or 1.0))
            self._kind_rows = (kinds, np.stack(rows))
        return self._kind_rows

    def favorite_kind(self, vector: np.ndarray) -> str | None:
        """The kind of favourite a statement names ("food", "music"...), or None when unclear."""
        kinds, rows = self._kinds()
        scores = rows @ vector
        order = np.argsort(-scores)
        best, second = float(scores[order[0]]), float(scores[order[1]])
        if best >= self.threshold - 0.1 and best - second >= self.margin / 2:
            return kinds[int(order[0])]
        return None

    def recognise(self, cands: list[ExtractedFact]) -> None:
        """Give the current states among ``cands`` that have no attribute the one their meaning
        says, and a favourite said without its kind ("my new favourite is soup curry") the
        kind it is, when it is clear (one embedding batch)."""
        todo = [
            c for c in cands
            if c.aspect == "state" and (c.attribute is None or c.attribute == "favorite")
        ]  # fmt: skip
        if not todo:
            return
        vectors = self.embedder.embed_batch([masked(c) for c in todo])
        for cand, vector in zip(todo, vectors, strict=True):
            if cand.attribute == "favorite":
                kind = self.favorite_kind(vector)
                cand.attribute = favorite(kind) if kind else cand.attribute
                continue
            name = self.family(vector)
            if name is not None:
                cand.attribute = name
                cand.single_valued = single_valued(name)
