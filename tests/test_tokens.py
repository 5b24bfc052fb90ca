"""Token counting against OpenAI's published examples, offline."""

from __future__ import annotations

import os
import threading
import warnings

import pytest

from hybrid_memory.tokens import TokenCounter, ensure_tiktoken_cache

# The example of OpenAI's cookbook "How to count tokens with tiktoken"; the cookbook reports
# 129 prompt tokens from the API for gpt-3.5-turbo/gpt-4 (cl100k_base). For o200k_base models
# 123 is the cookbook formula's value (3 per message, 1 per name, 3 priming) on that encoding.
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the "
        "client's project.",
    },
]


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 123), ("gpt-4o-mini", 123)],
)
def test_cookbook_message_counts(model, expected):
    assert TokenCounter.for_model(model).count_messages(COOKBOOK) == expected


def test_encodings_and_exactness():
    assert TokenCounter.for_model("gpt-4o-mini").encoding_name == "o200k_base"
    assert TokenCounter.for_model("gpt-5").encoding_name == "o200k_base"
    assert TokenCounter.for_model("o3-mini").encoding_name == "o200k_base"
    assert TokenCounter.for_model("gpt-4").encoding_name == "cl100k_base"
    assert TokenCounter.for_model("text-embedding-3-small").encoding_name == "cl100k_base"
    claude = TokenCounter.for_model("claude-3-5-sonnet")
    assert (claude.exact, claude.provider, claude.encoding_name) == (False, "anthropic", None)
    assert TokenCounter.for_model("gemini-2.5-flash").provider == "google"
    assert TokenCounter.for_model("gpt-4o") is TokenCounter.for_model("gpt-4o")


def test_known_text_counts():
    # tiktoken's documented examples: "hello world" is 2 tokens in both encodings
    assert TokenCounter.for_model("gpt-4o").count_text("hello world") == 2
    assert TokenCounter.for_model("gpt-4").count_text("tiktoken is great!") == 6
    assert TokenCounter.for_model("gpt-4o").count_text("") == 0


def test_estimates_are_labelled_and_unknown_model_warns_once():
    with pytest.warns(UserWarning, match="estimates"):
        counter = TokenCounter("my-local-llama")
    assert counter.exact is False
    assert counter.count_text("a" * 400) == 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TokenCounter.for_model("claude-sonnet-4").count_text("x")  # known provider: no warning


def test_message_parts_tool_calls_and_results():
    c = TokenCounter.for_model("gpt-4o-mini")
    plain = c.count_message({"role": "user", "content": "what is in README.md"})
    parts = c.count_message(
        {"role": "user", "content": [{"type": "text", "text": "what is in README.md"}]}
    )
    assert plain == parts
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "README.md"}'},
            }
        ],
    }
    bare = c.count_message({"role": "assistant", "content": None})
    assert c.count_message(call) >= bare + c.count_text('{"path": "README.md"}')
    result = {"role": "tool", "tool_call_id": "c1", "content": "# Title"}
    assert c.count_message(result) > c.count_message({"role": "tool", "content": "# Title"})


def test_empty_request_and_tools():
    c = TokenCounter.for_model("gpt-4o")
    assert c.count_messages([]) == 0
    tools = [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
    ]
    msgs = [{"role": "user", "content": "hi"}]
    assert c.count_messages([], tools) > 0
    assert c.count_messages(msgs, tools) > c.count_messages(msgs) + c.count_text("Read a file")


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3-5-haiku"])
def test_truncate_text_is_longest_prefix_within_budget(model):
    c = TokenCounter.for_model(model)
    text = " ".join(f"word{i}" for i in range(500))
    for budget in (0, 1, 7, 50, 10_000):
        cut = c.truncate_text(text, budget)
        assert text.startswith(cut)
        assert c.count_text(cut) <= budget
    assert c.truncate_text(text, 10_000) == text


def test_cache_is_seeded_offline_and_idempotent(tmp_path):
    directory = ensure_tiktoken_cache()
    assert directory.is_dir()
    files = sorted(p.name for p in directory.iterdir() if not p.name.endswith(".tmp"))
    assert len(files) >= 2
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_tiktoken_cache())) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == {directory}
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(directory)


def test_tool_schema_count_follows_cookbook_formula():
    c = TokenCounter.for_model("gpt-4o-mini")
    tool = {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city, e.g. Paris."},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
            },
        },
    }
    expected = (
        7
        + c.count_text("get_current_weather:Get the current weather in a given location")
        + 3
        + 3
        + c.count_text("location:string:The city, e.g. Paris")
        + 3
        - 3
        + 3
        + c.count_text("celsius")
        + 3
        + c.count_text("fahrenheit")
        + c.count_text("unit:string:")
        + 12
    )
    assert c.count_tools([tool]) == expected
    assert TokenCounter.for_model("gpt-4").count_tools([tool]) > 0
