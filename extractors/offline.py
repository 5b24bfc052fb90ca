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

Greetings, fillers and acknowledgements produce nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from extractors.dates import day, resolve_relative_dates
from extractors.lexicon import (
    COMPANIES,
    FAMILY,
    IRREGULAR_PAST,
    JOB_WORDS,
    MODALS,
    ORG_SUFFIXES,
    PETS,
    PLACES,
    STOP_CAPITALIZED,
    is_junk,
)
from hybrid_memory.models import ExtractedFact, MemoryKind, Message

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])|\n+")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'd|I'll|me|my|mine|myself|we|we're|we've|our|us)\b")
_CAPITALIZED = re.compile(r"\b([A-Z][a-zA-Z'’-]+(?:\s+(?:of\s+)?[A-Z][a-zA-Z'’-]+)*)")
_NUMBER = re.compile(r"\d")
_ADVERBS = {
    "really",
    "also",
    "just",
    "always",
    "never",
    "often",
    "usually",
    "still",
    "recently",
    "finally",
    "actually",
    "now",
    "sometimes",
    "already",
    "even",
    "only",
    "mostly",
    "totally",
    "definitely",
    "absolutely",
    "truly",
    "seriously",
    "generally",
    "rarely",
    "probably",
}

_V = r"(?P<v>[A-Z][\w'’&.-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'’&.-]*)*)"
_ATTRIBUTE_RULES: list[tuple[re.Pattern, str, bool, str]] = [
    # (pattern over the original first-person sentence, attribute, single-valued, template)
    (
        re.compile(r"\bI (?:now |currently |still )?(?:live|am living|'m living) in " + _V),
        "home",
        True,
        "{s} lives in {v}.",
    ),
    (
        re.compile(r"\bI(?: just| recently| finally)? moved (?:back )?(?:to|into) " + _V),
        "home",
        True,
        "{s} lives in {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:from|originally from) " + _V),
        "hometown",
        True,
        "{s} is from {v}.",
    ),
    (
        re.compile(r"\bI (?:now |currently |still )?work (?:at|for) " + _V),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI(?: \w+ly| also| just| finally)? (?:started|got|began|took|landed) "
            r"(?:a |my |the )?(?:new )?(?:job|position|role|internship)(?: as an? "
            r"[\w -]+?)? (?:at|with|for) " + _V
        ),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI(?: \w+ly| also| just| finally)? (?:started|got|began|took|landed) "
            r"(?:a |my |the )?(?:new )?(?:job|position|role) as an? "
            r"(?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]| at | for | with |$)"
        ),
        "job",
        True,
        "{s} works as a {v}.",
    ),
    (
        re.compile(r"\bI(?: \w+ly| also| just| finally)? started working (?:at|for) " + _V),
        "employer",
        True,
        "{s} works at {v}.",
    ),
    (
        re.compile(
            r"\bI (?:now |currently )?work as an? (?P<v>[a-z][\w -]{2,40}?)(?=[.,!;]| at "
            r"| for | in |$)"
        ),
        "job",
        True,
        "{s} works as a {v}.",
    ),
    (re.compile(r"\b[Mm]y name is " + _V), "name", True, "{s}'s name is {v}."),
    (
        re.compile(r"\bI(?:'m| am) (?P<v>\d{1,3}) (?:years old|yo)\b"),
        "age",
        True,
        "{s} is {v} years old.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:now )?(?P<v>married|single|engaged|divorced|widowed)\b"),
        "relationship_status",
        True,
        "{s} is {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) (?:a )?(?P<v>vegetarian|vegan|pescatarian)\b"),
        "diet",
        True,
        "{s} is {v}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) allergic to (?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| and | but )"),
        "allergy",
        False,
        "{s} is allergic to {v}.",
    ),
    (
        re.compile(
            r"\bI (?:was |have been |got )?diagnosed with (?P<v>[\w ,'-]{2,60}?)"
            r"(?=[.!;]|$| and | but | in )"
        ),
        "health",
        False,
        "{s} was diagnosed with {v}.",
    ),
    (
        re.compile(
            r"\bI (?:really |absolutely )?(?:love|like|enjoy|adore) (?P<v>[\w ,'-]{2,60}?)"
            r"(?=[.!;]|$| and | but | because | so )"
        ),
        "likes",
        False,
        "{s} likes {v}.",
    ),
    (
        re.compile(
            r"\bI (?:really )?(?:hate|dislike|can't stand|do not like|don't like) "
            r"(?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| and | but | because )"
        ),
        "dislikes",
        False,
        "{s} dislikes {v}.",
    ),
    (
        re.compile(
            r"\b[Mm]y (?:favou?rite) (?P<k>[a-z]+(?: [a-z]+)?) (?:is|are) (?P<v>[\w ,'&-]{2,60}?)"
            r"(?=[.!;]|$| and | but | because )"
        ),
        "favorite_{k}",
        True,
        "{s}'s favorite {k} is {v}.",
    ),
    (
        re.compile(
            r"\bI(?:'m| am) (?:going|planning|hoping|about) to (?P<v>[\w ,'-]{3,80}?)"
            r"(?=[.!;]|$| because | but )"
        ),
        "plans",
        False,
        "{s} plans to {v}.",
    ),
    (
        re.compile(
            r"\bI (?:plan|want|intend|hope) to (?P<v>[\w ,'-]{3,80}?)(?=[.!;]|$| because "
            r"| but )"
        ),
        "plans",
        False,
        "{s} plans to {v}.",
    ),
    (
        re.compile(
            r"\bI(?:'m| am) (?:studying|majoring in) (?P<v>[\w ,'-]{2,60}?)(?=[.!;]|$| at "
            r"| and | but )"
        ),
        "education",
        False,
        "{s} studies {v}.",
    ),
    (re.compile(r"\bI graduated from " + _V), "education", False, "{s} graduated from {v}."),
]
_JOB_IS = re.compile(r"\bI(?:'m| am) (?:now )?an? (?P<v>(?:[a-z-]+ ){0,2}[a-z-]+)\b")
_PET = re.compile(
    r"\b(?:[Mm]y|[Oo]ur) (?P<kind>" + "|".join(sorted(PETS)) + r")(?:,)? (?:named |called )?"
    r"(?P<v>[A-Z][a-z]+)\b"
    r"|\b(?:a|an) (?P<kind2>" + "|".join(sorted(PETS)) + r") (?:named|called) (?P<v2>[A-Z][a-z]+)"
)
_FAMILY_NAMED = re.compile(
    r"\b[Mm]y (?P<rel>" + "|".join(sorted(FAMILY, key=len, reverse=True)) + r")(?:,)? "
    r"(?:is |named |called )?(?P<v>[A-Z][a-z]+)\b"
)
_RETRACTIONS: list[tuple[re.Pattern, str | None]] = [
    (re.compile(r"\bI (?:don't|do not|no longer) work (?:at|for) " + _V), "employer"),
    (re.compile(r"\bI (?:quit|left) (?:my job(?: at " + _V + r")?)"), "employer"),
    (re.compile(r"\bI (?:don't|do not|no longer) work (?:there|at that place)\b"), "employer"),
    (re.compile(r"\bI (?:don't|do not|no longer) live in " + _V), "home"),
    (
        re.compile(r"\bI(?:'m| am) (?:not|no longer) (?:a )?(?P<v>vegetarian|vegan|pescatarian)"),
        "diet",
    ),
    (re.compile(r"\bI(?:'m| am) (?:not|no longer) (?P<v>married|engaged)"), "relationship_status"),
    (re.compile(r"\bforget (?:that|what I said about|about) (?P<v>.{3,200})", re.IGNORECASE), None),
]
_INTERJECTION = re.compile(
    r"^(?:(?:yes|yeah|yep|no|nope|oh|wow|well|so|and|but|also|btw|haha|lol|hey|ok|okay|"
    r"omg|aw+|ah|hmm+|honestly|actually|anyway|sure|totally|right)\b[\s,!.:;-]*)+",
    re.IGNORECASE,
)
_EXCLAMATION = re.compile(
    r"^(?:good|great|nice|cool|awesome|perfect|thanks|sweet|amazing|wonderful|big news|"
    r"guess what|fun fact|update)[,!.:]\s*",
    re.IGNORECASE,
)
_NOT_A_VALUE = re.compile(
    r"^(?:is|are|was|were|it|that|this|to see|to hear|how|when|what|the way|you|your|him|her|"
    r"them|seeing|hearing|that you|it when)\b",
    re.IGNORECASE,
)
# Sentences that are reactions to the other person rather than information.
PLEASANTRY = re.compile(
    r"^(?:that's|that is|wow|oh|aw+|haha|lol|thanks|thank you|congrats|congratulations|"
    r"i'm (?:so )?(?:glad|happy|sorry|proud|stoked|excited for you)|glad|sorry|sounds|"
    r"so (?:cool|great|nice)|good (?:luck|job)|can't wait|keep (?:it up|up)|you (?:got|can)|"
    r"love (?:it|that|having)|i hope|hope (?:you|it)|let me know|take care|have fun|enjoy|"
    r"you're|you are|you should|you'll|you've got|way to go|well done|nice|cool|great|"
    r"awesome|amazing|what a|how (?:cool|nice|great|awesome))\b",
    re.IGNORECASE,
)
_ANYMORE = re.compile(r"\b(anymore|any more|no longer)\b", re.IGNORECASE)

