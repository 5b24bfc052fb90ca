"""Export and import of a scope: memories (current and former), messages and summaries as
JSON-ready records, one per line for JSON Lines."""

from __future__ import annotations

from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.memory.changes import vector_meta
from hybrid_memory.memory.contracts import ImportBatch
from hybrid_memory.memory.crud import history_entry
from hybrid_memory.messages import to_chat
from hybrid_memory.models import EventType, Scope, utcnow
from hybrid_memory.tokens import TokenCounter
from stores.base import ALL_STATUSES, MemoryQuery, RecordStore, RunSummary, VectorOp


def export_records(records: RecordStore, scope: Scope) -> list[dict[str, Any]]:
    """Every record of ``scope``: memories (current and superseded), messages, summaries."""
    out: list[dict[str, Any]] = [
        {"type": "memory", **item.model_dump(mode="json")}
        for item in records.find_memories(scope, MemoryQuery(statuses=ALL_STATUSES))
    ]
    for own, message in records.turns(scope):
        out.append(
            {"type": "message", **own.model_dump(), "message": message.model_dump(mode="json")}
        )
    for own, summary in records.summaries(scope):
        out.append(
            {
                "type": "summary",
                **own.model_dump(),
                "summary": summary.text,
                "turns_folded": summary.turns_folded,
            }
        )
    return out


def import_batch(
    records: RecordStore,
    embedder: Embedder,
    config: MemoryConfig,
    counter: TokenCounter,
    batch: ImportBatch,
) -> dict[str, int]:
    """Write the records not present yet (same memory id / message id); returns counts."""
    existing = records.get_memories([m.id for m in batch.memories])
    fresh = [m for m in batch.memories if m.id not in existing]
    vectors = embedder.embed_batch([m.memory for m in fresh])  # before the transaction
    now = utcnow()
    counts = {"memories": 0, "messages": 0, "summaries": 0}
    with records.unit_of_work() as uow:
        for item in fresh:
            uow.insert_memory(item)
            entry = history_entry(
                item.id, None, item.memory, EventType.ADD, config.actor, "imported", now
            )
            uow.add_history(entry, item.scope)
            counts["memories"] += 1
        if fresh:
            metas = [vector_meta(m) for m in fresh]
            uow.enqueue(VectorOp("upsert", [m.id for m in fresh], vectors, metas))
        for scope, message in batch.messages:
            if not uow.message_ids_exist(scope, [message.id] if message.id else []):
                tokens = counter.count_message(to_chat(message))
                uow.insert_turn(scope, message, tokens, now, {})
                # The memories these messages produced come with the export: extracting them
                # again on the next open would add the same facts a second time.
                uow.mark_extracted(scope, [message.id] if message.id else [])
                counts["messages"] += 1
        for scope, text, folded in batch.summaries:
            if not uow.summary(scope).text:
                uow.set_summary(scope, RunSummary(text, counter.count_text(text), folded), now)
                counts["summaries"] += 1
    return counts
