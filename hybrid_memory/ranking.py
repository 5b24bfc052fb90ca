"""Moved to :mod:`hybrid_memory.memory.ranking`; this path is kept for one release."""

from hybrid_memory.memory.ranking import Candidate, asks_about_past, diversify, fuse  # noqa: F401
