"""Rate limits over a real socket: Datadog's headers and 429, and the control routes /_mock/ratelimits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.control_ratelimits import PATH
from mockserver.testing import LiveServer

DATADOG_DOCS = "Datadog API reference: Rate Limits (X-RateLimit-* headers); VENDORS.md: 429 body"
LIST = "/api/v2/audit/events"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-period", "x-ratelimit-remaining", "x-ratelimit-reset",
                "x-ratelimit-name")


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with LiveServer() as server:
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    live.state.limits.reset()
    live.state.clock.reset()  # frozen at 2024-05-01T12:00:00Z: a whole minute, so Reset is 60
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def rate_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in RATE_HEADERS if name in response.headers}


def put(http: httpx.Client, body: Any) -> httpx.Response:
    return http.put(PATH, json=body)


# -- the vendor side ------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_datadog_sends_the_five_headers_on_a_200_and_on_an_error_after_auth(live: LiveServer,
                                                                            http: httpx.Client) -> None:
    headers = live.headers("datadog")
    ok = http.get(LIST, headers=headers)
    bad = http.get(LIST, params={"page[limit]": "0"}, headers=headers)
    searched = http.post(LIST + "/search", json={}, headers=headers)

    assert ok.status_code == 200 and bad.status_code == 400 and searched.status_code == 200
    # our choice: 1,000 requests per 60 s per org and per operation, named audit_logs
    assert rate_headers(ok) == {"x-ratelimit-limit": "1000", "x-ratelimit-period": "60",
                                "x-ratelimit-remaining": "999", "x-ratelimit-reset": "60",
                                "x-ratelimit-name": "audit_logs"}
    assert rate_headers(bad)["x-ratelimit-remaining"] == "998", "a 400 after auth counts and says so"
    assert rate_headers(searched)["x-ratelimit-remaining"] == "999", "each operation has its own bucket"


@pytest.mark.mock_only  # the limiter runs after auth: a request nobody is known for is not counted
def test_an_auth_failure_carries_no_rate_limit_headers(http: httpx.Client) -> None:
    answer = http.get(LIST, headers={"DD-API-KEY": "nope", "DD-APPLICATION-KEY": "nope"})
    assert answer.status_code == 403 and rate_headers(answer) == {}


@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_datadog_answers_429_in_its_envelope_until_the_clock_reaches_the_next_window(
        live: LiveServer, http: httpx.Client) -> None:
    assert put(http, {"vendors": {"datadog": {"orgs": {"acme": {"limit": 2}}}}}).status_code == 200
    headers = live.headers("datadog")
    live.state.clock.advance(45_500)
    statuses = [http.get(LIST, headers=headers).status_code for _ in range(2)]
    refused = http.get(LIST, headers=headers)

    assert statuses == [200, 200] and refused.status_code == 429
    assert refused.json() == {"errors": ["Too many requests"]}
    assert refused.headers["content-type"] == "application/json"
    assert rate_headers(refused) == {"x-ratelimit-limit": "2", "x-ratelimit-period": "60",
                                     "x-ratelimit-remaining": "0", "x-ratelimit-reset": "15",
                                     "x-ratelimit-name": "audit_logs"}
    assert refused.headers["retry-after"] == "15"
    assert http.get(LIST, headers=live.headers("datadog", "globex-admin")).status_code == 200, "per org"
    live.state.clock.advance(14_499)
    assert http.get(LIST, headers=headers).status_code == 429
    live.state.clock.advance(1)
    again = http.get(LIST, headers=headers)
    assert again.status_code == 200 and rate_headers(again)["x-ratelimit-remaining"] == "1"


# -- the control routes ---------------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_get_shows_the_defaults_each_org_and_the_current_buckets(live: LiveServer, http: httpx.Client) -> None:
    http.get(LIST, headers=live.headers("datadog"))
    state = http.get(PATH).json()

    assert state["enabled"] is True
    assert state["vendors"]["datadog"] == {
        "default": {"limit": 1000, "period_s": 60, "scope": "org", "per_operation": True, "plan_limits": {},
                    "headers": "x-ratelimit", "name": "audit_logs"},
        "orgs": {org: {"limit": 1000, "period_s": 60, "enabled": True, "source": "vendor"}
                 for org in ("acme", "globex")}}
    assert state["buckets"] == [{"vendor": "datadog", "subject": "acme", "operation": "ListAuditLogs",
                                 "window_start": "2024-05-01T12:00:00.000Z", "period_s": 60, "limit": 1000,
                                 "used": 1, "refused": 0}]


@pytest.mark.mock_only
def test_put_merges_overrides_null_removes_one_and_delete_goes_back_to_the_world(http: httpx.Client) -> None:
    first = put(http, {"vendors": {"datadog": {"limit": 50, "period_s": 10, "orgs": {"globex": {"limit": 5}}}}})
    assert first.status_code == 200 and first.json() == http.get(PATH).json()
    assert first.json()["vendors"]["datadog"]["orgs"]["acme"]["period_s"] == 10
    second = put(http, {"vendors": {"datadog": {"period_s": None}}})
    orgs = second.json()["vendors"]["datadog"]["orgs"]

    assert orgs == {"acme": {"limit": 50, "period_s": 60, "enabled": True, "source": "runtime"},
                    "globex": {"limit": 5, "period_s": 60, "enabled": True, "source": "runtime"}}
    deleted = http.delete(PATH)
    assert deleted.status_code == 200
    assert deleted.json()["vendors"]["datadog"]["orgs"]["globex"]["source"] == "vendor"


@pytest.mark.mock_only
def test_switched_off_at_runtime_nothing_is_limited_and_no_header_is_sent(live: LiveServer,
                                                                         http: httpx.Client) -> None:
    put(http, {"vendors": {"datadog": {"limit": 1}}})
    assert put(http, {"enabled": False}).json()["enabled"] is False
    answers = [http.get(LIST, headers=live.headers("datadog")) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3 and all(rate_headers(a) == {} for a in answers)
    put(http, {"enabled": True})
    assert http.get(LIST, headers=live.headers("datadog")).status_code == 200
    assert http.get(LIST, headers=live.headers("datadog")).status_code == 429


@pytest.mark.mock_only
@pytest.mark.parametrize(("body", "message"), [
    ({"vendors": {"datadog": {"orgs": {"acme": {"limit": 0}}}}},
     "vendors.datadog.orgs.acme.limit: must be a positive integer (at most 1000000000)"),
    ({"vendors": {"datadog": {"period_s": "60"}}}, "vendors.datadog.period_s: must be a positive integer"),
    ({"vendors": {"datadog": {"enabled": 1}}}, "vendors.datadog.enabled: must be true or false"),
    ({"vendors": {"nope": {}}}, "vendors.nope: unknown vendor (known: "),
    ({"vendors": {"datadog": {"orgs": {"initech": {}}}}}, "vendors.datadog.orgs.initech: unknown org (known: acme, "),
    ({"vendors": {"datadog": {"burst": 3}}}, "vendors.datadog.burst: unknown key (known: enabled, limit, orgs, "),
    ({"limit": 3}, "limit: unknown key (known: enabled, vendors)"),
    ({"enabled": None}, "enabled: must be true or false"),
    ([1], "body: must be a JSON object"),
])
def test_a_bad_put_is_400_naming_the_field_and_changes_nothing(http: httpx.Client, body: Any, message: str) -> None:
    before = http.get(PATH).json()
    answer = put(http, body)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_ratelimits" and answer.json()["message"].startswith(message)
    assert http.get(PATH).json() == before


@pytest.mark.mock_only
def test_a_put_is_all_or_nothing(http: httpx.Client) -> None:
    before = http.get(PATH).json()
    answer = put(http, {"enabled": False, "vendors": {"datadog": {"limit": 3, "orgs": {"acme": {"limit": -1}}}}})
    assert answer.status_code == 400 and http.get(PATH).json() == before
