"""Configuration: one pydantic-settings model, env prefix ``HYBRID_MEMORY_``.

Every field can be set in code, or from the environment: ``HYBRID_MEMORY_DATA_DIR``, and nested
values with a double underscore, e.g. ``HYBRID_MEMORY_BUFFER__MAX_TOKENS=1500``.

Example:
    >>> from hybrid_memory import MemoryConfig
    >>> MemoryConfig(data_dir="./my-memory").buffer.max_tokens
    2000
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hybrid_memory.errors import ConfigError


class BufferConfig(BaseModel):
    """The recent-turn buffer of each run."""

    max_tokens: int = Field(default=2000, ge=0)
    """Turns beyond this many tokens (oldest first) leave the buffer and are summarized."""
    max_turns: int = Field(default=40, ge=0)


class SummaryConfig(BaseModel):
    """The running summary of each run."""

    max_tokens: int = Field(default=600, ge=0)
    token_model: str = "gpt-4o-mini"
    """Tokenizer used to measure buffer and summary sizes."""


class RetrievalConfig(BaseModel):
    """Hybrid retrieval: weights of the fused signals and candidate pool sizes."""

    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    unnamed_weight: float = Field(default=1.0, ge=0)
    """Weight of a third ranking: dense similarity to the query with its names replaced by
    "someone". A question that names a person is otherwise ranked mostly by the name, which
    most memories of a conversation between two people share, and less by what it asks."""
    subject_weight: float = Field(default=0.1, ge=0)
    """Boost of a memory whose subject is a person the query names."""
    entity_weight: float = Field(default=0.15, ge=0)
    entity_max_share: float = Field(default=0.2, ge=0, le=1)
    """Entities linked to more than this share of a scope's memories get no boost."""
    recency_weight: float = Field(default=0.05, ge=0)
    importance_weight: float = Field(default=0.05, ge=0)
    attribute_weight: float = Field(default=0.5, ge=0)
    """Boost of a fact whose attribute answers what the query asks (its current value; its
    former values when the query asks about the past, the one just before the value it names
    twice)."""
    when_weight: float = Field(default=0.3, ge=0)
    """Boost of a memory that carries a date when the query asks when something happened."""
    superseded_penalty: float = Field(default=0.5, ge=0, le=1)
    """Multiplier for the score of superseded values (unless the query asks about the past)."""
    kind_weights: dict[str, float] = Field(
        default_factory=lambda: {"entity": 0.6, "observation": 0.9}
    )
    """Score multipliers per memory kind: an entity card is rarely the answer itself, and a
    distilled fact is preferred to the raw utterance it came from."""
    redundancy_penalty: float = Field(default=0.6, ge=0, le=1)
    """Multiplier for a memory whose source messages better hits already cover (1 = off)."""
    similar_penalty: float = Field(default=0.7, ge=0, le=1)
    """Multiplier for a memory nearly the same (cosine at least ``similar_threshold``) as a
    better hit from other messages: the same thing said again pushes down what else is known
    (1 = off)."""
    similar_threshold: float = Field(default=0.85, ge=0, le=1)
    similar_window: int = Field(default=50, ge=0)
    """How many of the best candidates are compared with each other for ``similar_penalty``."""
    follow_replies: bool = True
    """A hit that asks a question brings the reply that answers it, at its rank, just before
    it and with its score (the reply's observation quotes the question; see
    :mod:`hybrid_memory.memory.exchanges`)."""
    rrf_k: int = Field(default=60, ge=1)
    candidates: int = Field(default=100, ge=1)
    """How many candidates each of the dense and the lexical retrievers contributes."""
    unfiltered_share: float = Field(default=0.5, ge=0, le=1.01)
    """Query the vector store unfiltered (then drop other scopes) when the caller's scope holds
    at least this share of it; 1.01 turns it off."""
    exact_filter_limit: int = Field(default=5000, ge=0)
    """With metadata filters, score every match exactly when there are at most this many."""
    exact_scope_limit: int = Field(default=2000, ge=0)
    """Without filters, score every memory of the scope exactly (vectors by id, no index)
    when it holds at most this many and a smaller share of the store than
    ``unfiltered_share``: the cost then follows the scope's size, not the store's."""


