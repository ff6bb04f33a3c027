"""specs/make.yaml: Make's names, Make's envelope, and generation hints that fit the default world.

The generic checks (valid OpenAPI, references resolve, security, a 4xx envelope) are in test_specs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.windows import parse_instant
from mockserver.testing import DEFAULT_NOW, conformance_headers, generation_spec
from mockserver.vendors import _make_access as access
from mockserver.vendors._make_catalogue import EVENT_NAMES

SPEC = Path(__file__).resolve().parents[1] / "specs" / "make.yaml"
REFERENCE = "Make API reference: Audit logs (seeds/004)"
# Make's own document (seeds/004): path -> (operationId, parameter names)
MAKES = {
    "/audit-logs/organization/{organizationId}": ("getOrganizationAuditLogs", [
        "organizationId", "team", "dateFrom", "dateTo", "event", "author", "pg[offset]", "pg[limit]", "pg[last]",
        "pg[sortBy]", "pg[sortDir]", "pg[returnTotalCount]"]),
    "/audit-logs/organization/{organizationId}/filters": ("getOrganizationAuditLogsFilters", ["organizationId"]),
    "/audit-logs/team/{teamId}": ("getTeamAuditLogs", [
        "teamId", "dateFrom", "dateTo", "event", "author", "pg[offset]", "pg[limit]", "pg[last]", "pg[sortBy]",
        "pg[sortDir]", "pg[returnTotalCount]"]),
    "/audit-logs/team/{teamId}/filters": ("getTeamAuditLogsFilters", ["teamId"]),
    "/audit-logs/{organizationId}/{uuid}": ("getAuditLogDetail", ["organizationId", "uuid"]),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return document


def deref(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def params(spec: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in (deref(spec, raw) for raw in spec["paths"][path]["get"]["parameters"])}


def matches(pattern: str, value: str) -> bool:
    return bool(jsonschema_rs.Draft4Validator({"type": "string", "pattern": pattern}).is_valid(value))


@pytest.mark.vendor_documented(REFERENCE)
def test_paths_operation_ids_and_parameters_are_makes(spec: dict[str, Any]) -> None:
    assert list(spec["paths"]) == list(MAKES)  # and in this order: the detail path must be matched last
    for path, (operation_id, names) in MAKES.items():
        operation = spec["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert list(params(spec, path)) == names
        assert operation.get("security", spec["security"]) == [{"token": []}]
        assert {"200", "400", "401", "403", "404", "429"} <= set(operation["responses"])
    scheme = spec["components"]["securitySchemes"]["token"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert spec["servers"][0]["url"].endswith("/api/v2")


@pytest.mark.vendor_documented(REFERENCE + "; VENDORS.md, Make: the error envelope")
def test_every_error_response_is_makes_envelope(spec: dict[str, Any]) -> None:
    envelope = jsonschema_rs.Draft4Validator({"$ref": "#/components/schemas/Error", "components": spec["components"]})
    for response in spec["components"]["responses"].values():
        body = response["content"]["application/json"]
        assert envelope.is_valid(body["example"])
        assert body["schema"] == {"$ref": "#/components/schemas/Error"}
    assert envelope.is_valid({"detail": "Access denied.", "message": "Permission denied", "code": "SC403"})
    assert not envelope.is_valid({"errors": ["Forbidden"]})


def test_the_event_enum_is_the_catalogue(spec: dict[str, Any]) -> None:
    assert spec["components"]["schemas"]["EventName"]["enum"] == list(EVENT_NAMES)


@pytest.mark.vendor_documented("Make's examples and official SDK: triggeredAt is an ISO string")
def test_entries_declare_iso_times_and_the_detail_adds_details(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    entry, full = schemas["AuditLogEntry"], schemas["AuditLogDetail"]
    assert entry["properties"]["triggeredAt"]["type"] == "string"
    assert set(full["properties"]) == set(entry["properties"]) | {"details"}
    assert full["additionalProperties"] is False and entry["additionalProperties"] is False


# -- generation hints fit the default world ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(now=DEFAULT_NOW, log_level="warning")))


@pytest.mark.mock_only
@pytest.mark.parametrize("path", list(MAKES))
def test_positive_cases_reach_a_200_with_the_credential_they_name(spec: dict[str, Any], client: TestClient,
                                                                  path: str) -> None:
    # Every value the path hints admit, sent with the operation's x-conformance-credential, is a 200.
    operation_id = MAKES[path][0]
    headers = conformance_headers(client.app, "make", operation_id)
    document = generation_spec(spec)
    values: dict[str, list[str]] = {}
    for name, param in params(document, path).items():
        if param["in"] == "path":
            alternatives = param["schema"]["pattern"].strip("^$").removeprefix("(?:").removesuffix(")").split("|")
            values[name] = alternatives
    assert values and all(values.values())
    combos: list[dict[str, str]] = [{}]
    for name, options in values.items():
        combos = [{**combo, name: option} for combo in combos for option in options]
    for combo in combos:
        answer = client.get("/api/v2" + path.format(**combo), headers=headers)
        assert answer.status_code == 200, (combo, answer.text)


@pytest.mark.mock_only
def test_the_named_credentials_hold_the_roles_the_operations_need(spec: dict[str, Any], client: TestClient) -> None:
    runtime = client.app.state.mock.runtimes["make"]  # type: ignore[attr-defined]
    credentials = {cred.id: cred for org in runtime.orgs.values() for cred in org.credentials}
    roles = {}
    for path, item in spec["paths"].items():
        cred = credentials[item["get"]["x-conformance-credential"]]
        org = runtime.orgs[cred.org_id]
        user = next(u for u in org.users if cred.user in (u.id, u.email))
        roles[path] = (user.role, dict(user.teams))
    assert roles["/audit-logs/organization/{organizationId}"][0] in access.ORG_READERS
    assert roles["/audit-logs/team/{teamId}"] == ("member", {"61002": "team_admin", "61001": "team_member"})


DATE_PATTERN_CASES = ["2024-05-01", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00+02:00",
                      "2024-05-01T12:00", "1714564800000"]


@pytest.mark.vendor_documented(REFERENCE + " (YYYY-MM-DD; examples 2021-09-23T00:00:00.000Z)")
@pytest.mark.parametrize("value", DATE_PATTERN_CASES)
def test_the_date_pattern_admits_dates_date_times_and_epoch_ms(spec: dict[str, Any], value: str) -> None:
    schema = spec["components"]["parameters"]["dateFrom"]["schema"]
    assert matches(schema["pattern"], value)
    parse_instant(value, 0)


@pytest.mark.mock_only
@pytest.mark.parametrize("value", ["yesterday", "now-1d", "2024/05/01", "", "2024-05-01 12:00:00", "-1"])
def test_the_date_pattern_refuses_other_forms(spec: dict[str, Any], value: str) -> None:
    assert not matches(spec["components"]["parameters"]["dateTo"]["schema"]["pattern"], value)


@pytest.mark.mock_only
def test_every_generated_date_is_read_by_the_engine(spec: dict[str, Any]) -> None:
    schema = spec["components"]["parameters"]["dateFrom"]["schema"]
    generate, enforced = schema["x-generate-pattern"], schema["pattern"]

    @settings(max_examples=200, database=None, derandomize=True, deadline=None)
    @given(st.from_regex(generate, fullmatch=True).filter(lambda v: matches(generate, v)))
    def check(value: str) -> None:
        assert matches(enforced, value)
        parse_instant(value, 0)

    check()
