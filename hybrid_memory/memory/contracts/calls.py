"""One contract per public method of :class:`~hybrid_memory.memory.HybridMemory`: its
arguments, in the order they are checked, each with its field type from
:mod:`~hybrid_memory.memory.contracts.fields`.

``AddArgs.check(limits, **arguments)`` returns the validated arguments or raises the first
problem as the project's typed error (a :class:`~hybrid_memory.errors.UserInputError`
subclass saying what to change). The facade checks before it delegates, so nothing is read or
written for a call that is refused.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from hybrid_memory.config import LimitsConfig
from hybrid_memory.errors import HybridMemoryError, ScopeError, UserInputError
from hybrid_memory.filters import Filter, names_field
from hybrid_memory.memory.contracts.fields import (
    Actor,
    AnyScope,
    FilterArg,
    Flag,
    ListLimit,
    MemoryId,
    Messages,
    Metadata,
    ModelName,
    OptionalFlag,
    PresentIds,
    Query,
    RequiredScope,
    SearchLimit,
    Text,
    Threshold,
    Tiers,
    TokenBudget,
    When,
    check_query,
    limits_of,
)


def first_error(exc: ValidationError) -> HybridMemoryError:
    """The first problem of a failed validation, as the typed error its check raised."""
    errors = exc.errors()
    cause = (errors[0].get("ctx") or {}).get("error") if errors else None
    if isinstance(cause, HybridMemoryError):
        return cause
    where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "arguments"
    message = errors[0]["msg"] if errors else str(exc)
    return UserInputError(f"{where}: {message}")


class Contract(BaseModel):
    """The validated arguments of one call (immutable)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def check(cls, limits: LimitsConfig, **arguments: Any) -> Self:
        """Validate ``arguments`` against ``limits``; raise the first problem, typed."""
        try:
            return cls.model_validate(arguments, context={"limits": limits})
        except ValidationError as exc:
            raise first_error(exc) from None


class AddArgs(Contract):
    scope: RequiredScope
    messages: Messages
    metadata: Metadata
    infer: Flag
    expires_at: When
    actor: Actor


class ReprocessArgs(Contract):
    scope: AnyScope


class _Selecting(Contract):
    """Calls that select memories by a filter, current ones or former ones too."""

    filters: FilterArg
    include_superseded: OptionalFlag

    @property
    def filter(self) -> Filter | None:
        parsed: Filter | None = self.filters
        return parsed

    @property
    def superseded(self) -> bool | None:
        """``include_superseded``, except that with ``None`` a filter on ``status`` decides
        alone: ``{"status": "superseded"}`` asks for former values, so it gets them."""
        if self.include_superseded is None and names_field(self.filter, "status"):
            return True
        return self.include_superseded


class SearchArgs(_Selecting):
    scope: RequiredScope
    query: Query
    limit: SearchLimit
    threshold: Threshold


class ContextArgs(Contract):
    """``query`` is only searched with when the ``memories`` tier is asked for, so it is only
    checked then."""

    scope: RequiredScope
    tiers: Tiers
    present_ids: PresentIds
    token_budget: TokenBudget
    model: ModelName
    query: Any
    limit: SearchLimit
    filters: FilterArg

    @model_validator(mode="after")
    def _query_when_searched(self, info: ValidationInfo) -> Self:
        if "memories" in self.tiers:
            check_query(self.query, limits_of(info))
        return self

    @property
    def filter(self) -> Filter | None:
        parsed: Filter | None = self.filters
        return parsed


class ByIdArgs(Contract):
    """A by-id call: the memory must carry every scope id given, and at least one must be
    given, unless ``all_scopes=True`` (the operator's explicit path, which no service should
    pass through from its clients)."""

    memory_id: MemoryId
    scope: AnyScope
    all_scopes: Flag

    @model_validator(mode="after")
    def _scoped(self) -> Self:
        if self.all_scopes and not self.scope.is_empty:
            raise UserInputError(
                "pass the memory's scope ids or all_scopes=True, not both: all_scopes looks the "
                "id up in every scope"
            )
        if not self.all_scopes and self.scope.is_empty:
            raise ScopeError(
                "a memory id is looked up within a scope: pass the memory's user_id, agent_id "
                "or run_id (ids of other scopes are never found); an operator who must reach "
                "any scope passes all_scopes=True"
            )
        return self


class UpdateArgs(ByIdArgs):
    text: Text
    metadata: Metadata
    actor: Actor


class DeleteArgs(ByIdArgs):
    actor: Actor


class ListArgs(_Selecting):
    scope: RequiredScope
    limit: ListLimit


class ScopeArgs(Contract):
    """Calls that take exactly one scope (and, to delete, who did it)."""

    scope: RequiredScope
    actor: Actor = None


class AuditArgs(Contract):
    scope: AnyScope
