"""What the short-term tiers hold: ``GET /v1/buffer``, ``/v1/summary``, ``/v1/messages``."""

from __future__ import annotations

from fastapi import APIRouter

from hybrid_memory.server.deps import CallerDep
from hybrid_memory.server.routes import ERRORS
from hybrid_memory.server.routes.scope import ScopeDep
from hybrid_memory.server.schemas import MessageList, SummaryOut

router = APIRouter(prefix="/v1", tags=["tiers"])


@router.get(
    "/buffer",
    response_model=MessageList,
    summary="Recent turns",
    description="The recent turns of exactly this scope, oldest first.",
    responses=ERRORS,
)
def buffer(caller: CallerDep, scope: ScopeDep) -> MessageList:
    return MessageList(results=caller.memory.get_buffer(**scope.ids()))


@router.get(
    "/summary",
    response_model=SummaryOut,
    summary="Running summary",
    description='The running summary of exactly this scope ("" while nothing left the buffer).',
    responses=ERRORS,
)
def summary(caller: CallerDep, scope: ScopeDep) -> SummaryOut:
    return SummaryOut(summary=caller.memory.get_summary(**scope.ids()))


@router.get(
    "/messages",
    response_model=MessageList,
    summary="Stored messages",
    description="Every stored message of the scope (all runs when no run_id), in order.",
    responses=ERRORS,
)
def messages(caller: CallerDep, scope: ScopeDep) -> MessageList:
    return MessageList(results=caller.memory.get_messages(**scope.ids()))
