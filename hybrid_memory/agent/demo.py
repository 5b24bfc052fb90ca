"""An agent loop with long-term memory, a managed window, sessions and usage statistics.

    python -m hybrid_memory.agent.demo [--data-dir DIR] [--window 8000]

A coding assistant with two tools (``read_file``, ``search``) over a small in-memory project
works through two sessions with the same user. With an endpoint configured
(``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``OPENAI_MODEL`` or ``HYBRID_MEMORY_LLM_*``) the
real model answers; without one, a local server on 127.0.0.1 speaking the OpenAI protocol
answers with scripted replies (tool calls included) and reports the real size of each request,
so every figure printed (tokens sent, compressions, usage and cost) is measured, only the
replies are scripted. The window is kept small (8,000 tokens by default) so that compression
shows within a few turns.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from hybrid_memory.agent.turn import AssistantTurn
    from hybrid_memory.llm import LLMConfig

PROJECT = {
    "README.md": "# billing\nMonthly invoices for the shop. Run `make test` before pushing.\n",
    "billing/invoice.py": "\n".join(
        f"def line_{i}(amount, vat=0.{20 + i % 5}):\n    return round(amount * (1 + vat), 2)\n"
        for i in range(60)
    ),
    "billing/export.py": "\n".join(
        f"def export_{i}(rows):\n    return ';'.join(str(r) for r in rows[{i}:])\n"
        for i in range(60)
    ),
    "tests/test_invoice.py": "\n".join(
        f"def test_line_{i}():\n    assert line_{i}(100) > 100\n" for i in range(40)
    ),
}

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file of the project.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "Path in the project."}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the project's files for a word.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    },
]

SESSIONS = [
    (
        "billing-monday",
        [
            "Hi! I'm Priya, I maintain the billing service. I prefer answers with code, no prose.",
            "read billing/invoice.py",
            "read billing/export.py",
            "search for vat",
            "read tests/test_invoice.py",
            "We deploy on Fridays only, and the staging database is called billing_stage.",
            "read billing/invoice.py again, I changed it",
            "Thanks, that's all for today.",
        ],
    ),
    (
        "billing-thursday",
        [
            "Can I deploy the export fix today?",
            "Which database should I test it against?",
        ],
    ),
]


def read_file(path: str) -> str:
    """The demo's ``read_file`` tool."""
    if path not in PROJECT:
        raise FileNotFoundError(f"no file {path!r}; files: {sorted(PROJECT)}")
    return PROJECT[path]


def search(query: str) -> list[dict[str, Any]]:
    """The demo's ``search`` tool."""
    return [
        {"path": path, "line": n, "text": line.strip()}
        for path, text in PROJECT.items()
        for n, line in enumerate(text.splitlines(), 1)
        if query.lower() in line.lower()
    ][:25]


def scripted_agent(body: dict[str, Any]) -> Any:
    """Replies of a plausible coding agent, for runs without an endpoint."""
    from hybrid_memory.testing import Reply as _Reply

    def Reply(**kw: Any) -> _Reply:  # noqa: N802 - reads as the class it builds
        # sizes measured on the request and the reply, as an endpoint reports them
        return _Reply(prompt_tokens=None, completion_tokens=None, **kw)

    messages = body["messages"]
    last = messages[-1]
    memory = messages[1]["content"] if messages[1]["role"] == "system" else ""
    if last["role"] == "tool":
        return Reply(content="Read it. Summary: the functions apply VAT and round.")
    text = last["content"]
    n = len(messages)
    if text.startswith("read "):
        path = text.split()[1]
        call = {"id": f"call_{n}", "name": "read_file", "arguments": {"path": path}}
        return Reply(content=None, tool_calls=[call])
    if text.startswith("search for "):
        call = {"id": f"call_{n}", "name": "search", "arguments": {"query": text.split()[-1]}}
        return Reply(content=None, tool_calls=[call])
    if "deploy" in text.lower() and text.endswith("?"):
        hint = "Fridays" if "Fridays" in memory else "your usual deploy day"
        return Reply(content=f"Only if today is a Friday: you deploy on {hint}.")
    if "database" in text.lower() and text.endswith("?"):
        hint = "billing_stage" if "billing_stage" in memory else "your staging database"
        return Reply(content=f"Test against {hint}.")
    return Reply(content="Noted.")


def _print_turn(console: Console, text: str, turn: AssistantTurn) -> None:
    tools = ", ".join(r.name for r in turn.tool_runs) or "-"
    squeeze = ""
    for report in turn.compressions:
        squeeze += (
            f"  [yellow]compressed {report.tokens_before:,} -> "
            f"{report.tokens_after:,} ({', '.join(report.strategies_applied)})[/]"
        )
    console.print(
        f"[bold]user:[/] {text}\n  [bold]assistant:[/] {turn.reply}\n"
        f"  [dim]calls {turn.model_calls}, tools {tools}, sent "
        f"{'+'.join(str(t) for t in turn.request_tokens)} tokens, "
        f"memories {len(turn.memories)} ({turn.memory_tokens} tokens)[/]{squeeze}"
    )


def _run(console: Console, endpoint: LLMConfig, data_dir: Path, window: int, offline: bool) -> None:
    """Both sessions against ``endpoint``, then the usage table."""
    from hybrid_memory import HybridMemory, MemoryConfig
    from hybrid_memory.agent.assistant import Assistant
    from hybrid_memory.agent.usage import render_usage_table
    from hybrid_memory.agent.window import WindowSettings

    model = endpoint.model
    # With a real endpoint the memory pipeline uses the model too; the scripted replies
    # are for the chat only, so then the memory stays on its offline pipeline.
    memory = HybridMemory(
        MemoryConfig(data_dir=data_dir, llm=None if offline else endpoint, llm_from_env=False)
    )
    assistant = Assistant(
        endpoint,
        memory=memory,
        window=WindowSettings(model=model, context_window=window, reserved_output_tokens=1_000),
        system_prompt="You are a concise coding assistant for the user's project.",
        tools=TOOLS,
        tool_handlers={"read_file": read_file, "search": search},
    )
    console.print(
        f"model {model}, window {window:,} tokens (limit {assistant.window.limit:,} "
        f"after the reply's reserve), memory budget {assistant.memory_tokens} tokens"
    )
    for session_id, messages in SESSIONS:
        console.rule(session_id)
        for text in messages:
            turn = assistant.chat(text, user_id="priya", session_id=session_id)
            _print_turn(console, text, turn)
    console.print(render_usage_table(assistant.stats(user_id="priya")))
    memory.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; ``argv`` as on the command line (default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    parser.add_argument("--window", type=int, default=8_000, help="context window in tokens")
    args = parser.parse_args(argv)

    from rich.console import Console

    from hybrid_memory.llm import LLMConfig
    from hybrid_memory.testing import ScriptedOpenAIServer

    console = Console(width=110)
    endpoint = LLMConfig.from_env()
    server = None
    if endpoint is None:
        server = ScriptedOpenAIServer(scripted_agent).__enter__()
        endpoint = LLMConfig(base_url=server.base_url, api_key="scripted", model="gpt-4o-mini")
        console.print(f"[dim]no endpoint configured: scripted replies from {server.base_url}[/]")
    tmp = None
    if args.data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hybrid-memory-agent-")
        args.data_dir = Path(tmp.name)
    try:
        _run(console, endpoint, args.data_dir, args.window, offline=server is not None)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
