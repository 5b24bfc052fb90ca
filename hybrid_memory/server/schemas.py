"""Request and response bodies of the REST API. The records themselves (``MemoryItem``,
``MemoryHit``, ``AddResult``, ``MemoryContext``, ``HistoryEntry``, ``Message``) are the
library's models, so a client rebuilds them with ``model_validate``.

Request fields are typed loosely where the library checks them itself (messages, metadata,
filters): its typed errors (400, saying what to change) are more useful than a schema
mismatch (422)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hybrid_memory.models import (
    AddResult,
    HistoryEntry,
    MemoryHit,
    MemoryItem,
    Message,
)

Messages = str | dict[str, Any] | list[dict[str, Any]]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Scoped(_Request):
    user_id: str | None = Field(default=None, description="User id of the scope.")
    agent_id: str | None = Field(default=None, description="Agent id of the scope.")
    run_id: str | None = Field(default=None, description="Run (conversation) id of the scope.")


class AddRequest(_Scoped):
    """Messages to remember (Mem0's ``POST /v1/memories/`` body)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"role": "user", "content": "I moved to Boston last spring."},
                        {"role": "assistant", "content": "Nice! How do you like it?"},
                    ],
                    "user_id": "alice",
                }
            ]
        },
    )

    messages: Messages = Field(
        description="A string, one OpenAI chat message, or a list of them. Optional keys: "
        "name (speaker), id (your message id: a re-add with the same id is skipped), "
        "timestamp (ISO 8601)."
    )
    metadata: dict[str, Any] | None = Field(
        default=None, description="Stored on every memory of this add (filterable)."
    )
    infer: bool = Field(
        default=True, description="False stores each message verbatim, without extraction."
    )
    expires_at: str | None = Field(
        default=None, description="ISO 8601; afterwards search and list skip these memories."
    )
    async_mode: bool = Field(
        default=False,
        description="Answer 202 with a job once the messages are stored; they are turned "
        "into memories in the background (GET /v1/jobs/{id}).",
    )


class UpdateRequest(_Request):
    """The new text of a memory (and metadata to merge)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Lives in Cambridge, MA"}]},
    )

    text: str = Field(description="The memory's new text.")
    metadata: dict[str, Any] | None = Field(default=None, description="Merged into metadata.")


class SearchRequest(_Scoped):
    """A hybrid search within one scope."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "Where does Alice live?", "user_id": "alice"}]},
    )

    query: str = Field(description="What to look for.")
    limit: int = Field(default=10, description="How many hits at most (1-1000).")
    filters: dict[str, Any] | None = Field(
        default=None,
        description='Filters on record fields or "metadata.<key>", e.g. {"kind": "fact"}.',
    )
    threshold: float | None = Field(default=None, description="Minimum score (0-1) of a hit.")
    include_superseded: bool | None = Field(
        default=None, description="Former values too (true), current only (false)."
    )


class ContextRequest(_Scoped):
    """The merged, token-budgeted context for a query."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"query": "Where does Alice live?", "user_id": "alice", "token_budget": 500}
            ]
        },
    )

    query: str = Field(description="The question the context is for.")
    token_budget: int = Field(description="Tokens the context may take, at most.")
    model: str = Field(default="gpt-4o-mini", description="Whose tokenizer counts.")
    limit: int = Field(default=50, description="Memories considered, at most.")
    filters: dict[str, Any] | None = Field(default=None, description="As for search.")
    tiers: list[str] | None = Field(
        default=None, description='Which of "memories", "summary", "recent" (default: all).'
    )
    present_ids: list[str] | None = Field(
        default=None, description="Ids of messages the caller already sends verbatim."
    )


class MemoryList(BaseModel):
    """A page of memories, newest first."""

    results: list[MemoryItem]
    total: int = Field(description="Memories matching, over all pages.")
    next_offset: int | None = Field(description="The offset of the next page; null at the end.")


class HitList(BaseModel):
    """Search hits, best first (a higher score is more relevant)."""

    results: list[MemoryHit]


class HistoryList(BaseModel):
    """The audit trail of one memory, oldest first."""

    results: list[HistoryEntry]


class MessageList(BaseModel):
    """Messages, oldest first."""

    results: list[Message]


class SummaryOut(BaseModel):
    """The running summary of a scope."""

    summary: str


class Deleted(BaseModel):
    """How many memories were deleted."""

    deleted: int


class Imported(BaseModel):
    """What an import wrote (records already present are skipped)."""

    imported: int
    memories: int
    messages: int
    summaries: int


class Health(BaseModel):
    """Liveness or readiness."""

    status: str


class JobEvent(BaseModel):
    """One step of a background add."""

    at: datetime
    status: Literal["accepted", "running", "succeeded", "failed"]
    detail: str | None = None


class JobInfo(BaseModel):
    """A background add."""

    id: str
    status: Literal["accepted", "running", "succeeded", "failed"]
    created_at: datetime
    updated_at: datetime
    message_ids: list[str]
    result: AddResult | None = None
    error: dict[str, Any] | None = Field(
        default=None, description="The problem details of a failed job."
    )
    events: list[JobEvent] = Field(default_factory=list)


class KeyRequest(_Request):
    """A new API key for a tenant."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tenant_id": "acme", "name": "ci"}]}
    )

    tenant_id: str = Field(description="1-63 characters of a-z, 0-9, '_', '-'.")
    name: str = Field(default="", description="A label for listings.")


class Revoked(BaseModel):
    """A key was revoked."""

    revoked: bool


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str
    error: str = Field(description="The hybrid_memory.errors class name.")
    request_id: str
    candidates: list[str] | None = None
    errors: list[dict[str, Any]] | None = None
