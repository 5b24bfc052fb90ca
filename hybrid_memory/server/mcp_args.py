"""The arguments of the MCP tools, described for the model that calls them.

A model reads these descriptions (as the JSON schema of each tool) to decide what to pass, so
they say what a value means and what a good one looks like, not how it is implemented.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

_SCOPE = (
    " Scope ids are strings you choose and reuse: the same id on every call about the same "
    "{what}, so that what is remembered in one conversation is found in the next."
)

UserId = Annotated[
    str | None,
    Field(
        description="Who the memories are about, e.g. 'alice' (a stable id of the person you are "
        "talking with)." + _SCOPE.format(what="person"),
    ),
]
AgentId = Annotated[
    str | None,
    Field(
        description="Which assistant or agent the memories belong to, e.g. 'travel-planner': "
        "use it for what the agent itself should remember, alone or with user_id."
        + _SCOPE.format(what="agent"),
    ),
]
RunId = Annotated[
    str | None,
    Field(
        description="One conversation or task, e.g. 'chat-2024-06-01'. Optional: long-term facts "
        "are shared by every run of the user; the recent turns and the running summary belong "
        "to the run.",
    ),
]
Filters = Annotated[
    dict[str, Any] | None,
    Field(
        description="Optional filter that narrows the result (it never widens the scope). Keys "
        "are record fields (kind: 'fact' | 'entity' | 'observation'; status: 'active' | "
        "'superseded'; subject; attribute; created_at, updated_at, event_time, valid_from, "
        "valid_to as ISO 8601 dates) or metadata keys written 'metadata.<key>'. A value is "
        'matched for equality ({"kind": "fact"}) or compared with an operator: '
        '{"event_time": {"gte": "2024-01-01"}}, {"metadata.category": {"in": ["food", '
        '"travel"]}}; operators eq, ne, in, nin, gt, gte, lt, lte, contains, icontains. '
        'Combine with {"AND": [...]}, {"OR": [...]}, {"NOT": {...}}. An unknown key is an '
        "error that lists the valid ones.",
    ),
]
IncludeSuperseded = Annotated[
    bool | None,
    Field(
        description="Former values (what was true before something replaced it, e.g. an old "
        "address): true includes them, false leaves them out; omit it to include one only "
        "where it answers the question (a question about the past or about that value).",
    ),
]
MemoryId = Annotated[
    str,
    Field(
        description="The id of a memory, as returned by search_memories or list_memories "
        "(the full id or its first 8+ characters).",
        min_length=1,
    ),
]
Metadata = Annotated[
    dict[str, Any] | None,
    Field(
        description="Optional JSON object stored with the memories, e.g. "
        '{"category": "travel"}; filter on it later with "metadata.category".',
    ),
]


class Turn(BaseModel):
    """One chat message to remember."""

    role: Literal["user", "assistant", "system", "tool"] = Field(
        default="user", description="Who said it."
    )
    content: str = Field(description="What was said, verbatim.")
    name: str | None = Field(
        default=None,
        description="The speaker's name, e.g. 'Alice': first-person statements ('I moved to "
        "Lisbon') are remembered about this name.",
    )
    timestamp: str | None = Field(
        default=None,
        description="When it was said (ISO 8601); relative dates such as 'last spring' are "
        "resolved against it. Default: now.",
    )


Messages = Annotated[
    str | list[Turn],
    Field(
        description="What to remember: a plain text (one user message), or the turns of a "
        "conversation as a list of {role, content, name?, timestamp?}. Pass what was actually "
        "said; facts are extracted from it and reconciled with what is already known (a new "
        "address replaces the old one, which stays as a former value).",
    ),
]
Query = Annotated[
    str,
    Field(
        description="A question or keywords in natural language, e.g. 'Where does Alice live?'.",
        min_length=1,
    ),
]
Limit = Annotated[int, Field(description="How many memories at most.", ge=1, le=200)]
TokenBudget = Annotated[
    int,
    Field(
        description="How many tokens the context may take in your prompt (it never exceeds "
        "this; what did not fit is counted in 'dropped').",
        ge=50,
        le=100_000,
    ),
]
Text = Annotated[
    str, Field(description="The corrected memory, as one self-contained statement.", min_length=1)
]
Infer = Annotated[
    bool,
    Field(
        description="true (default): extract facts from the messages. false: store each "
        "message verbatim as one memory (for notes that must be kept word for word).",
    ),
]
