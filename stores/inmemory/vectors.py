"""The in-memory vector store: exact cosine similarity over numpy arrays, no I/O."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from hybrid_memory.errors import EmbedderMismatchError


class InMemoryVectorStore:
    """Vectors keyed by id with their metadata; queries are exact (a full scan).

    Vectors are expected L2-normalized (every embedder of the package returns them so), so the
    dot product is the cosine similarity.
    """

    def __init__(self) -> None:
        self._vectors: dict[str, np.ndarray] = {}
        self._meta: dict[str, dict[str, str]] = {}
        self._embedder: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def ensure_embedder(self, name: str, dimension: int) -> None:
        with self._lock:
            if self._embedder is None:
                self._embedder = (name, int(dimension))
            elif self._embedder != (name, int(dimension)):
                raise EmbedderMismatchError(
                    f"the in-memory vector store holds vectors of {self._embedder[0]!r} "
                    f"({self._embedder[1]} dimensions), not {name!r} ({dimension})"
                )

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None:
        with self._lock:
            for i, memory_id in enumerate(ids):
                self._vectors[memory_id] = np.asarray(vectors[i], dtype=np.float32).copy()
                self._meta[memory_id] = dict(metadatas[i])

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for memory_id in ids:
                self._vectors.pop(memory_id, None)
                self._meta.pop(memory_id, None)

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        return self.query_many(np.asarray([vector]), where=where, limit=limit)[0]

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        with self._lock:
            ids = [
                i
                for i, meta in self._meta.items()
                if all(meta.get(k) == v for k, v in where.items())
            ]
            matrix = np.stack([self._vectors[i] for i in ids]) if ids else None
        out: list[list[tuple[str, float]]] = []
        for vector in np.asarray(vectors, dtype=np.float32):
            if matrix is None or limit <= 0:
                out.append([])
                continue
            sims = matrix @ vector
            best = np.argsort(-sims, kind="stable")[:limit]
            out.append([(ids[j], float(sims[j])) for j in best])
        return out

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {i: self._vectors[i].copy() for i in ids if i in self._vectors}

    def count(self) -> int:
        return len(self._vectors)

    def reset(self) -> None:
        with self._lock:
            self._vectors.clear()
            self._meta.clear()

    def close(self) -> None:
        return None