_I_VERB = re.compile(r"\bI((?:\s+(?:" + "|".join(sorted(_ADVERBS)) + r"))*)\s+([a-z][a-z']*)\b")


def _third_person(verb: str) -> str:
    low = verb.lower()
    past = low.endswith("ed") and not low.endswith("eed")
    negated = low.endswith(("s", "n't")) and low not in ("don't", "haven't")
    if low in MODALS or low in IRREGULAR_PAST or past or negated:
        return verb
    special = {
        "am": "is",
        "have": "has",
        "do": "does",
        "don't": "doesn't",
        "go": "goes",
        "haven't": "hasn't",
        "wasn't": "wasn't",
    }
    if low in special:
        return special[low]
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    if re.search(r"(ch|sh|x|z|o)$", low):
        return verb + "es"
    return verb + "s"


def rewrite_person(text: str, speaker: str | None, addressee: str | None) -> str:
    """Rewrite first person as ``speaker`` and second person as ``addressee`` (when known)."""
    if speaker:
        s = speaker
        text = re.sub(r"\bI'm\b", f"{s} is", text)
        text = re.sub(r"\bI've\b", f"{s} has", text)
        text = re.sub(r"\bI'd\b", f"{s} would", text)
        text = re.sub(r"\bI'll\b", f"{s} will", text)

        # "I really love" -> "Ana really loves": conjugate the first verb after the adverbs.
        text = _I_VERB.sub(lambda m: f"{s}{m.group(1)} {_third_person(m.group(2))}", text)
        text = re.sub(r"\bI\b", s, text)
        text = re.sub(r"\b(?:my|My)\b", f"{s}'s", text)
        text = re.sub(r"\bmine\b", f"{s}'s", text)
        text = re.sub(r"\bmyself\b", s, text)
        text = re.sub(r"\bme\b", s, text)
        # In a conversation "we" is most often the two people talking.
        group = f"{s} and {addressee}" if addressee else f"{s} and others"
        text = re.sub(r"\b(?:[Ww]e're)\b", f"{group} are", text)
        text = re.sub(r"\b(?:[Ww]e've)\b", f"{group} have", text)
        text = re.sub(r"\b[Ww]e\b", group, text)
        text = re.sub(r"\b[Oo]ur\b", f"{s}'s", text)
        text = re.sub(r"\bus\b", group, text)
    if addressee:
        a = addressee
        text = re.sub(r"\b[Yy]ou're\b", f"{a} is", text)
        text = re.sub(r"\b[Yy]ou've\b", f"{a} has", text)
        text = re.sub(r"\b[Yy]our\b", f"{a}'s", text)
        text = re.sub(r"\b[Yy]ou\b", a, text)
    return text


