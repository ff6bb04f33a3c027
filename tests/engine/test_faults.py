from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from mockserver.engine._fault_body import (
    DRIFT_FIELD,
    UNKNOWN_ENUM,
    drift,
    empty_page,
    find_entries,
    malformed,
    truncated_length,
)
from mockserver.engine.fault_middleware import RAW_SEND_KEY, ConnectionDropped, FaultMiddleware
from mockserver.engine.faults import (
    FAULT_SCOPE_KEY,
    Fault,
    FaultEngine,
    FaultPlan,
    FaultSlot,
    PlanError,
    RequestFacts,
    parse_plan,
)
from mockserver.errors import ServerFault, TooManyRequests
from mockserver.scenarios import load_scenario, shipped_scenarios

pytestmark = pytest.mark.mock_only

NOON = 1_714_564_800_000  # 2024-05-01T12:00:00Z
KNOWN = {"datadog": {"ListAuditLogs", "SearchAuditLogs"}, "make": {"ListAuditLogs"}}


def facts(vendor: str = "datadog", operation: str = "ListAuditLogs", org: str | None = "acme",
          method: str = "GET", path: str = "/api/v2/audit/events", now_ms: int = NOON) -> RequestFacts:
    return RequestFacts(vendor=vendor, operation=operation, org=org, method=method, path=path, now_ms=now_ms)


def engine(*rules: dict[str, Any], seed: int = 0, plan_seed: int | None = None) -> FaultEngine:
    data: dict[str, Any] = {"rules": list(rules)}
    if plan_seed is not None:
        data["seed"] = plan_seed
    return FaultEngine(seed, parse_plan(data, KNOWN))


def labels(faults: FaultEngine, n: int, **kwargs: Any) -> list[str | None]:
    out = []
    for _ in range(n):
        fault = faults.decide(facts(**kwargs))
        out.append(None if fault is None else fault.label)
    return out


STATUS_503 = {"type": "status", "status": 503}


