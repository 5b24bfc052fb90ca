"""The memory as a service: the MCP server (:mod:`~hybrid_memory.server.mcp`)."""
