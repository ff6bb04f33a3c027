"""create_app(settings) -> Starlette: every discovered vendor at its real paths and under /<vendor>,
plus the control API under /_mock, behind the request journal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from mockserver.control import ControlTokenMiddleware, control_routes
from mockserver.control_faults import startup_scenario
from mockserver.data import default_world, spec_path
from mockserver.engine.auth import CredentialIndex
from mockserver.engine.clock import Clock
from mockserver.engine.events import Corpus
from mockserver.engine.fault_middleware import FaultMiddleware
from mockserver.engine.faults import FaultEngine
from mockserver.engine.journal import Journal, JournalMiddleware
from mockserver.engine.live import Live, LiveError, parse_live
from mockserver.engine.pipeline import ALL_METHODS, vendor_routes
from mockserver.engine.ratelimit import RateLimiter
from mockserver.engine.render import json_response
from mockserver.engine.spec import load_spec
from mockserver.engine.vendor import Vendor, VendorRuntime
from mockserver.engine.world import Org, World, WorldError, load_world
from mockserver.errors import NotFound
from mockserver.settings import Settings
from mockserver.vendors import discover


@dataclass(slots=True)
class MockServer:
    """All the state of one running mock: settings, clock, world, corpus, journal, vendors."""

    settings: Settings
    clock: Clock
    world: World
    corpus: Corpus
    journal: Journal
    runtimes: dict[str, VendorRuntime]
    faults: FaultEngine
    limits: RateLimiter

    def reset(self) -> None:
        """Every piece of state back to its start: injected events, clock, buckets, faults, journal."""
        self.corpus.reset()
        self.corpus.answers.clear()
        self.clock.reset()
        self.limits.reset()
        self.faults.reset()
        self.journal.clear()


def secret_fields(vendors: tuple[Vendor, ...]) -> dict[str, tuple[str, ...]]:
    return {vendor.name: vendor.auth.fields for vendor in vendors}


def build_server(settings: Settings, world: World | None = None) -> MockServer:
    vendors = discover()
    if world is None:
        world = load_world(settings.world or default_world(), secret_fields(vendors))
    clock = Clock(frozen_at_ms=settings.frozen_at_ms)
    corpus = Corpus(seed=settings.seed, clock=clock, cache_mb=settings.cache_mb)
    faults = FaultEngine(settings.seed)
    limits = RateLimiter(clock, world, enabled=settings.rate_limits,
                         source=str(settings.world or default_world()))
    runtimes = {}
    for vendor in vendors:
        orgs = {org.id: org for org in world.orgs.get(vendor.name, ())}
        per_day = settings.events_per_day or vendor.default_events_per_day  # where the world file is silent
        streams = {
            org.id: corpus.add(org, org.events_per_day or per_day, vendor.events, vendor.retention_days,
                               vendor.render_event)
            for org in orgs.values()
        }
        for n, org in enumerate(orgs.values()):
            streams[org.id].live = _live(settings, org, f"{vendor.name}.orgs[{n}].live")
        runtimes[vendor.name] = VendorRuntime(
            vendor=vendor, spec=load_spec(spec_path(vendor.spec_file)),
            credentials=CredentialIndex(vendor.name, vendor.auth, world), orgs=orgs, streams=streams,
            clock=clock, seed=settings.seed, answers=corpus.answers, faults=faults, limits=limits)
    if settings.scenario is not None:
        faults.start_with(startup_scenario(settings.scenario, runtimes))
    return MockServer(settings=settings, clock=clock, world=world, corpus=corpus,
                      journal=Journal(settings.journal_size), runtimes=runtimes, faults=faults, limits=limits)


def _live(settings: Settings, org: Org, where: str) -> Live:
    if org.live is None:
        return settings.live
    try:
        return parse_live(org.live, settings.live, where)
    except LiveError as exc:
        raise WorldError(f"world: {exc}") from None


def _vendor_not_found(runtime: VendorRuntime) -> Route:
    async def not_found(request: Request) -> Response:
        return runtime.vendor.render_error(NotFound())

    return Route("/{rest:path}", not_found, methods=ALL_METHODS)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return json_response(status, headers=headers, body={
        "error": "not_found" if status == 404 else "http_error",
        "message": f"No mock route for {request.method} {request.url.path}; see GET /_mock/health for the "
                   "vendors served",
    })


RAW_SEND = "mockserver.raw_send"
"""Scope key of the server's own ``send`` (uvicorn's, before any middleware wraps it): a dropped-connection
fault reaches the transport through it."""


class MockApp(Starlette):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, world: World | None = None) -> Starlette:
    server = build_server((settings or Settings()).validated(), world)
    routes: list[BaseRoute] = []
    for runtime in server.runtimes.values():  # vendors first: theirs is the hot path
        routes.extend(vendor_routes(runtime))
    routes.extend(control_routes(server))
    for name, runtime in server.runtimes.items():
        prefix = f"/{name}"
        routes.append(Mount(prefix, routes=[*vendor_routes(runtime, prefix), _vendor_not_found(runtime)]))
    handlers: dict[Any, Any] = {HTTPException: _not_found}
    app = MockApp(routes=routes, exception_handlers=handlers, middleware=[
        Middleware(ControlTokenMiddleware, token=server.settings.control_token),
        Middleware(JournalMiddleware, journal=server.journal, clock=server.clock),
        Middleware(FaultMiddleware, engine=server.faults),
    ])
    app.state.mock = server
    return app
