"""The control API under ``/_mock``: health now; clock, events, faults and the journal build on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver import __version__
from mockserver.engine.render import json_response
from mockserver.engine.windows import format_iso_ms

if TYPE_CHECKING:
    from mockserver.app import MockServer


def control_routes(server: MockServer) -> list[Route]:
    async def health(request: Request) -> Response:
        return json_response(200, {
            "status": "ok",
            "version": __version__,
            "now": format_iso_ms(server.clock.now_ms()),
            "vendors": sorted(server.runtimes),
        })

    return [Route("/_mock/health", health, methods=["GET"])]
