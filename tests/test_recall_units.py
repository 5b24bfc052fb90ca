"""Units that carry their context and the rankings that find them: a reply kept with the end
of the turn it answers, the name-free ranking, the boost of the person a query names.

Runs the real chromadb and SQLite; the ranking tests use all-MiniLM-L6-v2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from extractors.offline import OfflineExtractor
from extractors.sentences import ending
from hybrid_memory import HybridMemory, MemoryConfig, MemoryKind
from hybrid_memory.memory.extract import attribute
from hybrid_memory.memory.question import unnamed
from hybrid_memory.memory.ranking import Candidate, Similar, diversify
from hybrid_memory.models import ExtractedFact, MemoryItem, MemoryStatus, Message

WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
EXTRACTOR = OfflineExtractor()


def msg(text, mid, name, when=WHEN, role="user"):
    return Message(role=role, name=name, id=mid, content=text, timestamp=when)


def observation(messages, context=()):
    out = EXTRACTOR.extract(messages, context=context)
    return [f for f in out if f.kind == MemoryKind.OBSERVATION][-1]


def test_a_reply_carries_the_end_of_the_turn_it_answers():
    asked = msg("That's lovely! What did you paint last week?", "d1", "Melanie")
    reply = msg("A sunset over the lake, with my kids.", "d2", "Caroline")
    obs = observation([reply], context=[asked])
    assert obs.text == (
        "On 8 May 2023, Caroline said: A sunset over the lake, with my kids. "
        '(replying to Melanie: "What did you paint last week?")'
    )
    assert obs.sources == ["d1", "d2"]  # the turn it answers first, then its own
    assert obs.subject == "Caroline" and obs.event_time == WHEN


def test_a_short_end_takes_the_sentence_before_it_unless_that_is_a_pleasantry():
    assert ending("I adopted a dog in June. Guess his name?") == (
        "I adopted a dog in June. Guess his name?"
    )
    assert ending("Wow, that's great! Guess his name?") == "Guess his name?"
    long = " ".join(f"w{i}" for i in range(40)) + "."
    cut = ending(long, max_words=30)
    assert cut.startswith("... w10 ") and cut.endswith("w39.") and len(cut.split()) == 31
    assert ending("") == ""


@pytest.mark.parametrize(
    ("before", "why"),
    [
        (msg("I love painting sunsets.", "d1", "Caroline"), "the same speaker"),
        (msg("What did you paint?", "d1", "Melanie", WHEN - timedelta(days=2)), "too long ago"),
        (msg("ok", "d1", "Melanie"), "nothing to answer"),
        (Message(role="tool", id="d1", content="42", timestamp=WHEN), "not a conversation turn"),
    ],
)
def test_no_exchange_without_a_turn_to_answer(before, why):
    obs = observation([msg("A sunset over the lake.", "d2", "Caroline")], context=[before])
    assert obs.sources == ["d2"], why
    assert "replying to" not in obs.text, why


def test_sources_may_name_an_earlier_turn_only_beside_one_of_the_add():
    new = [msg("Yes, last week!", "d2", "Caroline")]
    context = [msg("Did you finish the mural?", "d1", "Melanie")]
    beside = ExtractedFact(text="x", sources=["d1", "d2"])
    alone = ExtractedFact(text="y", sources=["d1"])  # names nothing of this add
    stranger = ExtractedFact(text="z", sources=["elsewhere", "d2"])
    attribute([beside, alone, stranger], new, context)
    assert beside.sources == ["d1", "d2"]
    assert alone.sources == ["d2"]
    assert stranger.sources == ["d2"]
    assert beside.event_time == WHEN


def test_the_exchange_is_stored_and_closed_with_the_statement_it_quotes(tmp_path, hashing_embedder):
    config = MemoryConfig(data_dir=tmp_path / "m", embedder=hashing_embedder)
    with HybridMemory(config) as memory:
        memory.add(msg("Heads up: I'm vegetarian, so no meat in recipes.", "t1", "Ana"),
                   user_id="ana", run_id="r1")  # fmt: skip
        memory.add(msg("Noted, I will keep every suggestion meat-free.", "t2", "Bo",
                       WHEN + timedelta(minutes=1)), user_id="ana", run_id="r1")  # fmt: skip
        quotes = [
            m for m in memory.get_all(user_id="ana", include_superseded=True)
            if m.kind == MemoryKind.OBSERVATION and m.sources == ["t1", "t2"]
        ]  # fmt: skip
        assert len(quotes) == 1 and "vegetarian" in quotes[0].memory
        assert quotes[0].status == MemoryStatus.ACTIVE
        memory.add(msg("I'm not vegetarian anymore, I eat fish and chicken again.", "t3", "Ana",
                       WHEN + timedelta(days=90)), user_id="ana", run_id="r2")  # fmt: skip
        closed = memory.get(quotes[0].id, user_id="ana")
        assert closed.status == MemoryStatus.SUPERSEDED  # it quotes what is no longer true
        ctx = memory.get_context("What does Ana eat?", user_id="ana", token_budget=800)
        assert "(replying to Ana" not in ctx.text


def test_unnamed_replaces_every_name_but_the_first_word():
    assert unnamed("What did Caroline paint for Melanie's birthday?") == (
        "What did someone paint for someone's birthday?"
    )
    assert unnamed("what did she paint?") == "what did she paint?"


@pytest.fixture
def conversation(tmp_path, real_embedder):
    config = MemoryConfig(data_dir=tmp_path / "c", embedder=real_embedder)
    turns = [
        ("Caroline", "I went to a support group for transgender people yesterday."),
        ("Melanie", "I took my kids to the museum to see the dinosaurs."),
        ("Caroline", "I have been researching adoption agencies for months."),
        ("Melanie", "I signed up for a pottery class at the community centre."),
        ("Caroline", "Melanie, your pottery bowl looked great in the photo."),
        ("Melanie", "Caroline, you should come camping with us in June."),
    ]
    with HybridMemory(config) as memory:
        for n, (name, text) in enumerate(turns):
            memory.add(msg(text, f"d{n}", name, WHEN + timedelta(minutes=n)),
                       user_id="conv", run_id="s1")  # fmt: skip
        yield memory


def test_a_named_question_gets_the_name_free_ranking_and_prefers_its_person(conversation):
    hits = conversation.search("What did Caroline research?", user_id="conv", limit=10)
    assert hits and "adoption" in hits[0].memory
    assert all("unnamed" in h.score_details for h in hits)
    assert any(h.score_details["unnamed"] > 0 for h in hits)
    about = {h.subject: h.score_details["subject"] for h in hits if h.subject}
    assert about.get("Caroline") == 1.0 and about.get("Melanie") == 0.0


def test_a_question_naming_no_one_gets_no_third_ranking(conversation):
    hits = conversation.search("Who is learning pottery?", user_id="conv", limit=10)
    assert hits and "pottery" in hits[0].memory
    assert all(h.score_details["unnamed"] == 0.0 for h in hits)
    assert all(h.score_details["subject"] == 0.0 for h in hits)
    assert hits[0].score <= 1.0


def test_the_name_free_ranking_can_be_turned_off(tmp_path, real_embedder):
    config = MemoryConfig(data_dir=tmp_path / "off", embedder=real_embedder)
    config.retrieval.unnamed_weight = 0.0
    with HybridMemory(config) as memory:
        memory.add(msg("I have been researching adoption agencies.", "d1", "Caroline"),
                   user_id="conv")  # fmt: skip
        hits = memory.search("What did Caroline research?", user_id="conv")
        assert hits and all(h.score_details["unnamed"] == 0.0 for h in hits)


def _cand(memory_id, sources, kind=MemoryKind.FACT):
    item = MemoryItem(
        id=memory_id, memory=memory_id, kind=kind, sources=sources, created_at=WHEN, updated_at=WHEN
    )
    return Candidate(item=item)


def test_the_same_thing_said_again_gives_way_to_what_else_is_known():
    pottery = np.array([1.0, 0.0, 0.0])
    again = np.array([0.96, 0.28, 0.0])  # cosine 0.96 with the first
    camping = np.array([0.6, 0.0, 0.8])  # cosine 0.6
    scored = [
        (_cand("pottery", ["d1"]), 0.9),
        (_cand("pottery again", ["d7"]), 0.85),
        (_cand("camping", ["d4"]), 0.8),
    ]
    vectors = {"pottery": pottery, "pottery again": again, "camping": camping}

    plain = diversify(scored, 1.0)
    assert [c.item.id for c, _ in plain] == ["pottery", "pottery again", "camping"]
    spread = diversify(scored, 1.0, Similar(vectors, threshold=0.85, penalty=0.8))
    assert [c.item.id for c, _ in spread] == ["pottery", "camping", "pottery again"]
    assert [round(s, 3) for _, s in spread] == [0.9, 0.8, 0.68]
    # Below the threshold nothing moves; a memory without a vector is never a repeat.
    loose = diversify(scored, 1.0, Similar(vectors, threshold=0.97, penalty=0.8))
    assert [c.item.id for c, _ in loose] == ["pottery", "pottery again", "camping"]
    partial = diversify(scored, 1.0, Similar({"pottery": pottery}, threshold=0.5, penalty=0.8))
    assert [c.item.id for c, _ in partial] == ["pottery", "pottery again", "camping"]


def test_a_repeat_of_covered_sources_is_damped_once():
    same = np.array([1.0, 0.0])
    scored = [
        (_cand("fact", ["d1"]), 0.9),
        (_cand("observation", ["d1"], MemoryKind.OBSERVATION), 0.8),
    ]
    out = diversify(scored, 0.6, Similar({"fact": same, "observation": same}, 0.85, 0.5))
    assert [round(s, 3) for _, s in out] == [0.9, 0.48]  # 0.8 x 0.6, not x 0.6 x 0.5


def _stored(tmp_path, *items):
    from stores.sqlite import SQLiteRecordStore

    records = SQLiteRecordStore(tmp_path / "memory.db")
    with records.unit_of_work() as uow:
        for item in items:
            uow.insert_memory(item)
    return records


def _obs(memory_id, text, sources, user="u", **extra):
    return MemoryItem(id=memory_id, memory=text, kind=MemoryKind.OBSERVATION, sources=sources,
                      user_id=user, hash=f"h-{memory_id}", created_at=WHEN, updated_at=WHEN,
                      **extra)  # fmt: skip


def test_asks_reads_the_utterance_of_an_observation():
    from extractors.offline import asks

    asked = msg("That's lovely! What did you paint last week?", "d1", "Melanie")
    reply = msg("A sunset. Do you like it? [shared an image: a lake]", "d2", "Caroline")
    told = msg("A sunset over the lake.", "d3", "Caroline")
    assert asks(observation([asked]).text)
    assert asks(observation([reply], context=[asked]).text)  # the image is not what it says
    assert not asks(observation([told], context=[asked]).text)  # only the quote asks


def test_a_hit_that_asks_brings_its_answer_just_before_it(tmp_path):
    from hybrid_memory.memory.candidates import SearchRequest
    from hybrid_memory.memory.exchanges import with_answers
    from hybrid_memory.models import Scope

    question = _obs("q", "On 8 May 2023, Mel said: Nice! What does it mean to you?", ["d0"])
    answer = _obs("a", 'On 8 May 2023, Caro said: Freedom. (replying to Mel: "What ...?")',
                  ["d0", "d1"])  # fmt: skip
    late = _obs("late", "On 8 May 2023, Mel said: Where did you go then?", ["d5"])
    late_reply = _obs("lr", "On 8 May 2023, Caro said: To Oslo.", ["d5", "d6"])
    elsewhere = _obs("bob", "On 8 May 2023, Bo said: Mine means nothing.", ["d0", "d9"], user="bob")
    others = [_obs(f"x{i}", f"On 8 May 2023, Mel said: thing {i}.", [f"e{i}"]) for i in range(4)]
    records = _stored(tmp_path, question, answer, late, late_reply, elsewhere, *others)
    scored = [(Candidate(item=question), 0.9)] + [
        (Candidate(item=x), 0.8 - i / 10) for i, x in enumerate([*others, late])
    ]
    request = SearchRequest(Scope(user_id="u"), "q", limit=3, filter=None, threshold=None,
                            include_superseded=None)  # fmt: skip
    out = with_answers(records, request, scored, WHEN + timedelta(days=1))
    assert [c.item.id for c, _ in out] == ["a", "q", "x0", "x1", "x2", "x3", "late"]
    assert out[0][1] == 0.9 and out[0][0].details == {"answers": 1.0}
    # an answer that ranked lower moves up, once; another user's reply never comes
    scored.insert(3, (Candidate(item=answer), 0.7))
    out = with_answers(records, request, scored, WHEN + timedelta(days=1))
    assert [c.item.id for c, _ in out] == ["a", "q", "x0", "x1", "x2", "x3", "late"]
    # a question beyond the hits asked for is left alone (the late one is 6th of 3)
    assert "lr" not in [c.item.id for c, _ in out]
    records.close()


def test_following_replies_can_be_turned_off(tmp_path, hashing_embedder):
    def run(follow: bool) -> list:
        config = MemoryConfig(data_dir=tmp_path / str(follow), embedder=hashing_embedder)
        config.retrieval.follow_replies = follow
        with HybridMemory(config) as memory:
            memory.add(msg("Nice drawing! What does it mean to you?", "d0", "Mel"), user_id="u")
            memory.add(msg("Freedom, and being true to myself.", "d1", "Caro",
                           WHEN + timedelta(minutes=1)), user_id="u")  # fmt: skip
            return memory.search("What does the drawing mean?", user_id="u", limit=10)

    on, off = run(True), run(False)
    assert any(h.score_details.get("answers") == 1.0 and h.sources == ["d0", "d1"] for h in on)
    assert not any("answers" in h.score_details for h in off)
