"""The REST service end to end, through raw HTTP against a real ``hybrid-memory serve``
process: routes, status codes and problem bodies for each error class, the body limit (413
before parsing), keys (401/403), request ids and the JSON access log."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from hybrid_memory.memory import HybridMemory
from hybrid_memory.testing import HashingEmbedder
from tests.service_process import ADMIN_KEY, ROOT, free_port, serve, server_env

LIMIT = 200_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("service") / "data"
    with serve(data_dir, "--max-body-bytes", str(LIMIT)) as running:
        yield running


@pytest.fixture(scope="module")
def key(server):
    return server.create_key("acme")


@pytest.fixture
def http(server, key):
    with server.client(key) as client:
        yield client


def is_problem(answer: httpx.Response, status: int, error: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == status and body["error"] == error, body
    assert body["type"].endswith(
        "/" + "".join("_" + c.lower() if c.isupper() else c for c in error).lstrip("_")
    )
    assert body["detail"] and body["title"]
    assert body["request_id"] == answer.headers["x-request-id"]
    return body


def test_a_memory_goes_through_every_route(http):
    said = [
        {"role": "user", "content": "I moved to Boston last spring.", "id": "m1"},
        {"role": "assistant", "content": "How do you like Boston?", "id": "m2"},
    ]
    added = http.post("/v1/memories", json={"messages": said, "user_id": "ana"})
    assert added.status_code == 200, added.text
    assert added.json()["message_ids"] == ["m1", "m2"]
    again = http.post("/v1/memories", json={"messages": said, "user_id": "ana"})
    assert again.json()["results"] == []  # the same message ids: skipped
    listed = http.get("/v1/memories", params={"user_id": "ana", "limit": 2}).json()
    assert listed["total"] >= 3 and len(listed["results"]) == 2 and listed["next_offset"] == 2
    rest = http.get("/v1/memories", params={"user_id": "ana", "offset": 2}).json()
    ids = [m["id"] for m in listed["results"] + rest["results"]]
    assert len(set(ids)) == listed["total"] and rest["next_offset"] is None
    hits = http.post("/v1/search", json={"query": "Where does Ana live?", "user_id": "ana"})
    fact = next(h for h in hits.json()["results"] if "Boston" in h["memory"])
    assert http.get(f"/v1/memories/{fact['id']}").json()["memory"] == fact["memory"]
    assert (
        http.get(f"/v1/memories/{fact['id'][:8]}", params={"user_id": "ana"}).json()["id"]
        == fact["id"]
    )
    updated = http.put(f"/v1/memories/{fact['id']}", json={"text": "Ana lives in Cambridge."})
    assert updated.json()["memory"] == "Ana lives in Cambridge."
    events = [h["event"] for h in http.get(f"/v1/memories/{fact['id']}/history").json()["results"]]
    assert events == ["ADD", "UPDATE"]
    context = http.post(
        "/v1/context", json={"query": "Where?", "user_id": "ana", "token_budget": 300}
    ).json()
    assert context["tokens"] <= 300 and "Cambridge" in context["text"]
    assert [
        m["id"] for m in http.get("/v1/messages", params={"user_id": "ana"}).json()["results"]
    ] == ["m1", "m2"]
    assert len(http.get("/v1/buffer", params={"user_id": "ana"}).json()["results"]) == 2
    assert http.get("/v1/summary", params={"user_id": "ana"}).json() == {"summary": ""}
    exported = http.get("/v1/export", params={"user_id": "ana"})
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = exported.text.splitlines()
    assert {json.loads(line)["type"] for line in lines} >= {"memory", "message"}
    assert http.delete(f"/v1/memories/{fact['id']}").json() == {"deleted": 1}
    is_problem(http.get(f"/v1/memories/{fact['id']}"), 404, "MemoryNotFoundError")
    gone = http.delete("/v1/memories", params={"user_id": "ana"}).json()["deleted"]
    assert gone == listed["total"] - 1
    assert http.get("/v1/memories", params={"user_id": "ana"}).json()["total"] == 0
    imported = http.post(
        "/v1/import", content=exported.content, headers={"content-type": "application/x-ndjson"}
    ).json()
    assert imported["imported"] == len(lines) and imported["memories"] == listed["total"]
    assert http.get("/v1/memories", params={"user_id": "ana"}).json()["total"] == listed["total"]


def test_each_error_class_has_its_status_and_a_problem_body(http, server):
    is_problem(http.post("/v1/memories", json={"messages": "hi"}), 400, "ScopeError")
    is_problem(
        http.get("/v1/memories", params={"user_id": "a", "filters": "{oops"}), 400, "FilterError"
    )
    is_problem(
        http.post("/v1/memories", json={"messages": [{"role": "robot"}], "user_id": "a"}),
        400,
        "MessageFormatError",
    )
    is_problem(
        http.post("/v1/memories", json={"messages": "x" * 60_000, "user_id": "a"}),
        413,
        "InputTooLargeError",
    )
    is_problem(http.get("/v1/memories/" + "0" * 32), 404, "MemoryNotFoundError")
    is_problem(http.get("/v1/jobs/nope"), 404, "NotFoundError")
    is_problem(http.get("/v1/nothing-here"), 404, "NotFoundError")
    is_problem(http.patch("/v1/search"), 405, "MethodNotAllowed")
    body = is_problem(http.post("/v1/search", json={"user_id": "a"}), 422, "ValidationError")
    assert body["errors"][0]["loc"] == ["body", "query"]
    is_problem(
        http.post("/v1/search", json={"query": "q", "user_id": "a", "tenant_id": "other"}),
        422,
        "ValidationError",
    )
    is_problem(
        http.post("/v1/context", json={"query": "q", "user_id": "a", "token_budget": -1}),
        400,
        "TokenBudgetError",
    )


def test_an_ambiguous_prefix_lists_the_candidates(http):
    http.post("/v1/memories", json={"messages": "I like tea.", "user_id": "amb", "infer": False})
    record = json.loads(http.get("/v1/export", params={"user_id": "amb"}).text.splitlines()[0])
    copies = [{**record, "id": "abcdef12" + tail, "hash": tail} for tail in ("aa", "bb")]
    body = "".join(json.dumps(c) + "\n" for c in copies)
    assert http.post("/v1/import", content=body).json()["memories"] == 2
    problem = is_problem(http.get("/v1/memories/abcdef12"), 400, "AmbiguousIdError")
    assert sorted(problem["candidates"]) == ["abcdef12aa", "abcdef12bb"]


def test_a_store_another_process_holds_is_a_conflict(server):
    tenant = "locked"
    key = server.create_key(tenant)
    holder = HybridMemory(data_dir=server.data_dir / "tenants" / tenant, embedder=HashingEmbedder())
    try:
        with server.client(key) as http:
            is_problem(http.get("/v1/memories", params={"user_id": "a"}), 409, "StoreLockedError")
    finally:
        holder.close()
    with server.client(key) as http:
        assert http.get("/v1/memories", params={"user_id": "a"}).status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(http):
    not_json = b"{" * (LIMIT + 1)
    is_problem(http.post("/v1/search", content=not_json), 413, "PayloadTooLargeError")

    def streamed():  # no Content-Length: the server counts what arrives
        for _ in range(LIMIT // 1000 + 2):
            yield b"{" * 1000

    is_problem(http.post("/v1/import", content=streamed()), 413, "PayloadTooLargeError")
    is_problem(http.post("/v1/search", content=b"{" * 10), 422, "ValidationError")


def test_keys_decide_who_may_call(server, key):
    with server.client() as anonymous:
        answer = anonymous.get("/v1/memories", params={"user_id": "a"})
        is_problem(answer, 401, "AuthenticationError")
        assert answer.headers["www-authenticate"] == "Bearer"
        assert anonymous.get("/v1/health").json() == {"status": "ok"}
        assert anonymous.get("/v1/ready").json() == {"status": "ready"}
        assert "hybrid_memory_http_request_duration_seconds" in anonymous.get("/metrics").text
    for headers in ({"Authorization": f"Token {key}"}, {"X-API-Key": key}):
        with server.client(headers=headers) as other_form:
            assert other_form.get("/v1/memories", params={"user_id": "a"}).status_code == 200
    with server.client("hm_not-a-key") as wrong:
        is_problem(wrong.get("/v1/memories", params={"user_id": "a"}), 401, "AuthenticationError")
    with server.client(key) as tenant:
        is_problem(tenant.get("/v1/admin/keys"), 403, "ForbiddenError")
    with server.client(ADMIN_KEY) as admin:
        is_problem(admin.get("/v1/memories", params={"user_id": "a"}), 403, "ForbiddenError")
        created = admin.post("/v1/admin/keys", json={"tenant_id": "temp"}).json()
        listed = admin.get("/v1/admin/keys", params={"tenant_id": "temp"}).json()["results"]
        assert [k["id"] for k in listed] == [created["id"]]
        assert created["key"] not in json.dumps(listed)
        is_problem(admin.post("/v1/admin/keys", json={"tenant_id": "Bad!"}), 400, "UserInputError")
        with server.client(created["key"]) as temp:
            assert temp.get("/v1/memories", params={"user_id": "a"}).status_code == 200
            assert admin.delete(f"/v1/admin/keys/{created['id']}").json() == {"revoked": True}
            is_problem(
                temp.get("/v1/memories", params={"user_id": "a"}), 401, "AuthenticationError"
            )
        is_problem(admin.delete("/v1/admin/keys/nope"), 404, "NotFoundError")
    stored = (server.data_dir / "service" / "keys.sqlite3").read_bytes()
    assert key.encode() not in stored


def test_every_response_has_a_request_id_and_one_access_log_line(server, key):
    with server.client(key) as http:
        mine = http.get(
            "/v1/memories", params={"user_id": "a"}, headers={"X-Request-ID": "trace-42"}
        )
        assert mine.headers["x-request-id"] == "trace-42"
        odd = http.get("/v1/health", headers={"X-Request-ID": "not sane; <b>" + "x" * 300})
        assert odd.headers["x-request-id"] != "not sane" and len(odd.headers["x-request-id"]) == 32
        failed = http.get("/v1/memories/" + "f" * 32)
        assert failed.headers["x-request-id"] == failed.json()["request_id"]
    # A request's log line is written as its response completes, which the client may see
    # first: wait (bounded) until the last request's line is there.
    wanted = failed.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while wanted not in "".join(server.access_log()) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [json.loads(line) for line in server.access_log()]
    mine_logged = [entry for entry in lines if entry["request_id"] == "trace-42"]
    assert len(mine_logged) == 1
    entry = mine_logged[0]
    assert entry["route"] == "/v1/memories" and entry["status"] == 200 and entry["tenant"] == "acme"
    assert entry["method"] == "GET" and entry["duration_ms"] > 0
    by_id = next(e for e in lines if e["request_id"] == failed.headers["x-request-id"])
    assert by_id["route"] == "/v1/memories/{memory_id}" and by_id["status"] == 404
    metrics = httpx.get(server.url + "/metrics").text
    assert 'route="/v1/memories/{memory_id}",status="404"' in metrics


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hybrid_memory.cli", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=ROOT,
        timeout=120,
    )


def test_no_auth_only_on_loopback_and_one_worker_only(tmp_path):
    refused = cli("--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--no-auth")
    assert refused.returncode == 2 and "loopback" in refused.stderr
    several = cli("--data-dir", str(tmp_path), "serve", "--workers", "2")
    assert several.returncode == 2 and "server backends" in several.stderr
    with serve(tmp_path / "open", "--no-auth") as server, server.client() as http:
        added = http.post("/v1/memories", json={"messages": "I like tea.", "user_id": "a"})
        assert added.status_code == 200
    assert (tmp_path / "open" / "tenants" / "default").is_dir()


def test_keys_commands_work_on_the_data_dir(tmp_path):
    created = cli("--data-dir", str(tmp_path), "keys", "create", "--tenant", "acme")
    assert created.returncode == 0 and created.stdout.startswith("hm_")
    listed = json.loads(cli("--data-dir", str(tmp_path), "keys", "list", "--json").stdout)
    assert [k["tenant_id"] for k in listed] == ["acme"] and "key" not in listed[0]
    revoked = cli("--data-dir", str(tmp_path), "keys", "revoke", listed[0]["id"], "--json")
    assert json.loads(revoked.stdout) == {"revoked": True, "id": listed[0]["id"]}
    again = json.loads(cli("--data-dir", str(tmp_path), "keys", "list", "--json").stdout)
    assert again[0]["revoked_at"] is not None
    bad = cli("--data-dir", str(tmp_path), "keys", "create", "--tenant", "No Spaces")
    assert bad.returncode == 2 and "tenant_id" in bad.stderr


def test_a_second_server_on_the_same_data_dir_is_refused(server):
    second = cli("--data-dir", str(server.data_dir), "serve", "--port", str(free_port()))
    assert second.returncode == 2 and "in use" in second.stderr
    assert httpx.get(server.url + "/v1/health").status_code == 200
