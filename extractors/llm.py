"""Model-backed extractor, consolidator and summarizer (any OpenAI-compatible endpoint).

They take a ``ChatModel`` (``hybrid_memory.llm.LLMClient`` implements it) and validate every
reply: invented message ids are dropped, memories are referred to by temporary numbers so the
model cannot invent real ids, and summaries are cut to their token bound. Failures raise
:class:`~hybrid_memory.errors.ExtractionError`, never an empty result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, Field, field_validator

from extractors.base import ConsolidationDecision
from extractors.lexicon import is_junk
from extractors.prompts import Prompts
from hybrid_memory.attributes import ATTRIBUTES, canonical, family, single_valued, vocabulary_text
from hybrid_memory.errors import UserInputError
from hybrid_memory.framing import as_data
from hybrid_memory.models import (
    Aspect,
    Ending,
    EventType,
    ExtractedFact,
    MemoryItem,
    MemoryKind,
    Message,
    parse_datetime,
)

M = TypeVar("M", bound=BaseModel)


class ChatModel(Protocol):
    """What the LLM components need from a client."""

    @property
    def model(self) -> str:
        """The model name (read-only: ``LLMClient`` takes it from its config)."""
        ...

    def json(
        self,
        messages: list[dict[str, Any]],
        schema: type[M],
        *,
        list_field: str | None = None,
        category: str = "memory",
    ) -> M: ...

    def text(self, messages: list[dict[str, Any]], *, category: str = "memory") -> str: ...


# -- reply schemas ----------------------------------------------------------------------------


class EntityOut(BaseModel):
    name: str
    type: str = "other"


class EndOut(BaseModel):
    attribute: str | None = None
    about: str | None = None


class FactOut(BaseModel):
    text: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    subject: str | None = None
    attribute: str | None = None
    value: str | None = None
    single_valued: bool = False
    aspect: str | None = None
    ends: list[EndOut] = Field(default_factory=list)
    retraction: bool = False
    event_date: str | None = None
    entities: list[EntityOut] = Field(default_factory=list)

    @field_validator("aspect", mode="before")
    @classmethod
    def _known_aspect(cls, value: Any) -> Any:
        text = str(value).strip().lower() if value is not None else None
        return text if text in ("state", "event", "plan") else None

    @field_validator("ends", mode="before")
    @classmethod
    def _end_list(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    @field_validator("sources", mode="before")
    @classmethod
    def _one_source(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("entities", mode="before")
    @classmethod
    def _entity_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class ExtractionReply(BaseModel):
    facts: list[FactOut] = Field(default_factory=list)


class DecisionReply(BaseModel):
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    id: str | int | None = None
    text: str | None = None
    reason: str | None = None

    @field_validator("event", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


def _when(message: Message) -> str:
    return f"{message.timestamp:%Y-%m-%d %H:%M}" if message.timestamp else "unknown time"


def _parse_date(text: str | None) -> datetime | None:
    """A model's ``event_date`` as an aware UTC datetime, or None when it is not a date.

    The whole text is tried first ("2023-05-08T14:00:00Z"), then its first ten characters, so
    a date followed by words ("2023-05-08 (approx.)") still counts; anything else is dropped
    rather than failing the extraction.
    """
    if not text or not text.strip():
        return None
    for candidate in (text.strip(), text.strip()[:10]):
        try:
            return parse_datetime(candidate, "event_date")
        except UserInputError:
            continue
    return None


def _speaker(message: Message) -> str:
    """Who speaks a line of a prompt: the message's name, or its role."""
    return as_data(message.name or message.role)


def _tagged(item: MemoryItem | ExtractedFact) -> str:
    """A memory as the consolidation prompt shows it: its attribute and date, then its text."""
    text = as_data(item.memory if isinstance(item, MemoryItem) else item.text)
    when = item.event_time
    tag = ", ".join(t for t in (item.attribute, f"{when:%Y-%m-%d}" if when else None) if t)
    return f"[{tag}] {text}" if tag else text


def _observation(message: Message) -> ExtractedFact:
    """The message verbatim, with its speaker and date: kept without asking the model."""
    return ExtractedFact(
        text=(f"On {message.timestamp:%-d %B %Y}, " if message.timestamp else "")
        + f"{message.name or message.role} said: {message.content.strip()}",
        kind=MemoryKind.OBSERVATION,
        subject=message.name,
        speaker=message.name,
        sources=[message.id] if message.id else [],
        event_time=message.timestamp,
        importance=0.4,
    )


