"""Relative dates made absolute from the time a message was said.

``resolve_relative_dates("I ran 15 km yesterday", said_at)`` rewrites the phrase in place
("I ran 15 km on 19 September 2024") and returns the resolved date, so a memory never says
"yesterday" and keeps the time of the event it describes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from extractors.calendar_dates import direction, resolve_calendar, resolve_near_month_days

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple of": 2,
    "a few": 3,
    "few": 3,
    "couple of": 2,
    "several": 3,
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


def day(d: datetime) -> str:
    """``8 May 2023``."""
    return f"{d.day} {d:%B %Y}"


def month(d: datetime) -> str:
    return f"{d:%B %Y}"


def _num(text: str) -> int | None:
    text = text.lower().strip()
    if text.isdigit():
        return int(text)
    return _NUMBERS.get(text)


_AGO = re.compile(
    r"\b(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few|"
    r"several|few)\s+(?P<unit>day|week|month|year)s?\s+ago\b",
    re.IGNORECASE,
)
_IN_N = re.compile(
    r"\bin\s+(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few)"
    r"\s+(?P<unit>day|week|month|year)s?\b",
    re.IGNORECASE,
)
_REL = re.compile(
    r"\b(?P<phrase>the day before yesterday|the day after tomorrow|yesterday|today|tonight|"
    r"this morning|this afternoon|this evening|last night|tomorrow|"
    r"(?:last|this|next|coming|past) (?:week|weekend|month|year)|"
    r"(?:last|this|next) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?:last|this|next) (?:spring|summer|fall|autumn|winter))\b",
    re.IGNORECASE,
)


def _season(word: str, ref: datetime, which: str) -> tuple[str, datetime]:
    start = _SEASONS[word]
    if which == "last":  # the most recent season of that name that is over
        year = ref.year if start + 3 <= ref.month else ref.year - 1
    elif which == "next":
        year = ref.year if start > ref.month else ref.year + 1
    else:
        year = ref.year
    label = "fall" if word == "autumn" else word
    return f"{label} {year}", datetime(year, start, 1, tzinfo=ref.tzinfo)


def _resolve(phrase: str, ref: datetime) -> tuple[str, datetime] | None:
    p = phrase.lower()
    if p in ("today", "tonight", "this morning", "this afternoon", "this evening"):
        return f"on {day(ref)}", ref
    if p in ("yesterday", "last night"):
        d = ref - timedelta(days=1)
        return f"on {day(d)}", d
    if p == "the day before yesterday":
        d = ref - timedelta(days=2)
        return f"on {day(d)}", d
    if p == "tomorrow":
        d = ref + timedelta(days=1)
        return f"on {day(d)}", d
    if p == "the day after tomorrow":
        d = ref + timedelta(days=2)
        return f"on {day(d)}", d
    which, _, unit = p.partition(" ")
    if unit == "weekend":
        saturday = ref + timedelta(days=(5 - ref.weekday()) % 7)  # this weekend
        if which in ("last", "past"):
            saturday = ref - timedelta(days=(ref.weekday() - 5) % 7 or 7)
        elif which in ("next", "coming") and saturday - ref < timedelta(days=2):
            saturday += timedelta(days=7)
        return f"on the weekend of {day(saturday)}", saturday
    if unit == "week":
        # "the week of <date>" names the month a question will ask about ("in January").
        if which in ("last", "past"):
            return f"in the week of {day(ref - timedelta(days=7))}", ref - timedelta(days=7)
        if which == "this":
            return f"in the week of {day(ref)}", ref
        return f"in the week of {day(ref + timedelta(days=7))}", ref + timedelta(days=7)
    if unit == "month":
        shift = {"last": -1, "past": -1, "this": 0, "next": 1, "coming": 1}[which]
        d = ref + relativedelta(months=shift)
        return f"in {month(d)}", d.replace(day=1)
    if unit == "year":
        shift = {"last": -1, "past": -1, "this": 0, "next": 1, "coming": 1}[which]
        d = ref + relativedelta(years=shift)
        return f"in {d.year}", d.replace(month=1, day=1)
    if unit in _WEEKDAYS:
        target = _WEEKDAYS.index(unit)
        if which == "last":
            delta = (ref.weekday() - target) % 7 or 7
            d = ref - timedelta(days=delta)
        elif which == "next":
            delta = (target - ref.weekday()) % 7 or 7
            d = ref + timedelta(days=delta)
        else:
            d = ref + timedelta(days=(target - ref.weekday()) % 7)
        return f"on {unit.capitalize()} {day(d)}", d
    if unit in _SEASONS:
        label, d = _season(unit, ref, which)
        return f"in {label}", d
    return None


def _shifted(match: re.Match, ref: datetime, sign: int) -> tuple[str, datetime] | None:
    """ "three weeks ago" (sign -1) or "in three weeks" (+1): the unit and the date."""
    n = _num(match.group("n"))
    if n is None:
        return None
    unit = match.group("unit").lower()
    try:
        return unit, ref + sign * relativedelta(**{f"{unit}s": n})
    except (OverflowError, ValueError):  # "5000 years ago": beyond the calendar
        return None


def _ago(match: re.Match, ref: datetime, first: list[datetime]) -> str:
    shifted = _shifted(match, ref, -1)
    if shifted is None:
        return match.group(0)
    unit, d = shifted
    first.append(d)
    if unit == "day":
        return f"on {day(d)}"
    if unit == "week":
        return f"in the week of {day(d)}"
    return f"in {month(d)}" if unit == "month" else f"in {d.year}"


def _ahead(match: re.Match, ref: datetime, first: list[datetime]) -> str:
    shifted = _shifted(match, ref, 1)
    if shifted is None:
        return match.group(0)
    unit, d = shifted
    first.append(d)
    return f"by {day(d)}" if unit in ("day", "week") else f"by {month(d)}"


def _relative(match: re.Match, ref: datetime, first: list[datetime]) -> str:
    try:
        resolved = _resolve(match.group("phrase"), ref)
    except (OverflowError, ValueError):  # a reference at the edge of the calendar
        return match.group(0)
    if resolved is None:
        return match.group(0)
    first.append(resolved[1])
    return resolved[0]


def resolve_relative_dates(
    text: str, ref: datetime | None, *, aspect: str | None = None
) -> tuple[str, datetime | None]:
    """Rewrite relative date phrases of ``text`` as absolute dates against ``ref``.

    Dates said without a year ("in October", "on Wednesday") are completed too, leaning on the
    clause's ``aspect`` (see :mod:`extractors.calendar_dates`). Returns the rewritten text and
    the first resolved date (None when nothing was resolved or ``ref`` is unknown).
    """
    if ref is None:
        return text, None
    first: list[datetime] = []
    try:
        text, near = resolve_near_month_days(text, ref)
    except (OverflowError, ValueError):
        near = []
    first.extend(near)
    text = _AGO.sub(lambda m: _ago(m, ref, first), text)
    text = _IN_N.sub(lambda m: _ahead(m, ref, first), text)
    text = _REL.sub(lambda m: _relative(m, ref, first), text)
    text = re.sub(r"\b(since|until|by|from) on\b", r"\1", text, flags=re.I)
    text = re.sub(r"\b(start|end|beginning|middle) of (?:in|on) ", r"\1 of ", text, flags=re.I)
    try:
        text, calendar = resolve_calendar(text, ref, direction(aspect))
    except (OverflowError, ValueError):
        calendar = []
    first.extend(calendar)
    return text, (first[0] if first else None)
