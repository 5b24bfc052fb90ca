"""Every Python and shell example of README.md runs, and the outputs it quotes are checked.

Each fenced block in ```python, ```bash, ```sh or ```console is one test, run in a fresh
temporary directory as a newcomer would paste it: Python blocks in this process (so the
embedding model loads once; every block gets fresh globals and ``__name__ == "__main__"``),
shell blocks with ``bash -e`` and the checkout's ``.venv/bin`` first on ``PATH``. A
```console block's lines starting with ``$ `` are its commands; its other lines are their
expected output.

Markers, in an HTML comment on the line before a block (``<!-- readme: MARKER (why) -->``;
several are separated by commas):

- ``no-run``: not run (say why in the parentheses, e.g. a data set that is not here, or
  ``make test``, which runs this test);
- ``scripted-model``: a :class:`~hybrid_memory.testing.ScriptedOpenAIServer` on 127.0.0.1
  stands in for the model: ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` point at it (the
  memory's own pipeline stays offline, as it does for a reader who passes the endpoint in code);
  it calls ``read_file`` for "read <path>", quotes a tool's result and otherwise says "Noted.";
- ``real-model``: a shell block runs with the real embedding model (shell blocks otherwise use
  ``HYBRID_MEMORY_EMBEDDING_MODEL=hashing``, so that each command does not load the model;
  Python blocks always use the real one);
- ``output``: the block is not run; it is the expected output (stdout) of the block before it.
  Lines are compared without trailing spaces; a line ``...`` stands for any number of lines.
  Only quote output that is deterministic.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hybrid_memory.testing import Reply, ScriptedOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RUNNABLE = {"python", "bash", "sh", "console"}
MARKER = re.compile(r"^<!--\s*readme:\s*(.*?)\s*-->$")


@dataclass
class Block:
    line: int
    lang: str
    code: str
    heading: str
    markers: set[str]
    expected: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"L{self.line}-{slug}"


def _markers(text: str) -> set[str]:
    text = re.sub(r"\(.*?\)", "", text)
    return {m.strip() for m in text.split(",") if m.strip()}


def blocks(text: str) -> list[Block]:
    """The README's runnable blocks, each with the output block that follows it (if any)."""
    lines = text.splitlines()
    found: list[Block] = []
    heading, last_runnable = "top", None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if not line.startswith("```"):
            i += 1
            continue
        lang = line[3:].strip()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        code = "\n".join(lines[i + 1 : end]) + "\n"
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.match(before.strip())
        markers = _markers(marker.group(1)) if marker else set()
        unknown = markers - {"no-run", "scripted-model", "real-model", "output"}
        assert not unknown, f"README line {i + 1}: unknown marker {unknown}"
        if "output" in markers:
            assert last_runnable is not None, f"README line {i + 1}: output of no block"
            last_runnable.expected = code
            last_runnable = None
        elif lang in RUNNABLE and "no-run" not in markers:
            last_runnable = Block(i + 1, lang, code, heading, markers)
            found.append(last_runnable)
        else:
            last_runnable = None
        i = end + 1
    return found


BLOCKS = blocks(README.read_text(encoding="utf-8"))


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` has the lines of ``expected`` (``...`` = any lines in between)."""
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.strip("\n").splitlines()]

    def walk(w: int, g: int) -> bool:
        if w == len(want):
            return g == len(got)
        if want[w] == "...":
            return any(walk(w + 1, k) for k in range(g, len(got) + 1))
        return g < len(got) and want[w] == got[g] and walk(w + 1, g + 1)

    return walk(0, 0)


def scripted_agent(body: dict[str, Any]) -> Reply:
    """The stand-in model of ``scripted-model`` blocks."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return Reply(content=f"It says: {last['content'].strip()}")
    text = last.get("content") or ""
    if isinstance(text, str) and text.startswith("read ") and body.get("tools"):
        call = {"id": "call_1", "name": "read_file", "arguments": {"path": text.split()[1]}}
        return Reply(content=None, tool_calls=[call])
    return Reply(content="Noted.")


def run_python(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(code, str(README), "exec"), {"__name__": "__main__"})
    return out.getvalue()


def shell_commands(block: Block) -> tuple[str, str | None]:
    """The script to run, and the output a console block quotes."""
    if block.lang != "console":
        return block.code, block.expected
    commands = [line[2:] for line in block.code.splitlines() if line.startswith("$ ")]
    quoted = [line for line in block.code.splitlines() if not line.startswith("$ ")]
    return "\n".join(commands) + "\n", "\n".join(quoted) if quoted else None


def run_shell(block: Block, script: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HYBRID_MEMORY_DATA_DIR", None)
    if "real-model" not in block.markers:
        env["HYBRID_MEMORY_EMBEDDING_MODEL"] = "hashing"
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"README line {block.line} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def test_the_readme_has_examples_of_each_kind():
    langs = {b.lang for b in BLOCKS}
    assert {"python", "bash"} <= langs
    assert sum(b.expected is not None for b in BLOCKS) >= 3
    assert any("scripted-model" in b.markers for b in BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_readme_example_runs(block: Block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYBRID_MEMORY_DATA_DIR", raising=False)
    monkeypatch.delenv("HYBRID_MEMORY_EMBEDDING_MODEL", raising=False)
    with contextlib.ExitStack() as stack:
        if "scripted-model" in block.markers:
            server = stack.enter_context(ScriptedOpenAIServer(scripted_agent))
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.setenv("OPENAI_API_KEY", "scripted")
            monkeypatch.setenv("HYBRID_MEMORY_LLM_FROM_ENV", "false")
        if block.lang == "python":
            output, expected = run_python(block.code), block.expected
        else:
            script, expected = shell_commands(block)
            output = run_shell(block, script, tmp_path)
    if expected is not None:
        assert matches(expected, output), (
            f"README line {block.line}: the quoted output is not what the block printed:\n"
            f"--- quoted\n{expected}\n--- printed\n{output}"
        )


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("a\nb\n", "a\nb  \n", True),
        ("a\n...\nd\n", "a\nb\nc\nd\n", True),
        ("a\n...\n", "a\n", True),
        ("a\nb\n", "a\nb\nc\n", False),
        ("a\n...\nd\n", "a\nb\nc\n", False),
    ],
)
def test_quoted_output_matching(expected, actual, ok):
    assert matches(expected, actual) is ok
