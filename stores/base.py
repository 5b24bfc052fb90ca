"""Store protocols. A backend implements a handful of typed methods; nothing more.

Score convention: :meth:`VectorStore.query` returns similarities, higher = more similar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorStore(Protocol):
    """Vectors of memories, keyed by memory id, with their scope ids as metadata."""

    def ensure_embedder(self, name: str, dimension: int) -> None:
        """Record the embedder on first use; raise EmbedderMismatchError for another one."""
        ...

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        """The ``limit`` nearest ids whose metadata equal every item of ``where``, with their
        cosine similarity (higher = more similar), best first."""
        ...

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        """:meth:`query` for several vectors at once (one round trip)."""
        ...

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def count(self) -> int: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...
