"""Datafold's request validation, worded as FastAPI and pydantic v2 word it.

Datafold's API is a FastAPI application (its 422 is FastAPI's ``HTTPValidationError``). The body of
``GET /api/v1/audit_logs`` is ``Optional[ApiDownloadAuditLogs]`` with two ``Optional[datetime]`` fields,
so a bad body gets pydantic's errors, prefixed with ``"body"`` by FastAPI::

    {"detail": [{"type": "datetime_from_date_parsing", "loc": ["body", "start_date"],
                 "msg": "Input should be a valid datetime or date, input is too short",
                 "input": "x", "ctx": {"error": "input is too short"}}]}

``parse_datetime`` reads a string as pydantic's datetime parser (speedate) does in lax mode: RFC 3339
and its lenient forms (a date alone, no seconds, ``t``/``_``/space for ``T``, ``,`` for ``.``, offsets
without a colon), fractions beyond microseconds truncated. When that fails pydantic reports the error of
reading the string as a date, so that is the error given here. One departure, because the spec types the
fields as date-time strings: numbers and numeric strings (which pydantic reads as Unix times) are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockserver.errors import BadRequest, InvalidBody

DATE_FIELDS = ("start_date", "end_date")
"""In the order pydantic reports them (the model's field order)."""

TOO_SHORT = "input is too short"
EXTRA = "unexpected extra characters at the end of the input"
DATE_SEPARATOR = "invalid date separator, expected `-`"
_DIGITS = frozenset(b"0123456789")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EPOCH_DAY = 719_163  # date(1970, 1, 1).toordinal()


class DateParseError(ValueError):
    """``str()`` is speedate's one-line reason (``input is too short``)."""


class RequestValidationError(InvalidBody):
    """FastAPI's 422: the body broke the model; ``errors`` are pydantic's, located under ``body``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(str(first["msg"]), tuple(first["loc"][1:]))


class BodyNotParsed(BadRequest):
    """FastAPI's 400 when the body is not text JSON can be read from (e.g. invalid UTF-8)."""

    def __init__(self) -> None:
        super().__init__("There was an error parsing the body")


def _number(raw: bytes, start: int, end: int) -> int | None:
    part = raw[start:end]
    return int(part) if len(part) == end - start and all(c in _DIGITS for c in part) else None


def _date(raw: bytes) -> tuple[int, int, int]:
    """Year, month, day of the first 10 bytes, or speedate's error for them."""
    if len(raw) < 10:
        raise DateParseError(TOO_SHORT)
    year = _number(raw, 0, 4)
    if year is None:
        raise DateParseError("invalid character in year")
    if raw[4:5] != b"-":
        raise DateParseError(DATE_SEPARATOR)
    month = _number(raw, 5, 7)
    if month is None:
        raise DateParseError("invalid character in month")
    if raw[7:8] != b"-":
        raise DateParseError(DATE_SEPARATOR)
    day = _number(raw, 8, 10)
    if day is None:
        raise DateParseError("invalid character in day")
    if not 1 <= month <= 12:
        raise DateParseError("month value is outside expected range of 1-12")
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS[month - 1] + (month == 2 and leap):
        raise DateParseError("day value is outside expected range")
    return year, month, day


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year speedate reads, 0000 to 9999)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _time_us(raw: bytes) -> int | None:
    """Microseconds from midnight UTC of ``raw[11:]`` (time and optional offset), or None if unreadable."""
    hour, minute = _number(raw, 11, 13), _number(raw, 14, 16)
    if hour is None or minute is None or raw[13:14] != b":" or hour > 23 or minute > 59:
        return None
    at, second, micro = 16, 0, 0
    if raw[at:at + 1] == b":":
        parsed = _number(raw, at + 1, at + 3)
        if parsed is None or parsed > 59:
            return None
        second, at = parsed, at + 3
        if raw[at:at + 1] in (b".", b","):
            digits = at + 1
            while digits < len(raw) and raw[digits] in _DIGITS:
                digits += 1
            if digits == at + 1:
                return None
            micro = int(raw[at + 1:digits][:6].ljust(6, b"0"))  # beyond microseconds: truncated
            at = digits
    offset_s = 0
    sign = raw[at:at + 1]
    if sign in (b"Z", b"z"):
        at += 1
    elif sign in (b"+", b"-"):
        tz_hour = _number(raw, at + 1, at + 3)
        at += 3 + (raw[at + 3:at + 4] == b":")
        tz_minute = _number(raw, at, at + 2)
        if tz_hour is None or tz_minute is None or tz_hour > 23 or tz_minute > 59:
            return None
        offset_s = (tz_hour * 3600 + tz_minute * 60) * (1 if sign == b"+" else -1)
        at += 2
    if at != len(raw):
        return None
    return ((hour * 60 + minute) * 60 + second - offset_s) * 1_000_000 + micro


def parse_datetime(text: str) -> int:
    """Microseconds since the Unix epoch (UTC; a date-time without offset is read as UTC), or
    DateParseError with the reason pydantic gives."""
    raw = text.encode()
    year, month, day = _date(raw)  # the date part's own error comes first, as in pydantic
    days = _days_from_civil(year, month, day)
    if len(raw) == 10:
        return days * 86_400_000_000
    time_us = _time_us(raw) if raw[10:11] in (b"T", b"t", b" ", b"_") else None
    if time_us is None:
        raise DateParseError(EXTRA)
    return days * 86_400_000_000 + time_us


def _field_error(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    loc = ["body", name]
    if isinstance(value, str):
        try:
            parse_datetime(value)
        except DateParseError as exc:
            return {"type": "datetime_from_date_parsing", "loc": loc,
                    "msg": f"Input should be a valid datetime or date, {exc}", "input": value,
                    "ctx": {"error": str(exc)}}
        return None
    return {"type": "datetime_type", "loc": loc, "msg": "Input should be a valid datetime", "input": value}


def validate_body(body: Any) -> dict[str, int | None]:
    """The dates of a decoded body in microseconds (None when absent or null), or RequestValidationError."""
    if body is None:
        return dict.fromkeys(DATE_FIELDS)
    if not isinstance(body, Mapping):
        raise RequestValidationError([{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": body}])
    errors = [error for name in DATE_FIELDS if (error := _field_error(name, body.get(name))) is not None]
    if errors:
        raise RequestValidationError(errors)
    return {name: parse_datetime(body[name]) if body.get(name) is not None else None for name in DATE_FIELDS}


def errors_of_raw_body(raw: bytes) -> RequestValidationError | BodyNotParsed:
    """What FastAPI answers to a body the engine refused, re-read from its bytes: the standard library's
    JSON error (FastAPI decodes with ``json.loads``), else the model's errors."""
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        return RequestValidationError([{"type": "json_invalid", "loc": ["body", exc.pos], "msg": "JSON decode error",
                                        "input": {}, "ctx": {"error": exc.msg}}])
    except UnicodeDecodeError:
        return BodyNotParsed()
    try:
        validate_body(body)
    except RequestValidationError as error:
        return error
    return RequestValidationError([{"type": "value_error", "loc": ["body"], "msg": "Value error, invalid body",
                                    "input": body}])
