"""Answer-level evaluation for LoCoMo: answer from the memory context, grade with an LLM judge.

Runs only when an OpenAI-compatible endpoint is configured, through the standard variables
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``OPENAI_MODEL`` or their ``HYBRID_MEMORY_LLM_*``
twins (``BASE_URL``, ``API_KEY``, ``MODEL``). Reports per category the LLM-judge accuracy (J, in
%) and the token F1 of the answers against the gold answers.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

ANSWER_PROMPT = (
    "Answer the question about the conversation using only the memories and messages above. "
    "Give a short answer (a few words); resolve relative dates to absolute ones. If the "
    "memories do not contain the answer, say 'unknown'.\n\nQuestion: {question}"
)
JUDGE_PROMPT = (
    "You grade answers to questions about a long conversation.\nQuestion: {question}\n"
    "Gold answer: {gold}\nGenerated answer: {answer}\n"
    "Is the generated answer correct? It is correct if it refers to the same thing as the gold "
    "answer, even with other wording or more detail; dates may be written differently. "
    "Reply with exactly one word: CORRECT or WRONG."
)


@dataclass
class Endpoint:
    base_url: str | None
    api_key: str
    model: str


def endpoint_from_env(env: dict[str, str] | None = None) -> Endpoint | None:
    """The configured endpoint (the same variables the memory itself reads), or None."""
    from hybrid_memory.llm import LLMConfig

    config = LLMConfig.from_env(env)
    if config is None:
        return None
    return Endpoint(
        base_url=config.base_url, api_key=config.api_key or "unused", model=config.model
    )


def _normalize(text: str) -> list[str]:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return text.split()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 between two short answers."""
    pred, ref = _normalize(str(prediction)), _normalize(str(gold))
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


class AnswerJudge:
    """Answers with a context and grades the answer, through one OpenAI-compatible client."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0):
        import openai

        self.model = endpoint.model
        self.client = openai.OpenAI(
            base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=timeout, max_retries=3
        )

    def _ask(self, messages: list[dict[str, Any]]) -> str:
        reply = self.client.chat.completions.create(
            model=self.model, messages=messages, temperature=0
        )
        return (reply.choices[0].message.content or "").strip()

    def answer(self, context_messages: list[dict[str, Any]], question: str) -> str:
        prompt = {"role": "user", "content": ANSWER_PROMPT.format(question=question)}
        return self._ask([*context_messages, prompt])

    def judge(self, question: str, gold: str, answer: str) -> bool:
        verdict = self._ask(
            [
                {
                    "role": "user",
                    "content": JUDGE_PROMPT.format(question=question, gold=gold, answer=answer),
                }
            ]
        )
        return verdict.strip().upper().startswith("CORRECT")
