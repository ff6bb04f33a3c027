"""The OpenAPI documents in specs/: valid, self-contained, and saying exactly what the mock accepts.

Every ``specs/*.yaml`` is checked for structure. The Datadog document is also checked against Datadog's
published names and against the formats the engine reads. Patterns are evaluated with jsonschema-rs,
whose ECMA reading (``$`` is the end of the text, ``pattern`` is a search) is the one the mock's request
validation and schemathesis use; that is why every pattern here is anchored with ``^...$``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from mockserver.engine.windows import parse_instant, parse_timezone
from mockserver.vendors._datadog_query import compile_query

SPECS_DIR = Path(__file__).resolve().parents[1] / "specs"
SPEC_FILES = sorted(SPECS_DIR.glob("*.yaml"))
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NOW_MS = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp() * 1000)

LIST_PATH = "/api/v2/audit/events"
SEARCH_PATH = "/api/v2/audit/events/search"
DATADOG_LIST_DOC = "Datadog API reference: Get a list of Audit Logs events"
DATADOG_SEARCH_DOC = "Datadog API reference: Search Audit Logs events"


CONTROL = "control.yaml"


def check_control_security(spec: dict[str, Any]) -> None:
    """The control API's token is optional (required only when the server has one) and health is always
    open: every operation but health accepts the token, answers 401 without it, and health says open."""
    assert "controlToken" in spec["components"]["securitySchemes"]
    for method, route, operation in operations(spec):
        requirements = operation.get("security", spec.get("security"))
        if route == "/_mock/health":
            assert requirements == [], "health must stay open"
            continue
        assert {"controlToken": []} in requirements, f"{method} {route} does not accept the control token"
        assert "401" in operation["responses"], f"{method} {route} does not document the 401 without token"


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name} is not a mapping"
    return document


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def resolve(spec: dict[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (a JSON pointer after ``#``) points at; KeyError when it points nowhere."""
    assert ref.startswith("#/"), f"{ref!r} is not a local reference: specs are self-contained"
    node: Any = spec
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def deref(spec: dict[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        node = resolve(spec, node["$ref"])
    raise AssertionError("reference chain longer than 32 links")


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def requires_fields(spec: dict[str, Any], schema: Any) -> bool:
    """Whether every value the schema admits is an object carrying at least one required member."""
    schema = deref(spec, schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("required"):
        return True
    if any(requires_fields(spec, part) for part in schema.get("allOf", [])):
        return True
    branches = schema.get("oneOf") or schema.get("anyOf") or []
    return bool(branches) and all(requires_fields(spec, branch) for branch in branches)


@pytest.mark.parametrize("path", SPEC_FILES, ids=[path.stem for path in SPEC_FILES])
class TestEverySpec:
    def test_is_a_valid_openapi_document(self, path: Path) -> None:
        validate(load(path))

    def test_every_operation_has_a_unique_operation_id(self, path: Path) -> None:
        ids = [operation.get("operationId") for _, _, operation in operations(load(path))]
        assert ids, "no operations"
        assert all(ids), "an operation has no operationId"
        assert len(ids) == len(set(ids)), f"duplicate operationIds: {ids}"

    def test_every_operation_is_secured_by_declared_schemes(self, path: Path) -> None:
        spec = load(path)
        if path.name == CONTROL:
            return check_control_security(spec)
        schemes = spec.get("components", {}).get("securitySchemes", {})
        for method, route, operation in operations(spec):
            requirements = operation.get("security", spec.get("security"))
            assert requirements, f"{method} {route} declares no security"
            for requirement in requirements:
                assert requirement, f"{method} {route} lists an empty (anonymous) security requirement"
                assert set(requirement) <= set(schemes), f"{method} {route}: undeclared scheme in {requirement}"

    def test_every_operation_documents_a_4xx_error_envelope(self, path: Path) -> None:
        spec = load(path)
        for method, route, operation in operations(spec):
            if path.name == CONTROL and operation.get("security") == []:
                continue  # health: nothing to refuse, by design
            envelopes = [
                media.get("schema")
                for status, response in operation.get("responses", {}).items()
                if str(status).startswith("4")
                for media in deref(spec, response).get("content", {}).values()
            ]
            assert any(requires_fields(spec, schema) for schema in envelopes), (
                f"{method} {route}: no 4xx response whose schema requires an error envelope"
            )

    def test_every_reference_resolves(self, path: Path) -> None:
        spec = load(path)
        for ref in refs(spec):
            try:
                resolve(spec, ref)
            except (KeyError, IndexError, ValueError) as exc:
                raise AssertionError(f"{ref} does not resolve") from exc


# ---- Datadog ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def datadog() -> dict[str, Any]:
    return load(SPECS_DIR / "datadog.yaml")


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator for a schema of the document, its references resolved against the document."""
    return jsonschema_rs.Draft4Validator({**schema, "components": spec["components"]})


def list_params(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in spec["paths"][LIST_PATH]["get"]["parameters"]}


def filter_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return dict(spec["components"]["schemas"]["AuditLogsQueryFilter"]["properties"])


def instant_pattern(spec: dict[str, Any]) -> str:
    pattern = list_params(spec)["filter[from]"]["schema"]["x-generate-pattern"]
    assert isinstance(pattern, str)
    return pattern


def query_pattern(spec: dict[str, Any]) -> str:
    pattern = list_params(spec)["filter[query]"]["schema"]["x-generate-pattern"]
    assert isinstance(pattern, str)
    return pattern


def matches(pattern: str, value: str) -> bool:
    return bool(jsonschema_rs.Draft4Validator({"type": "string", "pattern": pattern}).is_valid(value))


@pytest.mark.vendor_documented(DATADOG_LIST_DOC)
def test_list_audit_logs_has_datadogs_path_operation_id_and_parameters(datadog: dict[str, Any]) -> None:
    operation = datadog["paths"][LIST_PATH]["get"]
    assert operation["operationId"] == "ListAuditLogs"
    params = list_params(datadog)
    assert list(params) == ["filter[query]", "filter[from]", "filter[to]", "sort", "page[cursor]", "page[limit]"]
    assert all(param["in"] == "query" and not param.get("required") for param in params.values())
    assert deref(datadog, params["sort"]["schema"])["enum"] == ["timestamp", "-timestamp"]
    limit = params["page[limit]"]["schema"]
    assert (limit["type"], limit["default"], limit["minimum"], limit["maximum"]) == ("integer", 10, 1, 1000)


@pytest.mark.vendor_documented(DATADOG_SEARCH_DOC)
def test_search_audit_logs_has_datadogs_path_operation_id_and_body(datadog: dict[str, Any]) -> None:
    operation = datadog["paths"][SEARCH_PATH]["post"]
    assert operation["operationId"] == "SearchAuditLogs"
    body = operation["requestBody"]
    assert body["required"] is False
    schema = deref(datadog, body["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == {"filter", "options", "page", "sort"}
    assert set(filter_schema(datadog)) == {"from", "to", "query"}


@pytest.mark.vendor_documented(DATADOG_LIST_DOC)
def test_both_operations_need_the_api_and_application_keys_together(datadog: dict[str, Any]) -> None:
    schemes = datadog["components"]["securitySchemes"]
    assert (schemes["apiKeyAuth"]["in"], schemes["apiKeyAuth"]["name"]) == ("header", "DD-API-KEY")
    assert (schemes["appKeyAuth"]["in"], schemes["appKeyAuth"]["name"]) == ("header", "DD-APPLICATION-KEY")
    for _, _, operation in operations(datadog):
        assert operation["security"] == [{"apiKeyAuth": [], "appKeyAuth": []}]
        assert {"400", "403", "429"} <= set(operation["responses"])


def test_every_time_and_query_field_shares_one_pattern(datadog: dict[str, Any]) -> None:
    params, body = list_params(datadog), filter_schema(datadog)
    times = [params["filter[from]"], params["filter[to]"]]
    generated = {body["from"]["x-generate-pattern"], body["to"]["x-generate-pattern"]}
    assert {param["schema"]["x-generate-pattern"] for param in times} | generated == {
        instant_pattern(datadog)
    }
    assert body["query"]["x-generate-pattern"] == query_pattern(datadog)
    for pattern in (instant_pattern(datadog), query_pattern(datadog)):
        assert pattern.startswith("^") and pattern.endswith("$")


@pytest.mark.vendor_documented(
    "Datadog API reference: AuditLogsQueryFilter, 'Supports date, math, and regular timestamps'"
)
@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.123Z",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T12:00:00.123456-05:30",
        "2024-05-01",
        "1714564800000",
        "now",
        "now-15m",
        "now-90d",
        "now+1h",
    ],
)
def test_time_pattern_admits_every_documented_format(datadog: dict[str, Any], value: str) -> None:
    assert matches(instant_pattern(datadog), value)
    parse_instant(value, NOW_MS)


@pytest.mark.mock_only
@pytest.mark.parametrize(
    "value",
    ["yesterday", "2024-13-01", "now-15x", "", "now\n", " now", "now-15", "2024-02-30", "2024-05-01T12:00:00", "-1"],
)
def test_time_pattern_refuses_junk(datadog: dict[str, Any], value: str) -> None:
    assert not matches(instant_pattern(datadog), value)


def timezone_pattern(spec: dict[str, Any]) -> str:
    pattern = spec["components"]["schemas"]["AuditLogsQueryOptions"]["properties"]["timezone"]["x-generate-pattern"]
    assert isinstance(pattern, str)
    return pattern


def read_instant(value: str) -> int:
    return parse_instant(value, NOW_MS)


ENGINE_READERS: dict[str, tuple[Callable[[dict[str, Any]], str], Callable[[str], object]]] = {
    "instant": (instant_pattern, read_instant),
    "timezone": (timezone_pattern, parse_timezone),
    "query": (query_pattern, compile_query),
}


@pytest.mark.mock_only
@pytest.mark.parametrize("field", list(ENGINE_READERS))
def test_every_value_the_pattern_admits_is_read_by_the_engine(datadog: dict[str, Any], field: str) -> None:
    # A value the spec calls valid but the engine refuses would fail schemathesis' positive_data_acceptance.
    get_pattern, read = ENGINE_READERS[field]
    pattern = get_pattern(datadog)
    strategy = st.from_regex(pattern, fullmatch=True).filter(lambda value: matches(pattern, value))

    # The query pattern is large; hypothesis generates from it slowly, so fewer examples there.
    @settings(max_examples=60 if field == "query" else 300, database=None, derandomize=True, deadline=None)
    @given(strategy)
    def check(value: str) -> None:
        read(value)

    check()


@pytest.mark.mock_only
@pytest.mark.parametrize(
    "value",
    [
        "*",
        "@evt.name:Request",
        "@type:session @application_id:xxxx",
        "@usr.email:foo@example.com AND -@action:accessed",
        "service:datadog (@http.method:GET OR @http.method:POST)",
        "NOT @asset.type:dashboard OR dashboard",
        "@http.url_details.path:*dashboard*",
    ],
)
def test_query_pattern_admits_common_audit_queries(datadog: dict[str, Any], value: str) -> None:
    assert matches(query_pattern(datadog), value)


@pytest.mark.mock_only
@pytest.mark.parametrize(
    "value",
    ["", "AND", "OR", "NOT", "NOT ", "-", "- @a:b", "@a:b AND", "AND @a:b", "(@a:b", "@a:b)", "()", "* *", "@a:"],
)
def test_query_pattern_refuses_what_cannot_parse(datadog: dict[str, Any], value: str) -> None:
    assert not matches(query_pattern(datadog), value)


def test_examples_and_defaults_satisfy_their_own_schemas(datadog: dict[str, Any]) -> None:
    # schemathesis sends these as valid data in its examples and coverage phases.
    for param in list_params(datadog).values():
        schema = param["schema"]
        for value in (param.get("example"), deref(datadog, schema).get("default")):
            if value is not None:
                assert validator(datadog, schema).is_valid(value), f"{param['name']}: {value!r}"
    body = datadog["components"]["schemas"]
    for name in ("AuditLogsQueryFilter", "AuditLogsQueryOptions", "AuditLogsQueryPageOptions"):
        for field, schema in body[name]["properties"].items():
            for value in (schema.get("example"), schema.get("default")):
                if value is not None:
                    assert validator(datadog, schema).is_valid(value), f"{name}.{field}: {value!r}"


@pytest.mark.vendor_documented('observed: an empty result is exactly {"data": []} (VENDORS.md, Datadog)')
def test_responses_accept_an_empty_page_and_a_full_one(datadog: dict[str, Any]) -> None:
    page = validator(datadog, {"$ref": "#/components/schemas/AuditLogsEventsResponse"})
    event = {
        "id": "AAAAAWgN8Xwgr1vKDQAAAABBV2dOOFh3ZzZobm1mWXJFYTR0OA",
        "type": "audit",
        "attributes": {
            "timestamp": "2022-04-13T09:21:13.750Z",
            "service": "datadog",
            "message": "GET request made to /api/v1/dashboard by foo@example.com with response 200",
            "tags": ["source:audit"],
            "attributes": {"evt": {"name": "Request", "actor": {"type": "USER"}}, "status": "info"},
        },
    }
    meta = {"elapsed": 12, "page": {"after": "eyJhZnRlciI6IjEifQ"}, "request_id": "r", "status": "done", "warnings": []}
    links = {"next": "http://127.0.0.1:8080/api/v2/audit/events?page%5Bcursor%5D=eyJhZnRlciI6IjEifQ"}
    assert page.is_valid({"data": []})
    assert page.is_valid({"data": [event], "links": links, "meta": meta})
    assert not page.is_valid({})
    assert not page.is_valid({"data": [{**event, "type": "log"}]})
    envelope = validator(datadog, {"$ref": "#/components/schemas/APIErrorResponse"})
    assert envelope.is_valid({"errors": ["Forbidden"]})
    assert not envelope.is_valid({"message": "Forbidden"})
