"""Session manager beyond the backend conformance suite: replay properties, message validation,
corrupt JSON files, the backend registry, restarts, Redis TTLs and PostgreSQL migrations."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid_memory.agent.sessions import Session, SessionEvent, SessionManager
from hybrid_memory.errors import (
    ConfigError,
    MessageFormatError,
    SessionCorruptError,
    SessionNotFoundError,
    StoreError,
    UserInputError,
)
from hybrid_memory.session_models import (
    SessionEventType,
    diff_events,
    replay,
    validate_chat_messages,
)
from stores.sessions import (
    SESSION_BACKENDS,
    JSONFileSessionConfig,
    PostgresSessionConfig,
    SQLiteSessionConfig,
    open_session_backend,
    session_config,
)
from stores.sessions.jsonfile import CorruptSessionFileWarning
from tests.test_session_stores import _postgres_config, _redis_config

ROOT = Path(__file__).resolve().parents[1]

# -- replay property ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["plan", "step", "user", "flags", "x"])


@st.composite
def agent_turns(draw) -> list[list[SessionEvent]]:
    """Batches of well-formed agent events (each tool call answered in its batch)."""
    batches, call_no = [], 0
    for _ in range(draw(st.integers(1, 6))):
        batch = []
        for _ in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(list(SessionEventType)))
            if kind is SessionEventType.USER_MESSAGE:
                batch.append(SessionEvent.user_message(draw(st.text(max_size=20))))
            elif kind is SessionEventType.THOUGHT:
                batch.append(SessionEvent.thought(draw(st.text(max_size=20))))
            elif kind in (SessionEventType.TOOL_CALL, SessionEventType.TOOL_RESULT):
                n = draw(st.integers(1, 3))
                ids = [f"call_{call_no + i}" for i in range(n)]
                call_no += n
                batch += [SessionEvent.tool_call(i, "lookup", {"q": i}) for i in ids]
                batch += [SessionEvent.tool_result(i, draw(st.text(max_size=10))) for i in ids]
            elif kind is SessionEventType.REPLY:
                batch.append(SessionEvent.reply(draw(st.text(max_size=20))))
            elif kind is SessionEventType.ERROR:
                batch.append(SessionEvent.error(draw(st.text(max_size=20))))
            elif kind is SessionEventType.STATE_UPDATE:
                batch.append(
                    SessionEvent.state_update(
                        draw(st.dictionaries(keys, json_values, max_size=3)),
                        draw(st.lists(keys, max_size=2)),
                    )
                )
            else:
                batch.append(
                    SessionEvent.snapshot(
                        [{"role": "system", "content": draw(st.text(max_size=10))}],
                        draw(st.dictionaries(keys, json_values, max_size=2)),
                    )
                )
        batches.append(batch)
    return batches


@pytest.fixture(scope="module")
def sqlite_manager():
    with tempfile.TemporaryDirectory() as tmp:
        manager = SessionManager(open_session_backend(SQLiteSessionConfig(data_dir=Path(tmp))))
        yield manager
        manager.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=agent_turns(), edits=st.lists(st.sampled_from(["append", "state", "trim"])))
def test_replay_of_the_log_equals_the_saved_state(sqlite_manager, batches, edits):
    m = sqlite_manager
    session = m.create("prop")
    for i, batch in enumerate(batches):
        m.record(session, batch)
        edit = edits[i] if i < len(edits) else None
        if edit == "append":  # direct edits between recorded batches are logged as events too
            session.messages.append({"role": "user", "content": f"typed {i}"})
        elif edit == "state":
            session.state[f"direct{i}"] = [i]
            session.state.pop("plan", None)
        elif edit == "trim":
            session.messages = session.messages[len(session.messages) // 2 :]
            validate_chat_messages_or_reset(session)
        m.save(session)
    stored = m.get(session.id)
    events = m.events(session.id)
    assert [e.seq for e in events] == list(range(1, stored.event_count + 1))
    assert replay(events) == (stored.messages, stored.state) == (session.messages, session.state)
    m.delete(session.id)


def validate_chat_messages_or_reset(session: Session) -> None:
    """Trimming can cut a tool call off its results; keep only a valid suffix then."""
    while session.messages:
        try:
            validate_chat_messages(session.messages)
            return
        except MessageFormatError:
            session.messages = session.messages[1:]


@given(
    old=st.dictionaries(keys, json_values, max_size=4),
    new=st.dictionaries(keys, json_values, max_size=4),
)
def test_diff_events_replay_to_the_new_state(old, new):
    messages = [{"role": "user", "content": "a"}]
    events = diff_events(messages, old, [*messages, {"role": "assistant", "content": "b"}], new)
    assert replay(events, messages=messages, state=old) == (
        [*messages, {"role": "assistant", "content": "b"}],
        new,
    )


def test_parallel_tool_calls_join_one_assistant_turn():
    messages, _ = replay(
        [
            SessionEvent.tool_call("a", "f", {}),
            SessionEvent.tool_call("b", "g", "{}"),
            SessionEvent.tool_result("a", "1"),
            SessionEvent.tool_call("c", "f", {}),
        ]
    )
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant"]
    assert [c["id"] for c in messages[0]["tool_calls"]] == ["a", "b"]
    assert messages[0]["content"] is None


# -- message validation ---------------------------------------------------------------------------

CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ("hello", "must be a list"),
        ([{"role": "robot", "content": "x"}], "unknown role 'robot'"),
        ([{"role": "user", "content": 3}], "must be a string or a list"),
        ([{"role": "user"}], "has no 'content'"),
        ([{"role": "tool", "tool_call_id": "c1", "content": "x"}], "without an earlier"),
        ([{"role": "user", "content": "x", "tool_calls": [CALL]}], "only assistant"),
        ([{"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]}], "'function'"),
        (
            [
                {"role": "assistant", "content": None, "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "c1", "content": "x"},
                {"role": "tool", "tool_call_id": "c1", "content": "y"},
            ],
            "already has a result",
        ),
    ],
)
def test_malformed_messages_are_named(messages, match):
    with pytest.raises(MessageFormatError, match=match):
        validate_chat_messages(messages)


def test_a_call_waiting_for_its_result_is_allowed():
    history = [{"role": "assistant", "content": None, "tool_calls": [CALL]}]
    assert validate_chat_messages(history) == history


# -- JSON files -----------------------------------------------------------------------------------


def test_corrupt_json_file_is_named_and_harms_nothing_else(tmp_path):
    m = SessionManager(open_session_backend(JSONFileSessionConfig(directory=tmp_path)))
    m.create("alice", session_id="good", messages=[{"role": "user", "content": "hi"}])
    broken = m.create("alice", session_id="broken")
    path = tmp_path / "broken.json"
    path.write_text('{"format": "hybrid-memory-session/1", "session": {"id": "broken", ')
    with pytest.raises(SessionCorruptError, match=str(path)):
        m.get("broken")
    with pytest.raises(SessionCorruptError):
        m.save(broken)
    assert path.read_text().endswith('"id": "broken", ')  # not overwritten
    with pytest.warns(CorruptSessionFileWarning, match="broken.json"):
        assert [s.id for s in m.list("alice")] == ["good"]
    assert m.get("good").messages == [{"role": "user", "content": "hi"}]
    path.write_text(json.dumps({"format": "hybrid-memory-session/1", "session": {"id": 1}}))
    with pytest.raises(SessionCorruptError, match="broken.json"):
        m.get("broken")
    m.delete("broken")  # a corrupt session can still be removed
    assert m.find("broken") is None


def test_json_writes_leave_no_temporary_files(tmp_path):
    m = SessionManager(open_session_backend(JSONFileSessionConfig(directory=tmp_path)))
    s = m.create("alice", session_id="t")
    for i in range(5):
        s.state["i"] = i
        m.save(s)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", "t.json"]
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["session"]["state"] == {"i": 4} and len(doc["events"]) == 5


# -- registry, configuration, arguments -----------------------------------------------------------


def test_registry_opens_every_kind_from_a_dict(tmp_path):
    assert set(SESSION_BACKENDS) == {"sqlite", "postgres", "redis", "json"}
    backend = open_session_backend({"kind": "sqlite", "data_dir": str(tmp_path)})
    assert (tmp_path / "sessions.db").exists()
    backend.close()
    assert isinstance(session_config({"kind": "postgres"}), PostgresSessionConfig)
    with pytest.raises(ConfigError, match="sqlite, postgres, redis, json"):
        open_session_backend({"kind": "mongo"})
    with pytest.raises(ConfigError):
        open_session_backend({"kind": "sqlite", "data_dir": str(tmp_path), "bogus": 1})
    with pytest.raises(ConfigError):
        open_session_backend({"kind": "postgres", "schema_name": "Robert'); DROP"})


@pytest.mark.parametrize(
    ("module", "kind", "extra"), [("psycopg", "postgres", "postgres"), ("redis", "redis", "redis")]
)
def test_missing_optional_client_names_the_extra(monkeypatch, module, kind, extra):
    monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    with pytest.raises(ImportError, match=rf'pip install "hybrid-memory\[{extra}\]"'):
        open_session_backend({"kind": kind})


def test_manager_arguments_are_checked(tmp_path):
    backend = open_session_backend(SQLiteSessionConfig(data_dir=tmp_path))
    with pytest.raises(UserInputError, match="SessionBackend"):
        SessionManager(object())
    for bad in (0, -5, "1h", True):
        with pytest.raises(UserInputError, match="idle_ttl"):
            SessionManager(backend, idle_ttl=bad)
    m = SessionManager(backend, idle_ttl=timedelta(minutes=5))
    s = m.create("alice")
    assert len(s.id) == 32 and (s.expires_at - s.updated_at) == timedelta(minutes=5)
    with pytest.raises(UserInputError):
        m.load_checkpoint(s.id, "1")
    with pytest.raises(UserInputError):
        m.export_sessions()
    with pytest.raises(SessionNotFoundError):
        m.export_sessions(session_ids=["missing"])
    with pytest.raises(UserInputError, match="valid JSON"):
        m.import_sessions("{not json")
    backend.close()


# -- restarts, Redis TTL, PostgreSQL migrations ---------------------------------------------------


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sqlite_sessions_survive_a_process_restart(tmp_path):
    setup = f"""
        from pathlib import Path
        from hybrid_memory.agent.sessions import SessionEvent, SessionManager
        from stores.sessions import SQLiteSessionConfig, open_session_backend
        config = SQLiteSessionConfig(data_dir=Path({str(tmp_path)!r}))
        m = SessionManager(open_session_backend(config))
    """
    _python(
        setup
        + """
        s = m.get_or_create("restart", user_id="alice")
        m.record(s, [SessionEvent.user_message("remember me"), SessionEvent.state_update({"n": 1})])
        m.checkpoint(s, "first")
        """
    )
    out = _python(
        setup
        + """
        import json
        s = m.get("restart")
        print(json.dumps([s.messages, s.state, s.version, [c.label for c in m.checkpoints(s.id)],
                          m.replay(s.id) == (s.messages, s.state)]))
        """
    )
    assert json.loads(out) == [
        [{"role": "user", "content": "remember me"}],
        {"n": 1},
        3,
        ["first"],
        True,
    ]


def test_redis_keys_carry_the_idle_ttl():
    import redis

    config = _redis_config()
    m = SessionManager(open_session_backend(config), idle_ttl=120)
    client = redis.Redis.from_url(config.url)
    try:
        s = m.create("alice", session_id="ttl", messages=[{"role": "user", "content": "x"}])
        m.checkpoint(s)
        for key in ("s", "e", "c"):
            assert 110_000 < client.pttl(f"{config.prefix}{key}:ttl") <= 120_000
        client.delete(f"{config.prefix}s:ttl", f"{config.prefix}e:ttl", f"{config.prefix}c:ttl")
        assert m.find("ttl") is None and m.list("alice") == []  # as Redis expiring it does
        assert client.zcard(f"{config.prefix}u:alice") == 0  # the index was cleaned up
        m2 = SessionManager(open_session_backend(config), idle_ttl=None)
        m2.create("alice", session_id="keep")
        assert client.pttl(f"{config.prefix}s:keep") == -1
    finally:
        keys = list(client.scan_iter(match=f"{config.prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_postgres_migrations_are_versioned_and_idempotent():
    config = _postgres_config()
    backend = open_session_backend(config)
    try:
        assert backend.migrate() == 1
        rows = backend._db.execute(
            f"SELECT version FROM {config.schema_name}.session_schema ORDER BY version"
        ).fetchall()
        assert rows == [(1,)]
        other = open_session_backend(config)  # a second process/instance opening the same schema
        other.close()
    finally:
        backend.drop_schema()
        backend.close()
    fresh = open_session_backend(config.model_copy(update={"auto_migrate": False}))
    try:
        with pytest.raises(StoreError, match=r"do not exist.*migrate\(\)"):
            fresh.load("x")
    finally:
        fresh.close()


def test_sqlite_migrations_are_versioned_and_a_newer_schema_is_refused(tmp_path):
    import sqlite3

    config = SQLiteSessionConfig(data_dir=tmp_path)
    backend = open_session_backend(config)
    assert backend.migrate() == 1  # again: nothing to apply
    backend.close()
    db = sqlite3.connect(tmp_path / config.filename)
    assert db.execute("SELECT version FROM session_schema").fetchall() == [(1,)]
    db.execute("INSERT INTO session_schema (version) VALUES (2)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this hybrid-memory"):
        open_session_backend(config)


def test_postgres_refuses_a_newer_schema():
    config = _postgres_config()
    backend = open_session_backend(config)
    try:
        backend._db.execute(f"INSERT INTO {config.schema_name}.session_schema VALUES (2)")
        with pytest.raises(StoreError, match=rf"schema {config.schema_name} .*newer than"):
            open_session_backend(config)
        assert backend.load("x") is None  # the schema was left as it was
    finally:
        backend.drop_schema()
        backend.close()
