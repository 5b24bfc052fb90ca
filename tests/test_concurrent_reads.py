"""Reads never wait: a search and a context proceed while a writer holds the owner's write
lock and an open SQLite write transaction; SQLite reads run on their own WAL connections, and
a writer still reads what it has not committed yet."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from hybrid_memory import HybridMemory, MemoryConfig
from hybrid_memory.models import MemoryItem, Scope
from stores.sqlite import SQLiteRecordStore


def _in_thread(fn: Callable[[], Any], timeout: float = 60) -> Any:
    """Run ``fn`` in its own thread and return its result; fail if it does not finish."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the read waited for the writer"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.fixture
def memory(tmp_path):
    config = MemoryConfig(data_dir=tmp_path, embedding_model="hashing", llm_from_env=False)
    with HybridMemory(config) as mem:
        mem.add(
            [
                {"role": "user", "content": "I adopted a grey cat called Miso.", "id": "m1"},
                {"role": "user", "content": "I work as a nurse in Lisbon.", "id": "m2"},
            ],
            user_id="alice",
            infer=False,
        )
        yield mem


def test_search_and_context_run_while_the_owner_is_being_written(memory):
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        # The owner's write lock and an open write transaction, as an add holds them.
        with memory._locks.hold(Scope(user_id="alice")), memory.records.unit_of_work():
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert holding.wait(30)
        hits = _in_thread(lambda: memory.search("What is my cat called?", user_id="alice"))
        assert hits and "Miso" in hits[0].memory
        context = _in_thread(
            lambda: memory.get_context("Where do I work?", user_id="alice", token_budget=400)
        )
        assert "Lisbon" in context.text
        assert not release.is_set() and thread.is_alive()  # the writer was holding throughout
    finally:
        release.set()
        thread.join(30)


def _item(memory_id: str) -> MemoryItem:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return MemoryItem(
        id=memory_id,
        memory=f"text {memory_id}",
        user_id="alice",
        hash=memory_id,
        created_at=now,
        updated_at=now,
    )


def test_sqlite_reads_use_their_own_wal_connections(tmp_path):
    store = SQLiteRecordStore(tmp_path / "memory.db")
    try:
        with sqlite3.connect(tmp_path / "memory.db") as outside:
            assert outside.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        inside, committed = threading.Event(), threading.Event()
        seen: dict[str, Any] = {}

        def writer() -> None:
            with store.unit_of_work() as uow:
                uow.insert_memory(_item("new"))
                # The writer reads its own uncommitted write (on the write connection) ...
                seen["writer"] = set(store.get_memories(["new"]))
                inside.set()
                committed.wait(60)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        assert inside.wait(30)
        # ... while another thread, on a read connection, sees the last committed state and
        # does not wait for the transaction.
        assert _in_thread(lambda: set(store.get_memories(["new"]))) == set()
        assert _in_thread(lambda: store.scope_stats(Scope(user_id="alice")).count) == 0
        committed.set()
        thread.join(30)
        assert seen["writer"] == {"new"}
        assert set(store.get_memories(["new"])) == {"new"}
        assert store.scope_stats(Scope(user_id="alice")).count == 1
    finally:
        store.close()
