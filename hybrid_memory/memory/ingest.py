"""The add path, one stage after the other:

1. **persist** the raw messages (one short transaction): from here on a crash or a model failure
   loses nothing, and :meth:`Ingest.reprocess` finishes the add later, with its own options;
2. **extract** candidates (model calls, no lock, no transaction);
3. **plan** under the owner's write lock: consolidation decisions and the running summary
   (reads and model calls, still no transaction);
4. **commit** the plan in one short transaction, with its vector operations in the outbox,
   then drain the outbox into the vector store.

No model call ever runs inside a write transaction, so a slow model delays only the writers of
the same user, never the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hybrid_memory.config import MemoryConfig
from hybrid_memory.errors import HybridMemoryError, ProcessingError, StoreError
from hybrid_memory.fallback import Fallback
from hybrid_memory.memory.commit import commit
from hybrid_memory.memory.components import Pipeline
from hybrid_memory.memory.consolidate import AddOptions, Consolidation
from hybrid_memory.memory.extract import extract
from hybrid_memory.memory.fold import plan_fold
from hybrid_memory.memory.locks import InFlight, ScopeLocks
from hybrid_memory.memory.outbox import Outbox
from hybrid_memory.memory.plan import Plan, PlanConflict
from hybrid_memory.memory.quarantine import quarantine_messages
from hybrid_memory.messages import to_chat
from hybrid_memory.models import AddResult, AuditEntry, Message, Scope, parse_datetime, utcnow
from hybrid_memory.tokens import TokenCounter
from stores.base import PendingBatch, RecordStore

CONTEXT_TURNS = 12
"""How many earlier turns of the run the extractor sees (to resolve "you", "she"...)."""
PLAN_ATTEMPTS = 3


def stored_options(options: AddOptions) -> dict[str, object]:
    """The add's options as they are kept with its messages."""
    return {
        "metadata": options.metadata,
        "infer": options.infer,
        "actor": options.actor,
        "expires_at": options.expires_at.isoformat() if options.expires_at else None,
    }


def options_from(stored: dict[str, object]) -> AddOptions:
    metadata = stored.get("metadata")
    actor = stored.get("actor")
    return AddOptions(
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
        infer=bool(stored.get("infer", True)),
        actor=actor if isinstance(actor, str) else None,
        expires_at=parse_datetime(stored.get("expires_at"), "expires_at"),
    )


