"""The by-id, by-scope, export/import and inspection methods of :class:`HybridMemory`
(kept here so each facade module stays readable; they validate and delegate like the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.filters import parse_filter
from hybrid_memory.memory import validate
from hybrid_memory.memory.crud import Crud
from hybrid_memory.memory.ingest import Ingest
from hybrid_memory.memory.locks import ScopeLocks
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.memory.transfer import export_records, import_batch, validate_records
from hybrid_memory.models import AuditEntry, HistoryEntry, MemoryItem, Message, Scope
from hybrid_memory.tokens import TokenCounter
from stores.base import RecordStore, VectorStore


class RecordsFacade:
    """Memories by id and by scope, export/import, and what the tiers hold."""

    config: MemoryConfig
    embedder: Embedder
    records: RecordStore
    vectors: VectorStore
    outbox: Outbox
    _crud: Crud
    _ingest: Ingest
    _locks: ScopeLocks
    _counter: TokenCounter

    # -- by id and by scope ---------------------------------------------------------------------

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """One memory by id. With scope ids given, a memory of another scope is not found."""
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        return self._crud.get(validate.memory_id(memory_id), scope)

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        include_superseded: bool = False,
    ) -> list[MemoryItem]:
        """Every current (unexpired) memory of the scope, newest first."""
        scope = Scope.of(user_id, agent_id, run_id)
        return self._crud.get_all(
            scope, parse_filter(filters), validate.list_limit(limit), include_superseded
        )

    def update(
        self,
        memory_id: str,
        text: str,
        *,
        metadata: dict[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
    ) -> MemoryItem:
        """Replace a memory's text (and optionally merge metadata); recorded in its history."""
        text = validate.memory_text(text, self.config.limits)
        meta = validate.metadata(metadata, self.config.limits)
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        return self._crud.update(validate.memory_id(memory_id), text, meta, scope, actor)

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Delete one memory (its history keeps a DELETE row)."""
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        self._crud.delete(validate.memory_id(memory_id), scope, actor)

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Delete every memory, turn and summary of the scope (requires at least one id; other
        scopes are untouched). Returns how many memories were deleted."""
        return self._crud.delete_all(Scope.of(user_id, agent_id, run_id), actor)

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEntry]:
        """The audit trail of one memory, oldest first (also after it was deleted)."""
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        return self._crud.history(validate.memory_id(memory_id), scope)

    def reset(self) -> None:
        """Delete everything: every scope's memories, history, turns and summaries."""
        with self._locks.exclusive():
            with self.records.unit_of_work() as uow:
                uow.reset()
            self.vectors.reset()
            self.records.ensure_embedder(self.embedder.name, self.embedder.dimension)
            self.vectors.ensure_embedder(self.embedder.name, self.embedder.dimension)

    def audit_log(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[AuditEntry]:
        """Model failures recovered from, oldest first (all scopes when no id is given)."""
        return self.records.audit(Scope.of(user_id, agent_id, run_id, require=False))

    # -- export / import ------------------------------------------------------------------------

    def export(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every record of the scope as JSON-ready dicts: memories (current and superseded),
        messages and summaries. Write them one per line for JSON Lines."""
        return export_records(self.records, Scope.of(user_id, agent_id, run_id))

    def import_records(self, records: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Load records written by :meth:`export` (into the scopes they name). Records already
        present (same memory id / message id) are skipped, so importing twice is harmless.
        Everything is validated first; on bad input nothing is written."""
        batch = validate_records(records)
        with self._locks.exclusive():
            counts = import_batch(self.records, self.embedder, self.config, self._counter, batch)
            for scope in dict.fromkeys(s for s, _ in batch.messages):
                self._ingest.fold(scope)
        self.outbox.drain()
        return counts

    # -- tiers, for inspection ------------------------------------------------------------------

    def get_summary(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> str:
        """The running summary of exactly this scope ("" when nothing left the buffer yet)."""
        return self.records.summary(Scope.of(user_id, agent_id, run_id)).text

    def get_buffer(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """The recent turns of exactly this scope, oldest first."""
        return [t.message for t in self.records.buffer(Scope.of(user_id, agent_id, run_id))]

    def get_messages(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """Every stored message of the scope (all runs when no run_id), in order."""
        return [m for _, m in self.records.turns(Scope.of(user_id, agent_id, run_id))]
