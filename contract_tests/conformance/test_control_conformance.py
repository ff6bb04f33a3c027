"""schemathesis over specs/control.yaml, in process: the control API answers as its document says.

Positive mode generates from the document with its hints applied; two things only a live world can
say are narrowed for it: which vendor and org exist (the hints name the shipped world's Datadog orgs),
what a valid injected entry is (the Datadog entry schema, with times inside retention), and the rules
of a fault plan that JSON Schema cannot state.
Negative mode uses the document as served.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from mockserver import Settings, create_app
from mockserver.data import spec_path
from mockserver.engine.spec import load_spec
from mockserver.testing import DEFAULT_NOW, generation_spec

CONTROL = load_spec(spec_path("control.yaml"))
# Negative cases only where there is something to break: an operation without parameters or body has none.
CASES = [(op.operation_id, mode) for op in CONTROL.operations
         for mode in ("positive", "negative") if mode == "positive" or op.params or op.body_schema is not None]
RECENT = r"^2024-05-01T1[01]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$"


def _inline(node: Any, document: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _inline(target, document)
        return {key: _inline(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, document) for item in node]
    return node


def _datadog_entry_schema() -> dict[str, Any]:
    datadog = yaml.safe_load(spec_path("datadog.yaml").read_text(encoding="utf-8"))
    entry: dict[str, Any] = _inline(datadog["components"]["schemas"]["AuditLogsEvent"], datadog)
    entry["required"] = sorted({*entry.get("required", []), "attributes"})
    attributes = entry["properties"]["attributes"]
    attributes["required"] = sorted({*attributes.get("required", []), "timestamp"})
    attributes["properties"]["timestamp"] = {"type": "string", "pattern": RECENT}
    return entry


def _document(mode: str) -> dict[str, Any]:
    raw = yaml.safe_load(spec_path("control.yaml").read_text(encoding="utf-8"))
    if mode == "negative":
        return copy.deepcopy(raw)  # type: ignore[no-any-return]
    document: dict[str, Any] = generation_spec(raw)
    injection = document["components"]["schemas"]["Injection"]["properties"]
    injection["vendor"] = {"type": "string", "enum": ["datadog"]}
    injection["org"] = {"type": "string", "enum": ["acme", "globex"]}
    injection["events"]["items"] = _datadog_entry_schema()
    injection["events"]["maxItems"] = 3
    # Fault plans: what JSON Schema cannot say. Names must be unique across rules (one rule), `before`
    # must follow `after` (only `after`), a uniform latency needs min_ms <= max_ms (fixed latency only),
    # and vendor and operation must be ones the server serves.
    schemas = document["components"]["schemas"]
    schemas["FaultMatch"]["properties"]["vendor"] = {"type": "string", "enum": ["datadog"]}
    schemas["FaultMatch"]["properties"]["operation"] = {"type": "string", "enum": ["ListAuditLogs"]}
    schemas["FaultPlan"]["properties"]["rules"]["maxItems"] = 1
    del schemas["FaultWhen"]["properties"]["before"]
    schemas["FaultAction"]["oneOf"] = [
        action for action in schemas["FaultAction"]["oneOf"] if not action["$ref"].endswith("/UniformLatencyAction")]
    return document


@pytest.mark.parametrize(("operation_id", "mode"), CASES, ids=[f"control-{o}-{m}" for o, m in CASES])
def test_control_operation_conforms_to_its_spec(operation_id: str, mode: str) -> None:
    app = create_app(Settings(now=DEFAULT_NOW, log_level="warning"))
    schema = schemathesis.openapi.from_dict(_document(mode))
    schema.app = app
    operation = schema.find_operation_by_id(operation_id)
    strategy: Any = operation.as_strategy(generation_mode=GenerationMode(mode))

    @settings(max_examples=40 if mode == "positive" else 30, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate()

    check()
