"""Every request of the client, described once; :class:`~hybrid_memory.client.MemoryClient`
and :class:`~hybrid_memory.client.AsyncMemoryClient` only send them.

Each method is a *plan*: a generator that yields :class:`Call` objects, is sent each parsed
result back, and returns the method's result (``get_all`` pages through several calls; the
others make one). So the sync and async clients share every path, parameter and parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic_core import to_jsonable_python

from hybrid_memory.client.models import JobInfo
from hybrid_memory.errors import UserInputError
from hybrid_memory.models import (
    AddResult,
    HistoryEntry,
    MemoryContext,
    MemoryHit,
    MemoryItem,
    Message,
    Scope,
)

T = TypeVar("T")

Retry = Literal["reads", "unsent", "never"]
"""When a call may be sent again: ``reads`` (it changes nothing: after any transport error or a
502/503/504), ``unsent`` (an idempotent write: only when the request never left), ``never``."""

PAGE = 1000
"""Memories per page when ``get_all`` reads a whole scope (the service's largest page)."""

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: Retry = "reads"


Plan = Generator[Call[Any], Any, T]


def one(call: Call[T]) -> Plan[T]:
    """The plan of a method that makes a single call."""
    result: T = yield call
    return result


def ids(user_id: str | None, agent_id: str | None, run_id: str | None) -> dict[str, str]:
    """The scope ids that are given, as request fields."""
    given = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    return {k: v for k, v in given.items() if v is not None}


def by_id_scope(
    user_id: str | None, agent_id: str | None, run_id: str | None, all_scopes: bool
) -> dict[str, str]:
    """The query of a by-id call. The service looks an id up in the whole tenant when no scope
    is given, so the library's rule is applied here: a scope id is required unless
    ``all_scopes=True`` (raises the library's :class:`~hybrid_memory.errors.ScopeError`)."""
    if all_scopes:
        return {}
    Scope.of(user_id, agent_id, run_id)
    return ids(user_id, agent_id, run_id)


def no_actor(actor: str | None) -> None:
    """The service records changes under its own actor; an explicit one is refused rather
    than silently dropped."""
    if actor is not None:
        raise UserInputError(
            "actor is not sent to the memory service (it records its own); leave actor=None"
        )


def jsonable(value: Any) -> Any:
    """``value`` with datetimes, enums and models turned into JSON types."""
    return to_jsonable_python(value)


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that are not None."""
    return {k: jsonable(v) for k, v in fields.items() if v is not None}


def memory_path(memory_id: str, suffix: str = "") -> str:
    if not isinstance(memory_id, str) or not memory_id:
        raise UserInputError(
            "memory_id must be a non-empty string (an id or 8+ of its first characters)"
        )
    return f"/v1/memories/{quote(memory_id, safe='')}{suffix}"


def filters_param(filters: dict[str, Any] | None) -> dict[str, str]:
    return {} if filters is None else {"filters": json.dumps(jsonable(filters))}


# -- parsers ------------------------------------------------------------------------------------


def add_result(response: httpx.Response) -> AddResult | JobInfo:
    if response.status_code == 202:
        return JobInfo.model_validate(response.json())
    return AddResult.model_validate(response.json())


def items(response: httpx.Response) -> list[MemoryItem]:
    return [MemoryItem.model_validate(r) for r in response.json()["results"]]


def page(response: httpx.Response) -> tuple[list[MemoryItem], int | None]:
    data = response.json()
    return [MemoryItem.model_validate(r) for r in data["results"]], data.get("next_offset")


def hits(response: httpx.Response) -> list[MemoryHit]:
    return [MemoryHit.model_validate(r) for r in response.json()["results"]]


def item(response: httpx.Response) -> MemoryItem:
    return MemoryItem.model_validate(response.json())


def deleted(response: httpx.Response) -> int:
    return int(response.json()["deleted"])


def history_entries(response: httpx.Response) -> list[HistoryEntry]:
    return [HistoryEntry.model_validate(r) for r in response.json()["results"]]


def messages(response: httpx.Response) -> list[Message]:
    return [Message.model_validate(r) for r in response.json()["results"]]


def import_counts(response: httpx.Response) -> dict[str, int]:
    """The library's counts per record type (the service adds their total, ``imported``)."""
    return {k: int(v) for k, v in response.json().items() if k != "imported"}


def ndjson_records(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


# -- plans --------------------------------------------------------------------------------------


def add(
    messages: Any, *, async_mode: bool, actor: str | None, **fields: Any
) -> Plan[AddResult | JobInfo]:
    no_actor(actor)
    payload = body(messages=messages, async_mode=async_mode, **fields)
    return one(Call("POST", "/v1/memories", add_result, json=payload, retry="never"))


def search(query: str, **fields: Any) -> Plan[list[MemoryHit]]:
    return one(Call("POST", "/v1/search", hits, json=body(query=query, **fields)))


def context(query: str, **fields: Any) -> Plan[MemoryContext]:
    fields["tiers"] = list(fields["tiers"])
    fields["present_ids"] = list(fields["present_ids"])
    return one(
        Call(
            "POST",
            "/v1/context",
            lambda r: MemoryContext.model_validate(r.json()),
            json=body(query=query, **fields),
        )
    )


def get(memory_id: str, scope: dict[str, str]) -> Plan[MemoryItem]:
    return one(Call("GET", memory_path(memory_id), item, params=scope))


def get_all(
    scope: dict[str, str],
    filters: dict[str, Any] | None,
    limit: int | None,
    include_superseded: bool | None,
) -> Plan[list[MemoryItem]]:
    """Pages of at most :data:`PAGE` memories until ``limit`` or the end of the scope."""
    query: dict[str, Any] = {**scope, **filters_param(filters)}
    if include_superseded is not None:
        query["include_superseded"] = include_superseded
    found: list[MemoryItem] = []
    offset: int | None = 0
    while offset is not None and (limit is None or len(found) < limit):
        size = PAGE if limit is None else min(PAGE, limit - len(found))
        params = {**query, "limit": size, "offset": offset}
        batch, offset = yield Call("GET", "/v1/memories", page, params=params)
        found.extend(batch)
        if not batch:
            break
    return found


def update(
    memory_id: str,
    text: str,
    metadata: dict[str, Any] | None,
    scope: dict[str, str],
    actor: str | None,
) -> Plan[MemoryItem]:
    no_actor(actor)
    payload = body(text=text, metadata=metadata)
    return one(
        Call("PUT", memory_path(memory_id), item, params=scope, json=payload, retry="unsent")
    )


def delete(memory_id: str, scope: dict[str, str], actor: str | None) -> Plan[int]:
    no_actor(actor)
    return one(Call("DELETE", memory_path(memory_id), deleted, params=scope, retry="unsent"))


def delete_all(scope: dict[str, str], actor: str | None) -> Plan[int]:
    no_actor(actor)
    return one(Call("DELETE", "/v1/memories", deleted, params=scope, retry="unsent"))


def history(memory_id: str, scope: dict[str, str]) -> Plan[list[HistoryEntry]]:
    return one(Call("GET", memory_path(memory_id, "/history"), history_entries, params=scope))


def export(scope: dict[str, str]) -> Plan[list[dict[str, Any]]]:
    return one(Call("GET", "/v1/export", ndjson_records, params=scope))


def import_records(records: Sequence[dict[str, Any]]) -> Plan[dict[str, int]]:
    lines = "".join(json.dumps(jsonable(r), ensure_ascii=False) + "\n" for r in records)
    return one(
        Call(
            "POST",
            "/v1/import",
            import_counts,
            content=lines.encode("utf-8"),
            headers={"Content-Type": NDJSON},
            retry="never",
        )
    )


def summary(scope: dict[str, str]) -> Plan[str]:
    return one(Call("GET", "/v1/summary", lambda r: str(r.json()["summary"]), params=scope))


def buffer(scope: dict[str, str]) -> Plan[list[Message]]:
    return one(Call("GET", "/v1/buffer", messages, params=scope))


def all_messages(scope: dict[str, str]) -> Plan[list[Message]]:
    return one(Call("GET", "/v1/messages", messages, params=scope))


def job(job_id: str) -> Plan[JobInfo]:
    path = f"/v1/jobs/{quote(job_id, safe='')}"
    return one(Call("GET", path, lambda r: JobInfo.model_validate(r.json())))
