"""LoCoMo evidence-recall benchmark: hybrid-memory against simple baselines, on any LoCoMo file.

    python -m benchmarks.locomo --data path/to/locomo10.json --out benchmarks/results/locomo

Each conversation is ingested into its own scope, session by session, one message per turn
(``name`` = speaker, ``id`` = dia_id, ``timestamp`` = the session's date, image captions as text).
The generated ``observation`` / ``session_summary`` / ``event_summary`` fields are never read.
For every question of categories 1-4 (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop) each
system retrieves; recall@k is the share of the question's evidence turns found among the source
turns of the top-k results. Context recall does the same for what ``get_context`` (or the
baseline's window) fits into a token budget.

Systems: ``hybrid`` (HybridMemory, embedded defaults), ``dense`` (raw turns, same embedder),
``bm25`` (raw turns), ``rrf`` (fusion of dense and bm25), ``last_n`` (recent-window context
only). The full-conversation token count is reported as the "everything" reference.

Writes ``results.json``, ``report.md`` and PNG plots into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10, 25, 50)
BUDGETS = (500, 1000, 2000, 4000)
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_TOKEN = re.compile(r"\w+")
MODEL = "gpt-4o-mini"


# -- data -------------------------------------------------------------------------------------


@dataclass
class Turn:
    id: str
    speaker: str
    text: str
    when: datetime | None


@dataclass
class Question:
    question: str
    category: int
    evidence: list[str]
    answer: str | None


@dataclass
class Conversation:
    sample_id: str
    sessions: list[list[Turn]]
    questions: list[Question] = field(default_factory=list)

    @property
    def turns(self) -> list[Turn]:
        return [t for session in self.sessions for t in session]


def parse_when(text: str | None) -> datetime | None:
    """``'1:56 pm on 8 May, 2023'`` -> datetime (None when absent or unreadable)."""
    if not text:
        return None
    for fmt in ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    try:
        from dateutil import parser

        return parser.parse(text.replace(" on ", " "), fuzzy=True)
    except (ValueError, OverflowError):
        return None


def normalize_evidence(raw: Sequence[str], known: set[str]) -> list[str]:
    """Split malformed strings ("D8:6; D9:17"), normalise "D:11:26" / "D30:05", drop unknown ids."""
    out: list[str] = []
    for item in raw:
        for match in _EVIDENCE.finditer(str(item)):
            dia = f"D{int(match.group(1))}:{int(match.group(2))}"
            if dia in known and dia not in out:
                out.append(dia)
    return out


def load(path: Path, limit: int | None = None) -> list[Conversation]:
    """Read a LoCoMo-format file (a list of samples)."""
    samples = json.loads(Path(path).read_text(encoding="utf-8"))
    conversations = []
    for sample in samples[:limit] if limit else samples:
        conv = sample["conversation"]
        numbers = sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k))
        sessions = []
        for n in numbers:
            when = parse_when(conv.get(f"session_{n}_date_time"))
            turns = []
            for t in conv[f"session_{n}"]:
                text = t.get("text", "")
                if t.get("blip_caption"):
                    text = f"{text} [shared an image: {t['blip_caption']}]"
                turns.append(Turn(t["dia_id"], t["speaker"], text, when))
            sessions.append(turns)
        c = Conversation(sample["sample_id"], sessions)
        known = {t.id for t in c.turns}
        for qa in sample.get("qa", []):
            c.questions.append(
                Question(
                    qa["question"],
                    int(qa["category"]),
                    normalize_evidence(qa.get("evidence", []), known),
                    qa.get("answer"),
                )
            )
        conversations.append(c)
    return conversations


def recall(evidence: Sequence[str], retrieved: Sequence[Sequence[str]], k: int) -> float:
    """Share of ``evidence`` among the sources of the first ``k`` retrieved items."""
    if not evidence:
        raise ValueError("recall needs at least one evidence id")
    found = {s for sources in retrieved[:k] for s in sources}
    return len(set(evidence) & found) / len(set(evidence))


def _pct(values: Sequence[float]) -> float:
    return round(100 * statistics.fmean(values), 1) if values else float("nan")


def _latency(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[max(0, int(0.95 * len(ordered)) - 1)], 2),
    }


# -- systems ----------------------------------------------------------------------------------


class System:
    """A retrieval system under test: ingest a conversation, then answer queries."""

    name = "system"
    searches = True
    contexts = True

    def ingest(self, conversation: Conversation) -> None: ...

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        """Top-k results as (source turn ids, text)."""
        raise NotImplementedError

    def context(self, question: str, budget: int) -> tuple[set[str], int]:
        """Source turn ids included in a context of at most ``budget`` tokens, and its size."""
        raise NotImplementedError


class HybridSystem(System):
    name = "hybrid"

    def __init__(self, embedder: Any, data_dir: Path, pipeline: str = "auto"):
        from hybrid_memory import HybridMemory, MemoryConfig
        from hybrid_memory.llm import LLMConfig

        llm = LLMConfig.from_env() if pipeline == "llm" else None
        if pipeline == "llm" and llm is None:
            raise ValueError("--pipeline llm needs an endpoint: set OPENAI_API_KEY/BASE_URL")
        self.memory = HybridMemory(
            MemoryConfig(
                data_dir=data_dir,
                embedder=embedder,
                llm=llm,
                llm_from_env=pipeline == "auto",
            )
        )
        self.pipeline = self.memory.extractor.name
        self.add_seconds: list[float] = []
        self.scope = ""
        self.last_session = ""

    def ingest(self, conversation: Conversation) -> None:
        self.scope = conversation.sample_id
        for n, session in enumerate(conversation.sessions, 1):
            self.last_session = f"session_{n}"
            for turn in session:
                message = {
                    "role": "user",
                    "name": turn.speaker,
                    "id": turn.id,
                    "content": turn.text,
                }
                if turn.when is not None:
                    message["timestamp"] = turn.when.isoformat()
                start = time.perf_counter()
                self.memory.add(message, user_id=self.scope, run_id=self.last_session)
                self.add_seconds.append(time.perf_counter() - start)

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        hits = self.memory.search(question, user_id=self.scope, limit=k)
        return [(h.sources, h.memory) for h in hits]

    def context_messages(self, question: str, budget: int) -> list[dict[str, Any]]:
        return self.memory.get_context(
            question,
            user_id=self.scope,
            run_id=self.last_session,
            token_budget=budget,
            model=MODEL,
        ).messages

    def context(self, question: str, budget: int) -> tuple[set[str], int]:
        ctx = self.memory.get_context(
            question, user_id=self.scope, run_id=self.last_session, token_budget=budget, model=MODEL
        )
        sources = {s for h in ctx.memories for s in h.sources}
        sources |= set(ctx.recent_ids)
        return sources, ctx.tokens


def _model_path(embedder: Any) -> str:
    """The local files of the embedder, so Mem0 loads the very same model."""
    model_id = getattr(embedder, "model_id", None)
    if model_id is None:
        raise ValueError("Mem0 runs with a sentence-transformers embedder only")
    from hybrid_memory.embeddings import bundled_model_path

    return bundled_model_path(model_id)


class _Answers:
    """Accumulates answer-level scores (LLM judge and token F1) per category."""

    def __init__(self, judge: Any, budget: int):
        self.judge, self.budget = judge, budget
        self.correct: dict[str, list[float]] = defaultdict(list)
        self.f1: dict[str, list[float]] = defaultdict(list)

    def score(self, system: HybridSystem, q: Question, category: str) -> None:
        from benchmarks.answers import token_f1

        messages = system.context_messages(q.question, self.budget)
        answer = self.judge.answer(messages, q.question)
        gold = str(q.answer)
        correct = float(self.judge.judge(q.question, gold, answer))
        f1 = token_f1(answer, gold)
        for key in ("all", category):
            self.correct[key].append(correct)
            self.f1[key].append(f1)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.judge.model,
            "context_budget": self.budget,
            "J": {k: _pct(v) for k, v in sorted(self.correct.items())},
            "F1": {k: _pct(v) for k, v in sorted(self.f1.items())},
        }


def _turn_text(turn: Turn) -> str:
    return f"{turn.speaker}: {turn.text}"


class DenseTurns(System):
    name = "dense"
    contexts = False

    def __init__(self, embedder: Any):
        self.embedder = embedder

    def ingest(self, conversation: Conversation) -> None:
        self.turns = conversation.turns
        self.matrix = self.embedder.embed_batch([_turn_text(t) for t in self.turns])

    def ranking(self, question: str) -> list[int]:
        scores = self.matrix @ self.embedder.embed_batch([question])[0]
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        return [([self.turns[i].id], _turn_text(self.turns[i])) for i in self.ranking(question)[:k]]


class BM25Turns(System):
    name = "bm25"
    contexts = False

    def ingest(self, conversation: Conversation) -> None:
        from rank_bm25 import BM25Okapi

        self.turns = conversation.turns
        self.index = BM25Okapi([_TOKEN.findall(_turn_text(t).lower()) for t in self.turns])

    def ranking(self, question: str) -> list[int]:
        scores = self.index.get_scores(_TOKEN.findall(question.lower()))
        return [int(i) for i in np.argsort(-scores, kind="stable")]

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        return [([self.turns[i].id], _turn_text(self.turns[i])) for i in self.ranking(question)[:k]]


class FusionTurns(System):
    name = "rrf"
    contexts = False

    def __init__(self, dense: DenseTurns, bm25: BM25Turns, k: int = 60):
        self.dense, self.bm25, self.k = dense, bm25, k

    def ingest(self, conversation: Conversation) -> None:
        self.turns = conversation.turns  # the two members are ingested on their own

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        fused: dict[int, float] = defaultdict(float)
        for ranking in (self.dense.ranking(question), self.bm25.ranking(question)):
            for rank, i in enumerate(ranking, 1):
                fused[i] += 1.0 / (self.k + rank)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [([self.turns[i].id], _turn_text(self.turns[i])) for i in order]


def make_mem0(
    data_dir: Path, model_path: str, dimension: int, collection: str, endpoint: Any = None
) -> Any:
    """A Mem0 ``Memory`` on a local Qdrant with the given sentence-transformers model files and
    telemetry off. Without ``endpoint`` (a :class:`benchmarks.answers.Endpoint`) no LLM call is
    ever made (it is then only used with ``infer=False``)."""
    llm = {"api_key": "unused-offline"}  # Mem0 builds an LLM client eagerly, even unused
    if endpoint is not None:
        llm = {
            "api_key": endpoint.api_key,
            "model": endpoint.model,
            "openai_base_url": endpoint.base_url,
        }
    import os

    os.environ.setdefault("MEM0_TELEMETRY", "False")
    from mem0 import Memory

    return Memory.from_config(
        {
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "collection_name": collection,
                    "path": str(data_dir / "qdrant"),
                    "embedding_model_dims": dimension,
                    "on_disk": True,
                },
            },
            "embedder": {
                "provider": "huggingface",
                "config": {"model": model_path, "embedding_dims": dimension},
            },
            "history_db_path": str(data_dir / "history.db"),
            "llm": {"provider": "openai", "config": llm},
        }
    )


class Mem0Turns(System):
    """Mem0 (``mem0ai``) with the same embedder files and a local Qdrant. With ``infer=False``
    every turn is stored verbatim, as Mem0 does without an LLM; with an ``endpoint``, Mem0's own
    LLM extraction runs (``infer=True``). Its BM25 needs fastembed and its entity boost needs
    spaCy, neither of which runs offline here, so it searches semantically."""

    name = "mem0"
    contexts = False

    def __init__(self, data_dir: Path, model_path: str, dimension: int, endpoint: Any = None):
        self.infer = endpoint is not None
        self.memory = make_mem0(data_dir, model_path, dimension, "locomo", endpoint)
        self.add_seconds: list[float] = []

    def ingest(self, conversation: Conversation) -> None:
        self.scope = conversation.sample_id
        for turn in conversation.turns:
            start = time.perf_counter()
            self.memory.add(
                [{"role": "user", "content": _turn_text(turn)}],
                user_id=self.scope,
                infer=self.infer,
                metadata={"dia_id": turn.id},
            )
            self.add_seconds.append(time.perf_counter() - start)

    def search(self, question: str, k: int) -> list[tuple[list[str], str]]:
        found = self.memory.search(question, filters={"user_id": self.scope}, top_k=k)
        return [([r["metadata"]["dia_id"]], r["memory"]) for r in found["results"]]


class LastTurns(System):
    """The context a plain chat window gives: the most recent turns that fit."""

    name = "last_n"
    searches = False

    def __init__(self, counter: Any):
        self.counter = counter

    def ingest(self, conversation: Conversation) -> None:
        self.turns = conversation.turns
        self.costs = [
            self.counter.count_message({"role": "user", "content": _turn_text(t)})
            for t in self.turns
        ]

    def context(self, question: str, budget: int) -> tuple[set[str], int]:
        used, ids = 3, set()
        for turn, cost in zip(reversed(self.turns), reversed(self.costs), strict=True):
            if used + cost > budget:
                break
            used += cost
            ids.add(turn.id)
        return ids, used if ids else 0


# -- the run ----------------------------------------------------------------------------------


def run(
    conversations: list[Conversation],
    systems: Sequence[str],
    embedder: Any,
    progress: bool,
    judge: Any = None,
    answer_budget: int = 2000,
    pipeline: str = "auto",
    mem0_endpoint: Any = None,
) -> dict[str, Any]:
    """Ingest, query and score every system; with a ``judge`` (see :mod:`benchmarks.answers`)
    also answer each question from hybrid-memory's context and grade the answers."""
    from hybrid_memory.tokens import TokenCounter

    counter = TokenCounter.for_model(MODEL)
    rec: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    ctx_rec: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    ctx_tokens: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    hit_tokens: dict[str, list[int]] = defaultdict(list)
    hit_sources: dict[str, list[int]] = defaultdict(list)
    search_s: dict[str, list[float]] = defaultdict(list)
    add_s: dict[str, list[float]] = defaultdict(list)
    full_tokens: list[int] = []
    questions = skipped = 0
    extractor_name = None
    adversarial = 0
    answers = _Answers(judge, answer_budget) if judge is not None and "hybrid" in systems else None
    bar = _progress(len(conversations), progress)
    with tempfile.TemporaryDirectory(prefix="locomo-") as tmp:
        for n, conv in enumerate(conversations):
            active: dict[str, System] = {}
            dense = DenseTurns(embedder)
            bm25 = BM25Turns()
            if "hybrid" in systems:
                active["hybrid"] = HybridSystem(embedder, Path(tmp) / f"hm{n}", pipeline)
                extractor_name = active["hybrid"].pipeline
            if "dense" in systems or "rrf" in systems:
                active["dense"] = dense
            if "bm25" in systems or "rrf" in systems:
                active["bm25"] = bm25
            if "rrf" in systems:
                active["rrf"] = FusionTurns(dense, bm25)
            if "last_n" in systems:
                active["last_n"] = LastTurns(counter)
            if "mem0" in systems:
                active["mem0"] = Mem0Turns(
                    Path(tmp) / f"mem0-{n}", _model_path(embedder), embedder.dimension
                )
            if "mem0_infer" in systems:
                active["mem0_infer"] = Mem0Turns(
                    Path(tmp) / f"mem0i-{n}",
                    _model_path(embedder),
                    embedder.dimension,
                    endpoint=mem0_endpoint,
                )
            for system in active.values():
                system.ingest(conv)
            for name in ("hybrid", "mem0", "mem0_infer"):
                if name in active:
                    add_s[name].extend(active[name].add_seconds)
            full_tokens.append(
                counter.count_messages(
                    [{"role": "user", "content": _turn_text(t)} for t in conv.turns]
                )
            )
            for q in conv.questions:
                if q.category == 5:
                    adversarial += 1
                    continue
                if q.category not in CATEGORIES:
                    continue
                if not q.evidence:
                    skipped += 1
                    continue
                questions += 1
                cat = CATEGORIES[q.category]
                if answers is not None:
                    answers.score(active["hybrid"], q, cat)
                for name, system in active.items():
                    if name not in systems:
                        continue
                    if system.searches:
                        start = time.perf_counter()
                        results = system.search(q.question, max(KS))
                        search_s[name].append(time.perf_counter() - start)
                        sources = [r[0] for r in results]
                        for k in KS:
                            value = recall(q.evidence, sources, k)
                            rec[name][f"all@{k}"].append(value)
                            rec[name][f"{cat}@{k}"].append(value)
                        top = results[:10]
                        hit_tokens[name].append(sum(counter.count_text(r[1]) for r in top))
                        hit_sources[name].extend(len(r[0]) for r in top)
                    if system.contexts:
                        for budget in BUDGETS:
                            ids, tokens = system.context(q.question, budget)
                            value = len(set(q.evidence) & ids) / len(q.evidence)
                            ctx_rec[name][f"all@{budget}"].append(value)
                            ctx_rec[name][f"{cat}@{budget}"].append(value)
                            ctx_tokens[name][budget].append(tokens)
            if "hybrid" in active:
                active["hybrid"].memory.close()
            bar.update(1)
    bar.close()

    systems_out: dict[str, Any] = {}
    for name in systems:
        entry: dict[str, Any] = {}
        if rec.get(name):
            entry["recall"] = {key: _pct(v) for key, v in sorted(rec[name].items())}
            entry["mean_top10_tokens"] = round(statistics.fmean(hit_tokens[name]), 1)
            entry["mean_sources_per_hit"] = round(statistics.fmean(hit_sources[name]), 2)
            entry["search_latency"] = _latency(search_s[name])
            entry["search_ms"] = [round(1000 * v, 3) for v in search_s[name]]
        if ctx_rec.get(name):
            entry["context_recall"] = {k: _pct(v) for k, v in sorted(ctx_rec[name].items())}
            entry["context_tokens"] = {
                str(b): round(statistics.fmean(v), 1) for b, v in ctx_tokens[name].items()
            }
        if add_s.get(name):
            entry["add_latency"] = _latency(add_s[name])
            entry["add_ms"] = [round(1000 * v, 3) for v in add_s[name]]
        systems_out[name] = entry
    return {
        "conversations": len(conversations),
        "questions": questions,
        "skipped_without_evidence": skipped,
        "adversarial_not_scored": adversarial,
        "full_context_tokens_mean": round(statistics.fmean(full_tokens), 1) if full_tokens else 0,
        "embedder": getattr(embedder, "name", "?"),
        "hybrid_extractor": extractor_name,
        "model_for_tokens": MODEL,
        "systems": systems_out,
        "answers": answers.summary() if answers is not None else None,
    }


