"""Usage and cost tracking: categories, sessions, users, estimates, compressions, SQLite."""

from __future__ import annotations

import threading

import pytest
from openai.types.chat import ChatCompletion
from rich.console import Console

from hybrid_memory.tokens import TokenCounter
from hybrid_memory.usage import UsageTracker, price_of, render_usage_table
from hybrid_memory.window import ContextWindow, WindowSettings


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
