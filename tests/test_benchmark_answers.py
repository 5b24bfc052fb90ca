"""Answer-level evaluation: token F1 on known cases, endpoint discovery, and the whole path
against a real HTTP server on 127.0.0.1 speaking the OpenAI protocol with scripted replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import locomo
from benchmarks.answers import AnswerJudge, Endpoint, endpoint_from_env, token_f1
from hybrid_memory.testing import HashingEmbedder, ScriptedOpenAIServer

FIXTURE = Path(__file__).parent / "fixtures" / "locomo_mini.json"


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("Pepper", "Pepper", 1.0),
        ("the puppy Pepper", "Pepper", 2 / 3),  # "the" is dropped: P = 1/2, R = 1
        ("a cat", "Pepper", 0.0),
        ("20 April 2023", "20 April, 2023", 1.0),
        ("", "", 1.0),
        ("", "Pepper", 0.0),
    ],
)
def test_token_f1(prediction, gold, expected):
    assert token_f1(prediction, gold) == pytest.approx(expected)


def test_endpoint_from_env():
    assert endpoint_from_env({}) is None
    ep = endpoint_from_env({"OPENAI_API_KEY": "k", "OPENAI_MODEL": "m"})
    assert (ep.base_url, ep.api_key, ep.model) == (None, "k", "m")
    ep = endpoint_from_env(
        {"HYBRID_MEMORY_LLM_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "k"}
    )
    assert ep.base_url == "http://127.0.0.1:1/v1" and ep.model == "gpt-4o-mini"


def _scripted(body: dict) -> str:
    """A tiny "model": it answers from the context and judges by string match."""
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("You grade answers"):
        gold = prompt.split("Gold answer: ")[1].split("\n")[0].lower()
        answer = prompt.split("Generated answer: ")[1].split("\n")[0].lower()
        return "CORRECT" if gold in answer or answer in gold else "WRONG"
    context = " ".join(str(m.get("content")) for m in body["messages"][:-1])
    return "Pepper" if "Pepper" in context and "puppy" in prompt else "unknown"


def test_answers_are_generated_and_judged_through_the_endpoint(tmp_path):
    with ScriptedOpenAIServer(_scripted) as server:
        judge = AnswerJudge(
            Endpoint(base_url=server.base_url, api_key="test", model="scripted"), timeout=10
        )
        result = locomo.run(
            locomo.load(FIXTURE),
            ["hybrid"],
            HashingEmbedder(),
            progress=False,
            judge=judge,
            answer_budget=800,
        )
    answers = result["answers"]
    assert answers["model"] == "scripted"
    # 8 scored questions: one answer and one judgement each
    assert len(server.requests) == 16
    answer_requests = [
        r for r in server.requests if not r["messages"][-1]["content"].startswith("You grade")
    ]
    # the answer prompt carries hybrid-memory's context (system framing + memories)
    assert all(r["messages"][0]["role"] == "system" for r in answer_requests)
    assert 0 < answers["J"]["all"] < 100 and answers["J"]["single-hop"] > 0
    assert answers["F1"]["all"] > 0
    report = locomo.markdown(result, "cmd")
    assert "| J |" in report and "| F1 |" in report


def test_without_an_endpoint_the_answers_are_skipped_saying_so(tmp_path, monkeypatch):
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "HYBRID_MEMORY_LLM_API_KEY",
        "HYBRID_MEMORY_LLM_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    assert (
        locomo.main(
            [
                "--data",
                str(FIXTURE),
                "--out",
                str(out),
                "--embedder",
                "hashing",
                "--no-progress",
                "--systems",
                "hybrid",
            ]
        )
        == 0
    )
    result = json.loads((out / "results.json").read_text())
    assert result["answers"] is None
    assert "no LLM endpoint configured" in result["answers_skipped"]
    assert "no LLM endpoint configured" in (out / "report.md").read_text()


def test_mem0_with_its_own_llm_pipeline_beside_ours(real_embedder):
    """With an endpoint configured, Mem0 runs infer=True against it (here the scripted server
    plays the model: it turns each turn into one memory)."""

    def reply(body):
        text = body["messages"][-1]["content"]
        if "Pepper" in text and "puppy" in text:
            return json.dumps({"memory": [{"text": "Tomas adopted a puppy named Pepper."}]})
        return json.dumps({"memory": []})

    with ScriptedOpenAIServer(reply) as server:
        endpoint = Endpoint(base_url=server.base_url, api_key="test", model="scripted")
        result = locomo.run(
            locomo.load(FIXTURE)[:1],
            ["mem0_infer"],
            real_embedder,
            progress=False,
            mem0_endpoint=endpoint,
        )
    assert server.requests, "Mem0 never called the endpoint"
    recall = result["systems"]["mem0_infer"]["recall"]
    # only the puppy turn became a memory: the single-hop question about it is found
    assert recall["single-hop@5"] > 0 and recall["all@50"] < 100
