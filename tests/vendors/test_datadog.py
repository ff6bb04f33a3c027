"""Datadog's audit endpoints over HTTP, in process: status, body and headers as the vendor sends them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.windows import Window, parse_instant

NOW = "2024-05-01T12:00:00Z"
NOW_MS = parse_instant(NOW, 0)
LIST = "/api/v2/audit/events"
SEARCH = "/api/v2/audit/events/search"
ADMIN = {"DD-API-KEY": "9b2121d11ed6621675e9e2b97e2b0fd1",
         "DD-APPLICATION-KEY": "cb7e9a2163b6a38080d4545976fbc09e24330768"}
READONLY = {"DD-API-KEY": "5f23422d1b4c551f2c53d9dee794800c",
            "DD-APPLICATION-KEY": "e29c0100c0fdba2640651827e16b6bddd955945d"}
GLOBEX = {"DD-API-KEY": "b6b1c803c1318990929b269b84582cd9",
          "DD-APPLICATION-KEY": "8d591ca60405a392dd953e637457d4eb768a66d7"}
OBSERVED = "VENDORS.md: Datadog, observed from the real API"
REFERENCE = "Datadog API reference: Get a list of Audit Logs events (seeds/002)"


def make_client(seed: int = 0) -> TestClient:
    return TestClient(create_app(Settings(now=NOW, seed=seed)), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def truth(client: TestClient, org: str, start: str, end: str, descending: bool = True) -> list[str]:
    stream = client.app.state.mock.runtimes["datadog"].streams[org]  # type: ignore[attr-defined]
    window = stream.visible(Window(parse_instant(start, NOW_MS), parse_instant(end, NOW_MS)), NOW_MS)
    return [stream.event(key)["id"] for key in stream.keys(window, descending=descending)]


def page_all(client: TestClient, params: dict[str, Any], headers: dict[str, str] = ADMIN) -> list[str]:
    ids: list[str] = []
    params = dict(params)
    for _ in range(1_000):
        answer = client.get(LIST, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if not body["data"]:
            assert body == {"data": []}
            return ids
        ids.extend(event["id"] for event in body["data"])
        params["page[cursor]"] = body["meta"]["page"]["after"]
    raise AssertionError("did not finish in 1000 pages")


# -- auth ------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(OBSERVED)
@pytest.mark.parametrize("headers", [
    {}, {"DD-API-KEY": ADMIN["DD-API-KEY"]}, {"DD-APPLICATION-KEY": ADMIN["DD-APPLICATION-KEY"]},
    {"DD-API-KEY": ADMIN["DD-API-KEY"], "DD-APPLICATION-KEY": GLOBEX["DD-APPLICATION-KEY"]},
    {"DD-API-KEY": "0" * 32, "DD-APPLICATION-KEY": "0" * 40},
    READONLY,  # a key without audit_logs_read
])
@pytest.mark.parametrize(("method", "path"), [("GET", LIST), ("POST", SEARCH)])
def test_every_auth_failure_is_403_forbidden(client: TestClient, headers: dict[str, str], method: str,
                                             path: str) -> None:
    answer = client.request(method, path, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"errors": ["Forbidden"]}
    assert answer.headers["content-type"] == "application/json"


# -- the answer's shape ------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(OBSERVED)
def test_event_shape_is_the_real_one(client: TestClient) -> None:
    body = client.get(LIST, headers=ADMIN, params={"page[limit]": 50}).json()
    assert set(body) == {"data", "links", "meta"}
    assert set(body["meta"]) == {"elapsed", "page", "request_id", "status", "warnings"}
    assert body["meta"]["status"] == "done" and body["meta"]["warnings"] == []
    for event in body["data"]:
        assert event["type"] == "audit"
        assert event["id"].isalnum() and len(event["id"]) == 50  # URL-safe, like the reference's example ids
        outer = event["attributes"]
        assert set(outer) == {"timestamp", "service", "message", "tags", "attributes"}
        assert outer["tags"] == ["source:audit"]
        assert len(outer["timestamp"]) == 24 and outer["timestamp"].endswith("Z")
        inner = outer["attributes"]
        assert inner["evt"]["actor"]["type"] == "USER" and inner["status"] == "info"
        assert inner["usr"]["email"].endswith("@acme.example")
        assert inner["org"]["uuid"] == "6c5e2a7e-4d8b-4f1c-9a0e-1d2b3c4d5e6f"
        assert isinstance(inner["http"]["status_code"], str)
        assert inner["network"]["client"]["ip"].count(".") == 3
        assert inner["auth_method"] in {"SESSION", "API + App Key"}
    assert any(e["attributes"]["message"].startswith("GET request made to /api/") for e in body["data"])


@pytest.mark.vendor_documented(OBSERVED)
def test_an_empty_result_is_just_data(client: TestClient) -> None:
    answer = client.get(LIST, headers=ADMIN, params={"filter[from]": "now-200d", "filter[to]": "now-190d"})
    assert answer.content == b'{"data":[]}'


@pytest.mark.vendor_documented(OBSERVED)
def test_a_short_last_page_still_has_a_cursor_and_the_next_is_empty(client: TestClient) -> None:
    expected = truth(client, "acme", "now-15m", "now")
    assert 5 < len(expected) < 100
    first = client.get(LIST, headers=ADMIN, params={"page[limit]": 1000}).json()
    assert [e["id"] for e in first["data"]] == expected
    after = first["meta"]["page"]["after"]
    assert orjson.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4))).keys() == {"after"}
    second = client.get(LIST, headers=ADMIN, params={"page[limit]": 1000, "page[cursor]": after})
    assert second.content == b'{"data":[]}'


@pytest.mark.mock_only
def test_default_window_is_the_last_15_minutes_newest_first(client: TestClient) -> None:
    assert page_all(client, {}) == truth(client, "acme", "now-15m", "now")


@pytest.mark.vendor_documented(REFERENCE)
@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_paging_returns_the_window_exactly_once_in_order(client: TestClient, sort: str, limit: int) -> None:
    params = {"filter[from]": "now-2h", "filter[to]": "now-1h", "sort": sort, "page[limit]": limit}
    expected = truth(client, "acme", "now-2h", "now-1h", descending=sort == "-timestamp")
    assert len(expected) > 50
    assert page_all(client, params) == expected


@pytest.mark.vendor_documented(OBSERVED)
@pytest.mark.parametrize("moment", ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z", "2024-05-01T10:00:00+00:00",
                                    "2024-05-01T12:00:00+02:00", "1714557600000", "now-2h"])
def test_every_time_format_means_the_same_instant(client: TestClient, moment: str) -> None:
    params = {"filter[from]": moment, "filter[to]": "now-1h", "page[limit]": 1000}
    reference = client.get(LIST, headers=ADMIN, params={**params, "filter[from]": "2024-05-01T10:00:00Z"}).json()
    assert client.get(LIST, headers=ADMIN, params=params).json()["data"] == reference["data"]


@pytest.mark.mock_only
def test_plain_dates_and_half_open_windows(client: TestClient) -> None:
    day = truth(client, "acme", "2024-04-30", "2024-05-01", descending=False)
    first_half = truth(client, "acme", "2024-04-30", "2024-04-30T12:00:00Z", descending=False)
    second_half = truth(client, "acme", "2024-04-30T12:00:00Z", "2024-05-01", descending=False)
    assert day == first_half + second_half and len(day) > 1_000


# -- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.mock_only
@pytest.mark.parametrize(("params", "words"), [
    ({"page[limit]": 0}, "page[limit]"), ({"page[limit]": 1001}, "page[limit]"),
    ({"page[limit]": "ten"}, "page[limit]"), ({"sort": "newest"}, "sort"),
    ({"filter[from]": "yesterday"}, "filter[from]"), ({"filter[to]": "2024-13-01"}, "filter[to]"),
    ({"filter[query]": "(unbalanced"}, "Invalid query"), ({"page[cursor]": "not-a-cursor"}, "cursor"),
])
def test_bad_parameters_get_400_with_errors(client: TestClient, params: dict[str, Any], words: str) -> None:
    answer = client.get(LIST, headers=ADMIN, params=params)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert len(errors) == 1 and words in errors[0]


@pytest.mark.mock_only
@pytest.mark.parametrize(("body", "words"), [
    (b"{not json", "malformed JSON"), (b"[]", "request body"), (b'{"page": {"limit": 5000}}', "5000"),
    (b'{"sort": "up"}', "request body"), (b'{"filter": {"from": "tomorrow-ish"}}', "'filter.from'"),
    (b'{"options": {"timezone": "Mars/Olympus"}}', "timezone"), (b'{"filter": 3}', "request body"),
])
def test_bad_bodies_get_400_with_errors(client: TestClient, body: bytes, words: str) -> None:
    answer = client.post(SEARCH, headers={**ADMIN, "Content-Type": "application/json"}, content=body)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["errors"][0]


@pytest.mark.mock_only
def test_a_cursor_replayed_with_another_query_is_refused(client: TestClient) -> None:
    first = client.get(LIST, headers=ADMIN, params={"filter[query]": "*", "page[limit]": 2}).json()
    cursor = first["meta"]["page"]["after"]
    for changed in ({"filter[query]": "@evt.name:Dashboard"}, {"sort": "timestamp"}, {"filter[from]": "now-1h"}):
        answer = client.get(LIST, headers=ADMIN, params={"page[limit]": 2, "page[cursor]": cursor, **changed})
        assert answer.status_code == 400
        assert "another query" in answer.json()["errors"][0]
    other_org = client.get(LIST, headers=GLOBEX, params={"page[limit]": 2, "page[cursor]": cursor})
    assert other_org.status_code == 400


@pytest.mark.mock_only
def test_wrong_method_and_unknown_path(client: TestClient) -> None:
    answer = client.delete(LIST, headers=ADMIN)
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json() == {"errors": ["Method Not Allowed"]}
    assert client.get("/datadog/api/v2/nothing", headers=ADMIN).json() == {"errors": ["Not found"]}


@pytest.mark.mock_only
def test_an_unexpected_failure_is_a_500_envelope_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.vendors import datadog

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(datadog, "read_page", explode)
    with make_client() as c:
        answer = c.get(LIST, headers=ADMIN)
    assert answer.status_code == 500
    assert answer.json() == {"errors": ["Internal Server Error"]}


# -- search, links, filters, isolation, determinism -------------------------------------------------------
@pytest.mark.vendor_documented(OBSERVED)
def test_search_links_next_points_at_the_get_with_the_body_re_encoded(client: TestClient) -> None:
    body = {"filter": {"from": "now-3h", "to": "now-1h", "query": "@evt.name:Request"}, "sort": "timestamp",
            "page": {"limit": 5}}
    first = client.post(SEARCH, headers=ADMIN, json=body).json()
    link = urlsplit(first["links"]["next"])
    assert link.path == LIST
    query = dict(parse_qsl(link.query))
    assert query == {"filter[query]": "@evt.name:Request", "filter[from]": "now-3h", "filter[to]": "now-1h",
                     "sort": "timestamp", "page[limit]": "5", "page[cursor]": first["meta"]["page"]["after"]}
    via_link = client.get(LIST, headers=ADMIN, params=query).json()
    via_post = client.post(SEARCH, headers=ADMIN, json={
        **body, "page": {"limit": 5, "cursor": first["meta"]["page"]["after"]}}).json()
    assert [e["id"] for e in via_link["data"]] == [e["id"] for e in via_post["data"]]
    assert len(via_link["data"]) == 5


@pytest.mark.mock_only
def test_links_next_keeps_the_vendor_prefix(client: TestClient) -> None:
    answer = client.get("/datadog" + LIST, headers=ADMIN, params={"page[limit]": 1}).json()
    assert urlsplit(answer["links"]["next"]).path == "/datadog" + LIST


@pytest.mark.vendor_documented("Datadog docs: Audit Trail search syntax")
def test_a_query_selects_matching_events_only(client: TestClient) -> None:
    params = {"filter[from]": "now-1d", "filter[query]": "@evt.name:Dashboard -@action:deleted", "page[limit]": 1000}
    data = client.get(LIST, headers=ADMIN, params=params).json()["data"]
    assert data
    for event in data:
        inner = event["attributes"]["attributes"]
        assert inner["evt"]["name"] == "Dashboard" and inner["action"] != "deleted"
    everything = truth(client, "acme", "now-1d", "now")
    assert 0 < len(data) < len(everything) / 4


@pytest.mark.vendor_documented(OBSERVED)
def test_orgs_are_isolated(client: TestClient) -> None:
    data = client.get(LIST, headers=GLOBEX, params={"filter[from]": "now-1d", "page[limit]": 100}).json()["data"]
    assert data
    assert {e["attributes"]["attributes"]["org"]["name"] for e in data} == {"Globex Corporation"}
    assert page_all(client, {"filter[from]": "now-6h"}, GLOBEX) == truth(client, "globex", "now-6h", "now")


@pytest.mark.mock_only
def test_same_seed_and_clock_give_byte_identical_answers_in_any_order() -> None:
    requests = [{"page[limit]": 3}, {"filter[from]": "now-1h", "sort": "timestamp", "page[limit]": 20},
                {"filter[from]": "now-30d", "filter[to]": "now-29d", "page[limit]": 50}]
    with make_client(seed=3) as a, make_client(seed=3) as b, make_client(seed=4) as c:
        forward = [a.get(LIST, headers=ADMIN, params=p).content for p in requests]
        backward = [b.get(LIST, headers=ADMIN, params=p).content for p in reversed(requests)][::-1]
        other_seed = [c.get(LIST, headers=ADMIN, params=p).content for p in requests]
    assert forward == backward
    assert all(x != y for x, y in zip(forward, other_seed, strict=True))


@pytest.mark.mock_only
def test_retention_is_90_days(client: TestClient) -> None:
    assert truth(client, "acme", "now-91d", "now-90d") == []
    answer = client.get(LIST, headers=ADMIN, params={"filter[from]": "now-91d", "filter[to]": "now-89d",
                                                     "sort": "timestamp", "page[limit]": 1}).json()
    first = parse_instant(answer["data"][0]["attributes"]["timestamp"], 0)
    assert NOW_MS - 90 * 86_400_000 <= first < NOW_MS - 89 * 86_400_000


@pytest.mark.vendor_documented("Datadog API reference: meta.status done|timeout, warnings mean partial results")
def test_a_sparse_query_answers_partial_pages_that_resume_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.vendors import datadog

    monkeypatch.setattr(datadog, "SCAN_BUDGET", 40)
    query = '@evt.name:"Organization Management" OR @action:deleted'
    with make_client() as c:
        stream = c.app.state.mock.runtimes["datadog"].streams["acme"]  # type: ignore[attr-defined]
        window = stream.visible(Window(NOW_MS - 6 * 3_600_000, NOW_MS), NOW_MS)
        expected = [e["id"] for e in map(stream.event, stream.keys(window, descending=True))
                    if e["attributes"]["attributes"]["evt"]["name"] == "Organization Management"
                    or e["attributes"]["attributes"]["action"] == "deleted"]
        assert 3 <= len(expected) < stream.count(window) / 10
        params: dict[str, Any] = {"filter[from]": "now-6h", "filter[query]": query, "page[limit]": 1000}
        got, statuses = [], set()
        for _ in range(1_000):
            body = c.get(LIST, headers=ADMIN, params=params).json()
            if "meta" not in body:
                break
            statuses.add(body["meta"]["status"])
            if body["meta"]["status"] == "timeout":
                assert body["meta"]["warnings"][0]["code"] == "timeout"
            got.extend(event["id"] for event in body["data"])
            params["page[cursor]"] = body["meta"]["page"]["after"]
    assert got == expected
    assert statuses == {"timeout", "done"} or statuses == {"timeout"}


# -- replayed answers ---------------------------------------------------------------------------------------
FIXED = {"filter[from]": "2024-05-01T09:00:00Z", "filter[to]": "2024-05-01T10:00:00Z", "page[limit]": 50}


def _forbid_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.vendors import datadog

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rendered again")

    monkeypatch.setattr(datadog, "read_page", explode)


@pytest.mark.mock_only
def test_an_identical_request_is_replayed_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    with make_client() as c:
        first = c.get(LIST, headers=ADMIN, params=FIXED).content
        _forbid_rendering(monkeypatch)
        assert c.get(LIST, headers=ADMIN, params=FIXED).content == first
        # another credential of the same org is another request: it must pass auth and render itself
        assert c.get(LIST, headers=READONLY, params=FIXED).status_code == 403


@pytest.mark.mock_only
def test_an_injected_event_invalidates_replayed_answers() -> None:
    with make_client() as c:
        first = c.get(LIST, headers=ADMIN, params=FIXED).json()["data"]
        stream = c.app.state.mock.runtimes["datadog"].streams["acme"]  # type: ignore[attr-defined]
        newest = parse_instant("2024-05-01T09:59:59.999Z", 0)
        stream.inject(newest, {**first[0], "id": "injected-1"})
        again = c.get(LIST, headers=ADMIN, params=FIXED).json()["data"]
    assert again[0]["id"] == "injected-1" and again[1:] == first[:-1]


@pytest.mark.mock_only
def test_answers_that_depend_on_a_running_clock_are_not_replayed() -> None:
    from mockserver.engine.clock import Clock

    with make_client() as c:
        server = c.app.state.mock  # type: ignore[attr-defined]
        clock: Clock = server.clock
        clock.run(rate=1.0)
        before = c.get(LIST, headers=ADMIN, params={"filter[from]": "now-1h", "page[limit]": 5}).json()
        clock.advance(3_600_000)  # an hour of new events
        after = c.get(LIST, headers=ADMIN, params={"filter[from]": "now-1h", "page[limit]": 5}).json()
        assert before["data"][0]["id"] != after["data"][0]["id"]
        fixed = {**FIXED, "filter[from]": "2024-02-02T12:00:00Z", "filter[to]": "2024-02-02T13:00:00Z"}
        assert c.get(LIST, headers=ADMIN, params=fixed).json()["data"]
        clock.advance(86_400_000)  # the window's first events age past the 90-day retention
        assert c.get(LIST, headers=ADMIN, params=fixed).json() == {"data": []}
