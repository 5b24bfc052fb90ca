"""The in-memory record store: the storage contract in plain Python, no I/O.

Everything lives in dicts and lists; a unit of work copies the state when it begins and puts
the copy back if the block raises, so it is atomic like the SQL stores. Use it to test code
built on hybrid-memory, or as the reference when writing a new backend.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hybrid_memory.errors import EmbedderMismatchError
from hybrid_memory.models import AuditEntry, HistoryEntry, MemoryItem, Message, Scope
from stores.base import (
    BufferedTurn,
    MemoryQuery,
    PendingBatch,
    QuarantinedOp,
    RunSummary,
    ScopeStats,
    VectorOp,
)
from stores.inmemory.matching import bm25, matches


def in_scope(scope: Scope, ids: Scope) -> bool:
    """Whether a record with scope ids ``ids`` is selected by ``scope``."""
    wanted = scope.as_filter()
    return bool(wanted) and all(getattr(ids, k) == v for k, v in wanted.items())


@dataclass
class Turn:
    seq: int
    scope: Scope
    message: Message
    tokens: int
    options: dict[str, Any]
    in_buffer: bool = True
    extracted: bool = False
    quarantined: tuple[str, datetime] | None = None


@dataclass
class State:
    """Everything the store holds; ``order`` numbers memories by insertion (like a rowid)."""

    memories: dict[str, MemoryItem] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    history: list[tuple[HistoryEntry, Scope]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    summaries: dict[str, tuple[Scope, RunSummary]] = field(default_factory=dict)
    outbox: list[tuple[int, VectorOp]] = field(default_factory=list)
    set_aside: list[QuarantinedOp] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def clear(self) -> None:
        self.__dict__.update(State().__dict__)


class _Reads:
    """Reads over a :class:`State` (the store's, or a unit of work's view of it)."""

    _state: State
    _lock: threading.RLock

    def get_memories(self, ids: Sequence[str]) -> dict[str, MemoryItem]:
        with self._lock:
            memories = self._state.memories
            return {i: memories[i] for i in dict.fromkeys(ids) if i in memories}

    def _selected(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]:
        with self._lock:
            return self._select(scope, query)

    def _select(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]:
        out = []
        for item in self._state.memories.values():
            if not in_scope(scope, item.scope) or item.status not in query.statuses:
                continue
            if query.now is not None and item.expires_at is not None:
                if item.expires_at <= query.now:
                    continue
            if query.ids is not None and item.id not in query.ids:
                continue
            if query.hashes is not None and item.hash not in query.hashes:
                continue
            if query.sources is not None and not set(item.sources) & set(query.sources):
                continue
            if query.replying_to is not None and (
                not item.sources or item.sources[0] not in query.replying_to
            ):
                continue
            if query.kinds is not None and item.kind not in query.kinds:
                continue
            if query.subject is not None and (
                item.subject is None or item.subject.casefold() != query.subject.casefold()
            ):
                continue
            if query.attribute is not None and item.attribute != query.attribute:
                continue
            if query.attributed and item.attribute is None:
                continue
            if matches(item, query.filter):
                out.append(item)
        order = self._state.order
        if query.order in ("oldest", "any"):
            out.sort(key=lambda i: order[i.id])
        else:
            out.sort(key=lambda i: (i.created_at, order[i.id]), reverse=True)
        return out if query.limit is None else out[: query.limit]

    def find_memories(self, scope: Scope, query: MemoryQuery) -> list[MemoryItem]:
        return self._selected(scope, query)

    def summary(self, scope: Scope) -> RunSummary:
        found = self._state.summaries.get(scope.key)
        return found[1] if found else RunSummary()

    def extracted(self, scope: Scope, message_ids: Sequence[str]) -> set[str]:
        wanted = set(message_ids)
        return {
            t.message.id or ""
            for t in self._state.turns
            if t.scope.key == scope.key and t.extracted and t.message.id in wanted
        }

    def message_ids_exist(self, scope: Scope, ids: Sequence[str]) -> set[str]:
        wanted = set(ids)
        return {
            t.message.id or ""
            for t in self._state.turns
            if t.scope.key == scope.key and t.message.id in wanted
        }

    def recent_turns(self, scope: Scope, limit: int) -> list[Message]:
        turns = [t.message for t in self._state.turns if t.scope.key == scope.key]
        return turns[-limit:] if limit > 0 else []


class InMemoryUnitOfWork(_Reads):
    """The writes of one transaction, applied to the store's state as they come (the store
    restores its copy if the block raises)."""

    def __init__(self, state: State, lock: threading.RLock):
        self._state = state
        self._lock = lock

    def insert_memory(self, item: MemoryItem) -> None:
        if item.id in self._state.memories:
            raise ValueError(f"memory {item.id!r} exists")
        self._state.memories[item.id] = item.model_copy(deep=True)
        self._state.order[item.id] = self._state.next()

    def replace_memory(self, item: MemoryItem) -> None:
        from hybrid_memory.errors import StoreError

        if item.id not in self._state.memories:
            raise StoreError(f"memory {item.id!r} vanished during an update")
        self._state.memories[item.id] = item.model_copy(deep=True)

    def delete_memories(self, ids: Sequence[str]) -> None:
        for memory_id in ids:
            self._state.memories.pop(memory_id, None)
            self._state.order.pop(memory_id, None)

    def delete_scope(self, scope: Scope) -> list[MemoryItem]:
        items = [i for i in self._state.memories.values() if in_scope(scope, i.scope)]
        self.delete_memories([i.id for i in items])
        self._state.turns = [t for t in self._state.turns if not in_scope(scope, t.scope)]
        self._state.summaries = {
            k: v for k, v in self._state.summaries.items() if not in_scope(scope, v[0])
        }
        return items

    def add_history(self, entry: HistoryEntry, scope: Scope) -> None:
        self._state.history.append((entry, scope))

    def add_audit(self, entry: AuditEntry) -> None:
        self._state.audit.append(entry)

    def insert_turn(
        self, scope: Scope, message: Message, tokens: int, at: datetime, options: dict[str, Any]
    ) -> None:
        turn = Turn(self._state.next(), scope, message.model_copy(deep=True), tokens, options)
        self._state.turns.append(copy.deepcopy(turn))

    def mark_extracted(self, scope: Scope, message_ids: Sequence[str]) -> None:
        for t in self._state.turns:
            if t.scope.key == scope.key and t.message.id in message_ids:
                t.extracted, t.quarantined = True, None

    def quarantine_turns(
        self, scope: Scope, message_ids: Sequence[str], error: str, at: datetime
    ) -> None:
        for t in self._state.turns:
            if t.scope.key == scope.key and t.message.id in message_ids and not t.extracted:
                t.quarantined = (error, at)

    def quarantine_op(self, op: VectorOp, error: str, at: datetime) -> None:
        entry = QuarantinedOp(self._state.next(), copy.deepcopy(op), error, at)
        self._state.set_aside.append(entry)

    def evict(self, seqs: Sequence[int]) -> None:
        for t in self._state.turns:
            if t.seq in seqs:
                t.in_buffer = False

    def set_summary(self, scope: Scope, summary: RunSummary, at: datetime) -> None:
        self._state.summaries[scope.key] = (scope, summary)

    def enqueue(self, op: VectorOp) -> None:
        self._state.outbox.append((self._state.next(), copy.deepcopy(op)))

    def done(self, seqs: Sequence[int]) -> None:
        self._state.outbox = [(s, op) for s, op in self._state.outbox if s not in seqs]
        self._state.set_aside = [q for q in self._state.set_aside if q.seq not in seqs]

    def reset(self) -> None:
        self._state.clear()


class InMemoryRecordStore(_Reads):
    """The record store contract in memory (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self._state = State()
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[InMemoryUnitOfWork]:
        with self._lock:
            if self._depth:
                yield InMemoryUnitOfWork(self._state, self._lock)
                return
            saved = copy.deepcopy(self._state)
            self._depth = 1
            try:
                yield InMemoryUnitOfWork(self._state, self._lock)
            except BaseException:
                self._state.__dict__.update(saved.__dict__)
                raise
            finally:
                self._depth = 0

    def ensure_embedder(self, name: str, dimension: int) -> None:
        with self._lock:
            meta = self._state.meta
            if "embedder" not in meta:
                meta.update(embedder=name, dimension=str(dimension))
            elif meta["embedder"] != name or int(meta["dimension"]) != dimension:
                raise EmbedderMismatchError(
                    f"the in-memory store holds memories embedded with {meta['embedder']!r} "
                    f"({meta['dimension']} dimensions), not {name!r} ({dimension})"
                )

    def find_memory_ids(self, scope: Scope, query: MemoryQuery) -> list[str]:
        return [i.id for i in self._selected(scope, query)]

    def lexical_search(
        self, scope: Scope, text: str, *, limit: int, query: MemoryQuery
    ) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        docs = [(i.id, i.memory) for i in self._selected(scope, query)]
        return bm25(text, docs)[:limit]

    def entity_links(self, ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for memory_id in ids:
            item = self._state.memories.get(memory_id)
            names = {e.casefold().strip() for e in item.entities if e.strip()} if item else set()
            if names:
                out[memory_id] = names
        return out

    def known_entities(self, scope: Scope, names: Sequence[str]) -> dict[str, int]:
        wanted = {n.casefold() for n in names if n.strip()}
        counts: dict[str, int] = {}
        with self._lock:
            items = list(self._state.memories.values())
        for item in items:
            if in_scope(scope, item.scope):
                for name in {e.casefold().strip() for e in item.entities} & wanted:
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def scope_stats(self, scope: Scope) -> ScopeStats:
        active = self._selected(scope, MemoryQuery())
        times = [i.event_time or i.created_at for i in active]
        return ScopeStats(len(active), min(times, default=None), max(times, default=None))

    def history(self, memory_id: str, scope: Scope | None = None) -> list[HistoryEntry]:
        return [
            e
            for e, s in self._state.history
            if e.memory_id == memory_id and (scope is None or in_scope(scope, s))
        ]

    def memory_ids_with_prefix(
        self, prefix: str, scope: Scope | None, *, limit: int, history: bool = False
    ) -> list[str]:
        def wanted(ids: Scope) -> bool:
            return scope is None or in_scope(scope, ids)

        found = {
            i.id
            for i in self._state.memories.values()
            if i.id.startswith(prefix) and wanted(i.scope)
        }
        if history:
            found |= {
                e.memory_id
                for e, s in self._state.history
                if e.memory_id.startswith(prefix) and wanted(s)
            }
        return sorted(found)[:limit]

    def history_scope(self, memory_id: str) -> Scope | None:
        return next((s for e, s in self._state.history if e.memory_id == memory_id), None)

    def audit(self, scope: Scope | None) -> list[AuditEntry]:
        rows = [
            a
            for a in self._state.audit
            if scope is None
            or scope.is_empty
            or in_scope(scope, Scope(user_id=a.user_id, agent_id=a.agent_id, run_id=a.run_id))
        ]
        return sorted(rows, key=lambda a: (a.at, a.id))

    def buffer(self, scope: Scope) -> list[BufferedTurn]:
        return [
            BufferedTurn(t.seq, t.message, t.tokens)
            for t in self._state.turns
            if t.scope.key == scope.key and t.in_buffer
        ]

    def turns(self, scope: Scope) -> list[tuple[Scope, Message]]:
        return [(t.scope, t.message) for t in self._state.turns if in_scope(scope, t.scope)]

    def summaries(self, scope: Scope) -> list[tuple[Scope, RunSummary]]:
        return [v for v in self._state.summaries.values() if in_scope(scope, v[0])]

    def scopes(self) -> list[Scope]:
        found = [m.scope for m in self._state.memories.values()]
        found += [t.scope for t in self._state.turns] + [
            s for s, _ in self._state.summaries.values()
        ]
        return sorted({s.key: s for s in found}.values(), key=lambda s: s.key)

    def unextracted(self, scope: Scope | None) -> list[PendingBatch]:
        return self._batches(scope, quarantined=False)

    def quarantined_turns(self, scope: Scope | None) -> list[PendingBatch]:
        return self._batches(scope, quarantined=True)

    def _batches(self, scope: Scope | None, *, quarantined: bool) -> list[PendingBatch]:
        groups: list[PendingBatch] = []
        for t in self._state.turns:
            if t.extracted or (t.quarantined is not None) != quarantined:
                continue
            if scope is not None and not in_scope(scope, t.scope):
                continue
            error, at = t.quarantined or (None, None)
            last = groups[-1] if groups else None
            if last is None or (last.scope.key, last.options, last.error) != (
                t.scope.key,
                t.options,
                error,
            ):
                groups.append(PendingBatch(t.scope, copy.deepcopy(t.options), [], error, at))
            groups[-1].messages.append(t.message)
        return groups

    def pending(self) -> list[tuple[int, VectorOp]]:
        return list(self._state.outbox)

    def quarantined_ops(self) -> list[QuarantinedOp]:
        return list(self._state.set_aside)

    def close(self) -> None:
        return None
