"""The ``hybrid-memory`` command line (typer).

    hybrid-memory add --user alice --name Alice "I moved to Boston last spring."
    hybrid-memory search --user alice "Where does Alice live?"
    hybrid-memory context --user alice --budget 800 "Where does Alice live?"
    hybrid-memory history --user alice 3fdb7c781bac
    hybrid-memory export --user alice --out alice.jsonl
    hybrid-memory stats --user alice

Modules: :mod:`~hybrid_memory.cli.app` (the application and its errors),
:mod:`~hybrid_memory.cli.options` (shared options, opening the memory),
:mod:`~hybrid_memory.cli.output` (JSON, tables, errors in the words of the flags),
:mod:`~hybrid_memory.cli.memories` (add, search, context, list),
:mod:`~hybrid_memory.cli.by_id` (get, history, update, delete),
:mod:`~hybrid_memory.cli.transfer` (export, import), :mod:`~hybrid_memory.cli.stats`.
"""

from hybrid_memory.cli.app import app, main, run

__all__ = ["app", "main", "run"]
