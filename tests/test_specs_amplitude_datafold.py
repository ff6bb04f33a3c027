"""specs/amplitude.yaml and specs/datafold.yaml: the vendors' documented names, and generation hints that
only produce requests the mock must accept (schemathesis' positive mode demands a 2xx for each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine.windows import DAY_MS, parse_instant
from mockserver.testing import DEFAULT_NOW
from mockserver.vendors import amplitude, datafold
from mockserver.vendors._amplitude_events import KINDS
from mockserver.vendors._datafold_validation import parse_datetime

SPECS = Path(__file__).resolve().parents[1] / "specs"
WORLD = Path(__file__).resolve().parents[1] / "fixtures" / "world.yaml"
NOW_MS = parse_instant(DEFAULT_NOW, 0)
AMPLITUDE_DOC = "Amplitude docs: Audit Logs API (seeds/000) and Audit log (seeds/001)"
DATAFOLD_DOC = "Datafold OpenAPI document: Get Audit Logs (seeds/003)"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def amp() -> dict[str, Any]:
    return load("amplitude.yaml")


@pytest.fixture(scope="module")
def dfd() -> dict[str, Any]:
    return load("datafold.yaml")


def first_org(vendor: str) -> str:
    """The org of the credential the conformance suite authenticates with (the first of the first org)."""
    world = yaml.safe_load(WORLD.read_text(encoding="utf-8"))
    return str(world[vendor]["orgs"][0]["id"])


def matches(pattern: str, value: str) -> bool:
    return bool(jsonschema_rs.Draft4Validator({"type": "string", "pattern": pattern}).is_valid(value))


def generated(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True).filter(lambda value: matches(pattern, value))


# ---- Amplitude -------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(AMPLITUDE_DOC)
def test_amplitude_path_auth_and_body_are_the_documented_ones(amp: dict[str, Any]) -> None:
    operation = amp["paths"]["/api/2/audit-logs/{org_id}"]["post"]
    assert list(amp["paths"]["/api/2/audit-logs/{org_id}"]) == ["post"]
    scheme = amp["components"]["securitySchemes"]["basicAuth"]
    assert list(amp["components"]["securitySchemes"]) == ["basicAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "basic")
    assert operation["requestBody"]["required"] is True
    request = amp["components"]["schemas"]["AuditLogsRequest"]
    assert request["required"] == ["start_date", "end_date"]
    assert set(request["properties"]) == {"start_date", "end_date", "filters", "pagination"}
    assert set(amp["components"]["schemas"]["AuditLogsFilters"]["properties"]) == {"domain", "feature", "action"}
    limit = amp["components"]["schemas"]["AuditLogsPagination"]["properties"]["limit"]
    assert (limit["default"], limit["minimum"], limit["maximum"]) == (amplitude.DEFAULT_LIMIT, 1, amplitude.MAX_LIMIT)
    assert {"200", "400", "401", "403", "429"} == set(operation["responses"])


@pytest.mark.vendor_documented(AMPLITUDE_DOC)
def test_amplitude_entries_require_every_documented_field(amp: dict[str, Any]) -> None:
    entry = amp["components"]["schemas"]["AuditLogEntry"]
    documented = {"timestamp", "domain", "feature", "action", "target", "user_email", "org_id", "app_id",
                  "ip_address", "user_agent", "event_properties", "error"}
    assert set(entry["required"]) == set(entry["properties"]) == documented | {"uuid"}
    assert amplitude.VENDOR.entry_schema == "AuditLogEntry" and amplitude.VENDOR.timestamp_path == ("timestamp",)


@pytest.mark.mock_only
def test_amplitude_generated_org_is_the_conformance_credentials(amp: dict[str, Any]) -> None:
    param = amp["paths"]["/api/2/audit-logs/{org_id}"]["post"]["parameters"][0]
    assert param["schema"]["x-generate-pattern"] == f"^{first_org('amplitude')}$"
    assert matches(param["schema"]["pattern"], first_org("amplitude"))


@pytest.mark.mock_only
def test_amplitude_generated_dates_always_form_a_valid_retained_range(amp: dict[str, Any]) -> None:
    props = amp["components"]["schemas"]["AuditLogsRequest"]["properties"]

    @settings(max_examples=200, database=None, derandomize=True, deadline=None)
    @given(generated(props["start_date"]["x-generate-pattern"]), generated(props["end_date"]["x-generate-pattern"]))
    def check(start: str, end: str) -> None:
        start_ms, end_ms = amplitude.read_date(start, "start_date"), amplitude.read_date(end, "end_date")
        assert start_ms < end_ms <= start_ms + amplitude.MAX_RANGE_DAYS * DAY_MS
        assert start_ms >= NOW_MS - amplitude.RETENTION_DAYS * DAY_MS and end_ms <= NOW_MS

    check()


@pytest.mark.mock_only
@pytest.mark.parametrize("field", ["domain", "feature", "action"])
def test_amplitude_generated_filters_are_the_vocabulary(amp: dict[str, Any], field: str) -> None:
    pattern = amp["components"]["schemas"]["AuditLogsFilters"]["properties"][field]["x-generate-pattern"]
    vocabulary = {getattr(kind, field) for kind in KINDS}
    alternatives = pattern.removeprefix("^(?:").removesuffix(")$").split("|")
    assert set(alternatives) == vocabulary
    assert all(matches(pattern, value) for value in vocabulary) and not matches(pattern, "logins")


@pytest.mark.mock_only
def test_amplitude_examples_are_valid_requests(amp: dict[str, Any]) -> None:
    request_body = amp["paths"]["/api/2/audit-logs/{org_id}"]["post"]["requestBody"]
    example = request_body["content"]["application/json"]["example"]
    start, end = amplitude.read_date(example["start_date"], "s"), amplitude.read_date(example["end_date"], "e")
    assert start < end <= start + 30 * DAY_MS
    props = amp["components"]["schemas"]["AuditLogsRequest"]["properties"]
    for name in ("start_date", "end_date"):
        amplitude.read_date(props[name]["example"], name)


# ---- Datafold --------------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(DATAFOLD_DOC)
def test_datafold_operation_is_datafolds(dfd: dict[str, Any]) -> None:
    assert dfd["openapi"] == "3.1.0"
    operation = dfd["paths"]["/api/v1/audit_logs"]["get"]
    assert operation["operationId"] == "get_audit_logs_api_v1_audit_logs_get"
    assert dfd["security"] == [{"ApiKeyAuth": []}]
    assert dfd["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "description": "Use the 'Authorization' header with the format 'Key <api-key>'", "in": "header",
        "name": "Authorization", "type": "apiKey"}
    body = operation["requestBody"]
    assert "required" not in body
    assert body["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/ApiDownloadAuditLogs"}, {"type": "null"}], "title": "Data"}
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"}


@pytest.mark.vendor_documented(DATAFOLD_DOC)
def test_datafold_schemas_are_the_seeds(dfd: dict[str, Any]) -> None:
    schemas = dfd["components"]["schemas"]
    logs = schemas["AuditLogs"]
    assert logs["required"] == ["timestamp", "event_uuid", "client_ip", "url"]
    plain = {name: prop["type"] for name, prop in logs["properties"].items() if "type" in prop}
    assert plain == {"client_ip": "string", "event_uuid": "string", "timestamp": "string", "url": "string"}
    nullable = {name: prop["anyOf"][0]["type"] for name, prop in logs["properties"].items() if "anyOf" in prop}
    assert nullable == {"action": "string", "is_support_user": "boolean", "log_entry": "string", "object_id": "integer",
                        "object_type": "string", "payload": "object", "referer": "string", "request_type": "string",
                        "source": "string", "status": "string", "user_agent": "string", "user_email": "string",
                        "user_id": "integer"}
    assert all(prop["anyOf"][1] == {"type": "null"} for prop in logs["properties"].values() if "anyOf" in prop)
    assert schemas["ApiGetAuditLogs"]["required"] == ["logs"]
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
    for name in ("start_date", "end_date"):
        branches = schemas["ApiDownloadAuditLogs"]["properties"][name]["anyOf"]
        assert (branches[0]["type"], branches[0]["format"], branches[1]) == ("string", "date-time", {"type": "null"})
    assert datafold.VENDOR.entry_schema == "AuditLogs" and datafold.VENDOR.timestamp_path == ("timestamp",)


@pytest.mark.mock_only
def test_datafold_generated_start_dates_parse_and_stay_under_the_cap(dfd: dict[str, Any]) -> None:
    branch = dfd["components"]["schemas"]["ApiDownloadAuditLogs"]["properties"]["start_date"]["anyOf"][0]
    pattern = branch["x-generate-pattern"]
    world = yaml.safe_load(WORLD.read_text(encoding="utf-8"))
    per_day = world["datafold"]["orgs"][0]["events_per_day"]

    @settings(max_examples=200, database=None, derandomize=True, deadline=None)
    @given(generated(pattern))
    def check(start: str) -> None:
        assert jsonschema_rs.Draft202012Validator({"format": "date-time"}, validate_formats=True).is_valid(start)
        start_ms = parse_datetime(start) // 1000
        # the widest window such a start gives is [start, now]: it must hold fewer entries than the cap
        assert (NOW_MS - start_ms) / DAY_MS * per_day * 1.05 < datafold.MAX_LOGS

    check()
