"""Input contracts: the arguments of every public method, checked in one place.

- :mod:`~hybrid_memory.memory.contracts.fields`: one validator per kind of argument (scope,
  messages, metadata, ids, limits, times...), each raising the project's typed error;
- :mod:`~hybrid_memory.memory.contracts.calls`: one pydantic model per public method;
- :mod:`~hybrid_memory.memory.contracts.records`: the records ``import_records`` accepts.

What the contracts guarantee, whatever a caller sends: strings are valid Unicode and bounded
(text, names, ids, tool calls, imported memories), numbers are finite and fit 64 bits, JSON
nests at most ``limits.max_nesting_depth`` levels, message timestamps lie in
:data:`~hybrid_memory.models.SAID_AT_RANGE`, and a refused call reads and writes nothing.
"""

from hybrid_memory.memory.contracts.calls import (
    AddArgs,
    AuditArgs,
    ByIdArgs,
    ContextArgs,
    Contract,
    DeleteArgs,
    ListArgs,
    ReprocessArgs,
    ScopeArgs,
    SearchArgs,
    UpdateArgs,
)
from hybrid_memory.memory.contracts.fields import scope_ids
from hybrid_memory.memory.contracts.records import ImportBatch, validate_records

__all__ = [
    "AddArgs",
    "AuditArgs",
    "ByIdArgs",
    "ContextArgs",
    "Contract",
    "DeleteArgs",
    "ImportBatch",
    "ListArgs",
    "ReprocessArgs",
    "ScopeArgs",
    "SearchArgs",
    "UpdateArgs",
    "scope_ids",
    "validate_records",
]
