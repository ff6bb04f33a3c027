"""OpenAPI documents as the source of routes and request rules.

``load_spec`` reads a document once at start-up, resolves its ``$ref``s, turns OpenAPI 3.0 schemas
into JSON Schema and compiles one validator per parameter and request body (jsonschema-rs). At
request time ``parse_params`` and ``parse_body`` coerce and check what a client sent, raising the
engine's errors with the parameter's name, which each vendor renders in its own words.

Keys starting with ``x-`` are ignored here: ``x-generate-pattern`` marks a pattern the conformance
suite generates from without the server enforcing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from mockserver.engine.yamlsafe import safe_load
from mockserver.errors import InvalidBody, InvalidParameter

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_DROP = {"example", "examples", "xml", "externalDocs", "discriminator", "readOnly", "writeOnly", "deprecated"}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    validator: Any
    kind: str
    item_kind: str | None

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    params: tuple[Param, ...]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    body_validator: Any
    security: tuple[Mapping[str, Any], ...]
    responses: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApiSpec:
    path: Path
    document: Mapping[str, Any]
    operations: tuple[Operation, ...]

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


def _resolve(node: Any, document: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen or not ref.startswith("#/"):
                raise ValueError(f"unsupported or cyclic $ref {ref}")
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _resolve(target, document, (*seen, ref))
        return {k: _resolve(v, document, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, document, seen) for v in node]
    return node


def to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null type, annotations go."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP or key.startswith("x-") or key == "nullable":
            continue
        if key == "format" and value not in {"date-time", "date", "email", "uuid"}:
            continue  # int32, int64 and friends are not JSON Schema formats
        if key in {"properties", "patternProperties"}:
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if schema.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _compile(schema: Mapping[str, Any]) -> Any:
    return jsonschema_rs.Draft4Validator(to_json_schema(schema), validate_formats=False)


def component_validator(spec: ApiSpec, name: str) -> Any:
    """A compiled validator of the component schema ``name`` (``#/components/schemas/<name>``)."""
    schema = _resolve(spec.document, spec.document).get("components", {}).get("schemas", {}).get(name)
    if not isinstance(schema, Mapping):
        raise LookupError(f"{spec.path.name}: no component schema {name!r}")
    return _compile(schema)


def load_spec(path: Path) -> ApiSpec:
    document = safe_load(path.read_text(encoding="utf-8"))
    resolved = _resolve(document, document)
    operations = []
    for route, item in resolved.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            params = tuple(_param(p) for p in [*shared, *op.get("parameters", [])])
            body = op.get("requestBody") or {}
            body_schema = (body.get("content", {}).get("application/json") or {}).get("schema")
            operations.append(Operation(
                operation_id=op["operationId"], method=method.upper(), path=route, params=params,
                body_schema=body_schema, body_required=bool(body.get("required", False)),
                body_validator=_compile(body_schema) if body_schema is not None else None,
                security=tuple(op.get("security", resolved.get("security", []))),
                responses=op.get("responses", {})))
    return ApiSpec(path=path, document=document, operations=tuple(operations))


def _param(raw: Mapping[str, Any]) -> Param:
    schema = raw.get("schema", {"type": "string"})
    kind = schema.get("type", "string")
    item_kind = schema.get("items", {}).get("type", "string") if kind == "array" else None
    return Param(name=raw["name"], location=raw["in"], required=bool(raw.get("required", False)),
                 schema=schema, validator=_compile(schema), kind=kind, item_kind=item_kind)


def _coerce(text: str, kind: str) -> Any:
    if kind == "integer":
        text = text.strip()
        if not text.lstrip("+-").isdigit():
            raise ValueError("must be an integer")
        return int(text)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return number
    if kind == "boolean":
        if text.lower() in {"true", "1"}:
            return True
        if text.lower() in {"false", "0"}:
            return False
        raise ValueError("must be true or false")
    return text


def check(param: Param, value: Any) -> Any:
    errors = list(param.validator.iter_errors(value))
    if errors:
        raise InvalidParameter(param.name, errors[0].message)
    return value


def parse_params(op: Operation, query: Mapping[str, list[str]], path: Mapping[str, str]) -> dict[str, Any]:
    """Coerce and validate the operation's query and path parameters; defaults fill the gaps."""
    values: dict[str, Any] = {}
    for param in op.params:
        if param.location == "path":
            raw_values = [path[param.name]] if param.name in path else []
        elif param.location == "query":
            raw_values = query.get(param.name, [])
        else:
            continue
        if not raw_values:
            if param.required:
                raise InvalidParameter(param.name, "is required")
            if param.default is not None:
                values[param.name] = param.default
            continue
        try:
            if param.kind == "array":
                value: Any = [_coerce(v, param.item_kind or "string") for v in raw_values]
            elif len(raw_values) > 1:
                raise ValueError("was given more than once")
            else:
                value = _coerce(raw_values[0], param.kind)
        except ValueError as exc:
            raise InvalidParameter(param.name, str(exc)) from None
        values[param.name] = check(param, value)
    return values


def parse_body(op: Operation, raw: bytes) -> Any:
    """The decoded JSON body, validated against the operation's schema; None when absent and optional."""
    if not raw.strip():
        if op.body_required:
            raise InvalidBody("a JSON body is required", raw=raw)
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(f"malformed JSON ({exc.msg} at position {exc.pos})", raw=raw) from None
    if op.body_validator is not None:
        for error in op.body_validator.iter_errors(body):
            raise InvalidBody(_reason(error), tuple(error.instance_path), raw=raw)
    return body


def _reason(error: Any) -> str:
    """jsonschema's message, except where it only repeats the schema: ``not: {required: [a, b]}``."""
    excluded = getattr(error.kind, "schema", None)
    if type(error.kind).__name__ == "Not" and isinstance(excluded, Mapping) and set(excluded) == {"required"}:
        return f"{' and '.join(map(str, excluded['required']))} exclude each other: send only one"
    return str(error.message)
