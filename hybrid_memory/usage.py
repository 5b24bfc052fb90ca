"""Moved to :mod:`hybrid_memory.agent.usage`; this path is kept for one release."""

from hybrid_memory.agent.usage import (
    USAGE_DB_FILENAME,
    CompressionTotals,
    UsageStats,
    UsageTotals,
    UsageTracker,
    price_of,
    render_usage_table,
)

__all__ = [
    "USAGE_DB_FILENAME",
    "CompressionTotals",
    "UsageStats",
    "UsageTotals",
    "UsageTracker",
    "price_of",
    "render_usage_table",
]
