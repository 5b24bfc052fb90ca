"""The assistant's tools: checking schemas against handlers, and running one call.

A tool's failure (unknown name, arguments that are not a JSON object, an exception in the
handler) is never raised: it becomes a :class:`ToolRun` with ``error`` set and a result text
starting with ``error:``, which goes back to the model so it can correct itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from hybrid_memory.errors import ConfigError

ToolHandlers = Mapping[str, Callable[..., Any]]


class ToolRun(BaseModel):
    """One tool call the assistant executed."""

    id: str
    name: str
    arguments: str
    result: str
    error: str | None = None
    """Set when the tool was unknown, its arguments were not a JSON object, or it raised."""


def check_tools(tools: Sequence[dict[str, Any]], handlers: ToolHandlers) -> None:
    """Check that every tool schema has a callable handler and every handler a schema.

    Raises:
        ConfigError: Naming the malformed schema, or the names without handler/schema.
    """
    names = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if tool.get("type", "function") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ConfigError(
                f"tool {i} must be an OpenAI tool schema "
                '{"type": "function", "function": {"name": ..., "parameters": {...}}}'
            )
        names.append(fn["name"])
    missing = sorted(set(names) - set(handlers))
    extra = sorted(set(handlers) - set(names))
    if missing or extra:
        raise ConfigError(
            f"every tool needs a handler and every handler a schema: no handler for "
            f"{missing}, no schema for {extra}"
        )
    for name, handler in handlers.items():
        if not callable(handler):
            raise ConfigError(f"the handler of tool {name!r} is not callable")


def run_tool(handlers: ToolHandlers, call_id: str, name: str, arguments: str) -> ToolRun:
    """Run the handler of tool ``name`` with the JSON ``arguments`` as keyword arguments.

    A non-string result is sent as JSON.
    """

    def failed(error: str) -> ToolRun:
        return ToolRun(
            id=call_id, name=name, arguments=arguments, result=f"error: {error}", error=error
        )

    handler = handlers.get(name)
    if handler is None:
        return failed(f"unknown tool {name!r}; available: {sorted(handlers)}")
    try:
        args = json.loads(arguments or "{}")
    except ValueError as exc:
        return failed(f"the arguments are not valid JSON ({exc}); send a JSON object")
    if not isinstance(args, dict):
        return failed("the arguments must be a JSON object")
    try:
        result = handler(**args)
    except Exception as exc:  # a tool's failure is reported to the model, not raised
        return failed(f"{name} raised {type(exc).__name__}: {exc}")
    if not isinstance(result, str):
        result = json.dumps(result, ensure_ascii=False, default=str)
    return ToolRun(id=call_id, name=name, arguments=arguments, result=result)
