"""Moved to :mod:`hybrid_memory.agent.demo`; this path is kept for one release.

    python -m hybrid_memory.agent_demo [--data-dir DIR] [--window 8000]

still runs the demo (as ``python -m hybrid_memory.agent.demo`` does).
"""

from hybrid_memory.agent.demo import (
    PROJECT,
    SESSIONS,
    TOOLS,
    main,
    read_file,
    scripted_agent,
    search,
)

__all__ = ["PROJECT", "SESSIONS", "TOOLS", "main", "read_file", "scripted_agent", "search"]

if __name__ == "__main__":
    raise SystemExit(main())
