"""Stored text as data inside a prompt: one line that cannot look like the frame around it.

Memories, profile lines, summaries and conversation turns are text that users (or documents
and tools they relayed) wrote. When they go into a prompt the frame is ours: instructions,
section headers, bullets, speaker lines. :func:`as_data` makes a stored text safe to place in
that frame:

- every run of whitespace, line and paragraph separators included (``\\n``, ``\\r``, ``\\v``,
  ``\\f``, U+0085, U+2028, U+2029), becomes one space, so stored text never starts a line of
  its own: no forged header, bullet, dated entry or ``system:`` line;
- control, format (zero-width, bidirectional overrides), private-use, surrogate and unassigned
  characters are removed, except the zero-width joiner that emoji sequences need;
- chat-template tokens (``<|im_start|>``, ``<|eot_id|>``, ``[INST]``, ``<<SYS>>``, ``<s>``,
  ``<start_of_turn>``, ``<system>``...) lose their brackets and become a plain word in
  parentheses (and a stray ``<|`` or ``|>`` becomes a parenthesis), so no serving stack can
  read them as a turn boundary.

The meaning of ordinary text is unchanged; only its layout is flattened.
"""

from __future__ import annotations

import re
import unicodedata

_ZWJ = "\u200d"
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_TEMPLATE_TOKEN = re.compile(
    r"<\|\s*([^|<>]{0,40}?)\s*\|>"  # <|im_start|>, <|eot_id|>, <|endoftext|>
    r"|<</?\s*(SYS)\s*>>"  # <<SYS>>, <</SYS>>
    r"|\[/?\s*(INST|SYS|SYSTEM)\s*\]"  # [INST], [/INST]
    r"|</?\s*(s|bos|eos|pad|unk|start_of_turn|end_of_turn|start|end"
    r"|system|user|assistant|developer|tool|im_start|im_end)\s*>",
    re.IGNORECASE,
)


def _defused(match: re.Match[str]) -> str:
    word = next((g for g in match.groups() if g), "")
    return f"({word.strip()})" if word.strip() else " "


def _printable(text: str) -> str:
    if text.isascii():
        return "".join(ch for ch in text if ch >= " " and ch != "\x7f" or ch in " \t\n\r")
    return "".join(
        ch
        for ch in text
        if ch == _ZWJ or ch.isspace() or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )


def as_data(text: str) -> str:
    """``text`` on one line, without invisible characters or template tokens (see the module
    docstring)."""
    flat = " ".join(_printable(text).split())
    while True:
        defused = _TEMPLATE_TOKEN.sub(_defused, flat).replace("<|", "(").replace("|>", ")")
        if defused == flat:
            break
        flat = defused  # removing one token must not join the halves of another
    return " ".join(flat.split())
