"""Times: the one parser of caller-given times, and the range a message can have been said in.

Every time the package keeps is an aware UTC ``datetime``. :func:`parse_datetime` reads what a
caller passes (ISO 8601, ``datetime``, ``date``, Unix seconds) and refuses, with the caller's
error type, anything else; with ``bounds`` it also refuses times outside a range, which keeps
the date arithmetic done on message timestamps (relative dates) far from the ends of what a
``datetime`` can hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hybrid_memory.errors import UserInputError
from hybrid_memory.values import short


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


SAID_AT_RANGE = (
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
)
"""When a message can have been said. Relative dates ("yesterday", "next year", "3 weeks ago")
are resolved against a message's timestamp, and this range keeps that arithmetic far from the
ends of what a ``datetime`` can hold."""


def _parse_time(value: Any) -> datetime | None:
    """``value`` as an aware UTC datetime, or None when it is not a time at all."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return as_utc(datetime.fromisoformat(value.strip()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:  # NaN
            return None
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def parse_datetime(
    value: Any,
    what: str,
    *,
    error: type[Exception] | None = None,
    bounds: tuple[datetime, datetime] | None = None,
) -> datetime | None:
    """The one parser of caller-given times: ``None``, a ``datetime``, a ``date``, an ISO 8601
    string (``Z`` allowed) or a Unix time in seconds, returned as an aware UTC datetime.

    Args:
        value: what the caller passed.
        what: how to name it in the error ("expires_at", "message 3: 'timestamp'").
        error: the :class:`~hybrid_memory.errors.UserInputError` subclass to raise.
        bounds: the earliest and latest time accepted (:data:`SAID_AT_RANGE` for when a
            message was said); a time outside is refused, naming the range.
    """
    if value is None:
        return None
    failure = error or UserInputError
    too_far = False  # a real time, but beyond what a datetime can hold
    try:
        parsed = _parse_time(value)
    except (OverflowError, OSError):
        parsed, too_far = None, True
    except ValueError:
        parsed, too_far = None, isinstance(value, int | float) and not isinstance(value, bool)
    if parsed is None and not (too_far and bounds):
        raise failure(
            f"{what} must be an ISO 8601 date/time (e.g. '2023-05-08T13:56:00Z'), a datetime or "
            f"a Unix time; got {_shown(value)}"
        )
    if bounds is not None and (parsed is None or not bounds[0] <= parsed <= bounds[1]):
        raise failure(
            f"{what} must be between {bounds[0]:%Y-%m-%d} and {bounds[1]:%Y-%m-%d} (UTC); got "
            f"{_shown(value)}"
        )
    return parsed


def _shown(value: Any) -> str:
    return short(value, 60)


__all__ = ["SAID_AT_RANGE", "as_utc", "parse_datetime", "utcnow"]