def strip_interjections(sentence: str) -> str:
    """Drop leading "Yes, ", "Oh wow, ", "Good, "... and capitalize what is left."""
    rest = _INTERJECTION.sub("", sentence).strip()
    rest = _EXCLAMATION.sub("", rest).strip()
    return rest[:1].upper() + rest[1:] if rest else sentence


def _clean_value(value: str) -> str:
    value = value.strip(" ,.'\"")
    value = re.sub(r"\s+(?:now|too|as well|again|lately|recently)$", "", value)
    return value


def _entities(text: str, speaker: str | None) -> dict[str, str]:
    """Named entities of ``text`` with a coarse type."""
    found: dict[str, str] = {}
    for match in _PET.finditer(text):
        name = match.group("v") or match.group("v2")
        if name:
            found[name] = "pet"
    for match in _FAMILY_NAMED.finditer(text):
        found.setdefault(match.group("v"), "person")
    for match in _CAPITALIZED.finditer(text):
        name = match.group(1).strip("'’")
        if name.endswith("'s") or name.endswith("’s"):
            name = name[:-2]
        words = name.split()
        while words and words[0] in STOP_CAPITALIZED:
            words = words[1:]
        while words and words[-1] in STOP_CAPITALIZED:
            words = words[:-1]
        if not words:
            continue
        name = " ".join(words)
        if name in found or len(name) < 2:
            continue
        before = text[: match.start()].rstrip().split()
        prev = before[-1].lower() if before else ""
        if name in PLACES or (
            prev in ("in", "to", "from", "near", "visited", "visit")
            and name not in found
            and len(words) <= 3
        ):
            found[name] = "place"
        elif any(w in ORG_SUFFIXES for w in words) or name in COMPANIES:
            found[name] = "organization"
        elif len(words) == 1 and (not before or before[-1][-1:] in ".!?:"):
            # A capitalized word that only starts a sentence ("Perfect.", "Big news") is not a
            # name unless it is the speaker.
            if name == speaker:
                found[name] = "person"
        else:
            found[name] = "person" if len(words) <= 2 else "other"
    if speaker and speaker in text:
        found.setdefault(speaker, "person")
    return found


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
        speaker = message.name or ("the user" if message.role == "user" else None)
        said_at = message.timestamp
        sources = [message.id] if message.id else []
        entities = _entities(content, message.name)
        entity_names = list(entities)
        importance = min(1.0, 0.3 + 0.1 * len(entities) + (0.1 if _NUMBER.search(content) else 0))

        prefix = f"On {day(said_at)}, " if said_at else ""
        who = message.name or message.role
        observation = ExtractedFact(
            text=f"{prefix}{who} said: {content}",
            kind=MemoryKind.OBSERVATION,
            subject=message.name,
            speaker=message.name,
            entities=entity_names,
            entity_types=entities,
            sources=sources,
            event_time=said_at,
            importance=importance,
        )
        results = [observation]
        # First-person facts only when we know who "I" is (a named speaker or the user).
        if message.role == "assistant" and not message.name:
            return results
        addressee = self._addressee(message, history)
        seen_texts: set[str] = set()
        retracted: set[str] = set()

        for sentence in _SENTENCE.split(content):
            sentence = sentence.strip()
            if not sentence or is_junk(sentence) or sentence.endswith("?"):
                continue
            resolved, when = resolve_relative_dates(sentence, said_at)
            event_time = when or said_at
            sent_entities = [e for e in entity_names if e in sentence]
            for pattern, attribute in _RETRACTIONS:
                match = pattern.search(sentence)
                if match:
                    value = _clean_value(match.groupdict().get("v") or "") or None
                    results.append(
                        ExtractedFact(
                            text=rewrite_person(resolved, speaker, addressee),
                            subject=speaker,
                            attribute=attribute,
                            value=value,
                            retraction=True,
                            speaker=message.name,
                            sources=sources,
                            event_time=event_time,
                            entities=sent_entities,
                            importance=0.8,
                        )
                    )
                    if attribute:
                        retracted.add(attribute)
                    break
            else:
                results.extend(
                    self._attributes(
                        sentence, speaker, sources, event_time, sent_entities, seen_texts, retracted
                    )
                )
            if _ANYMORE.search(sentence):
                continue  # a negated state is not a fact to store as current
            if not _FIRST_PERSON.search(sentence) or not _informative(sentence):
                continue
            if PLEASANTRY.match(strip_interjections(sentence)):
                continue
            text = rewrite_person(strip_interjections(resolved), speaker, addressee).strip()
            if not text:
                continue
            if text[-1:] not in ".!":
                text += "."
            if text.endswith("!"):
                text = text[:-1] + "."
            if text in seen_texts:
                continue
            seen_texts.add(text)
            results.append(
                ExtractedFact(
                    text=text,
                    subject=speaker,
                    speaker=message.name,
                    sources=sources,
                    event_time=event_time,
                    entities=sent_entities,
                    entity_types={e: entities[e] for e in sent_entities},
                    importance=min(1.0, importance + 0.1),
                )
            )

        for name, etype in entities.items():
            if name == message.name:
                continue
            results.append(
                ExtractedFact(
                    text=f"{name} ({etype}), mentioned by {who}",
                    kind=MemoryKind.ENTITY,
                    subject=name,
                    speaker=message.name,
                    entities=[name],
                    entity_types={name: etype},
                    sources=sources,
                    event_time=said_at,
                    importance=0.3,
                )
            )
        return results

    @staticmethod
    def _attributes(
        sentence: str,
        speaker: str | None,
        sources: list[str],
        event_time: datetime | None,
        entities: list[str],
        seen: set[str],
        retracted: set[str],
    ) -> list[ExtractedFact]:
        if not speaker:
            return []
        out: list[ExtractedFact] = []

        def emit(attribute: str, value: str, single: bool, text: str, extra: list[str]) -> None:
            if attribute in retracted or text in seen:
                return
            seen.add(text)
            out.append(
                ExtractedFact(
                    text=text,
                    subject=speaker,
                    attribute=attribute,
                    value=value,
                    single_valued=single,
                    speaker=speaker,
                    sources=sources,
                    event_time=event_time,
                    entities=list(dict.fromkeys([*entities, *extra])),
                    importance=0.9,
                )
            )

        for pattern, attribute, single, template in _ATTRIBUTE_RULES:
            for match in pattern.finditer(sentence):
                groups = match.groupdict()
                value = _clean_value(groups["v"])
                if not value or len(value) < 2 or _NOT_A_VALUE.match(value):
                    continue
                key = groups.get("k")
                attr = attribute.format(k=key.replace(" ", "_")) if key else attribute
                text = template.format(s=speaker, v=value, k=key or "")
                named = [value] if value[:1].isupper() else []
                emit(attr, value, single, text, named)
        match = _JOB_IS.search(sentence)
        if match:
            words = match.group("v").split()
            # "a software engineer and ..." -> the longest prefix that ends in a job word
            for end in range(len(words), 0, -1):
                last = words[end - 1]
                if last in JOB_WORDS or (last.endswith(("ist", "ian")) and len(last) > 5):
                    value = " ".join(words[:end])
                    emit("job", value, True, f"{speaker} works as a {value}.", [])
                    break
        for match in _PET.finditer(sentence):
            kind = match.group("kind") or match.group("kind2")
            name = match.group("v") or match.group("v2")
            emit(
                f"pet:{name.lower()}", name, False, f"{speaker} has a {kind} named {name}.", [name]
            )
        for match in _FAMILY_NAMED.finditer(sentence):
            rel, name = match.group("rel"), match.group("v")
            emit(
                f"family:{rel}:{name.lower()}", name, False, f"{speaker}'s {rel} is {name}.", [name]
            )
        return out


def _informative(sentence: str) -> bool:
    """Enough content to be worth a fact: a few words beyond pronouns and pleasantries."""
    words = re.findall(r"[A-Za-z0-9']+", sentence)
    if len(words) < 4:
        return False
    content = [w for w in words if w.lower() not in _FILLER_WORDS]
    return len(content) >= 2


# fmt: off
_FILLER_WORDS = {
    "a", "agree", "all", "am", "amazing", "an", "and", "are", "awesome", "be", "but", "can",
    "can't", "cool", "could", "do", "excited", "feel", "feeling", "for", "fun", "glad", "good",
    "great", "had", "haha", "happy", "has", "have", "hear", "hello", "here", "hey", "hi", "how",
    "i", "i'd", "i'll", "i'm", "i've", "is", "it", "it's", "just", "know", "like", "lol",
    "love", "me", "much", "my", "nice", "no", "not", "of", "oh", "or", "our", "proud", "really",
    "same", "should", "so", "sound", "sounds", "sure", "thank", "thanks", "that", "that's",
    "the", "there", "think", "this", "to", "too", "totally", "true", "very", "was", "we",
    "what", "will", "with", "wonderful", "would", "wow", "yeah", "yes", "you", "you're", "your",
}
# fmt: on
