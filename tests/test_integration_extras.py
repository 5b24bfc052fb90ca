"""Each adapter names its extra when its framework is missing, and the package itself never
imports the adapters."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from hybrid_memory.errors import ConfigError
from hybrid_memory.integrations._extras import sync_memory

ADAPTERS = [
    ("hybrid_memory.integrations.langgraph", "langgraph", "langgraph"),
    ("hybrid_memory.integrations.langchain", "langchain_core", "langchain"),
    ("hybrid_memory.integrations.llamaindex", "llama_index", "llamaindex"),
    ("hybrid_memory.integrations.openai_agents", "agents", "openai-agents"),
]


@pytest.mark.parametrize(("module", "framework", "extra"), ADAPTERS)
def test_a_missing_framework_names_the_extra(module, framework, extra, monkeypatch):
    # A None entry in sys.modules makes "import <framework>" raise ImportError, as if the
    # package were not installed.
    for name in list(sys.modules):
        if name == framework or name.startswith(framework + ".") or name == module:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, framework, None)
    with pytest.raises(ImportError, match=rf'pip install "hybrid-memory\[{extra}\]"'):
        importlib.import_module(module)


def test_the_package_does_not_import_the_adapters():
    code = (
        "import sys, hybrid_memory, hybrid_memory.memory, hybrid_memory.agent.assistant;"
        "print(sorted(m for m in sys.modules if m.startswith(('hybrid_memory.integrations',"
        " 'langgraph', 'langchain', 'llama_index', 'agents'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_adapter_refuses_what_is_not_a_memory():
    with pytest.raises(ConfigError, match="HybridMemory or an AsyncHybridMemory"):
        sync_memory({"not": "a memory"})