# -- plan validation: every refusal names the rule and the field ---------------------------------------------
@pytest.mark.parametrize(("plan", "message"), [
    ([], "plan: must be an object with a 'rules' list"),
    ({"rule": []}, "plan.rule: unknown key; expected one of seed, description, rules"),
    ({}, "rules: required; a list of rules (empty for none)"),
    ({"seed": None, "rules": []}, "seed: must be an integer"),
    ({"seed": "7", "rules": []}, "seed: must be an integer between 0 and 9223372036854775807"),
    ({"seed": True, "rules": []}, "seed: must be an integer"),
    ({"seed": 2**63, "rules": []}, "seed: must be an integer"),
    ({"description": 3, "rules": []}, "description: must be a string"),
    ({"rules": {}}, "rules: must be a list"),
    ({"rules": ["x"]}, "rules[0]: must be an object with an 'action'"),
    ({"rules": [{}]}, "rules[0].action: required; an object with a 'type'"),
    ({"rules": [{"name": "", "action": STATUS_503}]}, "rules[0].name: must be a non-empty string"),
    ({"rules": [{"name": "a", "action": STATUS_503}, {"name": "a", "action": STATUS_503}]},
     "rules[1].name: 'a' is already the name of rules[0]"),
    ({"rules": [{"name": "flaky", "action": STATUS_503, "mtach": {}}]},
     "rules[0] (flaky).mtach: unknown key; expected one of name, match, when, action"),
    ({"rules": [{"match": {"vendr": "datadog"}, "action": STATUS_503}]},
     "rules[0].match.vendr: unknown key; expected one of vendor, operation, org, method, path"),
    ({"rules": [{"match": "datadog", "action": STATUS_503}]}, "rules[0].match: must be an object"),
    ({"rules": [{"match": None, "action": STATUS_503}]}, "rules[0].match: must be an object"),
    ({"rules": [{"name": "x", "matched": -1, "action": STATUS_503}]},
     "rules[0] (x).matched: must be an integer >= 0"),
    ({"rules": [{"match": {"vendor": "datadg"}, "action": STATUS_503}]},
     "rules[0].match.vendor: unknown vendor 'datadg'; known: datadog, make"),
    ({"rules": [{"match": {"vendor": "make", "operation": "SearchAuditLogs"}, "action": STATUS_503}]},
     "rules[0].match.operation: unknown operationId 'SearchAuditLogs'; known: ListAuditLogs"),
    ({"rules": [{"match": {"org": 3}, "action": STATUS_503}]}, "rules[0].match.org: must be a non-empty string"),
    ({"rules": [{"match": {"method": "FETCH"}, "action": STATUS_503}]}, "rules[0].match.method: must be one of GET"),
    ({"rules": [{"match": {"method": "get"}, "action": STATUS_503}]}, "rules[0].match.method: must be one of GET"),
    ({"rules": [{"match": {"path": ""}, "action": STATUS_503}]}, "rules[0].match.path: must be a non-empty string"),
    ({"rules": [{"name": "flaky", "when": {"probability": 1.5}, "action": STATUS_503}]},
     "rules[0] (flaky).when.probability: must be a number between 0 and 1"),
    ({"rules": [{"when": {"probability": "half"}, "action": STATUS_503}]},
     "rules[0].when.probability: must be a number between 0 and 1"),
    ({"rules": [{"when": {"every": 0}, "action": STATUS_503}]},
     "rules[0].when.every: must be an integer between 1 and"),
    ({"rules": [{"when": {"every": 10**12 + 1}, "action": STATUS_503}]},
     "rules[0].when.every: must be an integer between 1 and 1000000000000"),
    ({"rules": [{"when": {"every": None}, "action": STATUS_503}]},
     "rules[0].when.every: must be an integer between 1 and"),
    ({"rules": [{"when": {"after": None}, "action": STATUS_503}]}, "rules[0].when.after: must be an ISO 8601"),
    ({"rules": [{"when": {"first": 2.5}, "action": STATUS_503}]},
     "rules[0].when.first: must be an integer between 1 and"),
    ({"rules": [{"when": {"after": "now-1h"}, "action": STATUS_503}]},
     "rules[0].when.after: must be an ISO 8601 date-time"),
    ({"rules": [{"when": {"before": "999999999999999999"}, "action": STATUS_503}]},
     "rules[0].when.before: must be an ISO 8601 date-time"),
    ({"rules": [{"when": {"before": "yesterday"}, "action": STATUS_503}]},
     "rules[0].when.before: must be an ISO 8601 date-time"),
    ({"rules": [{"when": {"after": "2024-05-01T13:00:00Z", "before": "2024-05-01T12:00:00Z"},
                 "action": STATUS_503}]}, "rules[0].when.before: must be later than after"),
    ({"rules": [{"when": {"sometimes": True}, "action": STATUS_503}]},
     "rules[0].when.sometimes: unknown key; expected one of probability, every, first, after, before"),
    ({"rules": [{"action": "drop"}]}, "rules[0].action: must be an object with a 'type'"),
    ({"rules": [{"action": {"type": "explode"}}]}, "rules[0].action.type: must be one of latency, status, drop"),
    ({"rules": [{"action": {}}]}, "rules[0].action.type: must be one of"),
    ({"rules": [{"action": {"type": "drop", "ms": 5}}]}, "rules[0].action.ms: unknown key; expected one of type"),
    ({"rules": [{"action": STATUS_503}, {"action": {"type": "status", "status": 501}}]},
     "rules[1].action.status: must be one of 429, 500, 502, 503, 504"),
    ({"rules": [{"action": {"type": "status"}}]}, "rules[0].action.status: required for a status action"),
    ({"rules": [{"action": {"type": "status", "status": 503, "retry_after": 2}}]},
     "rules[0].action.retry_after: only for status 429"),
    ({"rules": [{"action": {"type": "status", "status": 429, "retry_after": -1}}]},
     "rules[0].action.retry_after: must be a number, at least 0 and at most 86400"),
    ({"rules": [{"action": {"type": "latency"}}]}, "rules[0].action.min_ms: required for a latency action"),
    ({"rules": [{"action": {"type": "latency", "min_ms": 5}}]}, "rules[0].action.max_ms: required"),
    ({"rules": [{"action": {"type": "latency", "ms": 5, "max_ms": 9}}]},
     "rules[0].action.ms: give either ms (fixed) or min_ms and max_ms (uniform), not both"),
    ({"rules": [{"action": {"type": "latency", "min_ms": 9, "max_ms": 5}}]},
     "rules[0].action.max_ms: must be at least min_ms"),
    ({"rules": [{"action": {"type": "latency", "ms": 600_001}}]},
     "rules[0].action.ms: must be a number, at least 0 and at most 600000"),
    ({"rules": [{"action": {"type": "truncate", "fraction": None}}]},
     "rules[0].action.fraction: must be a number"),
    ({"rules": [{"action": {"type": "truncate", "fraction": 1}}]},
     "rules[0].action.fraction: must be a number, at least 0 and below 1"),
    ({"rules": [{"action": {"type": "slow_body", "chunk_bytes": 0}}]},
     "rules[0].action.chunk_bytes: must be an integer, at least 1"),
    ({"rules": [{"action": {"type": "slow_body", "chunk_bytes": 8.5}}]},
     "rules[0].action.chunk_bytes: must be an integer"),
    ({"rules": [{"action": {"type": "slow_body", "interval_ms": True}}]},
     "rules[0].action.interval_ms: must be a number"),
    ({"rules": [{"action": {"type": "drift"}}]}, "rules[0].action.kind: required for a drift action"),
    ({"rules": [{"action": {"type": "drift", "kind": None}}]},
     'rules[0].action.kind: must be one of extra_field, null, unknown_enum (quote "null" in YAML)'),
    ({"rules": [{"action": {"type": "drift", "kind": "rename"}}]},
     "rules[0].action.kind: must be one of extra_field, null, unknown_enum"),
])
def test_a_bad_plan_is_one_line_naming_the_rule_and_the_field(plan: Any, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(plan, KNOWN)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_defaults_are_filled_and_what_get_shows_can_be_put_back() -> None:
    plan = parse_plan({"seed": 7, "description": "d", "rules": [
        {"name": "a", "match": {"vendor": "datadog", "method": "GET", "path": "/api/*"},
         "when": {"probability": 1, "after": "2024-05-01T12:00:00+02:00"}, "action": {"type": "status", "status": 429}},
        {"action": {"type": "truncate"}},
        {"action": {"type": "slow_body", "chunk_bytes": 64.0}, "matched": 3, "fired": 1},
    ]}, KNOWN)
    faults = FaultEngine(0, plan)
    shown = faults.snapshot()
    assert shown == {"seed": 7, "description": "d", "rules": [
        {"name": "a", "match": {"vendor": "datadog", "method": "GET", "path": "/api/*"},
         "when": {"probability": 1.0, "after": "2024-05-01T10:00:00.000Z"},
         "action": {"type": "status", "status": 429, "retry_after": 1}, "matched": 0, "fired": 0},
        {"name": "rule-1", "match": {}, "when": {}, "action": {"type": "truncate", "fraction": 0.5},
         "matched": 0, "fired": 0},
        {"name": "rule-2", "match": {}, "when": {}, "action": {"type": "slow_body", "chunk_bytes": 64,
                                                                "interval_ms": 100}, "matched": 0, "fired": 0},
    ]}
    assert parse_plan(orjson.loads(orjson.dumps(shown)), KNOWN) == plan


def test_an_empty_plan_shows_the_servers_seed() -> None:
    assert FaultEngine(42).snapshot() == {"seed": 42, "rules": []}


def test_unquoted_yaml_times_and_lower_case_rfc3339_are_accepted() -> None:
    import datetime as dt

    plan = parse_plan({"rules": [{"when": {"after": dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
                                           "before": dt.date(2024, 5, 2)}, "action": STATUS_503}]})
    assert plan.rules[0].when.after_ms == NOON
    assert plan.rules[0].when.before_ms == NOON + 12 * 3_600_000
    lower = parse_plan({"rules": [{"when": {"after": "2024-05-01t12:00:00z"}, "action": STATUS_503}]})
    assert lower.rules[0].when.after_ms == NOON


# -- matching and conditions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("match", "request_facts", "fires"), [
    ({}, {}, True),
    ({"vendor": "datadog"}, {}, True),
    ({"vendor": "make"}, {}, False),
    ({"operation": "SearchAuditLogs"}, {"operation": "ListAuditLogs"}, False),
    ({"operation": "SearchAuditLogs"}, {"operation": "SearchAuditLogs", "method": "POST"}, True),
    ({"org": "acme"}, {}, True),
    ({"org": "acme"}, {"org": "globex"}, False),
    ({"org": "acme"}, {"org": None}, False),  # no credential, no org
    ({"method": "POST"}, {}, False),
    ({"method": "POST"}, {"method": "POST"}, True),
    ({"path": "/api/v2/audit/*"}, {}, True),
    ({"path": "/datadog/*"}, {}, False),
    ({"path": "/datadog/*"}, {"path": "/datadog/api/v2/audit/events"}, True),
    ({"path": "/api/v2/audit/events/search"}, {}, False),
    ({"vendor": "datadog", "org": "acme", "method": "GET"}, {"org": "globex"}, False),
])
def test_every_match_key_must_hold(match: dict[str, str], request_facts: dict[str, Any], fires: bool) -> None:
    faults = engine({"match": match, "action": STATUS_503})
    assert (faults.decide(facts(**request_facts)) is not None) is fires


