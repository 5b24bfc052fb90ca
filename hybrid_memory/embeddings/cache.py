"""A small LRU cache of query vectors: a repeated question, or the same query asked for hits
and then for the context, is embedded once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from hybrid_memory.embeddings.base import Embedder

_FEW = 4
"""Calls with at most this many texts are queries (cached); bigger batches are ingestion."""


class QueryVectors:
    """An :class:`Embedder` that remembers the vectors of the last ``size`` distinct query
    texts of ``embedder`` (thread-safe). Cached vectors are read-only, so no caller can change
    what another one gets; batches of more than a few texts pass through uncached.

    Example:
        >>> from hybrid_memory.embeddings import HashingEmbedder
        >>> queries = QueryVectors(HashingEmbedder(), size=2)
        >>> queries.get("hi") is queries.get("hi")
        True
    """

    def __init__(self, embedder: Embedder, size: int = 256):
        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.size = size
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def get(self, query: str) -> np.ndarray:
        """The vector of ``query`` (embedded now unless recently asked)."""
        return self.get_many([query])[0]

    def get_many(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The vectors of ``texts``; the ones not cached are embedded in one batch."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._cache.get(text)
                if vector is not None:
                    self._cache.move_to_end(text)
                    found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = np.array(self.embedder.embed_batch(missing), dtype=np.float32)
            vectors.setflags(write=False)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    found[text] = vector
                    if self.size > 0:
                        self._cache[text] = vector
                        self._cache.move_to_end(text)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """The :class:`Embedder` method: a few texts through the cache, more straight through."""
        if len(texts) > _FEW:
            return self.embedder.embed_batch(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack(self.get_many(texts))
