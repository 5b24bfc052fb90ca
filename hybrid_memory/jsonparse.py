"""Tolerant JSON from model replies, validated with pydantic.

Real models wrap JSON in code fences or prose, leave trailing commas, use single quotes, send
one object where a list was asked for, or stop mid-way. :func:`parse_reply` repairs what can be
repaired safely (``json-repair`` does the repairing) and validates the result against a pydantic
model; anything else is a :class:`ReplyFormatError` carrying the raw reply and the reason, never
an empty result.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

from hybrid_memory.errors import ExtractionError

M = TypeVar("M", bound=BaseModel)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
MAX_REPLY_CHARS = 2_000_000


class ReplyFormatError(ExtractionError):
    """A model reply held no JSON matching the expected schema."""

    def __init__(self, reason: str, raw: str):
        super().__init__(f"unusable model reply: {reason}")
        self.reason = reason
        self.raw = raw


def extract_json(raw: str) -> Any:
    """The JSON value in ``raw`` (fenced, surrounded by prose, or slightly malformed)."""
    if not isinstance(raw, str):
        raise ReplyFormatError(f"expected text, got {type(raw).__name__}", repr(raw))
    if len(raw) > MAX_REPLY_CHARS:
        raise ReplyFormatError(f"reply of {len(raw)} characters is too large", raw[:2000])
    text = raw.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        pass
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ReplyFormatError("no JSON object or array in the reply", raw)
    try:
        value = json_repair.loads(text[start:])
    except (RecursionError, ValueError) as exc:
        raise ReplyFormatError(f"JSON could not be repaired: {exc}", raw) from None
    if value in ("", None):
        raise ReplyFormatError("JSON could not be repaired", raw)
    return value


def parse_reply(raw: str, model: type[M], *, list_field: str | None = None) -> M:
    """Validate the JSON of ``raw`` as ``model``.

    With ``list_field`` (the name of ``model``'s list field), a bare list or a single object
    that fits one item is accepted as that list.
    """
    value = extract_json(raw)
    if list_field is not None:
        if isinstance(value, list):
            value = {list_field: value}
        elif isinstance(value, dict) and list_field not in value:
            value = {list_field: [value]}
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in exc.errors()
        )[:1000]
        raise ReplyFormatError(f"does not match the schema ({problems})", raw) from None
