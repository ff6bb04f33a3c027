"""Instants and time windows as vendors accept them.

``parse_instant`` reads every form the vendors' clients send, relative to the mock clock's ``now``:

- ISO 8601 date-times with ``Z`` or a ``±hh:mm`` offset, with or without fractional seconds
  (``2024-05-01T12:00:00Z``, ``2024-05-01T12:00:00.123+02:00``); a date-time without an offset is
  read in ``default_tz`` (UTC unless the caller says otherwise);
- plain dates ``YYYY-MM-DD`` (midnight at the start of that day, in ``default_tz``);
- epoch milliseconds (``1714564800000``);
- date math: ``now``, ``now-15m``, ``now+1h`` with units s, m, h, d, w.

Everything returns integer epoch milliseconds. Errors are ``InstantError`` with a one-line reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MS_PER = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
DAY_MS = MS_PER["d"]

_DATE_MATH = re.compile(r"now(?:([+-])(\d{1,9})([smhdw]))?")
_EPOCH_MS = re.compile(r"-?\d{1,15}")
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_UTC_OFFSET_TZ = re.compile(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?")


class InstantError(ValueError):
    """A time the server cannot read; ``str()`` says why in one line."""


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open window [start_ms, end_ms) of epoch milliseconds."""

    start_ms: int
    end_ms: int
    as_of_ms: int | None = None
    """Set by ``OrgStream.visible`` when live arrival delays events: only events visible at this clock
    time belong to the window (see engine/live.py)."""

    @property
    def empty(self) -> bool:
        return self.end_ms <= self.start_ms

    @property
    def days(self) -> float:
        return (self.end_ms - self.start_ms) / DAY_MS


def parse_timezone(name: str) -> tzinfo:
    """``UTC``, ``GMT``, ``UTC+03:00``, ``-05:00`` or an IANA name such as ``Europe/Paris``."""
    text = name.strip()
    if text.upper() in {"UTC", "GMT", "Z", ""}:
        return UTC
    offset = _UTC_OFFSET_TZ.fullmatch(text.upper())
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= timedelta(hours=24):
            raise InstantError(f"timezone offset out of range: {name!r}")
        from datetime import timezone

        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InstantError(f"unknown timezone {name!r}") from exc


def _to_ms(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000 + delta.microseconds // 1_000


def parse_instant(text: str, now_ms: int, default_tz: tzinfo = UTC) -> int:
    """Epoch milliseconds for ``text``; ``now_ms`` anchors date math."""
    value = text.strip()
    if not value:
        raise InstantError("empty time")
    math = _DATE_MATH.fullmatch(value)
    if math:
        sign, amount, unit = math.groups()
        if sign is None:
            return now_ms
        shift = int(amount) * MS_PER[unit]
        return now_ms + shift if sign == "+" else now_ms - shift
    if _EPOCH_MS.fullmatch(value):
        return int(value)
    try:
        if _PLAIN_DATE.fullmatch(value):
            day = date.fromisoformat(value)
            return _to_ms(datetime(day.year, day.month, day.day, tzinfo=default_tz))
        normalised = _FRACTION.sub(r"\1", value)
        if normalised.endswith(("z", "Z")):
            normalised = normalised[:-1] + "+00:00"
        moment = datetime.fromisoformat(normalised)
    except (ValueError, OverflowError) as exc:
        raise InstantError(f"{text!r} is not a date, date-time, epoch milliseconds or date math") from exc
    if "T" not in normalised and " " not in normalised:
        raise InstantError(f"{text!r} is not a date, date-time, epoch milliseconds or date math")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return _to_ms(moment)


_DAY_PREFIX: dict[int, str] = {}
_HOUR_MINUTE = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
_SECOND = tuple(f"{s:02d}." for s in range(60))
_MILLI = tuple(f"{ms:03d}Z" for ms in range(1000))


def format_iso_ms(epoch_ms: int) -> str:
    """``2022-04-13T09:21:13.750Z``: the form every vendor here prints. Hot: one dict hit per call."""
    day, rest = divmod(epoch_ms, DAY_MS)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        if len(_DAY_PREFIX) > 4096:
            _DAY_PREFIX.clear()
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)
        prefix = _DAY_PREFIX[day] = f"{moment:%Y-%m-%d}T"
    minutes, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return prefix + _HOUR_MINUTE[minutes] + _SECOND[second] + _MILLI[milli]


def format_iso_seconds(epoch_ms: int) -> str:
    """``2022-04-13T09:21:13Z`` (second precision)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"
