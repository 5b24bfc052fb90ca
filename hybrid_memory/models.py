"""The shared vocabulary: scopes, messages, memories, hits, events and contexts.

Every store, extractor and the orchestrator speak these types; they are defined once here.

Score convention (used everywhere): a higher ``score`` means more relevant. Stores convert their
distances to similarities before anything leaves them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Re-exported: the times were defined here first, and callers import them from here.
from hybrid_memory.times import SAID_AT_RANGE as SAID_AT_RANGE
from hybrid_memory.times import as_utc as as_utc
from hybrid_memory.times import parse_datetime as parse_datetime
from hybrid_memory.times import utcnow as utcnow

MAX_ID_LENGTH = 256
_ID_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """Case- and whitespace-insensitive form of a text, used for content hashes and dedup."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def content_hash(text: str) -> str:
    """MD5 of the normalized text: equal for texts that differ only in case/punctuation/space."""
    return hashlib.md5(normalize_text(text).encode("utf-8")).hexdigest()


class MemoryKind(StrEnum):
    """What a long-term memory is."""

    FACT = "fact"
    """A self-contained statement extracted from what was said ("Caroline lives in Boston")."""
    ENTITY = "entity"
    """A person, place, organisation, pet... named in the conversation."""
    OBSERVATION = "observation"
    """An utterance kept verbatim with its speaker and date, so nothing said is lost."""


class MemoryStatus(StrEnum):
    """Lifecycle of a memory record."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"
    """A former value, kept with its validity interval; search ranks it below current facts."""


class EventType(StrEnum):
    """What an add/update/delete did to a memory (the Mem0 vocabulary)."""

    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    NONE = "NONE"


class Scope(BaseModel):
    """Who a memory belongs to: a user, an agent, a run (conversation), or a combination.

    At least one id is required. Search and retrieval only ever see memories whose ids equal every
    id given; ids that are not given are not constrained.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @field_validator("user_id", "agent_id", "run_id", mode="before")
    @classmethod
    def _check_id(cls, value: Any, info: Any) -> str | None:
        from hybrid_memory.errors import ScopeError

        if value is None:
            return None
        if not isinstance(value, str):
            raise ScopeError(
                f"{info.field_name} must be a string, got {type(value).__name__}; "
                f"pass e.g. {info.field_name}='alice'"
            )
        if not value.strip():
            raise ScopeError(f"{info.field_name} must not be empty or blank; pass a real id")
        if len(value) > MAX_ID_LENGTH:
            raise ScopeError(
                f"{info.field_name} is {len(value)} characters; ids are at most {MAX_ID_LENGTH}"
            )
        if _ID_FORBIDDEN.search(value):
            raise ScopeError(f"{info.field_name} contains control characters; remove them")
        from hybrid_memory.values import check_text

        return check_text(value, info.field_name, error=ScopeError)

    @classmethod
    def of(
        cls,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        *,
        require: bool = True,
    ) -> Scope:
        """Build and validate a scope; with ``require`` at least one id must be given."""
        from hybrid_memory.errors import ScopeError

        try:
            scope = cls(user_id=user_id, agent_id=agent_id, run_id=run_id)
        except ScopeError:
            raise
        except Exception as exc:  # pydantic wraps validator errors
            cause = exc.__cause__ if isinstance(exc.__cause__, ScopeError) else None
            errors = getattr(exc, "errors", None)
            if cause is None and errors:
                ctx = errors()[0].get("ctx", {})
                cause = ctx.get("error") if isinstance(ctx.get("error"), ScopeError) else None
            if cause is not None:
                raise cause from None
            raise ScopeError(str(exc)) from None
        if require and scope.is_empty:
            raise ScopeError(
                "at least one of user_id, agent_id or run_id is required; "
                "pass e.g. user_id='alice' so memories are not shared by everyone"
            )
        return scope

    @property
    def is_empty(self) -> bool:
        return self.user_id is None and self.agent_id is None and self.run_id is None

    @property
    def owner(self) -> Scope:
        """The long-term scope: the user/agent without the run, so facts learnt in one
        conversation are consolidated with, and found from, every other conversation of the
        same user. A run-only scope is its own owner."""
        if self.user_id is None and self.agent_id is None:
            return self
        return Scope(user_id=self.user_id, agent_id=self.agent_id)

    def owns(self, item: MemoryItem) -> bool:
        """Whether ``item`` belongs to this owner scope (see :attr:`owner`) exactly: a user's
        owner scope holds the user's memories of every run, but not those another agent keeps
        about the user, and a run-only scope holds only memories stored with no user or agent."""
        if self.user_id is None and self.agent_id is None:
            return item.user_id is None and item.agent_id is None and item.run_id == self.run_id
        return item.user_id == self.user_id and item.agent_id == self.agent_id

    def as_filter(self) -> dict[str, str]:
        """The given ids as a plain mapping (only the ids that are set)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @property
    def key(self) -> str:
        """A stable string for the exact scope (used to key buffers and summaries)."""
        return "\x1f".join(
            f"{name}={value}" for name, value in self.model_dump().items() if value is not None
        )


Role = Literal["system", "user", "assistant", "tool", "developer"]


class Message(BaseModel):
    """One chat message, normalized from the OpenAI chat format."""

    model_config = ConfigDict(extra="ignore")

    role: Role
    content: str = ""
    name: str | None = None
    """Speaker name (OpenAI ``name``); used to rewrite first-person statements."""
    id: str | None = None
    """The caller's id for the message; memories list it in ``sources``."""
    timestamp: datetime | None = None
    """When the message was said; relative dates are resolved against it."""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    @property
    def speaker(self) -> str:
        """The speaker's name, or the role when no name was given."""
        return self.name or self.role


