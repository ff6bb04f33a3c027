from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.engine.spec import load_spec, parse_body, parse_params, to_json_schema
from mockserver.errors import InvalidBody, InvalidParameter

SPEC = """
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    post:
      operationId: MakeThing
      parameters:
        - {name: "page[limit]", in: query, schema: {$ref: "#/components/schemas/Limit"}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}}
        - {name: flag, in: query, schema: {type: boolean}}
        - {name: q, in: query, schema: {type: string, x-generate-pattern: "^[a-z]+$"}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Body"}
      responses: {"200": {description: ok}}
components:
  schemas:
    Limit: {type: integer, format: int32, minimum: 1, maximum: 100, default: 10}
    Body:
      type: object
      properties:
        name: {type: string, nullable: true}
        size: {type: integer}
"""


@pytest.fixture
def op(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text(SPEC)
    return load_spec(path).operation("MakeThing")


def test_params_are_coerced_defaulted_and_validated(op) -> None:  # type: ignore[no-untyped-def]
    values = parse_params(op, {"tag": ["a", "b"], "flag": ["true"], "q": ["ANY thing"]}, {"id": "5"})
    assert values == {"id": 5, "page[limit]": 10, "tag": ["a", "b"], "flag": True, "q": "ANY thing"}


@pytest.mark.parametrize(("query", "name", "reason"), [
    ({"page[limit]": ["0"]}, "page[limit]", "less than the minimum of 1"),
    ({"page[limit]": ["101"]}, "page[limit]", "greater than the maximum of 100"),
    ({"page[limit]": ["ten"]}, "page[limit]", "must be an integer"),
    ({"flag": ["maybe"]}, "flag", "must be true or false"),
    ({"page[limit]": ["5", "6"]}, "page[limit]", "was given more than once"),
])
def test_bad_params_name_the_parameter(op, query, name, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameter) as info:
        parse_params(op, query, {"id": "1"})
    assert info.value.name == name and reason in info.value.reason


def test_body(op) -> None:  # type: ignore[no-untyped-def]
    assert parse_body(op, b'{"name": null, "size": 3}') == {"name": None, "size": 3}
    with pytest.raises(InvalidBody, match="a JSON body is required"):
        parse_body(op, b"  ")
    with pytest.raises(InvalidBody, match="malformed JSON"):
        parse_body(op, b"{")
    with pytest.raises(InvalidBody) as info:
        parse_body(op, b'{"size": "big"}')
    assert info.value.location == ("size",)


def test_openapi_nullable_becomes_json_schema_null() -> None:
    assert to_json_schema({"type": "string", "nullable": True, "example": "x", "x-y": 1}) == {
        "type": ["string", "null"]}
    assert to_json_schema({"type": "integer", "format": "int64"}) == {"type": "integer"}
