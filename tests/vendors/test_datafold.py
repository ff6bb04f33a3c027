"""Datafold's audit-log endpoint over HTTP, in process: status, body and headers as the mock promises them.

Ground truth comes from the engine (``OrgStream.keys``), never from the HTTP API.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import DAY_MS, Window, parse_instant
from mockserver.errors import InternalError, MethodNotAllowed, ServerFault, TooManyRequests, VendorError
from mockserver.vendors import datafold

NOW = "2024-05-01T12:00:00Z"
NOW_MS = parse_instant(NOW, 0)
PATH = "/api/v1/audit_logs"
ADMIN = {"Authorization": "Key iOJYrPWPb3Hou33gqAonx_ZbZ06ZBj1El4_HN42q"}
CI = {"Authorization": "Key 1mowyPEX_eVbZO7ia_qOla62uLwl0elqinZJloBb"}
CONTOSO = {"Authorization": "Key HWlP5gmka1edmPJDDgYT4Y85whkfZ-pBO9WGFsCs"}
SEED = "Datafold API reference: Get Audit Logs (seeds/003)"
FIELDS = {"action", "client_ip", "event_uuid", "is_support_user", "log_entry", "object_id", "object_type", "payload",
          "referer", "request_type", "source", "status", "timestamp", "url", "user_agent", "user_email", "user_id"}


def make_client(seed: int = 0, rate_limits: bool = False) -> TestClient:
    return TestClient(create_app(Settings(now=NOW, seed=seed, rate_limits=rate_limits)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def stream_of(client: TestClient, org: str = "northwind") -> OrgStream:
    stream: OrgStream = client.app.state.mock.runtimes["datafold"].streams[org]  # type: ignore[attr-defined]
    return stream


def truth(client: TestClient, start_ms: int, end_ms: int, org: str = "northwind") -> list[str]:
    stream = stream_of(client, org)
    window = stream.visible(Window(start_ms, end_ms), NOW_MS)
    return [stream.event(key)["event_uuid"] for key in stream.keys(window, descending=True)]


def get(client: TestClient, body: Any = None, headers: dict[str, str] = ADMIN, raw: bytes | None = None) -> Any:
    if raw is None and body is not None:
        raw = orjson.dumps(body)
    extra = {"Content-Type": "application/json"} if raw is not None else {}
    return client.request("GET", PATH, headers={**headers, **extra}, content=raw)


def uuids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [log["event_uuid"] for log in answer.json()["logs"]]


# -- auth -------------------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(SEED)
def test_the_key_goes_in_authorization_with_the_key_prefix(client: TestClient) -> None:
    assert get(client).status_code == 200
    assert get(client, headers={"Authorization": "key " + ADMIN["Authorization"][4:]}).status_code == 200


@pytest.mark.mock_only
@pytest.mark.parametrize(("headers", "detail"), [
    ({}, "Not authenticated"),
    ({"Authorization": "Key wrong"}, "Invalid API key"),
    ({"Authorization": ADMIN["Authorization"][4:]}, "Invalid API key"),  # the docs' curl example omits "Key "
    ({"Authorization": "Bearer " + ADMIN["Authorization"][4:]}, "Invalid API key"),
    ({"Authorization": "Key"}, "Invalid API key"),
], ids=["missing", "unknown", "no-prefix", "bearer", "empty"])
def test_auth_failures_are_401_with_fastapis_detail(client: TestClient, headers: dict[str, str], detail: str) -> None:
    answer = get(client, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"detail": detail}
    assert answer.headers["content-type"] == "application/json"


# -- windows ----------------------------------------------------------------------------------------------------------
@pytest.mark.mock_only
@pytest.mark.parametrize("raw", [None, b"", b"null", b"{}", b'{"start_date": null, "end_date": null}', b'{"x": 1}'],
                         ids=["no-body", "empty", "null", "empty-object", "nulls", "unknown-field"])
def test_without_dates_the_last_7_days_newest_first(client: TestClient, raw: bytes | None) -> None:
    expected = truth(client, NOW_MS - 7 * DAY_MS + 1, NOW_MS + 1)
    assert len(expected) == pytest.approx(1400, rel=0.02)
    assert uuids(get(client, raw=raw)) == expected


@pytest.mark.vendor_documented(SEED)
def test_every_documented_field_and_the_nullable_ones_sometimes_null(client: TestClient) -> None:
    logs = get(client).json()["logs"]
    assert set(logs[0]) == FIELDS
    for log in logs:
        assert set(log) == FIELDS
        for required in ("timestamp", "event_uuid", "client_ip", "url"):
            assert isinstance(log[required], str) and log[required]
        assert log["url"].startswith("https://app.datafold.com/api/")
        assert log["timestamp"].endswith("+00:00")
        assert isinstance(log["user_id"], int | None) and isinstance(log["object_id"], int | None)
        assert isinstance(log["payload"], dict | None) and isinstance(log["is_support_user"], bool | None)
    for field in FIELDS - {"timestamp", "event_uuid", "client_ip", "url"}:
        values = [log[field] for log in logs]
        assert any(v is None for v in values) and any(v is not None for v in values), field
    assert any(log["is_support_user"] is True for log in logs)
    timestamps = [parse_instant(log["timestamp"], 0) for log in logs]
    assert timestamps == sorted(timestamps, reverse=True)


@pytest.mark.mock_only
def test_dates_give_a_half_open_window(client: TestClient) -> None:
    stream = stream_of(client)
    start = stream.ts(stream.first_index_at_or_after(parse_instant("2024-04-20T00:00:00Z", 0)))
    end = stream.ts(stream.first_index_at_or_after(parse_instant("2024-04-21T00:00:00Z", 0)))
    first, beyond = (stream.event(next(stream.keys(Window(t, t + 1))))["event_uuid"] for t in (start, end))
    iso = {t: stream.event(next(stream.keys(Window(t, t + 1))))["timestamp"] for t in (start, end)}
    got = uuids(get(client, {"start_date": iso[start], "end_date": iso[end]}))
    assert got == truth(client, start, end) and first in got and beyond not in got
    # a microsecond after the event on start_date excludes it; microseconds round up to the next millisecond
    later = iso[start].replace("000+00:00", "001+00:00")
    assert first not in uuids(get(client, {"start_date": later, "end_date": iso[end]}))


@pytest.mark.mock_only
def test_one_date_alone(client: TestClient) -> None:
    start_only = uuids(get(client, {"start_date": "2024-04-28T00:00:00Z"}))
    assert start_only == truth(client, parse_instant("2024-04-28T00:00:00Z", 0), NOW_MS + 1)
    end = parse_instant("2024-04-20T06:00:00Z", 0)
    end_only = uuids(get(client, {"end_date": "2024-04-20T06:00:00Z"}))
    assert end_only == truth(client, end - 7 * DAY_MS, end)


@pytest.mark.mock_only
def test_a_start_after_the_end_is_an_empty_list(client: TestClient) -> None:
    answer = get(client, {"start_date": "2024-04-21T00:00:00Z", "end_date": "2024-04-20T00:00:00Z"})
    assert answer.status_code == 200 and answer.content == b'{"logs":[]}'


@pytest.mark.vendor_documented("pydantic v2: the date forms Datafold's FastAPI application reads")
@pytest.mark.parametrize("start", ["2024-04-25T00:00:00Z", "2024-04-25", "2024-04-25T00:00", "2024-04-25 00:00:00",
                                   "2024-04-25T02:00:00+02:00", "2024-04-24T19:00:00-0500", "2024-04-25t00:00:00z",
                                   "2024-04-25T00:00:00.000000Z"])
def test_every_date_form_pydantic_reads_means_the_same_instant(client: TestClient, start: str) -> None:
    reference = uuids(get(client, {"start_date": "2024-04-25T00:00:00Z", "end_date": "2024-04-26T00:00:00Z"}))
    assert uuids(get(client, {"start_date": start, "end_date": "2024-04-26T00:00:00Z"})) == reference != []


@pytest.mark.mock_only
def test_retention_is_365_days(client: TestClient) -> None:
    old = get(client, {"start_date": "2023-04-20T00:00:00Z", "end_date": "2023-05-10T00:00:00Z"})
    stamps = [parse_instant(log["timestamp"], 0) for log in old.json()["logs"]]
    assert stamps and min(stamps) >= NOW_MS - 365 * DAY_MS > parse_instant("2023-04-20T00:00:00Z", 0)


# -- the cap ----------------------------------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_a_window_over_10000_entries_is_400_naming_the_count(client: TestClient) -> None:
    body = {"start_date": "2024-04-01T00:00:00Z", "end_date": "2024-04-15T00:00:00Z"}  # 14 days of 1,000 a day
    count = len(truth(client, parse_instant(body["start_date"], 0), parse_instant(body["end_date"], 0), "contoso"))
    answer = get(client, body, CONTOSO)
    assert answer.status_code == 400
    assert answer.json() == {"detail": f"The requested range holds {count} audit log entries, more than the 10000 "
                                       "one answer can carry: narrow start_date and end_date"}
    half = get(client, {"start_date": "2024-04-01T00:00:00Z", "end_date": "2024-04-08T00:00:00Z"}, CONTOSO)
    assert 5_000 < len(uuids(half)) <= 10_000


@pytest.mark.mock_only
def test_the_cap_is_inclusive(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    body = {"start_date": "2024-04-20T00:00:00Z", "end_date": "2024-04-20T06:00:00Z"}
    expected = truth(client, parse_instant(body["start_date"], 0), parse_instant(body["end_date"], 0))
    monkeypatch.setattr(datafold, "MAX_LOGS", len(expected))
    assert uuids(get(client, body)) == expected
    monkeypatch.setattr(datafold, "MAX_LOGS", len(expected) - 1)
    assert get(client, {**body, "end_date": "2024-04-20T06:00:00.000Z"}).status_code == 400


# -- 422 ---------------------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented("pydantic v2 / FastAPI HTTPValidationError (seeds/003)")
def test_bad_dates_are_422_with_pydantics_words(client: TestClient) -> None:
    answer = get(client, {"start_date": "2024-13-01", "end_date": "yesterday"})
    assert answer.status_code == 422
    assert answer.json() == {"detail": [
        {"type": "datetime_from_date_parsing", "loc": ["body", "start_date"],
         "msg": "Input should be a valid datetime or date, month value is outside expected range of 1-12",
         "input": "2024-13-01", "ctx": {"error": "month value is outside expected range of 1-12"}},
        {"type": "datetime_from_date_parsing", "loc": ["body", "end_date"],
         "msg": "Input should be a valid datetime or date, input is too short", "input": "yesterday",
         "ctx": {"error": "input is too short"}}]}


@pytest.mark.vendor_documented("FastAPI HTTPValidationError (seeds/003)")
@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"3", b'{"start_date": true}', b'{"end_date": 5}',
                                 b'{"start_date": [], "end_date": "x"}'])
def test_malformed_json_and_wrong_types_are_422_in_the_seed_shape(client: TestClient, raw: bytes) -> None:
    answer = get(client, raw=raw)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, list) and detail
    for error in detail:
        assert {"loc", "msg", "type"} <= set(error) and error["loc"][0] == "body"
        assert isinstance(error["msg"], str) and isinstance(error["type"], str)
    if raw.startswith(b"{not"):
        assert detail[0]["type"] == "json_invalid" and detail[0]["msg"] == "JSON decode error"


# -- other errors, rate limit, determinism -----------------------------------------------------------------------------
@pytest.mark.mock_only
def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    answer = client.post(PATH, headers=ADMIN)
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json() == {"detail": "Method Not Allowed"}
    assert client.get("/datafold/api/v1/nothing", headers=ADMIN).json() == {"detail": "Not Found"}
    assert uuids(client.get("/datafold" + PATH, headers=ADMIN)) == uuids(get(client))


@pytest.mark.mock_only
@pytest.mark.parametrize(("error", "detail"), [
    (TooManyRequests(4.5), "Too Many Requests"), (TooManyRequests(1, "Slow down"), "Slow down"),
    (ServerFault(502), "Bad Gateway"), (InternalError(), "Internal Server Error"),
    (MethodNotAllowed(("GET",)), "Method Not Allowed")], ids=["429", "429-own-message", "502", "500", "405"])
def test_every_error_is_rendered_as_fastapi_detail_with_its_headers(error: VendorError, detail: str) -> None:
    answer = datafold.render_error(error.with_headers({"X-Test": "1"}))
    assert answer.status_code == error.status
    assert orjson.loads(answer.body) == {"detail": detail}
    assert answer.headers["x-test"] == "1"
    if isinstance(error, TooManyRequests):
        assert answer.headers["retry-after"] == str(math.ceil(error.retry_after or 0))


@pytest.mark.mock_only
def test_the_301st_request_of_a_minute_is_429_per_key() -> None:
    policy = datafold.VENDOR.rate_limit
    assert policy is not None and (policy.limit, policy.period_s, policy.scope) == (300, 60, "credential")
    empty = {"start_date": "2024-04-20T00:00:00Z", "end_date": "2024-04-20T00:00:00Z"}
    with make_client(rate_limits=True) as c:
        statuses = [get(c, empty).status_code for _ in range(300)]
        refused = get(c, empty)
        other_key = get(c, empty, CI)
    assert statuses == [200] * 300
    assert refused.status_code == 429 and refused.json() == {"detail": "Too Many Requests"}
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert other_key.status_code == 200, "each API key has its own bucket"


@pytest.mark.mock_only
def test_same_seed_and_clock_give_byte_identical_answers_in_any_order() -> None:
    requests = [None, {"start_date": "2024-04-01T00:00:00Z", "end_date": "2024-04-02T00:00:00Z"},
                {"end_date": "2024-03-01T00:00:00Z"}]
    with make_client(seed=3) as a, make_client(seed=3) as b, make_client(seed=4) as c:
        forward = [get(a, r).content for r in requests]
        backward = [get(b, r).content for r in reversed(requests)][::-1]
        other_seed = [get(c, r).content for r in requests]
    assert forward == backward
    assert all(x != y for x, y in zip(forward, other_seed, strict=True))


@pytest.mark.vendor_documented("FastAPI routing: any non-empty body is decoded with json.loads")
@pytest.mark.parametrize("raw", [b" ", b"\x0b", b"\n\t "])
def test_a_blank_body_is_malformed_json_not_an_absent_one(client: TestClient, raw: bytes) -> None:
    answer = get(client, raw=raw)
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["type"], error["msg"], error["loc"][0]) == ("json_invalid", "JSON decode error", "body")
    assert error["ctx"] == {"error": "Expecting value"}
