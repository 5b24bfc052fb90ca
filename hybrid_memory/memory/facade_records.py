"""The by-id, by-scope, export/import and inspection methods of :class:`HybridMemory`
(kept here so each facade module stays readable; they validate and delegate like the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory.contracts import (
    AuditArgs,
    ByIdArgs,
    DeleteArgs,
    ListArgs,
    ScopeArgs,
    UpdateArgs,
    scope_ids,
    validate_records,
)
from hybrid_memory.memory.crud import Crud
from hybrid_memory.memory.ingest import Ingest
from hybrid_memory.memory.locks import ScopeLocks
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.memory.transfer import export_records, import_batch
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
    #
    # By-id calls look the id up within the scope given: the memory must carry every scope id
    # passed, and at least one must be passed. ``all_scopes=True`` is the operator's explicit
    # path to any scope; a service must never pass it through from its clients. An id may be
    # shortened to any unique prefix of at least 8 characters (as the CLI's tables print it).

    def _by_id(self, contract: type[ByIdArgs], *, history: bool = False, **arguments: Any) -> Any:
        """The checked arguments, with ``memory_id`` resolved to the full id."""
        args = contract.check(self.config.limits, **arguments)
        scope = None if args.all_scopes else args.scope
        full = self._crud.resolve(args.memory_id, scope, history=history)
        return args if full == args.memory_id else args.model_copy(update={"memory_id": full})

    def resolve_id(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> str:
        """The full id of a memory given by its id or a unique prefix of at least 8 characters,
        within the scope given (as :meth:`get` looks it up). ``get``, ``update``, ``delete``
        and ``history`` accept such a prefix themselves.

        Raises:
            AmbiguousIdError: several memories of the scope have ids starting with it (the
                error lists them).
            MemoryNotFoundError: none has.
        """
        return self.get(
            memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id, all_scopes=all_scopes
        ).id

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> MemoryItem:
        """One memory by id, within the scope given (see the note above on ``all_scopes``).

        Raises:
            ScopeError: no scope id was given (and not ``all_scopes=True``).
            MemoryNotFoundError: no memory with that id carries the scope ids given.
        """
        args = self._by_id(
            ByIdArgs,
            memory_id=memory_id,
            scope=scope_ids(user_id, agent_id, run_id),
            all_scopes=all_scopes,
        )
        return self._crud.get(args.memory_id, None if args.all_scopes else args.scope)

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        include_superseded: bool | None = None,
    ) -> list[MemoryItem]:
        """Every current (unexpired) memory of the scope, newest first; former values too with
        ``include_superseded=True``. ``None``, the default, shares :meth:`search`'s rule: a
        former value only where it is asked for. With no question, that is when ``filters``
        name ``status`` (``{"status": "superseded"}`` lists the former values); otherwise
        current memories only."""
        args = ListArgs.check(
            self.config.limits,
            scope=scope_ids(user_id, agent_id, run_id),
            filters=filters,
            limit=limit,
            include_superseded=include_superseded,
        )
        every = bool(args.superseded)
        return self._crud.get_all(args.scope, args.filter, args.limit, every)

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
        all_scopes: bool = False,
    ) -> MemoryItem:
        """Replace a memory's text (and optionally merge metadata); recorded in its history.
        The memory is looked up like :meth:`get` does."""
        args = self._by_id(
            UpdateArgs,
            memory_id=memory_id,
            scope=scope_ids(user_id, agent_id, run_id),
            all_scopes=all_scopes,
            text=text,
            metadata=metadata,
            actor=actor,
        )
        scope = None if args.all_scopes else args.scope
        return self._crud.update(args.memory_id, args.text, args.metadata, scope, args.actor)

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actor: str | None = None,
        all_scopes: bool = False,
    ) -> int:
        """Delete one memory (its history keeps a DELETE row). The memory is looked up like
        :meth:`get` does. Returns how many memories were deleted (1), like
        :meth:`delete_all`."""
        args = self._by_id(
            DeleteArgs,
            memory_id=memory_id,
            scope=scope_ids(user_id, agent_id, run_id),
            all_scopes=all_scopes,
            actor=actor,
        )
        return self._crud.delete(
            args.memory_id, None if args.all_scopes else args.scope, args.actor
        )

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
        args = ScopeArgs.check(
            self.config.limits, scope=scope_ids(user_id, agent_id, run_id), actor=actor
        )
        return self._crud.delete_all(args.scope, args.actor)

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_scopes: bool = False,
    ) -> list[HistoryEntry]:
        """The audit trail of one memory id, oldest first (also after it was deleted): the rows
        written in the scope given (an id reused by another scope later shows there, not
        here). ``all_scopes=True`` gives every row of the id."""
        args = self._by_id(
            ByIdArgs,
            history=True,
            memory_id=memory_id,
            scope=scope_ids(user_id, agent_id, run_id),
            all_scopes=all_scopes,
        )
        return self._crud.history(args.memory_id, None if args.all_scopes else args.scope)

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
        """Model failures recovered from and records quarantined, oldest first (all scopes when
        no id is given)."""
        args = AuditArgs.check(self.config.limits, scope=scope_ids(user_id, agent_id, run_id))
        return self.records.audit(args.scope)

    # -- export / import ------------------------------------------------------------------------

    def export(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every record of the scope as JSON-ready dicts: memories (current and superseded),
        messages and summaries. Write them one per line for JSON Lines."""
        return export_records(self.records, self._scope(user_id, agent_id, run_id))

    def import_records(self, records: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Load records written by :meth:`export` (into the scopes they name). Records already
        present (same memory id / message id) are skipped, so importing twice is harmless.
        Everything is validated first; on bad input nothing is written."""
        batch = validate_records(records, self.config.limits)
        with self._locks.exclusive():
            counts = import_batch(self.records, self.embedder, self.config, self._counter, batch)
            for scope in dict.fromkeys(s for s, _ in batch.messages):
                self._ingest.fold(scope)
        self.outbox.drain()
        return counts

    def _scope(self, user_id: Any, agent_id: Any, run_id: Any) -> Scope:
        """The one scope of a call that takes nothing else (at least one id)."""
        return ScopeArgs.check(self.config.limits, scope=scope_ids(user_id, agent_id, run_id)).scope

    # -- tiers, for inspection ------------------------------------------------------------------

    def get_summary(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> str:
        """The running summary of exactly this scope ("" when nothing left the buffer yet)."""
        return self.records.summary(self._scope(user_id, agent_id, run_id)).text

    def get_buffer(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """The recent turns of exactly this scope, oldest first."""
        return [t.message for t in self.records.buffer(self._scope(user_id, agent_id, run_id))]

    def get_messages(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """Every stored message of the scope (all runs when no run_id), in order."""
        return [m for _, m in self.records.turns(self._scope(user_id, agent_id, run_id))]
