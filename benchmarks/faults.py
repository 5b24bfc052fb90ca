"""Faults: kill -9 during adds, a randomized isolation run, and bad input over every public
method; prints what must be zero.

    python -m benchmarks faults --kills 100 --isolation-ops 5000 --bad-inputs 3000
    python -m benchmarks faults --minutes 10        # as many rounds as fit

1. **kill -9**: a child process (:mod:`benchmarks.fault_child`) adds batches to an embedded
   data dir and acknowledges each one after ``add`` returns; it is killed with SIGKILL at a
   random moment (sometimes while it is still opening and recovering). The parent then opens
   the store and checks: every acknowledged batch is there, no batch is partly stored, nothing
   is left unprocessed, pending or quarantined, the vector store holds exactly the memories of
   the record store, every memory has a history starting with ADD, and SQLite's integrity
   checks (chroma's database included) pass. The next child continues on the same data dir.
2. **isolation**: users, agents and runs with look-alike ids (case, spaces, zero-width and
   Cyrillic letters, SQL wildcards and quotes) add secrets; random searches, listings,
   contexts, exports and by-id calls from other scopes, with crafted filters, must never return
   another scope's memory.
3. **bad input** (:mod:`benchmarks.bad_inputs`): every public method called with hostile values
   (lone surrogates, NaN, 2**63, 10**400, 1,000-deep nesting, wrong types...) must return or
   raise a ``HybridMemoryError``, and a refused call must leave the export unchanged.

The test suite runs the same code small (``tests/test_faults.py``; ``--fault-scale N`` makes
it N times longer).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figures:
    """What a fault run counted; everything but the counts of work done must be zero."""

    kills: int = 0
    acknowledged: int = 0
    lost: int = 0
    """Acknowledged batches not found (whole) after the reopen."""
    reopen_failures: int = 0
    half_writes: int = 0
    """Partly stored batches, work left unprocessed or quarantined, vectors that differ from
    the records, memories without history, failed integrity checks."""
    isolation_ops: int = 0
    cross_scope_reads: int = 0
    bad_inputs: int = 0
    non_project_exceptions: int = 0
    changed_on_error: int = 0
    """Refused calls that changed what is stored."""
    problems: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < 50:
            self.problems.append(f"{kind}: {text}")

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.reopen_failures
            or self.half_writes
            or self.cross_scope_reads
            or self.non_project_exceptions
            or self.changed_on_error
        )

    def merge(self, other: Figures) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.problems.extend(other.problems[: 50 - len(self.problems)])


def open_memory(data_dir: Path, **config: Any) -> Any:
    from hybrid_memory import HybridMemory, MemoryConfig
    from hybrid_memory.testing import HashingEmbedder

    return HybridMemory(MemoryConfig(data_dir=data_dir, embedder=HashingEmbedder(), **config))


# -- 1. kill -9 during adds ----------------------------------------------------------------------


def _spawn(data_dir: Path, acks: Path, first: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fault_child", str(data_dir), str(acks), str(first)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _acknowledged(acks: Path) -> set[int]:
    if not acks.exists():
        return set()
    done = set()
    for line in acks.read_text(encoding="utf-8").splitlines():
        try:
            done.add(int(json.loads(line)["n"]))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by the kill was never acknowledged
    return done


def _kill_one(data_dir: Path, acks: Path, first: int, rng: random.Random, window: float) -> bool:
    """Run a child from batch ``first`` and kill it; True when it was killed alive."""
    proc = _spawn(data_dir, acks, first)
    try:
        if rng.random() < 0.2:  # sometimes while it opens (and recovers what the last left)
            time.sleep(rng.uniform(0.0, 2.0))
        else:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"the child did not open the store: {line!r} {err[-2000:]}")
            time.sleep(rng.uniform(0.0, window))
        alive = proc.poll() is None
        if alive:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        if not alive and proc.returncode != 0:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"the child failed on its own ({proc.returncode}): {err[-2000:]}")
        return alive
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _integrity(db: Path) -> list[str]:
    """SQLite's own checks of a database file (FTS index included when there is one)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(str(db), isolation_level=None)
    try:
        bad = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        has_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'memories_fts'").fetchone()
        if has_fts:
            try:
                conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                bad.append(f"FTS index: {exc}")
        return bad
    finally:
        conn.close()


