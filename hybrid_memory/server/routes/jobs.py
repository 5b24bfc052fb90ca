"""``GET /v1/jobs/{id}``: a background add."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hybrid_memory.server.deps import CallerDep
from hybrid_memory.server.routes import BY_ID_ERRORS
from hybrid_memory.server.schemas import JobInfo

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get(
    "/{job_id}",
    response_model=JobInfo,
    summary="A background add",
    description="Status (accepted, running, succeeded, failed), the steps so far, and the "
    "add's result or error. A job of another tenant does not exist for the caller (404).",
    responses=BY_ID_ERRORS,
)
def get_job(job_id: str, caller: CallerDep, request: Request) -> JobInfo:
    info: JobInfo = request.app.state.jobs.get(job_id, caller.tenant_id)
    return info
