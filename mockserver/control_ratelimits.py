"""The control API's rate-limit routes (specs/control.yaml, tag RateLimits):

- ``GET /_mock/ratelimits``: the global switch, each vendor's default and what each org of the world
  gets (and from where: vendor, plan, world or runtime), and the buckets of the current windows;
- ``PUT /_mock/ratelimits``: merge runtime overrides, all or nothing (a null value removes one);
- ``DELETE /_mock/ratelimits``: drop the runtime overrides, back to the world's configuration.

Refusals are 400 ``{"error": "invalid_ratelimits", "message": "<where>: <why>"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mockserver.control import ControlApi, ControlError
from mockserver.engine.ratelimit import RateLimitConfigError, check_override
from mockserver.engine.render import json_response
from mockserver.engine.windows import format_iso_ms

if TYPE_CHECKING:
    from mockserver.app import MockServer

PATH = "/_mock/ratelimits"
INVALID = "invalid_ratelimits"
Handler = Callable[[Request, Any, Any], Awaitable[Response]]


def ratelimits_state(server: MockServer) -> dict[str, Any]:
    """The answer of ``GET /_mock/ratelimits``."""
    limits = server.limits
    now_ms = server.clock.now_ms()
    vendors: dict[str, Any] = {}
    for name, runtime in sorted(server.runtimes.items()):
        vendor = runtime.vendor
        policy = vendor.rate_limit
        default = None if policy is None else {
            "limit": policy.limit, "period_s": policy.period_s, "scope": policy.scope,
            "per_operation": policy.per_operation, "plan_limits": dict(policy.plan_limits),
            "headers": policy.headers, "name": policy.name}
        orgs = {org.id: limits.effective(vendor, org).as_dict() for org in server.world.orgs.get(name, ())}
        vendors[name] = {"default": default, "orgs": orgs}
    buckets = [{"vendor": vendor, "subject": subject, "operation": operation,
                "window_start": format_iso_ms(bucket.start_ms), "period_s": bucket.period_ms // 1000,
                "limit": bucket.limit, "used": bucket.used, "refused": bucket.refused}
               for (vendor, subject, operation), bucket in limits.buckets(now_ms)]
    return {"enabled": limits.enabled, "vendors": vendors, "buckets": buckets}


def apply_patch(server: MockServer, body: object) -> None:
    """Check the whole body of ``PUT /_mock/ratelimits``, then merge it into the runtime overrides."""
    try:
        if not isinstance(body, Mapping):
            raise RateLimitConfigError("body: must be a JSON object")
        unknown = sorted(set(body) - {"enabled", "vendors"})
        if unknown:
            raise RateLimitConfigError(f"{unknown[0]}: unknown key (known: enabled, vendors)")
        enabled = check_override({k: v for k, v in body.items() if k == "enabled"}, "body", allow_null=False)
        sections = body.get("vendors") or {}
        if not isinstance(sections, Mapping):
            raise RateLimitConfigError("vendors: must be an object")
        vendor_patches: dict[str, dict[str, Any]] = {}
        org_patches: dict[tuple[str, str], dict[str, Any]] = {}
        for name, raw in sections.items():
            if name not in server.runtimes:
                raise RateLimitConfigError(
                    f"vendors.{name}: unknown vendor (known: {', '.join(sorted(server.runtimes))})")
            section = check_override(raw, f"vendors.{name}", allow_null=True, extra=("orgs",))
            orgs = section.pop("orgs", None) or {}
            if not isinstance(orgs, Mapping):
                raise RateLimitConfigError(f"vendors.{name}.orgs: must be an object")
            known = [org.id for org in server.world.orgs.get(name, ())]
            for org_id, org_raw in orgs.items():
                where = f"vendors.{name}.orgs.{org_id}"
                if org_id not in known:
                    raise RateLimitConfigError(f"{where}: unknown org (known: {', '.join(known) or 'none'})")
                org_patches[name, org_id] = check_override(org_raw, where, allow_null=True)
            vendor_patches[name] = section
    except RateLimitConfigError as exc:
        raise ControlError(400, INVALID, str(exc)) from None
    server.limits.override(vendor_patches, org_patches, enabled.get("enabled"))


def ratelimit_handlers(server: MockServer) -> dict[str, Handler]:
    """Handlers by operationId, with ``ControlApi``'s signature ``(request, params, body)``."""

    async def get(request: Request, params: Any, body: Any) -> Response:
        return json_response(200, ratelimits_state(server))

    async def put(request: Request, params: Any, body: Any) -> Response:
        raw = await request.body()
        if not raw.strip():
            raise ControlError(400, INVALID, "body: a JSON body is required")
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ControlError(400, INVALID, f"body: malformed JSON ({exc.msg} at position {exc.pos})") from None
        apply_patch(server, decoded)
        return json_response(200, ratelimits_state(server))

    async def delete(request: Request, params: Any, body: Any) -> Response:
        server.limits.clear_overrides()
        return json_response(200, ratelimits_state(server))

    return {"GetRateLimits": get, "PutRateLimits": put, "DeleteRateLimits": delete}


def add_ratelimit_routes(server: MockServer, api: ControlApi) -> None:
    """Bind the handlers to the operations of specs/control.yaml. PutRateLimits decodes and checks its
    body itself, so a refusal names the vendor, org and field in the words of the world file's checks."""
    for operation_id, handler in ratelimit_handlers(server).items():
        api.add(operation_id, handler, error=INVALID, raw_body=operation_id == "PutRateLimits")
