"""``POST /v1/search`` and ``POST /v1/context``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hybrid_memory.models import MemoryContext
from hybrid_memory.server.deps import CallerDep
from hybrid_memory.server.routes import ERRORS
from hybrid_memory.server.schemas import ContextRequest, HitList, SearchRequest

router = APIRouter(prefix="/v1", tags=["search"])


@router.post(
    "/search",
    response_model=HitList,
    summary="Search memories",
    description="Hybrid search within one scope: dense and BM25 retrieval fused, with entity, "
    "recency and importance boosts. Hits come best first; a higher `score` is more relevant.",
    responses=ERRORS,
)
def search(body: SearchRequest, caller: CallerDep) -> HitList:
    hits = caller.memory.search(
        body.query,
        user_id=body.user_id,
        agent_id=body.agent_id,
        run_id=body.run_id,
        limit=body.limit,
        filters=body.filters,
        threshold=body.threshold,
        include_superseded=body.include_superseded,
    )
    return HitList(results=hits)


@router.post(
    "/context",
    response_model=MemoryContext,
    summary="Build a context",
    description="The merged context for a query: framing, the most relevant memories with "
    "their dates, the running summary and the recent turns of the run, packed into "
    "`token_budget` tokens of `model`. What did not fit is listed in `dropped`.",
    responses=ERRORS,
)
def context(body: ContextRequest, caller: CallerDep) -> MemoryContext:
    optional: dict[str, Any] = {}
    if body.tiers is not None:
        optional["tiers"] = body.tiers
    if body.present_ids is not None:
        optional["present_ids"] = body.present_ids
    return caller.memory.get_context(
        body.query,
        user_id=body.user_id,
        agent_id=body.agent_id,
        run_id=body.run_id,
        token_budget=body.token_budget,
        model=body.model,
        limit=body.limit,
        filters=body.filters,
        **optional,
    )
