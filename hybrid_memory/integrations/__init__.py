"""Adapters that plug hybrid-memory into agent frameworks, each behind its own extra.

- :mod:`~hybrid_memory.integrations.langgraph` (extra ``langgraph``): ``HybridMemoryStore``, a
  LangGraph ``BaseStore`` (a graph's ``store=``).
- :mod:`~hybrid_memory.integrations.langchain` (extra ``langchain``):
  ``HybridMemoryChatMessageHistory`` and ``HybridMemoryRetriever``.
- :mod:`~hybrid_memory.integrations.llamaindex` (extra ``llamaindex``): ``HybridMemoryBlock``,
  a memory block of a LlamaIndex ``Memory``.
- :mod:`~hybrid_memory.integrations.openai_agents` (extra ``openai-agents``):
  ``HybridMemorySession``, an Agents SDK session, and ``memory_tools`` (remember / recall).

Importing a module whose framework is not installed raises an ImportError that names the
extra (``pip install "hybrid-memory[langgraph]"``). Nothing else in the package imports these
modules.
"""
