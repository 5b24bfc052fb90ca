"""A whole memory copied into another one (an embedded data dir into a PostgreSQL + vector
server deployment, and back), then verified.

The copy reuses export and import: each exact scope of the source is exported, its records
are imported into the target in batches (records already there, same memory id or message id,
are skipped, so a copy run again writes nothing new), and the vectors are computed again by the
target's embedder, which must be the source's. History and audit rows are not part of an
export: the target records one ``imported`` history row per memory.

Verification: every memory, message and summary of the source is in the target, scope by
scope, and a sample of memories is searched for by their own text in the target (through its
vector store and its lexical index).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hybrid_memory.memory.transfer import export_records
from hybrid_memory.models import MemoryStatus, Scope
from stores.base import ALL_STATUSES, MemoryQuery

if TYPE_CHECKING:
    from hybrid_memory.memory.facade import HybridMemory


@dataclass
class CopyReport:
    """What a copy found, wrote and verified.

    Attributes:
        scopes / memories / messages / summaries: what the source holds.
        written: what this run wrote into the target (0 everywhere when run again).
        searched / found: sampled memories searched for in the target, and found.
        problems: what does not match (empty when the copy is complete).
    """

    scopes: int = 0
    memories: int = 0
    messages: int = 0
    summaries: int = 0
    written: dict[str, int] = field(
        default_factory=lambda: {"memories": 0, "messages": 0, "summaries": 0}
    )
    searched: int = 0
    found: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _own(scope: Scope, record: dict[str, Any]) -> bool:
    """Whether an exported record belongs to exactly ``scope`` (a scope's export also holds
    the records of the narrower scopes it selects)."""
    ids = (record.get("user_id"), record.get("agent_id"), record.get("run_id"))
    return ids == (scope.user_id, scope.agent_id, scope.run_id)


def _import(target: HybridMemory, records: list[dict[str, Any]], report: CopyReport) -> None:
    for kind, n in target.import_records(records).items():
        report.written[kind] = report.written.get(kind, 0) + n


def _counts(memory: HybridMemory, scope: Scope) -> tuple[set[str], int, int]:
    records = memory.records
    ids = set(records.find_memory_ids(scope, MemoryQuery(statuses=ALL_STATUSES)))
    turns = sum(1 for own, _ in records.turns(scope) if own.key == scope.key)
    summaries = sum(1 for own, _ in records.summaries(scope) if own.key == scope.key)
    return ids, turns, summaries


def _verify(source: HybridMemory, target: HybridMemory, report: CopyReport) -> None:
    for scope in source.records.scopes():
        have, turns, summaries = _counts(source, scope)
        got, got_turns, got_summaries = _counts(target, scope)
        if not have <= got:
            report.problems.append(f"{scope.key!r}: {len(have - got)} memories missing")
        if got_turns < turns or got_summaries < summaries:
            report.problems.append(f"{scope.key!r}: messages or summaries missing")


def _search(source: HybridMemory, target: HybridMemory, sample: int, report: CopyReport) -> None:
    """Search the target for a sample of the source's current memories by their own text."""
    now = datetime.now(UTC)
    candidates = [
        item
        for scope in source.records.scopes()
        for item in source.records.find_memories(scope, MemoryQuery(now=now))
        if item.scope.key == scope.key and item.status == MemoryStatus.ACTIVE
    ]
    for item in random.Random(0).sample(candidates, min(sample, len(candidates))):
        hits = target.search(
            item.memory,
            user_id=item.user_id,
            agent_id=item.agent_id,
            run_id=item.run_id,
            limit=10,
            include_superseded=True,
        )
        report.searched += 1
        if item.id in {h.id for h in hits}:
            report.found += 1
        else:
            report.problems.append(f"memory {item.id} not found by its own text in the target")


def copy_memory(
    source: HybridMemory, target: HybridMemory, *, sample: int = 20, batch: int = 5000
) -> CopyReport:
    """Copy every record of ``source`` into ``target``, then verify (see the module
    docstring). Both must use the same embedder."""
    report = CopyReport()
    pending: list[dict[str, Any]] = []
    for scope in source.records.scopes():
        report.scopes += 1
        own = [r for r in export_records(source.records, scope) if _own(scope, r)]
        for record in own:
            key = {"memory": "memories", "message": "messages", "summary": "summaries"}
            setattr(report, key[record["type"]], getattr(report, key[record["type"]]) + 1)
        pending += own
        if len(pending) >= batch:
            _import(target, pending, report)
            pending = []
    if pending:
        _import(target, pending, report)
    _verify(source, target, report)
    _search(source, target, sample, report)
    return report
