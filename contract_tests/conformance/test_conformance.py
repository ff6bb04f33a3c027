"""schemathesis over every vendor's spec, in process: the mock answers each operation as its spec says.

Every built-in check runs (status codes, response schemas, content types, headers, auth enforcement,
positive data accepted, negative data rejected, unsupported methods). Two generation modes:

- positive: the spec with its generation hints applied (``x-generate-pattern`` becomes ``pattern``;
  cursor parameters, which only the server can mint, are left out), so every generated request is
  valid and must get a 2xx;
- negative: the spec as served, so schemathesis breaks what the server promises to reject.

Adding a vendor (spec + module) adds its operations here without an edit.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from mockserver.testing import conformance_headers, conformance_operations, conformance_schema

CASES = [(vendor, operation_id, mode) for vendor, operation_id in conformance_operations()
         for mode in ("positive", "negative")]


@pytest.mark.parametrize(("vendor", "operation_id", "mode"), CASES,
                         ids=[f"{v}-{o}-{m}" for v, o, m in CASES])
def test_operation_conforms_to_its_spec(vendor: str, operation_id: str, mode: str) -> None:
    schema, app = conformance_schema(vendor, mode)
    operation = schema.find_operation_by_id(operation_id)
    headers = conformance_headers(app, vendor, operation_id)
    strategy: Any = operation.as_strategy(generation_mode=GenerationMode(mode))

    @settings(max_examples=60 if mode == "positive" else 40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers)

    check()