def test_every_nth_and_first_n_count_matching_requests() -> None:
    faults = engine({"name": "third", "match": {"org": "acme"}, "when": {"every": 3}, "action": STATUS_503})
    sequence = []
    for _ in range(9):
        faults.decide(facts(org="globex"))  # does not match: not counted
        sequence.append(faults.decide(facts()) is not None)
    assert sequence == [False, False, True] * 3
    first = engine({"when": {"first": 2}, "action": STATUS_503})
    assert [first.decide(facts()) is not None for _ in range(5)] == [True, True, False, False, False]
    both = engine({"when": {"first": 6, "every": 2}, "action": STATUS_503})
    assert [both.decide(facts()) is not None for _ in range(8)] == [False, True] * 3 + [False, False]


def test_a_time_window_reads_the_mock_clock() -> None:
    faults = engine({"when": {"after": "2024-05-01T12:00:00Z", "before": "2024-05-01T13:00:00Z"},
                     "action": STATUS_503})
    assert faults.decide(facts(now_ms=NOON - 1)) is None
    assert faults.decide(facts(now_ms=NOON)) is not None
    assert faults.decide(facts(now_ms=NOON + 3_599_999)) is not None
    assert faults.decide(facts(now_ms=NOON + 3_600_000)) is None


def test_probability_zero_never_one_always_and_in_between_about_right() -> None:
    assert labels(engine({"when": {"probability": 0}, "action": STATUS_503}), 200).count(None) == 200
    assert labels(engine({"when": {"probability": 1}, "action": STATUS_503}), 200).count(None) == 0
    fired = 2000 - labels(engine({"when": {"probability": 0.3}, "action": STATUS_503}), 2000).count(None)
    assert 500 < fired < 700


