"""The agent-loop modules moved to hybrid_memory.agent; the old import paths still re-export the
same objects for one release, and both module paths of the demo still run it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MOVED = {
    "hybrid_memory.window": (
        "hybrid_memory.agent.window",
        [
            "ContextWindow",
            "WindowSettings",
            "WindowReport",
            "WindowResult",
            "STRATEGIES",
            "SUMMARY_PREFIX",
            "PRESETS",
            "PROTECTED_ROLES",
            "DEFAULT_TOOL_RULES",
            "DEFAULT_TOOL_NOTE",
            "ROLES",
            "validate_messages",
        ],
    ),
    "hybrid_memory.sessions": (
        "hybrid_memory.agent.sessions",
        [
            "SessionManager",
            "EXPORT_FORMAT",
            "DEFAULT_IDLE_TTL",
            "Session",
            "SessionEvent",
            "SessionEventType",
            "Checkpoint",
            "replay",
        ],
    ),
    "hybrid_memory.assistant": (
        "hybrid_memory.agent.assistant",
        ["Assistant", "AssistantTurn", "ToolRun", "DEFAULT_SYSTEM_PROMPT", "MAX_MEMORY_TOKENS"],
    ),
    "hybrid_memory.usage": (
        "hybrid_memory.agent.usage",
        [
            "UsageTracker",
            "UsageStats",
            "UsageTotals",
            "CompressionTotals",
            "USAGE_DB_FILENAME",
            "price_of",
            "render_usage_table",
        ],
    ),
    "hybrid_memory.registry": (
        "hybrid_memory.agent.registry",
        [
            "ModelInfo",
            "DEFAULT_MODEL",
            "ENV_VAR",
            "get_model_info",
            "register_model",
            "known_models",
        ],
    ),
    "hybrid_memory.agent_demo": (
        "hybrid_memory.agent.demo",
        ["main", "scripted_agent", "read_file", "search", "PROJECT", "TOOLS", "SESSIONS"],
    ),
}


@pytest.mark.parametrize("old_path", sorted(MOVED))
def test_old_paths_re_export_the_same_objects(old_path):
    new_path, names = MOVED[old_path]
    old, new = importlib.import_module(old_path), importlib.import_module(new_path)
    for name in names:
        assert getattr(old, name) is getattr(new, name), f"{old_path}.{name}"
    assert sorted(old.__all__) == sorted(names)
    assert f"moved to :mod:`{new_path}`" in (old.__doc__ or "").lower()


def test_the_window_and_sessions_share_the_one_role_list():
    from hybrid_memory.chat import ROLES
    from hybrid_memory.session_models import CHAT_ROLES

    assert importlib.import_module("hybrid_memory.agent.window").ROLES is ROLES
    assert CHAT_ROLES is ROLES


def test_the_agent_package_exports_its_main_classes_lazily():
    import hybrid_memory.agent as agent
    from hybrid_memory.agent.assistant import Assistant
    from hybrid_memory.agent.sessions import SessionManager
    from hybrid_memory.agent.window import ContextWindow

    assert agent.Assistant is Assistant
    assert agent.SessionManager is SessionManager
    assert agent.ContextWindow is ContextWindow
    with pytest.raises(AttributeError):
        agent.NoSuchThing  # noqa: B018


@pytest.mark.parametrize("module", ["hybrid_memory.agent_demo", "hybrid_memory.agent.demo"])
def test_both_demo_module_paths_run_main(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--data-dir" in done.stdout and "--window" in done.stdout
