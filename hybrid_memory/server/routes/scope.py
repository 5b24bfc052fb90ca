"""Query parameters naming a scope, shared by the routes that take them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query


@dataclass(frozen=True)
class ScopeQuery:
    """``user_id``, ``agent_id``, ``run_id`` from the query string."""

    user_id: str | None
    agent_id: str | None
    run_id: str | None

    def ids(self) -> dict[str, str | None]:
        """As keyword arguments of the library."""
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}

    def by_id(self) -> dict[str, Any]:
        """For a by-id call: the scope given, or the whole tenant's memory when none is
        (the tenant is the isolation boundary; a scope narrows within it)."""
        ids = self.ids()
        if all(v is None for v in ids.values()):
            return {"all_scopes": True}
        return ids


def _scope(
    user_id: Annotated[str | None, Query(description="User id of the scope.")] = None,
    agent_id: Annotated[str | None, Query(description="Agent id of the scope.")] = None,
    run_id: Annotated[str | None, Query(description="Run (conversation) id.")] = None,
) -> ScopeQuery:
    return ScopeQuery(user_id, agent_id, run_id)


ScopeDep = Annotated[ScopeQuery, Depends(_scope)]
