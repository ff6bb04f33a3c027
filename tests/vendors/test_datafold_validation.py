"""Datafold's validation errors are pydantic's and FastAPI's own, word for word.

pydantic (a dependency of the test tools) is the oracle: the mock's date parser must accept exactly the
strings pydantic reads as a datetime (except the Unix times the spec rules out) at the same instant, and
refuse the others with pydantic's ``type``, ``msg`` and ``ctx``.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from mockserver.errors import InvalidBody
from mockserver.vendors import datafold
from mockserver.vendors._datafold_validation import (
    BodyNotParsed,
    DateParseError,
    RequestValidationError,
    errors_of_raw_body,
    parse_datetime,
    validate_body,
)

PYDANTIC = "pydantic v2 / FastAPI: the behaviour of Datafold's FastAPI application (seeds/003, HTTPValidationError)"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ApiDownloadAuditLogs(BaseModel):
    """Datafold's body model as its OpenAPI document describes it."""

    start_date: datetime | None = None
    end_date: datetime | None = None


BODY = TypeAdapter(Annotated[ApiDownloadAuditLogs | None, Field(title="Data")])


def fastapi_errors(body: Any) -> list[dict[str, Any]] | None:
    """What FastAPI answers for this decoded body: its errors with loc prefixed by "body", or None."""
    try:
        BODY.validate_python(body, from_attributes=True)
    except ValidationError as exc:
        return [{**error, "loc": ["body", *error["loc"]]} for error in exc.errors(include_url=False)]
    return None


def mock_errors(body: Any) -> list[dict[str, Any]] | None:
    try:
        validate_body(body)
    except RequestValidationError as exc:
        return exc.errors
    return None


def pydantic_us(text: str) -> int | None:
    """Microseconds since the epoch pydantic reads from ``text`` (naive = UTC), None when it refuses."""
    try:
        moment = TypeAdapter(datetime).validate_python(text)
    except ValidationError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def is_unix_time(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def mock_us(text: str) -> int | None:
    try:
        return parse_datetime(text)
    except DateParseError:
        return None


CORPUS = [
    "2024-05-01T12:00:00Z", "2024-05-01", "2024-05-01T12:00", "2024-05-01 12:00:00", "2024-05-01_12:00",
    "2024-05-01t12:00:00z", "2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00,5Z", "2024-05-01T12:00:00+0530",
    "2024-05-01T12:00:00+23:59", "2024-05-01T12:00:00-00:00", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
    "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-13-01", "2024-00-10", "2024-02-30T00:00:00Z",
    "2024-05-01T25:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:60Z", "2024-05-01T23:59:60Z",
    "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00+05", "2024-05-01T12Z", "2024-05-01T", "2024-05-01 ",
    "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00Z ", " 2024-05-01", "20240501T120000Z", "2024/05/01", "x", "",
    "now", "2024-5-1", "2024-05-1T12:00:00Z", "24-05-01T12:00:00Z", "2024-05-01T1:00:00Z", "2024-05-01T12:0:00Z",
    "2024-05-01T12:00:0Z", "2024-05-01T12:00:00+5:30", "2024-05-01T12:00:00+05:3", "2024-05-01T12:00:00ZZ",
    "2024-05-01T12:00:00.123+05:30", "2024-05-01T12:00+05:30", "2024-05-01Tab:cd:efZ", "2024-05-01é",
    "\uff12\uff10\uff12\uff14-05-01", "2024-05-01T12:00:00.1234567890123456789012345Z",
]


@pytest.mark.vendor_documented(PYDANTIC)
@pytest.mark.parametrize("text", CORPUS)
def test_dates_are_read_and_refused_as_pydantic_does(text: str) -> None:
    assert mock_us(text) == pydantic_us(text)
    assert mock_errors({"start_date": text}) == fastapi_errors({"start_date": text})


_DATE_ALPHABET = string.digits + "-:T tZz+.,_"


@pytest.mark.vendor_documented(PYDANTIC)
@settings(max_examples=400, database=None, derandomize=True)
@given(st.one_of(
    st.text(alphabet=_DATE_ALPHABET, max_size=32),
    st.builds("{}{}{}".format, st.dates().map(str), st.sampled_from(["T", "t", " ", "_", "x"]),
              st.text(alphabet=_DATE_ALPHABET, max_size=20)),
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
))
def test_any_string_is_read_or_refused_as_pydantic_does(text: str) -> None:
    if is_unix_time(text):  # the one departure: pydantic reads numbers as Unix times, the spec says date-time
        assert mock_us(text) is None
        return
    assert mock_us(text) == pydantic_us(text)
    assert mock_errors({"end_date": text}) == fastapi_errors({"end_date": text})


@pytest.mark.vendor_documented(PYDANTIC)
@pytest.mark.parametrize("body", [
    None, {}, {"start_date": None, "end_date": None}, {"unknown": 1}, [], "x", 3, True,
    {"start_date": True}, {"start_date": [], "end_date": {}}, {"start_date": "nope", "end_date": False},
], ids=repr)
def test_body_shapes_get_fastapis_errors(body: Any) -> None:
    assert mock_errors(body) == fastapi_errors(body)


@pytest.mark.mock_only
@pytest.mark.parametrize("value", [1714564800, 1.5, "1714564800", "-1"])
def test_unix_times_are_refused_as_the_spec_types_the_fields_date_time(value: Any) -> None:
    errors = mock_errors({"start_date": value})
    assert errors is not None and errors[0]["loc"] == ["body", "start_date"]


@pytest.mark.vendor_documented("FastAPI routing: json_invalid with the standard library's message and position")
@pytest.mark.parametrize("raw", [b"{not json", b'{"start_date": "x",}', b"[1, 2", b'{"a" 1}', b"nul", b'"abc',
                                 b'{"start_date": null} extra'])
def test_malformed_json_gets_fastapis_json_invalid(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as decoding:
        json.loads(raw)
    error = errors_of_raw_body(raw)
    assert isinstance(error, RequestValidationError)
    assert error.errors == [{"type": "json_invalid", "loc": ["body", decoding.value.pos], "msg": "JSON decode error",
                             "input": {}, "ctx": {"error": decoding.value.msg}}]


@pytest.mark.vendor_documented("FastAPI routing: a body it cannot decode is 400 'There was an error parsing the body'")
def test_a_body_that_is_not_text_is_fastapis_400() -> None:
    error = errors_of_raw_body(b'{"start_date": "\xff"}')
    assert isinstance(error, BodyNotParsed)
    answer = datafold.render_error(error)
    assert answer.status_code == 400 and json.loads(answer.body) == {"detail": "There was an error parsing the body"}


@pytest.mark.vendor_documented(PYDANTIC)
@pytest.mark.parametrize("raw", [b"[]", b'{"start_date": true, "end_date": "x"}', b"3", b'{"end_date": [1]}'])
def test_a_body_refused_by_the_engine_is_reworded_exactly_from_its_bytes(raw: bytes) -> None:
    error = InvalidBody("is not valid under any of the given schemas")
    error.raw = raw  # type: ignore[attr-defined]  # what the engine hands over with the diff in the report
    answer = datafold.render_error(error)
    assert answer.status_code == 422
    assert json.loads(answer.body) == {"detail": fastapi_errors(json.loads(raw))}
