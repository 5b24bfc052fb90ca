"""``HybridMemory``: the public face of the memory. It validates arguments and delegates.

Where each job is done:

- add: :mod:`~hybrid_memory.memory.ingest` (persist → extract → plan → commit), with
  :mod:`~hybrid_memory.memory.extract`, :mod:`~hybrid_memory.memory.consolidate`,
  :mod:`~hybrid_memory.memory.fold` and :mod:`~hybrid_memory.memory.commit`;
- search and context: :mod:`~hybrid_memory.memory.search` (candidates → rank → pack);
- by id and by scope: :mod:`~hybrid_memory.memory.crud`; export/import:
  :mod:`~hybrid_memory.memory.transfer`; vector repair: :mod:`~hybrid_memory.memory.outbox`;
- wiring from the config: :mod:`~hybrid_memory.memory.components`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.llm import UsageHook
from hybrid_memory.memory.candidates import SearchRequest
from hybrid_memory.memory.components import (
    build_embedder,
    build_llm,
    build_pipeline,
    lock_data_dir,
    open_stores,
)
from hybrid_memory.memory.consolidate import AddOptions, Consolidation
from hybrid_memory.memory.context import CONTEXT_TIERS
from hybrid_memory.memory.contracts import (
    AddArgs,
    ContextArgs,
    ReprocessArgs,
    SearchArgs,
    scope_ids,
)
from hybrid_memory.memory.crud import Crud
from hybrid_memory.memory.facade_records import RecordsFacade
from hybrid_memory.memory.ingest import Ingest
from hybrid_memory.memory.lifecycle import Lifecycle
from hybrid_memory.memory.locks import InFlight, ScopeLocks
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.memory.search import Search
from hybrid_memory.models import (
    AddResult,
    MemoryContext,
    MemoryHit,
)
from hybrid_memory.tokens import TokenCounter
from stores.base import ProcessLocks


class HybridMemory(Lifecycle, RecordsFacade):
    """Long-term memory for assistants and agents, per user / agent / run.

    Args:
        config: everything it needs (defaults run fully offline under ``./.hybrid_memory``).
        on_usage: called with ``(model, prompt_tokens, completion_tokens, category)`` after
            every model call of the memory pipeline (e.g. ``UsageTracker(...).record``).
        **overrides: fields of :class:`MemoryConfig` to set on top of ``config``.

    With the embedded stores (SQLite, chroma), one memory at a time may have a data dir open:
    another opener gets :class:`~hybrid_memory.errors.StoreLockedError` naming the holder,
    until :meth:`close`. Whatever a crash left unprocessed is finished on open; what cannot be
    processed is quarantined (:meth:`quarantined`), never a reason not to open.

    Example:
        >>> memory = HybridMemory(MemoryConfig(data_dir="./my-memory"))
        >>> memory.add("I moved to Boston last spring.", user_id="caroline")
        >>> memory.search("Where does Caroline live?", user_id="caroline")[0].memory
    """

    def __init__(
        self,
        config: MemoryConfig | None = None,
        *,
        on_usage: UsageHook | None = None,
        **overrides: Any,
    ):
        if config is None:
            config = MemoryConfig(**overrides)
        elif overrides:
            config = config.model_copy(update=overrides)
        self.config = config
        self.on_usage: UsageHook | None = on_usage
        config.data_dir.mkdir(parents=True, exist_ok=True)
        # Taken first, so a second opener fails before it loads anything.
        self._data_lock = lock_data_dir(config)
        self._closed = False
        try:
            self.embedder = build_embedder(config)
            self.llm = build_llm(config, self._report_usage)
            self.pipeline = build_pipeline(config, self.llm)
            self.records, self.vectors = open_stores(config)
        except BaseException:
            self._release_lock()
            raise
        try:
            self._wire()
            self.records.ensure_embedder(self.embedder.name, self.embedder.dimension)
            self.vectors.ensure_embedder(self.embedder.name, self.embedder.dimension)
            self._recover()
        except BaseException:
            self.close()
            raise

    def _wire(self) -> None:
        config, counter = self.config, TokenCounter.for_model(self.config.summary.token_model)
        across = self.records if isinstance(self.records, ProcessLocks) else None
        self._locks = ScopeLocks(across)
        self.outbox = Outbox(self.records, self.vectors, self.embedder, self._locks)
        consolidation = Consolidation(
            self.records, self.vectors, self.embedder, self.pipeline, config
        )
        self._ingest = Ingest(
            self.records,
            config,
            self.pipeline,
            consolidation,
            counter,
            self._locks,
            InFlight(),
            self.outbox,
        )
        self._search = Search(self.records, self.vectors, self.embedder, config.retrieval)
        self._crud = Crud(self.records, self.embedder, config, self._locks, self.outbox)
        self._counter = counter

    @property
    def extractor(self) -> Any:
        return self.pipeline.extractor

    @property
    def consolidator(self) -> Any:
        return self.pipeline.consolidator

    @property
    def summarizer(self) -> Any:
        return self.pipeline.summarizer

    def _report_usage(self, model: str, prompt: int, completion: int, category: str) -> None:
        if self.on_usage is not None:
            self.on_usage(model, prompt, completion, category)

    # -- add ------------------------------------------------------------------------------------

    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool = True,
        expires_at: datetime | str | None = None,
        actor: str | None = None,
        defer: bool = False,
    ) -> AddResult:
        """Remember messages: buffer them, fold overflow into the summary, extract and
        consolidate long-term memories.

        Args:
            messages: a string, one OpenAI chat message dict, or a list of them. Optional keys:
                ``name`` (speaker), ``id`` (your message id; memories list it in ``sources``),
                ``timestamp`` (ISO 8601 or datetime: when it was said).
            user_id / agent_id / run_id: the scope; at least one is required.
            metadata: JSON-serializable dict stored on every memory of this add (filterable).
            infer: ``False`` stores each message verbatim as a memory, without extraction.
            expires_at: after this time, search and get_all no longer return these memories.
            actor: recorded in the history rows (defaults to the speaker or config.actor).
            defer: only store the messages (durably, with these options) and return their
                ids without extracting anything; an ``add`` of the same messages (same ids)
                or :meth:`reprocess` turns them into memories later, exactly once. A service
                answers at once this way and processes in the background.

        Returns:
            The events applied (ADD / UPDATE / DELETE / NONE) and the stored message ids.
            Messages whose id was already stored in this scope are skipped (idempotent re-add).

        Raises:
            ScopeError, MessageFormatError, InputTooLargeError, UserInputError: bad input
                (see :mod:`~hybrid_memory.memory.contracts`); nothing was written.
            ProcessingError: the messages were stored but could not be turned into memories
                in a way a retry would repeat; they are quarantined (:meth:`quarantined`,
                :meth:`repair`).
            HybridMemoryError: a model, endpoint or store was unavailable after the messages
                were stored; retrying the same add (same message ids) finishes it.
        """
        args = AddArgs.check(
            self.config.limits,
            scope=scope_ids(user_id, agent_id, run_id),
            messages=messages,
            metadata=metadata,
            infer=infer,
            expires_at=expires_at,
            actor=actor,
        )
        options = AddOptions(
            metadata=args.metadata,
            infer=args.infer,
            actor=args.actor,
            expires_at=args.expires_at,
        )
        return self._ingest.add(args.scope, args.messages, options, defer=defer)

    def reprocess(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> AddResult:
        """Extract the stored messages that were never processed (a crash or a failure after
        they were saved), in order; idempotent: processed messages are never extracted twice.
        Without ids, every scope is processed. A batch that fails in a way a retry would
        repeat is quarantined (with a :class:`~hybrid_memory.errors.QuarantineWarning`) and
        the others go on."""
        scope = ReprocessArgs.check(
            self.config.limits, scope=scope_ids(user_id, agent_id, run_id)
        ).scope
        return self._ingest.reprocess(None if scope.is_empty else scope)

    # -- search and context ---------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        filters: dict[str, Any] | None = None,
        threshold: float | None = None,
        include_superseded: bool | None = None,
    ) -> list[MemoryHit]:
        """Hybrid search within one scope: dense + BM25 fused, entity/recency/importance boosts.

        Args:
            query: what to look for.
            limit: how many hits at most (1-1000).
            filters: metadata filters (see :mod:`hybrid_memory.filters`); they only narrow.
            threshold: minimum ``score`` (0-1) of a returned hit.
            include_superseded: ``None`` (the default) returns a former value only where it
                answers the question: when the query asks about the past ("before", "when",
                "used to") or about that value's attribute ("Where did I live?"), as the
                context does, or when ``filters`` name ``status`` (the filter then decides:
                ``{"status": "superseded"}`` gives former values). ``True`` returns former
                values too (ranked below current ones unless the query asks about the past);
                ``False`` current memories only.

        Returns:
            Hits, best first; ``score`` is higher for more relevant memories.
        """
        args = SearchArgs.check(
            self.config.limits,
            scope=scope_ids(user_id, agent_id, run_id),
            query=query,
            limit=limit,
            filters=filters,
            threshold=threshold,
            include_superseded=include_superseded,
        )
        request = SearchRequest(
            scope=args.scope,
            query=args.query,
            limit=args.limit,
            filter=args.filter,
            threshold=args.threshold,
            include_superseded=args.superseded,
        )
        return self._search.search(request)

    def get_context(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        token_budget: int,
        model: str = "gpt-4o-mini",
        limit: int = 50,
        filters: dict[str, Any] | None = None,
        tiers: Sequence[str] = CONTEXT_TIERS,
        present_ids: Sequence[str] = (),
    ) -> MemoryContext:
        """The merged context for ``query``: framing instructions, the most relevant memories
        with their dates, the running summary and the recent turns of the run, packed into
        ``token_budget`` tokens of ``model`` (exact for OpenAI models).

        ``tokens <= token_budget`` always holds; what did not fit is listed in ``dropped``.
        Long-term memories come from every run of the user/agent; the buffer and the summary
        are those of the run.

        Args:
            tiers: Which of ``"memories"``, ``"summary"``, ``"recent"`` to include. An agent
                loop that sends its own history asks for ``("memories",)`` only; the whole
                budget then goes to the tiers asked for.
            present_ids: Ids of messages the caller already sends verbatim; observations
                that only repeat them are left out (as for the recent turns).
        """
        args = ContextArgs.check(
            self.config.limits,
            scope=scope_ids(user_id, agent_id, run_id),
            tiers=tiers,
            present_ids=present_ids,
            token_budget=token_budget,
            model=model,
            query=query,
            limit=limit,
            filters=filters,
        )
        request = SearchRequest(
            scope=args.scope.owner,
            query=args.query,
            limit=args.limit,
            filter=args.filter,
            threshold=None,
            include_superseded=True,
        )
        return self._search.context(
            request,
            run=args.scope,
            tiers=args.tiers,
            token_budget=args.token_budget,
            counter=TokenCounter.for_model(args.model),
            present_ids=args.present_ids,
        )