Aspect = Literal["state", "event", "plan"]
"""``state``: true now, until a newer statement says otherwise; ``event``: it happened (stays
true as history); ``plan``: an intention, which a later statement can fulfil or call off."""


class Ending(BaseModel):
    """What a statement ends: the current facts of ``subject`` (the speaker when None) of the
    ``attribute`` family and/or mentioning ``about`` or one of the ``cues``."""

    attribute: str | None = None
    about: str | None = None
    cues: list[str] = Field(default_factory=list)
    subject: str | None = None


class ExtractedFact(BaseModel):
    """A candidate memory produced by an extractor, before consolidation."""

    text: str
    kind: MemoryKind = MemoryKind.FACT
    subject: str | None = None
    """Who or what the statement is about (a speaker name, an entity)."""
    attribute: str | None = None
    """A normalized attribute key such as ``home``, ``job``, ``employer``; facts with the same
    subject and a single-valued attribute supersede each other."""
    value: str | None = None
    single_valued: bool = False
    """True when a subject has one current value of ``attribute`` (home, job...)."""
    retraction: bool = False
    """An instruction about the memory ("forget that", "I was wrong"): it ends what ``ends``
    names and is never stored as a fact."""
    aspect: Aspect | None = None
    """Whether the fact is a current state, an event or a plan (None: not said)."""
    ends: list[Ending] = Field(default_factory=list)
    """What this statement ends ("I left Acme" ends the employer fact)."""
    entities: list[str] = Field(default_factory=list)
    entity_types: dict[str, str] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    event_time: datetime | None = None
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    speaker: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class MemoryItem(BaseModel):
    """A long-term memory as stored."""

    id: str
    memory: str
    kind: MemoryKind = MemoryKind.FACT
    status: MemoryStatus = MemoryStatus.ACTIVE
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    """Ids of the messages the memory came from, in order."""
    entities: list[str] = Field(default_factory=list)
    subject: str | None = None
    attribute: str | None = None
    value: str | None = None
    """The attribute's value ("Sagene" for ``home``), when the extractor read one."""
    hash: str = ""
    importance: float = 0.5
    aspect: Aspect | None = None
    """``state``, ``event`` or ``plan`` (see :data:`Aspect`), when the extractor said."""
    created_at: datetime
    updated_at: datetime
    event_time: datetime | None = None
    """When the event the memory describes happened (from the message timestamp)."""
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    """Set when a newer value superseded this one."""
    superseded_by: str | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)


