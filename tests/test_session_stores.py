"""One conformance suite for every session backend: SQLite, JSON files, PostgreSQL, Redis.

Each test runs against each backend through the ``store`` fixture. The PostgreSQL and Redis cases
use the real servers on 127.0.0.1 (a fresh schema / key prefix per test, removed afterwards) and
FAIL with instructions when a server is absent.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_memory.agent.sessions import Session, SessionEvent, SessionManager
from hybrid_memory.errors import (
    MessageFormatError,
    ScopeError,
    SessionConflictError,
    SessionNotFoundError,
    UserInputError,
)
from hybrid_memory.session_models import SessionIdError, replay
from stores.sessions import (
    JSONFileSessionConfig,
    PostgresSessionConfig,
    RedisSessionConfig,
    SQLiteSessionConfig,
    open_session_backend,
)

PG_ABSENT = (
    "PostgreSQL at 127.0.0.1:5432 (database 'test') is absent: {error}. Start it with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and rerun."
)
REDIS_ABSENT = (
    "Redis at 127.0.0.1:6379 is absent: {error}. Start it with `redis-server --daemonize yes "
    '--bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no` and rerun.'
)


class Clock:
    """Real time plus an offset the test moves forward (expiry without sleeping)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


@dataclass
class StoreCase:
    """One backend under test: its config and the managers opened on it."""

    kind: str
    config: Any
    clock: Clock = field(default_factory=Clock)
    opened: list = field(default_factory=list)

    def manager(self, idle_ttl: float | None = 3600) -> SessionManager:
        backend = open_session_backend(self.config)
        self.opened.append(backend)
        return SessionManager(backend, idle_ttl=idle_ttl, clock=self.clock)


