"""The lifecycle methods of :class:`HybridMemory`: recovery on open, repair, the quarantine
report, and close (which gives the data dir's lock back)."""

from __future__ import annotations

from typing import Any, Self

from hybrid_memory.memory.components import Pipeline
from hybrid_memory.memory.ingest import Ingest
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.memory.quarantine import entries
from hybrid_memory.models import QuarantineEntry, RepairReport
from stores.base import RecordStore, VectorStore
from stores.lockfile import DataDirLock


class Lifecycle:
    """Open, repair, close."""

    records: RecordStore
    vectors: VectorStore
    pipeline: Pipeline
    outbox: Outbox
    _ingest: Ingest
    _data_lock: DataDirLock | None
    _closed: bool

    def _recover(self) -> None:
        """On open: replay the vector outbox, then extract messages a crash left unprocessed
        (with the offline pipeline only; a model-backed one waits for :meth:`reprocess`).
        Whatever cannot be processed is quarantined: nothing stored keeps the memory from
        opening."""
        self.outbox.drain()
        if self.pipeline.model_extractor is None:
            self._ingest.reprocess(None, on_open=True)

    def repair(self) -> RepairReport:
        """Apply vector operations committed but not applied yet (after a crash; this also
        runs on open and after every write), then retry what is quarantined: vector writes
        are reconciled with the records, message batches processed again.

        Returns:
            What was done, and what is still quarantined (with the error of the last try).
        """
        replayed = self.outbox.drain()
        reconciled = self.outbox.retry_quarantined()
        reprocessed = self._ingest.retry_quarantined()
        return RepairReport(
            replayed=replayed,
            reconciled=reconciled,
            reprocessed=reprocessed,
            quarantined=self.quarantined(),
        )

    def quarantined(self) -> list[QuarantineEntry]:
        """What is stored but could not be processed, set aside so it blocks nothing else
        (message batches, then vector writes; oldest first). :meth:`repair` retries them; the
        audit log has a ``quarantine`` row for each."""
        return entries(self.records)

    def _release_lock(self) -> None:
        if self._data_lock is not None:
            self._data_lock.release()

    def close(self) -> None:
        """Release the stores and the data dir's lock (closing twice is harmless). The object
        is unusable afterwards."""
        if self._closed:
            return
        self._closed = True
        try:
            self.records.close()
            self.vectors.close()
        finally:
            self._release_lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
