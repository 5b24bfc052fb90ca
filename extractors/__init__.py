"""Extractors and summarizers: turn messages into candidate memories and running summaries.

They depend only on :mod:`hybrid_memory.models` (the shared vocabulary), never on the
orchestrator.
"""

from extractors.base import ConsolidationDecision, Consolidator, Extractor, Summarizer

__all__ = ["ConsolidationDecision", "Consolidator", "Extractor", "Summarizer"]
