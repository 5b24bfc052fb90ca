"""The buffer and the running summary: turns beyond a run's buffer bounds are folded into its
summary (LLM-written when a model is configured, offline otherwise or when it fails)."""

from __future__ import annotations

from hybrid_memory.config import MemoryConfig
from hybrid_memory.fallback import Fallback
from hybrid_memory.memory.components import Pipeline
from hybrid_memory.memory.plan import Fold, audit_entry
from hybrid_memory.models import AuditEntry, Message, Scope
from hybrid_memory.tokens import TokenCounter
from stores.base import RecordStore, RunSummary


def plan_fold(
    records: RecordStore,
    pipeline: Pipeline,
    config: MemoryConfig,
    counter: TokenCounter,
    scope: Scope,
    audits: list[AuditEntry],
) -> Fold | None:
    """The fold the buffer of ``scope`` needs now (None when it is within its bounds).

    The oldest turns leave first until the buffer fits ``buffer.max_tokens`` and
    ``buffer.max_turns``; the summary that absorbs them is cut to ``summary.max_tokens`` if a
    summarizer breaks that contract. A model failure is appended to ``audits``.
    """
    bounds = config.buffer
    turns = records.buffer(scope)
    total = sum(t.tokens for t in turns)
    leaving = []
    while turns and (total > bounds.max_tokens or len(turns) > bounds.max_turns):
        turn = turns.pop(0)
        leaving.append(turn)
        total -= turn.tokens
    if not leaving:
        return None
    previous = records.summary(scope)
    folded: list[Message] = [t.message for t in leaving]
    limit, count = config.summary.max_tokens, counter.count_text
    model = pipeline.model_summarizer
    ids = [m.id for m in folded if m.id]
    text = Fallback().run(
        "summary",
        (lambda: model.summarize(previous.text, folded, max_tokens=limit, count_tokens=count))
        if model is not None
        else None,
        lambda: pipeline.offline_summarizer.summarize(
            previous.text, folded, max_tokens=limit, count_tokens=count
        ),
        on_failure=lambda stage, exc: audits.append(audit_entry(scope, stage, ids, exc)),
    )
    tokens = count(text)
    if tokens > limit:  # a summarizer broke its contract
        text = counter.truncate_text(text, limit)
        tokens = count(text)
    summary = RunSummary(text, tokens, previous.turns_folded + len(leaving))
    return Fold(scope, summary, [t.seq for t in leaving], previous.turns_folded)
