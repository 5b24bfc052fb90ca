"""Commit: a plan applied in one short transaction, with its vector operations in the outbox.

Before writing, the commit checks what the plan assumed (see :mod:`hybrid_memory.memory.plan`)
inside the transaction; a stale plan raises :class:`PlanConflict` and writes nothing.
"""

from __future__ import annotations

import uuid

from hybrid_memory.memory.plan import Plan, PlanConflict
from hybrid_memory.models import EventType, HistoryEntry, MemoryStatus, Scope
from stores.base import MemoryQuery, RecordStore, UnitOfWork


def _check(uow: UnitOfWork, plan: Plan) -> None:
    current = uow.get_memories(list(plan.expected))
    for memory_id, updated_at in plan.expected.items():
        item = current.get(memory_id)
        if item is None or item.updated_at != updated_at:
            raise PlanConflict(f"memory {memory_id} changed since the plan was made")
    if uow.extracted(plan.scope, plan.extracted):
        raise PlanConflict("some of these messages were extracted meanwhile")
    if plan.fold is not None:
        if uow.summary(plan.fold.scope).turns_folded != plan.fold.expected_folded:
            raise PlanConflict("the running summary changed since the plan was made")
    if plan.new_hashes:
        changed = plan.inserts.keys() | plan.updates.keys()
        query = MemoryQuery(hashes=tuple(sorted(plan.new_hashes)))
        clash = uow.find_memories(plan.scope.owner, query)
        if any(item.id not in changed and plan.scope.owner.owns(item) for item in clash):
            raise PlanConflict("a memory with the same content was stored meanwhile")


def history_rows(plan: Plan) -> list[tuple[HistoryEntry, Scope]]:
    """The plan's history rows, each kept with the scope of the memory it is about (a fact of
    one run can be updated from another run of the same user; its history stays its own), plus
    an ADD row for each former value the plan archives, so every stored memory has a history."""
    changed = {**plan.inserts, **plan.updates}
    rows = [
        (entry, changed[entry.memory_id].scope if entry.memory_id in changed else scope)
        for entry, scope in plan.history
    ]
    have = {entry.memory_id for entry, _ in rows}
    by_memory = {entry.memory_id: entry for entry, _ in rows}
    for item in plan.inserts.values():
        if item.id in have or item.status != MemoryStatus.SUPERSEDED:
            continue
        update = by_memory.get(item.superseded_by or "")
        entry = HistoryEntry(
            id=uuid.uuid4().hex,
            memory_id=item.id,
            old_memory=None,
            new_memory=item.memory,
            event=EventType.ADD,
            actor=update.actor if update is not None else None,
            reason=f"former value of memory {item.superseded_by}, kept when it was updated",
            created_at=plan.now,
        )
        rows.append((entry, item.scope))
    return rows


def commit(records: RecordStore, plan: Plan) -> None:
    """Apply ``plan`` atomically (records, history, audit, summary, outbox, extracted flags).

    Raises:
        PlanConflict: the store changed since the plan was made; nothing was written.
    """
    with records.unit_of_work() as uow:
        _check(uow, plan)
        for item in plan.inserts.values():
            uow.insert_memory(item)
        for item in plan.updates.values():
            uow.replace_memory(item)
        for entry, scope in history_rows(plan):
            uow.add_history(entry, scope)
        for audit in plan.audits:
            uow.add_audit(audit)
        if plan.fold is not None:
            uow.set_summary(plan.fold.scope, plan.fold.summary, plan.now)
            uow.evict(plan.fold.evict)
        op = plan.vector_op()
        if op is not None:
            uow.enqueue(op)
        uow.mark_extracted(plan.scope, plan.extracted)
