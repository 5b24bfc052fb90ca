"""``/v1/memories``: add (now or in the background), list, get, update, delete, delete a
scope, history. Shaped like Mem0's REST API (``POST /v1/memories/``, ``GET /v1/memories/``,
``GET|PUT|DELETE /v1/memories/{id}/``, ``GET /v1/memories/{id}/history/``).

The routes are plain ``def``: FastAPI runs them on its thread pool, so a slow add never holds
the event loop and concurrent requests are served."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hybrid_memory.errors import FilterError
from hybrid_memory.models import AddResult, MemoryItem
from hybrid_memory.server.deps import CallerDep
from hybrid_memory.server.routes import BY_ID_ERRORS, ERRORS, problems
from hybrid_memory.server.routes.scope import ScopeDep
from hybrid_memory.server.schemas import (
    AddRequest,
    Deleted,
    HistoryList,
    JobInfo,
    MemoryList,
    UpdateRequest,
)

router = APIRouter(prefix="/v1/memories", tags=["memories"])


def with_ids(messages: Any) -> Any:
    """The messages as a list, each dict given an id if it has none, so that a background
    add can be repeated and the library skips what it already stored."""
    if isinstance(messages, str):
        items: list[Any] = [{"role": "user", "content": messages}]
    elif isinstance(messages, dict):
        items = [messages]
    else:
        items = list(messages)
    return [
        {**m, "id": f"msg-{uuid.uuid4().hex}"} if isinstance(m, dict) and m.get("id") is None else m
        for m in items
    ]


@router.post(
    "",
    response_model=AddResult,
    summary="Add memories",
    description="Remember messages: they are buffered, folded into the running summary, and "
    "turned into long-term memories (ADD / UPDATE / DELETE / NONE events). Messages whose id "
    "is already stored in the scope are skipped. With `async_mode: true` the answer is 202 "
    "with a job as soon as the messages are stored; the job finishes them in the background, "
    "also across a restart.",
    responses={
        202: {"model": JobInfo, "description": "Stored; processing in the background."},
        **ERRORS,
    },
)
def add_memories(body: AddRequest, caller: CallerDep, request: Request) -> Any:
    state = request.app.state
    arguments: dict[str, Any] = {
        "user_id": body.user_id,
        "agent_id": body.agent_id,
        "run_id": body.run_id,
        "metadata": body.metadata,
        "infer": body.infer,
        "expires_at": body.expires_at,
    }
    if not body.async_mode:
        result = caller.memory.add(body.messages, **arguments)
        state.metrics.observe_add(result, "sync")
        return result
    arguments["messages"] = with_ids(body.messages)
    ids = [m["id"] for m in arguments["messages"] if isinstance(m, dict)]
    job_id = state.jobs.create(caller.tenant_id, arguments, ids)
    try:
        stored = caller.memory.add(**arguments, defer=True)
    except BaseException:
        state.jobs.discard(job_id)
        raise
    info = state.jobs.get(job_id, caller.tenant_id).model_copy(
        update={"message_ids": stored.message_ids}
    )
    state.runner.submit(job_id)
    return JSONResponse(info.model_dump(mode="json"), status_code=202)


def _filters(raw: str | None) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FilterError(f"filters must be a JSON object (URL-encoded): {exc}") from None
    if not isinstance(value, dict):
        raise FilterError(f"filters must be a JSON object, got {type(value).__name__}")
    return value


@router.get(
    "",
    response_model=MemoryList,
    summary="List memories",
    description="The memories of a scope (at least one of user_id / agent_id / run_id), newest "
    "first, a page at a time. `filters` is a JSON object as for search, e.g. "
    '`{"kind": "fact"}` or `{"metadata.category": "food"}`.',
    responses=ERRORS,
)
def list_memories(
    caller: CallerDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Annotated[int, Query(ge=0, description="Memories to skip.")] = 0,
    include_superseded: Annotated[bool | None, Query(description="Former values too.")] = None,
    filters: Annotated[str | None, Query(description="A JSON-encoded filter object.")] = None,
) -> MemoryList:
    items = caller.memory.get_all(
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        filters=_filters(filters),
        include_superseded=include_superseded,
    )
    page = items[offset : offset + limit]
    end = offset + len(page)
    return MemoryList(results=page, total=len(items), next_offset=end if end < len(items) else None)


@router.get(
    "/{memory_id}",
    response_model=MemoryItem,
    summary="Get a memory",
    description="One memory by id (or a unique prefix of at least 8 characters). Scope ids in "
    "the query narrow the lookup; without them the whole tenant's memory is searched.",
    responses=BY_ID_ERRORS,
)
def get_memory(memory_id: str, caller: CallerDep, scope: ScopeDep) -> MemoryItem:
    return caller.memory.get(memory_id, **scope.by_id())


@router.put(
    "/{memory_id}",
    response_model=MemoryItem,
    summary="Update a memory",
    description="Replace a memory's text (and merge metadata); recorded in its history. "
    "Returns the updated memory.",
    responses=BY_ID_ERRORS,
)
def update_memory(
    memory_id: str, body: UpdateRequest, caller: CallerDep, scope: ScopeDep
) -> MemoryItem:
    return caller.memory.update(memory_id, body.text, metadata=body.metadata, **scope.by_id())


@router.delete(
    "/{memory_id}",
    response_model=Deleted,
    summary="Delete a memory",
    description="Delete one memory; its history keeps a DELETE row.",
    responses=BY_ID_ERRORS,
)
def delete_memory(memory_id: str, caller: CallerDep, scope: ScopeDep) -> Deleted:
    return Deleted(deleted=caller.memory.delete(memory_id, **scope.by_id()))


@router.delete(
    "",
    response_model=Deleted,
    summary="Delete a scope's memories",
    description="Delete every memory, turn and summary of the scope (at least one of user_id "
    "/ agent_id / run_id is required); other scopes are untouched.",
    responses=ERRORS,
)
def delete_scope(caller: CallerDep, scope: ScopeDep) -> Deleted:
    return Deleted(deleted=caller.memory.delete_all(**scope.ids()))


@router.get(
    "/{memory_id}/history",
    response_model=HistoryList,
    summary="A memory's history",
    description="The audit trail of one memory id, oldest first (also after it was deleted).",
    responses={**BY_ID_ERRORS, **problems(404)},
)
def memory_history(memory_id: str, caller: CallerDep, scope: ScopeDep) -> HistoryList:
    return HistoryList(results=caller.memory.history(memory_id, **scope.by_id()))
