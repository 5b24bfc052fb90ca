"""What only the service has: background jobs (``add(..., async_mode=True)``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hybrid_memory.models import AddResult


class JobStatus(StrEnum):
    """Where a background add stands."""

    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more (succeeded or failed)."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class JobInfo(BaseModel):
    """A background add: its messages are stored when the job is accepted; ``result`` is the
    :class:`~hybrid_memory.models.AddResult` once it succeeded, ``error`` the problem-details
    body once it failed."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    message_ids: list[str] = Field(default_factory=list)
    result: AddResult | None = None
    error: dict[str, Any] | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    """What happened to the job, oldest first (as the service records it)."""