def test_the_same_seed_gives_the_same_faults_another_seed_others() -> None:
    rule = {"name": "flaky", "when": {"probability": 0.5}, "action": STATUS_503}
    first = labels(engine(rule, seed=7), 64)
    assert labels(engine(rule, seed=7), 64) == first
    assert labels(engine(rule, seed=8), 64) != first
    assert labels(engine(rule, seed=8, plan_seed=7), 64) == first  # the plan's seed wins over the server's
    replayed = engine(rule, seed=7)
    labels(replayed, 10)
    replayed.reset()
    assert labels(replayed, 64) == first  # counters start again, so do the draws


def test_the_first_rule_that_fires_wins_and_later_rules_count_what_reaches_them() -> None:
    faults = engine({"name": "first-two", "when": {"first": 2}, "action": STATUS_503},
                    {"name": "every-other", "when": {"every": 2}, "action": {"type": "status", "status": 500}})
    assert labels(faults, 6) == ["first-two:status=503", "first-two:status=503", None, "every-other:status=500",
                                 None, "every-other:status=500"]
    counters = [(rule["name"], rule["matched"], rule["fired"]) for rule in faults.snapshot()["rules"]]
    assert counters == [("first-two", 6, 2), ("every-other", 4, 2)]


def test_install_clear_and_reset() -> None:
    start = parse_plan({"rules": [{"name": "start", "action": STATUS_503}]})
    faults = FaultEngine(0, start)
    faults.decide(facts())
    faults.install(parse_plan({"rules": [{"name": "later", "action": {"type": "drop"}}]}))
    assert [r["name"] for r in faults.snapshot()["rules"]] == ["later"]
    assert faults.snapshot()["rules"][0]["matched"] == 0
    faults.clear()
    assert faults.decide(facts()) is None and faults.snapshot()["rules"] == []
    faults.reset()  # back to the plan the server started with
    assert faults.plan == start and faults.snapshot()["rules"][0]["fired"] == 0
    faults.start_with(FaultPlan())
    faults.reset()
    assert faults.plan == FaultPlan()


