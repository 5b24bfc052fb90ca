"""The offline extractor: deterministic rules, no model, thousands of messages per second.

For each meaningful message it produces:

- an OBSERVATION: the utterance verbatim, with its speaker and date ("On 8 May 2023, Caroline
  said: ..."), so nothing said is lost to extraction;
- FACTS: each informative first-person sentence rewritten as a self-contained statement about
  the speaker (I/my -> the speaker's name, you/your -> the person addressed, relative dates made
  absolute), plus canonical attribute facts (home, employer, job, pets, family, likes, plans,
  health...) that consolidation can UPDATE when a newer value arrives; retractions ("I don't
  work there anymore", "forget that ...") are marked so consolidation can DELETE;
- ENTITIES: people, places, organisations and pets named in the message.

Greetings, fillers and acknowledgements produce nothing. The rules live in their own modules:
:mod:`extractors.person` (rewriting), :mod:`extractors.sentences` (which sentences count),
:mod:`extractors.entities` and :mod:`extractors.attributes`; this module puts them together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from extractors.attributes import Retraction, attribute_facts, find_retraction
from extractors.dates import day, resolve_relative_dates
from extractors.entities import entities as find_entities
from extractors.lexicon import is_junk
from extractors.person import rewrite_person, strip_interjections
from extractors.sentences import PLEASANTRY, statements, worth_a_fact
from hybrid_memory.models import ExtractedFact, MemoryKind, Message

# Re-exported: other modules and callers import these from here.
__all__ = ["PLEASANTRY", "OfflineExtractor", "rewrite_person", "strip_interjections"]

_NUMBER = re.compile(r"\d")


@dataclass
class _Turn:
    """One message being extracted and what all of its facts share."""

    message: Message
    speaker: str | None  # who "I" is: the name, or "the user"
    addressee: str | None  # who "you" is: the last other named speaker
    sources: list[str]
    entities: dict[str, str]
    importance: float
    seen: set[str] = field(default_factory=set)  # fact texts already produced
    retracted: set[str] = field(default_factory=set)  # attributes taken back


class OfflineExtractor:
    """Deterministic rule-based extraction (see the module docstring).

    Example:
        >>> from hybrid_memory.models import Message
        >>> facts = OfflineExtractor().extract(
        ...     [Message(role="user", name="Ana", id="m1", content="I live in Porto.")])
        >>> sorted(f.text for f in facts if f.kind == "fact")
        ['Ana lives in Porto.']
    """

    name = "offline-rules-v1"

    def extract(
        self, messages: Sequence[Message], *, context: Sequence[Message] = ()
    ) -> list[ExtractedFact]:
        """Observations, facts and entities of ``messages``; ``context`` holds the turns before
        them (used to know who "you" is)."""
        out: list[ExtractedFact] = []
        history = list(context)
        for message in messages:
            out.extend(self._message(message, history))
            history.append(message)
        return out

    @staticmethod
    def _addressee(message: Message, history: Sequence[Message]) -> str | None:
        for earlier in reversed(history):
            if (
                earlier.name
                and earlier.name != message.name
                and earlier.role in ("user", "assistant")
            ):
                return earlier.name
        return None

    def _message(self, message: Message, history: Sequence[Message]) -> list[ExtractedFact]:
        if message.role not in ("user", "assistant", "developer") and not message.name:
            return []
        if message.role in ("tool", "system"):
            return []
        content = (message.content or "").strip()
        if not content or is_junk(content):
            return []
        entities = find_entities(content, message.name)
        turn = _Turn(
            message=message,
            speaker=message.name or ("the user" if message.role == "user" else None),
            addressee=self._addressee(message, history),
            sources=[message.id] if message.id else [],
            entities=entities,
            importance=min(
                1.0, 0.3 + 0.1 * len(entities) + (0.1 if _NUMBER.search(content) else 0)
            ),
        )
        results = [self._observation(turn, content)]
        # First-person facts only when we know who "I" is (a named speaker or the user).
        if message.role == "assistant" and not message.name:
            return results
        for sentence in statements(content):
            results.extend(self._sentence_facts(turn, sentence))
        results.extend(self._entity_facts(turn))
        return results

    @staticmethod
    def _observation(turn: _Turn, content: str) -> ExtractedFact:
        said_at = turn.message.timestamp
        prefix = f"On {day(said_at)}, " if said_at else ""
        return ExtractedFact(
            text=f"{prefix}{turn.message.name or turn.message.role} said: {content}",
            kind=MemoryKind.OBSERVATION,
            subject=turn.message.name,
            speaker=turn.message.name,
            entities=list(turn.entities),
            entity_types=turn.entities,
            sources=turn.sources,
            event_time=said_at,
            importance=turn.importance,
        )

    def _sentence_facts(self, turn: _Turn, sentence: str) -> list[ExtractedFact]:
        """The retraction or attribute facts of one statement, then its first-person fact."""
        resolved, when = resolve_relative_dates(sentence, turn.message.timestamp)
        event_time = when or turn.message.timestamp
        named = [e for e in turn.entities if e in sentence]
        out: list[ExtractedFact] = []
        retraction = find_retraction(sentence)
        if retraction is not None:
            out.append(self._retraction_fact(turn, retraction, resolved, event_time, named))
        else:
            out.extend(
                attribute_facts(
                    sentence,
                    turn.speaker,
                    sources=turn.sources,
                    event_time=event_time,
                    entities=named,
                    seen=turn.seen,
                    retracted=turn.retracted,
                )
            )
        if worth_a_fact(sentence):
            fact = self._first_person_fact(turn, resolved, event_time, named)
            if fact is not None:
                out.append(fact)
        return out

    @staticmethod
    def _retraction_fact(
        turn: _Turn,
        retraction: Retraction,
        resolved: str,
        event_time: datetime | None,
        named: list[str],
    ) -> ExtractedFact:
        if retraction.attribute:
            turn.retracted.add(retraction.attribute)
        return ExtractedFact(
            text=rewrite_person(resolved, turn.speaker, turn.addressee),
            subject=turn.speaker,
            attribute=retraction.attribute,
            value=retraction.value,
            retraction=True,
            speaker=turn.message.name,
            sources=turn.sources,
            event_time=event_time,
            entities=named,
            importance=0.8,
        )

    @staticmethod
    def _first_person_fact(
        turn: _Turn, resolved: str, event_time: datetime | None, named: list[str]
    ) -> ExtractedFact | None:
        """The statement (dates resolved) as a third-person fact; None when it repeats one."""
        text = rewrite_person(strip_interjections(resolved), turn.speaker, turn.addressee).strip()
        if not text:
            return None
        if text[-1:] not in ".!":
            text += "."
        if text.endswith("!"):
            text = text[:-1] + "."
        if text in turn.seen:
            return None
        turn.seen.add(text)
        return ExtractedFact(
            text=text,
            subject=turn.speaker,
            speaker=turn.message.name,
            sources=turn.sources,
            event_time=event_time,
            entities=named,
            entity_types={e: turn.entities[e] for e in named},
            importance=min(1.0, turn.importance + 0.1),
        )

    @staticmethod
    def _entity_facts(turn: _Turn) -> list[ExtractedFact]:
        who = turn.message.name or turn.message.role
        return [
            ExtractedFact(
                text=f"{name} ({etype}), mentioned by {who}",
                kind=MemoryKind.ENTITY,
                subject=name,
                speaker=turn.message.name,
                entities=[name],
                entity_types={name: etype},
                sources=turn.sources,
                event_time=turn.message.timestamp,
                importance=0.3,
            )
            for name, etype in turn.entities.items()
            if name != turn.message.name
        ]
