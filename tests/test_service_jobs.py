"""Background adds survive a crash: a server killed with SIGKILL while a 202-accepted add is
being processed finishes that job on restart, exactly once (no duplicate memories, no second
processing after a further restart). The pipeline's model is a scripted OpenAI-protocol
server on 127.0.0.1 that answers slowly until the test lets it go."""

from __future__ import annotations

import json
import time

from hybrid_memory.testing import Reply, ScriptedOpenAIServer
from tests.service_process import serve, server_env

SAID = [
    {"role": "user", "content": "I love tea.", "id": "m1"},
    {"role": "user", "content": "I play chess on Sundays.", "id": "m2"},
]


class Model:
    """Extraction: one fact per message; consolidation: ADD; summaries: a sentence. Slow
    (longer than the test waits) while ``slow`` is set."""

    def __init__(self) -> None:
        self.slow = True
        self.extractions = 0

    def __call__(self, body: dict) -> Reply:
        prompt = body["messages"][0]["content"]
        delay = 60.0 if self.slow else 0.0
        if prompt.startswith("You extract"):
            self.extractions += 1
            ids = [line.split("]")[0][1:] for line in prompt.splitlines() if line.startswith("[")]
            facts = [{"text": f"Fact from {i}.", "sources": [i]} for i in ids]
            return Reply(content=json.dumps({"facts": facts}), delay=delay)
        if prompt.startswith("You maintain"):
            return Reply(content='{"event": "ADD", "id": null, "text": null, "reason": "new"}')
        return Reply(content="They talked.")


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_killed_server_finishes_an_accepted_job_exactly_once(tmp_path):
    model = Model()
    data_dir = tmp_path / "data"
    with ScriptedOpenAIServer(model) as llm:
        env = server_env(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="test")
        with serve(data_dir, env=env) as first:
            key = first.create_key("acme")
            with first.client(key) as http:
                answer = http.post(
                    "/v1/memories", json={"messages": SAID, "user_id": "ana", "async_mode": True}
                )
            assert answer.status_code == 202, answer.text
            job = answer.json()
            assert job["status"] == "accepted" and job["message_ids"] == ["m1", "m2"]
            wait_for(lambda: model.extractions >= 1, what="the job to reach the model")
            first.kill()
        model.slow = False
        with serve(data_dir, env=env) as second, second.client(key) as http:

            def finished() -> bool:
                return http.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"

            wait_for(finished, what="the resumed job")
            done = http.get(f"/v1/jobs/{job['id']}").json()
            steps = [e["status"] for e in done["events"]]
            assert steps == ["accepted", "running", "running", "succeeded"]
            facts = sorted(m["memory"] for m in memories(http) if m["kind"] == "fact")
            assert facts == ["Fact from m1.", "Fact from m2."]
            assert len(http.get("/v1/messages", params={"user_id": "ana"}).json()["results"]) == 2
            extractions = model.extractions
            metrics = http.get("/metrics").text
            assert 'hybrid_memory_jobs_total{status="succeeded"} 1.0' in metrics
            assert 'hybrid_memory_adds_total{mode="background"} 1.0' in metrics
            assert 'hybrid_memory_memories_written_total{event="ADD"}' in metrics
            calls = next(
                line
                for line in metrics.splitlines()
                if line.startswith("hybrid_memory_model_calls_total")
            )
            assert float(calls.split()[-1]) >= 2  # extraction and consolidation
            before = sorted(m["id"] for m in memories(http))
        with serve(data_dir, env=env) as third, third.client(key) as http:
            assert http.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
            time.sleep(0.5)
            assert sorted(m["id"] for m in memories(http)) == before
        assert model.extractions == extractions


def memories(http) -> list[dict]:
    answer = http.get("/v1/memories", params={"user_id": "ana", "limit": 1000})
    return list(answer.json()["results"])


def test_a_job_whose_input_is_refused_is_not_kept(tmp_path):
    with serve(tmp_path / "data") as server, server.client(server.create_key("acme")) as http:
        refused = http.post("/v1/memories", json={"messages": "hi", "async_mode": True})
        assert refused.status_code == 400 and refused.json()["error"] == "ScopeError"
        accepted = http.post(
            "/v1/memories", json={"messages": "I like tea.", "user_id": "a", "async_mode": True}
        ).json()
        wait_for(
            lambda: http.get(f"/v1/jobs/{accepted['id']}").json()["status"] == "succeeded",
            what="the job",
        )
        result = http.get(f"/v1/jobs/{accepted['id']}").json()["result"]
        assert {e["id"] for e in result["results"]} <= {m["id"] for m in memories_of(http, "a")}
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "service" / "jobs.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1


def memories_of(http, user: str) -> list[dict]:
    return list(http.get("/v1/memories", params={"user_id": user}).json()["results"])
