"""The MCP tools of a real ``hybrid-memory serve`` process, driven by the MCP SDK's own client:
over streamable HTTP at /mcp with an API key (each call on the key's tenant memory, no key
refused), and over stdio through ``hybrid-memory --server URL mcp``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.service_process import Server, serve
from tests.test_mcp_stdio import TOOLS, call, round_trip, stdio


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("mcp") / "data") as running:
        yield running


def over_http(server: Server, key: str | None) -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    http = httpx2.AsyncClient(headers=headers, timeout=60)
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http))


def test_every_tool_round_trips_over_streamable_http(server):
    async def scenario() -> None:
        async with over_http(server, server.create_key("acme")) as client:
            await round_trip(client)

    asyncio.run(scenario())


def test_each_call_sees_only_the_memory_of_its_keys_tenant(server):
    async def scenario() -> dict[str, Any]:
        async with over_http(server, server.create_key("first")) as first:
            await call(first, "add_memory", messages="My PIN is 2468.", user_id="ana", infer=False)
            found = await call(first, "search_memories", query="PIN", user_id="ana")
            context = await call(first, "get_context", query="What is my PIN?", user_id="ana")
        async with over_http(server, server.create_key("second")) as second:
            other = await call(second, "search_memories", query="PIN", user_id="ana")
            listed = await call(second, "list_memories", user_id="ana")
            by_id = await second.call_tool("get_memory", {"memory_id": found["results"][0]["id"]})
        return {
            "found": found,
            "context": context,
            "other": other,
            "listed": listed,
            "by_id": by_id,
        }

    seen = asyncio.run(scenario())
    assert seen["found"]["results"][0]["memory"] == "My PIN is 2468."
    assert "2468" in seen["context"]["text"]
    assert seen["other"] == {"results": []} and seen["listed"]["count"] == 0
    assert seen["by_id"].is_error and "MemoryNotFoundError" in seen["by_id"].content[0].text
    # the REST API of the first tenant agrees: the memory is in its tenant only
    with server.client(server.create_key("first")) as rest:
        assert [m["memory"] for m in rest.get("/v1/memories?user_id=ana").json()["results"]] == [
            "My PIN is 2468."
        ]


def test_a_request_without_a_valid_key_is_refused(server):
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer hm_unknown"}):
        answer = httpx.post(f"{server.url}/mcp", json=initialize, headers={**accept, **headers})
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")

    async def connect() -> None:
        async with over_http(server, None) as client:
            await client.list_tools()

    # the SDK's client gets no session: the 401 ends its connection with a protocol error
    with pytest.raises(ExceptionGroup) as caught:
        asyncio.run(connect())
    assert caught.group_contains(MCPError, depth=2)


def test_the_stdio_server_can_serve_the_service_through_the_client(server):
    key = server.create_key("viaclient")
    with server.client(key) as rest:
        added = rest.post(
            "/v1/memories", json={"messages": "I keep bees.", "user_id": "ana", "infer": False}
        )
        assert added.status_code == 200, added.text

    async def scenario() -> dict[str, Any]:
        params = stdio("--server", server.url, "--api-key", key, "mcp", "--user", "ana")
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            found = await call(client, "search_memories", query="bees")
        return {"names": names, "found": found}

    seen = asyncio.run(scenario())
    assert seen["names"] == TOOLS
    assert [h["memory"] for h in seen["found"]["results"]] == ["I keep bees."]


def test_without_auth_every_call_is_the_default_tenant(tmp_path):
    with serve(tmp_path / "open", "--no-auth") as open_server:

        async def scenario() -> dict[str, Any]:
            async with over_http(open_server, None) as client:
                await call(
                    client, "add_memory", messages="I keep bees.", user_id="ana", infer=False
                )
                return await call(client, "list_memories", user_id="ana")

        listed = asyncio.run(scenario())
        with open_server.client() as rest:  # the REST API's default tenant holds it
            stored = rest.get("/v1/memories", params={"user_id": "ana"}).json()["results"]
    assert [m["memory"] for m in listed["results"]] == ["I keep bees."]
    assert [m["memory"] for m in stored] == ["I keep bees."]