def test_counters_are_exact_under_threads() -> None:
    faults = engine({"when": {"every": 2}, "action": STATUS_503})
    fired: list[int] = []

    def worker() -> None:
        fired.append(sum(faults.decide(facts()) is not None for _ in range(500)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(fired) == 1000
    assert faults.snapshot()["rules"][0]["matched"] == 2000


# -- what a fault does ----------------------------------------------------------------------------------------
def test_status_faults_are_vendor_errors() -> None:
    fault = engine({"name": "x", "action": STATUS_503}).decide(facts())
    assert fault is not None and fault.label == "x:status=503"
    error = fault.error()
    assert isinstance(error, ServerFault) and error.status == 503
    storm = engine({"action": {"type": "status", "status": 429, "retry_after": 2.5}}).decide(facts())
    assert storm is not None
    error = storm.error()
    assert isinstance(error, TooManyRequests) and error.status == 429 and error.retry_after == 2.5
    assert error is not storm.error()  # a fresh error each time: headers are added to it


def test_uniform_latency_is_seeded_and_in_range() -> None:
    rule = {"name": "slow", "action": {"type": "latency", "min_ms": 100, "max_ms": 900}}
    faults = engine(rule, seed=3)
    delays = [f.delay_ms for f in (faults.decide(facts()) for _ in range(50)) if f is not None]
    assert len(delays) == 50 and all(100 <= d <= 900 for d in delays) and len(set(delays)) > 10
    again = engine(rule, seed=3)
    assert [f.delay_ms for f in (again.decide(facts()) for _ in range(50)) if f is not None] == delays
    fixed = engine({"name": "fixed", "action": {"type": "latency", "ms": 250}}).decide(facts())
    assert fixed is not None and fixed.delay_ms == 250 and fixed.label == "fixed:latency=250ms"
    assert fixed.error() is None


def test_body_actions_are_left_in_the_scope_slot() -> None:
    fault = engine({"name": "d", "action": {"type": "drift", "kind": "null"}}).decide(facts())
    assert fault is not None and fault.label == "d:drift=null" and fault.error() is None
    slot = FaultSlot()
    anyio.run(fault.before, {FAULT_SCOPE_KEY: slot})
    assert slot.action is not None and slot.action.type == "drift"
    anyio.run(fault.before, {})  # without FaultMiddleware: nothing to fill, no error
    plain = Fault(label="x")
    assert plain.error() is None


# -- body transforms ------------------------------------------------------------------------------------------
DATADOG_PAGE: dict[str, Any] = {
    "data": [{"id": "e1", "type": "audit", "attributes": {"timestamp": "2024-05-01T11:59:39.762Z",
                                                          "service": "datadog", "tags": []}},
             {"id": "e2", "type": "audit", "attributes": {}}],
    "links": {"next": "http://x/?page[cursor]=abc"},
    "meta": {"page": {"after": "abc"}, "warnings": []}}


@pytest.mark.parametrize(("document", "path"), [
    (DATADOG_PAGE, ("data",)),
    ({"next": "c", "auditLogs": [{"eventName": "x"}]}, ("auditLogs",)),
    ({"meta": {"tags": ["a"]}, "result": {"logs": [{"a": 1}]}}, ("result", "logs")),
    ({"warnings": [], "logs": [{"a": 1}]}, ("logs",)),
])
def test_entries_are_the_first_non_empty_list_of_objects_breadth_first(document: Any, path: tuple[str, ...]) -> None:
    expected = document
    for key in path:
        expected = expected[key]
    assert find_entries(document) is expected
    assert find_entries([{"a": 1}]) == [{"a": 1}]
    assert find_entries({"data": [], "meta": {"warnings": []}}) is None


def test_an_empty_page_keeps_the_cursor() -> None:
    page = orjson.loads(orjson.dumps(DATADOG_PAGE))
    assert empty_page(page)
    assert page["data"] == [] and page["meta"] == DATADOG_PAGE["meta"] and page["links"] == DATADOG_PAGE["links"]
    assert not empty_page({"data": []})


@pytest.mark.parametrize(("kind", "document", "changed"), [
    ("extra_field", DATADOG_PAGE, {**DATADOG_PAGE["data"][0], DRIFT_FIELD: True}),
    ("null", DATADOG_PAGE, {"id": "e1", "type": "audit", "attributes": {
        "timestamp": "2024-05-01T11:59:39.762Z", "service": None, "tags": []}}),
    ("unknown_enum", DATADOG_PAGE, {**DATADOG_PAGE["data"][0], "type": UNKNOWN_ENUM}),
    ("null", {"auditLogs": [{"id": 7, "createdAt": "t", "eventName": "SCENARIO_RUN", "actor": {"name": "a"}}]},
     {"id": 7, "createdAt": "t", "eventName": None, "actor": {"name": "a"}}),
    ("unknown_enum", {"auditLogs": [{"id": 7, "actor": {"name": "a"}, "eventName": "SCENARIO_RUN"}]},
     {"id": 7, "actor": {"name": "a"}, "eventName": UNKNOWN_ENUM}),
    ("unknown_enum", {"logs": [{"action": None, "client_ip": "10.0.0.1", "request_type": "GET"}]},
     {"action": None, "client_ip": "10.0.0.1", "request_type": UNKNOWN_ENUM}),  # a null enum is skipped
    ("unknown_enum", {"logs": [{"uuid": "u", "detail": {"what": "login"}}]},
     {"uuid": "u", "detail": {"what": UNKNOWN_ENUM}}),  # no enum-like name: the first plain string
])
def test_drift_changes_only_the_first_entry(kind: str, document: Any, changed: Any) -> None:
    page = orjson.loads(orjson.dumps(document))
    assert drift(page, kind)
    entries = find_entries(page)
    original = find_entries(document)
    assert entries is not None and original is not None
    assert entries[0] == changed
    assert entries[1:] == original[1:]
    assert not drift({"data": []}, kind)


@pytest.mark.parametrize("body", [b'{"data":[]}', orjson.dumps(DATADOG_PAGE), b"{}", b"12345678", b"", b'"ab"'])
def test_malformed_bodies_are_never_json(body: bytes) -> None:
    cut = malformed(body)
    assert cut
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(cut)


def test_a_truncated_answer_always_sends_less_than_it_promises() -> None:
    assert truncated_length(100, 0.5) == 50
    assert truncated_length(100, 0.999) == 99
    assert truncated_length(1, 0.9) == 0
    assert truncated_length(10, 0) == 0


def test_without_a_transport_a_drop_raises_connection_dropped() -> None:
    """The in-process test client gives no socket to close: the app raises instead of answering."""
    from starlette.responses import JSONResponse

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        fault = engine({"action": {"type": "drop"}}).decide(facts())
        assert fault is not None
        await fault.before(scope)
        await JSONResponse({"ok": True})(scope, receive, send)

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> None:
        await FaultMiddleware(inner)({"type": "http", "method": "GET", "path": "/", RAW_SEND_KEY: send,
                                      "headers": []}, receive, send)

    with pytest.raises(ConnectionDropped):
        anyio.run(run)
    assert sent == []


def test_the_raw_send_key_is_the_apps() -> None:
    from mockserver.app import RAW_SEND

    assert RAW_SEND == RAW_SEND_KEY


# -- scenarios ------------------------------------------------------------------------------------------------
REQUIRED_SCENARIOS = {"flaky-5xx", "rate-limit-storm", "slow", "truncated", "chaos"}


@pytest.fixture(scope="module")
def served() -> dict[str, set[str]]:
    from mockserver.data import spec_path
    from mockserver.engine.spec import load_spec
    from mockserver.vendors import discover

    return {v.name: {op.operation_id for op in load_spec(spec_path(v.spec_file)).operations} for v in discover()}


def test_every_shipped_scenario_loads_and_says_what_it_does(served: dict[str, set[str]]) -> None:
    assert set(shipped_scenarios()) >= REQUIRED_SCENARIOS
    for name in shipped_scenarios():
        plan = load_scenario(name, served)
        assert plan.rules and plan.description and "\n" not in plan.description
    chaos = {rule.action.type for rule in load_scenario("chaos").rules}
    assert chaos == {"latency", "status", "drop", "truncate", "malformed", "slow_body", "empty_page", "drift"}


def test_an_unknown_scenario_lists_the_shipped_ones() -> None:
    with pytest.raises(PlanError, match=r"unknown scenario 'flaky'; shipped: chaos, flaky-5xx, "):
        load_scenario("flaky")
    with pytest.raises(PlanError, match=r"^scenario file not found: nowhere/x\.yaml$"):
        load_scenario("nowhere/x.yaml")


@pytest.fixture
def plan_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "plan.yaml"


def test_a_scenario_file_is_read_by_path_and_its_errors_name_the_file(plan_file: Path) -> None:
    plan_file.write_text("rules:\n  - name: always\n    action: {type: status, status: 502}\n", encoding="utf-8")
    assert load_scenario(str(plan_file)).rules[0].name == "always"
    plan_file.write_text("rules:\n  - name: bad\n    action: {type: drift, kind: null}\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"^plan\.yaml: rules\[0\] \(bad\)\.action\.kind: must be one of"):
        load_scenario(str(plan_file))
    plan_file.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"^plan\.yaml: cannot read: "):
        load_scenario(str(plan_file))
