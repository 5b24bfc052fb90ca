"""Storage backends: vector stores (embedded chromadb, a Chroma server, Qdrant) and record stores
(SQLite, PostgreSQL), behind the protocols of :mod:`stores.base`.

Backends depend only on :mod:`hybrid_memory.models` and :mod:`hybrid_memory.errors`.
"""