class MemoryHit(MemoryItem):
    """A memory returned by search, with its relevance ``score`` (higher = more relevant)."""

    score: float = 0.0
    score_details: dict[str, float] = Field(default_factory=dict)


class AddEvent(BaseModel):
    """One change applied by :meth:`HybridMemory.add`."""

    id: str
    memory: str
    event: EventType
    kind: MemoryKind = MemoryKind.FACT
    previous_memory: str | None = None


class AddResult(BaseModel):
    """What :meth:`HybridMemory.add` did."""

    results: list[AddEvent] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    """The ids of the stored messages (the caller's ids, or generated ones)."""

    def events(self, event: EventType) -> list[AddEvent]:
        return [r for r in self.results if r.event == event]


class HistoryEntry(BaseModel):
    """One row of a memory's audit trail."""

    id: str
    memory_id: str
    old_memory: str | None = None
    new_memory: str | None = None
    event: EventType
    actor: str | None = None
    created_at: datetime
    reason: str | None = None


class AuditEntry(BaseModel):
    """A model failure the pipeline recovered from (by falling back to the offline pipeline),
    with the raw reply when there was one."""

    id: str
    at: datetime
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    stage: str
    """``extraction``, ``consolidation`` or ``summary``."""
    message_ids: list[str] = Field(default_factory=list)
    error: str
    raw: str | None = None


class QuarantineEntry(BaseModel):
    """Something stored that could not be processed, set aside so that it stops nothing else:
    messages that could not be turned into memories, or memories whose vector could not be
    written. :meth:`HybridMemory.repair` retries them."""

    kind: Literal["messages", "vectors"]
    ids: list[str]
    """The message ids (``messages``) or memory ids (``vectors``)."""
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    error: str
    """What went wrong the last time it was tried."""
    at: datetime | None = None
    """When it was set aside."""


class RepairReport(BaseModel):
    """What :meth:`HybridMemory.repair` did, and what is still quarantined."""

    replayed: int = 0
    """Vector operations applied from the outbox."""
    reconciled: list[str] = Field(default_factory=list)
    """Memory ids whose quarantined vector write succeeded this time."""
    reprocessed: list[str] = Field(default_factory=list)
    """Message ids whose quarantined processing succeeded this time."""
    quarantined: list[QuarantineEntry] = Field(default_factory=list)
    """What still cannot be processed (the error says why)."""


class DroppedItem(BaseModel):
    """Something ``get_context`` left out for lack of room."""

    tier: Literal["profile", "memories", "summary", "recent", "instructions"]
    id: str | None = None
    text: str
    tokens: int


class MemoryContext(BaseModel):
    """The merged, token-budgeted context for one query."""

    messages: list[dict[str, Any]] = Field(default_factory=list)
    """OpenAI chat messages, ready to send (prepend your own system prompt if you like)."""
    text: str = ""
    tokens: int = 0
    """Tokens of ``messages`` for ``model`` (exact for OpenAI models, else an estimate)."""
    token_budget: int
    model: str
    exact: bool = True
    """False when ``tokens`` is an estimate (non-OpenAI models)."""
    sections: dict[str, int] = Field(default_factory=dict)
    """Tokens spent per tier: instructions, profile, memories, summary, recent."""
    profile: list[MemoryItem] = Field(default_factory=list)
    """The current values stated first (what is currently true about the user)."""
    memories: list[MemoryHit] = Field(default_factory=list)
    summary: str | None = None
    recent: list[dict[str, Any]] = Field(default_factory=list)
    recent_ids: list[str] = Field(default_factory=list)
    """The message ids of ``recent``, in the same order."""
    dropped: list[DroppedItem] = Field(default_factory=list)
