"""The control API under /_mock (specs/control.yaml): clock, ground truth, injection, journal, reset, token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.world import WorldError

NOW = "2024-05-01T12:00:00Z"
DD = {"DD-API-KEY": "9b2121d11ed6621675e9e2b97e2b0fd1",
      "DD-APPLICATION-KEY": "cb7e9a2163b6a38080d4545976fbc09e24330768"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(now=NOW, log_level="warning"))) as test_client:
        yield test_client


def truth(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/_mock/events", params={"vendor": "datadog", "org": "acme", **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def dd_ids(client: TestClient, start: str, end: str) -> list[str]:
    ids: list[str] = []
    params = {"filter[from]": start, "filter[to]": end, "page[limit]": "1000", "sort": "timestamp"}
    for _ in range(50):
        page = client.get("/api/v2/audit/events", params=params, headers=DD).json()
        if not page["data"]:
            return ids
        ids += [event["id"] for event in page["data"]]
        params["page[cursor]"] = page["meta"]["page"]["after"]
    raise AssertionError("paging did not end")


# -- clock ------------------------------------------------------------------------------------------------
def test_the_clock_reads_frozen_at_the_start_time(client: TestClient) -> None:
    clock = client.get("/_mock/clock").json()
    assert clock["now"] == "2024-05-01T12:00:00.000Z" and clock["now_ms"] == 1_714_564_800_000
    assert clock["frozen"] is True and clock["rate"] == 0


def test_advance_moves_the_clock_and_new_events_arrive(client: TestClient) -> None:
    before = truth(client, **{"from": "2024-05-01T11:00:00Z", "to": "2024-05-01T13:00:00Z"})["count"]
    clock = client.post("/_mock/clock/advance", json={"seconds": 1800}).json()
    assert clock["now"] == "2024-05-01T12:30:00.000Z"
    after = truth(client, **{"from": "2024-05-01T11:00:00Z", "to": "2024-05-01T13:00:00Z"})["count"]
    assert after > before
    assert client.get("/_mock/health").json()["now"] == "2024-05-01T12:30:00.000Z"


def test_set_clock_freezes_runs_and_offsets(client: TestClient) -> None:
    frozen = client.put("/_mock/clock", json={"now": "2024-06-01T00:00:00Z", "rate": 0}).json()
    assert frozen["now"] == "2024-06-01T00:00:00.000Z" and frozen["frozen"] is True
    relative = client.put("/_mock/clock", json={"now": "now-1d"}).json()
    assert relative["now"] == "2024-05-31T00:00:00.000Z" and relative["frozen"] is True
    running = client.put("/_mock/clock", json={"rate": 60}).json()
    assert running["frozen"] is False and running["rate"] == 60
    assert running["now_ms"] >= relative["now_ms"]
    real = client.put("/_mock/clock", json={"offset_s": -3600, "rate": 1}).json()
    assert real["rate"] == 1 and -3601 < real["offset_s"] < -3599


@pytest.mark.parametrize(("body", "message"), [
    ({"now": "tomorrow"}, "now: 'tomorrow' is not a date"),
    ({"now": NOW, "offset_s": 5}, "now and offset_s exclude each other"),
    ({"rate": -1}, "rate"),
    ({}, "Invalid request body"),
    ({"speed": 2}, "speed"),
])
def test_set_clock_refuses_what_it_cannot_do_naming_the_field(client: TestClient, body: dict[str, Any],
                                                               message: str) -> None:
    answer = client.put("/_mock/clock", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request" and message in answer.json()["message"]
    assert client.get("/_mock/clock").json()["now"] == "2024-05-01T12:00:00.000Z"


def test_advance_refuses_going_back_and_non_numbers(client: TestClient) -> None:
    for body in ({"seconds": -5}, {"seconds": "60"}, {"minutes": 1}):
        answer = client.post("/_mock/clock/advance", json=body)
        assert answer.status_code == 400, body
    assert client.get("/_mock/clock").json()["now"] == "2024-05-01T12:00:00.000Z"


def test_a_wrong_method_gets_405_with_every_allowed_method(client: TestClient) -> None:
    answer = client.delete("/_mock/clock")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD, PUT"
    assert answer.json()["error"] == "method_not_allowed"


def test_head_is_get_without_a_body_for_probes(client: TestClient) -> None:
    got, head = client.get("/_mock/health"), client.head("/_mock/health")
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]


# -- ground truth and injection ---------------------------------------------------------------------------
def test_ground_truth_is_what_a_client_pages_through(client: TestClient) -> None:
    window = {"from": "2024-05-01T10:00:00Z", "to": "2024-05-01T12:00:00Z"}
    body = truth(client, **window)
    assert body["count"] == body["returned"] == len(body["events"]) > 0 and body["truncated"] is False
    assert [event["id"] for event in body["events"]] == dd_ids(client, window["from"], window["to"])
    stamps = [event["attributes"]["timestamp"] for event in body["events"]]
    assert stamps == sorted(stamps)
    newest = truth(client, order="desc", limit=3, **window)
    assert [e["id"] for e in newest["events"]] == [e["id"] for e in body["events"][::-1][:3]]
    assert newest["truncated"] is True and newest["count"] == body["count"]


def test_ground_truth_counts_events_still_in_ingestion() -> None:
    settings = Settings(now=NOW, log_level="warning", ingestion_lag=120, lag_jitter=60)
    with TestClient(create_app(settings)) as client:
        window = {"from": "2024-05-01T11:50:00Z", "to": "2024-05-01T12:00:00.001Z"}
        early = truth(client, **window)
        assert early["pending"] > 0
        assert all(event["attributes"]["timestamp"] <= "2024-05-01T11:58:00.000Z" for event in early["events"])
        client.post("/_mock/clock/advance", json={"seconds": 181})
        late = truth(client, **window)
        assert late["pending"] == 0 and late["count"] == early["count"] + early["pending"]


def test_ground_truth_shows_out_of_order_arrival_as_the_clock_advances() -> None:
    settings = Settings(now=NOW, log_level="warning", out_of_order=0.5, out_of_order_delay=1800)
    with TestClient(create_app(settings)) as client:
        window = {"from": "2024-05-01T11:30:00Z", "to": "2024-05-01T13:00:00Z"}
        before = truth(client, **window)
        seen = {event["id"] for event in before["events"]}
        last_seen = max(event["attributes"]["timestamp"] for event in before["events"])
        assert before["pending"] > 0
        client.post("/_mock/clock/advance", json={"seconds": 1801})
        after = truth(client, to="2024-05-01T12:00:00.001Z", **{"from": window["from"]})
        arrived = [event for event in after["events"] if event["id"] not in seen]
        assert seen <= {event["id"] for event in after["events"]}, "an event once visible stays visible"
        assert len(arrived) == before["pending"] and after["pending"] == 0
        late = [event for event in arrived if event["attributes"]["timestamp"] < last_seen]
        assert late, "events that happened before the newest one seen arrived after it"
        # a client polling from the newest timestamp it has seen never gets them
        polled = truth(client, **{"from": last_seen, "to": "2024-05-01T12:00:00.001Z"})
        assert not {event["id"] for event in late} & {event["id"] for event in polled["events"]}


def _datadog_entry(client: TestClient, event_id: str, timestamp: str) -> dict[str, Any]:
    template = truth(client, limit=1, **{"from": "now-1h"})["events"][0]
    template["id"] = event_id
    template["attributes"]["timestamp"] = timestamp
    return template


def test_injected_events_are_served_by_the_vendor_and_listed_in_the_truth(client: TestClient) -> None:
    entry = _datadog_entry(client, "injected-one", "2024-05-01T11:59:30.000Z")
    answer = client.post("/_mock/events", json={"vendor": "datadog", "org": "acme", "events": [entry]})
    assert answer.status_code == 201 and answer.json() == {"vendor": "datadog", "org": "acme", "inserted": 1}
    assert "injected-one" in [e["id"] for e in truth(client, **{"from": "now-1m"})["events"]]
    assert "injected-one" in dd_ids(client, "now-1m", "now")


def test_an_injected_event_in_the_future_arrives_when_the_clock_reaches_it(client: TestClient) -> None:
    entry = _datadog_entry(client, "from-the-future", "2024-05-01T12:10:00.000Z")
    client.post("/_mock/events", json={"vendor": "datadog", "org": "acme", "events": [entry]})
    assert "from-the-future" not in dd_ids(client, "now-1h", "now+1h")
    client.post("/_mock/clock/advance", json={"seconds": 600})
    assert "from-the-future" in dd_ids(client, "now-1h", "now+1h")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda e: e.pop("attributes"), "events[1]: \"attributes\" is a required property"),
    (lambda e: e["attributes"].update(timestamp="yesterday"), "events[1].attributes.timestamp:"),
    (lambda e: e["attributes"].update(timestamp="2023-01-01T00:00:00Z"), "older than Datadog's 90-day retention"),
    (lambda e: e.update(type=7), "events[1].type:"),
])
def test_a_bad_injected_event_is_refused_naming_it_and_nothing_is_added(client: TestClient, mutate: Any,
                                                                         message: str) -> None:
    good = _datadog_entry(client, "good", "2024-05-01T11:59:00.000Z")
    bad = _datadog_entry(client, "bad", "2024-05-01T11:59:01.000Z")
    mutate(bad)
    answer = client.post("/_mock/events", json={"vendor": "datadog", "org": "acme", "events": [good, bad]})
    assert answer.status_code == 400 and message in answer.json()["message"], answer.text
    assert "good" not in dd_ids(client, "now-5m", "now")


@pytest.mark.parametrize(("params", "message"), [
    ({"vendor": "nope", "org": "acme"}, "vendor: unknown vendor 'nope' (known: "),
    ({"vendor": "datadog", "org": "initech"}, "org: datadog has no org 'initech'"),
    ({"vendor": "datadog", "org": "acme", "from": "soon"}, "from:"),
    ({"vendor": "datadog", "org": "acme", "limit": "0"}, "limit"),
    ({"vendor": "datadog"}, "org"),
])
def test_ground_truth_refuses_unknown_names_and_bad_values(client: TestClient, params: dict[str, str],
                                                           message: str) -> None:
    answer = client.get("/_mock/events", params=params)
    assert answer.status_code == 400 and message in answer.json()["message"]


# -- journal, reset, token ------------------------------------------------------------------------------------
def test_the_journal_filters_by_vendor_operation_status_and_time(client: TestClient) -> None:
    client.get("/api/v2/audit/events", headers=DD)
    client.get("/api/v2/audit/events", params={"page[limit]": "0"}, headers=DD)
    client.post("/_mock/clock/advance", json={"seconds": 60})
    client.post("/api/v2/audit/events/search", json={}, headers=DD)
    client.get("/api/v2/audit/events")  # no keys: 403
    everything = client.get("/_mock/requests").json()
    assert [(e["operation"], e["status"]) for e in everything["entries"]] == [
        ("ListAuditLogs", 200), ("ListAuditLogs", 400), ("SearchAuditLogs", 200), ("ListAuditLogs", 403)]
    assert everything["count"] == everything["kept"] == 4 and everything["capacity"] == 10_000
    assert not any(e["path"].startswith("/_mock") for e in everything["entries"])
    statuses = client.get("/_mock/requests", params={"status": "400"}).json()["entries"]
    assert [e["status"] for e in statuses] == [400]
    recent = client.get("/_mock/requests", params={"since": "2024-05-01T12:01:00Z"}).json()["entries"]
    assert [e["operation"] for e in recent] == ["SearchAuditLogs", "ListAuditLogs"]
    search = client.get("/_mock/requests", params={"operation": "SearchAuditLogs", "vendor": "datadog"}).json()
    assert search["count"] == 1 and search["entries"][0]["credential"] == "acme-admin"
    assert [e["seq"] for e in client.get("/_mock/requests", params={"limit": "2"}).json()["entries"]] == [3, 4]
    assert DD["DD-API-KEY"] not in str(everything)


def test_reset_puts_clock_events_and_journal_back(client: TestClient) -> None:
    entry = _datadog_entry(client, "injected", "2024-05-01T11:59:30.000Z")
    client.post("/_mock/events", json={"vendor": "datadog", "org": "acme", "events": [entry]})
    client.put("/_mock/clock", json={"now": "2024-07-01T00:00:00Z"})
    client.get("/api/v2/audit/events", headers=DD)
    answer = client.post("/_mock/reset")
    assert answer.status_code == 200 and answer.json()["clock"]["now"] == "2024-05-01T12:00:00.000Z"
    assert client.get("/_mock/requests").json()["entries"] == []
    assert "injected" not in [e["id"] for e in truth(client, **{"from": "now-1m"})["events"]]


def test_a_control_token_guards_everything_but_health() -> None:
    with TestClient(create_app(Settings(now=NOW, control_token="s3cret"))) as client:
        assert client.get("/_mock/health").status_code == 200
        refused = client.get("/_mock/clock")
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/_mock/clock", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.post("/_mock/reset", headers={"Authorization": "s3cret"}).status_code == 401
        assert client.get("/_mock/clock", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/api/v2/audit/events", headers=DD).status_code == 200  # vendors never need it


def test_world_live_settings_override_the_flags_per_org(tmp_path: Path) -> None:
    from mockserver.data import default_world

    world = default_world().read_text(encoding="utf-8").replace(
        "      staff: 15\n", "      staff: 15\n      live: {lag: 600}\n", 1)
    path = tmp_path / "world.yaml"
    path.write_text(world, encoding="utf-8")
    app = create_app(Settings(now=NOW, world=path, ingestion_lag=5))
    streams = app.state.mock.runtimes["datadog"].streams
    assert streams["globex"].live.lag_ms == 600_000 and streams["acme"].live.lag_ms == 5_000
    path.write_text(world.replace("lag: 600", "lag: -1"), encoding="utf-8")
    with pytest.raises(WorldError, match=r"datadog\.orgs\[1\]\.live\.lag: must be a number of seconds"):
        create_app(Settings(now=NOW, world=path))
