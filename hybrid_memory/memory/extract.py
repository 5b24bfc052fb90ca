"""Extraction: new messages become candidate memories (facts, entities, observations).

The model-backed extractor runs when one is configured, the offline one otherwise or when the
model fails (audited). ``infer=False`` keeps each message verbatim instead. Every candidate then
names the messages of this add it came from, and when it happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from hybrid_memory.fallback import Fallback
from hybrid_memory.memory.components import Pipeline
from hybrid_memory.memory.plan import audit_entry
from hybrid_memory.models import AuditEntry, ExtractedFact, MemoryKind, Message, Scope


def verbatim(message: Message) -> ExtractedFact:
    """A message kept as it was said (``infer=False``)."""
    return ExtractedFact(
        text=message.content.strip(),
        kind=MemoryKind.OBSERVATION,
        subject=message.name,
        speaker=message.name,
        sources=[message.id] if message.id else [],
        event_time=message.timestamp,
    )


def attribute(
    candidates: list[ExtractedFact], new: Sequence[Message], context: Sequence[Message] = ()
) -> list[ExtractedFact]:
    """Sources must name messages of this add (a candidate naming none is attributed to the
    whole add); besides them a candidate may name a turn of ``context`` (the turn a reply
    answers). The event time defaults to when the first message of this add was said."""
    said_at = {m.id: m.timestamp for m in new if m.id}
    earlier = {m.id for m in context if m.id}
    for cand in candidates:
        own = [s for s in cand.sources if s in said_at]
        if own:
            cand.sources = [s for s in cand.sources if s in said_at or s in earlier]
        else:
            cand.sources = own = list(said_at)
        if cand.event_time is None and own:
            cand.event_time = said_at[own[0]]
    return candidates


def extract(
    pipeline: Pipeline,
    fallback: Fallback,
    audits: list[AuditEntry],
    scope: Scope,
    new: Sequence[Message],
    context: Sequence[Message],
    *,
    infer: bool,
) -> list[ExtractedFact]:
    """The candidates of ``new`` (``context``: the turns before them, oldest first); a model
    failure is appended to ``audits``."""
    if not infer:
        return attribute([verbatim(m) for m in new if m.content.strip()], new)
    model = pipeline.model_extractor
    ids = [m.id for m in new if m.id]
    candidates = fallback.run(
        "extraction",
        (lambda: model.extract(new, context=context)) if model is not None else None,
        lambda: pipeline.offline_extractor.extract(new, context=context),
        on_failure=lambda stage, exc: audits.append(audit_entry(scope, stage, ids, exc)),
    )
    return attribute(candidates, new, context)
