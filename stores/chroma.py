"""The embedded chromadb vector store (PersistentClient, telemetry off, our own vectors)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hybrid_memory.errors import EmbedderMismatchError, StoreError

_EMBEDDER_NAME = "hm:embedder"
_EMBEDDER_DIM = "hm:dimension"
_BATCH = 4000


class ChromaVectorStore:
    """Vectors in one chromadb collection; scope ids are stored as metadata and filtered with
    ``where``. Missing scope ids are stored as empty strings (chroma has no null metadata).

    Args:
        path: directory of the persistent client.
        collection: collection name (3-512 characters of ``[a-zA-Z0-9._-]``).
        space: HNSW distance (``cosine``); distances are converted to similarities.
    """

    def __init__(self, path: Path, collection: str = "hybrid_memory", space: str = "cosine"):
        import chromadb
        from chromadb.config import Settings

        self.path = Path(path)
        self.collection_name = collection
        self.space = space
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.path),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
            self._collection = self._open()
        except EmbedderMismatchError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the chroma store at {self.path}: {exc}") from exc

    def _open(self):
        return self._client.get_or_create_collection(
            self.collection_name, embedding_function=None, metadata={"hnsw:space": self.space}
        )

    def ensure_embedder(self, name: str, dimension: int) -> None:
        meta = dict(self._collection.metadata or {})
        stored_name, stored_dim = meta.get(_EMBEDDER_NAME), meta.get(_EMBEDDER_DIM)
        if stored_name is None:
            if self._collection.count() > 0:
                return  # written by an older layout that did not record it; nothing to compare
            meta.pop("hnsw:space", None)
            meta.update({_EMBEDDER_NAME: name, _EMBEDDER_DIM: int(dimension)})
            self._collection.modify(metadata=meta)
            return
        if stored_name != name or int(stored_dim or 0) != int(dimension):
            raise EmbedderMismatchError(
                f"the vector store at {self.path} was built with embedder {stored_name!r} "
                f"({stored_dim} dimensions), not {name!r} ({dimension}); configure the same "
                "embedder, or use another data_dir / collection"
            )

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None:
        if not ids:
            return
        try:
            for start in range(0, len(ids), _BATCH):
                stop = start + _BATCH
                self._collection.upsert(
                    ids=list(ids[start:stop]),
                    embeddings=np.asarray(vectors[start:stop], dtype=np.float32),
                    metadatas=[dict(m) for m in metadatas[start:stop]],
                )
        except Exception as exc:
            raise StoreError(f"chroma upsert failed: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            for start in range(0, len(ids), _BATCH):
                self._collection.delete(ids=list(ids[start : start + _BATCH]))
        except Exception as exc:
            raise StoreError(f"chroma delete failed: {exc}") from exc

    @staticmethod
    def _where(where: Mapping[str, str]) -> dict | None:
        items = [{key: value} for key, value in where.items()]
        if not items:
            return None
        return items[0] if len(items) == 1 else {"$and": items}

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        return self.query_many(np.asarray([vector]), where=where, limit=limit)[0]

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        """:meth:`query` for several vectors in one call."""
        if limit <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        try:
            result = self._collection.query(
                query_embeddings=[np.asarray(v, dtype=np.float32) for v in vectors],
                n_results=limit,
                where=self._where(where),
                include=["distances"],
            )
        except Exception as exc:
            raise StoreError(f"chroma query failed: {exc}") from exc
        return [
            [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        try:
            for start in range(0, len(ids), _BATCH):
                got = self._collection.get(
                    ids=list(ids[start : start + _BATCH]), include=["embeddings"]
                )
                for i, vec in zip(got["ids"], got["embeddings"], strict=True):
                    out[i] = np.asarray(vec, dtype=np.float32)
        except Exception as exc:
            raise StoreError(f"chroma get failed: {exc}") from exc
        return out

    def count(self) -> int:
        return self._collection.count()

    def reset(self) -> None:
        meta = dict(self._collection.metadata or {})
        self._client.delete_collection(self.collection_name)
        self._collection = self._open()
        keep = {k: v for k, v in meta.items() if k.startswith("hm:")}
        if keep:
            self._collection.modify(metadata=keep)

    def close(self) -> None:
        """Release the client (closing twice is harmless). chromadb shares one system per
        path within a process; closing the client stops it once no other client uses it, so
        the files are let go and a new store can be made at the same path."""
        client = self.__dict__.pop("_client", None)
        self.__dict__.pop("_collection", None)
        if client is not None and hasattr(client, "close"):
            try:
                client.close()
            except Exception as exc:
                raise StoreError(f"closing the chroma store at {self.path} failed: {exc}") from exc
