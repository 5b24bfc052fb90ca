"""The Qdrant vector store (``qdrant-client``): a Qdrant server or cluster by URL, or Qdrant's
local mode (a directory, one process) for tests and single machines.

Install with ``pip install "hybrid-memory[qdrant]"``. Qdrant point ids are integers or UUIDs,
so each memory id is mapped to a UUID (``uuid5``) and kept in the payload as ``hm_id``; the
scope ids are payload fields with keyword indexes, so a scoped query is filtered inside the
index. The embedder that wrote the vectors is recorded in a small companion collection
(``<collection>__meta``). The collection is created at the dimension of the first vectors.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hybrid_memory.errors import EmbedderMismatchError, StoreError

_NAMESPACE = uuid.UUID("6f1a4a52-3c1e-4c4f-9a53-2b0c0f3e6d11")
SCOPE_FIELDS = ("user_id", "agent_id", "run_id")
_BATCH = 1000


def point_id(memory_id: str) -> str:
    """The Qdrant point id of a memory id (a stable UUID)."""
    return str(uuid.uuid5(_NAMESPACE, memory_id))


def _driver() -> Any:
    """The qdrant_client module, or an ImportError that says how to install it."""
    try:
        import qdrant_client
    except ImportError as exc:
        raise ImportError(
            'the Qdrant vector store needs qdrant-client: pip install "hybrid-memory[qdrant]"'
        ) from exc
    return qdrant_client


def _client(url: str | None, path: Path | None, api_key: str | None) -> Any:
    from qdrant_client import QdrantClient

    if url:
        return QdrantClient(url=url, api_key=api_key)
    if path is None:
        raise StoreError("the Qdrant vector store needs a url (server) or a path (local mode)")
    Path(path).mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(path))


class QdrantVectorStore:
    """Vectors in one Qdrant collection, cosine distance (see the module docstring).

    Args:
        url: a Qdrant server or cluster (``http://127.0.0.1:6333``); None for local mode.
        path: the local-mode directory (used when ``url`` is None).
        collection: collection name.
        api_key: the API key of a secured server (Qdrant Cloud).

    Example:
        >>> vectors = QdrantVectorStore(url="http://qdrant:6333", collection="memories")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        path: Path | None = None,
        collection: str = "hybrid_memory",
        api_key: str | None = None,
    ):
        self._models = _driver().models
        self.where = url or str(path)
        self.collection_name = collection
        self._meta_name = f"{collection}__meta"
        try:
            self._client = _client(url, path, api_key)
            self._ready = self._client.collection_exists(collection)
        except (StoreError, ImportError):
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the Qdrant store at {self.where}: {exc}") from exc

    def _create(self, dimension: int) -> None:
        """Create the collection (and its scope indexes) at ``dimension``; another process
        creating it at the same moment is fine."""
        m = self._models
        if not self._client.collection_exists(self.collection_name):
            try:
                self._client.create_collection(
                    self.collection_name,
                    vectors_config=m.VectorParams(size=int(dimension), distance=m.Distance.COSINE),
                )
            except Exception:
                if not self._client.collection_exists(self.collection_name):
                    raise
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # local mode has no payload indexes
                for name in (*SCOPE_FIELDS, "hm_id"):
                    self._client.create_payload_index(
                        self.collection_name, name, field_schema=m.PayloadSchemaType.KEYWORD
                    )
        self._ready = True

    def ensure_embedder(self, name: str, dimension: int) -> None:
        m = self._models
        try:
            if not self._client.collection_exists(self._meta_name):
                try:
                    self._client.create_collection(
                        self._meta_name,
                        vectors_config=m.VectorParams(size=1, distance=m.Distance.DOT),
                    )
                except Exception:  # another process created it first
                    if not self._client.collection_exists(self._meta_name):
                        raise
            got = self._client.retrieve(self._meta_name, [point_id("embedder")], with_payload=True)
            if not got:
                payload = {"embedder": name, "dimension": int(dimension)}
                point = m.PointStruct(id=point_id("embedder"), vector=[1.0], payload=payload)
                self._client.upsert(self._meta_name, [point])
                self._create(dimension)
                return
            stored = got[0].payload or {}
        except Exception as exc:
            raise StoreError(f"Qdrant embedder record failed at {self.where}: {exc}") from exc
        if stored.get("embedder") != name or int(stored.get("dimension", 0)) != int(dimension):
            raise EmbedderMismatchError(
                f"the Qdrant collection {self.collection_name!r} at {self.where} holds vectors of "
                f"{stored.get('embedder')!r} ({stored.get('dimension')} dimensions), not "
                f"{name!r} ({dimension}); configure the same embedder, or another collection"
            )

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]]
    ) -> None:
        if not len(ids):
            return
        m = self._models
        try:
            if not self._ready:
                self._create(int(np.asarray(vectors).shape[1]))
            for start in range(0, len(ids), _BATCH):
                points = [
                    m.PointStruct(
                        id=point_id(i),
                        vector=np.asarray(v, dtype=np.float32).tolist(),
                        payload={**dict(meta), "hm_id": i},
                    )
                    for i, v, meta in zip(
                        ids[start : start + _BATCH],
                        vectors[start : start + _BATCH],
                        metadatas[start : start + _BATCH],
                        strict=True,
                    )
                ]
                self._client.upsert(self.collection_name, points, wait=True)
        except Exception as exc:
            raise StoreError(f"Qdrant upsert failed at {self.where}: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        if not ids or not self._ready:
            return
        m = self._models
        try:
            selector = m.PointIdsList(points=[point_id(i) for i in ids])
            self._client.delete(self.collection_name, points_selector=selector, wait=True)
        except Exception as exc:
            raise StoreError(f"Qdrant delete failed at {self.where}: {exc}") from exc

    def _filter(self, where: Mapping[str, str]) -> Any:
        m = self._models
        if not where:
            return None
        return m.Filter(
            must=[m.FieldCondition(key=k, match=m.MatchValue(value=v)) for k, v in where.items()]
        )

    def query(
        self, vector: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[tuple[str, float]]:
        return self.query_many(np.asarray([vector]), where=where, limit=limit)[0]

    def query_many(
        self, vectors: np.ndarray, *, where: Mapping[str, str], limit: int
    ) -> list[list[tuple[str, float]]]:
        """:meth:`query` for several vectors in one request (cosine: higher = more similar)."""
        if limit <= 0 or len(vectors) == 0 or not self._ready:
            return [[] for _ in range(len(vectors))]
        m = self._models
        requests = [
            m.QueryRequest(
                query=np.asarray(v, dtype=np.float32).tolist(),
                filter=self._filter(where),
                limit=int(limit),
                with_payload=m.PayloadSelectorInclude(include=["hm_id"]),
            )
            for v in vectors
        ]
        try:
            responses = self._client.query_batch_points(self.collection_name, requests)
        except Exception as exc:
            raise StoreError(f"Qdrant query failed at {self.where}: {exc}") from exc
        return [
            [(str((p.payload or {})["hm_id"]), float(p.score)) for p in r.points] for r in responses
        ]

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids or not self._ready:
            return {}
        try:
            points = self._client.retrieve(
                self.collection_name,
                [point_id(i) for i in ids],
                with_payload=["hm_id"],
                with_vectors=True,
            )
        except Exception as exc:
            raise StoreError(f"Qdrant get failed at {self.where}: {exc}") from exc
        return {
            str((p.payload or {})["hm_id"]): np.asarray(p.vector, dtype=np.float32) for p in points
        }

    def count(self) -> int:
        if not self._ready:
            return 0
        return int(self._client.count(self.collection_name, exact=True).count)

    def reset(self) -> None:
        """Delete every vector (the recorded embedder stays, as in the other stores)."""
        try:
            if self._client.collection_exists(self.collection_name):
                self._client.delete_collection(self.collection_name)
        except Exception as exc:
            raise StoreError(f"Qdrant reset failed at {self.where}: {exc}") from exc
        self._ready = False

    def close(self) -> None:
        client = self.__dict__.pop("_client", None)
        if client is not None:
            client.close()
