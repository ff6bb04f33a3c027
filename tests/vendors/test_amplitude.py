"""Amplitude's audit-log endpoint over HTTP, in process: status, body and headers as the mock promises them.

Ground truth comes from the engine (``OrgStream.keys``), never from the HTTP API.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import DAY_MS, Window, parse_instant
from mockserver.errors import InternalError, MethodNotAllowed, ServerFault, TooManyRequests, VendorError
from mockserver.vendors import amplitude

NOW = "2024-05-01T12:00:00Z"
NOW_MS = parse_instant(NOW, 0)
ORG, OTHER_ORG = "76273", "81946"
PATH = f"/api/2/audit-logs/{ORG}"
SEED_API = "Amplitude docs: Audit Logs API (seeds/000)"
SEED_ADMIN = "Amplitude docs: Audit log, data captured per event (seeds/001)"
ANALOGUE = "VENDORS.md: Amplitude /api/2 analogues (401 Invalid Api-Key)"


def basic(api_key: str, secret_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{api_key}:{secret_key}".encode()).decode()}


ACME = basic("6b26fdd45f52e473f14661a2993af27e", "1d92a1e47bd65b82225760e47ed4bd76")
HOOLI = basic("52c585a0d63f97159c4aa24325bf2b54", "280e53493cd22464b04272f9b66d48ba")


def make_client(seed: int = 0, rate_limits: bool = False) -> TestClient:
    return TestClient(create_app(Settings(now=NOW, seed=seed, rate_limits=rate_limits)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:  # rate limits off: this module sends more than an hour's worth of requests
        yield c


def stream_of(client: TestClient, org: str = ORG) -> OrgStream:
    stream: OrgStream = client.app.state.mock.runtimes["amplitude"].streams[org]  # type: ignore[attr-defined]
    return stream


def body(start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"start_date": start, "end_date": end, **extra}


def truth(client: TestClient, start: str, end: str, keep: Callable[[dict[str, Any]], bool] | None = None,
          org: str = ORG) -> list[str]:
    stream = stream_of(client, org)
    window = stream.visible(Window(parse_instant(start, NOW_MS), parse_instant(end, NOW_MS)), NOW_MS)
    events = (stream.event(key) for key in stream.keys(window))
    return [event["uuid"] for event in events if keep is None or keep(event)]


def page_all(client: TestClient, request: dict[str, Any], headers: dict[str, str] = ACME) -> list[str]:
    request = orjson.loads(orjson.dumps(request))
    uuids: list[str] = []
    for _ in range(2_000):
        answer = client.post(PATH, headers=headers, json=request)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        uuids.extend(entry["uuid"] for entry in page["data"])
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            return uuids
        request.setdefault("pagination", {})["cursor"] = cursor
    raise AssertionError("did not finish in 2000 pages")


def post(client: TestClient, payload: Any, headers: dict[str, str] = ACME, path: str = PATH) -> Any:
    return client.post(path, headers=headers, json=payload)


# -- auth ------------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(ANALOGUE)
@pytest.mark.parametrize("headers", [
    basic("6b26fdd45f52e473f14661a2993af27e", "wrong"),
    basic("0" * 32, "0" * 32),
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "Bearer 6b26fdd45f52e473f14661a2993af27e"},
    basic("1d92a1e47bd65b82225760e47ed4bd76", "6b26fdd45f52e473f14661a2993af27e"),  # swapped
], ids=["wrong-secret", "unknown", "not-base64", "not-basic", "swapped"])
def test_wrong_keys_are_401_invalid_api_key(client: TestClient, headers: dict[str, str]) -> None:
    answer = post(client, body("2024-04-30", "2024-05-01"), headers)
    assert answer.status_code == 401
    assert answer.json() == {"code": 401, "error": "Invalid Api-Key"}
    assert answer.headers["content-type"] == "application/json"


@pytest.mark.vendor_documented(SEED_API)
def test_missing_keys_are_401_saying_how_to_authenticate(client: TestClient) -> None:
    answer = client.post(PATH, json=body("2024-04-30", "2024-05-01"))
    assert answer.status_code == 401
    assert answer.json()["code"] == 401 and "HTTP Basic" in answer.json()["error"]


@pytest.mark.mock_only
@pytest.mark.parametrize("org", [OTHER_ORG, "99999"], ids=["another-org", "unknown-org"])
def test_keys_of_another_org_and_unseen_orgs_are_403(client: TestClient, org: str) -> None:
    answer = post(client, body("2024-04-30", "2024-05-01"), path=f"/api/2/audit-logs/{org}")
    assert answer.status_code == 403
    assert answer.json() == {"code": 403, "error": f"These keys do not belong to organization {org}"}


@pytest.mark.vendor_documented(SEED_API)
def test_each_org_reads_its_own_log_with_its_own_keys(client: TestClient) -> None:
    request = body("2024-04-29T00:00:00Z", "2024-05-01T00:00:00Z", pagination={"limit": 1000})
    answer = post(client, request, HOOLI, f"/api/2/audit-logs/{OTHER_ORG}").json()
    assert [e["uuid"] for e in answer["data"]] == truth(client, request["start_date"], request["end_date"],
                                                         org=OTHER_ORG)
    assert {e["org_id"] for e in answer["data"]} == {81946}
    assert not set(truth(client, request["start_date"], request["end_date"])) & {e["uuid"] for e in answer["data"]}


@pytest.mark.mock_only
def test_org_id_must_be_digits(client: TestClient) -> None:
    answer = post(client, body("2024-04-30", "2024-05-01"), path="/api/2/audit-logs/acme")
    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and "org_id" in answer.json()["error"]


# -- the answer ------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(SEED_ADMIN)
def test_entries_carry_every_documented_field(client: TestClient) -> None:
    answer = post(client, body("2024-04-01T00:00:00Z", "2024-04-30T00:00:00Z", pagination={"limit": 1000}))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    page = answer.json()
    assert set(page) == {"data", "pagination"} and len(page["data"]) == 1000
    fields = {"uuid", "timestamp", "domain", "feature", "action", "target", "user_email", "org_id", "app_id",
              "ip_address", "user_agent", "event_properties", "error"}
    for entry in page["data"]:
        assert set(entry) == fields
        assert entry["org_id"] == 76273 and entry["user_email"].endswith("@acme-analytics.example")
        assert entry["timestamp"].endswith("Z") and len(entry["timestamp"]) == 24
        assert entry["ip_address"].count(".") == 3 and entry["user_agent"]
        assert isinstance(entry["event_properties"], dict) and ":" in entry["target"]
        assert (entry["app_id"] is not None) == (entry["domain"] == "content" or entry["feature"] == "project")
    assert {entry["app_id"] for entry in page["data"]} >= {432109, 432110, 432111, 432112}
    errors = [entry for entry in page["data"] if entry["error"] is not None]
    assert errors and all(entry["domain"] == "auth" for entry in errors)


@pytest.mark.vendor_documented(SEED_API)
def test_pages_carry_the_limit_and_a_cursor_until_the_last(client: TestClient) -> None:
    expected = truth(client, "2024-04-30T10:00:00Z", "2024-04-30T12:00:00Z")
    assert 10 < len(expected) < 100
    first = post(client, body("2024-04-30T10:00:00Z", "2024-04-30T12:00:00Z")).json()
    assert first["pagination"] == {"limit": 100, "next_cursor": None}  # default limit: our choice
    assert [e["uuid"] for e in first["data"]] == expected
    short = post(client, body("2024-04-30T10:00:00Z", "2024-04-30T12:00:00Z", pagination={"limit": 5})).json()
    assert short["pagination"]["limit"] == 5 and short["pagination"]["next_cursor"]
    exact = post(client, body("2024-04-30T10:00:00Z", "2024-04-30T12:00:00Z",
                              pagination={"limit": len(expected)})).json()
    assert exact["pagination"]["next_cursor"] is None, "a page that holds the rest is the last"


@pytest.mark.mock_only
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_paging_returns_the_window_exactly_once_oldest_first(client: TestClient, limit: int) -> None:
    start, end = "2024-04-29T00:00:00Z", "2024-04-29T06:00:00Z"
    expected = truth(client, start, end)
    assert len(expected) > 50
    assert page_all(client, body(start, end, pagination={"limit": limit})) == expected


@pytest.mark.mock_only
def test_the_page_size_may_change_between_pages(client: TestClient) -> None:
    start, end = "2024-04-29T00:00:00Z", "2024-04-29T03:00:00Z"
    first = post(client, body(start, end, pagination={"limit": 3})).json()
    rest = page_all(client, body(start, end, pagination={"limit": 50, "cursor": first["pagination"]["next_cursor"]}))
    assert [e["uuid"] for e in first["data"]] + rest == truth(client, start, end)


@pytest.mark.mock_only
def test_windows_are_half_open_so_adjacent_windows_share_nothing(client: TestClient) -> None:
    stream = stream_of(client)
    on_bound = stream.ts(stream.first_index_at_or_after(parse_instant("2024-04-29T12:00:00Z", 0)))
    bound = stream.event(next(stream.keys(Window(on_bound, on_bound + 1))))
    iso = bound["timestamp"]
    before = page_all(client, body("2024-04-29T00:00:00Z", iso, pagination={"limit": 1000}))
    after = page_all(client, body(iso, "2024-04-30T00:00:00Z", pagination={"limit": 1000}))
    assert bound["uuid"] in after and bound["uuid"] not in before
    assert before + after == truth(client, "2024-04-29T00:00:00Z", "2024-04-30T00:00:00Z")


@pytest.mark.vendor_documented(SEED_API)
@pytest.mark.parametrize("start", ["2024-04-29T00:00:00Z", "2024-04-29T00:00:00.000Z", "2024-04-29T02:00:00+02:00",
                                   "2024-04-28T19:00:00-0500", "2024-04-29", "2024-04-29T00:00", "2024-04-29 00:00:00",
                                   "2024-04-29T03:30:00+03:30"])
def test_every_iso_8601_form_means_the_same_instant(client: TestClient, start: str) -> None:
    reference = post(client, body("2024-04-29T00:00:00Z", "2024-04-29T04:00:00Z", pagination={"limit": 1000}))
    answer = post(client, body(start, "2024-04-29T04:00:00Z", pagination={"limit": 1000}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == reference.json()["data"] != []


# -- filters -------------------------------------------------------------------------------------------------------
FILTER_CASES = [
    pytest.param({"domain": "auth", "feature": "auth", "action": "login"}, id="admin-page-example"),
    pytest.param({"domain": "config"}, id="domain"),
    pytest.param({"feature": "project"}, id="feature"),
    pytest.param({"action": "delete"}, id="action"),
    pytest.param({"domain": "content", "action": "delete"}, id="combined"),
    pytest.param({"domain": "auth", "feature": "login", "action": "success"}, id="api-page-example-matches-none"),
]


@pytest.mark.vendor_documented(SEED_API)
@pytest.mark.parametrize("filters", FILTER_CASES)
def test_filters_are_exact_matches_combined_with_and(client: TestClient, filters: dict[str, str]) -> None:
    start, end = "2024-04-20T00:00:00Z", "2024-04-27T00:00:00Z"
    expected = truth(client, start, end, keep=lambda e: all(e[k] == v for k, v in filters.items()))
    everything = truth(client, start, end)
    assert len(expected) < len(everything)
    assert page_all(client, body(start, end, filters=filters, pagination={"limit": 250})) == expected


@pytest.mark.mock_only
def test_a_filtered_scan_stops_at_its_budget_and_resumes_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amplitude, "SCAN_BUDGET", 40)
    start, end = "2024-04-20T00:00:00Z", "2024-04-23T00:00:00Z"
    filters = {"feature": "project", "action": "delete"}
    with make_client() as c:
        expected = truth(c, start, end, keep=lambda e: e["feature"] == "project" and e["action"] == "delete")
        request = body(start, end, filters=filters, pagination={"limit": 1000})
        pages = []
        for _ in range(200):
            page = post(c, request).json()
            pages.append(len(page["data"]))
            request["pagination"]["cursor"] = page["pagination"]["next_cursor"]
            if request["pagination"]["cursor"] is None:
                break
        got = page_all(c, body(start, end, filters=filters, pagination={"limit": 1000}))
    assert 0 < len(expected) < 60 and got == expected
    assert len(pages) > 10 and 0 in pages, "budget-bound pages are short, some empty, and resume"


# -- cursors -------------------------------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_a_cursor_is_bound_to_its_query(client: TestClient) -> None:
    request = body("2024-04-29T00:00:00Z", "2024-04-30T00:00:00Z", pagination={"limit": 2})
    cursor = post(client, request).json()["pagination"]["next_cursor"]
    changed = [body("2024-04-29T00:00:01Z", "2024-04-30T00:00:00Z"),
               body("2024-04-29T00:00:00Z", "2024-04-30T00:00:01Z"),
               body("2024-04-29T00:00:00Z", "2024-04-30T00:00:00Z", filters={"domain": "auth"})]
    for other in changed:
        answer = post(client, {**other, "pagination": {"cursor": cursor}})
        assert answer.status_code == 400, other
        assert "another query" in answer.json()["error"]
    same_instant = body("2024-04-29T02:00:00+02:00", "2024-04-30T00:00:00Z", pagination={"cursor": cursor})
    assert post(client, same_instant).status_code == 200, "the same window written another way is the same query"
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for bad in (tampered, "not-a-cursor", "A"):
        answer = post(client, {**request, "pagination": {"cursor": bad}})
        assert answer.status_code == 400 and "cursor" in answer.json()["error"]
    hooli = {**body("2024-04-29T00:00:00Z", "2024-04-30T00:00:00Z"), "pagination": {"cursor": cursor}}
    assert post(client, hooli, HOOLI, f"/api/2/audit-logs/{OTHER_ORG}").status_code == 400


# -- bad requests ----------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(SEED_API)
@pytest.mark.parametrize(("payload", "words"), [
    ({"end_date": "2024-05-01"}, "start_date"),
    ({"start_date": "2024-04-01"}, "end_date"),
    (body("yesterday", "2024-05-01"), "'start_date'"),
    (body("2024-04-01", "now"), "'end_date'"),
    (body("1714000000000", "2024-05-01"), "'start_date'"),
    (body("2024-13-01", "2024-05-01"), "'start_date'"),
    (body("2024-02-30T00:00:00Z", "2024-03-01"), "'start_date'"),
    (body("2024-04-01T25:00:00Z", "2024-05-01"), "'start_date'"),
    (body(20240401, "2024-05-01"), "start_date"),
    (body("2024-04-10", "2024-04-01"), "end_date must not be before start_date"),
    (body("2024-04-01T00:00:00Z", "2024-05-01T00:00:00.001Z"), "maximum of 30 days"),
    (body("2024-04-01", "2024-04-02", pagination={"limit": 0}), "pagination.limit"),
    (body("2024-04-01", "2024-04-02", pagination={"limit": 1001}), "pagination.limit"),
    (body("2024-04-01", "2024-04-02", filters={"domain": 3}), "filters.domain"),
    ([], "request body"),
], ids=["no-start", "no-end", "words", "date-math", "epoch-ms", "month-13", "feb-30", "hour-25", "number",
        "end-before-start", "over-30-days", "limit-0", "limit-1001", "filter-type", "not-an-object"])
def test_bad_bodies_are_400_naming_what_is_wrong(client: TestClient, payload: Any, words: str) -> None:
    answer = post(client, payload)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == 400 and words in answer.json()["error"]


@pytest.mark.vendor_documented(SEED_API)
@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"start_date": "2024-04-01",}'])
def test_malformed_or_missing_json_is_400(client: TestClient, raw: bytes) -> None:
    answer = client.post(PATH, headers={**ACME, "Content-Type": "application/json"}, content=raw)
    assert answer.status_code == 400 and answer.json()["code"] == 400


@pytest.mark.vendor_documented(SEED_API)
def test_exactly_30_days_is_allowed_and_equal_bounds_are_empty(client: TestClient) -> None:
    answer = post(client, body("2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z", pagination={"limit": 1}))
    assert answer.status_code == 200 and len(answer.json()["data"]) == 1
    empty = post(client, body("2024-04-01T00:00:00Z", "2024-04-01T00:00:00Z")).json()
    assert empty == {"data": [], "pagination": {"limit": 100, "next_cursor": None}}


@pytest.mark.mock_only
def test_a_start_older_than_the_90_day_retention_is_clamped(client: TestClient) -> None:
    start, end = "2024-01-25T00:00:00Z", "2024-02-20T00:00:00Z"  # 90 days before now: 2024-02-01T12:00Z
    got = page_all(client, body(start, end, pagination={"limit": 1000}))
    assert got == truth(client, start, end) and len(got) > 1000
    first = post(client, body(start, end, pagination={"limit": 1})).json()["data"][0]["timestamp"]
    assert NOW_MS - 90 * DAY_MS <= parse_instant(first, 0) < NOW_MS - 90 * DAY_MS + DAY_MS
    gone = post(client, body("2024-01-01T00:00:00Z", "2024-01-20T00:00:00Z")).json()
    assert gone == {"data": [], "pagination": {"limit": 100, "next_cursor": None}}


@pytest.mark.mock_only
def test_future_end_dates_stop_at_now(client: TestClient) -> None:
    got = page_all(client, body("2024-05-01T06:00:00Z", "2024-05-20T00:00:00Z", pagination={"limit": 1000}))
    assert got == truth(client, "2024-05-01T06:00:00Z", "2024-05-01T12:00:00.001Z") and got


@pytest.mark.mock_only
def test_wrong_method_unknown_path_and_prefix(client: TestClient) -> None:
    answer = client.get(PATH, headers=ACME)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json() == {"code": 405, "error": "Method not allowed: use POST"}
    assert client.get("/amplitude/api/2/nothing", headers=ACME).json() == {"code": 404, "error": "Not found"}
    prefixed = post(client, body("2024-04-30T10:00:00Z", "2024-04-30T11:00:00Z"), path="/amplitude" + PATH)
    assert prefixed.json() == post(client, body("2024-04-30T10:00:00Z", "2024-04-30T11:00:00Z")).json()


@pytest.mark.mock_only
@pytest.mark.parametrize("error", [TooManyRequests(12.2), TooManyRequests(3, "Slow down"), ServerFault(503),
                                   InternalError(), MethodNotAllowed(("POST",))],
                         ids=["429", "429-own-message", "503", "500", "405"])
def test_every_error_is_rendered_in_the_envelope_with_its_headers(error: VendorError) -> None:
    answer = amplitude.render_error(error.with_headers({"X-Test": "1"}))
    assert answer.status_code == error.status
    assert orjson.loads(answer.body) == {"code": error.status, "error": orjson.loads(answer.body)["error"]}
    assert answer.headers["x-test"] == "1"
    if isinstance(error, TooManyRequests):
        assert answer.headers["retry-after"] == str(math.ceil(error.retry_after or 0))
        assert orjson.loads(answer.body)["error"] == error.message


# -- rate limit, determinism -------------------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_the_361st_request_of_an_hour_is_429_with_retry_after() -> None:
    policy = amplitude.VENDOR.rate_limit
    assert policy is not None and (policy.limit, policy.period_s, policy.scope) == (360, 3600, "org")
    empty = body("2024-04-01T00:00:00Z", "2024-04-01T00:00:00Z")
    with make_client(rate_limits=True) as c:
        statuses = [post(c, empty).status_code for _ in range(360)]
        refused = post(c, empty)
        other_org = post(c, empty, HOOLI, f"/api/2/audit-logs/{OTHER_ORG}")
    assert statuses == [200] * 360
    assert refused.status_code == 429 and refused.json()["code"] == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert other_org.status_code == 200, "each organization has its own bucket"


@pytest.mark.mock_only
def test_same_seed_and_clock_give_byte_identical_answers_in_any_order() -> None:
    requests = [body("2024-04-30T00:00:00Z", "2024-05-01T00:00:00Z", pagination={"limit": 5}),
                body("2024-04-01", "2024-04-02", filters={"domain": "config"}),
                body("2024-03-01", "2024-03-05", pagination={"limit": 50})]
    with make_client(seed=3) as a, make_client(seed=3) as b, make_client(seed=4) as c:
        forward = [post(a, r).content for r in requests]
        backward = [post(b, r).content for r in reversed(requests)][::-1]
        other_seed = [post(c, r).content for r in requests]
    assert forward == backward
    assert all(x != y for x, y in zip(forward, other_seed, strict=True))
