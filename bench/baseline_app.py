"""The benchmark's baseline: a bare Starlette app on uvicorn that returns one precomputed page.

The page is a 100-event Datadog audit-log page shaped like the mock's `AuditLogsEvent` answer, serialised
once at import, so a request costs only what uvicorn and Starlette cost. The mock's req/s is reported as a
ratio to this app's req/s measured in the same run, on the same machine, with the same load generator.

Run: ``python -m bench.baseline_app --port 18081`` (the benchmark does this itself).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_EVENTS = 100
PATH = "/api/v2/audit/events"
_NOW = datetime(2024, 5, 1, 11, 0, 0, tzinfo=UTC)

_ASSETS = ("dashboard", "monitor", "notebook", "api_key", "user", "role", "integration", "slo")
_ACTIONS = ("accessed", "update_config", "created", "deleted", "modified")
_METHODS = ("GET", "GET", "GET", "POST", "PATCH", "DELETE")
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4",
    "datadog-api-client-python/2.30.0 (python 3.11.7; os Linux; arch x86_64)",
    "terraform-provider-datadog/3.40.0 (go go1.21.5; os linux; arch amd64)",
)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _event(rng: random.Random, i: int, org: dict[str, str]) -> dict[str, Any]:
    """One event in the shape of the contract's AuditLogsEvent."""
    ts = _NOW - timedelta(milliseconds=i * 36_017 + rng.randrange(1000))
    user = rng.randrange(40)
    email = f"user{user}@example.com"
    method = rng.choice(_METHODS)
    asset = rng.choice(_ASSETS)
    path = f"/api/v1/{asset}/{rng.getrandbits(32):08x}"
    status = rng.choice(("200", "200", "200", "201", "403", "404"))
    return {
        "id": f"AQAAAY{rng.getrandbits(120):030x}",
        "type": "audit",
        "attributes": {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
            "service": "datadog",
            "message": f"{method} request made to {path} by {email} with response {status}",
            "tags": ["source:audit"],
            "attributes": {
                "evt": {"name": "Request", "actor": {"type": "USER"}},
                "usr": {"id": _uuid(rng), "email": email, "uuid": _uuid(rng), "name": f"User {user}"},
                "org": org,
                "action": rng.choice(_ACTIONS),
                "auth_method": rng.choice(("SESSION", "API + App Key")),
                "http": {
                    "method": method,
                    "status_code": status,
                    "url_details": {"path": path},
                    "useragent": rng.choice(_AGENTS),
                },
                "network": {
                    "client": {"ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"}
                },
                "asset": {"type": asset, "id": _uuid(rng), "name": f"{asset} {rng.randrange(1000)}"},
                "status": "info",
            },
        },
    }


def build_page(events: int = PAGE_EVENTS, seed: int = 1) -> bytes:
    """A full page (data + links + meta) as the mock answers it, serialised to JSON bytes."""
    rng = random.Random(seed)
    org = {"uuid": _uuid(rng), "name": "Example Org"}
    cursor = "eyJhZnRlciI6IkFRQUFBWS1iZW5jaG1hcmstY3Vyc29yIn0"
    page = {
        "data": [_event(rng, i, org) for i in range(events)],
        "links": {"next": f"http://127.0.0.1:8080{PATH}?page%5Bcursor%5D={cursor}&page%5Blimit%5D={events}"},
        "meta": {
            "elapsed": 3,
            "page": {"after": cursor},
            "request_id": "pddv1ChZiZW5jaG1hcmstYmFzZWxpbmUtcmVxdWVzdA",
            "status": "done",
            "warnings": [],
        },
    }
    return json.dumps(page, separators=(",", ":")).encode()


PAGE_BODY = build_page()


async def page(request: Request) -> Response:
    return Response(PAGE_BODY, media_type="application/json")


app = Starlette(routes=[Route(PATH, page, methods=["GET"])])


def serve(host: str, port: int) -> None:
    """Serve with the mock's uvicorn options: httptools, uvloop when installed, no access log, no lifespan."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    uvicorn.run(
        app,
        host=host,
        port=port,
        http="httptools",
        loop=loop,
        access_log=False,
        log_level="warning",
        lifespan="off",
        server_header=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
