"""The attribute vocabulary: what a statement about a person can be about, and which attributes
have one current value.

Every part speaks it: the offline extractor's rules name these attributes, the LLM prompts list
them, the memory recognises the attribute of a statement by its meaning (nearest prototypes below,
with the embedder), consolidation keeps one current value of a single-valued attribute per
subject, and the context's profile shows the current values.

An attribute name is a family, optionally qualified: ``home``, ``favorite_music``,
``pet:bingo``, ``health:diabetes``, ``plan:get a cat``. Single-valued families replace their
value; multi-valued ones (pets, allergies, plans...) are ended one value at a time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    """One attribute family."""

    name: str
    single_valued: bool
    label: str
    """How the profile names it."""
    description: str
    """What it covers (for prompts)."""
    prototypes: tuple[str, ...] = ()
    """Statements that carry it, with ``{s}`` for the subject (recognition by meaning)."""


_A = Attribute
# fmt: off
ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in (
        _A(
            "home", True, "lives in", "where the person lives now (city, area, home)",
            (
                "{s} lives in a flat in the city centre.",
                "{s} is renting a small apartment downtown.",
                "{s} is staying at a friend's place until finding a home.",
                "{s} moved into a new house with a partner.",
                "{s} found an apartment and is moving in next month.",
                "{s} sleeps at a brother's flat when home.",
            ),
        ),
        _A(
            "employer", True, "works at", "the organisation the person works for",
            (
                "{s} works at a large company.",
                "{s} has a job at the hospital.",
                "{s} teaches at a secondary school.",
                "{s} drives trucks for a logistics firm.",
                "{s} runs a small bakery of their own.",
            ),
        ),
        _A(
            "job", True, "works as", "the person's role or job title",
            (
                "{s} works as an engineer.",
                "{s} is a nurse.",
                "{s} was promoted to senior manager.",
                "{s} is head of the department.",
                "{s} became a team lead.",
            ),
        ),
        _A(
            "partner", True, "partner", "the person's current romantic partner",
            (
                "{s}'s girlfriend is Sam.",
                "{s} is dating someone new.",
                "{s} is seeing someone.",
                "{s}'s husband is Alex.",
            ),
        ),
        _A(
            "marital_status", True, "marital status",
            "married, engaged, single, separated, divorced or widowed",
            ("{s} is married.", "{s} got engaged.", "{s} is divorced.", "{s} is separating."),
        ),
        _A(
            "diet", True, "diet", "vegan, vegetarian, pescatarian and similar diets",
            ("{s} is vegan.", "{s} does not eat meat.", "{s} is vegetarian."),
        ),
        _A("age", True, "age", "the person's age", ("{s} is 40 years old.",)),
        _A(
            "commute", True, "commutes", "how the person gets to work",
            ("{s} cycles to work.", "{s} drives to work every day.", "{s} takes the bus to work."),
        ),
        _A("hometown", True, "from", "where the person is from", ("{s} is from a small town.",)),
        _A("name", True, "name", "the person's name"),
        _A("favorite", True, "favourite", "a favourite thing of one kind (favorite_<kind>)"),
        _A(
            "health", False, "health", "a health condition or injury (health:<condition>)",
            (
                "{s} has diabetes.",
                "{s} was diagnosed with asthma.",
                "{s} is lactose intolerant.",
                "{s} broke a wrist.",
            ),
        ),
        _A("restriction", False, "limits", "a food or drink the person avoids or cuts back on "
           "(restriction:<food>)", ("{s} cuts back on salt.", "{s} avoids sugar.")),
        _A("allergy", False, "allergic to", "an allergy (allergy:<substance>)",
           ("{s} is allergic to nuts.",)),
        _A("pet", False, "pet", "a pet (pet:<name>)",
           ("{s} has a dog named Rex.", "{s} adopted a kitten.")),
        _A(
            "habit", False, "habit", "a habit such as smoking or drinking (habit:<activity>)",
            ("{s} smokes a pack a day.", "{s} drinks beer every weekend."),
        ),
        _A(
            "plan", False, "plans", "something the person intends to do (plan:<topic>)",
            (
                "{s} is planning a trip abroad.",
                "{s} hopes to move next year.",
                "{s} would love to get a dog.",
            ),
        ),
        _A("likes", False, "likes", "something the person likes"),
        _A("dislikes", False, "dislikes", "something the person dislikes"),
        _A("education", False, "education", "studies and degrees"),
        _A("family", False, "family", "a relative (family:<relation>:<name>)"),
    )
}
# fmt: on

FAVORITE_KINDS: dict[str, str] = {
    **dict.fromkeys(("food", "meal", "dish", "snack", "dessert", "cuisine"), "food"),
    **dict.fromkeys(("drink", "beer", "wine", "coffee", "tea", "cocktail", "go-to"), "drink"),
    **dict.fromkeys(("singer", "band", "artist", "musician", "song", "album", "music"), "music"),
    **dict.fromkeys(("team", "club", "football team"), "team"),
    **dict.fromkeys(("book", "author", "writer", "novel"), "book"),
    **dict.fromkeys(("movie", "film", "show", "series", "actor", "actress"), "film"),
    **dict.fromkeys(("place", "city", "country", "spot"), "place"),
    **dict.fromkeys(("sport", "game", "hobby"), "pastime"),
    **dict.fromkeys(("color", "colour"), "color"),
}
"""Kinds of favourite folded into one attribute each (a new favourite beer replaces the old
favourite drink)."""


FAVORITE_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "food": ("{s}'s favourite dish is ramen.", "{s}'s favourite is the lasagne at that place.",
             "{s}'s new favourite is tacos."),
    "drink": ("{s}'s favourite drink is a cold lager.", "{s}'s favourite is green tea."),
    "music": ("{s}'s favourite singer is Adele.", "{s}'s favourite band plays rock music.",
              "{s} sings along to her songs in the car, she is {s}'s favourite."),
    "team": ("{s}'s favourite team is the local football club.",
             "{s} supports the club and goes to every match."),
    "book": ("{s}'s favourite book is a novel by Tolstoy.",),
    "film": ("{s}'s favourite film is a comedy.", "{s}'s favourite series is a drama."),
    "place": ("{s}'s favourite place is the beach by the harbour.",),
    "pastime": ("{s}'s favourite hobby is hiking.", "{s}'s favourite sport is tennis."),
}  # fmt: skip
"""Statements of each kind of favourite, for naming the kind of a favourite said without one
("Taylor's my favourite now")."""


def favorite(kind: str) -> str:
    """The attribute of a favourite ``kind`` ("singer" -> ``favorite_music``)."""
    kind = kind.strip().lower()
    return "favorite_" + FAVORITE_KINDS.get(kind, kind.replace(" ", "_"))


ALIASES: dict[str, str] = {
    **dict.fromkeys(("residence", "location", "city", "address", "lives_in", "current_city"),
                    "home"),
    **dict.fromkeys(("company", "workplace", "work", "works_at", "organization", "organisation",
                     "school"), "employer"),
    **dict.fromkeys(("job_title", "title", "role", "occupation", "profession", "position",
                     "works_as"), "job"),
    **dict.fromkeys(("relationship", "girlfriend", "boyfriend", "spouse", "husband", "wife",
                     "dating"), "partner"),
    **dict.fromkeys(("relationship_status", "marital", "married"), "marital_status"),
    **dict.fromkeys(("dietary_preference", "dietary_restriction", "eating"), "diet"),
    **dict.fromkeys(("condition", "illness", "medical_condition", "injury"), "health"),
    **dict.fromkeys(("allergies",), "allergy"),
    **dict.fromkeys(("pets",), "pet"),
    **dict.fromkeys(("habits",), "habit"),
    **dict.fromkeys(("plans", "intention", "goal"), "plan"),
    **dict.fromkeys(("birthplace", "origin"), "hometown"),
}  # fmt: skip
"""Names a model may use for an attribute of the vocabulary."""


def canonical(attribute: str | None) -> str | None:
    """An attribute name in the vocabulary's terms ("job_title" -> ``job``, "Favorite Food" ->
    ``favorite_food``, "pets:Rex" -> ``pet:rex``); unknown names are kept, in snake_case."""
    if not attribute or not attribute.strip():
        return None
    head, _, qualifier = attribute.strip().partition(":")
    head = "_".join(head.casefold().replace("-", " ").split())
    if head.startswith(("favorite_", "favourite_")):
        head = favorite(head.split("_", 1)[1].replace("_", " "))
    head = ALIASES.get(head, head)
    return f"{head}:{qualifier.strip().casefold()}" if qualifier.strip() else head


def family(attribute: str) -> str:
    """The family of an attribute name (``pet:bingo`` -> ``pet``, ``favorite_food`` ->
    ``favorite``)."""
    head = attribute.split(":", 1)[0]
    return "favorite" if head.startswith("favorite") else head


def single_valued(attribute: str | None) -> bool:
    """Whether a subject has one current value of ``attribute``."""
    if not attribute:
        return False
    known = ATTRIBUTES.get(family(attribute))
    return bool(known and known.single_valued)


def label(attribute: str) -> str:
    """A short human label of an attribute (for the context's profile)."""
    known = ATTRIBUTES.get(family(attribute))
    if attribute.startswith("favorite_"):
        return "favourite " + attribute.removeprefix("favorite_").replace("_", " ")
    return known.label if known else attribute.replace("_", " ")


def vocabulary_text() -> str:
    """The vocabulary as prompt text: one ``name: description`` line per family."""
    return "\n".join(
        f"- {a.name}{' (single-valued)' if a.single_valued else ''}: {a.description}"
        for a in ATTRIBUTES.values()
    )


@dataclass(frozen=True)
class Topic:
    """What a question can ask about: the attributes that answer it, and questions that ask it
    (``{s}`` for the person), for recognising a question by its meaning."""

    name: str
    attributes: tuple[str, ...]
    """Families (``home``) or exact attributes (``favorite_food``) that answer it."""
    questions: tuple[str, ...]


_T = Topic
# fmt: off
TOPICS: tuple[Topic, ...] = (
    _T("home", ("home",), (
        "Where does {s} live?", "Which city is {s} living in now?", "Where is {s}'s home?",
        "Where did {s} move to?", "What neighbourhood does {s} live in?",
    )),
    _T("hometown", ("hometown",), ("Where is {s} from?", "Where did {s} grow up?")),
    _T("work", ("employer", "job"), (
        "Where does {s} work?", "What is {s}'s job?", "What does {s} do for a living?",
        "Where does {s} teach?", "Which hospital does {s} work at?",
        "Which company does {s} work for?", "What is {s}'s role at work?",
        "What is {s}'s job title?", "Who is {s}'s employer?",
    )),
    _T("relationship", ("partner", "marital_status"), (
        "Who is {s} dating?", "Is {s} married?", "Who is {s}'s partner?",
        "Does {s} have a boyfriend or a girlfriend?", "Is {s} single or in a relationship?",
    )),
    _T("food", ("diet", "restriction", "allergy", "health", "favorite_food", "favorite_drink"), (
        "What should I cook for {s}?", "What does {s} like to eat?",
        "Does {s} have any dietary restrictions?", "Is there any food {s} cannot eat?",
        "What can I serve {s} for dinner?", "What is {s}'s favourite dish?",
        "Is it all right to cook meat for {s}?", "Can {s} eat this?",
    )),
    _T("health", ("health", "allergy", "habit"), (
        "Does {s} have any health problems?", "Is {s} allergic to anything?",
        "How is {s}'s health?", "Does {s} smoke or drink?", "Is {s} injured or ill?",
    )),
    _T("pets", ("pet",), (
        "Does {s} have any pets?", "What is the name of {s}'s dog?",
        "What kind of animal does {s} have?", "Does {s} own a cat?",
    )),
    _T("age", ("age",), ("How old is {s}?", "What is {s}'s age?")),
    _T("commute", ("commute",), ("How does {s} get to work?", "Does {s} drive to work?")),
    _T("leisure", ("favorite", "likes", "habit"), (
        "What does {s} do for fun?", "What are {s}'s hobbies?",
        "Suggest an activity {s} would enjoy.", "What does {s} like doing at the weekend?",
        "What kind of music does {s} like?", "Which team does {s} support?",
        "What is {s}'s favourite book?", "Who is {s}'s favourite singer?",
    )),
    _T("education", ("education",), (
        "Where did {s} study?", "What degree does {s} have?", "Where did {s} go to college?",
        "What is {s} studying?",
    )),
    _T("family", ("family",), (
        "Who is in {s}'s family?", "Does {s} have any brothers or sisters?",
        "What are the names of {s}'s children?",
    )),
    _T("plans", ("plan",), ("What is {s} planning to do?", "What are {s}'s plans?")),
    # Questions about events, what was said or done: no attribute answers them. A question
    # nearer to these than to a topic above is about no topic.
    _T("events", (), (
        "Where did {s} go on holiday?", "What did {s} do at the weekend?",
        "What did {s} talk about with her friend?", "Which book did {s} read?",
        "What did {s} buy?", "Who did {s} meet at the party?", "What happened at the event?",
        "What did {s} paint?", "Why did {s} go there?", "How did {s} feel about it?",
    )),
)
# fmt: on


def answers(topic: Topic, attribute: str | None) -> bool:
    """Whether a fact of ``attribute`` answers a question about ``topic``."""
    if not attribute:
        return False
    head = attribute.split(":", 1)[0]
    return head in topic.attributes or family(attribute) in topic.attributes
