"""Every fault action as a real client meets it: uvicorn on a real socket (LiveServer), httpx, and a raw
socket where the bytes on the wire are the point (drop, truncate, slow body)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from mockserver.engine.journal import JournalEntry
from mockserver.settings import Settings, SettingsError
from mockserver.testing import DEFAULT_NOW, LiveServer

pytestmark = pytest.mark.mock_only

LIST = "/api/v2/audit/events"


def serve(settings: Settings) -> LiveServer:
    return LiveServer(settings)


@pytest.fixture(scope="module")
def base() -> Settings:
    return Settings(now=DEFAULT_NOW, log_level="warning")


@pytest.fixture(scope="module")
def live(base: Settings) -> Iterator[LiveServer]:
    with serve(base) as server:
        yield server


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    """A client of ``live`` with no plan installed; the server must log no error meanwhile (a dropped or
    truncated answer is deliberate, not a crash)."""
    errors = ErrorLog()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "mockserver")]
    for logger in loggers:
        logger.addHandler(errors)
    with httpx.Client(base_url=live.url, timeout=10) as http:
        http.delete("/_mock/faults").raise_for_status()
        yield http
        http.delete("/_mock/faults").raise_for_status()
    for logger in loggers:
        logger.removeHandler(errors)
    assert [record.getMessage() for record in errors.records] == []


def install(client: httpx.Client, *rules: dict[str, Any], seed: int | None = None) -> dict[str, Any]:
    plan: dict[str, Any] = {"rules": list(rules)}
    if seed is not None:
        plan["seed"] = seed
    answer = client.put("/_mock/faults", json=plan)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def last_entry(live: LiveServer) -> JournalEntry:
    entries: list[JournalEntry] = [entry for entry in live.state.journal if entry.path == LIST]
    return entries[-1]


def reference(client: httpx.Client, live: LiveServer) -> bytes:
    """The unfaulted answer (the clock is frozen: every identical request gets the same bytes)."""
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 200 and orjson.loads(answer.content)["data"]
    return answer.content


def raw_get(live: LiveServer, path: str, headers: dict[str, str]) -> list[bytes]:
    """Every ``recv`` of one HTTP/1.1 exchange on a fresh socket, until the server closes it."""
    url = urlsplit(live.url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close",
             *(f"{name}: {value}" for name, value in headers.items())]
    reads: list[bytes] = []
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for _ in range(100_000):
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            reads.append(data)
    return reads


def split_answer(raw: bytes) -> tuple[bytes, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return status.encode(), headers, body


# -- the control API over HTTP -------------------------------------------------------------------------------
def test_put_get_delete_the_plan(client: httpx.Client, live: LiveServer) -> None:
    shown = install(client, {"name": "every-other", "match": {"vendor": "datadog", "operation": "ListAuditLogs"},
                             "when": {"every": 2}, "action": {"type": "latency", "ms": 1}})
    assert shown == {"seed": 0, "rules": [{
        "name": "every-other", "match": {"vendor": "datadog", "operation": "ListAuditLogs"}, "when": {"every": 2},
        "action": {"type": "latency", "ms": 1}, "matched": 0, "fired": 0}]}
    for _ in range(3):
        client.get(LIST, headers=live.headers("datadog"))
    rule = client.get("/_mock/faults").json()["rules"][0]
    assert (rule["matched"], rule["fired"]) == (3, 1)
    deleted = client.delete("/_mock/faults")
    assert deleted.status_code == 200 and deleted.json() == {"seed": 0, "rules": []}
    assert client.get("/_mock/faults").json() == {"seed": 0, "rules": []}


def test_a_bad_plan_is_refused_and_the_installed_one_kept(client: httpx.Client) -> None:
    kept = install(client, {"name": "kept", "action": {"type": "drop"}, "match": {"path": "/nowhere"}})
    bad = client.put("/_mock/faults", json={"rules": [{"name": "flaky", "action": {"type": "status", "status": 501}}]})
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_plan",
                          "message": "rules[0] (flaky).action.status: must be one of 429, 500, 502, 503, 504"}
    broken = client.put("/_mock/faults", content=b'{"rules": [', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_plan"
    assert broken.json()["message"].startswith("plan: the body is not valid JSON")
    unknown = client.put("/_mock/faults", json={"rules": [{"match": {"vendor": "nobody"}, "action": {"type": "drop"}}]})
    assert unknown.json()["message"].startswith("rules[0].match.vendor: unknown vendor 'nobody'; known: ")
    assert client.get("/_mock/faults").json() == kept


def test_a_scenario_file_can_be_put_as_yaml(client: httpx.Client) -> None:
    scenario = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "chaos.yaml"
    answer = client.put("/_mock/faults", content=scenario.read_bytes(), headers={"Content-Type": "application/yaml"})
    assert answer.status_code == 200
    assert len(answer.json()["rules"]) == 14 and answer.json()["description"].startswith("Every fault")


# -- every action, as the client sees it ---------------------------------------------------------------------
@pytest.mark.parametrize(("status", "message"), [(500, "Internal Server Error"), (502, "Bad Gateway"),
                                                  (503, "Service Unavailable"), (504, "Gateway Timeout")])
def test_a_5xx_in_the_vendors_envelope(client: httpx.Client, live: LiveServer, status: int, message: str) -> None:
    install(client, {"name": "flaky", "action": {"type": "status", "status": status}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"errors": [message]}
    entry = last_entry(live)
    assert (entry.status, entry.fault) == (status, f"flaky:status={status}")


def test_a_429_with_retry_after_in_the_vendors_envelope(client: httpx.Client, live: LiveServer) -> None:
    install(client, {"name": "storm", "action": {"type": "status", "status": 429, "retry_after": 3}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "3"
    assert answer.json() == {"errors": ["Too many requests"]}
    assert last_entry(live).fault == "storm:status=429"


def test_faults_come_before_auth(client: httpx.Client, live: LiveServer) -> None:
    install(client, {"name": "lb", "action": {"type": "status", "status": 502}})
    assert client.get(LIST).status_code == 502  # no credential at all: the load balancer answers first


def test_latency_delays_but_answers(client: httpx.Client, live: LiveServer) -> None:
    expected = reference(client, live)
    install(client, {"name": "slow", "action": {"type": "latency", "min_ms": 5, "max_ms": 30}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 200 and answer.content == expected
    fault = last_entry(live).fault
    assert fault is not None and fault.startswith("slow:latency=") and fault.endswith("ms")
    assert 5 <= float(fault.removeprefix("slow:latency=").removesuffix("ms")) <= 30


def test_a_dropped_connection_sends_not_one_byte(client: httpx.Client, live: LiveServer) -> None:
    install(client, {"name": "cut", "action": {"type": "drop"}})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.get(LIST, headers=live.headers("datadog"))
    assert raw_get(live, LIST, live.headers("datadog")) == []
    entry = last_entry(live)
    assert (entry.status, entry.fault) == (0, "cut:drop")


def test_a_truncated_body_promises_more_than_it_sends(client: httpx.Client, live: LiveServer) -> None:
    expected = reference(client, live)
    install(client, {"name": "short", "action": {"type": "truncate", "fraction": 0.25}})
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending complete message body"):
        client.get(LIST, headers=live.headers("datadog"))
    status, headers, body = split_answer(b"".join(raw_get(live, LIST, live.headers("datadog"))))
    assert status == b"HTTP/1.1 200 OK"
    assert int(headers["content-length"]) == len(expected)
    assert body == expected[: len(expected) // 4]
    assert last_entry(live).fault == "short:truncate"


def test_a_malformed_body_is_not_json_but_complete(client: httpx.Client, live: LiveServer) -> None:
    expected = reference(client, live)
    install(client, {"name": "garbled", "action": {"type": "malformed"}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content) < len(expected)
    assert expected.startswith(answer.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(answer.content)
    assert last_entry(live).fault == "garbled:malformed"


def test_a_slow_body_arrives_in_pieces(client: httpx.Client, live: LiveServer) -> None:
    expected = reference(client, live)
    install(client, {"name": "dribble", "action": {"type": "slow_body", "chunk_bytes": 1024, "interval_ms": 50}})
    reads = raw_get(live, LIST, live.headers("datadog"))
    status, headers, body = split_answer(b"".join(reads))
    assert status == b"HTTP/1.1 200 OK" and body == expected
    assert int(headers["content-length"]) == len(expected)
    assert len(reads) >= 2
    first_body = split_answer(reads[0])[2]
    assert len(first_body) < len(expected)  # the first read did not hold the whole body
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.content == expected
    assert last_entry(live).fault == "dribble:slow_body"


def test_an_empty_page_still_carries_its_cursor(client: httpx.Client, live: LiveServer) -> None:
    expected = orjson.loads(reference(client, live))
    install(client, {"name": "hollow", "action": {"type": "empty_page"}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content)
    page = answer.json()
    assert page["data"] == []
    assert page["meta"] == expected["meta"] and page["links"] == expected["links"]
    assert last_entry(live).fault == "hollow:empty_page"


@pytest.mark.parametrize(("kind", "drifted"), [
    ("extra_field", lambda entry: {**entry, "x_mock_drift": True}),
    ("null", lambda entry: {**entry, "attributes": {**entry["attributes"], "service": None}}),
    ("unknown_enum", lambda entry: {**entry, "type": "x-mock-unknown-value"}),
])
def test_schema_drift_changes_the_first_entry(client: httpx.Client, live: LiveServer, kind: str,
                                              drifted: Any) -> None:
    expected = orjson.loads(reference(client, live))
    install(client, {"name": "drift", "action": {"type": "drift", "kind": kind}})
    answer = client.get(LIST, headers=live.headers("datadog"))
    assert answer.status_code == 200
    page = answer.json()
    assert page["data"][0] == drifted(expected["data"][0])
    assert page["data"][1:] == expected["data"][1:] and page["meta"] == expected["meta"]
    assert last_entry(live).fault == f"drift:drift={kind}"


@pytest.mark.parametrize("action", [{"type": "empty_page"}, {"type": "drift", "kind": "unknown_enum"}])
def test_page_faults_leave_error_answers_alone(client: httpx.Client, live: LiveServer, action: Any) -> None:
    install(client, {"name": "page", "action": action})
    answer = client.get(LIST)  # no credential: Datadog's 403
    assert answer.status_code == 403 and answer.json() == {"errors": ["Forbidden"]}
    assert last_entry(live).fault == f"page:{action['type']}" + (f"={action['kind']}" if "kind" in action else "")


def test_a_rule_matches_one_org(client: httpx.Client, live: LiveServer) -> None:
    install(client, {"name": "globex-down", "match": {"org": "globex"}, "action": {"type": "status", "status": 503}})
    assert client.get(LIST, headers=live.headers("datadog", "acme-admin")).status_code == 200
    assert client.get(LIST, headers=live.headers("datadog", "globex-admin")).status_code == 503
    rule = client.get("/_mock/faults").json()["rules"][0]
    assert (rule["matched"], rule["fired"]) == (1, 1)


def test_the_same_seed_gives_the_same_fault_sequence_over_http(client: httpx.Client, live: LiveServer) -> None:
    rules = [{"name": "coin", "when": {"probability": 0.5}, "action": {"type": "status", "status": 503}}]

    def run(seed: int) -> list[int]:
        install(client, *rules, seed=seed)
        return [client.get(LIST, headers=live.headers("datadog")).status_code for _ in range(24)]

    first = run(7)
    assert set(first) == {200, 503}
    assert run(7) == first
    assert run(8) != first


# -- a scenario at start-up -----------------------------------------------------------------------------------
def test_a_scenario_from_settings_is_installed_and_reset_returns_to_it(tmp_path: Path, base: Settings) -> None:
    plan = tmp_path / "always-502.yaml"
    plan.write_text("description: every request fails\nrules:\n  - name: always\n"
                    "    match: {vendor: datadog}\n    action: {type: status, status: 502}\n", encoding="utf-8")
    with serve(replace(base, scenario=str(plan))) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get(LIST, headers=server.headers("datadog")).status_code == 502
        assert last_entry(server).fault == "always:status=502"
        assert http.delete("/_mock/faults").json()["rules"] == []
        assert http.get(LIST, headers=server.headers("datadog")).status_code == 200
        server.state.faults.reset()
        shown = http.get("/_mock/faults").json()
        assert shown["description"] == "every request fails" and shown["rules"][0]["fired"] == 0


def test_a_shipped_scenario_by_name_and_a_bad_one(base: Settings) -> None:
    from mockserver.app import create_app

    app = create_app(replace(base, scenario="rate-limit-storm"))
    assert [rule.name for rule in app.state.mock.faults.plan.rules] == ["storm", "aftershocks"]
    with pytest.raises(SettingsError, match=r"^scenario: unknown scenario 'storm'; shipped: chaos, "):
        create_app(replace(base, scenario="storm"))