def _postgres_config() -> PostgresSessionConfig:
    import psycopg

    config = PostgresSessionConfig(schema_name=f"hm_test_{uuid.uuid4().hex[:12]}")
    try:
        psycopg.connect(config.conninfo, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.fail(PG_ABSENT.format(error=str(exc).strip().splitlines()[0]), pytrace=False)
    return config


def _redis_config() -> RedisSessionConfig:
    import redis

    config = RedisSessionConfig(prefix=f"hm_test:{uuid.uuid4().hex[:12]}:")
    try:
        redis.Redis.from_url(config.url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(REDIS_ABSENT.format(error=exc), pytrace=False)
    return config


@pytest.fixture(params=["sqlite", "json", "postgres", "redis"])
def store(request, tmp_path) -> Iterator[StoreCase]:
    kind = request.param
    if kind == "sqlite":
        config: Any = SQLiteSessionConfig(data_dir=tmp_path / "data")
    elif kind == "json":
        config = JSONFileSessionConfig(directory=tmp_path / "sessions")
    elif kind == "postgres":
        config = _postgres_config()
    else:
        config = _redis_config()
    case = StoreCase(kind, config)
    yield case
    for backend in case.opened:
        backend.close()
    if kind == "postgres":
        cleanup = open_session_backend(config.model_copy(update={"auto_migrate": False}))
        cleanup.drop_schema()
        cleanup.close()
    elif kind == "redis":
        import redis

        client = redis.Redis.from_url(config.url)
        keys = list(client.scan_iter(match=f"{config.prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


TOOL_TURN = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Read notes.txt — and résumé.md"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "notes.txt"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "buy milk"},
    {"role": "assistant", "content": [{"type": "text", "text": "It says: buy milk."}]},
]


def test_roundtrip_of_messages_state_and_metadata(store):
    m = store.manager()
    s = m.create("alice", agent_id="planner", session_id="s-1", messages=TOOL_TURN)
    s.state.update({"plan": ["a", "b"], "n": 3, "nested": {"ok": True, "x": None}})
    m.save(s)
    got = store.manager().get("s-1")  # a second manager: nothing is cached
    assert got.messages == TOOL_TURN
    assert got.state == {"plan": ["a", "b"], "n": 3, "nested": {"ok": True, "x": None}}
    assert (got.user_id, got.agent_id, got.version) == ("alice", "planner", 2)
    assert got.created_at <= got.updated_at < got.expires_at
    assert got == s


def test_unknown_and_malformed_ids_raise_typed_errors(store):
    m = store.manager()
    with pytest.raises(SessionNotFoundError, match="get_or_create"):
        m.get("nope")
    with pytest.raises(SessionNotFoundError):
        m.delete("nope")
    with pytest.raises(SessionNotFoundError):
        m.touch("nope")
    with pytest.raises(SessionNotFoundError):
        m.checkpoints("nope")
    for bad in ["", "../etc/passwd", "a b", "x" * 200, 42, None]:
        with pytest.raises(SessionIdError):
            m.get(bad)
    assert m.find("nope") is None


def test_get_or_create_is_idempotent_and_scoped(store):
    m = store.manager()
    first = m.get_or_create("chat", user_id="alice")
    again = m.get_or_create("chat", user_id="alice")
    assert first.version == again.version == 1 and first.id == again.id
    with pytest.raises(ScopeError, match="belongs to user 'alice'"):
        m.get_or_create("chat", user_id="bob")
    first.user_id = "bob"
    with pytest.raises(ScopeError, match="cannot change"):
        m.save(first)
    assert m.get("chat").user_id == "alice"


def test_stale_save_raises_conflict_and_writes_nothing(store):
    m = store.manager()
    a = m.create("alice", session_id="c")
    b = m.get("c")
    a.state["who"] = "a"
    m.save(a)
    b.state["who"] = "b"
    b.messages.append({"role": "user", "content": "lost?"})
    with pytest.raises(SessionConflictError, match="Reload it") as info:
        m.save(b)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    assert b.version == 1 and b.state == {"who": "b"}  # the caller's object is untouched
    stored = m.get("c")
    assert stored.state == {"who": "a"} and stored.messages == [] and stored.version == 2
    assert replay(m.events("c")) == (stored.messages, stored.state)
    with pytest.raises(SessionConflictError, match="already exists"):
        m.create("alice", session_id="c")


def test_update_retries_on_conflict(store):
    m = store.manager()
    m.create("alice", session_id="u")
    stale = m.get("u")
    m.update("u", lambda s: s.state.update(n=1))
    calls = []

    def bump(session: Session):
        calls.append(session.version)
        if len(calls) == 1:  # someone else writes between our load and save
            m.save(stale.model_copy(update={"version": session.version, "state": {"n": 10}}))
        session.state["n"] = session.state.get("n", 0) + 1

    assert m.update("u", bump).state == {"n": 11}  # built on the other write
    assert calls == [2, 3]


def test_list_is_per_user_paginated_and_most_recent_first(store):
    m = store.manager()
    for i in range(5):
        m.create("alice", session_id=f"a{i}", agent_id="x" if i % 2 else None)
        store.clock.advance(seconds=1)
    m.create("bob", session_id="b0")
    store.clock.advance(seconds=1)
    m.update("a1", lambda s: s.state.update(bumped=True))
    page1 = [s.id for s in m.list("alice", limit=2)]
    page2 = [s.id for s in m.list("alice", limit=2, offset=2)]
    page3 = [s.id for s in m.list("alice", limit=2, offset=4)]
    assert page1 + page2 + page3 == ["a1", "a4", "a3", "a2", "a0"]
    assert [s.id for s in m.list("alice", agent_id="x")] == ["a1", "a3"]
    assert [s.id for s in m.list("bob")] == ["b0"]
    assert m.list("carol") == []
    with pytest.raises(UserInputError):
        m.list("alice", limit=0)
    with pytest.raises(UserInputError):
        m.list("alice", offset=-1)
    with pytest.raises(ScopeError):
        m.list("")


def test_idle_sessions_expire_are_hidden_and_purged(store):
    m = store.manager(idle_ttl=600)
    m.create("alice", session_id="old")
    m.create("alice", session_id="kept")
    store.clock.advance(seconds=400)
    m.touch("kept")
    store.clock.advance(seconds=400)
    assert [s.id for s in m.list("alice")] == ["kept"]
    assert m.find("old") is None
    with pytest.raises(SessionNotFoundError, match="expired"):
        m.get("old")
    assert m.backend.load("old") is None  # purged, not only hidden
    assert m.get("kept").version == 1  # touching does not bump the version
    stale = m.get("kept")
    store.clock.advance(seconds=700)
    stale.state["late"] = True
    with pytest.raises(SessionConflictError, match="no longer exists"):
        m.save(stale)
    fresh = m.get_or_create("kept", user_id="alice")
    assert fresh.version == 1 and fresh.state == {}
    assert m.events("kept") == []  # the old log went with the expired session


def test_sessions_without_expiry_never_expire(store):
    m = store.manager(idle_ttl=None)
    s = m.create("alice", session_id="forever")
    assert s.expires_at is None
    store.clock.advance(days=3650)
    assert m.get("forever").id == "forever"
    assert m.purge_expired() == 0


def test_checkpoints_list_load_and_rollback_as_a_new_version(store):
    m = store.manager()
    s = m.create("alice", session_id="cp")
    m.record(s, [SessionEvent.user_message("one"), SessionEvent.state_update({"step": 1})])
    first = m.checkpoint(s, label="after one")
    m.record(s, [SessionEvent.user_message("two"), SessionEvent.state_update({"step": 2})])
    second = m.checkpoint(s)
    m.record(s, [SessionEvent.reply("three"), SessionEvent.state_update(unset=["step"])])
    assert [(c.number, c.label) for c in m.checkpoints("cp")] == [(1, "after one"), (2, None)]
    assert m.load_checkpoint("cp", 1) == first
    assert first.messages == [{"role": "user", "content": "one"}] and first.state == {"step": 1}
    assert second.session_version == first.session_version + 2
    before = s.version
    restored = m.rollback("cp", 1)
    assert restored.version == before + 1
    assert (restored.messages, restored.state) == (first.messages, first.state)
    assert len(m.checkpoints("cp")) == 2  # history is not rewritten
    assert m.load_checkpoint("cp", 2) == second
    assert replay(m.events("cp")) == (restored.messages, restored.state)
    with pytest.raises(SessionNotFoundError, match="no checkpoint 9"):
        m.rollback("cp", 9)
    with pytest.raises(SessionConflictError):
        m.rollback("cp", 2, expected_version=before)
    assert m.rollback("cp", 2, expected_version=restored.version).state == {"step": 2}


def test_event_log_replays_to_the_saved_state_after_reload(store):
    m = store.manager()
    s = m.create("alice", session_id="ev")
    m.record(
        s,
        [
            SessionEvent.user_message("weather in Paris and Rome?"),
            SessionEvent.thought("two calls in parallel"),
            SessionEvent.tool_call("c1", "weather", {"city": "Paris"}),
            SessionEvent.tool_call("c2", "weather", {"city": "Rome"}),
            SessionEvent.tool_result("c1", "18C"),
            SessionEvent.tool_result("c2", "24C"),
            SessionEvent.error("rate limited, retrying"),
            SessionEvent.reply("Paris 18C, Rome 24C."),
            SessionEvent.state_update({"cities": ["Paris", "Rome"]}),
        ],
    )
    s.messages.append({"role": "user", "content": "thanks"})  # a direct edit is logged too
    s.state["done"] = True
    m.save(s)
    s.messages = s.messages[-2:]  # history rewritten: logged as a snapshot
    m.save(s)
    stored = store.manager().get("ev")
    events = m.events("ev")
    assert (
        [e.seq for e in events]
        == list(range(1, len(events) + 1))
        == [*range(1, stored.event_count + 1)]
    )
    assert [e.type.value for e in events][:3] == ["user_message", "thought", "tool_call"]
    assert events[-1].type.value == "snapshot"
    assert replay(events) == (stored.messages, stored.state)
    assert replay(events[:9])[0][1]["tool_calls"][1]["id"] == "c2"  # one assistant turn, 2 calls
    assert [e.seq for e in m.events("ev", after_seq=9)] == list(range(10, len(events) + 1))


def test_bad_input_raises_typed_errors_and_damages_nothing(store):
    m = store.manager()
    s = m.create("alice", session_id="bad", messages=[{"role": "user", "content": "hi"}])
    good = m.get("bad")
    cases = [
        {"role": "wizard", "content": "x"},
        {"role": "user", "content": 42},
        {"role": "tool", "tool_call_id": "never-called", "content": "x"},
        {"role": "user"},
        "not a dict",
    ]
    for bad in cases:
        s.messages.append(bad)
        with pytest.raises(MessageFormatError):
            m.save(s)
        s.messages.pop()
    s.state["when"] = datetime.now(UTC)
    with pytest.raises(UserInputError, match="JSON-serializable"):
        m.save(s)
    s.state = {"nan": float("nan")}
    with pytest.raises(UserInputError):
        m.save(s)
    s.state = {}
    with pytest.raises(UserInputError, match="SessionEvent"):
        m.record(s, [{"type": "reply"}])
    with pytest.raises(UserInputError, match="malformed"):
        m.record(s, [SessionEvent(type="tool_call", payload={"name": "x"})])
    with pytest.raises(UserInputError):
        m.save("bad")
    assert m.get("bad") == good
    assert replay(m.events("bad")) == (good.messages, good.state)


def test_delete_removes_checkpoints_and_log(store):
    m = store.manager()
    s = m.create("alice", session_id="gone", messages=[{"role": "user", "content": "x"}])
    m.checkpoint(s)
    m.delete("gone")
    assert m.find("gone") is None and m.list("alice") == []
    assert m.backend.events("gone") == [] and m.backend.checkpoints("gone") == []
    again = m.create("alice", session_id="gone")
    assert again.version == 1 and again.checkpoint_count == 0


def test_export_and_import_between_backends(store, tmp_path):
    m = store.manager()
    s = m.create("alice", session_id="e1", messages=TOOL_TURN)
    m.checkpoint(s, "v")
    m.record(s, [SessionEvent.state_update({"k": "v"})])
    m.create("alice", session_id="e2")
    m.create("bob", session_id="e3")
    path = tmp_path / "export.json"
    assert m.export_json(path, user_id="alice") == 2

    target = SessionManager(open_session_backend(SQLiteSessionConfig(data_dir=tmp_path / "t")))
    assert sorted(target.import_json(path)) == ["e1", "e2"]
    copy = target.get("e1")
    assert (copy.messages, copy.state, copy.version) == (s.messages, s.state, s.version)
    assert [c.label for c in target.checkpoints("e1")] == ["v"]
    assert target.replay("e1") == (s.messages, s.state)
    target.close()

    with pytest.raises(SessionConflictError):
        m.import_json(path)  # they exist already
    m.update("e1", lambda x: x.state.update(k="changed"))
    assert sorted(m.import_json(path, overwrite=True)) == ["e1", "e2"]
    assert m.get("e1").state == {"k": "v"}
    with pytest.raises(UserInputError, match="not a session export"):
        m.import_sessions({"sessions": []})
    with pytest.raises(UserInputError, match="does not replay"):
        doc = m.export_sessions(session_ids=["e1"])
        doc["sessions"][0]["session"]["state"] = {"tampered": 1}
        m.import_sessions(doc, overwrite=True)
    assert m.get("e1").state == {"k": "v"}


# -- two real processes -------------------------------------------------------------------------


def _save_after_barrier(config: Any, barrier: Any, results: Any, name: str) -> None:
    manager = SessionManager(open_session_backend(config))
    session = manager.get("shared")
    barrier.wait(timeout=30)
    session.state[name] = True
    session.messages.append({"role": "user", "content": f"from {name}"})
    try:
        manager.save(session)
        results.put((name, "saved"))
    except SessionConflictError:
        results.put((name, "conflict"))


def _increment(config: Any, barrier: Any, results: Any, name: str) -> None:
    manager = SessionManager(open_session_backend(config))
    barrier.wait(timeout=30)
    conflicts = 0

    def bump(session: Session) -> list[SessionEvent]:
        nonlocal conflicts
        conflicts += 1
        n = session.state.get("n", 0)
        return [SessionEvent.user_message(f"{name} {n}"), SessionEvent.state_update({"n": n + 1})]

    for _ in range(15):
        manager.update("shared", bump, retries=200)
    results.put((name, conflicts - 15))


def _run_two(target, config) -> list:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=target, args=(config, barrier, results, n)) for n in "AB"]
    for p in procs:
        p.start()
    out = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return sorted(out)


def test_two_processes_saving_the_same_version_one_wins_one_conflicts(store):
    m = store.manager()
    m.create("alice", session_id="shared")
    outcomes = _run_two(_save_after_barrier, store.config)
    assert sorted(o for _, o in outcomes) == ["conflict", "saved"]
    winner = next(n for n, o in outcomes if o == "saved")
    stored = m.get("shared")
    assert stored.version == 2 and stored.state == {winner: True}
    assert stored.messages == [{"role": "user", "content": f"from {winner}"}]


def test_two_processes_retrying_never_lose_an_update(store):
    m = store.manager()
    m.create("alice", session_id="shared")
    _run_two(_increment, store.config)
    stored = m.get("shared")
    assert stored.state == {"n": 30} and stored.version == 31
    assert [msg["content"].split()[1] for msg in stored.messages] == [str(i) for i in range(30)]
    assert replay(m.events("shared")) == (stored.messages, stored.state)
