"""``hybrid-memory mcp`` on stdio, driven by the official MCP SDK's own client: the tools are
listed with their schemas, an add is found by search and by the context, every other tool
round-trips, and a bad filter comes back as a tool error the model can act on."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {
    "add_memory",
    "search_memories",
    "get_context",
    "list_memories",
    "get_memory",
    "update_memory",
    "delete_memory",
    "delete_all_memories",
    "memory_history",
}


def command() -> str:
    found = shutil.which("hybrid-memory", path=str(Path(sys.executable).parent))
    assert found, "the hybrid-memory command is installed with the package"
    return found


def stdio(*args: str) -> StdioServerParameters:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HYBRID_MEMORY_EMBEDDING_MODEL": "hashing",
    }
    return StdioServerParameters(command=command(), args=list(args), env=env)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def round_trip(client: Client) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == TOOLS
    schema = listed["search_memories"].input_schema
    assert "metadata.<key>" in schema["properties"]["filters"]["description"]
    assert schema["required"] == ["query"]
    assert listed["delete_all_memories"].annotations.destructive_hint is True
    assert listed["search_memories"].annotations.read_only_hint is True
    assert listed["get_context"].description.startswith("Everything worth knowing")
    assert "\n    " not in listed["get_context"].description  # no docstring indentation

    added = await call(
        client,
        "add_memory",
        messages=[{"role": "user", "name": "Ana", "content": "I live in Porto."}],
        user_id="ana",
        metadata={"topic": "home"},
    )
    assert any(e["event"] == "ADD" and "Porto" in e["memory"] for e in added["results"])
    hits = (await call(client, "search_memories", query="Where does Ana live?", user_id="ana"))[
        "results"
    ]
    assert "Porto" in hits[0]["memory"] and hits[0]["score"] > 0
    context = await call(client, "get_context", query="Where does Ana live?", user_id="ana")
    assert "Porto" in context["text"] and context["tokens"] <= context["token_budget"]

    listed_items = await call(
        client, "list_memories", user_id="ana", filters={"metadata.topic": "home"}
    )
    fact = next(m for m in listed_items["results"] if m["kind"] == "fact")
    assert listed_items["count"] == len(listed_items["results"])
    got = await call(client, "get_memory", memory_id=fact["id"][:12], user_id="ana")
    assert got["id"] == fact["id"]
    updated = await call(client, "update_memory", memory_id=fact["id"], text="Ana lives in Braga.")
    assert updated["memory"] == "Ana lives in Braga."
    events = [
        r["event"] for r in (await call(client, "memory_history", memory_id=fact["id"]))["results"]
    ]
    assert events == ["ADD", "UPDATE"]
    assert (await call(client, "delete_memory", memory_id=fact["id"], user_id="ana")) == {
        "deleted": 1
    }
    # another user's scope sees nothing of ana's
    assert (await call(client, "list_memories", user_id="bob"))["results"] == []

    bad = await client.call_tool("list_memories", {"user_id": "ana", "filters": {"colour": "red"}})
    assert bad.is_error and "FilterError" in bad.content[0].text
    assert "metadata.colour" in bad.content[0].text
    no_scope = await client.call_tool("search_memories", {"query": "Porto"})
    assert no_scope.is_error and "ScopeError" in no_scope.content[0].text

    left = (await call(client, "delete_all_memories", user_id="ana"))["deleted"]
    assert left >= 1
    assert (await call(client, "list_memories", user_id="ana"))["count"] == 0


def test_the_stdio_server_on_the_embedded_memory(tmp_path):
    async def scenario() -> None:
        async with Client(stdio("mcp", "--data-dir", str(tmp_path / "m"))) as client:
            await round_trip(client)

    asyncio.run(scenario())


def test_a_default_user_fills_calls_that_name_no_scope(tmp_path):
    async def scenario() -> None:
        params = stdio("--data-dir", str(tmp_path / "m"), "mcp", "--user", "ana")
        async with Client(params) as client:
            assert "user_id='ana'" in (client.instructions or "")
            await call(client, "add_memory", messages="I live in Porto.", infer=False)
            hits = (await call(client, "search_memories", query="Porto"))["results"]
            assert [h["user_id"] for h in hits] == ["ana"]
            # an explicit scope still wins over the default
            assert (await call(client, "list_memories", user_id="bob"))["count"] == 0

    asyncio.run(scenario())