@dataclass
class Ingest:
    """Runs the add path (see the module docstring) for one memory."""

    records: RecordStore
    config: MemoryConfig
    pipeline: Pipeline
    consolidation: Consolidation
    counter: TokenCounter
    locks: ScopeLocks
    in_flight: InFlight
    outbox: Outbox

    def add(
        self, scope: Scope, messages: list[Message], options: AddOptions, *, defer: bool = False
    ) -> AddResult:
        """Remember ``messages`` (already validated) in ``scope``. Messages whose id is already
        stored in the scope are skipped, so a retried add does not duplicate anything; those
        an earlier attempt stored but did not finish (it failed after saving them) are
        finished now, with the options they were stored with. ``defer`` stops after stage 1:
        the messages are stored, and a later add of them (or :meth:`reprocess`) finishes."""
        new, context = self._persist(scope, messages, options)
        ids = [m.id for m in messages if m.id]
        if defer:
            return AddResult(message_ids=ids)
        result = AddResult()
        for batch in self._unfinished(scope, ids, new):
            done = self._run(batch.scope, batch.messages, options_from(batch.options), None)
            result.results.extend(done.results)
        if new:
            result.results.extend(self._run(scope, new, options, context).results)
        result.message_ids = ids
        return result

    def _unfinished(
        self, scope: Scope, ids: Sequence[str], new: Sequence[Message]
    ) -> list[PendingBatch]:
        """Messages of this add that were stored before and never processed."""
        wanted = set(ids) - {m.id for m in new}
        if not wanted:
            return []
        batches = self.records.unextracted(scope) + self.records.quarantined_turns(scope)
        out = []
        for batch in batches:
            mine = [m for m in batch.messages if m.id in wanted]
            if batch.scope.key == scope.key and mine:
                out.append(PendingBatch(batch.scope, batch.options, mine))
        return out

    def _run(
        self,
        scope: Scope,
        messages: list[Message],
        options: AddOptions,
        context: list[Message] | None,
    ) -> AddResult:
        """Stages 2-4 for messages of this add. A failure that a retry would repeat (not a
        :class:`HybridMemoryError`, which is a model, endpoint or store being unavailable)
        quarantines them and raises :class:`ProcessingError`."""
        claimed = self.in_flight.claim(scope, [m.id for m in messages if m.id])
        try:
            if context is None:
                messages = [m for m in messages if m.id in claimed]
                if not messages:
                    return AddResult()
                context = self._context(scope, messages)
            return self._process(scope, messages, context, options)
        except HybridMemoryError:
            raise
        except Exception as exc:
            ids = [m.id for m in messages if m.id]
            error = quarantine_messages(self.records, scope, messages, exc, warn=False)
            raise ProcessingError(
                f"{len(ids)} message(s) {ids} were stored, but turning them into memories "
                f"failed ({error}); they are quarantined: memory.quarantined() lists them and "
                "memory.repair() retries them. Nothing else was affected.",
                message_ids=ids,
            ) from exc
        finally:
            self.in_flight.release(scope, claimed)

    def _persist(
        self, scope: Scope, messages: list[Message], options: AddOptions
    ) -> tuple[list[Message], list[Message]]:
        """Stage 1: the new messages (and the run's turns before them) once stored."""
        now = utcnow()
        kept = stored_options(options)
        with self.records.unit_of_work() as uow:
            known = uow.message_ids_exist(scope, [m.id for m in messages if m.id])
            new = [m for m in messages if m.id not in known]
            context = uow.recent_turns(scope, CONTEXT_TURNS) if new else []
            for m in new:
                uow.insert_turn(scope, m, self.counter.count_message(to_chat(m)), now, kept)
        return new, context

    def _process(
        self, scope: Scope, messages: list[Message], context: list[Message], options: AddOptions
    ) -> AddResult:
        """Stages 2-4 for stored, unextracted messages of ``scope``."""
        fallback = Fallback()
        audits: list[AuditEntry] = []
        candidates = extract(
            self.pipeline, fallback, audits, scope, messages, context, infer=options.infer
        )
        with self.locks.hold(scope.owner):
            for _ in range(PLAN_ATTEMPTS):
                plan = Plan(scope=scope, now=utcnow(), audits=list(audits))
                self.consolidation.plan(plan, candidates, options, fallback)
                plan.fold = plan_fold(
                    self.records, self.pipeline, self.config, self.counter, scope, plan.audits
                )
                plan.extracted = [m.id for m in messages if m.id]
                try:
                    commit(self.records, plan)
                    break
                except PlanConflict:
                    done = self.records.extracted(scope, plan.extracted)
                    if done:
                        # Another writer extracted some of these messages: do the rest.
                        rest = [m for m in messages if m.id not in done]
                        return self._process(scope, rest, context, options) if rest else AddResult()
            else:
                raise StoreError(
                    f"the memory of {scope.owner.key or 'this scope'} kept changing while this "
                    f"add was applied ({PLAN_ATTEMPTS} attempts); retry the add"
                )
        self.outbox.drain()
        return AddResult(results=plan.events)

    def fold(self, scope: Scope) -> None:
        """Fold the buffer of ``scope`` into its summary if it is over its bounds (after an
        import brought turns in)."""
        with self.locks.hold(scope.owner):
            for _ in range(PLAN_ATTEMPTS):
                plan = Plan(scope=scope, now=utcnow())
                plan.fold = plan_fold(
                    self.records, self.pipeline, self.config, self.counter, scope, plan.audits
                )
                if plan.fold is None:
                    return
                try:
                    commit(self.records, plan)
                    return
                except PlanConflict:
                    continue

    def reprocess(self, scope: Scope | None, *, on_open: bool = False) -> AddResult:
        """Extract the stored messages that were never processed, in order, each batch with the
        options of the add that stored it. Messages of an add still running are left to it.

        A batch whose processing fails in a way a retry would repeat is quarantined and the
        next batch goes on; on open (``on_open``) every failure is, so that nothing stored can
        keep the memory from opening."""
        total = AddResult()
        for batch in self.records.unextracted(scope):
            ids = self.in_flight.claim(batch.scope, [m.id for m in batch.messages if m.id])
            try:
                messages = [m for m in batch.messages if m.id in ids]
                if not messages:
                    continue
                try:
                    done = self._process(
                        batch.scope,
                        messages,
                        self._context(batch.scope, messages),
                        options_from(batch.options),
                    )
                except Exception as exc:
                    if isinstance(exc, HybridMemoryError) and not on_open:
                        raise
                    quarantine_messages(self.records, batch.scope, messages, exc)
                    continue
            finally:
                self.in_flight.release(batch.scope, ids)
            total.results.extend(done.results)
            total.message_ids.extend(m.id for m in messages if m.id)
        return total

    def retry_quarantined(self) -> list[str]:
        """Process the quarantined batches again; returns the message ids done now (a batch
        that fails again stays quarantined, with the new error)."""
        done: list[str] = []
        for batch in self.records.quarantined_turns(None):
            ids = self.in_flight.claim(batch.scope, [m.id for m in batch.messages if m.id])
            messages = [m for m in batch.messages if m.id in ids]
            try:
                if messages:
                    context = self._context(batch.scope, messages)
                    options = options_from(batch.options)
                    self._process(batch.scope, messages, context, options)
                    done.extend(m.id for m in messages if m.id)
            except Exception as exc:  # still failing: it stays aside, with this error
                quarantine_messages(self.records, batch.scope, messages, exc, warn=False)
            finally:
                self.in_flight.release(batch.scope, ids)
        return done

    def _context(self, scope: Scope, messages: Sequence[Message]) -> list[Message]:
        """The turns of the run before ``messages``."""
        ids = {m.id for m in messages}
        recent = self.records.recent_turns(scope, CONTEXT_TURNS + len(messages))
        return [m for m in recent if m.id not in ids][-CONTEXT_TURNS:]
