"""The deterministic feature-hashing embedder (fast tests, no model)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Feature-hashing embedder (bag of words + character trigrams), L2-normalized.

    Example:
        >>> emb = HashingEmbedder(dimension=64)
        >>> emb.embed_batch(["a cat", "a cat"]).shape
        (2, 64)
    """

    def __init__(self, dimension: int = 384):
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def _features(self, text: str) -> list[str]:
        words = [w.casefold() for w in _WORD.findall(text)]
        grams: list[str] = []
        for word in words:
            padded = f"#{word}#"
            grams.extend(padded[i : i + 3] for i in range(max(1, len(padded) - 2)))
        return [f"w:{w}" for w in words] + [f"g:{g}" for g in grams]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                index = value % self.dimension
                sign = 1.0 if (value >> 63) & 1 else -1.0
                weight = 2.0 if feature.startswith("w:") else 1.0
                out[row, index] += sign * weight
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
