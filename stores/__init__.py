"""Storage backends: a vector store (chromadb) and a history store (SQLite).

Backends depend only on :mod:`hybrid_memory.models` and :mod:`hybrid_memory.errors`.
"""