class LLMExtractor:
    """Facts and entities extracted by a model; observations kept verbatim without a call.

    Args:
        model: a :class:`ChatModel` (e.g. ``hybrid_memory.llm.LLMClient``).
        prompts: replaceable prompts.
        on_dropped: called with the number of facts dropped for naming no valid source.
    """

    def __init__(
        self,
        model: ChatModel,
        prompts: Prompts | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ):
        self.model = model
        self.prompts = prompts or Prompts()
        self.on_dropped = on_dropped
        self.name = f"llm:{model.model}"

    def extract(
        self, messages: Sequence[Message], *, context: Sequence[Message] = ()
    ) -> list[ExtractedFact]:
        """Verbatim observations of ``messages`` plus the facts the model finds in them;
        ``context`` (the turns before) is shown to the model but yields nothing."""
        speaking = [m for m in messages if m.role in ("user", "assistant") and m.content.strip()]
        observations = [_observation(m) for m in speaking if not is_junk(m.content)]
        if not observations:
            return []
        render = "\n".join(
            f"[{m.id}] {_when(m)} {_speaker(m)}: {as_data(m.content)}" for m in speaking
        )
        earlier = (
            "\n".join(f"{_when(m)} {_speaker(m)}: {as_data(m.content)[:500]}" for m in context[-8:])
            or "(none)"
        )
        prompt = self.prompts.extraction.format(
            context=earlier, messages=render, vocabulary=vocabulary_text()
        )
        reply = self.model.json(
            [{"role": "user", "content": prompt}], ExtractionReply, list_field="facts"
        )
        return observations + self._facts(reply, speaking)

    def _facts(self, reply: ExtractionReply, speaking: Sequence[Message]) -> list[ExtractedFact]:
        """The model's facts that name a message of the batch as their source."""
        said = {m.id: m for m in speaking}
        facts, dropped = [], 0
        for out in reply.facts:
            sources = [s for s in dict.fromkeys(out.sources) if s in said]
            if not sources:
                dropped += 1  # a fact must come from a message of this batch
                continue
            first = said[sources[0]]
            attribute = canonical(out.attribute)
            known = attribute is not None and family(attribute) in ATTRIBUTES
            facts.append(
                ExtractedFact(
                    text=out.text.strip(),
                    kind=MemoryKind.FACT,
                    subject=out.subject or first.name,
                    attribute=attribute,
                    value=out.value,
                    single_valued=single_valued(attribute) if known else out.single_valued,
                    aspect=cast(Aspect | None, out.aspect),
                    ends=[
                        Ending(attribute=canonical(e.attribute), about=e.about)
                        for e in out.ends
                        if e.attribute or e.about
                    ],
                    retraction=out.retraction,
                    entities=[e.name for e in out.entities],
                    entity_types={e.name: e.type for e in out.entities},
                    sources=sources,
                    speaker=first.name,
                    event_time=_parse_date(out.event_date) or first.timestamp,
                    importance=0.8,
                )
            )
        if dropped and self.on_dropped is not None:
            self.on_dropped(dropped)
        return facts


class LLMConsolidator:
    """ADD / UPDATE / DELETE / NONE decided by a model, with temporary ids "0", "1", ..."""

    def __init__(self, model: ChatModel, prompts: Prompts | None = None):
        self.model = model
        self.prompts = prompts or Prompts()
        self.name = f"llm:{model.model}"

    def decide(
        self,
        fact: ExtractedFact,
        existing: Sequence[MemoryItem],
        existing_scores: Sequence[float],
    ) -> ConsolidationDecision:
        if not existing:
            return ConsolidationDecision(
                event=EventType.ADD, text=fact.text, reason="no similar memory"
            )
        listing = "\n".join(f'"{i}": {_tagged(item)}' for i, item in enumerate(existing))
        prompt = self.prompts.consolidation.format(fact=_tagged(fact), existing=listing)
        reply = self.model.json([{"role": "user", "content": prompt}], DecisionReply)
        event = EventType(reply.event)
        target: int | None = None
        if reply.id is not None and str(reply.id).strip().strip('"').isdigit():
            index = int(str(reply.id).strip().strip('"'))
            target = index if 0 <= index < len(existing) else None
        if event in (EventType.UPDATE, EventType.DELETE) and target is None:
            # The model named a memory that was not shown: never trust an invented id.
            return ConsolidationDecision(
                event=EventType.ADD,
                text=fact.text,
                reason=f"model answered {event.value} with unknown id {reply.id!r}; added",
            )
        text = (reply.text or "").strip() or fact.text
        return ConsolidationDecision(
            event=event,
            target=target,
            text=text,
            reason=reply.reason or f"decided by {self.model.model}",
        )


class LLMSummarizer:
    """Incremental running summary written by a model, cut to its token bound."""

    def __init__(self, model: ChatModel, prompts: Prompts | None = None):
        self.model = model
        self.prompts = prompts or Prompts()
        self.name = f"llm:{model.model}"

    def summarize(
        self,
        previous: str,
        turns: Sequence[Message],
        *,
        max_tokens: int,
        count_tokens: Callable[[str], int],
    ) -> str:
        if max_tokens <= 0:
            return ""
        rendered = (
            "\n".join(
                f"{_when(t)} {_speaker(t)}: {as_data(t.content)}"
                for t in turns
                if t.role in ("user", "assistant") and as_data(t.content)
            )
            or "(none)"
        )
        prompt = self.prompts.summary.format(
            previous=as_data(previous) or "(empty)",
            turns=rendered,
            max_words=max(10, int(max_tokens * 0.7)),
        )
        text = self.model.text([{"role": "user", "content": prompt}]).strip()
        if count_tokens(text) <= max_tokens:
            return text
        # Over the bound: keep whole sentences from the start, then whole words.
        sentences = text.replace("\n", " ").split(". ")
        kept = ""
        for sentence in sentences:
            candidate = f"{kept}{sentence.rstrip('.')}. " if sentence else kept
            if count_tokens(candidate.strip()) > max_tokens:
                break
            kept = candidate
        kept = kept.strip()
        if not kept:
            words = text.split()
            while words and count_tokens(" ".join(words)) > max_tokens:
                words.pop()
            kept = " ".join(words)
        return kept
