"""Wiring: the embedder, the pipeline (model-backed or offline) and the stores, from the config.

The backends are picked by name (``records.kind``, ``vectors.kind``); each kind maps to its
store here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from extractors.base import Consolidator, Extractor, Summarizer
from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.llm import LLMClient, LLMConfig, UsageHook
from stores.base import RecordStore, VectorStore
from stores.lockfile import DataDirLock


class Pipeline:
    """The components that turn messages into memories. The offline ones are always there:
    they are the default, and the fallback of model-backed ones when the model fails.

    Each is built on first use: the offline rules compile many patterns, and a memory opened
    to list or read records never needs them.
    """

    def __init__(self, config: MemoryConfig, llm: LLMClient | None):
        self._config = config
        self._llm = llm

    @cached_property
    def offline_extractor(self) -> Extractor:
        from extractors.offline import OfflineExtractor

        return OfflineExtractor()

    @cached_property
    def offline_consolidator(self) -> Consolidator:
        from extractors.consolidation import OfflineConsolidator

        c = self._config.consolidation
        return OfflineConsolidator(c.duplicate_similarity, c.forget_similarity)

    @cached_property
    def offline_summarizer(self) -> Summarizer:
        from extractors.summary import OfflineSummarizer

        return OfflineSummarizer()

    @cached_property
    def extractor(self) -> Extractor:
        if self._config.extractor is not None:
            given: Extractor = self._config.extractor
            return given
        if self._llm is None:
            return self.offline_extractor
        from extractors.llm import LLMExtractor

        return LLMExtractor(self._llm)

    @cached_property
    def consolidator(self) -> Consolidator:
        if self._config.consolidator is not None:
            given: Consolidator = self._config.consolidator
            return given
        if self._llm is None:
            return self.offline_consolidator
        from extractors.llm import LLMConsolidator

        return LLMConsolidator(self._llm)

    @cached_property
    def summarizer(self) -> Summarizer:
        if self._config.summarizer is not None:
            given: Summarizer = self._config.summarizer
            return given
        if self._llm is None:
            return self.offline_summarizer
        from extractors.llm import LLMSummarizer

        return LLMSummarizer(self._llm)

    @property
    def model_extractor(self) -> Extractor | None:
        """The model-backed extractor, or None when extraction is offline."""
        if self._config.extractor is None and self._llm is None:
            return None  # known without building anything
        return None if self.extractor is self.offline_extractor else self.extractor

    @property
    def model_consolidator(self) -> Consolidator | None:
        if self._config.consolidator is None and self._llm is None:
            return None
        return None if self.consolidator is self.offline_consolidator else self.consolidator

    @property
    def model_summarizer(self) -> Summarizer | None:
        if self._config.summarizer is None and self._llm is None:
            return None
        return None if self.summarizer is self.offline_summarizer else self.summarizer


def build_llm(config: MemoryConfig, on_usage: UsageHook) -> LLMClient | None:
    llm_config = config.llm or (LLMConfig.from_env() if config.llm_from_env else None)
    return LLMClient(llm_config, on_usage=on_usage) if llm_config else None


def build_pipeline(config: MemoryConfig, llm: LLMClient | None) -> Pipeline:
    """The pipeline ``config`` names (model-backed when ``llm`` is given, else offline)."""
    return Pipeline(config, llm)


def build_embedder(config: MemoryConfig) -> Embedder:
    if config.embedder is not None:
        embedder: Embedder = config.embedder
        return embedder
    from hybrid_memory.embeddings import load_embedder

    return load_embedder(config.embedding_model)


def _sqlite(config: MemoryConfig) -> RecordStore:
    from stores.sqlite import SQLiteRecordStore

    return SQLiteRecordStore(config.sqlite_path, busy_timeout_ms=config.sqlite.busy_timeout_ms)


def _in_memory_records(config: MemoryConfig) -> RecordStore:
    from stores.inmemory import InMemoryRecordStore

    return InMemoryRecordStore()


def _chroma(config: MemoryConfig) -> VectorStore:
    from stores.chroma import ChromaVectorStore

    return ChromaVectorStore(config.chroma_path, config.chroma.collection, config.chroma.hnsw_space)


def _in_memory_vectors(config: MemoryConfig) -> VectorStore:
    from stores.inmemory import InMemoryVectorStore

    return InMemoryVectorStore()


def _postgres(config: MemoryConfig) -> RecordStore:
    from stores.postgres import PostgresRecordStore

    pg = config.postgres
    return PostgresRecordStore(
        pg.dsn, schema=pg.schema_name, pool_size=pg.pool_size, timeout=pg.timeout
    )


def _chroma_server(config: MemoryConfig) -> VectorStore:
    from stores.chroma_server import ChromaServerVectorStore

    c = config.chroma_server
    return ChromaServerVectorStore(
        c.host, c.port, c.collection, ssl=c.ssl, headers=c.headers or None
    )


def _qdrant(config: MemoryConfig) -> VectorStore:
    from stores.qdrant import QdrantVectorStore

    q = config.qdrant
    path = None if q.url else config.qdrant_path
    return QdrantVectorStore(q.url, path=path, collection=q.collection, api_key=q.api_key)


RECORD_STORES: dict[str, Callable[[MemoryConfig], RecordStore]] = {
    "sqlite": _sqlite,
    "memory": _in_memory_records,
    "postgres": _postgres,
}
VECTOR_STORES: dict[str, Callable[[MemoryConfig], VectorStore]] = {
    "chroma": _chroma,
    "memory": _in_memory_vectors,
    "chroma-server": _chroma_server,
    "qdrant": _qdrant,
}


EMBEDDED_RECORDS = ("sqlite",)
EMBEDDED_VECTORS = ("chroma",)


def embedded(config: MemoryConfig) -> bool:
    """Whether a store of ``config`` keeps its files under the data dir, for one process at a
    time (SQLite, embedded chroma, Qdrant's local mode)."""
    local_qdrant = config.vectors.kind == "qdrant" and not config.qdrant.url
    return (
        config.records.kind in EMBEDDED_RECORDS
        or config.vectors.kind in EMBEDDED_VECTORS
        or local_qdrant
    )


def shared(config: MemoryConfig) -> bool:
    """Whether several processes may open ``config`` at once (every store is a server)."""
    return not embedded(config) and "memory" not in (config.records.kind, config.vectors.kind)


def lock_data_dir(config: MemoryConfig) -> DataDirLock | None:
    """The single-writer lock of the data dir when an embedded store lives there (None for
    server and in-process backends: servers are shared, in-process stores share nothing)."""
    if embedded(config):
        return DataDirLock.acquire(config.data_dir)
    return None


def open_stores(config: MemoryConfig) -> tuple[RecordStore, VectorStore]:
    """The record and vector stores ``config`` names (opening the vector store only when the
    record store opened, so a refused open leaves nothing half-open)."""
    from stores.vector_cache import CachedVectorStore

    records = RECORD_STORES[config.records.kind](config)
    try:
        if shared(config):
            # Other processes write to a shared deployment: vectors and counts kept in this
            # process could go stale, so every read goes to the server.
            return records, VECTOR_STORES[config.vectors.kind](config)
        vectors = CachedVectorStore(
            lambda: VECTOR_STORES[config.vectors.kind](config),
            max_vectors=config.vectors.cache_size,
            lazy=config.vectors.lazy_open,
        )
        return records, vectors
    except BaseException:
        records.close()
        raise
