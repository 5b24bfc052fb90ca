"""The offline extractor: deterministic rules, no model, thousands of messages per second.

For each meaningful message it produces:

- an OBSERVATION: the utterance verbatim, with its speaker and date ("On 8 May 2023, Caroline
  said: ..."), so nothing said is lost to extraction (an assistant's small talk is not kept).
  A reply carries the end of the turn it answers ("... (replying to Melanie: "What did you
  paint?")") and lists that turn first among its sources, then its own message: "Yes, last
  week!" is found, and understood, with the question it answers;
- FACTS, one per clause (:mod:`extractors.clauses`): each statement in the first person, or
  about someone the conversation names, rewritten as a self-contained statement (I/my -> the
  speaker's name, dates made absolute), with its aspect (state, event or plan) and the attribute
  it is about; plus canonical attribute facts ("Caroline lives in Boston.") that consolidation
  replaces when a newer value arrives. Statements that end something (:mod:`extractors.endings`)
  are kept as events and say what they end; retractions ("forget that...") are instructions,
  never facts;
- ENTITIES: people, places, organisations and pets named in the message.

Greetings, fillers and acknowledgements produce nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.aspect import aspect
from extractors.attributes import Candidate, candidates, main_attribute
from extractors.clauses import clauses, core, predicate, refers_back, resolve_ellipsis
from extractors.dates import day, resolve_relative_dates
from extractors.endings import META, find_endings, find_retraction
from extractors.entities import entities as find_entities
from extractors.entities import people_in
from extractors.lexicon import is_junk
from extractors.message_facts import message_facts
from extractors.person import rewrite_person, strip_interjections
from extractors.sentences import PLEASANTRY, advice, ending, statements, worth_a_fact
from extractors.subjects import as_first_person, clause_subject, companion
from hybrid_memory.attributes import single_valued
from hybrid_memory.models import Ending, ExtractedFact, MemoryKind, Message

# Re-exported: other modules and callers import these from here.
__all__ = ["PLEASANTRY", "OfflineExtractor", "rewrite_person", "strip_interjections"]

_NUMBER = re.compile(r"\d")
_PRONOUN_START = re.compile(r"^(?:He|She)('s|\s)")
_INTRO = re.compile(r"^(\w[\w'’-]*) is \1,")  # "Lucía is Lucía, 27, pastry chef" -> "Lucía, 27"
_SELF_NAME = re.compile(r"(?:\{s\}'s name is|\{s\} is|This is) \{s\}[.!]?")
_REPLY_WITHIN = 6 * 3600.0  # seconds: a turn said later than this after another is no reply


@dataclass
class _Turn:
    """One message being extracted and what all of its facts share."""

    message: Message
    speaker: str | None  # who "I" is: the name, or "the user"
    addressee: str | None  # who "you" is: the last other named speaker
    we: str | None  # who "we" is besides the speaker, when the message names them
    sources: list[str]
    entities: dict[str, str]
    people: list[str]  # people named in the message and the turns before it
    importance: float
    replying_to: Message | None = None  # the other speaker's turn just before this one
    done: str | None = None  # what the latest clause said the speaker did ("got married")
    previous: str | None = None  # the latest clause, as said
    seen: set[str] = field(default_factory=set)  # fact texts already produced


_REPLYING = re.compile(r' \(replying to [^:"]{1,80}: ".*"\)$', re.DOTALL)
_SHARED_END = re.compile(r"\s*\[shared [^\]]*\]\.?$")


def asks(observation: str) -> bool:
    """Whether an observation, as :class:`OfflineExtractor` writes it ("On <day>, <speaker>
    said: <utterance> (replying to ...)"), is of an utterance that ends by asking something:
    the reply to it then holds the answer."""
    said = _REPLYING.sub("", observation.strip())
    return _SHARED_END.sub("", said).rstrip().endswith("?")


def _fact_text(text: str) -> str:
    return text.strip().rstrip("!?.") + "."


class OfflineExtractor:
    """Deterministic rule-based extraction (see the module docstring).

    Example:
        >>> from hybrid_memory.models import Message
        >>> facts = OfflineExtractor().extract(
        ...     [Message(role="user", name="Ana", id="m1", content="I live in Porto.")])
        >>> sorted(f.text for f in facts if f.kind == "fact")
        ['Ana lives in Porto.']
    """

    name = "offline-rules-v2"

    def extract(
        self, messages: Sequence[Message], *, context: Sequence[Message] = ()
    ) -> list[ExtractedFact]:
        """Observations, facts and entities of ``messages``; ``context`` holds the turns before
        them (used to know who "you" is and who has been named)."""
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

    @staticmethod
    def _replied(message: Message, history: Sequence[Message]) -> Message | None:
        """The turn ``message`` answers: the one just before it, by another speaker, said
        shortly before (None when there is no such turn)."""
        if not history:
            return None
        last = history[-1]
        if last.role not in ("user", "assistant") or (last.name, last.role) == (
            message.name,
            message.role,
        ):
            return None
        if not (last.content or "").strip() or is_junk(last.content.strip()):
            return None
        if last.timestamp is not None and message.timestamp is not None:
            gap = (message.timestamp - last.timestamp).total_seconds()
            if abs(gap) > _REPLY_WITHIN:
                return None
        return last

    def _turn(self, message: Message, history: Sequence[Message], content: str) -> _Turn:
        entities = find_entities(content, message.name)
        # Who a clause can be about: people (and pets) named lately, the latest first.
        named = [people_in(m.content, m.name) for m in [*history[-6:], message]]
        people = [n for names in named for n in names]
        return _Turn(
            message=message,
            speaker=message.name or ("the user" if message.role == "user" else None),
            addressee=self._addressee(message, history),
            we=companion(content, message.name, entities),
            sources=[message.id] if message.id else [],
            entities=entities,
            people=[p for p in dict.fromkeys(reversed(people)) if p != message.name],
            importance=min(
                1.0, 0.3 + 0.1 * len(entities) + (0.1 if _NUMBER.search(content) else 0)
            ),
            replying_to=self._replied(message, history),
        )

    def _message(self, message: Message, history: Sequence[Message]) -> list[ExtractedFact]:
        if message.role in ("tool", "system", "developer"):
            return []
        content = (message.content or "").strip()
        if not content or is_junk(content):
            return []
        turn = self._turn(message, history, content)
        if message.role == "assistant" and not message.name:
            # An assistant's words are not facts about anyone; keep what it said only when it
            # advises or commits to something, not its pleasantries, questions and small talk.
            said = [
                s for s in statements(content) if worth_a_fact(s, first_person=False) and advice(s)
            ]
            return [self._observation(turn, content)] if said else []
        results = [self._observation(turn, content)]
        for sentence in statements(content):
            for clause in clauses(sentence):
                results.extend(self._clause_facts(turn, clause))
        results.extend(self._message_facts(turn, content))
        results.extend(self._entity_facts(turn))
        return results

    @staticmethod
    def _observation(turn: _Turn, content: str) -> ExtractedFact:
        said_at = turn.message.timestamp
        prefix = f"On {day(said_at)}, " if said_at else ""
        text = f"{prefix}{turn.message.name or turn.message.role} said: {content}"
        sources = turn.sources
        earlier = turn.replying_to
        if earlier is not None and (end := ending(earlier.content)):
            text += f' (replying to {earlier.name or earlier.role}: "{end}")'
            sources = ([earlier.id] if earlier.id else []) + turn.sources
        return ExtractedFact(
            text=text,
            kind=MemoryKind.OBSERVATION,
            subject=turn.message.name,
            speaker=turn.message.name,
            entities=list(turn.entities),
            entity_types=turn.entities,
            sources=sources,
            event_time=said_at,
            importance=turn.importance,
        )

    def _clause_facts(self, turn: _Turn, clause: str) -> list[ExtractedFact]:
        """The canonical attribute facts of one clause, then the clause as a fact."""
        if META.search(clause) or not turn.speaker:
            return []
        clause = resolve_ellipsis(clause, turn.done)
        turn.done = predicate(clause) or turn.done
        if refers_back(clause) and turn.previous:  # "... a new hip. They did it in March."
            clause = f"{turn.previous.rstrip('.!')}; {clause[:1].lower()}{clause[1:]}"
        turn.previous = clause
        said_at = turn.message.timestamp
        kind = aspect(clause)
        resolved, when = resolve_relative_dates(clause, said_at, aspect=kind)
        base: dict[str, Any] = {
            "speaker": turn.message.name,
            "sources": turn.sources,
            "event_time": when or said_at,
            "entities": [e for e in turn.entities if e in clause],
        }
        retraction = find_retraction(clause)
        if retraction is not None:
            text = rewrite_person(resolved, turn.speaker, turn.addressee, we=turn.we)
            ends = [Ending(about=retraction.about)] if retraction.about else []
            return [ExtractedFact(text=_fact_text(text), subject=turn.speaker, retraction=True,
                                  ends=ends, importance=0.8, **base)]  # fmt: skip
        # "He"/"she" is someone named before the clause, not in it ("She has a dog called Rex").
        people = [p for p in turn.people if p not in clause] + [
            p for p in turn.people if p in clause
        ]
        subject = clause_subject(clause, turn.speaker, people)
        plain = core(as_first_person(clause, subject, turn.speaker))
        found = candidates(plain, subject or turn.speaker)
        if subject is None and found:
            subject = turn.speaker  # "Favourite singer right now is X" is about the speaker
        out = [self._canonical(turn, c, subject, base) for c in found if c.text and subject]
        out.append(self._statement(turn, clause, resolved, subject, kind, found, base))
        return [f for f in out if f is not None]

    @staticmethod
    def _canonical(
        turn: _Turn, found: Candidate, subject: str | None, base: dict
    ) -> ExtractedFact | None:
        text = rewrite_person(found.text, turn.speaker, turn.addressee, we=turn.we)
        if text in turn.seen:
            return None
        turn.seen.add(text)
        return ExtractedFact(
            text=text,
            subject=subject,
            attribute=found.attribute,
            value=found.value,
            single_valued=found.single,
            aspect="state",
            importance=0.9,
            **{**base, "entities": list(dict.fromkeys([*base["entities"], *found.names]))},
        )

    def _statement(
        self,
        turn: _Turn,
        clause: str,
        resolved: str,
        subject: str | None,
        kind: str,
        found: list[Candidate],
        base: dict,
    ) -> ExtractedFact | None:
        """The clause itself as a fact (None when it is not worth one)."""
        endings = [
            Ending(attribute=e.attribute, about=e.about, cues=list(e.cues), subject=e.subject)
            for e in find_endings(core(clause))
        ]
        if not endings and not worth_a_fact(clause, first_person=False):
            return None
        if subject is None and not endings and kind != "plan":
            return None  # about something else ("Fjordform is intense but good")
        text = rewrite_person(strip_interjections(resolved), turn.speaker, turn.addressee,
                              we=turn.we)  # fmt: skip
        if subject is not None and subject != turn.speaker:
            text = _PRONOUN_START.sub(subject + r"\1", text)  # "She's a nurse" -> "Agnieszka's"
        if subject is None:  # news about the speaker's life that names no one ("The trip is off")
            text = f"{turn.speaker}: {text}"
        text = _fact_text(_INTRO.sub(r"\1,", text))
        if _SELF_NAME.fullmatch(text.replace(turn.speaker or "", "{s}")):
            return None  # "My name is Kwame" is not news about Kwame
        if text in turn.seen:
            return None
        turn.seen.add(text)
        # A state, or an event that sets one ("I rented a flat in X"), is about its attribute;
        # an ending is news about what it ends ("I quit the hotel": employer), while a remark
        # that ends something unnamed ("..., no more driving") leaves the statement as it is.
        ended = next((e.attribute for e in endings if e.attribute), None)
        main = main_attribute(found) if kind in ("state", "event") and not ended else None
        attribute = main.attribute if main else ("plan" if kind == "plan" else ended)
        aspect = "event" if ended or (endings and not main) else kind
        return ExtractedFact(
            text=text,
            subject=subject or turn.speaker,
            attribute=attribute,
            value=main.value if main else None,
            single_valued=bool(main and main.single),
            aspect=aspect,  # type: ignore[arg-type]
            ends=endings,
            entity_types={e: turn.entities[e] for e in base["entities"]},
            importance=min(1.0, turn.importance + 0.1),
            **base,
        )

    def _message_facts(self, turn: _Turn, content: str) -> list[ExtractedFact]:
        """Facts that span sentences (:mod:`extractors.message_facts`), unless a clause of the
        message already stated them."""
        out: list[ExtractedFact] = []
        if not turn.speaker:
            return out
        for attribute, value, template in message_facts(content):
            text = template.replace("{s}", turn.speaker)
            said = {t.casefold() for t in turn.seen}
            if text.casefold() in said or (
                attribute == "home" and any(" lives in " in t for t in said)
            ):
                continue
            turn.seen.add(text)
            out.append(
                ExtractedFact(
                    text=text, subject=turn.speaker, attribute=attribute, value=value,
                    single_valued=single_valued(attribute), aspect="state",
                    speaker=turn.message.name, sources=turn.sources,
                    event_time=turn.message.timestamp, entities=[value], importance=0.9,
                )
            )  # fmt: skip
        return out

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