def verify_store(data_dir: Path, attempted: int, acked: set[int], figures: Figures) -> None:
    """Open the store as the next process would and check every invariant (see the module
    docstring); ``attempted``: batches ``0..attempted-1`` may have been started."""
    from benchmarks.fault_child import USERS, batch

    try:
        memory = open_memory(data_dir)
    except Exception as exc:
        figures.problem("reopen_failures", f"{type(exc).__name__}: {exc}")
        return
    try:
        stored = {u: {m.id for m in memory.get_messages(user_id=u) if m.id} for u in USERS}
        sources = {
            u: {s for item in memory.get_all(user_id=u) for s in item.sources} for u in USERS
        }
        for n in range(attempted):
            b = batch(n)
            have = [i for i in b.ids if i in stored[b.user_id]]
            if n in acked and len(have) != len(b.ids):
                figures.problem("lost", f"batch {n}: {len(have)} of {len(b.ids)} messages")
            elif have and len(have) != len(b.ids):
                figures.problem("half_writes", f"batch {n}: {len(have)} of {len(b.ids)} stored")
            if n in acked and not b.infer and not set(b.ids) <= sources[b.user_id]:
                figures.problem("lost", f"batch {n}: a verbatim memory is missing")
        _verify_state(memory, data_dir, figures)
    finally:
        memory.close()
    for db in (data_dir / "memory.db", data_dir / "chroma" / "chroma.sqlite3"):
        for bad in _integrity(db):
            figures.problem("half_writes", f"{db.name}: {bad}")


def verify_reopen(data_dir: Path, figures: Figures) -> None:
    """After a run that may quarantine on purpose (bad input): the store opens, nothing is
    pending, vectors equal records, the integrity checks pass."""
    try:
        memory = open_memory(data_dir)
    except Exception as exc:
        figures.problem("reopen_failures", f"{type(exc).__name__}: {exc}")
        return
    try:
        _verify_state(memory, data_dir, figures, quarantine_ok=True)
    finally:
        memory.close()
    for bad in _integrity(data_dir / "memory.db"):
        figures.problem("half_writes", f"memory.db: {bad}")


def _verify_state(
    memory: Any, data_dir: Path, figures: Figures, *, quarantine_ok: bool = False
) -> None:
    if memory.records.unextracted(None):
        figures.problem("half_writes", "messages left unprocessed after the reopen")
    if memory.records.pending():
        figures.problem("half_writes", "vector operations left pending after the reopen")
    for entry in [] if quarantine_ok else memory.quarantined():
        figures.problem("half_writes", f"quarantined {entry.kind} {entry.ids}: {entry.error}")
    conn = sqlite3.connect(f"file:{data_dir / 'memory.db'}?mode=ro", uri=True)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM memories")]
    finally:
        conn.close()
    vectors = memory.vectors.get_vectors(ids)
    if len(vectors) != len(ids) or memory.vectors.count() != len(ids):
        figures.problem(
            "half_writes",
            f"{len(ids)} memories, {memory.vectors.count()} vectors ({len(vectors)} of them match)",
        )
    for memory_id in ids:
        rows = memory.records.history(memory_id)
        if not rows or rows[0].event.value != "ADD":
            figures.problem("half_writes", f"memory {memory_id} has no history starting with ADD")


def kill_run(data_dir: Path, kills: int, *, seed: int = 0, window: float = 1.5) -> Figures:
    """``kills`` rounds of spawn, kill -9, reopen and verify on one data dir."""
    rng, figures = random.Random(seed), Figures()
    acks = data_dir.parent / f"{data_dir.name}.acks"
    for _ in range(kills):
        acked = _acknowledged(acks)
        first = max(acked) + 1 if acked else 0
        figures.kills += _kill_one(data_dir, acks, first, rng, window)
        acked = _acknowledged(acks)
        attempted = (max(acked) + 2) if acked else first + 1
        verify_store(data_dir, attempted, acked, figures)
        if figures.reopen_failures:
            break
    figures.acknowledged = len(_acknowledged(acks))
    return figures


