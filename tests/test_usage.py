"""Usage and cost tracking: categories, sessions, users, estimates, compressions, SQLite."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading

import pytest
from openai.types.chat import ChatCompletion
from rich.console import Console

from hybrid_memory import HybridMemory, MemoryConfig, StoreError
from hybrid_memory.agent.usage import UsageTracker, price_of, render_usage_table
from hybrid_memory.agent.window import ContextWindow, WindowSettings
from hybrid_memory.llm import LLMConfig
from hybrid_memory.testing import HashingEmbedder, ScriptedOpenAIServer
from hybrid_memory.tokens import TokenCounter


def completion(prompt: int, out: int) -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "hi"},
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": out,
                "total_tokens": prompt + out,
            },
        }
    )


def test_costs_by_category_session_and_user():
    t = UsageTracker()
    t.record("gpt-4o-mini", 1_000_000, 0, "chat", session_id="s1", user_id="alice")
    t.record("gpt-4o-mini", 0, 1_000_000, "memory", session_id="s1", user_id="alice")
    t.record("gpt-4o", 1_000_000, 1_000_000, "chat", session_id="s2", user_id="bob")
    s = t.stats()
    assert s.total.calls == 3
    assert s.by_category["chat"].cost_usd == pytest.approx(0.15 + 12.5)
    assert s.by_category["memory"].cost_usd == pytest.approx(0.60)
    assert s.by_session["s1"].cost_usd == pytest.approx(0.75)
    assert s.by_user["bob"].prompt_tokens == 1_000_000
    assert t.stats(user_id="alice").total.calls == 2
    assert t.stats(session_id="s2").by_model == {"gpt-4o": s.by_model["gpt-4o"]}


def test_actual_usage_from_response_else_estimate():
    t = UsageTracker()
    msgs = [{"role": "user", "content": "hello there"}]
    assert t.record_call("gpt-4o-mini", msgs, response=completion(321, 12)) == (321, 12)
    est = t.record_call("gpt-4o-mini", msgs, "General Kenobi")
    counter = TokenCounter.for_model("gpt-4o-mini")
    assert est == (counter.count_messages(msgs), counter.count_text("General Kenobi"))
    s = t.stats()
    assert s.total.estimated_calls == 1 and s.total.prompt_tokens == 321 + est[0]
    assert t.record_call("gpt-4o", response={"usage": {"input_tokens": 5, "output_tokens": 2}}) == (
        5,
        2,
    )


def test_unknown_model_is_unpriced_not_an_error():
    t = UsageTracker()
    t.record("in-house-llm", 10, 10, "chat")
    s = t.stats()
    assert s.unpriced == ["in-house-llm"] and s.total.cost_usd == 0
    assert price_of("gpt-4o-mini-2024-07-18") == (0.15, 0.60)


def test_compressions_from_window_reports():
    t = UsageTracker()
    msgs = [{"role": "system", "content": "s"}] + [
        {"role": "user", "content": f"message number {i} " * 20} for i in range(50)
    ]
    cw = ContextWindow(WindowSettings(context_window=2_000, reserved_output_tokens=0))
    report = cw.fit(msgs).report
    t.record_compression(report.tokens_before, report.tokens_after, session_id="s1")
    t.record_compression(100, 100, session_id="s2")
    c = t.stats().compression
    assert c.compressions == 2 and c.tokens_saved == report.tokens_saved > 0
    assert c.savings_pct == pytest.approx(100 * report.tokens_saved / (report.tokens_before + 100))
    assert t.stats(session_id="s2").compression.tokens_saved == 0


def test_thread_safety():
    t = UsageTracker()

    def work():
        for _ in range(500):
            t.record("gpt-4o-mini", 1, 2, "chat", user_id="u")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    s = t.stats()
    assert s.total.calls == 4_000 and s.by_user["u"].completion_tokens == 8_000


def test_sqlite_persistence(tmp_path):
    db = tmp_path / "usage.db"
    t = UsageTracker(db)
    t.record("gpt-4o-mini", 10, 5, "memory", session_id="s")
    t.record_compression(100, 40, session_id="s")
    t.close()
    again = UsageTracker(db)
    s = again.stats()
    assert s.by_session["s"].prompt_tokens == 10 and s.compression.tokens_saved == 60
    again.close()


def test_rich_table_renders():
    t = UsageTracker()
    t.record("gpt-4o-mini", 1_234, 56, "chat", session_id="s1", user_id="alice")
    t.record_compression(1_000, 250)
    console = Console(record=True, width=120)
    console.print(render_usage_table(t.stats()))
    text = console.export_text()
    assert "alice" in text and "1,234" in text and "750 tokens saved (75.0%)" in text


# -- SQLite storage ----------------------------------------------------------------------------

MODELS = ["gpt-4o-mini", "gpt-4o", "in-house-llm"]


def random_rows(rng: random.Random, n: int) -> list[tuple]:
    """(model, prompt, completion, category, session_id, user_id, estimated) rows."""
    return [
        (
            rng.choice(MODELS),
            rng.randrange(0, 50_000),
            rng.randrange(0, 5_000),
            rng.choice(["chat", "extraction", "summary"]),
            rng.choice([None, "s1", "s2", "s3"]),
            rng.choice([None, "alice", "bob"]),
            rng.random() < 0.3,
        )
        for _ in range(n)
    ]


def fill(t: UsageTracker, rows: list[tuple]) -> None:
    for model, prompt, out, category, session, user, estimated in rows:
        t.record(
            model, prompt, out, category, session_id=session, user_id=user, estimated=estimated
        )


FILTERS = [{}, {"user_id": "alice"}, {"session_id": "s2"}, {"session_id": "s1", "user_id": "bob"}]


def test_reopened_file_gives_the_same_stats(tmp_path):
    db = tmp_path / "usage.sqlite3"
    t = UsageTracker(db)
    fill(t, random_rows(random.Random(7), 200))
    t.record_compression(900, 300, session_id="s1", user_id="alice")
    t.record_compression(500, 450, session_id="s2")
    before = [t.stats(**f) for f in FILTERS]
    assert before[0].total.calls == 200 and before[0].compression.tokens_saved == 650
    t.close()
    with pytest.raises(StoreError, match="closed"):
        t.record("gpt-4o", 1, 1)
    again = UsageTracker(db)
    assert [again.stats(**f) for f in FILTERS] == before  # `since` included
    again.record("gpt-4o", 10, 1, "chat", user_id="alice")
    assert again.stats(user_id="alice").total.calls == before[1].total.calls + 1
    again.close()


def test_a_second_connection_reads_while_the_first_writes(tmp_path):
    db = tmp_path / "usage.sqlite3"
    writer, reader = UsageTracker(db), UsageTracker(db)
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for i in range(1, 4):
        writer.record("gpt-4o-mini", 100, 10, "chat", user_id="u")
        assert reader.stats().by_user["u"].calls == i
    writer.close()
    reader.close()


def test_in_memory_tracker_survives_close():
    t = UsageTracker()
    t.record("gpt-4o-mini", 3, 4, "chat")
    t.close()
    t.record("gpt-4o-mini", 3, 4, "chat")
    assert t.stats().total.completion_tokens == 8


def test_rows_of_an_older_database_are_counted(tmp_path):
    # A file written before the meta table and indexes existed.
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE usage_calls (at TEXT, model TEXT, prompt_tokens INTEGER,"
        " completion_tokens INTEGER, category TEXT, session_id TEXT, user_id TEXT,"
        " estimated INTEGER);"
        "CREATE TABLE usage_compressions (at TEXT, session_id TEXT, user_id TEXT,"
        " tokens_before INTEGER, tokens_after INTEGER);"
        "INSERT INTO usage_calls VALUES"
        " ('2024-01-02T00:00:00+00:00', 'gpt-4o', 7, 3, 'chat', 's', 'u', 1);"
    )
    conn.commit()
    conn.close()
    t = UsageTracker(db)
    s = t.stats()
    assert (s.total.calls, s.total.estimated_calls, s.by_user["u"].prompt_tokens) == (1, 1, 7)
    assert s.since == "2024-01-02T00:00:00+00:00"
    t.close()


def test_not_a_database_is_a_store_error(tmp_path):
    bad = tmp_path / "usage.sqlite3"
    bad.write_text("not sqlite at all, " * 100)
    with pytest.raises(StoreError, match="cannot open the usage database"):
        UsageTracker(bad)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_aggregation_equals_a_plain_python_sum(seed):
    rng = random.Random(seed)
    rows = random_rows(rng, rng.randrange(1, 400))
    t = UsageTracker()
    fill(t, rows)
    compressions = [
        (rng.choice([None, "s1", "s2"]), rng.choice([None, "alice"]), b, rng.randrange(0, b + 1))
        for b in (rng.randrange(1, 10_000) for _ in range(rng.randrange(0, 30)))
    ]
    for session, user, b, a in compressions:
        t.record_compression(b, a, session_id=session, user_id=user)

    def expected(rows, key):
        out: dict = {}
        for r in rows:
            name = key(r)
            if name is None:
                continue
            e = out.setdefault(name, [0, 0, 0, 0.0, 0])
            price = price_of(r[0]) or (0.0, 0.0)
            e[0] += 1
            e[1] += r[1]
            e[2] += r[2]
            e[3] += (r[1] * price[0] + r[2] * price[1]) / 1e6
            e[4] += int(r[6])
        return out

    def as_lists(mapping):
        return {
            k: [v.calls, v.prompt_tokens, v.completion_tokens, v.cost_usd, v.estimated_calls]
            for k, v in mapping.items()
        }

    for f in FILTERS:
        sel = [
            r for r in rows if r[4] == f.get("session_id", r[4]) and r[5] == f.get("user_id", r[5])
        ]
        s = t.stats(**f)
        for got, key in (
            (s.by_model, lambda r: r[0]),
            (s.by_category, lambda r: r[3]),
            (s.by_session, lambda r: r[4]),
            (s.by_user, lambda r: r[5]),
            ({"all": s.total} if sel else {}, lambda r: "all"),
        ):
            want = expected(sel, key)
            got = as_lists(got)
            assert got.keys() == want.keys()
            for name in want:
                assert got[name][:3] == want[name][:3] and got[name][4] == want[name][4]
                assert got[name][3] == pytest.approx(want[name][3], rel=1e-9, abs=1e-7)
        assert s.unpriced == (["in-house-llm"] if any(r[0] == "in-house-llm" for r in sel) else [])
        csel = [
            c
            for c in compressions
            if c[0] == f.get("session_id", c[0]) and c[1] == f.get("user_id", c[1])
        ]
        assert s.compression.compressions == len(csel)
        assert s.compression.tokens_before == sum(c[2] for c in csel)
        assert s.compression.tokens_saved == sum(c[2] - c[3] for c in csel)


def test_group_order_follows_first_appearance():
    t = UsageTracker()
    for model in ("gpt-4o", "in-house-llm", "gpt-4o-mini", "gpt-4o"):
        t.record(model, 1, 1, "chat")
    assert list(t.stats().by_model) == ["gpt-4o", "in-house-llm", "gpt-4o-mini"]


# -- attribution -------------------------------------------------------------------------------


def test_attribute_supplies_defaults_and_nests():
    t = UsageTracker()
    hook = t.record  # an LLM client's on_usage(model, prompt, completion, category)
    with t.attribute(session_id="s1", user_id="alice"):
        hook("gpt-4o-mini", 100, 10, "extraction")
        with t.attribute(session_id="s2"):  # the user carries over
            hook("gpt-4o-mini", 200, 20, "summary")
            with t.attribute(user_id="bob"):
                t.record_call("gpt-4o", response=completion(300, 30))
        hook("gpt-4o-mini", 400, 40, "extraction")  # outer values restored
        t.record_compression(1000, 600)
    hook("gpt-4o-mini", 500, 50, "chat")  # outside: unattributed
    s = t.stats()
    assert s.by_session["s1"].prompt_tokens == 100 + 400
    assert s.by_session["s2"].prompt_tokens == 200 + 300
    assert s.by_user["alice"].prompt_tokens == 100 + 200 + 400
    assert s.by_user["bob"].prompt_tokens == 300
    assert s.total.calls == 5 and sum(u.calls for u in s.by_user.values()) == 4
    assert t.stats(session_id="s1", user_id="alice").compression.tokens_saved == 400


def test_explicit_ids_override_the_attributed_ones():
    t = UsageTracker()
    with t.attribute(session_id="outer", user_id="alice"):
        t.record("gpt-4o-mini", 1, 1, "chat", session_id="mine")
        t.record_call("gpt-4o-mini", response=completion(2, 2), user_id="bob")
        t.record_compression(10, 5, session_id="mine", user_id="carol")
    s = t.stats()
    assert s.by_session["mine"].calls == 1 and s.by_session["outer"].calls == 1
    assert s.by_user["alice"].calls == 1 and s.by_user["bob"].calls == 1
    assert t.stats(session_id="mine", user_id="carol").compression.compressions == 1
    assert t.stats(session_id="mine", user_id="alice").compression.compressions == 0


def test_attribution_is_per_tracker():
    a, b = UsageTracker(), UsageTracker()
    with a.attribute(user_id="alice"):
        b.record("gpt-4o-mini", 1, 1)
        a.record("gpt-4o-mini", 1, 1)
    assert b.stats().by_user == {} and a.stats().by_user["alice"].calls == 1


def test_attribution_does_not_leak_across_threads():
    t = UsageTracker()
    both_inside = threading.Barrier(2)
    errors = []

    def worker(user: str) -> None:
        try:
            with t.attribute(session_id=f"s-{user}", user_id=user):
                both_inside.wait(timeout=10)  # the other thread's block is open too
                for _ in range(50):
                    t.record("gpt-4o-mini", 1, 1, "memory")
                both_inside.wait(timeout=10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with t.attribute(user_id="main"):
        threads = [threading.Thread(target=worker, args=(u,)) for u in ("ann", "ben")]
        plain = threading.Thread(target=t.record, args=("gpt-4o", 5, 5, "chat"))
        for th in [*threads, plain]:
            th.start()
        for th in [*threads, plain]:
            th.join()
        t.record("gpt-4o", 7, 7, "chat")
    assert errors == []
    s = t.stats()
    assert {u: v.calls for u, v in s.by_user.items()} == {"ann": 50, "ben": 50, "main": 1}
    assert {k: v.calls for k, v in s.by_session.items()} == {"s-ann": 50, "s-ben": 50}
    # a thread started inside the block does not see it (threads start with a fresh context)
    assert s.total.calls == 102 and s.by_model["gpt-4o"].calls == 2


def test_attribution_follows_asyncio_tasks():
    t = UsageTracker()

    async def turn(user: str, delay: float) -> None:
        with t.attribute(user_id=user):
            await asyncio.sleep(delay)
            t.record("gpt-4o-mini", 1, 1)
            await asyncio.to_thread(t.record, "gpt-4o-mini", 1, 1)

    async def main() -> None:
        await asyncio.gather(turn("ann", 0.02), turn("ben", 0.0))

    asyncio.run(main())
    assert {u: v.calls for u, v in t.stats().by_user.items()} == {"ben": 2, "ann": 2}


# -- the memory's tracker ----------------------------------------------------------------------


def test_memory_usage_persists_in_the_data_dir_and_is_attributed(tmp_path):
    def model(body: dict) -> str:
        prompt = body["messages"][0]["content"]
        if prompt.startswith("You extract"):
            return json.dumps({"facts": []})
        return "Ana talked about tea."

    data = tmp_path / "m"
    data.mkdir()
    with ScriptedOpenAIServer(model) as server:
        llm = LLMConfig(base_url=server.base_url, api_key="t", model="gpt-4o-mini", timeout=5)
        # The memory never opens usage storage itself: the caller injects the hook.
        tracker = UsageTracker(data / "usage.sqlite3")
        memory = HybridMemory(
            MemoryConfig(data_dir=data, embedder=HashingEmbedder(), llm=llm),
            on_usage=tracker.record,
        )
        with tracker.attribute(session_id="chat-1", user_id="ana"):
            memory.add({"role": "user", "content": "I love tea.", "id": "m1"}, user_id="ana")
        calls = len(server.requests)
        memory.close()
        tracker.close()
    assert calls >= 1
    reopened = UsageTracker(data / "usage.sqlite3")
    s = reopened.stats()
    assert s.total.calls == s.by_session["chat-1"].calls == s.by_user["ana"].calls == calls
    assert s.total.prompt_tokens == 10 * calls  # what the scripted server reports per call
    reopened.close()
    with HybridMemory(MemoryConfig(data_dir=data, embedder=HashingEmbedder())) as again:
        again.reset()  # billing records survive a reset of the memories
    tracker = UsageTracker(data / "usage.sqlite3")
    assert tracker.stats().total.calls == calls
    tracker.close()


# The schema the tracker created before it had a version table.
PREVIOUS_RELEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_calls (
  at TEXT, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, category TEXT,
  session_id TEXT, user_id TEXT, estimated INTEGER);
CREATE TABLE IF NOT EXISTS usage_compressions (
  at TEXT, session_id TEXT, user_id TEXT, tokens_before INTEGER, tokens_after INTEGER);
CREATE TABLE IF NOT EXISTS usage_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS usage_calls_session ON usage_calls(session_id);
CREATE INDEX IF NOT EXISTS usage_calls_user ON usage_calls(user_id);
INSERT INTO usage_meta VALUES ('since', '2024-03-04T00:00:00+00:00');
INSERT INTO usage_calls VALUES ('2024-03-04T00:00:00+00:00', 'gpt-4o', 7, 3, 'chat', 's', 'u', 0);
INSERT INTO usage_compressions VALUES ('2024-03-04T00:00:01+00:00', 's', 'u', 900, 300);
"""


def test_a_file_of_the_previous_release_is_adopted_as_schema_version_1(tmp_path):
    db = tmp_path / "usage.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(PREVIOUS_RELEASE_SCHEMA)
    conn.close()
    for _ in range(2):  # the second open finds version 1 and applies nothing
        t = UsageTracker(db)
        s = t.stats()
        assert (s.total.calls, s.total.prompt_tokens, s.compression.tokens_saved) == (1, 7, 600)
        assert s.since == "2024-03-04T00:00:00+00:00"
        t.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM usage_schema").fetchall() == [(1,)]
    conn.close()


def test_a_newer_usage_schema_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "usage.sqlite3"
    UsageTracker(db).close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO usage_schema (version) VALUES (2)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this hybrid-memory"):
        UsageTracker(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM usage_schema ORDER BY version").fetchall() == [
        (1,),
        (2,),
    ]
    conn.close()
