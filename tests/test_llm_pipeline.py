"""The LLM pipeline against a real HTTP server on 127.0.0.1 speaking the OpenAI protocol.

Failure modes covered here: good structured replies; fences, prose, trailing commas, single
object, bad escapes, single quotes, truncation (parser and end to end); wrong schema (retry with
the error fed back, then a typed error with the raw reply); invented message ids and invented
memory ids; 429 with Retry-After; 500; a reply slower than the timeout; a dropped connection; a
1 MB reply; an endpoint that rejects response_format. For the memory: fallback to the offline
pipeline with an audit entry, no raw message lost, reprocess() idempotent, usage recorded.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import numpy as np
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from extractors.llm import ExtractionReply, LLMConsolidator, LLMExtractor
from hybrid_memory import EventType, HybridMemory, MemoryConfig, MemoryKind
from hybrid_memory.agent.usage import UsageTracker
from hybrid_memory.aio import AsyncHybridMemory
from hybrid_memory.embeddings import OpenAIEmbedder
from hybrid_memory.jsonparse import ReplyFormatError, extract_json, parse_reply
from hybrid_memory.llm import LLMClient, LLMConfig, LLMUnavailableError, RetrySettings, retrying
from hybrid_memory.models import ExtractedFact, MemoryItem, Message, utcnow
from hybrid_memory.testing import HashingEmbedder, Reply, ScriptedOpenAIServer


class Pair(BaseModel):
    a: int
    b: str = ""


class Items(BaseModel):
    items: list[Pair]


# -- the parser -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": 1, "b": "x"}',
        '```json\n{"a": 1, "b": "x"}\n```',
        'Sure! Here you go: {"a": 1, "b": "x"} Hope that helps.',
        '{"a": 1, "b": "x",}',
        "{'a': 1, 'b': 'x'}",
        '{"a": 1, "b": "x',
    ],
)
def test_tolerated_shapes(raw):
    assert parse_reply(raw, Pair) == Pair(a=1, b="x")


def test_single_object_or_bare_list_where_a_list_was_expected():
    assert parse_reply('{"a": 2}', Items, list_field="items").items == [Pair(a=2)]
    assert parse_reply('[{"a": 2}, {"a": 3}]', Items, list_field="items").items[1].a == 3


def test_bad_escape_is_repaired():
    assert extract_json('{"b": "C:\\q path"}')["b"].endswith("q path")


@pytest.mark.parametrize(
    "raw", ["", "no json here", '{"a": "not a number"}', "[1, 2]", "x" * 2_100_000]
)
def test_unusable_replies_are_typed_errors_with_the_raw_reply(raw):
    with pytest.raises(ReplyFormatError) as info:
        parse_reply(raw, Pair)
    assert info.value.raw is not None and info.value.reason


@settings(max_examples=1000, deadline=None)
@given(junk=st.text(max_size=200), a=st.integers(-1000, 1000))
def test_parser_property_no_crash_no_silent_drop(junk, a):
    # Arbitrary junk: only a typed error, never another exception.
    try:
        parse_reply(junk, Pair)
    except ReplyFormatError:
        pass
    # A valid object wrapped in prose and fences is always found.
    prose = junk.replace("{", "(").replace("}", ")").replace("[", "(").replace("`", "'")
    wrapped = f"{prose}\n```json\n{json.dumps({'a': a, 'b': 'ok'})}\n```\n{prose}"
    assert parse_reply(wrapped, Pair) == Pair(a=a, b="ok")


# -- the client -------------------------------------------------------------------------------


def client_for(server, **kw) -> LLMClient:
    cfg = dict(
        base_url=server.base_url,
        api_key="test",
        model="scripted",
        timeout=5,
        max_retries=2,
        backoff_base=0.01,
        backoff_max=2.0,
    )
    cfg.update(kw)
    return LLMClient(LLMConfig(**cfg))


def test_good_structured_reply_and_usage():
    seen = []
    with ScriptedOpenAIServer(lambda body: '{"a": 7, "b": "ok"}') as server:
        client = client_for(server)
        client.on_usage = lambda *args: seen.append(args)
        assert client.json([{"role": "user", "content": "hi"}], Pair) == Pair(a=7, b="ok")
    assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert seen == [("scripted", 10, 5, "memory")]


def test_response_format_rejected_falls_back_to_json_mode():
    def reply(body):
        if body.get("response_format", {}).get("type") == "json_schema":
            return Reply(status=400, content="response_format json_schema is not supported")
        return '{"a": 1}'

    with ScriptedOpenAIServer(reply) as server:
        client = client_for(server)
        assert client.json([{"role": "user", "content": "x"}], Pair).a == 1
        assert client.json([{"role": "user", "content": "y"}], Pair).a == 1
    kinds = [r.get("response_format", {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered


def test_wrong_schema_is_retried_with_the_error_fed_back():
    with ScriptedOpenAIServer(['{"wrong": true}', '{"a": 3}']) as server:
        assert client_for(server).json([{"role": "user", "content": "x"}], Pair).a == 3
    feedback = server.requests[1]["messages"][-1]["content"]
    assert "not usable" in feedback and "a" in feedback


def test_wrong_schema_every_time_is_a_typed_error_with_the_raw_reply():
    with ScriptedOpenAIServer(lambda body: '{"wrong": true}') as server:
        with pytest.raises(ReplyFormatError) as info:
            client_for(server, schema_retries=1).json([{"role": "user", "content": "x"}], Pair)
    assert info.value.raw == '{"wrong": true}' and len(server.requests) == 2


def test_429_honours_retry_after():
    script = [Reply(status=429, headers={"Retry-After": "1"}), '{"a": 5}']
    with ScriptedOpenAIServer(script) as server:
        start = time.perf_counter()
        assert client_for(server).json([{"role": "user", "content": "x"}], Pair).a == 5
        assert time.perf_counter() - start >= 0.9
    assert len(server.requests) == 2


def test_500_then_success_and_500_forever():
    with ScriptedOpenAIServer([Reply(status=500), '{"a": 1}']) as server:
        assert client_for(server).json([{"role": "user", "content": "x"}], Pair).a == 1
    with ScriptedOpenAIServer(lambda body: Reply(status=503)) as server:
        with pytest.raises(LLMUnavailableError, match="failed 3 times"):
            client_for(server).json([{"role": "user", "content": "x"}], Pair)
    assert len(server.requests) == 3


def test_slow_reply_times_out_and_is_bounded():
    with ScriptedOpenAIServer(lambda body: Reply(content='{"a": 1}', delay=1.5)) as server:
        start = time.perf_counter()
        with pytest.raises(LLMUnavailableError):
            client_for(server, timeout=0.3, max_retries=1).json(
                [{"role": "user", "content": "x"}], Pair
            )
        assert time.perf_counter() - start < 10


def test_dropped_connection_is_retried():
    with ScriptedOpenAIServer([Reply(drop=True), '{"a": 9}']) as server:
        assert client_for(server).json([{"role": "user", "content": "x"}], Pair).a == 9


def test_a_1mb_reply_does_not_crash():
    huge = '{"a": 1, "b": "' + "x" * 1_000_000 + '"}'
    with ScriptedOpenAIServer(lambda body: huge) as server:
        assert len(client_for(server).json([{"role": "user", "content": "x"}], Pair).b) == 10**6


def test_4xx_is_not_retried():
    with ScriptedOpenAIServer(lambda body: Reply(status=401, content="bad key")) as server:
        with pytest.raises(LLMUnavailableError, match="401"):
            client_for(server, structured_output="none").text([{"role": "user", "content": "x"}])
    assert len(server.requests) == 1


def test_consolidator_never_trusts_an_invented_memory_id():
    now = utcnow()
    existing = [
        MemoryItem(id="real-id", memory="Ana lives in Lisbon.", created_at=now, updated_at=now)
    ]
    fact = ExtractedFact(text="Ana lives in Porto.")
    script = [
        '{"event": "UPDATE", "id": "7", "text": "Ana lives in Porto."}',
        '{"event": "UPDATE", "id": "0", "text": "Ana lives in Porto."}',
    ]
    with ScriptedOpenAIServer(script) as server:
        consolidator = LLMConsolidator(client_for(server))
        invented = consolidator.decide(fact, existing, [0.9])
        real = consolidator.decide(fact, existing, [0.9])
    assert invented.event == EventType.ADD and "unknown id" in invented.reason
    assert (real.event, real.target) == (EventType.UPDATE, 0)
    assert '"0": Ana lives in Lisbon.' in server.requests[0]["messages"][0]["content"]
    assert "real-id" not in server.requests[0]["messages"][0]["content"]


# -- the memory with a model ------------------------------------------------------------------


def scripted_model(body: dict) -> str:
    """Extraction: one fact per message (one with an invented source); consolidation: ADD;
    summaries: a fixed sentence."""
    prompt = body["messages"][0]["content"]
    if prompt.startswith("You extract"):
        ids = [line.split("]")[0][1:] for line in prompt.splitlines() if line.startswith("[")]
        facts = [
            {
                "text": f"Fact from {i}: Ana likes tea.",
                "sources": [i],
                "attribute": "likes",
                "entities": [{"name": "Ana", "type": "person"}],
            }
            for i in ids
        ]
        facts.append({"text": "Invented.", "sources": ["no-such-message"]})
        return "```json\n" + json.dumps({"facts": facts}) + "\n```"
    if prompt.startswith("You maintain"):
        return '{"event": "ADD", "id": null, "text": null, "reason": "new"}'
    return "Ana talked about tea."


def llm_memory(tmp_path, server, **kw) -> HybridMemory:
    llm = LLMConfig(
        base_url=server.base_url,
        api_key="test",
        model="gpt-4o-mini",
        timeout=5,
        max_retries=1,
        backoff_base=0.01,
        schema_retries=1,
    )
    return HybridMemory(
        MemoryConfig(data_dir=tmp_path / "m", embedder=HashingEmbedder(), llm=llm, **kw)
    )


def test_llm_extraction_end_to_end(tmp_path):
    with ScriptedOpenAIServer(scripted_model) as server:
        memory = llm_memory(tmp_path, server)
        tracker = UsageTracker()
        memory.on_usage = tracker.record
        result = memory.add(
            [
                {
                    "role": "user",
                    "name": "Ana",
                    "content": "I love tea.",
                    "id": "m1",
                    "timestamp": "2024-01-01T10:00:00",
                }
            ],
            user_id="ana",
        )
        facts = [m for m in memory.get_all(user_id="ana") if m.kind == MemoryKind.FACT]
        assert [f.memory for f in facts] == ["Fact from m1: Ana likes tea."]
        assert facts[0].sources == ["m1"]
        assert not any("Invented" in m.memory for m in memory.get_all(user_id="ana"))
        assert any(e.kind == MemoryKind.OBSERVATION for e in result.results)
        stats = tracker.stats()
        assert stats.total.calls >= 1 and stats.total.prompt_tokens >= 10
        assert memory.audit_log() == []
        memory.close()


def test_model_failure_falls_back_offline_with_an_audit_entry(tmp_path):
    with ScriptedOpenAIServer(lambda body: Reply(status=500, content="boom")) as server:
        memory = llm_memory(tmp_path, server)
        memory.add(
            {"role": "user", "name": "Ana", "content": "I live in Porto.", "id": "m1"},
            user_id="ana",
        )
        # the offline pipeline took over: the fact is there, and the message too
        assert any(m.memory == "Ana lives in Porto." for m in memory.get_all(user_id="ana"))
        assert [t.id for t in memory.get_messages(user_id="ana")] == ["m1"]
        (entry,) = memory.audit_log(user_id="ana")
        assert entry.stage == "extraction" and entry.message_ids == ["m1"]
        assert "LLMUnavailableError" in entry.error
        memory.close()


def test_malformed_replies_are_audited_with_the_raw_reply(tmp_path):
    with ScriptedOpenAIServer(lambda body: "I cannot produce JSON today, sorry.") as server:
        memory = llm_memory(tmp_path, server)
        memory.add(
            {"role": "user", "name": "Ana", "content": "I live in Porto.", "id": "m1"},
            user_id="ana",
        )
        (entry,) = memory.audit_log()
        assert entry.raw == "I cannot produce JSON today, sorry."
        assert any(m.memory == "Ana lives in Porto." for m in memory.get_all(user_id="ana"))
        memory.close()


def test_summary_failure_falls_back_and_is_audited(tmp_path):
    from hybrid_memory.config import BufferConfig

    def reply(body):
        if body["messages"][0]["content"].startswith("Update the running summary"):
            return Reply(status=500)
        return scripted_model(body)

    with ScriptedOpenAIServer(reply) as server:
        memory = llm_memory(tmp_path, server, buffer=BufferConfig(max_turns=1))
        for i in range(3):
            memory.add(
                {
                    "role": "user",
                    "name": "Ana",
                    "id": f"s{i}",
                    "content": f"I visited museum number {i} in Paris with Tom.",
                },
                user_id="ana",
                run_id="r",
            )
        assert "museum" in memory.get_summary(user_id="ana", run_id="r")
        assert {e.stage for e in memory.audit_log()} == {"summary"}
        memory.close()


def test_messages_saved_before_the_model_call_are_reprocessed_once(tmp_path):
    with ScriptedOpenAIServer(scripted_model) as server:
        memory = llm_memory(tmp_path, server)
        # The process "dies" between saving the message and storing its memories.
        memory._ingest.consolidation.plan = lambda *a, **k: (_ for _ in ()).throw(SystemExit(3))
        with pytest.raises(SystemExit):
            memory.add(
                {"role": "user", "name": "Ana", "content": "I love tea.", "id": "m1"}, user_id="ana"
            )
        memory.close()
        memory = llm_memory(tmp_path, server)  # a model-backed pipeline waits for reprocess()
        assert [t.id for t in memory.get_messages(user_id="ana")] == ["m1"]
        assert memory.get_all(user_id="ana") == []
        done = memory.reprocess(user_id="ana")
        assert done.message_ids == ["m1"] and done.results
        again = memory.reprocess()
        assert again.results == [] and again.message_ids == []
        assert len([m for m in memory.get_all(user_id="ana") if m.kind == MemoryKind.FACT]) == 1
        memory.close()


def test_openai_embeddings_and_a_store_refusing_another_embedder(tmp_path):
    with ScriptedOpenAIServer(lambda body: "") as server:
        embedder = OpenAIEmbedder(
            "text-embedding-3-small", base_url=server.base_url, api_key="test"
        )
        assert embedder.dimension == 64 and embedder.name == "openai/text-embedding-3-small"
        with HybridMemory(MemoryConfig(data_dir=tmp_path / "e", embedder=embedder)) as memory:
            memory.add("I live in Porto.", user_id="u")
            assert memory.search("Porto", user_id="u")
    from hybrid_memory import EmbedderMismatchError

    with pytest.raises(EmbedderMismatchError):
        HybridMemory(MemoryConfig(data_dir=tmp_path / "e", embedder=HashingEmbedder(64)))


def test_async_memory_matches_the_sync_one(tmp_path):
    async def scenario(memory: AsyncHybridMemory):
        results = await asyncio.gather(
            *[
                memory.add(
                    {
                        "role": "user",
                        "name": "Ana",
                        "content": f"I visited city {i}.",
                        "id": f"a{i}",
                    },
                    user_id=f"user-{i % 3}",
                )
                for i in range(9)
            ]
        )
        hits = await memory.search("city", user_id="user-1")
        ctx = await memory.get_context("city", user_id="user-1", token_budget=300)
        return results, hits, ctx

    memory = AsyncHybridMemory(MemoryConfig(data_dir=tmp_path / "a", embedder=HashingEmbedder()))
    results, hits, ctx = asyncio.run(scenario(memory))
    sync = memory.sync
    assert all(r.results for r in results)
    assert [h.id for h in hits] == [h.id for h in sync.search("city", user_id="user-1")]
    assert all(h.user_id == "user-1" for h in hits) and ctx.tokens <= 300
    asyncio.run(memory.close())


def test_llm_config_from_env():
    assert LLMConfig.from_env({}) is None
    cfg = LLMConfig.from_env(
        {
            "OPENAI_API_KEY": "k",
            "OPENAI_BASE_URL": "http://127.0.0.1:1/v1",
            "HYBRID_MEMORY_LLM_MODEL": "local-model",
        }
    )
    assert (cfg.api_key, cfg.base_url, cfg.model) == ("k", "http://127.0.0.1:1/v1", "local-model")


def test_extraction_reply_schema_accepts_loose_shapes():
    reply = ExtractionReply.model_validate(
        {"facts": [{"text": "Ana likes tea.", "sources": "m1", "entities": ["Ana"]}]}
    )
    assert reply.facts[0].sources == ["m1"] and reply.facts[0].entities[0].name == "Ana"


# -- one retry policy for chat and embeddings -------------------------------------------------


def test_retry_policy_backs_off_exponentially_within_its_cap():
    script = [Reply(status=500), Reply(status=502), '{"a": 1}']
    with ScriptedOpenAIServer(script) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        policy = retrying(RetrySettings(max_retries=3, backoff_base=0.05, backoff_max=0.06))
        reply = policy(
            client.chat.completions.create,
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
        )
    assert reply.choices[0].message.content == '{"a": 1}'
    assert policy.statistics["attempt_number"] == 3 and len(server.requests) == 3
    # waits: 0.05 * (0.5..1.5), then 0.1 * (0.5..1.5), each capped at 0.06
    assert 0.075 <= policy.statistics["idle_for"] <= 0.12


def test_retry_after_is_capped_by_backoff_max():
    script = [Reply(status=429, headers={"Retry-After": "60"}), '{"a": 4}']
    with ScriptedOpenAIServer(script) as server:
        start = time.perf_counter()
        client = client_for(server, backoff_max=0.3)
        assert client.json([{"role": "user", "content": "x"}], Pair).a == 4
        assert 0.25 <= time.perf_counter() - start < 5
    assert len(server.requests) == 2


def test_embedder_retries_a_500_then_succeeds():
    with ScriptedOpenAIServer(lambda body: "", embedding_replies=[Reply(status=500)]) as server:
        embedder = OpenAIEmbedder(base_url=server.base_url, api_key="test", backoff_base=0.01)
        assert embedder.dimension == 64
        assert len(server.requests) == 2  # the dimension probe: a 500, then vectors
        vectors = embedder.embed_batch(["I live in Porto."])
    expected = HashingEmbedder(64).embed_batch(["I live in Porto."])
    assert vectors.shape == (1, 64) and np.allclose(vectors, expected, atol=1e-6)
    assert len(server.requests) == 3


def test_embedder_gives_up_like_the_chat_client_and_never_retries_a_refusal():
    failures = [Reply(status=503)] * 3
    with ScriptedOpenAIServer(lambda body: "", embedding_replies=failures) as server:
        with pytest.raises(LLMUnavailableError, match="failed 3 times") as info:
            OpenAIEmbedder(
                base_url=server.base_url, api_key="test", max_retries=2, backoff_base=0.01
            )
    # three requests in all: the openai SDK does not retry on its own as well
    assert info.value.status == 503 and len(server.requests) == 3
    refused = [Reply(status=401, content="bad key")]
    with ScriptedOpenAIServer(lambda body: "", embedding_replies=refused) as server:
        with pytest.raises(LLMUnavailableError, match="401") as info:
            OpenAIEmbedder(base_url=server.base_url, api_key="test", backoff_base=0.01)
    assert info.value.status == 401 and len(server.requests) == 1


def test_embedder_takes_endpoint_and_retry_settings_from_an_llm_config():
    script = [Reply(status=429, headers={"Retry-After": "30"})]
    with ScriptedOpenAIServer(lambda body: "", embedding_replies=script) as server:
        config = LLMConfig(
            base_url=server.base_url,
            api_key="test",
            max_retries=1,
            backoff_base=0.01,
            backoff_max=0.3,
        )
        start = time.perf_counter()
        embedder = OpenAIEmbedder(config=config)
        assert 0.25 <= time.perf_counter() - start < 5  # Retry-After, capped at backoff_max
        assert embedder.dimension == 64 and len(server.requests) == 2
    assert embedder.retry == RetrySettings(max_retries=1, backoff_base=0.01, backoff_max=0.3)
    explicit = OpenAIEmbedder(config=config, dimension=8, max_retries=0)
    assert explicit.retry == RetrySettings(max_retries=0, backoff_base=0.01, backoff_max=0.3)


def test_model_event_dates_use_the_package_date_parser():
    said = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    facts = [
        {"text": "Ana moved.", "sources": ["m1"], "event_date": "2023-05-01"},
        {"text": "Ana started.", "sources": ["m1"], "event_date": "2023-05-02T09:30:00Z"},
        {"text": "Ana arrived.", "sources": ["m1"], "event_date": "2023-05-03 (approx.)"},
        {"text": "Ana left.", "sources": ["m1"], "event_date": "sometime last spring"},
        {"text": "Ana stayed.", "sources": ["m1"], "event_date": None},
    ]
    with ScriptedOpenAIServer(lambda body: json.dumps({"facts": facts})) as server:
        extractor = LLMExtractor(client_for(server))
        message = Message(role="user", name="Ana", id="m1", content="I moved.", timestamp=said)
        out = [f for f in extractor.extract([message]) if f.kind == MemoryKind.FACT]
    assert [f.event_time for f in out] == [
        datetime(2023, 5, 1, tzinfo=UTC),
        datetime(2023, 5, 2, 9, 30, tzinfo=UTC),
        datetime(2023, 5, 3, tzinfo=UTC),
        said,  # unparsable: the time the message was said
        said,
    ]
