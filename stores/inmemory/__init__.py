"""The in-memory backend: the storage contract in plain Python (no I/O), for tests and as the
reference for new backends."""

from stores.inmemory.records import InMemoryRecordStore, InMemoryUnitOfWork
from stores.inmemory.vectors import InMemoryVectorStore

__all__ = ["InMemoryRecordStore", "InMemoryUnitOfWork", "InMemoryVectorStore"]
