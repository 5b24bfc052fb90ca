"""A vector store in front of another: opened on first use, with recent vectors in memory.

Exact scoring of a small scope fetches its vectors by id (see
:mod:`hybrid_memory.memory.candidates`); kept here, they cost a dictionary look-up instead of a
store read, so such a search costs what the scope holds, not what the store holds. The vectors
kept are those this process wrote or read; the data dir's lock makes this process the only
writer, and every write here updates or drops what is kept before it returns.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from stores.base import VectorStore


class CachedVectorStore:
    """A :class:`~stores.base.VectorStore` over the one ``open_store`` returns.

    Args:
        open_store: opens the real store.
        max_vectors: how many vectors to keep in memory (least recently used go first; 0 keeps
            none).
        lazy: open the real store on its first use rather than now (a command that only reads
            records then never loads it); the embedder check waits for that moment.
    """

    def __init__(
        self,
        open_store: Callable[[], VectorStore],
        *,
        max_vectors: int = 100_000,
        lazy: bool = False,
    ):
        self._open = open_store
        self._inner: VectorStore | None = None
        self._open_lock = threading.Lock()
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._generation = 0
        self.max_vectors = max_vectors
        self._embedder: tuple[str, int] | None = None
        self._count: int | None = None
        """The store's count, kept until a write (every search asks for it)."""
        if not lazy:
            self._store()

    def _store(self) -> VectorStore:
        inner = self._inner
        if inner is not None:
            return inner
        with self._open_lock:
            if self._inner is None:
                opened = self._open()
                try:
                    if self._embedder is not None:
                        opened.ensure_embedder(*self._embedder)
                except BaseException:
                    opened.close()
                    raise
                self._inner = opened
            return self._inner

    def ensure_embedder(self, name: str, dimension: int) -> None:
        if self._inner is None and self._embedder in (None, (name, dimension)):
            self._embedder = (name, dimension)  # checked when the store opens
            return
        self._store().ensure_embedder(name, dimension)

    def _forget(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._generation += 1
            self._count = None
            for memory_id in ids:
                self._kept.pop(memory_id, None)

    def _keep(self, vectors: Mapping[str, np.ndarray], generation: int | None = None) -> None:
        with self._lock:
            if generation is None:
                self._generation += 1  # a write: what readers fetched meanwhile may be stale
                self._count = None
            elif generation != self._generation:
                return
            if self.max_vectors <= 0:
                return
            for memory_id, vector in vectors.items():
                self._kept[memory_id] = vector
                self._kept.move_to_end(memory_id)
            while len(self._kept) > self.max_vectors:
                self._kept.popitem(last=False)

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None:
        try:
            self._store().upsert(ids, vectors, metadatas)
        except BaseException:
            self._forget(ids)
            raise
        rows = np.array(vectors, dtype=np.float32)
        rows.setflags(write=False)
        self._keep(dict(zip(ids, rows, strict=True)))

    def delete(self, ids: Sequence[str]) -> None:
        try:
            self._store().delete(ids)
        finally:
            self._forget(ids)

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        return self._store().query(vector, where=where, limit=limit)

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        return self._store().query_many(vectors, where=where, limit=limit)

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            generation = self._generation
            for memory_id in ids:
                vector = self._kept.get(memory_id)
                if vector is not None:
                    self._kept.move_to_end(memory_id)
                    found[memory_id] = vector
        missing = [i for i in ids if i not in found]
        if missing:
            fetched = {}
            for memory_id, vector in self._store().get_vectors(missing).items():
                fetched[memory_id] = np.array(vector, dtype=np.float32)
                fetched[memory_id].setflags(write=False)
            self._keep(fetched, generation)
            found.update(fetched)
        return found

    def count(self) -> int:
        with self._lock:
            kept, generation = self._count, self._generation
        if kept is not None:
            return kept
        counted = self._store().count()
        with self._lock:
            if generation == self._generation:
                self._count = counted
        return counted

    def reset(self) -> None:
        try:
            self._store().reset()
        finally:
            with self._lock:
                self._generation += 1
                self._count = None
                self._kept.clear()

    def close(self) -> None:
        with self._lock:
            self._kept.clear()
        with self._open_lock:
            inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()