# -- 2. isolation --------------------------------------------------------------------------------

LOOKALIKES = (
    "alice",
    "Alice",
    "ALICE",
    "alice ",
    " alice",
    "alice\u200b",
    "\u0430lice",  # Cyrillic a
    "al",
    "alice_",
    "alice%",
    "%",
    "_",
    "a'lice",
    'alice"--',
    "alice/../bob",
    "alıce",  # dotless i
)


def _scopes(rng: random.Random) -> list[dict[str, str]]:
    scopes = []
    for user in LOOKALIKES:
        scopes.append({"user_id": user})
        scopes.append({"user_id": user, "agent_id": rng.choice(LOOKALIKES)})
        scopes.append({"user_id": user, "run_id": rng.choice(LOOKALIKES)})
    scopes.append({"agent_id": "alice"})
    scopes.append({"run_id": "alice"})
    return scopes


def _crafted_filters(me: dict[str, str], other: dict[str, str]) -> list[dict[str, Any]]:
    mine, theirs = me.get("user_id") or "x", other.get("user_id") or "y"
    return [
        {"user_id": theirs},
        {"OR": [{"user_id": theirs}, {"user_id": mine}]},
        {"NOT": {"user_id": mine}},
        {"user_id": {"ne": mine}},
        {"user_id": {"in": [theirs, mine]}},
        {"user_id": {"contains": "%"}},
        {"user_id": {"icontains": theirs[:2] or "a"}},
        {"agent_id": None},
        {"run_id": {"ne": "x"}},
        {"metadata.owner": theirs},
        {"OR": [{"kind": "fact"}, {"NOT": {"kind": "fact"}}]},
        {"metadata.secret": {"contains": "%"}},
    ]


def _belongs(item: Any, scope: dict[str, str]) -> bool:
    return all(getattr(item, k) == v for k, v in scope.items())


class _Isolation:
    """The randomized isolation run on one open memory."""

    def __init__(self, memory: Any, rng: random.Random, figures: Figures):
        self.memory, self.rng, self.figures = memory, rng, figures
        self.scopes = _scopes(rng)
        self.owner: dict[str, dict[str, str]] = {}  # memory id -> the scope that added it
        self.tokens: dict[str, str] = {}  # secret token -> the scope key that owns it

    def _key(self, scope: dict[str, str]) -> str:
        return json.dumps(scope, sort_keys=True)

    def add(self, scope: dict[str, str]) -> None:
        token = f"tok{self.rng.randrange(16**8):08x}"
        self.tokens[token] = self._key(scope)
        text = f"The secret of this scope is {token}."
        meta = {"owner": scope.get("user_id") or "", "secret": token}
        result = self.memory.add(text, **scope, infer=self.rng.random() < 0.3, metadata=meta)
        for event in result.results:
            self.owner.setdefault(event.id, scope)

    def leaked(self, scope: dict[str, str], items: list[Any], what: str) -> None:
        for item in items:
            if not _belongs(item, scope):
                self.figures.problem(
                    "cross_scope_reads", f"{what} as {scope} returned {item.id} of {item.scope}"
                )

    def read(self, scope: dict[str, str], other: dict[str, str]) -> None:
        m, rng = self.memory, self.rng
        filt = rng.choice([None, *_crafted_filters(scope, other)])
        self.leaked(scope, m.search("secret", **scope, limit=100, filters=filt), "search")
        self.leaked(scope, m.get_all(**scope, filters=filt, include_superseded=True), "get_all")
        # get_context takes long-term memories from the run's owner (the user/agent), by design
        owner = {k: v for k, v in scope.items() if k != "run_id"} or scope
        ctx = m.get_context("secret", **scope, token_budget=2000, filters=filt)
        self.leaked(owner, ctx.memories, "get_context")
        for token, key in self.tokens.items():
            if token in ctx.text and not self._sees(owner, key):
                self.figures.problem("cross_scope_reads", f"context of {scope} shows {key}")
        exported = [r for r in m.export(**scope) if r["type"] == "memory"]
        for record in exported:
            if not all(record.get(k) == v for k, v in scope.items()):
                self.figures.problem("cross_scope_reads", f"export of {scope}: {record['id']}")

    def _sees(self, scope: dict[str, str], key: str) -> bool:
        owner = json.loads(key)
        return all(owner.get(k) == v for k, v in scope.items())

    def by_id(self, scope: dict[str, str]) -> None:
        from hybrid_memory import MemoryNotFoundError

        foreign = [i for i, s in self.owner.items() if not self._sees(scope, self._key(s))]
        if not foreign:
            return
        memory_id = self.rng.choice(foreign)
        calls = [
            lambda: self.memory.get(memory_id, **scope),
            lambda: self.memory.history(memory_id, **scope),
            lambda: self.memory.update(memory_id, "hijacked", **scope),
            lambda: self.memory.delete(memory_id, **scope),
        ]
        try:
            got = self.rng.choice(calls)()
        except MemoryNotFoundError:
            return
        self.figures.problem("cross_scope_reads", f"{scope} reached {memory_id}: {got!r:.80}")

    def step(self) -> None:
        scope, other = self.rng.choice(self.scopes), self.rng.choice(self.scopes)
        roll = self.rng.random()
        if roll < 0.35 or not self.owner:
            self.add(scope)
        elif roll < 0.8:
            self.read(scope, other)
        else:
            self.by_id(scope)
        self.figures.isolation_ops += 1


