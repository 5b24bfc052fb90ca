"""What every adapter shares: the ImportError naming the extra to install, and the memory
behind an adapter (a :class:`HybridMemory`, or the one inside an :class:`AsyncHybridMemory`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_memory.errors import ConfigError

if TYPE_CHECKING:
    from hybrid_memory.memory import HybridMemory
    from hybrid_memory.models import Scope


def missing_extra(framework: str, extra: str, exc: ImportError) -> ImportError:
    """The ImportError raised when ``framework`` is not installed: it names the extra."""
    return ImportError(
        f"the {framework} integration needs the {framework} packages "
        f"(missing module {exc.name or exc}); install them with "
        f'pip install "hybrid-memory[{extra}]"'
    )


def sync_memory(memory: Any) -> HybridMemory:
    """The synchronous memory an adapter calls (async adapters run it in a worker thread,
    as :class:`~hybrid_memory.aio.AsyncHybridMemory` does).

    Raises:
        ConfigError: ``memory`` is neither a HybridMemory nor an AsyncHybridMemory.
    """
    from hybrid_memory.aio import AsyncHybridMemory
    from hybrid_memory.memory import HybridMemory

    if isinstance(memory, AsyncHybridMemory):
        return memory.sync
    if isinstance(memory, HybridMemory):
        return memory
    raise ConfigError(
        f"memory must be a HybridMemory or an AsyncHybridMemory, got {type(memory).__name__}"
    )


def scope_ids(scope: Scope) -> dict[str, Any]:
    """``user_id`` / ``agent_id`` / ``run_id`` of ``scope`` as keyword arguments of the
    memory's methods (only the ids that are set)."""
    return dict(scope.as_filter())