class ConsolidationConfig(BaseModel):
    """Offline consolidation thresholds."""

    duplicate_similarity: float = Field(default=0.95, ge=0, le=1)
    """A new fact at least this similar to a stored one of the same scope is a duplicate (NONE)."""
    neighbours: int = Field(default=5, ge=1, le=50)
    forget_similarity: float = Field(default=0.55, ge=0, le=1)
    """A "forget that ..." deletes the most similar memory if it is at least this similar."""


class ChromaConfig(BaseModel):
    """The embedded chromadb vector store."""

    collection: str = "hybrid_memory"
    path: Path | None = None
    """Defaults to ``<data_dir>/chroma``."""
    hnsw_space: str = "cosine"


class SQLiteConfig(BaseModel):
    """The SQLite history store (memory records, audit history, turns, summaries)."""

    path: Path | None = None
    """Defaults to ``<data_dir>/memory.db``."""
    busy_timeout_ms: int = Field(default=10_000, ge=0)


class PostgresConfig(BaseModel):
    """The PostgreSQL record store (``records.kind = "postgres"``), shared by every process
    and host that names the same dsn and schema."""

    dsn: str = "host=127.0.0.1 port=5432 dbname=postgres"
    """A libpq connection string or URL (``postgresql://user:password@host:5432/db``)."""
    schema_name: str = Field(default="hybrid_memory", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The PostgreSQL schema holding the tables: one per deployment (or tenant)."""
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Most connections for statements per process (as many more for locks)."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for a connection, or for a lock another process holds."""


class ChromaServerConfig(BaseModel):
    """The Chroma server vector store (``vectors.kind = "chroma-server"``; start it with
    ``chroma run --path DIR --host 127.0.0.1 --port 8000``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    collection: str = "hybrid_memory"
    ssl: bool = False
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers (the auth token of a hosted server)."""


class QdrantConfig(BaseModel):
    """The Qdrant vector store (``vectors.kind = "qdrant"``): a server or cluster by ``url``,
    or Qdrant's local mode in ``path`` (one process, like the embedded stores)."""

    url: str | None = None
    """``http://host:6333`` of a Qdrant server or cluster; None for local mode."""
    path: Path | None = None
    """The local-mode directory; defaults to ``<data_dir>/qdrant``."""
    collection: str = "hybrid_memory"
    api_key: str | None = None


class RecordsConfig(BaseModel):
    """Which record store is the source of truth (memories, history, turns, summaries)."""

    kind: Literal["sqlite", "memory", "postgres"] = "sqlite"
    """``sqlite``: a file under the data dir (settings in ``sqlite``); ``memory``: in this
    process only, gone when it exits (tests, throwaway agents); ``postgres``: a PostgreSQL
    schema shared by many processes (settings in ``postgres``)."""


class VectorsConfig(BaseModel):
    """Which vector store holds the embeddings."""

    kind: Literal["chroma", "memory", "chroma-server", "qdrant"] = "chroma"
    """``chroma``: embedded chromadb under the data dir (settings in ``chroma``); ``memory``:
    exact search in this process only; ``chroma-server``: a Chroma server (settings in
    ``chroma_server``); ``qdrant``: a Qdrant server, cluster or local directory (``qdrant``)."""
    cache_size: int = Field(default=100_000, ge=0)
    """Vectors kept in process memory (written or read by this process, least recently used
    dropped first): exact scoring of a small scope then reads no store. 0 keeps none."""
    lazy_open: bool = False
    """Open the vector store on its first use instead of when the memory opens (the command
    line does, so commands that only read records never load it)."""


class LimitsConfig(BaseModel):
    """Input size limits (bad input is refused with a typed error, nothing is written)."""

    max_message_chars: int = Field(default=50_000, ge=1)
    """Characters of one message's text (also of its tool calls as JSON, and of a memory's
    text given to ``update`` or ``import_records``)."""
    max_messages_per_add: int = Field(default=1_000, ge=1)
    max_query_chars: int = Field(default=10_000, ge=1)
    max_metadata_bytes: int = Field(default=16_384, ge=1)
    max_name_chars: int = Field(default=256, ge=1)
    """Characters of a message's ``name`` (the speaker)."""
    max_tool_calls: int = Field(default=128, ge=1)
    """Tool calls in one assistant message."""
    max_nesting_depth: int = Field(default=16, ge=1, le=100)
    """Levels of nesting in metadata and tool calls (SQLite's JSON reads stop at 1000)."""
    max_import_records: int = Field(default=100_000, ge=1)
    """Records in one ``import_records`` call (split bigger files)."""


class MemoryConfig(BaseSettings):
    """Everything :class:`HybridMemory` needs; defaults run fully offline.

    Args:
        data_dir: where SQLite and chroma keep their files (``$HYBRID_MEMORY_DATA_DIR``,
            default ``./.hybrid_memory``).
        embedder: an :class:`~hybrid_memory.embeddings.Embedder` instance; ``None`` loads the
            bundled all-MiniLM-L6-v2.
        embedding_model: the model used when ``embedder`` is None: ``all-MiniLM-L6-v2`` (the
            bundled model on onnxruntime), ``sentence-transformers:<model>`` (torch),
            ``hashing`` (see
            :func:`~hybrid_memory.embeddings.load_embedder`).
        extractor / summarizer / consolidator: instances implementing the protocols in
            :mod:`extractors.base`; ``None`` selects the model-backed ones when an LLM is
            configured, the offline ones otherwise.
        llm: an :class:`~hybrid_memory.llm.LLMConfig` (or set the ``OPENAI_*`` variables).
    """

    model_config = SettingsConfigDict(
        env_prefix="HYBRID_MEMORY_",
        env_nested_delimiter="__",
        extra="forbid",
        arbitrary_types_allowed=True,
    )

    data_dir: Path = Path(".hybrid_memory")
    embedding_model: str = "all-MiniLM-L6-v2"
    embedder: Any = Field(default=None, exclude=True)
    extractor: Any = Field(default=None, exclude=True)
    summarizer: Any = Field(default=None, exclude=True)
    consolidator: Any = Field(default=None, exclude=True)
    llm: Any = Field(default=None, exclude=True)
    """An :class:`~hybrid_memory.llm.LLMConfig`: extraction, consolidation and summaries then
    go through that model, with the offline pipeline as the fallback."""
    llm_from_env: bool = True
    """Without ``llm``, use the endpoint named by ``HYBRID_MEMORY_LLM_*`` / ``OPENAI_*``
    variables when there is one."""
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    consolidation: ConsolidationConfig = Field(default_factory=ConsolidationConfig)
    records: RecordsConfig = Field(default_factory=RecordsConfig)
    vectors: VectorsConfig = Field(default_factory=VectorsConfig)
    chroma: ChromaConfig = Field(default_factory=ChromaConfig)
    sqlite: SQLiteConfig = Field(default_factory=SQLiteConfig)
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    chroma_server: ChromaServerConfig = Field(default_factory=ChromaServerConfig)
    qdrant: QdrantConfig = Field(default_factory=QdrantConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    actor: str = "hybrid-memory"
    """Recorded as the actor of history rows written by the pipeline itself."""

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("data_dir must not be empty")
            return Path(value).expanduser()
        return value

    @property
    def chroma_path(self) -> Path:
        return self.chroma.path or self.data_dir / "chroma"

    @property
    def sqlite_path(self) -> Path:
        return self.sqlite.path or self.data_dir / "memory.db"

    @property
    def qdrant_path(self) -> Path:
        return self.qdrant.path or self.data_dir / "qdrant"


def load_config(**overrides: Any) -> MemoryConfig:
    """Build a :class:`MemoryConfig`, turning validation failures into :class:`ConfigError`."""
    try:
        return MemoryConfig(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid hybrid-memory configuration: {exc}") from exc


__all__ = [
    "BufferConfig",
    "ChromaConfig",
    "ChromaServerConfig",
    "ConsolidationConfig",
    "LimitsConfig",
    "MemoryConfig",
    "PostgresConfig",
    "QdrantConfig",
    "RecordsConfig",
    "RetrievalConfig",
    "SQLiteConfig",
    "SummaryConfig",
    "VectorsConfig",
    "load_config",
]
