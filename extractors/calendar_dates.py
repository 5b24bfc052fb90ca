"""Calendar dates said without a year ("in October", "on the 16th of November", "since
August", "on Wednesday", "at the end of the month") made absolute against the message time.

The year (or week) is the one that puts the date nearest to when it was said, leaning on the
tense of the clause: what happened ("we broke up in October") is the latest such date not after
the message, what is planned ("the wedding is in November") the next one not before it.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import datetime, timedelta
from typing import Literal

Direction = Literal["past", "future", "nearest"]

MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "fifteenth": 15,
    "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
# Month and weekday names in any case ("we're moving in november"), but "may" only as "May".
_MONTH_NAMES = (
    r"(?i:january|february|march|april|june|july|august|september|october|november|december)|May"
)
_MONTH = r"(?P<month>" + _MONTH_NAMES + ")"
_DAY = r"(?P<day>\d{1,2}|" + "|".join(_ORDINALS) + r")(?:st|nd|rd|th)?"
_NO_YEAR = r"(?![,]?\s+\d{4})(?!\s+\d)"
_DAY_OF_MONTH = re.compile(
    r"\b(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"\b" + _NO_YEAR
    + r"|\b(?P<month2>" + _MONTH_NAMES + r")\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?\b" + _NO_YEAR
)  # fmt: skip
_MONTH_ONLY = re.compile(
    r"\b(?P<lead>(?i:in|since|from|until|till|by|for|during|of|early|late|mid|mid-|end of|"
    r"beginning of|start of))\s+" + _MONTH + r"\b" + _NO_YEAR
)
_WEEKDAY = re.compile(
    r"\b(?P<lead>on|since|until|by|this past|past)\s+(?P<weekday>(?i:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday))\b(?!s\b)(?!\s+\d)(?!\s+(?:morning|afternoon|evening|night)s\b)"
    r"(?:\s+(?P<part>morning|afternoon|evening|night)\b)?"
)
_END_OF_MONTH = re.compile(r"\b(?:at\s+)?the\s+end\s+of\s+the\s+month\b", re.I)
_DAY_OF_NEAR_MONTH = re.compile(
    r"\b(?P<lead>on\s+)?the\s+" + _DAY + r"\s+of\s+(?P<which>last|this|next)\s+month\b", re.I
)


def direction(aspect: str | None) -> Direction:
    """Which way an unqualified date points, from the clause's aspect."""
    ways: dict[str, Direction] = {"event": "past", "plan": "future"}
    return ways.get(aspect or "", "nearest")


def _year_for(month: int, day: int, ref: datetime, way: Direction) -> int:
    """The year that puts ``month``/``day`` where ``way`` says, relative to ``ref``."""
    candidates = []
    for year in (ref.year - 1, ref.year, ref.year + 1):
        day_ok = min(day, monthrange(year, month)[1])
        candidates.append((year, ref.replace(year=year, month=month, day=day_ok)))
    if way == "past":
        past = [y for y, d in candidates if d.date() <= ref.date()]
        return past[-1] if past else ref.year
    if way == "future":
        future = [y for y, d in candidates if d.date() >= ref.date()]
        return future[0] if future else ref.year
    return min(candidates, key=lambda c: (abs((c[1] - ref).days), c[1] > ref))[0]


def _day_number(raw: str) -> int | None:
    value = int(raw) if raw.isdigit() else _ORDINALS.get(raw.lower())
    return value if value is not None and 1 <= value <= 31 else None


def resolve_calendar(text: str, ref: datetime, way: Direction) -> tuple[str, list[datetime]]:
    """``text`` with yearless dates completed, and the dates found, in order."""
    found: list[datetime] = []

    def day_of_month(match: re.Match[str]) -> str:
        month = MONTHS.index((match.group("month") or match.group("month2")).lower()) + 1
        number = _day_number(match.group("day") or match.group("day2") or "")
        if number is None:
            return match.group(0)
        year = _year_for(month, number, ref, way)
        d = ref.replace(year=year, month=month, day=min(number, monthrange(year, month)[1]))
        found.append(d)
        return f"{d.day} {d:%B %Y}"

    def month_only(match: re.Match[str]) -> str:
        month = MONTHS.index(match.group("month").lower()) + 1
        ahead = match.group("lead").lower() in ("for", "by", "until", "till")
        year = _year_for(month, 1, ref, "future" if ahead else way)  # "booked for April"
        found.append(ref.replace(year=year, month=month, day=1))
        return f"{match.group('lead')} {MONTHS[month - 1].title()} {year}"

    def weekday(match: re.Match[str]) -> str:
        target = WEEKDAYS.index(match.group("weekday").lower())
        back = (ref.weekday() - target) % 7
        ahead = (target - ref.weekday()) % 7
        if way == "past" or (way == "nearest" and back <= ahead):
            d = ref - timedelta(days=back)
        else:
            d = ref + timedelta(days=ahead)
        found.append(d)
        if match.group("part"):
            return f"{match.group('lead')} the {match.group('part')} of {d.day} {d:%B %Y}"
        return f"{match.group('lead')} {d:%A} {d.day} {d:%B %Y}"

    def end_of_month(match: re.Match[str]) -> str:
        last = ref.replace(day=monthrange(ref.year, ref.month)[1])
        found.append(last)
        return f"at the end of {ref:%B %Y}"

    text = _DAY_OF_MONTH.sub(day_of_month, text)
    text = _MONTH_ONLY.sub(month_only, text)
    text = _WEEKDAY.sub(weekday, text)
    text = _END_OF_MONTH.sub(end_of_month, text)
    return text, found


def resolve_near_month_days(text: str, ref: datetime) -> tuple[str, list[datetime]]:
    """ "the 9th of last month" (this month, next month) made absolute against ``ref``; done
    before "last month" alone is read."""
    found: list[datetime] = []

    def day_of_near_month(match: re.Match[str]) -> str:
        number = _day_number(match.group("day"))
        if number is None:
            return match.group(0)
        shift = {"last": -1, "this": 0, "next": 1}[match.group("which").lower()]
        year, month = divmod(ref.year * 12 + ref.month - 1 + shift, 12)
        d = ref.replace(year=year, month=month + 1, day=min(number, monthrange(year, month + 1)[1]))
        found.append(d)
        return f"{match.group('lead') or ''}{d.day} {d:%B %Y}"

    return _DAY_OF_NEAR_MONTH.sub(day_of_near_month, text), found
