"""Outbox repair: vector operations committed with the records are applied to the vector store.

Every write commits its vector operations into the record store's outbox in the same
transaction as the records; :meth:`Outbox.drain` applies them in order afterwards and removes
each once applied. It runs after every write and when the memory opens, so a crash between a
commit and the vector write is repaired by the next open. Applying an operation twice is
harmless (upserts and deletes are idempotent).

An operation the vector store refuses is applied id by id, and the ids it still refuses are
quarantined (:mod:`~hybrid_memory.memory.quarantine`): one bad record never blocks the writes
after it. :meth:`Outbox.retry_quarantined` reconciles those ids with the record store (the
source of truth) when asked to repair.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext

from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory.changes import vector_meta
from hybrid_memory.memory.locks import ScopeLocks
from hybrid_memory.memory.quarantine import describe, quarantine_vectors
from stores.base import RecordStore, VectorOp, VectorStore


def _part(op: VectorOp, index: int) -> VectorOp:
    """The operation for its ``index``-th id alone."""
    return VectorOp(
        op.op,
        [op.ids[index]],
        op.vectors[index : index + 1] if op.vectors is not None else None,
        [op.metadatas[index]] if op.metadatas is not None else None,
    )


class Outbox:
    """Drains the record store's outbox into the vector store, one drainer at a time."""

    def __init__(
        self,
        records: RecordStore,
        vectors: VectorStore,
        embedder: Embedder,
        locks: ScopeLocks | None = None,
    ):
        self.records = records
        self.vectors = vectors
        self.embedder = embedder
        self._lock = threading.Lock()
        # With a record store shared by several processes, any of them drains the outbox (a
        # crashed worker's pending writes are applied by the next drain anywhere), one at a time.
        self._turn = locks.drain if locks is not None else nullcontext

    def apply(self, op: VectorOp) -> None:
        if op.op == "upsert":
            assert op.vectors is not None
            self.vectors.upsert(op.ids, op.vectors, op.metadatas or [{}] * len(op.ids))
        else:
            self.vectors.delete(op.ids)

    def _refused(self, op: VectorOp) -> tuple[list[int], str]:
        """Apply ``op``; when the vector store refuses it, apply each id alone. Returns the
        positions of the ids still refused, and the last error."""
        try:
            self.apply(op)
            return [], ""
        except Exception as exc:  # any refusal: it must not block the entries after it
            error = describe(exc)
        refused = []
        for i in range(len(op.ids)):
            try:
                self.apply(_part(op, i))
            except Exception as exc:
                refused.append(i)
                error = describe(exc)
        return refused, error

    def drain(self) -> int:
        """Apply every pending operation, oldest first (quarantining what the vector store
        refuses); returns how many were taken out of the outbox."""
        with self._lock, self._turn():
            pending = self.records.pending()
            for seq, op in pending:
                refused, error = self._refused(op)
                if refused:
                    kept = VectorOp(op.op, [op.ids[i] for i in refused])
                    quarantine_vectors(self.records, kept, error, done=seq)
                    continue
                with self.records.unit_of_work() as uow:
                    uow.done([seq])
            return len(pending)

    def retry_quarantined(self) -> list[str]:
        """Bring the vectors of quarantined ids in line with the records (upsert what exists,
        re-embedded from its current text; delete what does not); returns the ids done."""
        done: list[str] = []
        with self._lock, self._turn():
            for entry in self.records.quarantined_ops():
                items = self.records.get_memories(entry.op.ids)
                upserts = [i for i in entry.op.ids if i in items]
                refused, error = [], entry.error
                try:
                    vectors = self.embedder.embed_batch([items[i].memory for i in upserts])
                    metas = [vector_meta(items[i]) for i in upserts]
                    op = VectorOp("upsert", upserts, vectors, metas)
                    positions, error = self._refused(op) if upserts else ([], error)
                    refused = [upserts[p] for p in positions]
                    gone = [i for i in entry.op.ids if i not in items]
                    if gone:
                        self.vectors.delete(gone)
                except Exception as exc:  # still unavailable: it stays quarantined
                    refused, error = list(entry.op.ids), describe(exc)
                if refused:
                    kept = VectorOp(entry.op.op, refused)
                    quarantine_vectors(self.records, kept, error, warn=False, done=entry.seq)
                else:
                    with self.records.unit_of_work() as uow:
                        uow.done([entry.seq])
                done.extend(i for i in entry.op.ids if i not in refused)
        return done
