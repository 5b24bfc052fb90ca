"""Try the model, fall back to the offline component, report the failure: written once.

Every model-backed stage (extraction, consolidation, the memory's running summary, the context
window's summarize strategy) goes through :class:`Fallback`. A failure of the model is never an
empty result: the offline component stands in, and ``on_failure(stage, exc)`` is called so the
caller can keep an audit row (the memory) or a report field (the context window). After one
failure the rest of the same unit of work stays offline, so a dead endpoint costs one timeout
per add, not one per fact.

Example::

    fallback = Fallback(on_failure=lambda stage, exc: audit.append((stage, exc)))
    facts = fallback.run("extraction", model_extract, offline_extract)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hybrid_memory.errors import ExtractionError

R = TypeVar("R")
FailureHook = Callable[[str, ExtractionError], None]


class Fallback:
    """One unit of work's model-else-offline policy (see the module docstring).

    Args:
        on_failure: called with the stage name and the model's error, once per failure.
        degraded: start offline (the model already failed earlier in this unit of work).
    """

    def __init__(self, on_failure: FailureHook | None = None, *, degraded: bool = False):
        self.on_failure = on_failure
        self.degraded = degraded

    def run(
        self,
        stage: str,
        model: Callable[[], R] | None,
        offline: Callable[[], R],
        *,
        on_failure: FailureHook | None = None,
    ) -> R:
        """``model()`` unless it is ``None`` or an earlier call failed; ``offline()`` then.

        Only :class:`~hybrid_memory.errors.ExtractionError` (what model-backed components
        raise) falls back; any other exception is a bug and propagates. ``on_failure``
        replaces the instance's hook for this call (to report what the call was about).
        """
        if model is not None and not self.degraded:
            try:
                return model()
            except ExtractionError as exc:
                self.degraded = True
                hook = on_failure or self.on_failure
                if hook is not None:
                    hook(stage, exc)
        return offline()
