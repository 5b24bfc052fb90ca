"""A record that cannot be processed never keeps a store from opening: it is quarantined, with
an audit row and a warning, listed by ``quarantined()`` and retried by ``repair()``.

The stores here are built the way an earlier version (or a crash) left them, through the record
store's own unit of work: turns whose processing raises, outbox entries the vector store
refuses. Also here: a failed add retried with the same message ids, and export → import →
reopen.
"""

from __future__ import annotations

import shutil
import warnings

import pytest

from hybrid_memory import (
    EventType,
    HybridMemory,
    MemoryConfig,
    QuarantineWarning,
    UserInputError,
)
from hybrid_memory.embeddings import OpenAIEmbedder
from hybrid_memory.llm import LLMConfig, LLMUnavailableError
from hybrid_memory.models import Message, Scope, parse_datetime, utcnow
from hybrid_memory.testing import HashingEmbedder, Reply, ScriptedOpenAIServer
from stores.base import VectorOp
from stores.sqlite import SQLiteRecordStore

EMBEDDER = HashingEmbedder()


def config(path, **kw) -> MemoryConfig:
    return MemoryConfig(data_dir=path, embedder=kw.pop("embedder", EMBEDDER), **kw)


def leave_unprocessed(path, scope: Scope, *messages: Message, options=None) -> None:
    """Store turns as an add that died after saving them (or an earlier version) left them."""
    store = SQLiteRecordStore(path / "memory.db")
    with store.unit_of_work() as uow:
        for m in messages:
            uow.insert_turn(scope, m, 5, utcnow(), options or {})
    store.close()


def leave_in_outbox(path, op: VectorOp) -> None:
    store = SQLiteRecordStore(path / "memory.db")
    with store.unit_of_work() as uow:
        uow.enqueue(op)
    store.close()


def year_one(text: str, mid: str) -> Message:
    """A message said at a time the current boundary refuses (an earlier version stored it)."""
    when = parse_datetime("0001-01-01T00:00:00Z", "t")
    return Message(role="user", content=text, id=mid, timestamp=when)


def scripted_embeddings(srv: ScriptedOpenAIServer, path) -> MemoryConfig:
    """A memory whose embeddings come from ``srv`` (its failing replies come first)."""
    llm = LLMConfig(base_url=srv.base_url, api_key="t", model="gpt-4o-mini", max_retries=0)
    embedder = OpenAIEmbedder("text-embedding-3-small", config=llm, dimension=64)
    return config(path, embedder=embedder, llm_from_env=False)


def test_a_batch_that_cannot_be_processed_is_quarantined_not_a_reason_to_refuse_to_open(
    tmp_path,
):
    with ScriptedOpenAIServer(lambda body: "unused") as srv:
        with HybridMemory(scripted_embeddings(srv, tmp_path)) as mem:
            mem.add("I live in Oslo.", user_id="a")
    rex = Message(role="user", content="I have a dog named Rex.", id="bad-1")
    leave_unprocessed(tmp_path, Scope(user_id="a"), rex)
    leave_unprocessed(
        tmp_path, Scope(user_id="b"), Message(role="user", content="I own a boat.", id="ok-1")
    )
    # Relative dates of a message said in year 1 (an earlier version stored it) resolve.
    leave_unprocessed(tmp_path, Scope(user_id="c"), year_one("I was there yesterday.", "y-1"))
    # The embedding endpoint fails once, on the first batch; the open goes on.
    with ScriptedOpenAIServer(lambda body: "unused", embedding_replies=[Reply(status=500)]) as srv:
        with pytest.warns(QuarantineWarning, match="bad-1"):
            mem = HybridMemory(scripted_embeddings(srv, tmp_path))
        with mem:
            (entry,) = mem.quarantined()
            assert entry.kind == "messages" and entry.ids == ["bad-1"] and entry.user_id == "a"
            assert "Embedding" in entry.error or "embedding" in entry.error, entry.error
            # the audit log says what happened; the healthy batches after it were processed
            assert [a.stage for a in mem.audit_log(user_id="a")] == ["quarantine"]
            assert any("boat" in m.memory for m in mem.get_all(user_id="b"))
            assert any("there" in m.memory for m in mem.get_all(user_id="c"))
            mem.add("I like skiing.", user_id="a")
        # opening again does not retry it on every open, nor warn again
        with warnings.catch_warnings():
            warnings.simplefilter("error", QuarantineWarning)
            with HybridMemory(scripted_embeddings(srv, tmp_path)) as mem:
                assert [e.ids for e in mem.quarantined()] == [["bad-1"]]
                report = mem.repair()
                assert report.reprocessed == ["bad-1"] and report.quarantined == []
                assert any("Rex" in m.memory for m in mem.get_all(user_id="a"))


