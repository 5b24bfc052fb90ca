"""Export and import of a scope: memories (current and former), messages and summaries as
JSON-ready records, one per line for JSON Lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hybrid_memory.config import MemoryConfig
from hybrid_memory.embeddings import Embedder
from hybrid_memory.errors import UserInputError
from hybrid_memory.memory.changes import vector_meta
from hybrid_memory.memory.crud import history_entry
from hybrid_memory.messages import to_chat
from hybrid_memory.models import EventType, MemoryItem, Message, Scope, utcnow
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


@dataclass
class ImportBatch:
    """Records validated for import, grouped by type."""

    memories: list[MemoryItem] = field(default_factory=list)
    messages: list[tuple[Scope, Message]] = field(default_factory=list)
    summaries: list[tuple[Scope, dict[str, Any]]] = field(default_factory=list)


def _one(batch: ImportBatch, record: dict[str, Any]) -> None:
    body = {k: v for k, v in record.items() if k != "type"}
    if record["type"] == "memory":
        item = MemoryItem.model_validate(body)
        Scope.of(item.user_id, item.agent_id, item.run_id)
        batch.memories.append(item)
        return
    scope = Scope.of(body.get("user_id"), body.get("agent_id"), body.get("run_id"))
    if record["type"] == "message":
        batch.messages.append((scope, Message.model_validate(body.get("message"))))
    else:
        if not isinstance(body.get("summary"), str):
            raise UserInputError("a summary record needs a string 'summary'")
        batch.summaries.append((scope, body))


def validate_records(records: Sequence[dict[str, Any]]) -> ImportBatch:
    """Check every record before anything is written."""
    batch = ImportBatch()
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict) or record.get("type") not in (
            "memory",
            "message",
            "summary",
        ):
            raise UserInputError(
                f"record {n}: expected a dict with type 'memory', 'message' or 'summary'"
            )
        try:
            _one(batch, record)
        except UserInputError as exc:
            raise UserInputError(f"record {n}: {exc}") from None
        except ValueError as exc:
            raise UserInputError(f"record {n} is malformed: {exc}") from None
    return batch


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
                counts["messages"] += 1
        for scope, body in batch.summaries:
            if not uow.summary(scope).text:
                text = body["summary"]
                summary = RunSummary(
                    text, counter.count_text(text), int(body.get("turns_folded") or 0)
                )
                uow.set_summary(scope, summary, now)
                counts["summaries"] += 1
    return counts
