"""Make's audit-log endpoints over HTTP, in process: auth and roles, the entry, the pg object, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import yaml
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.app import secret_fields
from mockserver.data import default_world
from mockserver.engine.windows import DAY_MS, parse_instant
from mockserver.engine.world import parse_world
from mockserver.errors import (
    InternalError,
    InvalidCredentials,
    InvalidParameter,
    MethodNotAllowed,
    MissingCredentials,
    NotFound,
    PermissionDenied,
    ServerFault,
    TooManyRequests,
)
from mockserver.vendors import discover
from mockserver.vendors._make_catalogue import BY_NAME, EVENT_NAMES
from mockserver.vendors.make import VENDOR
from tests.vendors.test_make_support import (
    FINANCE,
    INITECH,
    MARKETING,
    NOW_MS,
    REFERENCE,
    SDK,
    UMBRELLA,
    VENDORS_MD,
    auth,
    detail,
    make_client,
    org_logs,
    team_logs,
)

ENTRY_KEYS = ["uuid", "createdAt", "triggeredAt", "organizationId", "organization", "eventName", "team", "actor",
              "targetId", "version"]
ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
ORG_LEVEL = re.compile(r"organization_.*")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def latest(client: TestClient, team: str | None) -> str:
    """The uuid of the newest entry of ``team`` (None: an organization-level entry)."""
    for entry in client.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 200}).json()["auditLogs"]:
        if str((entry.get("team") or {}).get("id")) == str(team) or (team is None and "team" not in entry):
            return str(entry["uuid"])
    raise AssertionError(f"no entry of team {team} in the last 200")


# -- auth and roles --------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(VENDORS_MD + ": Authorization: Token <api-token>; error envelope")
@pytest.mark.parametrize(("headers", "code"), [
    ({}, "SC401"),
    ({"Authorization": "Token 00000000-0000-4000-8000-000000000000"}, "IM102"),
    ({"Authorization": "Bearer 3ad50f3d-be28-411d-b467-3537d06e4c7b"}, "IM102"),  # the right token, wrong scheme
    ({"Authorization": "Token"}, "IM102"),
])
def test_a_missing_or_unknown_token_is_401_in_makes_envelope(client: TestClient, headers: dict[str, str],
                                                              code: str) -> None:
    answer = client.get(org_logs(), headers=headers)
    assert answer.status_code == 401
    body = answer.json()
    assert set(body) == {"detail", "message", "code"} and body["code"] == code
    assert answer.headers["content-type"] == "application/json"


def role_matrix() -> list[tuple[str, str, int]]:
    endpoints = ["org-logs", "org-filters", "team-logs", "team-filters", "detail-own-team", "detail-other-team"]
    expected = {
        "owner": [200] * 6,
        "admin": [200] * 6,
        "member": [403] * 6,
        "team-admin": [403, 403, 200, 200, 200, 403],  # Team Admin of Marketing only
        "other-org": [403] * 6,
        "bad-token": [401] * 6,
    }
    return [(who, endpoint, status) for who, row in expected.items() for endpoint, status in zip(endpoints, row,
                                                                                                strict=True)]


@pytest.mark.vendor_documented(REFERENCE + ": Admin or Owner for organizations, Team Admin for teams, else 403")
@pytest.mark.parametrize(("who", "endpoint", "status"), role_matrix())
def test_role_matrix(client: TestClient, who: str, endpoint: str, status: int) -> None:
    paths = {"org-logs": org_logs(), "org-filters": org_logs() + "/filters", "team-logs": team_logs(MARKETING),
             "team-filters": team_logs(MARKETING) + "/filters", "detail-own-team": detail(latest(client, MARKETING)),
             "detail-other-team": detail(latest(client, FINANCE))}
    headers = {"Authorization": "Token 0b7c6d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e"} if who == "bad-token" else auth(who)
    answer = client.get(paths[endpoint], headers=headers)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json() == {"detail": "Access denied.", "message": "Permission denied", "code": "SC403"}
    if status == 200 and endpoint.endswith("logs"):
        assert answer.json()["auditLogs"]


@pytest.mark.mock_only
def test_org_owners_and_admins_read_every_team_of_their_org(client: TestClient) -> None:
    # Our choice (README): Make gives organization Owners and Admins team admin rights in all their teams.
    for team in ("61001", MARKETING, FINANCE):
        for who in ("owner", "admin"):
            body = client.get(team_logs(team), headers=auth(who), params={"pg[limit]": 50}).json()
            assert body["auditLogs"] and {str(e["team"]["id"]) for e in body["auditLogs"]} == {team}


@pytest.mark.vendor_documented(REFERENCE + " (404 for what does not exist)")
@pytest.mark.parametrize(("who", "path", "detail_text"), [
    ("owner", org_logs("999999"), "Organization not found."),
    ("owner", org_logs("999999") + "/filters", "Organization not found."),
    ("owner", team_logs("999999"), "Team not found."),
    ("team-admin", team_logs("999999") + "/filters", "Team not found."),
    ("owner", detail("5a1f0c2e8d3b4e6f9a7c1b2d3e4f5a6b"), "Audit log entry not found."),
    ("team-admin", detail("5a1f0c2e8d3b4e6f9a7c1b2d3e4f5a6b"), "Audit log entry not found."),
    ("owner", detail("5a1f0c2e8d3b4e6f9a7c1b2d3e4f5a6b", org="999999"), "Organization not found."),
])
def test_what_does_not_exist_is_404(client: TestClient, who: str, path: str, detail_text: str) -> None:
    answer = client.get(path, headers=auth(who))
    assert answer.status_code == 404
    assert answer.json() == {"detail": detail_text, "message": "Not found", "code": "SC404"}


@pytest.mark.mock_only
def test_an_entry_of_another_org_is_not_found_in_yours(client: TestClient) -> None:
    theirs = client.get(org_logs(INITECH), headers=auth("other-org"), params={"pg[limit]": 1}).json()["auditLogs"][0]
    assert client.get(detail(theirs["uuid"]), headers=auth("owner")).status_code == 404
    assert client.get(detail(theirs["uuid"], org=INITECH), headers=auth("other-org")).status_code == 200
    assert client.get(detail(theirs["uuid"], org=INITECH), headers=auth("owner")).status_code == 403


# -- routing ---------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(SDK + ": the SDK builds {zone}/api/v2{path}")
@pytest.mark.parametrize("prefix", ["", "/make"])
def test_each_path_reaches_its_own_operation(client: TestClient, prefix: str) -> None:
    # /audit-logs/{organizationId}/{uuid} is declared last: it must not swallow /organization/<id> or /team/<id>.
    owner = auth("owner")
    assert "auditLogs" in client.get(prefix + org_logs(), headers=owner).json()
    assert set(client.get(prefix + org_logs() + "/filters", headers=owner).json()) == {"users", "teams", "events"}
    assert "auditLogs" in client.get(prefix + team_logs(), headers=owner).json()
    assert set(client.get(prefix + team_logs() + "/filters", headers=owner).json()) == {"users", "events"}
    assert "details" in client.get(prefix + detail(latest(client, MARKETING)), headers=owner).json()


@pytest.mark.mock_only
def test_other_methods_are_405_with_allow(client: TestClient) -> None:
    answer = client.delete(org_logs(), headers=auth("owner"))
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json()["code"] == "SC405"


# -- the entry ---------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(REFERENCE + "; " + SDK + " (uuid without hyphens, ISO triggeredAt)")
def test_entries_are_shaped_as_documented(client: TestClient) -> None:
    body = client.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 2000}).json()
    world = client.app.state.mock.world.org("make", UMBRELLA)  # type: ignore[attr-defined]
    teams = {int(team.id): team.name for team in world.teams}
    for entry in body["auditLogs"]:
        assert list(entry) == [key for key in ENTRY_KEYS if key in entry]
        assert re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", entry["uuid"])  # a v4 UUID, no hyphens
        assert ISO_MS.fullmatch(entry["triggeredAt"]) and ISO_MS.fullmatch(entry["createdAt"])
        assert entry["createdAt"] >= entry["triggeredAt"]
        assert entry["organizationId"] == int(UMBRELLA) and entry["organization"] == {"id": int(UMBRELLA),
                                                                                     "name": "Umbrella Automation"}
        assert entry["eventName"] in EVENT_NAMES
        assert ("team" not in entry) == bool(ORG_LEVEL.fullmatch(entry["eventName"]))
        if "team" in entry:
            assert teams[entry["team"]["id"]] == entry["team"]["name"]
        assert set(entry["actor"]) == {"id", "name", "email"} and entry["actor"]["email"].endswith("@umbrella.example")
        assert isinstance(entry["targetId"], str) and entry["targetId"]
        kind = BY_NAME[entry["eventName"]]
        assert ("version" in entry) == kind.versioned
        if "version" in entry:
            assert ("from" in entry["version"]) == (kind.verb != "created")
    names = {entry["eventName"] for entry in body["auditLogs"]}
    assert {"webhook_created", "scenario_updated", "data_store_record_updated"} <= names


@pytest.mark.vendor_documented(VENDORS_MD + ": audit logs are kept 12 months")
def test_twelve_months_of_entries_and_no_more(client: TestClient) -> None:
    oldest = client.get(org_logs(), headers=auth("owner"), params={"pg[sortDir]": "asc", "pg[limit]": 1}).json()
    first = parse_instant(oldest["auditLogs"][0]["triggeredAt"], 0)
    assert NOW_MS - 365 * DAY_MS <= first < NOW_MS - 365 * DAY_MS + DAY_MS  # 200 a day: the first is within a day
    newest = client.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 1}).json()
    assert NOW_MS - DAY_MS < parse_instant(newest["auditLogs"][0]["triggeredAt"], 0) <= NOW_MS


@pytest.mark.vendor_documented(VENDORS_MD + ': detail adds details, e.g. {"webhookName", "webhookType": "http"}')
def test_detail_is_the_entry_plus_details_that_fit_its_event(client: TestClient) -> None:
    expected = {"webhook": {"webhookName", "webhookType"}, "scenario": {"scenarioName"},
                "connection": {"connectionName", "connectionType"}, "key": {"keyName", "keyType"},
                "data_store_record": {"dataStoreName", "recordKey"}, "team_variable": {"variableName", "variableType"}}
    entries = client.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 300}).json()["auditLogs"]
    checked = set()
    for entry in entries:
        kind = BY_NAME[entry["eventName"]]
        if kind.obj not in expected or kind.obj in checked:
            continue
        answer = client.get(detail(entry["uuid"]), headers=auth("owner")).json()
        assert {k: v for k, v in answer.items() if k != "details"} == entry
        assert set(answer["details"]) == expected[kind.obj], entry["eventName"]
        if kind.obj == "webhook":
            assert answer["details"]["webhookType"] in {"http", "mail"}
        checked.add(kind.obj)
    assert checked == set(expected)


@pytest.mark.vendor_documented(SDK + ": hyphens in the uuid are optional")
def test_detail_accepts_a_hyphenated_uuid(client: TestClient) -> None:
    uuid = latest(client, MARKETING)
    hyphenated = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}".upper()
    assert client.get(detail(hyphenated), headers=auth("owner")).json()["uuid"] == uuid


# -- pg and parameters -------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(REFERENCE + ": pg object; " + SDK + ": limit default 1000")
def test_pg_echoes_the_paging(client: TestClient) -> None:
    body = client.get(org_logs(), headers=auth("owner")).json()
    assert body["pg"] == {"sortBy": "triggeredAt", "sortDir": "desc", "limit": 1000, "offset": 0}
    assert len(body["auditLogs"]) == 1000
    asked = {"pg[sortBy]": "eventName", "pg[sortDir]": "asc", "pg[limit]": 7, "pg[offset]": 3,
             "pg[returnTotalCount]": "true"}
    pg = client.get(org_logs(), headers=auth("owner"), params=asked).json()["pg"]
    assert pg == {"sortBy": "eventName", "sortDir": "asc", "limit": 7, "offset": 3, "totalCount": 73_000}
    last = body["auditLogs"][0]["uuid"]
    keyed = client.get(org_logs(), headers=auth("owner"), params={"pg[last]": last, "pg[offset]": 50}).json()
    assert keyed["pg"] == {"sortBy": "triggeredAt", "sortDir": "desc", "limit": 1000, "last": last, "showLast": True}
    assert keyed["auditLogs"][0] == body["auditLogs"][1]  # pg[offset] is ignored with pg[last]


@pytest.mark.vendor_documented(VENDORS_MD + ": IM005 invalid input parameters")
@pytest.mark.parametrize(("params", "name"), [
    ({"pg[limit]": "10001"}, "pg[limit]"), ({"pg[limit]": "0"}, "pg[limit]"), ({"pg[offset]": "-1"}, "pg[offset]"),
    ({"pg[limit]": "ten"}, "pg[limit]"), ({"pg[sortBy]": "uuid"}, "pg[sortBy]"), ({"pg[sortDir]": "up"}, "pg[sortDir]"),
    ({"pg[returnTotalCount]": "maybe"}, "pg[returnTotalCount]"), ({"pg[last]": "not-a-uuid"}, "pg[last]"),
    ({"pg[last]": "5a1f0c2e8d3b4e6f9a7c1b2d3e4f5a6b"}, "pg[last]"), ({"event": "webhook_exploded"}, "event"),
    ({"event[]": "webhook_exploded"}, "event"), ({"event[0]": ""}, "event"), ({"team": ""}, "team"),
    ({"dateFrom": "2024-13-01"}, "dateFrom"), ({"dateTo": "yesterday"}, "dateTo"),
    ({"dateFrom": "2024-02-30"}, "dateFrom"), ({"dateTo": "now-1d"}, "dateTo"),
])
def test_bad_values_are_400_naming_the_parameter(client: TestClient, params: dict[str, str], name: str) -> None:
    answer = client.get(org_logs(), headers=auth("owner"), params=params)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "IM005" and body["message"] == "Invalid input parameters"
    assert body["detail"].startswith(f"Invalid value in parameter '{name}'")
    assert body["suberrors"] == [{"message": body["detail"]}]


@pytest.mark.vendor_documented(REFERENCE + ": pg[returnTotalCount] adds pg.totalCount")
def test_total_count_is_every_entry_the_filters_select(client: TestClient) -> None:
    params = {"event": ["webhook_created", "key_created"], "pg[returnTotalCount]": "true", "pg[limit]": 10_000}
    body = client.get(team_logs(), headers=auth("owner"), params=params).json()
    assert body["pg"]["totalCount"] == len(body["auditLogs"]) > 100
    assert "totalCount" not in client.get(team_logs(), headers=auth("owner")).json()["pg"]


# -- errors, limits, determinism ---------------------------------------------------------------------------------
@pytest.mark.vendor_documented(VENDORS_MD + ": one envelope for every error, codes SC4xx")
@pytest.mark.parametrize(("error", "status", "code"), [
    (InvalidParameter("pg[limit]", "too big"), 400, "IM005"), (MissingCredentials("x"), 401, "SC401"),
    (InvalidCredentials(), 401, "IM102"), (PermissionDenied("x"), 403, "SC403"), (NotFound(), 404, "SC404"),
    (MethodNotAllowed(("GET",)), 405, "SC405"), (TooManyRequests(7, None), 429, "SC429"),
    (InternalError(), 500, "SC500"), (ServerFault(503), 503, "SC503"), (ServerFault(502), 502, "SC502"),
])
def test_every_error_is_rendered_in_makes_envelope(error: Any, status: int, code: str) -> None:
    answer = VENDOR.render_error(error.with_headers({"X-Test": "1"}))
    assert answer.status_code == status and answer.headers["x-test"] == "1"
    body = orjson.loads(answer.body)
    assert body["code"] == code and isinstance(body["detail"], str) and isinstance(body["message"], str)
    if status == 429:
        assert answer.headers["retry-after"] == "7"


@pytest.mark.vendor_documented(VENDORS_MD + ": rate limits per organization per minute by plan, Make's 429 message")
def test_the_rate_limit_is_makes_documented_one() -> None:
    policy = VENDOR.rate_limit
    assert policy is not None
    assert (policy.limit, policy.period_s, policy.scope, policy.per_operation) == (1000, 60, "org", False)
    assert dict(policy.plan_limits) == {"core": 60, "pro": 120, "teams": 240, "enterprise": 1000}
    assert policy.message == "Requests limit for organization exceeded, please try again later."
    assert policy.headers == "retry-after"
    world = make_client().app.state.mock.world  # type: ignore[attr-defined]
    assert {org.plan for org in world.orgs["make"]} == {"enterprise"}  # audit logs are an Enterprise feature


@pytest.mark.mock_only
def test_answers_are_byte_identical_in_any_request_order() -> None:
    requests = [(org_logs(), {"pg[limit]": 50, "pg[sortBy]": "actor"}), (team_logs(), {"event": "scenario_updated"}),
                (org_logs() + "/filters", {}), (org_logs(), {"pg[offset]": 5000, "pg[sortBy]": "targetId"}),
                (team_logs() + "/filters", {}), (org_logs(), {"team": "Finance Ops", "pg[sortBy]": "createdAt"})]
    answers = []
    for order in (requests, requests[::-1]):
        with make_client() as fresh:
            answers.append({path + str(params): fresh.get(path, params=params, headers=auth("owner")).content
                            for path, params in order})
    assert answers[0] == answers[1]
    path, params = requests[0]
    with make_client(seed=1) as other_seed:
        assert other_seed.get(path, params=params, headers=auth("owner")).content != answers[0][path + str(params)]


@pytest.mark.vendor_documented(VENDORS_MD + ': 429 "Requests limit for organization exceeded, please try again later."')
def test_a_rate_limited_org_gets_makes_429_with_retry_after() -> None:
    raw = yaml.safe_load(default_world().read_text(encoding="utf-8"))
    raw["make"]["orgs"][0]["rate_limit"] = {"limit": 3}
    world = parse_world(raw, secret_fields(discover()))
    with TestClient(create_app(Settings(now="2024-05-01T12:00:30Z"), world=world)) as limited:
        statuses = [limited.get(path, headers=auth(who)).status_code
                    for path, who in [(org_logs(), "owner"), (team_logs(), "team-admin"), (org_logs(), "admin"),
                                      (org_logs() + "/filters", "owner")]]
        refused = limited.get(team_logs(), headers=auth("owner"))
        other_org = limited.get(org_logs(INITECH), headers=auth("other-org"))
    assert statuses == [200, 200, 200, 429]  # one bucket per organization, every operation and token counted
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert refused.json() == {"detail": "Requests limit for organization exceeded, please try again later.",
                              "message": "Too many requests", "code": "SC429"}
    assert other_org.status_code == 200


@pytest.mark.mock_only
def test_entries_injected_through_the_control_api_are_checked_and_served() -> None:
    with make_client() as fresh:
        newest = fresh.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 1}).json()["auditLogs"][0]
        entry = {**newest, "uuid": "a" * 12 + "4" + "b" * 19, "triggeredAt": "2024-05-01T11:59:59.000Z",
                 "createdAt": "2024-05-01T11:59:59.100Z"}
        refused = fresh.post("/_mock/events", json={"vendor": "make", "org": UMBRELLA,
                                                     "events": [{**entry, "eventName": "scenario_exploded"}]})
        assert refused.status_code == 400 and "events[0].eventName" in refused.json()["message"]
        added = fresh.post("/_mock/events", json={"vendor": "make", "org": UMBRELLA, "events": [entry]})
        assert added.status_code == 201
        assert fresh.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 1}).json()["auditLogs"] == [entry]
        assert fresh.get(detail(entry["uuid"]), headers=auth("owner")).json() == {**entry, "details": {}}