def test_an_unprocessable_stored_actor_does_not_brick_the_store(tmp_path):
    """Options of an add as an earlier version kept them: an actor that cannot be stored."""
    with HybridMemory(config(tmp_path)):
        pass
    msg = Message(role="user", content="I live in Porto.", id="p1")
    leave_unprocessed(tmp_path, Scope(user_id="a"), msg, options={"actor": "bot\ud800"})
    with pytest.warns(QuarantineWarning):
        mem = HybridMemory(config(tmp_path))
    with mem:
        assert [e.ids for e in mem.quarantined()] == [["p1"]]
        mem.add("I have a cat.", user_id="a")
        assert any("cat" in m.memory for m in mem.get_all(user_id="a"))


def test_date_arithmetic_that_overflows_leaves_the_date_unresolved(tmp_path):
    """ "5000 years ago" and a relative date near year 1 or 9999 store the fact without a
    resolved date instead of failing."""
    with HybridMemory(config(tmp_path)) as mem:
        mem.add(
            {"role": "user", "content": "I was born 5000 years ago.", "timestamp": "2024-01-01"},
            user_id="a",
        )
        mem.add(
            {"role": "user", "content": "I was in Rome yesterday.", "timestamp": "1900-01-01"},
            user_id="a",
        )
        assert mem.quarantined() == []
        texts = " ".join(m.memory for m in mem.get_all(user_id="a"))
        assert "5000 years ago" in texts and "Rome" in texts


def test_a_vector_write_the_store_refuses_is_quarantined_and_later_writes_go_on(tmp_path):
    with HybridMemory(config(tmp_path)):
        pass
    vec = EMBEDDER.embed_batch(["x", "y"])
    meta = {"user_id": "a", "agent_id": "", "run_id": "", "kind": "fact"}
    leave_in_outbox(tmp_path, VectorOp("upsert", ["", "good-id"], vec, [meta, meta]))
    with pytest.warns(QuarantineWarning, match="vector"):
        mem = HybridMemory(config(tmp_path))
    with mem:
        (entry,) = mem.quarantined()
        assert entry.kind == "vectors" and entry.ids == [""]
        # the healthy part of the operation was applied; later writes are not blocked
        assert set(mem.vectors.get_vectors(["good-id"])) == {"good-id"}
        mem.add("I live in Oslo.", user_id="a")
        assert mem.records.pending() == []
        assert mem.search("Oslo", user_id="a")
        # repair reconciles the ids with the records: there is no memory "", so no vector
        report = mem.repair()
        assert report.reconciled == [""] and report.quarantined == []


