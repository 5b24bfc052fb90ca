"""Context-window strategies: invariants (Hypothesis), triggering, presets, validation."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid_memory.agent.registry import DEFAULT_MODEL, get_model_info, register_model
from hybrid_memory.agent.window import STRATEGIES, SUMMARY_PREFIX, ContextWindow, WindowSettings
from hybrid_memory.errors import ConfigError, MessageFormatError, TokenBudgetError
from hybrid_memory.models import Message
from hybrid_memory.tokens import TokenCounter

COUNTER = TokenCounter.for_model("gpt-4o-mini")


class FirstWordsSummarizer:
    """A tiny real Summarizer: the first words of each turn, within the bound."""

    name = "first-words"

    def summarize(
        self,
        previous: str,
        turns: Sequence[Message],
        *,
        max_tokens: int,
        count_tokens: Callable[[str], int],
    ) -> str:
        text = " ".join([previous, *(" ".join(t.content.split()[:5]) + "." for t in turns)])
        while text and count_tokens(text) > max_tokens:
            text = text[: len(text) // 2]
        return text.strip()


def call(i: int, tool: str, args: dict) -> dict:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call{i}",
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(args)},
            }
        ],
    }


def result(i: int, size: int) -> dict:
    return {"role": "tool", "tool_call_id": f"call{i}", "content": "line of code\n" * size}


def conversation(turns: int, size: int = 40) -> list[dict]:
    msgs: list[dict] = [{"role": "system", "content": "You are a coding assistant."}]
    for i in range(turns):
        msgs.append({"role": "user", "content": f"Please look at file {i} and explain it."})
        msgs.append(call(i, "read_file", {"path": f"src/mod{i}.py"}))
        msgs.append(result(i, size))
        msgs.append({"role": "assistant", "content": f"Module {i} defines helper number {i}."})
    return msgs


def window(**kw) -> ContextWindow:
    kw.setdefault("context_window", 2_000)
    kw.setdefault("reserved_output_tokens", 200)
    return ContextWindow(WindowSettings(**kw), summarizer=FirstWordsSummarizer())


def check_invariants(original: list[dict], fitted: list[dict], limit: int) -> None:
    assert COUNTER.count_messages(fitted) <= limit
    originals = [m for m in original if m["role"] == "system"]
    kept_system = [m for m in fitted if m["role"] == "system" and m not in originals]
    assert all(m["content"].startswith(SUMMARY_PREFIX) for m in kept_system)
    assert [m for m in fitted if m in originals] == originals  # never dropped
    calls = {c["id"] for m in fitted for c in m.get("tool_calls") or []}
    results = {m["tool_call_id"] for m in fitted if m["role"] == "tool"}
    assert calls == results  # no orphan results, no call without its result
    for i, m in enumerate(fitted):  # results follow their call directly
        if m["role"] == "tool":
            assert fitted[i - 1]["role"] == "tool" or fitted[i - 1].get("tool_calls")
    # order preserved: every kept original message id (here: the user texts) in input order
    users = [m["content"] for m in original if m["role"] == "user"]
    kept = [m["content"] for m in fitted if m["role"] == "user"]
    assert kept == [u for u in users if u in kept]
    # the current turn (latest user message onwards) is never dropped
    if users:
        start = max(i for i, m in enumerate(original) if m["role"] == "user")
        current = original[start:]
        assert [m.get("tool_call_id") or m["role"] for m in fitted[-len(current) :]] == [
            m.get("tool_call_id") or m["role"] for m in current
        ]
        assert fitted[-len(current)]["content"] == current[0]["content"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_fits_and_keeps_invariants(strategy):
    msgs = conversation(30)
    cw = ContextWindow(
        WindowSettings(
            context_window=2_000,
            reserved_output_tokens=200,
            strategies=[strategy],
            keep_last=4,
            keep_tool_results=1,
            max_message_tokens=20,
        ),
        summarizer=FirstWordsSummarizer(),
    )
    out = cw.fit(msgs)
    check_invariants(msgs, out.messages, cw.limit)
    assert out.report.triggered
    assert out.report.tokens_before > out.report.tokens_after
    assert strategy in out.report.strategies_applied


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    turns=st.integers(0, 25),
    size=st.integers(1, 60),
    strategies=st.lists(st.sampled_from(STRATEGIES), min_size=1, max_size=4),
    window_size=st.integers(600, 4_000),
)
def test_invariants_hold_for_any_composition(turns, size, strategies, window_size):
    msgs = conversation(turns, size)
    cw = window(strategies=strategies, context_window=window_size, keep_last=3)
    out = cw.fit(msgs)
    check_invariants(msgs, out.messages, cw.limit)
    assert out.report.tokens_after == COUNTER.count_messages(out.messages)


def test_below_trigger_nothing_changes_and_input_is_not_mutated():
    msgs = conversation(2)
    snapshot = json.dumps(msgs)
    out = window().fit(msgs)
    assert out.messages == msgs and not out.report.triggered
    window(strategies=["compact_tools"]).fit(conversation(30))
    assert json.dumps(msgs) == snapshot


def test_compresses_down_to_target_ratio():
    cw = window(strategies=["token_window"], trigger_ratio=0.8, target_ratio=0.5)
    out = cw.fit(conversation(30))
    assert out.report.tokens_after <= cw.limit * 0.5
    assert out.report.trigger == int(cw.limit * 0.8)


def test_compact_tools_keeps_the_call_and_names_the_file():
    cw = window(strategies=["compact_tools"], keep_tool_results=2, context_window=8_000)
    out = cw.fit(conversation(30), force=True)
    tools = [m for m in out.messages if m["role"] == "tool"]
    assert len(tools) == 30
    assert tools[0]["content"] == "Content of src/mod0.py was read here; read it again if needed."
    assert tools[-1]["content"].startswith("line of code")
    assert out.report.compacted >= 1


def test_custom_tool_rule():
    msgs = [
        {"role": "user", "content": "weather?"},
        call(1, "get_weather", {"city": "Paris"}),
        result(1, 200),
        {"role": "user", "content": "thanks"},
    ]
    cw = ContextWindow(
        WindowSettings(
            context_window=1_000,
            reserved_output_tokens=0,
            keep_tool_results=0,
            strategies=["compact_tools"],
        ),
        tool_rules={"get_weather": "Weather of {city} was fetched."},
    )
    out = cw.fit(msgs, force=True)
    assert out.messages[2]["content"] == "Weather of Paris was fetched."


def test_summarize_inserts_summary_after_system_prompt():
    cw = window(strategies=["summarize"], summary_max_tokens=60)
    out = cw.fit(conversation(30))
    assert out.messages[0]["content"] == "You are a coding assistant."
    assert out.messages[1]["content"].startswith(SUMMARY_PREFIX)
    assert "Please look at file 0" in out.messages[1]["content"]
    assert out.report.summarized > 0


def test_default_summarizer_is_the_offline_one():
    cw = ContextWindow(
        WindowSettings(context_window=2_000, reserved_output_tokens=200, strategies=["summarize"])
    )
    msgs = [{"role": "system", "content": "Be brief."}]
    for i in range(60):
        msgs.append({"role": "user", "content": f"I moved to city number {i} last year for work."})
        msgs.append({"role": "assistant", "content": "That sounds like a big change for you."})
    out = cw.fit(msgs)
    assert type(cw.summarizer).__name__ == "OfflineSummarizer"
    assert out.messages[1]["content"].startswith(SUMMARY_PREFIX)
    check_invariants(msgs, out.messages, cw.limit)


def test_selective_drops_acknowledgements_and_duplicates():
    msgs = [{"role": "system", "content": "s"}]
    for _ in range(3):
        msgs += [
            {"role": "user", "content": "ok"},
            {"role": "user", "content": "same question"},
            {"role": "assistant", "content": "a real answer"},
        ]
    out = window(strategies=["selective"]).fit(msgs, force=True)
    texts = [m["content"] for m in out.messages]
    assert texts == ["s", "same question", "a real answer"]


def test_selective_keeps_tools_errors_and_flagged_messages_and_drops_plain_turns_first():
    msgs = [{"role": "system", "content": "s"}]
    msgs.append({"role": "user", "content": "Remember: never touch prod.", "important": True})
    msgs.append({"role": "user", "content": "Error: the build broke on step 3."})
    for i in range(12):
        msgs.append({"role": "user", "content": f"plain question {i} " + "words " * 30})
        msgs.append({"role": "assistant", "content": f"plain answer {i} " + "words " * 30})
    msgs += conversation(2)[1:]
    msgs.append({"role": "user", "content": "keep me, I am marked", "id": "k"})
    msgs.append({"role": "user", "content": "the current question"})
    cw = ContextWindow(
        WindowSettings(context_window=1_600, reserved_output_tokens=100, strategies=["selective"]),
        important_if=lambda m: m.get("id") == "k",
        summarizer=FirstWordsSummarizer(),
    )
    out = cw.fit(msgs)
    check_invariants(msgs, out.messages, cw.limit)
    texts = [str(m.get("content")) for m in out.messages]
    for kept in ("Remember: never touch prod.", "Error: the build broke", "keep me, I am marked"):
        assert any(t.startswith(kept) for t in texts)
    assert sum(1 for m in out.messages if m["role"] == "tool") == 2  # tool units untouched
    plain = [t for t in texts if t.startswith("plain")]
    assert plain and len(plain) < 24  # some plain turns went, the oldest first
    first_kept = min(int(t.split()[2]) for t in plain)
    assert all(f"plain question {i} " not in " ".join(texts) for i in range(first_kept))
    assert out.report.tokens_after <= out.report.target and not out.report.fallback


def test_delete_by_id_and_predicate():
    msgs = [
        {"role": "user", "content": "a", "id": "m1"},
        {"role": "user", "content": "secret b"},
        {"role": "user", "content": "c"},
    ]
    cw = ContextWindow(
        WindowSettings(context_window=1_000, reserved_output_tokens=0, strategies=["delete"]),
        delete_ids={"m1"},
        delete_if=lambda m: "secret" in str(m.get("content")),
    )
    assert [m["content"] for m in cw.fit(msgs, force=True).messages] == ["c"]
    # named messages go from every request, even small ones and without the strategy
    named = ContextWindow(
        WindowSettings(context_window=1_000, reserved_output_tokens=0, strategies=["truncate"]),
        delete_ids={"m1"},
    ).fit(msgs)
    assert [m["content"] for m in named.messages] == ["secret b", "c"]
    assert named.report.deleted == 1 and not named.report.triggered


def test_delete_strategy_drops_old_history_but_not_the_current_turn():
    msgs = conversation(20)
    out = window(strategies=["delete"]).fit(msgs)
    assert out.report.triggered and "delete" in out.report.strategies_applied
    assert out.messages == [msgs[0], *msgs[-4:]]


def test_presets_and_env(monkeypatch):
    assert WindowSettings().resolved()["trigger_ratio"] == 0.8
    assert WindowSettings(preset="aggressive").resolved()["target_ratio"] < 0.5
    monkeypatch.setenv("HYBRID_MEMORY_WINDOW_PRESET", "conservative")
    monkeypatch.setenv("HYBRID_MEMORY_WINDOW_STRATEGIES", '["truncate", "token_window"]')
    monkeypatch.setenv("HYBRID_MEMORY_WINDOW_TRIGGER_RATIO", "0.95")
    values = WindowSettings().resolved()
    assert values["strategies"] == ["truncate", "token_window"]
    assert values["trigger_ratio"] == 0.95 and values["target_ratio"] == 0.8


def test_aggressive_saves_more_than_conservative():
    msgs = conversation(40)
    saved = {
        p: window(preset=p, context_window=6_000).fit(msgs).report.tokens_saved
        for p in ("aggressive", "balanced", "conservative")
    }
    assert saved["aggressive"] > saved["balanced"] >= saved["conservative"] > 0


def test_registry_window_is_used():
    cw = ContextWindow(WindowSettings(model="gpt-4o-mini"))
    assert cw.limit == 128_000 - 4_096


@pytest.mark.parametrize(
    ("msgs", "match"),
    [
        ([{"role": "robot", "content": "x"}], "unknown role"),
        ([{"role": "user", "content": 42}], "must be a string"),
        ([{"role": "tool", "tool_call_id": "x", "content": "r"}], "without a preceding"),
        ([call(1, "read_file", {})], "no tool result"),
        ([call(1, "read_file", {}), {"role": "user", "content": "hi"}], "no tool result"),
        (["not a dict"], "must be a dict"),
        # the package's one role list (hybrid_memory.chat.ROLES) has no legacy "function" role
        ([{"role": "function", "name": "f", "content": "x"}], "unknown role 'function'"),
        ([call(1, "f", {}), result(1, 1), call(1, "f", {}), result(1, 1)], "is reused"),
        ([{"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}], "'function'"),
    ],
)
def test_bad_messages_raise_typed_errors(msgs, match):
    with pytest.raises(MessageFormatError, match=match):
        window().fit(msgs)


def test_unknown_strategy_and_inconsistent_ratios():
    with pytest.raises(ConfigError, match="unknown context strategies"):
        window(strategies=["compress_harder"])
    with pytest.raises(ConfigError, match="target_ratio"):
        window(trigger_ratio=0.5, target_ratio=0.9)


def test_system_prompt_too_big_says_why():
    msgs = [{"role": "system", "content": "rule " * 5_000}, {"role": "user", "content": "hi"}]
    with pytest.raises(TokenBudgetError, match="system prompts and tool schemas alone"):
        window().fit(msgs)


def test_no_fallback_raises_instead_of_dropping():
    with pytest.raises(TokenBudgetError, match="fallback_drop"):
        window(strategies=["selective"], fallback_drop=False).fit(conversation(40))


def test_registry_lookup_override_and_unknown(monkeypatch):
    assert get_model_info("gpt-4o-2024-08-06").name == "gpt-4o"
    assert get_model_info("claude-sonnet-4-20250514").provider == "anthropic"
    assert get_model_info("gemini-2.5-pro").context_window == 1_048_576
    assert get_model_info("gpt-4o-mini").cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    with pytest.warns(UserWarning, match="unknown model"):
        info = get_model_info("totally-new-model")
    assert info.known is False and info.context_window == DEFAULT_MODEL.context_window
    register_model(name="my-llm", context_window=8_192, input_price=1.0)
    assert get_model_info("my-llm").context_window == 8_192
    monkeypatch.setenv("HYBRID_MEMORY_MODELS", '{"env-llm": {"context_window": 4096}}')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_model_info("env-llm").context_window == 4_096
    monkeypatch.setenv("HYBRID_MEMORY_MODELS", "[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        get_model_info("gpt-4o")


def test_context_strategies_benchmark_smoke(tmp_path):
    from benchmarks.context_strategies import main, script

    assert script(5) == script(5)
    payload = main(
        ["--turns", "12", "--context-window", "16000", "--only", "none", "preset:aggressive"]
        + ["compact_tools", "--out", str(tmp_path / "r.json")]
    )
    results = payload["results"]
    assert results["none"]["compressions"] == 0
    assert results["preset:aggressive"]["total_tokens"] < results["none"]["total_tokens"]
    assert results["compact_tools"]["max_tokens"] <= 16_000 - 4_096
    assert json.loads((tmp_path / "r.json").read_text())["turns"] == 12


def test_a_failing_model_summarizer_is_replaced_by_the_offline_one():
    from extractors.llm import LLMSummarizer
    from hybrid_memory.llm import LLMClient, LLMConfig
    from hybrid_memory.testing import Reply, ScriptedOpenAIServer

    msgs = conversation(30)
    with ScriptedOpenAIServer(lambda body: Reply(status=500)) as server:
        llm = LLMConfig(base_url=server.base_url, api_key="t", model="gpt-4o-mini", max_retries=0)
        cw = ContextWindow(
            WindowSettings(
                context_window=2_000, reserved_output_tokens=200, strategies=["summarize"]
            ),
            summarizer=LLMSummarizer(LLMClient(llm)),
        )
        out = cw.fit(msgs)
        assert len(server.requests) == 1  # tried once, then the offline summarizer wrote it
    assert out.report.summary_error is not None
    assert out.report.summary_error.startswith("LLMUnavailableError: ")
    assert out.messages[1]["content"].startswith(SUMMARY_PREFIX)
    assert out.report.summarized > 0
    check_invariants(msgs, out.messages, cw.limit)
