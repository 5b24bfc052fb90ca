"""The Chroma server vector store: the same collection logic as the embedded store, through
``chromadb.HttpClient``, so several processes and hosts share one vector store.

Start the server with ``chroma run --path DIR --host 127.0.0.1 --port 8000`` (it ships in the
chromadb package).
"""

from __future__ import annotations

import time

from hybrid_memory.errors import StoreError
from stores.chroma import ChromaVectorStore


class ChromaServerVectorStore(ChromaVectorStore):
    """Vectors in one collection of a Chroma server (see :class:`ChromaVectorStore`).

    Args:
        host / port: where ``chroma run`` listens.
        collection: collection name (3-512 characters of ``[a-zA-Z0-9._-]``).
        ssl: talk HTTPS.
        headers: extra HTTP headers (an auth token of a hosted server).
        space: HNSW distance (``cosine``).

    Example:
        >>> vectors = ChromaServerVectorStore("127.0.0.1", 8000, collection="memories")
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        collection: str = "hybrid_memory",
        *,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        space: str = "cosine",
    ):
        import chromadb
        from chromadb.config import Settings

        self.path = f"{'https' if ssl else 'http'}://{host}:{port}"  # type: ignore[assignment]
        self.collection_name = collection
        self.space = space
        try:
            self._client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                headers=headers,
                settings=Settings(anonymized_telemetry=False),
            )
            self._collection = self._open()
        except Exception as exc:
            raise StoreError(
                f"cannot open collection {collection!r} on the Chroma server at {self.path}: "
                f"{exc}. Is `chroma run --host {host} --port {port}` running?"
            ) from exc

    def _open(self):
        # Two processes creating the collection at once: the loser finds it on a second try.
        for attempt in range(3):
            try:
                return super()._open()
            except Exception:
                if attempt == 2:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def reset(self) -> None:
        try:
            super().reset()
        except Exception as exc:
            raise StoreError(f"chroma reset failed on {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the client and its HTTP connections (the server keeps running)."""
        super().close()
