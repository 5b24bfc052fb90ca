"""What makes a caller's value storable, checked once at the boundary.

Every store keeps text as UTF-8, numbers in SQLite's 64-bit integers and IEEE doubles, and JSON
that SQLite's JSON functions can read (at most 1000 levels deep, no NaN or infinity). A value
outside that is refused here, with an error that says what to change, instead of being
accepted and failing in a later read:

- :func:`check_text`: valid Unicode (no unpaired surrogates) without NUL characters, which
  PostgreSQL's text and JSON types cannot hold;
- :func:`check_label`: a short label (an id, a speaker's name, an actor): valid Unicode, no
  control characters, not blank, bounded length;
- :func:`check_number`: finite, and integers within 64 bits;
- :func:`check_json`: a JSON value (dicts with string keys, lists, strings, numbers, booleans,
  null) whose strings and numbers pass the checks above, nested at most ``max_depth`` levels.
"""

from __future__ import annotations

import math
import re
from typing import Any

from hybrid_memory.errors import InputTooLargeError, UserInputError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_text(value: str, what: str, *, error: type[UserInputError] = UserInputError) -> str:
    """``value`` if it is valid Unicode (storable as UTF-8) and holds no NUL character."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            f"{what} contains an unpaired surrogate (\\u{ord(value[exc.start]):04x} at position "
            f"{exc.start}), which is not valid Unicode; send valid UTF-8 text"
        ) from None
    if "\x00" in value:
        raise error(
            f"{what} contains a NUL character (\\x00 at position {value.index(chr(0))}), which "
            "not every store can hold; remove it"
        )
    return value


def check_label(
    value: Any,
    what: str,
    *,
    max_chars: int,
    error: type[UserInputError] = UserInputError,
    limit_name: str | None = None,
) -> str:
    """A short label: a non-blank string without control characters, at most ``max_chars``."""
    if not isinstance(value, str) or not value.strip():
        raise error(f"{what} must be a non-empty string, got {short(value)}")
    if len(value) > max_chars:
        hint = f" (or raise limits.{limit_name})" if limit_name else ""
        raise InputTooLargeError(
            f"{what} has {len(value)} characters; the limit is {max_chars}{hint}"
        )
    if CONTROL.search(value):
        raise error(f"{what} contains control characters (newlines, tabs, ...); remove them")
    return check_text(value, what, error=error)


def check_number(value: int | float, what: str, *, error: type[UserInputError]) -> None:
    """Finite, and an integer within SQLite's 64-bit range."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise error(
                f"{what} is {short(value)}, outside the 64-bit integer range stores keep; "
                "send it as a string"
            )
    elif not math.isfinite(value):
        raise error(f"{what} is {value!r}; only finite numbers can be stored")


def check_json(
    value: Any, what: str, *, max_depth: int, error: type[UserInputError] = UserInputError
) -> None:
    """Check that ``value`` is JSON every store can keep and read back (see the module
    docstring); iterative, so a hostile depth costs no recursion."""
    stack: list[tuple[Any, str, int]] = [(value, what, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, path, error=error)
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int | float):
            check_number(item, path, error=error)
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise error(f"{what} nests deeper than {max_depth} levels (at {path}); flatten it")
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not isinstance(key, str):
                        raise error(f"{path} has a key {short(key)}; JSON keys are strings")
                    check_text(key, f"a key of {path}", error=error)
                    stack.append((inner, f"{path}[{short(key)}]", depth + 1))
            else:
                stack.extend((inner, f"{path}[{i}]", depth + 1) for i, inner in enumerate(item))
        else:
            raise error(
                f"{path} is a {type(item).__name__}; use JSON values (dict, list, string, "
                "number, boolean, None)"
            )


def short(value: Any, limit: int = 40) -> str:
    """How an error names a caller's value: its ``repr``, cut to ``limit`` characters (a
    message must stay readable whatever was sent)."""
    try:
        text = repr(value)
    except Exception:  # an object whose repr fails (or a 5,000-digit int) still gets named
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        return text[: limit - 3] + "..."
    return text
