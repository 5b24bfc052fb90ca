"""The memory product: ``HybridMemory`` and the stages it delegates to.

add:     validate → persist turns → extract → plan (consolidate, fold) → commit (+ outbox)
search:  candidates (dense, lexical, entity) → rank → pack (get_context)
also:    crud (by id / by scope), transfer (export / import), outbox (vector repair)
"""

from hybrid_memory.memory.facade import HybridMemory

__all__ = ["HybridMemory"]
