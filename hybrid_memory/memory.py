"""``HybridMemory``: the orchestrator of the three tiers.

- the recent-turn buffer of each run (verbatim, bounded in tokens),
- the running summary of each run (turns leaving the buffer are folded into it),
- long-term memories (facts, entities, observations) in the vector store, consolidated on every add.

SQLite is the source of truth; chroma holds the vectors. One ``add`` commits everything it changes
in one SQLite transaction together with an outbox of vector operations, applied to chroma after
the commit and replayed on open, so a crash never leaves half an add behind.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from extractors.base import ConsolidationDecision, Consolidator, Extractor, Summarizer
from extractors.consolidation import OfflineConsolidator
from extractors.llm import LLMConsolidator, LLMExtractor, LLMSummarizer
from hybrid_memory.config import MemoryConfig
from hybrid_memory.context import CONTEXT_TIERS, build_context
from hybrid_memory.embeddings import Embedder
from hybrid_memory.errors import (
    ConfigError,
    ExtractionError,
    InputTooLargeError,
    MemoryNotFoundError,
    TokenBudgetError,
    UserInputError,
)
from hybrid_memory.filters import compile_filter
from hybrid_memory.llm import LLMClient, LLMConfig, UsageHook
from hybrid_memory.messages import normalize_messages, to_chat
from hybrid_memory.models import (
    AddEvent,
    AddResult,
    AuditEntry,
    EventType,
    ExtractedFact,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    MemoryKind,
    MemoryStatus,
    Message,
    Scope,
    as_utc,
    content_hash,
    utcnow,
)
from hybrid_memory.ranking import Candidate, fuse
from hybrid_memory.tokens import TokenCounter
from stores.chroma import ChromaVectorStore
from stores.sqlite import SQLiteHistoryStore, VectorOp

_WORD = re.compile(r"[\w'-]+", re.UNICODE)
MAX_LIMIT = 1000
_SOURCES_CAP = 8


def _parse_when(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise UserInputError(f"{what} must be an ISO 8601 date/time or a datetime, got {value!r}")


def _check_metadata(metadata: Any, max_bytes: int) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise UserInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    for key in metadata:
        if not isinstance(key, str) or not key:
            raise UserInputError(f"metadata keys must be non-empty strings, got {key!r}")
    try:
        encoded = json.dumps(metadata, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"metadata must be JSON-serializable: {exc}") from None
    if len(encoded.encode("utf-8")) > max_bytes:
        raise InputTooLargeError(
            f"metadata is {len(encoded)} bytes as JSON; the limit is {max_bytes}"
        )
    return json.loads(encoded)


def _merge_upserts(ops: list[VectorOp]) -> VectorOp | None:
    """One vector upsert for a whole add (a chroma write costs the same for 1 or 50 items);
    when an id is written twice, the last write wins."""
    latest: dict[str, tuple[np.ndarray, dict[str, str]]] = {}
    for op in ops:
        for index, memory_id in enumerate(op.ids):
            latest.pop(memory_id, None)
            latest[memory_id] = (op.vectors[index], (op.metadatas or [{}])[index])
    if not latest:
        return None
    ids = list(latest)
    vectors = np.stack([latest[i][0] for i in ids])
    return VectorOp("upsert", ids, vectors, [latest[i][1] for i in ids])


class HybridMemory:
    """Long-term memory for assistants and agents, per user / agent / run.

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
        self._lock = threading.RLock()
        self._in_flight: set[tuple[str, str]] = set()
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.on_usage: UsageHook | None = on_usage
        """Called with ``(model, prompt_tokens, completion_tokens, category)`` after every
        model call of the memory pipeline (e.g. ``UsageTracker(...).record``); may be set
        later."""
        self.embedder: Embedder = config.embedder or self._default_embedder()
        # The offline pipeline is always there: it is the default, and the fallback of a
        # model-backed pipeline when the model fails.
        from extractors.offline import OfflineExtractor
        from extractors.summary import OfflineSummarizer

        c = config.consolidation
        self.offline_extractor: Extractor = OfflineExtractor()
        self.offline_summarizer: Summarizer = OfflineSummarizer()
        self.offline_consolidator: Consolidator = OfflineConsolidator(
            c.duplicate_similarity, c.forget_similarity
        )
        llm_config = config.llm or (LLMConfig.from_env() if config.llm_from_env else None)
        self.llm: LLMClient | None = (
            LLMClient(llm_config, on_usage=self._report_usage) if llm_config else None
        )
        self.extractor: Extractor = config.extractor or (
            LLMExtractor(self.llm) if self.llm else self.offline_extractor
        )
        self.summarizer: Summarizer = config.summarizer or (
            LLMSummarizer(self.llm) if self.llm else self.offline_summarizer
        )
        self.consolidator: Consolidator = config.consolidator or (
            LLMConsolidator(self.llm) if self.llm else self.offline_consolidator
        )
        self._counter = TokenCounter.for_model(config.summary.token_model)
        self.history_store = SQLiteHistoryStore(
            config.sqlite_path, busy_timeout_ms=config.sqlite.busy_timeout_ms
        )
        self.vector_store = ChromaVectorStore(
            config.chroma_path, config.chroma.collection, config.chroma.hnsw_space
        )
        self.history_store.ensure_embedder(self.embedder.name, self.embedder.dimension)
        self.vector_store.ensure_embedder(self.embedder.name, self.embedder.dimension)
        self._recover()

    def _report_usage(self, model: str, prompt: int, completion: int, category: str) -> None:
        if self.on_usage is not None:
            self.on_usage(model, prompt, completion, category)

    # -- defaults -------------------------------------------------------------------------------

    def _default_embedder(self) -> Embedder:
        model = self.config.embedding_model
        if model.startswith("hashing"):
            # The deterministic test embedder: "hashing" or "hashing-<dimension>".
            from hybrid_memory.embeddings import HashingEmbedder

            _, _, dim = model.partition("-")
            if dim and not dim.isdigit():
                raise ConfigError(f"embedding_model {model!r}: use 'hashing' or 'hashing-<int>'")
            return HashingEmbedder(int(dim) if dim else 384)
        from hybrid_memory.embeddings import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)

    # -- lifecycle ------------------------------------------------------------------------------

    def repair(self) -> int:
        """Apply vector operations committed but not yet applied (after a crash); returns how
        many were replayed. Runs automatically on open and after every write."""
        with self._lock:
            pending = self.history_store.pending()
            for seq, op in pending:
                self._apply(op)
                self.history_store.done([seq])
            return len(pending)

    def _recover(self) -> None:
        """On open: replay the vector outbox, then extract messages a crash left unprocessed
        (with the offline pipeline only; a model-backed one waits for :meth:`reprocess`)."""
        self.repair()
        if self.extractor is self.offline_extractor:
            self.reprocess()

    def _apply(self, op: VectorOp) -> None:
        if op.op == "upsert":
            self.vector_store.upsert(op.ids, op.vectors, op.metadatas or [{}] * len(op.ids))
        elif op.op == "delete":
            self.vector_store.delete(op.ids)

    def close(self) -> None:
        """Release the stores. The object is unusable afterwards."""
        with self._lock:
            self.history_store.close()
            self.vector_store.close()

    def __enter__(self) -> HybridMemory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

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

        Returns:
            The events applied (ADD / UPDATE / DELETE / NONE) and the stored message ids.
            Messages whose id was already stored in this scope are skipped (idempotent re-add).

        Raises:
            ScopeError, MessageFormatError, InputTooLargeError, UserInputError: bad input;
                nothing was written.
        """
        scope = Scope.of(user_id, agent_id, run_id)
        limits = self.config.limits
        msgs = normalize_messages(
            messages, max_chars=limits.max_message_chars, max_messages=limits.max_messages_per_add
        )
        meta = _check_metadata(metadata, limits.max_metadata_bytes)
        expiry = _parse_when(expires_at, "expires_at")
        if not isinstance(infer, bool):
            raise UserInputError(f"infer must be True or False, got {infer!r}")

        with self._lock:
            known = self.history_store.message_ids_exist(scope, [m.id for m in msgs])
            new = [m for m in msgs if m.id not in known]
            if not new:
                return AddResult(message_ids=[m.id for m in msgs])
            context = self.history_store.recent_turns(scope, 12)
            # Phase 1: the raw messages are durable before any extraction (or model call), so
            # a failure or crash from here on loses nothing: reprocess() picks them up.
            now = utcnow()
            options = {
                "metadata": meta,
                "infer": infer,
                "actor": actor,
                "expires_at": expiry.isoformat() if expiry else None,
            }
            with self.history_store.transaction():
                for m in new:
                    self.history_store.insert_turn(
                        scope, m, self._counter.count_message(to_chat(m)), now, options
                    )
            in_flight = {(scope.key, m.id) for m in new}
            self._in_flight |= in_flight
        try:
            # Extraction runs outside the lock: slow model calls of one add do not block others.
            candidates, degraded = self._extract(scope, new, context, infer)
            with self._lock:
                result = self._apply_candidates(
                    scope, new, candidates, meta, expiry, actor, infer, degraded=degraded
                )
        finally:
            with self._lock:
                self._in_flight -= in_flight
        result.message_ids = [m.id for m in msgs]
        return result

    def _extract(
        self, scope: Scope, new: list[Message], context: list[Message], infer: bool
    ) -> tuple[list[ExtractedFact], bool]:
        """Candidates for ``new``, and whether the model failed (the offline extractor then
        stood in, the failure is audited, and the rest of this add stays offline)."""
        if not infer:
            return [self._verbatim(m) for m in new if m.content.strip()], False
        try:
            return self.extractor.extract(new, context=context), False
        except ExtractionError as exc:
            if self.extractor is self.offline_extractor:
                raise
            self._audit(scope, "extraction", [m.id for m in new], exc)
            return self.offline_extractor.extract(new, context=context), True

    def _audit(self, scope: Scope, stage: str, message_ids: list[str], exc: Exception) -> None:
        """Record a model failure, with the raw reply when there was one."""
        self.history_store.add_audit(
            uuid.uuid4().hex,
            scope=scope,
            stage=stage,
            message_ids=message_ids,
            error=f"{type(exc).__name__}: {exc}",
            raw=getattr(exc, "raw", None),
            at=utcnow(),
        )

    def _apply_candidates(
        self,
        scope: Scope,
        new: list[Message],
        candidates: list[ExtractedFact],
        meta: dict[str, Any],
        expiry: datetime | None,
        actor: str | None,
        infer: bool,
        *,
        degraded: bool = False,
    ) -> AddResult:
        """Phase 2: consolidate the candidates, fold the buffer and mark the messages
        extracted, all in one transaction (with the vector outbox)."""
        result = AddResult()
        said_at = {m.id: m.timestamp for m in new}
        for cand in candidates:
            # Sources must name messages of this add (a candidate naming none is attributed
            # to the whole add); the event time defaults to when the first source was said.
            cand.sources = [s for s in cand.sources if s in said_at] or list(said_at)
            if cand.event_time is None:
                cand.event_time = said_at[cand.sources[0]]
        # Exact duplicates of stored memories are settled by their hash alone, so only the
        # other candidates are embedded (each distinct text once).
        owner = scope.owner
        stored = self.history_store.active_hashes(owner, [self._hash(c) for c in candidates])
        texts = list(
            dict.fromkeys(c.text for c in candidates if c.retraction or self._hash(c) not in stored)
        )
        embedded, neighbours = self._embed_and_prefetch(texts, owner)
        now = utcnow()
        ops: list[VectorOp] = []
        use_model = [not degraded and self.consolidator is not self.offline_consolidator]

        def decide(cand: ExtractedFact, existing: list[MemoryItem], scores: list[float]):
            if use_model[0]:
                try:
                    return self.consolidator.decide(cand, existing, scores)
                except ExtractionError as exc:
                    # One failure is enough: the rest of this add is consolidated offline.
                    self._audit(scope, "consolidation", cand.sources, exc)
                    use_model[0] = False
            return self.offline_consolidator.decide(cand, existing, scores)

        with self.history_store.transaction():
            planned: list[tuple[MemoryItem, np.ndarray]] = []
            for cand in candidates:
                event = self._consolidate(
                    scope,
                    cand,
                    embedded.get(cand.text),
                    neighbours.get(cand.text),
                    meta,
                    expiry,
                    now,
                    planned,
                    ops,
                    actor,
                    decide,
                    verbatim=not infer,
                )
                if event is not None:
                    result.results.append(event)
            self._fold_buffer(scope, now)
            merged = _merge_upserts(ops)
            if merged is not None:
                self.history_store.enqueue(merged)
            self.history_store.mark_extracted(scope, [m.id for m in new])
        self.repair()
        return result

    def reprocess(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> AddResult:
        """Extract the stored messages that were never processed (a crash or a failure after
        they were saved), in order; idempotent: processed messages are never extracted twice.
        Without ids, every scope is processed."""
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        total = AddResult()
        with self._lock:
            batches = self.history_store.unextracted(None if scope.is_empty else scope)
        for batch_scope, options, stored in batches:
            with self._lock:
                # Messages of an add still running belong to that add, not to us.
                messages = [m for m in stored if (batch_scope.key, m.id) not in self._in_flight]
                if not messages:
                    continue
                seqs_before = self.history_store.recent_turns(batch_scope, 12 + len(messages))
                ids = {m.id for m in messages}
                context = [m for m in seqs_before if m.id not in ids][-12:]
            infer = bool(options.get("infer", True))
            expiry = _parse_when(options.get("expires_at"), "expires_at")
            candidates, degraded = self._extract(batch_scope, messages, context, infer)
            with self._lock:
                done = self._apply_candidates(
                    batch_scope,
                    messages,
                    candidates,
                    options.get("metadata") or {},
                    expiry,
                    options.get("actor"),
                    infer,
                    degraded=degraded,
                )
            total.results.extend(done.results)
            total.message_ids.extend(m.id for m in messages)
        return total

    def _embed_and_prefetch(
        self, texts: list[str], owner: Scope
    ) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[str, float]]]]:
        """Vectors of ``texts`` and their stored neighbours, in one embedding batch and one
        vector-store round trip."""
        if not texts:
            return {}, {}
        vectors = self.embedder.embed_batch(texts)
        hits = self.vector_store.query_many(
            vectors, where=self._where(owner), limit=self.config.consolidation.neighbours * 2
        )
        return (
            dict(zip(texts, vectors, strict=True)),
            dict(zip(texts, hits, strict=True)),
        )

    @staticmethod
    def _verbatim(message: Message) -> ExtractedFact:
        return ExtractedFact(
            text=message.content.strip(),
            kind=MemoryKind.OBSERVATION,
            subject=message.name,
            speaker=message.name,
            sources=[message.id] if message.id else [],
            event_time=message.timestamp,
        )

    def _neighbours(
        self,
        scope: Scope,
        cand: ExtractedFact,
        vec: np.ndarray,
        planned: list[tuple[MemoryItem, np.ndarray]],
        hits: list[tuple[str, float]] | None = None,
    ) -> tuple[list[MemoryItem], list[float]]:
        """The most similar active memories of the scope (stored and planned in this add),
        plus every stored fact of the same subject and attribute."""
        n = self.config.consolidation.neighbours
        scored: dict[str, tuple[MemoryItem, float]] = {}
        if hits is None:
            hits = self.vector_store.query(vec, where=self._where(scope), limit=n * 2)
        items = self.history_store.get_memories([i for i, _ in hits])
        for memory_id, sim in hits:
            item = items.get(memory_id)
            if item is not None and item.status == MemoryStatus.ACTIVE:
                scored[memory_id] = (item, sim)
        for item, pvec in planned:
            if item.status == MemoryStatus.ACTIVE:
                scored[item.id] = (item, float(np.dot(vec, pvec)))
        ranked = sorted(scored.values(), key=lambda p: -p[1])[:n]
        if cand.subject and cand.attribute:
            attr_items = self.history_store.find_attribute(scope, cand.subject, cand.attribute)
            have = {i.id for i, _ in ranked}
            for item in attr_items:
                if item.id not in have:
                    pvec = next((v for p, v in planned if p.id == item.id), None)
                    sim = float(np.dot(vec, pvec)) if pvec is not None else 0.0
                    ranked.append((item, sim))
        # Duplicates by exact text are found whatever the vector store says.
        dup = self.history_store.find_by_hash(scope, self._hash(cand))
        if dup is not None and dup.id not in {i.id for i, _ in ranked}:
            ranked.insert(0, (dup, 1.0))
        return [i for i, _ in ranked], [s for _, s in ranked]

    @staticmethod
    def _hash(cand: ExtractedFact) -> str:
        if cand.kind == MemoryKind.ENTITY and cand.entities:
            return content_hash("entity " + cand.entities[0])
        return content_hash(cand.text)

    @staticmethod
    def _where(scope: Scope) -> dict[str, str]:
        return scope.as_filter()

    @staticmethod
    def _vector_meta(item: MemoryItem) -> dict[str, str]:
        return {
            "user_id": item.user_id or "",
            "agent_id": item.agent_id or "",
            "run_id": item.run_id or "",
            "kind": item.kind.value,
        }

    def _consolidate(
        self,
        scope: Scope,
        cand: ExtractedFact,
        vec: np.ndarray | None,
        hits: list[tuple[str, float]] | None,
        meta: dict[str, Any],
        expiry: datetime | None,
        now: datetime,
        planned: list[tuple[MemoryItem, np.ndarray]],
        ops: list[VectorOp],
        actor: str | None,
        decide: Any,
        *,
        verbatim: bool = False,
    ) -> AddEvent | None:
        if not cand.retraction:
            duplicate = self.history_store.find_by_hash(scope.owner, self._hash(cand))
            if duplicate is not None:
                self._extend_sources(duplicate, cand.sources, now)
                return AddEvent(
                    id=duplicate.id,
                    memory=duplicate.memory,
                    event=EventType.NONE,
                    kind=duplicate.kind,
                )
        if vec is None:  # its hash was stored when the add began, but is gone now
            vec = self.embedder.embed_batch([cand.text])[0]
        existing, scores = self._neighbours(scope.owner, cand, vec, planned, hits)
        if cand.kind == MemoryKind.ENTITY or verbatim:
            # Entities and verbatim memories are only ever deduplicated by exact content.
            digest = self._hash(cand)
            same = next((e for e in existing if e.hash == digest), None)
            decision = (
                ConsolidationDecision(event=EventType.NONE, target=existing.index(same))
                if same is not None
                else ConsolidationDecision(event=EventType.ADD)
            )
        else:
            decision = decide(cand, existing, scores)
        decision = self._validate(decision, existing)
        who = actor or cand.speaker or self.config.actor
        event_time = cand.event_time
        if decision.event == EventType.NONE:
            if decision.target is None:
                return None
            target = existing[decision.target]
            self._extend_sources(target, cand.sources, now)
            return AddEvent(
                id=target.id, memory=target.memory, event=EventType.NONE, kind=target.kind
            )
        if decision.event == EventType.ADD:
            item = MemoryItem(
                id=uuid.uuid4().hex,
                memory=decision.text or cand.text,
                kind=cand.kind,
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
                metadata={**cand.metadata, **meta},
                sources=list(dict.fromkeys(cand.sources)),
                entities=list(dict.fromkeys(cand.entities)),
                subject=cand.subject,
                attribute=cand.attribute,
                hash=self._hash(cand),
                importance=cand.importance,
                created_at=now,
                updated_at=now,
                event_time=event_time,
                valid_from=event_time,
                expires_at=expiry,
            )
            self.history_store.insert_memory(item)
            self._history(
                item.id, None, item.memory, EventType.ADD, who, decision.reason, scope, now
            )
            ops.append(VectorOp("upsert", [item.id], vec[None, :], [self._vector_meta(item)]))
            planned.append((item, vec))
            return AddEvent(id=item.id, memory=item.memory, event=EventType.ADD, kind=item.kind)

        target = existing[decision.target]
        if decision.event == EventType.UPDATE:
            text = decision.text or cand.text
            archived = target.model_copy(
                update={
                    "id": uuid.uuid4().hex,
                    "status": MemoryStatus.SUPERSEDED,
                    "valid_to": event_time or now,
                    "superseded_by": target.id,
                    "updated_at": now,
                    "hash": content_hash("superseded " + target.id + target.memory),
                }
            )
            old_vec = self.vector_store.get_vectors([target.id]).get(target.id)
            if old_vec is None:
                old_vec = self.embedder.embed_batch([target.memory])[0]
            self.history_store.insert_memory(archived)
            ops.append(
                VectorOp("upsert", [archived.id], old_vec[None, :], [self._vector_meta(archived)])
            )
            updated = target.model_copy(
                update={
                    "memory": text,
                    "hash": self._hash(cand),
                    "sources": list(dict.fromkeys(cand.sources)),
                    "entities": list(dict.fromkeys(cand.entities)),
                    "updated_at": now,
                    "event_time": event_time,
                    "valid_from": event_time,
                    "importance": max(target.importance, cand.importance),
                    "metadata": {**target.metadata, **cand.metadata, **meta},
                }
            )
            self.history_store.replace_memory(updated)
            self._history(
                target.id, target.memory, text, EventType.UPDATE, who, decision.reason, scope, now
            )
            ops.append(VectorOp("upsert", [target.id], vec[None, :], [self._vector_meta(updated)]))
            planned[:] = [(p, v) for p, v in planned if p.id != target.id]
            planned.append((updated, vec))
            return AddEvent(
                id=target.id,
                memory=text,
                event=EventType.UPDATE,
                previous_memory=target.memory,
                kind=target.kind,
            )

        # DELETE from consolidation invalidates: the fact stops being current but keeps its
        # validity interval, so "where did she work before?" still finds it.
        invalidated = target.model_copy(
            update={
                "status": MemoryStatus.SUPERSEDED,
                "valid_to": event_time or now,
                "updated_at": now,
            }
        )
        self.history_store.replace_memory(invalidated)
        self._history(
            target.id, target.memory, None, EventType.DELETE, who, decision.reason, scope, now
        )
        planned[:] = [(p, v) for p, v in planned if p.id != target.id]
        return AddEvent(
            id=target.id,
            memory=target.memory,
            event=EventType.DELETE,
            previous_memory=target.memory,
            kind=target.kind,
        )

    @staticmethod
    def _validate(
        decision: ConsolidationDecision, existing: Sequence[MemoryItem]
    ) -> ConsolidationDecision:
        """Refuse decisions that point nowhere; fall back to ADD rather than lose a fact."""
        needs_target = decision.event in (EventType.UPDATE, EventType.DELETE)
        valid = decision.target is not None and 0 <= decision.target < len(existing)
        if needs_target and not valid:
            return ConsolidationDecision(
                event=EventType.ADD,
                text=decision.text,
                reason=f"{decision.event.value} without a valid target; added instead",
            )
        if decision.event == EventType.NONE and decision.target is not None and not valid:
            return ConsolidationDecision(event=EventType.NONE)
        return decision

    def _extend_sources(self, item: MemoryItem, sources: list[str], now: datetime) -> None:
        merged = list(dict.fromkeys([*item.sources, *sources]))[:_SOURCES_CAP]
        if merged != item.sources:
            self.history_store.replace_memory(
                item.model_copy(update={"sources": merged, "updated_at": now})
            )

    def _history(
        self,
        memory_id: str,
        old: str | None,
        new: str | None,
        event: EventType,
        actor: str | None,
        reason: str | None,
        scope: Scope,
        now: datetime,
    ) -> None:
        self.history_store.add_history(
            uuid.uuid4().hex,
            memory_id,
            old=old,
            new=new,
            event=event,
            actor=actor,
            reason=reason,
            scope=scope,
            at=now,
        )

    def _fold_buffer(self, scope: Scope, now: datetime) -> None:
        """Move the oldest turns beyond the buffer bounds into the running summary."""
        cfg = self.config.buffer
        turns = self.history_store.buffer(scope)
        total = sum(t for _, _, t in turns)
        leaving: list[tuple[int, Message]] = []
        while turns and (total > cfg.max_tokens or len(turns) > cfg.max_turns):
            seq, msg, tokens = turns.pop(0)
            leaving.append((seq, msg))
            total -= tokens
        if not leaving:
            return
        previous, _, folded = self.history_store.summary(scope)
        turns = [m for _, m in leaving]
        bound, count = self.config.summary.max_tokens, self._counter.count_text
        try:
            text = self.summarizer.summarize(previous, turns, max_tokens=bound, count_tokens=count)
        except ExtractionError as exc:
            if self.summarizer is self.offline_summarizer:
                raise
            self._audit(scope, "summary", [m.id for m in turns], exc)
            text = self.offline_summarizer.summarize(
                previous, turns, max_tokens=bound, count_tokens=count
            )
        tokens = self._counter.count_text(text)
        if tokens > self.config.summary.max_tokens:  # a summarizer broke its contract
            text = self._counter.truncate_text(text, self.config.summary.max_tokens)
            tokens = self._counter.count_text(text)
        self.history_store.set_summary(scope, text, tokens, folded + len(leaving), now)
        self.history_store.evict([s for s, _ in leaving])

    # -- search ---------------------------------------------------------------------------------

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
        include_superseded: bool = True,
    ) -> list[MemoryHit]:
        """Hybrid search within one scope: dense + BM25 fused, entity/recency/importance boosts.

        Args:
            query: what to look for.
            limit: how many hits at most (1-1000).
            filters: metadata filters (see :mod:`hybrid_memory.filters`); they only narrow.
            threshold: minimum ``score`` (0-1) of a returned hit.
            include_superseded: also return former values (ranked below current ones unless the
                query asks about the past).

        Returns:
            Hits, best first; ``score`` is higher for more relevant memories.
        """
        scope = Scope.of(user_id, agent_id, run_id)
        self._check_query(query)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise UserInputError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
        if threshold is not None and not (
            isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0
        ):
            raise UserInputError(f"threshold must be a number from 0 to 1, got {threshold!r}")
        where, params = compile_filter(filters)
        with self._lock:
            return self._search(
                scope,
                query,
                limit,
                where,
                params,
                filters is not None,
                threshold,
                include_superseded,
            )

    def _dense(
        self, qvec: np.ndarray, scope: Scope, pool: int, in_scope: int
    ) -> list[tuple[str, float]]:
        """The nearest memories of the scope. When the scope holds most of the collection (one
        main user), an unfiltered query over a proportionally wider pool is several times
        faster than chroma's filtered one; hits of other scopes are dropped afterwards (every
        hit is checked against its SQLite record anyway)."""
        vectors = self.vector_store.count()
        if vectors and in_scope / vectors >= self.config.retrieval.unfiltered_share:
            wide = min(vectors, int(pool * vectors / max(in_scope, 1)) + pool)
            return self.vector_store.query(qvec, where={}, limit=wide)
        return self.vector_store.query(qvec, where=self._where(scope), limit=pool)

    def _check_query(self, query: Any) -> None:
        if not isinstance(query, str):
            raise UserInputError(f"query must be a string, got {type(query).__name__}")
        if not query.strip():
            raise UserInputError("query is empty; pass the text to search for")
        if len(query) > self.config.limits.max_query_chars:
            raise InputTooLargeError(
                f"query has {len(query)} characters; the limit is "
                f"{self.config.limits.max_query_chars}"
            )

    def _search(
        self,
        scope: Scope,
        query: str,
        limit: int,
        where: str,
        params: list[Any],
        filtered: bool,
        threshold: float | None,
        include_superseded: bool,
    ) -> list[MemoryHit]:
        cfg = self.config.retrieval
        now = utcnow()
        statuses = (
            (MemoryStatus.ACTIVE, MemoryStatus.SUPERSEDED)
            if include_superseded
            else (MemoryStatus.ACTIVE,)
        )
        pool = max(cfg.candidates, limit * 2)
        qvec = self.embedder.embed_batch([query])[0]
        total, lo, hi = self.history_store.scope_stats(scope)

        dense: list[tuple[str, float]]
        allowed: set[str] | None = None
        if filtered:
            matching = self.history_store.list_memories(
                scope,
                where=where,
                params=params,
                statuses=statuses,
                now=now,
                limit=cfg.exact_filter_limit + 1,
                ids_only=True,
            )
            if len(matching) <= cfg.exact_filter_limit:
                allowed = set(matching)
                vecs = self.vector_store.get_vectors(matching)
                dense = sorted(
                    ((i, float(np.dot(qvec, v))) for i, v in vecs.items()), key=lambda p: -p[1]
                )[:pool]
            else:
                dense = self.vector_store.query(qvec, where=self._where(scope), limit=pool * 4)
        else:
            dense = self._dense(qvec, scope, pool, total)
        lexical = self.history_store.lexical_search(
            scope, query, limit=pool, where=where, params=params, now=now
        )
        ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
        items = self.history_store.get_memories(ids)
        if filtered and allowed is None:
            allowed = (
                set(
                    self.history_store.list_memories(
                        scope,
                        where=f"({where}) AND m.id IN ({','.join('?' * len(ids))})",
                        params=[*params, *ids],
                        statuses=statuses,
                        now=now,
                        ids_only=True,
                    )
                )
                if ids
                else set()
            )

        def visible(item: MemoryItem | None) -> bool:
            # Defence in depth: the scope is checked again on the record itself.
            return (
                item is not None
                and all(getattr(item, k) == v for k, v in scope.as_filter().items())
                and item.status in statuses
                and (item.expires_at is None or item.expires_at > now)
                and (allowed is None or item.id in allowed)
            )

        candidates: dict[str, Candidate] = {}
        rank = 0
        for memory_id, sim in dense:
            item = items.get(memory_id)
            if visible(item):
                rank += 1
                candidates[memory_id] = Candidate(item=item, dense=sim, dense_rank=rank)
        rank = 0
        for memory_id, score in lexical:
            item = items.get(memory_id)
            if visible(item):
                rank += 1
                cand = candidates.setdefault(memory_id, Candidate(item=item))
                cand.lexical, cand.lexical_rank = score, rank
        if not candidates:
            return []
        query_entities = self._query_entities(scope, query, total)
        if query_entities:
            links = self.history_store.entity_links(list(candidates))
            for memory_id, cand in candidates.items():
                linked = links.get(memory_id, set())
                cand.entity_overlap = len(linked & query_entities) / len(query_entities)
        scored = fuse(list(candidates.values()), cfg, query=query, time_span=(lo, hi))
        hits = []
        for cand, score in scored:
            if threshold is not None and score < threshold:
                continue
            hits.append(
                MemoryHit(
                    **cand.item.model_dump(), score=round(score, 6), score_details=cand.details
                )
            )
            if len(hits) >= limit:
                break
        return hits

    def _query_entities(self, scope: Scope, query: str, total: int) -> set[str]:
        """Entities named in the query that are linked to memories of the scope. An entity
        linked to a large share of the scope (usually the user's own name) tells nothing
        about relevance and is ignored."""
        words = _WORD.findall(query)
        grams = {w.casefold() for w in words}
        grams |= {f"{a} {b}".casefold() for a, b in zip(words, words[1:], strict=False)}
        grams |= {w[:-2].casefold() for w in words if w.endswith("'s")}
        known = self.history_store.known_entities(scope, sorted(grams))
        limit = max(3, int(total * self.config.retrieval.entity_max_share))
        return {name for name, n in known.items() if n <= limit}

    # -- context --------------------------------------------------------------------------------

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

        Args:
            tiers: Which of ``"memories"``, ``"summary"``, ``"recent"`` to include. An agent
                loop that sends its own history asks for ``("memories",)`` only; the whole
                budget then goes to the tiers asked for.
            present_ids: Ids of messages the caller already sends verbatim; observations
                that only repeat them are left out (as for the recent turns).
        """
        scope = Scope.of(user_id, agent_id, run_id)
        if isinstance(tiers, str) or not set(tiers) <= set(CONTEXT_TIERS):
            raise UserInputError(
                f"tiers must be a list drawn from {list(CONTEXT_TIERS)}, got {tiers!r}"
            )
        if isinstance(present_ids, str) or not all(isinstance(i, str) for i in present_ids):
            raise UserInputError("present_ids must be a list of message id strings")
        if not isinstance(token_budget, int) or isinstance(token_budget, bool) or token_budget < 0:
            raise TokenBudgetError(
                f"token_budget must be a non-negative integer, got {token_budget!r}"
            )
        if not isinstance(model, str) or not model.strip():
            raise ConfigError("model must be a model name such as 'gpt-4o-mini'")
        counter = TokenCounter.for_model(model)
        # Long-term memories come from every run of the user/agent; the buffer and the
        # summary are those of the run.
        owner = scope.owner
        hits = []
        if "memories" in tiers:
            hits = self.search(
                query,
                user_id=owner.user_id,
                agent_id=owner.agent_id,
                run_id=owner.run_id,
                limit=limit,
                filters=filters,
            )
        summary, recent = "", []
        with self._lock:
            if "summary" in tiers:
                summary, _, _ = self.history_store.summary(scope)
            if "recent" in tiers:
                recent = [(m, to_chat(m)) for _, m, _ in self.history_store.buffer(scope)]
        return build_context(
            hits=hits,
            summary=summary,
            recent=recent,
            token_budget=token_budget,
            counter=counter,
            present_ids=present_ids,
        )

    # -- CRUD -----------------------------------------------------------------------------------

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """One memory by id. With scope ids given, a memory of another scope is not found."""
        item = self._get_checked(memory_id, user_id, agent_id, run_id)
        return item

    def _get_checked(
        self,
        memory_id: Any,
        user_id: str | None,
        agent_id: str | None,
        run_id: str | None,
    ) -> MemoryItem:
        if not isinstance(memory_id, str) or not memory_id.strip():
            raise UserInputError(f"memory_id must be a non-empty string, got {memory_id!r}")
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        item = self.history_store.get_memory(memory_id)
        if item is None or any(getattr(item, k) != v for k, v in scope.as_filter().items()):
            raise MemoryNotFoundError(f"no memory with id {memory_id!r} in this scope")
        return item

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
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise UserInputError(f"limit must be a positive integer or None, got {limit!r}")
        where, params = compile_filter(filters)
        statuses = (
            (MemoryStatus.ACTIVE, MemoryStatus.SUPERSEDED)
            if include_superseded
            else (MemoryStatus.ACTIVE,)
        )
        with self._lock:
            return self.history_store.list_memories(
                scope, where=where, params=params, statuses=statuses, now=utcnow(), limit=limit
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
        if not isinstance(text, str) or not text.strip():
            raise UserInputError("text must be a non-empty string")
        if len(text) > self.config.limits.max_message_chars:
            raise InputTooLargeError(
                f"text has {len(text)} characters; the limit is "
                f"{self.config.limits.max_message_chars}"
            )
        meta = _check_metadata(metadata, self.config.limits.max_metadata_bytes)
        with self._lock:
            item = self._get_checked(memory_id, user_id, agent_id, run_id)
            vec = self.embedder.embed_batch([text])[0]
            now = utcnow()
            updated = item.model_copy(
                update={
                    "memory": text.strip(),
                    "hash": content_hash(text),
                    "metadata": {**item.metadata, **meta},
                    "updated_at": now,
                }
            )
            with self.history_store.transaction():
                self.history_store.replace_memory(updated)
                self._history(
                    item.id,
                    item.memory,
                    updated.memory,
                    EventType.UPDATE,
                    actor or self.config.actor,
                    "updated by the caller",
                    item.scope,
                    now,
                )
                self.history_store.enqueue(
                    VectorOp("upsert", [item.id], vec[None, :], [self._vector_meta(updated)])
                )
            self.repair()
            return updated

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
        with self._lock:
            item = self._get_checked(memory_id, user_id, agent_id, run_id)
            now = utcnow()
            with self.history_store.transaction():
                self.history_store.delete_memories([item.id])
                self._history(
                    item.id,
                    item.memory,
                    None,
                    EventType.DELETE,
                    actor or self.config.actor,
                    "deleted by the caller",
                    item.scope,
                    now,
                )
                self.history_store.enqueue(VectorOp("delete", [item.id]))
            self.repair()

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
        scope = Scope.of(user_id, agent_id, run_id)
        with self._lock:
            now = utcnow()
            with self.history_store.transaction():
                items = self.history_store.delete_scope(scope)
                for item in items:
                    self._history(
                        item.id,
                        item.memory,
                        None,
                        EventType.DELETE,
                        actor or self.config.actor,
                        "delete_all",
                        item.scope,
                        now,
                    )
                if items:
                    self.history_store.enqueue(VectorOp("delete", [i.id for i in items]))
            self.repair()
            return len(items)

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEntry]:
        """The audit trail of one memory, oldest first (also after it was deleted)."""
        if not isinstance(memory_id, str) or not memory_id.strip():
            raise UserInputError(f"memory_id must be a non-empty string, got {memory_id!r}")
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        owner = self.history_store.history_scope(memory_id)
        if owner is None or any(getattr(owner, k) != v for k, v in scope.as_filter().items()):
            raise MemoryNotFoundError(f"no history for memory id {memory_id!r} in this scope")
        return self.history_store.history(memory_id)

    def reset(self) -> None:
        """Delete everything: every scope's memories, history, turns and summaries. Usage
        records (:attr:`usage`) are kept: they are billing records, not memory."""
        with self._lock:
            self.history_store.reset()
            self.vector_store.reset()
            self.history_store.ensure_embedder(self.embedder.name, self.embedder.dimension)
            self.vector_store.ensure_embedder(self.embedder.name, self.embedder.dimension)

    def audit_log(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[AuditEntry]:
        """Model failures recovered from, oldest first (all scopes when no id is given)."""
        scope = Scope.of(user_id, agent_id, run_id, require=False)
        return [AuditEntry.model_validate(r) for r in self.history_store.audit(scope)]

    # -- export / import ------------------------------------------------------------------------

    def export(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every record of the scope as JSON-ready dicts: memories (current and superseded),
        messages and summaries. Write them one per line for JSON Lines."""
        scope = Scope.of(user_id, agent_id, run_id)
        with self._lock:
            records: list[dict[str, Any]] = []
            for item in self.history_store.list_memories(
                scope, statuses=(MemoryStatus.ACTIVE, MemoryStatus.SUPERSEDED)
            ):
                records.append({"type": "memory", **item.model_dump(mode="json")})
            for scope_ids, message in self.history_store.turns_with_scope(scope):
                records.append(
                    {"type": "message", **scope_ids, "message": message.model_dump(mode="json")}
                )
            for row in self.history_store.summaries(scope):
                records.append({"type": "summary", **row})
            return records

    def import_records(self, records: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Load records written by :meth:`export` (into the scopes they name). Records already
        present (same memory id / message id) are skipped, so importing twice is harmless.
        Everything is validated first; on bad input nothing is written."""
        memories: list[MemoryItem] = []
        messages: list[tuple[Scope, Message]] = []
        summaries: list[tuple[Scope, dict[str, Any]]] = []
        for n, record in enumerate(records, 1):
            if not isinstance(record, dict) or record.get("type") not in (
                "memory",
                "message",
                "summary",
            ):
                raise UserInputError(
                    f"record {n}: expected a dict with type 'memory', 'message' or 'summary'"
                )
            body = {k: v for k, v in record.items() if k != "type"}
            try:
                if record["type"] == "memory":
                    item = MemoryItem.model_validate(body)
                    Scope.of(item.user_id, item.agent_id, item.run_id)
                    memories.append(item)
                elif record["type"] == "message":
                    scope = Scope.of(body.get("user_id"), body.get("agent_id"), body.get("run_id"))
                    messages.append((scope, Message.model_validate(body.get("message"))))
                else:
                    scope = Scope.of(body.get("user_id"), body.get("agent_id"), body.get("run_id"))
                    if not isinstance(body.get("summary"), str):
                        raise UserInputError("a summary record needs a string 'summary'")
                    summaries.append((scope, body))
            except UserInputError as exc:
                raise UserInputError(f"record {n}: {exc}") from None
            except ValueError as exc:
                raise UserInputError(f"record {n} is malformed: {exc}") from None
        with self._lock:
            existing = self.history_store.get_memories([m.id for m in memories])
            fresh = [m for m in memories if m.id not in existing]
            vectors = self.embedder.embed_batch([m.memory for m in fresh])
            now = utcnow()
            counts = {"memories": 0, "messages": 0, "summaries": 0}
            with self.history_store.transaction():
                for item in fresh:
                    self.history_store.insert_memory(item)
                    self._history(
                        item.id,
                        None,
                        item.memory,
                        EventType.ADD,
                        self.config.actor,
                        "imported",
                        item.scope,
                        now,
                    )
                    counts["memories"] += 1
                if fresh:
                    self.history_store.enqueue(
                        VectorOp(
                            "upsert",
                            [m.id for m in fresh],
                            vectors,
                            [self._vector_meta(m) for m in fresh],
                        )
                    )
                for scope, message in messages:
                    if not self.history_store.message_ids_exist(scope, [message.id]):
                        self.history_store.insert_turn(
                            scope, message, self._counter.count_message(to_chat(message)), now
                        )
                        counts["messages"] += 1
                for scope, body in summaries:
                    if not self.history_store.summary(scope)[0]:
                        text = body["summary"]
                        self.history_store.set_summary(
                            scope,
                            text,
                            self._counter.count_text(text),
                            int(body.get("turns_folded") or 0),
                            now,
                        )
                        counts["summaries"] += 1
                for scope in {s for s, _ in messages}:
                    self._fold_buffer(scope, now)
            self.repair()
            return counts

    # -- tiers, for inspection ------------------------------------------------------------------

    def get_summary(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> str:
        """The running summary of exactly this scope ("" when nothing left the buffer yet)."""
        scope = Scope.of(user_id, agent_id, run_id)
        return self.history_store.summary(scope)[0]

    def get_buffer(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """The recent turns of exactly this scope, oldest first."""
        scope = Scope.of(user_id, agent_id, run_id)
        return [m for _, m, _ in self.history_store.buffer(scope)]

    def get_messages(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Message]:
        """Every stored message of the scope (all runs when no run_id), in order."""
        scope = Scope.of(user_id, agent_id, run_id)
        return self.history_store.turns(scope)