def isolation_run(data_dir: Path, ops: int, *, seed: int = 0, **config: Any) -> Figures:
    """``ops`` random operations over look-alike scopes on a fresh memory."""
    figures = Figures()
    memory = open_memory(data_dir, **config)
    try:
        run = _Isolation(memory, random.Random(seed), figures)
        for _ in range(ops):
            run.step()
    finally:
        memory.close()
    return figures


# -- the long run --------------------------------------------------------------------------------


def report(figures: Figures, took: float) -> str:
    rows = [
        ("kills (kill -9 of a child during adds)", figures.kills),
        ("acknowledged adds", figures.acknowledged),
        ("acknowledged adds lost", figures.lost),
        ("reopen failures", figures.reopen_failures),
        ("half-writes", figures.half_writes),
        ("isolation operations", figures.isolation_ops),
        ("cross-scope reads", figures.cross_scope_reads),
        ("bad-input calls", figures.bad_inputs),
        ("non-project exceptions", figures.non_project_exceptions),
        ("refused calls that changed the store", figures.changed_on_error),
    ]
    lines = [f"{name:<40} {value:>8,}" for name, value in rows]
    lines.append(f"{'seconds':<40} {took:>8.0f}")
    lines.extend(figures.problems)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks.bad_inputs import bad_input_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--isolation-ops", type=int, default=3000)
    parser.add_argument("--bad-inputs", type=int, default=2000)
    parser.add_argument("--minutes", type=float, help="repeat the three runs until this is up")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="where to keep the data dirs (default: temp)")
    args = parser.parse_args(argv)
    started, total, rounds = time.monotonic(), Figures(), 0
    base = args.dir or Path(tempfile.mkdtemp(prefix="hm-faults-"))
    while True:
        seed = args.seed + rounds
        work = base / f"round-{rounds}"
        work.mkdir(parents=True, exist_ok=True)
        total.merge(kill_run(work / "killed", args.kills, seed=seed))
        total.merge(isolation_run(work / "isolation", args.isolation_ops, seed=seed))
        total.merge(bad_input_run(work / "bad", args.bad_inputs, seed=seed))
        rounds += 1
        elapsed = time.monotonic() - started
        print(f"round {rounds} done after {elapsed:.0f}s", file=sys.stderr, flush=True)
        if args.minutes is None or elapsed + elapsed / rounds > args.minutes * 60:
            break
    print(report(total, time.monotonic() - started))
    return 0 if total.clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
