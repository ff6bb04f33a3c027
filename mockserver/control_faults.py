"""``/_mock/faults``: install (PUT), read (GET) and remove (DELETE) the fault plan.

PUT takes the plan as JSON (or YAML with a ``Content-Type`` naming yaml, so a scenario file can be sent
as is), replaces the installed plan and starts every counter again from zero. Every answer is the plan
as installed: defaults filled, with per-rule ``matched`` and ``fired`` counters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response

from mockserver.engine.faults import FaultPlan, PlanError, parse_plan
from mockserver.engine.render import json_response
from mockserver.engine.yamlsafe import safe_load
from mockserver.scenarios import load_scenario
from mockserver.settings import SettingsError

if TYPE_CHECKING:
    from mockserver.app import MockServer
    from mockserver.control import ControlApi
    from mockserver.engine.vendor import VendorRuntime

PATH = "/_mock/faults"
MAX_PLAN_BYTES = 1 << 20
Handler = Callable[[Request, Any, Any], Awaitable[Response]]


def known_operations(runtimes: Mapping[str, VendorRuntime]) -> dict[str, set[str]]:
    """Vendor name -> its operationIds: what a plan's ``match`` may name."""
    return {name: {op.operation_id for op in runtime.spec.operations} for name, runtime in runtimes.items()}


def startup_scenario(name_or_path: str, runtimes: Mapping[str, VendorRuntime]) -> FaultPlan:
    """The plan of ``--scenario`` (a shipped scenario's name or a file), checked against the vendors served;
    a bad one is a one-line ``SettingsError``."""
    try:
        return load_scenario(name_or_path, known_operations(runtimes))
    except PlanError as exc:
        raise SettingsError(f"scenario: {exc}") from None


def invalid_plan(message: str) -> Response:
    return json_response(400, {"error": "invalid_plan", "message": message})


def _decode(raw: bytes, content_type: str) -> Any:
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError(f"plan: larger than {MAX_PLAN_BYTES} bytes")
    if not raw.strip():
        raise PlanError("plan: the body is empty; send a JSON object with a 'rules' list")
    if "yaml" in content_type.lower():
        try:
            return safe_load(raw)
        except yaml.YAMLError as exc:
            raise PlanError(f"plan: the body is not valid YAML: {str(exc).splitlines()[0]}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise PlanError(f"plan: the body is not valid JSON: {exc}") from None


def fault_handlers(server: MockServer) -> dict[str, Handler]:
    """Handlers by operationId, with ``ControlApi``'s signature ``(request, params, body)``. PutFaults decodes
    the raw body itself (JSON, or YAML by content type), so its refusals name the rule and field."""
    known = known_operations(server.runtimes)

    async def get(request: Request, params: Any, body: Any) -> Response:
        return json_response(200, server.faults.snapshot())

    async def put(request: Request, params: Any, body: Any) -> Response:
        try:
            plan = parse_plan(_decode(await request.body(), request.headers.get("content-type", "")), known)
        except PlanError as exc:
            return invalid_plan(str(exc))
        server.faults.install(plan)
        return json_response(200, server.faults.snapshot())

    async def delete(request: Request, params: Any, body: Any) -> Response:
        server.faults.clear()
        return json_response(200, server.faults.snapshot())

    return {"GetFaults": get, "PutFaults": put, "DeleteFaults": delete}


def add_fault_routes(server: MockServer, api: ControlApi) -> None:
    """Bind the handlers to the operations of specs/control.yaml."""
    for operation_id, handler in fault_handlers(server).items():
        api.add(operation_id, handler, error="invalid_plan", raw_body=operation_id == "PutFaults")
