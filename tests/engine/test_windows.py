from __future__ import annotations

import contextlib
from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.engine.windows import (
    InstantError,
    Window,
    format_iso_ms,
    parse_instant,
    parse_timezone,
)

NOW = 1_714_564_800_000  # 2024-05-01T12:00:00Z


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T12:00:00Z", NOW),
    ("2024-05-01T12:00:00.000Z", NOW),  # what datadog-api-client sends
    ("2024-05-01T12:00:00+00:00", NOW),  # the other form it sends
    ("2024-05-01T12:00:00.123Z", NOW + 123),
    ("2024-05-01T12:00:00.123456789Z", NOW + 123),  # nanoseconds are truncated
    ("2024-05-01T14:00:00+02:00", NOW),
    ("2024-05-01T07:00:00-05:00", NOW),
    ("2024-05-01T12:00:00", NOW),  # no offset: UTC by default
    ("2024-05-01", NOW - 12 * 3_600_000),
    ("1714564800000", NOW),
    ("now", NOW),
    ("now-15m", NOW - 15 * 60_000),
    ("now-90d", NOW - 90 * 86_400_000),
    ("now+1h", NOW + 3_600_000),
    ("now-30s", NOW - 30_000),
    ("now-2w", NOW - 14 * 86_400_000),
    (" now ", NOW),
])
def test_accepted_forms(text: str, expected: int) -> None:
    assert parse_instant(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-02-30", "now-15x", "now-", "now-m",
                                  "2024-05-01T25:00:00Z", "12:00", "2024-05-01T12:00:00+25:00"])
def test_refused_forms_say_why(text: str) -> None:
    with pytest.raises(InstantError) as info:
        parse_instant(text, NOW)
    assert "\n" not in str(info.value)


def test_naive_times_read_in_the_given_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert parse_instant("2024-05-01T14:00:00", NOW, plus_two) == NOW
    assert parse_instant("2024-05-01T14:00:00Z", NOW, plus_two) == NOW + 2 * 3_600_000


@pytest.mark.parametrize(("name", "offset_hours"), [("UTC", 0), ("GMT", 0), ("UTC+03:00", 3), ("-05:00", -5)])
def test_timezones(name: str, offset_hours: int) -> None:
    from datetime import datetime

    zone = parse_timezone(name)
    assert datetime(2024, 5, 1, tzinfo=zone).utcoffset() == timedelta(hours=offset_hours)


def test_unknown_timezone() -> None:
    with pytest.raises(InstantError, match="unknown timezone"):
        parse_timezone("Mars/Olympus")


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_then_parse_round_trips_to_the_millisecond(moment: object) -> None:
    from datetime import datetime

    assert isinstance(moment, datetime)
    ms = int(moment.timestamp() * 1000) if moment.year > 1970 else None
    if ms is None:
        return
    assert parse_instant(format_iso_ms(ms), NOW) == ms


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_instant_error(text: str) -> None:
    with contextlib.suppress(InstantError):
        parse_instant(text, NOW)


def test_window() -> None:
    assert Window(5, 5).empty and Window(6, 5).empty and not Window(5, 6).empty
    assert Window(0, 86_400_000 * 30).days == 30