class _NoBar:
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="conversations", unit="conv")


# -- report -----------------------------------------------------------------------------------


def _rows(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The systems of ``result``, with the previous release's hybrid-memory (``--previous``)
    just after this version's."""
    rows = list(result["systems"].items())
    previous = result.get("previous")
    if previous:
        at = next((n for n, (name, _) in enumerate(rows) if name == "hybrid"), -1) + 1
        rows.insert(at, (f"hybrid ({previous['label']})", previous["hybrid"]))
    return rows


SHOWN_AS = {
    "hybrid": "**hybrid-memory**",
    "dense": "dense over raw turns",
    "bm25": "BM25 over raw turns",
    "rrf": "RRF of dense + BM25",
    "last_n": "last turns that fit",
    "mem0": "Mem0 (`infer=False`)",
    "mem0_infer": "Mem0 (its own LLM extraction)",
}
README_MARK = "<!-- locomo-table -->"


def _shown(name: str) -> str:
    if name.startswith("hybrid ("):
        return "hybrid-memory, " + name[len("hybrid (") : -1]
    return SHOWN_AS.get(name, name)


def write_readme_table(path: Path, result: dict[str, Any]) -> None:
    """Replace the table after ``README_MARK`` in ``path`` (up to the first blank line) with
    this run's :func:`summary_table`."""
    text = path.read_text(encoding="utf-8")
    start = text.find(README_MARK)
    if start < 0:
        raise ValueError(f"{path} has no {README_MARK} line to put the table after")
    head = start + len(README_MARK) + 1
    end = text.find("\n\n", head)
    end = len(text) if end < 0 else end
    path.write_text(text[:head] + "\n".join(summary_table(result)) + text[end:], encoding="utf-8")


def _text_or_empty(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def summary_table(result: dict[str, Any]) -> list[str]:
    """One table: recall, recall@10 per category, context recall at 1,000 tokens and the cost
    of the top-10 texts for every system (the README's table)."""
    cats = list(CATEGORIES.values())
    lines = [
        "| system | R@5 | R@10 | " + " | ".join(cats) + " | context@1000 | top-10 tokens |",
        "|---|---|---|" + "---|" * len(cats) + "---|---|",
    ]
    for name, entry in _rows(result):
        if "recall" not in entry:
            continue
        r = entry["recall"]
        ctx = entry.get("context_recall", {}).get("all@1000", "-")
        lines.append(
            f"| {_shown(name)} | {r['all@5']} | {r['all@10']} | "
            + " | ".join(str(r.get(f"{c}@10", "")) for c in cats)
            + f" | {ctx} | {entry['mean_top10_tokens']} |"
        )
    return lines


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        "# LoCoMo evidence recall",
        "",
        f"{result['conversations']} conversations, {result['questions']} questions of "
        f"categories 1-4 ({result['skipped_without_evidence']} skipped without evidence, "
        f"{result['adversarial_not_scored']} adversarial not scored); embedder "
        f"`{result['embedder']}`; hybrid-memory extractor `{result.get('hybrid_extractor')}`; "
        f"tokens counted for `{result['model_for_tokens']}`. "
        f"Whole conversation: {result['full_context_tokens_mean']:.0f} tokens on average.",
        "",
        f"Reproduce: `{command}`",
        "",
        "## Summary (%; recall@10 per category)",
        "",
        *summary_table(result),
        "",
        "## Search recall@k (%)",
        "",
        "| system | R@5 | R@10 | R@25 | R@50 | top-10 tokens | sources/hit | search p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in _rows(result):
        if "recall" not in entry:
            continue
        r, lat = entry["recall"], entry.get("search_latency", {})
        lines.append(
            f"| {name} | {r['all@5']} | {r['all@10']} | {r['all@25']} | {r['all@50']} | "
            f"{entry['mean_top10_tokens']} | {entry['mean_sources_per_hit']} | "
            f"{lat.get('p50_ms', '')} / {lat.get('p95_ms', '')} |"
        )
    lines += [
        "",
        "## Recall@10 per category (%)",
        "",
        "| system | " + " | ".join(CATEGORIES.values()) + " |",
        "|---|" + "---|" * len(CATEGORIES),
    ]
    for name, entry in _rows(result):
        if "recall" in entry:
            lines.append(
                f"| {name} | "
                + " | ".join(str(entry["recall"].get(f"{c}@10", "")) for c in CATEGORIES.values())
                + " |"
            )
    lines += [
        "",
        "## Context recall at a token budget (%)",
        "",
        "| system | " + " | ".join(str(b) for b in BUDGETS) + " |",
        "|---|" + "---|" * len(BUDGETS),
    ]
    for name, entry in _rows(result):
        if "context_recall" in entry:
            lines.append(
                f"| {name} | "
                + " | ".join(str(entry["context_recall"].get(f"all@{b}", "")) for b in BUDGETS)
                + " |"
            )
    lines.append("")
    for name, entry in result["systems"].items():
        if entry.get("add_latency"):
            lat = entry["add_latency"]
            lines.append(
                f"- {name} add latency per turn: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms"
            )
    for name, why in result.get("unavailable", {}).items():
        lines.append(f"- {name} not run: {why}")
    answers = result.get("answers")
    lines += ["", "## Answers (LLM judge J and token F1, %)", ""]
    if answers and "J" in answers:
        lines += [
            f"hybrid-memory context of {answers['context_budget']} tokens, answered and judged "
            f"by `{answers['model']}`.",
            "",
            "| metric | all | " + " | ".join(CATEGORIES.values()) + " |",
            "|---|---|" + "---|" * len(CATEGORIES),
        ]
        for metric in ("J", "F1"):
            row = answers[metric]
            lines.append(
                f"| {metric} | {row.get('all', '')} | "
                + " | ".join(str(row.get(c, "")) for c in CATEGORIES.values())
                + " |"
            )
    else:
        lines.append(result.get("answers_skipped") or "not run")
    return "\n".join(lines) + "\n"


def plots(result: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, entry in result["systems"].items():
        if "recall" in entry:
            ax.plot(KS, [entry["recall"][f"all@{k}"] for k in KS], marker="o", label=name)
    ax.set(xlabel="k", ylabel="evidence recall@k (%)", title="LoCoMo search recall", ylim=(0, 100))
    ax.legend()
    fig.tight_layout()
    path = out / "recall_at_k.png"
    fig.savefig(path, dpi=120)
    written.append(path)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, entry in _rows(result):
        if "context_recall" in entry:
            xs = [entry["context_tokens"][str(b)] for b in BUDGETS]
            ax.plot(
                xs, [entry["context_recall"][f"all@{b}"] for b in BUDGETS], marker="o", label=name
            )
    ax.axvline(
        result["full_context_tokens_mean"], color="grey", linestyle="--", label="whole conversation"
    )
    ax.set(
        xscale="log",
        xlabel="context tokens (mean)",
        ylabel="evidence recall (%)",
        title="Recall vs context tokens",
        ylim=(0, 100),
    )
    ax.legend()
    fig.tight_layout()
    path = out / "recall_vs_tokens.png"
    fig.savefig(path, dpi=120)
    written.append(path)
    plt.close(fig)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    searched = {n: e["search_ms"] for n, e in result["systems"].items() if e.get("search_ms")}
    if searched:
        left.boxplot(list(searched.values()), tick_labels=list(searched), showfliers=False)
        left.set(ylabel="ms", title="search latency per query")
    added = {n: e["add_ms"] for n, e in result["systems"].items() if e.get("add_ms")}
    if added:
        right.boxplot(list(added.values()), tick_labels=list(added), showfliers=False)
        right.set(ylabel="ms", title="add latency per turn")
    fig.tight_layout()
    path = out / "latency.png"
    fig.savefig(path, dpi=120)
    written.append(path)
    plt.close(fig)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.locomo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="a LoCoMo-format JSON file")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/locomo"))
    parser.add_argument("--limit-conversations", type=int)
    parser.add_argument(
        "--systems",
        default="hybrid,dense,bm25,rrf,last_n,mem0",
        help="comma-separated: hybrid, dense, bm25, rrf, last_n, mem0 (mem0 runs when mem0ai "
        "is installed: pip install 'hybrid-memory[bench]')",
    )
    parser.add_argument(
        "--embedder",
        default="all-MiniLM-L6-v2",
        help="embedding model: all-MiniLM-L6-v2 (onnxruntime), sentence-transformers:<model> "
        "(torch), or 'hashing' for a quick smoke run",
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--previous",
        type=Path,
        help="results.json of an earlier release: its hybrid-memory figures are shown beside "
        "this run's (e.g. benchmarks/reports/locomo/previous-release.json)",
    )
    parser.add_argument(
        "--previous-label", default="previous release", help="how the report names it"
    )
    parser.add_argument(
        "--readme",
        type=Path,
        help=f"a Markdown file whose table after the line {README_MARK} is replaced by this "
        "run's (e.g. README.md)",
    )
    parser.add_argument(
        "--pipeline",
        choices=["auto", "offline", "llm"],
        default="auto",
        help="hybrid-memory's extraction: the offline rules, the configured LLM endpoint, or "
        "auto (the LLM when OPENAI_* / HYBRID_MEMORY_LLM_* name one)",
    )
    parser.add_argument(
        "--no-answers",
        action="store_true",
        help="skip the answer-level evaluation even with an LLM configured",
    )
    parser.add_argument(
        "--answer-budget",
        type=int,
        default=2000,
        help="token budget of the context the answers are given",
    )
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - {"hybrid", "dense", "bm25", "rrf", "last_n", "mem0"}
    if unknown:
        parser.error(f"unknown systems: {sorted(unknown)}")
    earlier = None
    if args.previous is not None:  # read first: a wrong path fails before an hour of work
        try:
            earlier = json.loads(args.previous.read_text(encoding="utf-8"))["systems"]["hybrid"]
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"--previous {args.previous}: no hybrid run in a results.json ({exc})")
    if args.readme is not None and README_MARK not in _text_or_empty(args.readme):
        parser.error(f"--readme {args.readme}: no {README_MARK} line to put the table after")
    unavailable: dict[str, str] = {}
    if "mem0" in systems:
        import importlib.util

        if importlib.util.find_spec("mem0") is None:
            unavailable["mem0"] = "mem0ai is not installed (pip install 'hybrid-memory[bench]')"
        elif args.embedder.startswith("hashing"):
            unavailable["mem0"] = "Mem0 needs a sentence-transformers embedder"
        if "mem0" in unavailable:
            systems.remove("mem0")
    from hybrid_memory.embeddings import load_embedder

    embedder = load_embedder(args.embedder)
    conversations = load(args.data, args.limit_conversations)
    started = time.perf_counter()
    from benchmarks.answers import AnswerJudge, endpoint_from_env

    endpoint = endpoint_from_env()
    judge = AnswerJudge(endpoint) if endpoint is not None and not args.no_answers else None
    if endpoint is not None and "mem0" in systems:
        systems.append("mem0_infer")  # Mem0's own LLM pipeline beside ours
    result = run(
        conversations,
        systems,
        embedder,
        progress=not args.no_progress,
        judge=judge,
        answer_budget=args.answer_budget,
        pipeline=args.pipeline,
        mem0_endpoint=endpoint,
    )
    if judge is None:
        result["answers_skipped"] = (
            "skipped: --no-answers given"
            if args.no_answers
            else "skipped: no LLM endpoint configured (set OPENAI_BASE_URL / OPENAI_API_KEY / "
            "OPENAI_MODEL, or HYBRID_MEMORY_LLM_*, to answer and grade with an LLM judge)"
        )
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["unavailable"] = unavailable
    if earlier is not None:
        result["previous"] = {
            "label": args.previous_label,
            "source": str(args.previous),
            "hybrid": earlier,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.locomo " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:]
    )
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "report.md").write_text(markdown(result, command))
    for path in plots(result, args.out):
        print(f"wrote {path}")
    if args.readme is not None:
        write_readme_table(args.readme, result)
        print(f"wrote the table of {args.readme}")
    print(markdown(result, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
