"""Outbox repair: vector operations committed with the records are applied to the vector store.

Every write commits its vector operations into the record store's outbox in the same
transaction as the records; :meth:`Outbox.drain` applies them in order afterwards and removes
each once applied. It runs after every write and when the memory opens, so a crash between a
commit and the vector write is repaired by the next open. Applying an operation twice is
harmless (upserts and deletes are idempotent).
"""

from __future__ import annotations

import threading

from stores.base import RecordStore, VectorOp, VectorStore


class Outbox:
    """Drains the record store's outbox into the vector store, one drainer at a time."""

    def __init__(self, records: RecordStore, vectors: VectorStore):
        self.records = records
        self.vectors = vectors
        self._lock = threading.Lock()

    def apply(self, op: VectorOp) -> None:
        if op.op == "upsert":
            assert op.vectors is not None
            self.vectors.upsert(op.ids, op.vectors, op.metadatas or [{}] * len(op.ids))
        else:
            self.vectors.delete(op.ids)

    def drain(self) -> int:
        """Apply every pending operation, oldest first; returns how many were applied."""
        with self._lock:
            pending = self.records.pending()
            for seq, op in pending:
                self.apply(op)
                with self.records.unit_of_work() as uow:
                    uow.done([seq])
            return len(pending)
