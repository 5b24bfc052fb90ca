"""The PostgreSQL record store: the source of truth shared by many processes and hosts.

Install with ``pip install "hybrid-memory[postgres]"``.
"""

from stores.postgres.store import PostgresRecordStore

__all__ = ["PostgresRecordStore"]
