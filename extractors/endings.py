"""Statements that end something, and instructions that take something back.

- An **ending** is news and is remembered as an event ("Henrik and I broke up in October",
  "I quit smoking", "We lost Bingo", "the cat plan is off", "I'm not lactose intolerant after
  all"); it also ends the current facts it refers to, named by an attribute and/or the words
  that identify them (``about``, and ``cues`` for facts that carry the ended relation).
- A **retraction** ("forget what I said about dairy", "that was wrong") is an instruction to the
  memory, never a fact: it ends what it names and is not stored.

General phrasings, in tables; consolidation finds the facts they refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.lexicon import UPPER

_OBJ = r"(?P<about>[\w'’&.\- ]{2,60}?)"
_END = r"(?=[.,!;:]|\s+(?:too|either|anymore|any more|as well|last|in|on|at|since|after|for)\b|$)"
_NAME = r"(?P<about>" + UPPER + r"[\w'’-]+(?:\s+" + UPPER + r"[\w'’-]+)?)"


@dataclass(frozen=True)
class Ending:
    """What a statement ends (see the module docstring)."""

    retraction: bool
    """An instruction about the memory (not stored) rather than news (stored as an event)."""
    attribute: str | None = None
    """The attribute family it ends (``partner``, ``employer``, ``pet``...), when known."""
    about: str | None = None
    """Words naming what ends: an entity, a value, a topic."""
    cues: tuple[str, ...] = ()
    """Words that mark facts carrying the ended relation ("wife", "boyfriend"...)."""
    subject: str | None = None
    """Someone other than the speaker whose fact ends ("Abena retired")."""


_PARTNER_WORDS = ("boyfriend", "girlfriend", "partner", "dating", "seeing", "together")
_SPOUSE_WORDS = ("wife", "husband", "spouse", "married", "separating", "separated")
_ENGAGED_WORDS = ("boyfriend", "girlfriend", "fiancé", "fiancée", "fiance", "fiancee", "engaged")
# What giving something up also ends ("I gave up alcohol" ends "my favourite beer is...").
ABSTAIN_CUES: dict[str, tuple[str, ...]] = {
    "alcohol": ("alcohol", "beer", "wine", "vodka", "whisky", "cocktail", "drinking"),
    "drinking": ("alcohol", "beer", "wine", "vodka", "whisky", "cocktail", "drinking"),
    "smoking": ("smoke", "smokes", "smoking", "cigarette", "cigarettes", "pack a day"),
    "cigarettes": ("smoke", "smokes", "smoking", "cigarette", "cigarettes"),
    "meat": ("meat", "steak", "burger", "bacon", "chicken"),
    "sugar": ("sugar", "sweets", "dessert"),
}

_RETRACTIONS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"^(?:please\s+)?(?:forget|ignore|disregard|strike)\s+(?:about\s+|that\s+|what\s+I\s+"
        r"(?:said|told you|mentioned)\s+(?:about\s+)?|the\s+|my\s+)?" + _OBJ
        + r"(?:\s+thing|\s+bit|\s+part)?" + r"(?=[.!;,]|$)",
        re.I,
    ),
    re.compile(r"^(?:that|this|it)\s+(?:was|is)\s+(?:wrong|not (?:right|true|correct))\b", re.I),
    re.compile(r"\bI\s+was\s+wrong\b|\bI\s+(?:made\s+a\s+mistake|misspoke)\b", re.I),
    re.compile(r"^(?:scratch|never\s*mind)\s+(?:that|what I said)\b", re.I),
)  # fmt: skip
META = re.compile(r"^I\s+(?:told|said to)\s+you\b|^as I (?:said|told you)\b", re.I)
"""A statement about what was said before ("I told you I was 52"): neither fact nor news."""

_ENDINGS: tuple[tuple[re.Pattern[str], str | None, tuple[str, ...]], ...] = (
    # relationships
    (re.compile(r"\b" + _NAME + r"\s+and\s+I\s+(?:have\s+|'ve\s+)?(?:broke|broken|split)\s+up"),
     "partner", _PARTNER_WORDS),
    (re.compile(r"\bI\s+(?:broke|split)\s+up\s+with\s+" + _NAME), "partner", _PARTNER_WORDS),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:not|no\s+longer)\s+(?:with|seeing|dating)\s+" + _NAME),
     "partner", _PARTNER_WORDS),
    (re.compile(r"\b(?:the\s+|my\s+)?divorce\s+(?:is|was|has\s+been|got)\s+(?:final|finalised|"
                r"finalized|through)|\bI(?:'m|\s+am|\s+got)\s+divorced\b", re.I),
     "partner", _SPOUSE_WORDS),
    (re.compile(r"\b(?:[Ww]e|I)\s+got\s+married\b", re.I), "partner",
     (*_ENGAGED_WORDS, "wedding")),
    # work
    (re.compile(r"\bI\s+(?:left|quit|resigned\s+from|was\s+(?:laid\s+off|let\s+go|fired)\s+from)"
                r"\s+(?:my\s+job\s+(?:at|with)\s+|my\s+|the\s+|a\s+)?" + _OBJ + _END),
     "employer", ()),
    (re.compile(r"\bmy\s+last\s+day\s+(?:at|with)\s+" + _OBJ + r"\s+(?:is|was|will\s+be)\b",
                re.I), "employer", ()),
    (re.compile(r"\bI\s+(?:quit|left)\s+my\s+job\b"), "employer", ()),
    (re.compile(r"\bI\s+(?:don't|do\s+not|no\s+longer)\s+work\s+(?:at|for|with)\s+(?:the\s+)?"
                + _OBJ
                + _END), "employer", ()),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:not|no\s+longer)\s+(?:working\s+)?(?:at|with)\s+(?:the\s+)?"
                + _OBJ + r"\s+(?:anymore|any\s+more)\b"), "employer", ()),
    # home
    (re.compile(r"\b(?:gave\s+up|given\s+up|left|sold|moved\s+out\s+of)\s+(?:the|our|my)\s+" + _NAME
                + r"\s+(?:place|flat|house|apartment|home)\b"), "home", ()),
    (re.compile(r"\b(?:we|I)(?:'ve|\s+have)?\s+(?:sold|left|moved\s+out\s+of)\s+(?:the|our|my)\s+"
                r"(?:house|flat|apartment|place|home)\s+in\s+" + _NAME, re.I), "home", ()),
    (re.compile(r"\bI\s+(?:don't|do\s+not|no\s+longer)\s+live\s+in\s+" + _NAME), "home", ()),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:not|no\s+longer)\s+living\s+in\s+" + _NAME), "home", ()),
    # pets
    (re.compile(r"\b" + _NAME + r"\s+(?:died|passed\s+away|was\s+put\s+down|ran\s+away)\b"),
     "pet", ()),
    (re.compile(r"\b(?:had|have|having)\s+(?:to\s+have\s+)?" + _NAME
                + r"\s+put\s+(?:down|to\s+sleep)\b"),
     "pet", ()),
    (re.compile(r"\b(?:[Ww]e|I)\s+(?:lost|had\s+to\s+put\s+down|buried)\s+(?:our\s+\w+\s+)?"
                + _NAME), "pet", ()),  # fmt: skip
    # health
    (re.compile(r"\b(?:the\s+|my\s+)?" + _OBJ + r"(?:'s|’s|\s+is|\s+are)\s+(?:now\s+)?"
                r"(?:in\s+remission|"
                r"gone|cured|healed|fully\s+healed|fully\s+recovered|better\s+now|grand\s+now|"
                r"back\s+to\s+normal|normal\s+again|under\s+control)\b", re.I),
     "health", ()),
    (re.compile(r"\bI(?:'ve|\s+have)?\s+(?:fully\s+)?recovered\s+from\s+" + _OBJ + _END, re.I),
     "health", ()),
    (re.compile(r"\b(?P<about>cast)\s+is\s+off\b", re.I), "health", ()),
    (re.compile(r"\bI(?:'m|\s+am)\s+not\s+allergic(?:\s+to\s+" + _OBJ + r")?" + _END, re.I),
     "allergy", ()),
    # diet, habits
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:not|no\s+longer)\s+(?:a\s+)?(?P<about>vegan|vegetarian|"
                r"pescatarian|keto)\b", re.I), "diet", ()),
    (re.compile(r"\bI\s+(?:started|began)\s+eating\s+(?:meat|fish|chicken|dairy)\s+again\b",
                re.I), "diet", ("vegan", "vegetarian")),
    (re.compile(r"\bI(?:'ve|\s+have)?\s+(?:quit|stopped|gave\s+up|given\s+up|kicked)\s+"
                + _OBJ + _END, re.I), "habit", ()),
    (re.compile(r"\bI(?:'m|\s+am)\s+giving\s+up\s+" + _OBJ + _END, re.I), "habit", ()),
    (re.compile(r"\bI\s+haven't\s+(?:had|touched)\s+(?:a\s+|any\s+)?" + _OBJ
                + r"\s+(?:since|for|in)\b", re.I), "habit", ()),
    # plans
    (re.compile(r"^(?:the\s+|our\s+|my\s+)?" + _OBJ + r"\s+(?:is|was|has\s+been|got)\s+(?:off|"
                r"cancelled|canceled|called\s+off|postponed)\b", re.I), "plan", ()),
    (re.compile(r"^(?:the\s+|our\s+|my\s+)?" + _OBJ + r"\s+(?:fell\s+through|didn't\s+happen|"
                r"is\s+not\s+happening)\b", re.I), "plan", ()),
    (re.compile(r"^not\s+in\s+" + _NAME + r"\s+in\s+the\s+end\b", re.I), "plan", ()),
    # favourites and likes
    (re.compile(r"\b" + _NAME + r"\s+is\s+on\s+(?:pause|hold|hiatus)\b"), "favorite", ()),
    (re.compile(r"\bI(?:'m|\s+am)\s+(?:over|done\s+with|not\s+into|sick\s+of|tired\s+of|bored\s+of|"
                r"fed\s+up\s+with)\s+" + _OBJ + _END, re.I),
     "likes", ()),
    (re.compile(r"\bI\s+(?:don't|do\s+not)\s+(?:like|love|enjoy)\s+" + _OBJ
                + r"\s+(?:anymore|any\s+more)\b", re.I), "likes", ()),
    # replaced by something new: "I miss the hikes, but skiing has become my new ritual"
    (re.compile(r"^I\s+miss\s+(?:the\s+|my\s+|our\s+)?" + _OBJ + r",?\s+but\b.*\b(?:has|have)\s+"
                r"become\s+my\s+new\b", re.I), None, ()),
    (re.compile(r"\bI\s+(?:used\s+to|no\s+longer)\s+" + _OBJ + r",?\s+but\s+now\b", re.I),
     None, ()),
    # "goodbye ramen, goodbye normal soy sauce"
    (re.compile(r"\b(?:goodbye|bye\s+bye|farewell(?:\s+to)?)\s+(?P<about>[\w'’\- ]{2,30}?)"
                r"(?=[.,!;]|$)",
                re.I), None, ()),
    # "no more train", "so no more tonkotsu for me"
    (re.compile(r"\bno\s+more\s+(?P<about>[\w'’\- ]{2,30}?)(?:\s+for\s+(?:me|us))?(?=[.,!;]|$)",
                re.I), None, ()),
    # "Christy's been bumped": a favourite replaced
    (re.compile(r"\b" + _NAME
                + r"(?:'s|’s|\s+has)\s+been\s+(?:bumped|replaced|dethroned|demoted)\b"),
     None, ()),
    # anything else said to be over
    (re.compile(r"\bis\s+no\s+longer\s+(?:our\s+|my\s+|the\s+|a\s+)?" + _OBJ + _END, re.I),
     None, ()),
)  # fmt: skip
_RETIRED = re.compile(r"\b(?P<who>" + UPPER + r"[\w'’-]+|I)\s+(?:has\s+)?retired\b")
_NEGATED_STATE = re.compile(
    r"\b(?:turns\s+out\s+)?I(?:'m|\s+am)\s+not\s+(?:actually\s+)?" + _OBJ
    + r"\s+(?:after\s+all|anymore|any\s+more)\b",
    re.I,
)  # fmt: skip


_SEPARATORS = re.compile(
    r"^.*\b(?:and|but|so|says|said|that|because|which|while|the|my|our|his|her|a|an)\s+", re.I
)
_HABITUAL = re.compile(r"ing$|^(?:alcohol|cigarettes|booze|sugar|caffeine|meat|beer|wine)$", re.I)


_VAGUE = {"job", "work", "position", "role", "it", "that", "this", "there", "place", "one"}


def _clean(about: str | None) -> str | None:
    """The words naming what ends: the tail of the match after the last joining word (None
    when they name nothing in particular: "I quit my job")."""
    if not about:
        return None
    about = _SEPARATORS.sub("", about.strip(" .,'’")).strip()
    return about if about and about.lower() not in _VAGUE else None


def find_retraction(clause: str) -> Ending | None:
    """A retraction instruction in ``clause``, if it is one."""
    for pattern in _RETRACTIONS:
        match = pattern.search(clause)
        if match:
            return Ending(True, about=_clean(match.groupdict().get("about")))
    return None


def _ending(attribute: str | None, about: str | None, cues: tuple[str, ...]) -> Ending | None:
    habitual = bool(about and _HABITUAL.search(about))
    if attribute == "employer" and habitual:
        attribute = "habit"  # "I quit smoking" ends a habit, not a job
    elif attribute == "habit" and about and not habitual and about.lower() not in ABSTAIN_CUES:
        return None  # "I quit the hotel" is about work, read by another rule
    if attribute == "habit" and about:
        cues = ABSTAIN_CUES.get(about.lower(), ())
    return Ending(False, attribute, about, cues)


def find_endings(clause: str) -> list[Ending]:
    """What ``clause`` ends, if anything (see the module docstring); one clause can end more
    than one thing ("the cast is off and my wrist is fully healed")."""
    retired = _RETIRED.search(clause)
    if retired:
        who = None if retired.group("who") == "I" else retired.group("who")
        return [Ending(False, "employer", subject=who), Ending(False, "job", subject=who)]
    found: list[Ending] = []
    for pattern, attribute, cues in _ENDINGS:
        for match in pattern.finditer(clause):
            ending = _ending(attribute, _clean(match.groupdict().get("about")), cues)
            if ending is not None and ending not in found:
                found.append(ending)
    if found:
        return found
    negated = _NEGATED_STATE.search(clause)
    if negated:
        return [Ending(False, None, _clean(negated.group("about")))]
    return []