def test_an_import_with_an_empty_id_is_refused_before_anything_is_written(tmp_path):
    with HybridMemory(config(tmp_path)) as mem:
        record = {
            "type": "memory",
            "id": "",
            "memory": "x",
            "user_id": "a",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        with pytest.raises(UserInputError, match="id"):
            mem.import_records([record])
        assert mem.records.pending() == [] and mem.vectors.count() == 0
        mem.add("I live in Oslo.", user_id="b")
    with HybridMemory(config(tmp_path)) as mem:
        assert mem.quarantined() == [] and mem.search("Oslo", user_id="b")


def test_an_add_that_failed_after_saving_its_messages_is_finished_by_a_retry(tmp_path):
    """The embedding endpoint fails while the add consolidates (after its messages were saved):
    retrying the same add with the same ids finishes it and returns its events."""
    said = [
        {"role": "user", "name": "Ana", "content": "I live in Porto.", "id": "a1"},
        {"role": "user", "name": "Ana", "content": "I have a dog named Rex.", "id": "a2"},
    ]
    with ScriptedOpenAIServer(lambda body: "unused", embedding_replies=[Reply(status=500)]) as srv:
        llm = LLMConfig(base_url=srv.base_url, api_key="t", model="gpt-4o-mini", max_retries=0)
        embedder = OpenAIEmbedder("text-embedding-3-small", config=llm, dimension=64)
        with HybridMemory(config(tmp_path, embedder=embedder, llm_from_env=False)) as mem:
            with pytest.raises(LLMUnavailableError):
                mem.add(said, user_id="ana")
            assert [m.id for m in mem.get_messages(user_id="ana")] == ["a1", "a2"]
            assert mem.get_all(user_id="ana") == []
            retry = mem.add(said, user_id="ana")
            assert retry.message_ids == ["a1", "a2"]
            assert any(e.event == EventType.ADD and "Porto" in e.memory for e in retry.results)
            assert any("Rex" in m.memory for m in mem.get_all(user_id="ana"))
            # and a third time is the usual idempotent no-op
            assert mem.add(said, user_id="ana").results == []
            assert mem.reprocess().results == []


def test_repair_retries_what_was_quarantined(tmp_path):
    """The embedding endpoint is down while the memory opens and processes what a crash left:
    the batch is quarantined (the open succeeds), and repair() finishes it once the endpoint
    is back."""
    with ScriptedOpenAIServer(lambda body: "unused", embedding_replies=[Reply(status=500)]) as srv:
        llm = LLMConfig(base_url=srv.base_url, api_key="t", model="gpt-4o-mini", max_retries=0)
        embedder = OpenAIEmbedder("text-embedding-3-small", config=llm, dimension=64)
        settings = config(tmp_path, embedder=embedder, llm_from_env=False)
        with HybridMemory(settings):
            pass
        rex = Message(role="user", name="Ana", content="I have a dog named Rex.", id="r1")
        leave_unprocessed(tmp_path, Scope(user_id="ana"), rex)
        with pytest.warns(QuarantineWarning, match="r1"):
            mem = HybridMemory(settings)
        with mem:
            assert [e.ids for e in mem.quarantined()] == [["r1"]]
            report = mem.repair()
            assert report.reprocessed == ["r1"] and report.quarantined == []
            assert mem.quarantined() == []
            assert any("Rex" in m.memory for m in mem.get_all(user_id="ana"))


def test_superseded_copies_have_history(tmp_path):
    said = {"role": "user", "name": "Ana", "timestamp": "2024-01-01T10:00:00Z"}
    with HybridMemory(config(tmp_path)) as mem:
        mem.add({**said, "content": "I live in Porto.", "id": "m1"}, user_id="ana")
        moved = mem.add({**said, "content": "I moved to Lisbon.", "id": "m2"}, user_id="ana")
        (update,) = moved.events(EventType.UPDATE)
        for item in mem.get_all(user_id="ana", include_superseded=True):
            history = mem.history(item.id, user_id="ana")
            assert history and history[0].event == EventType.ADD, item
        (former,) = [
            i for i in mem.get_all(user_id="ana", include_superseded=True) if i.superseded_by
        ]
        (row,) = mem.history(former.id, user_id="ana")
        assert row.new_memory == "Ana lives in Porto." and update.id in (row.reason or "")


def test_export_import_reopen_keeps_the_same_memories(tmp_path):
    said = {"role": "user", "name": "Ana", "timestamp": "2024-01-01T10:00:00Z"}
    texts = [
        "I live in Porto.",
        "I work at Lumen Labs as a data analyst.",
        "I moved to Lisbon last month.",
        "My sister Marta is a nurse.",
        "I adopted a dog named Rex.",
    ]
    with HybridMemory(config(tmp_path / "a")) as mem:
        for i, text in enumerate(texts):
            mem.add({**said, "content": text, "id": f"m{i}"}, user_id="ana", run_id="r")
        exported = mem.export(user_id="ana")
        before = sorted(i.memory for i in mem.get_all(user_id="ana", include_superseded=True))
    with HybridMemory(config(tmp_path / "b")) as mem:
        mem.import_records(exported)
    with HybridMemory(config(tmp_path / "b")) as mem:
        after = sorted(i.memory for i in mem.get_all(user_id="ana", include_superseded=True))
        assert after == before
        assert mem.records.unextracted(None) == []


def test_close_releases_the_vector_store(tmp_path):
    """After close(), the data dir can be removed and a new store made at the same path."""
    with HybridMemory(config(tmp_path / "m")) as mem:
        mem.add("I like green tea.", user_id="u", infer=False)
    shutil.rmtree(tmp_path / "m")
    with HybridMemory(config(tmp_path / "m")) as mem:
        assert mem.vectors.count() == 0
        mem.add("I like black tea.", user_id="u", infer=False)
        assert [h.memory for h in mem.search("tea", user_id="u")] == ["I like black tea."]
    mem.close()  # closing twice is harmless


def test_a_store_written_before_the_quarantine_columns_opens_and_keeps_its_data(tmp_path):
    import sqlite3

    from stores.migrations import migrate
    from stores.sqlite.schema import MIGRATIONS, VERSION_TABLE

    msg = Message(role="user", content="I own a boat.", id="b1")
    conn = sqlite3.connect(str(tmp_path / "memory.db"), isolation_level=None)
    migrate(conn, MIGRATIONS[:1], table=VERSION_TABLE, where="v1")
    conn.execute(
        "INSERT INTO turns (scope_key, user_id, message_id, role, content, created_at, tokens, "
        "options, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "user_id=a",
            "a",
            "b1",
            "user",
            msg.content,
            "2024-01-01T00:00:00+00:00",
            5,
            "{}",
            msg.model_dump_json(),
        ),
    )
    conn.close()
    with HybridMemory(config(tmp_path)) as mem:
        assert any("boat" in m.memory for m in mem.get_all(user_id="a"))
        assert mem.quarantined() == []
