"""The control API under ``/_mock`` (specs/control.yaml): health, reset, clock, events, journal, and
the fault-plan and rate-limit routes of their own modules.

Requests are validated against specs/control.yaml like a vendor's; every refusal is
``{"error": "<code>", "message": "<why>"}``. ``ControlTokenMiddleware`` guards everything under
/_mock but health when the server has a control token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import __version__
from mockserver.data import spec_path
from mockserver.engine.pipeline import ALL_METHODS
from mockserver.engine.render import json_response
from mockserver.engine.spec import ApiSpec, Operation, load_spec, parse_body, parse_params
from mockserver.engine.windows import InstantError, format_iso_ms, parse_instant
from mockserver.errors import BadRequest

if TYPE_CHECKING:
    from mockserver.app import MockServer

CONTROL_PREFIX = "/_mock"
HEALTH_PATH = "/_mock/health"


class ControlError(Exception):
    """A refusal of the control API: status, stable code, one-line message naming the field."""

    def __init__(self, status: int, error: str, message: str) -> None:
        self.status, self.error, self.message = status, error, message
        super().__init__(message)


def invalid(message: str) -> ControlError:
    return ControlError(400, "invalid_request", message)


def control_error_response(status: int, error: str, message: str) -> Response:
    return json_response(status, {"error": error, "message": message})


Endpoint = Callable[[Request, Any, Any], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Binding:
    error: str
    raw_body: bool


class ControlApi:
    """Binds handlers to the operations of specs/control.yaml, validating what they receive. One route
    per path, so a method the path does not have gets 405 with the full ``Allow``."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self._paths: dict[str, dict[str, tuple[Operation, Endpoint, Binding]]] = {}

    def add(self, operation_id: str, handler: Endpoint, *, error: str = "invalid_request",
            raw_body: bool = False) -> None:
        """Serve ``operation_id`` with ``handler``. ``error`` is the code of the 400 a request that does not
        fit the document gets; with ``raw_body`` the handler decodes the body itself (it gets None)."""
        op = self.spec.operation(operation_id)
        self._paths.setdefault(op.path, {})[op.method] = (op, handler, Binding(error, raw_body))

    def routes(self) -> list[BaseRoute]:
        missing = {op.operation_id for op in self.spec.operations} - {
            op.operation_id for ops in self._paths.values() for op, _, _ in ops.values()}
        if missing:
            raise LookupError(f"control.yaml: no handler for {', '.join(sorted(missing))}")
        # One Mount, so a vendor request costs the router one failed match for the whole control API.
        routes = [Route(path.removeprefix(CONTROL_PREFIX), self._endpoint(ops), methods=ALL_METHODS)
                  for path, ops in self._paths.items()]
        return [Mount(CONTROL_PREFIX, routes=routes)]

    @staticmethod
    def _endpoint(ops: Mapping[str, tuple[Operation, Endpoint, Binding]]) -> Callable[[Request], Awaitable[Response]]:
        if "GET" in ops and "HEAD" not in ops:  # HEAD is GET without the body (RFC 9110), as probes send it
            ops = {**ops, "HEAD": ops["GET"]}
        allow = ", ".join(sorted(ops))

        async def endpoint(request: Request) -> Response:
            bound = ops.get(request.method)
            if bound is None:
                response = control_error_response(
                    405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}; use {allow}")
                response.headers["Allow"] = allow
                return response
            op, handler, binding = bound
            try:
                query: dict[str, list[str]] = {}
                for key, value in request.query_params.multi_items():
                    query.setdefault(key, []).append(value)
                params = parse_params(op, query, request.path_params)
                body = None
                if op.body_schema is not None and not binding.raw_body:
                    body = parse_body(op, await request.body())
                return await handler(request, params, body)
            except BadRequest as exc:
                return control_error_response(400, binding.error, exc.message)
            except ControlError as exc:
                return control_error_response(exc.status, exc.error, exc.message)

        return endpoint


def instant(text: str, name: str, now_ms: int) -> int:
    try:
        return parse_instant(text, now_ms)
    except InstantError as exc:
        raise invalid(f"{name}: {exc}") from None


def clock_state(server: MockServer) -> dict[str, Any]:
    clock = server.clock
    state = clock.state
    now = clock.now_ms()
    return {"now": format_iso_ms(now), "now_ms": now, "rate": state.rate, "frozen": state.frozen,
            "offset_s": round((now - clock.real_ms()) / 1000, 3)}


def control_routes(server: MockServer) -> list[BaseRoute]:
    from mockserver.control_data import add_data_routes
    from mockserver.control_faults import add_fault_routes
    from mockserver.control_ratelimits import add_ratelimit_routes

    api = ControlApi(load_spec(spec_path("control.yaml")))

    async def health(request: Request, params: Any, body: Any) -> Response:
        return json_response(200, {"status": "ok", "version": __version__,
                                   "now": format_iso_ms(server.clock.now_ms()), "vendors": sorted(server.runtimes)})

    async def reset(request: Request, params: Any, body: Any) -> Response:
        server.reset()
        return json_response(200, {"status": "reset", "clock": clock_state(server)})

    async def get_clock(request: Request, params: Any, body: Any) -> Response:
        return json_response(200, clock_state(server))

    async def set_clock(request: Request, params: Any, body: Any) -> Response:
        clock = server.clock
        current = clock.now_ms()
        if "now" in body:
            at = instant(body["now"], "now", current)
        elif "offset_s" in body:
            at = clock.real_ms() + round(body["offset_s"] * 1000)
        else:
            at = current
        rate = float(body.get("rate", clock.state.rate))
        if rate == 0:
            clock.freeze(at)
        else:
            clock.run(at, rate)
        server.corpus.answers.clear()  # answers remembered at another time may not hold at this one
        return json_response(200, clock_state(server))

    async def advance(request: Request, params: Any, body: Any) -> Response:
        server.clock.advance(round(body["seconds"] * 1000))
        return json_response(200, clock_state(server))

    api.add("GetHealth", health)
    api.add("Reset", reset)
    api.add("GetClock", get_clock)
    api.add("SetClock", set_clock)
    api.add("AdvanceClock", advance)
    add_data_routes(server, api)
    add_fault_routes(server, api)
    add_ratelimit_routes(server, api)
    return api.routes()


class ControlTokenMiddleware:
    """Every /_mock call but health needs ``Authorization: Bearer <token>`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.expected is None or scope["type"] != "http" or not scope["path"].startswith(CONTROL_PREFIX + "/")
                or scope["path"] == HEALTH_PATH):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"").strip()
        if not hmac.compare_digest(given, self.expected):
            message = ("this server requires the control token: send 'Authorization: Bearer <token>' "
                       "(the value of --control-token or MOCKSERVER_CONTROL_TOKEN)")
            response = control_error_response(401, "unauthorized", message)
            response.headers["WWW-Authenticate"] = 'Bearer realm="mockserver-control"'
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
