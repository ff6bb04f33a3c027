"""``FaultMiddleware``: applies the body-level action a fault left in the scope to the answer on its way out.

Plain ASGI, installed right inside the journal (so the journal records what the client got). It puts an
empty ``FaultSlot`` in every HTTP scope; ``Fault.before`` fills it; when the answer starts, the middleware
reads it:

- ``drop``: nothing is sent; the connection is closed before any byte (the journal records status 0);
- ``truncate``: the headers as they were (``Content-Length`` promises the whole body), ``fraction`` of the
  body, then the connection is closed;
- ``malformed``: half the body, which is not JSON, with a matching ``Content-Length``;
- ``slow_body``: the body in ``chunk_bytes`` pieces, ``interval_ms`` apart;
- ``empty_page`` / ``drift``: only on a 2xx JSON answer (any other passes through unchanged): the page's
  entries emptied, or its first entry drifted (_fault_body.py), ``Content-Length`` fixed.

Closing the connection goes through the server's own ``send`` (``scope["mockserver.raw_send"]``, put there
by ``mockserver.app.MockApp``): uvicorn's is a bound method of its request-response cycle, which holds the
asyncio transport. On a server without one (the in-process test client), ``ConnectionDropped`` is raised
instead, the nearest an ASGI app can come to hanging up.
"""

from __future__ import annotations

from typing import Any

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.engine._fault_body import drift, empty_page, malformed, truncated_length
from mockserver.engine.faults import FAULT_SCOPE_KEY, Action, FaultEngine, FaultSlot

RAW_SEND_KEY = "mockserver.raw_send"
"""The same key as ``mockserver.app.RAW_SEND`` (the engine does not import the app)."""


class ConnectionDropped(ConnectionError):
    """A fault closed the connection where the server offers no transport to close."""


class FaultMiddleware:
    """``engine``: when given, requests arriving while it has no rule pass straight through (no slot, no
    wrapped ``send``), so an idle fault engine costs nothing."""

    def __init__(self, app: ASGIApp, engine: FaultEngine | None = None) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.engine is not None and not self.engine.plan.rules):
            await self.app(scope, receive, send)
            return
        slot = FaultSlot()
        scope[FAULT_SCOPE_KEY] = slot
        await self.app(scope, receive, _Outgoing(scope, slot, send).send)


def _transport(scope: Scope) -> tuple[Any, Any]:
    """uvicorn's request-response cycle and its transport, or (None, None)."""
    cycle = getattr(scope.get(RAW_SEND_KEY), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not callable(getattr(transport, "close", None)):
        return None, None
    return cycle, transport


async def hang_up(scope: Scope) -> None:
    """Close the client's connection now, whatever was sent so far."""
    cycle, transport = _transport(scope)
    if transport is None:
        raise ConnectionDropped("a fault plan dropped this connection")
    transport.close()
    for _ in range(100):  # let the server notice, so it does not report an unfinished answer
        if getattr(cycle, "disconnected", True):
            return
        await anyio.sleep(0)


def _with_length(start: Message, length: int) -> Message:
    headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}


def _is_json_success(start: Message) -> bool:
    if not 200 <= start["status"] < 300:
        return False
    return any(name.lower() == b"content-type" and value.lower().startswith(b"application/json")
               for name, value in start.get("headers", []))


class _Outgoing:
    """The ``send`` the inner app gets: passes messages through, or holds the answer and rewrites it."""

    def __init__(self, scope: Scope, slot: FaultSlot, send: Send) -> None:
        self.scope = scope
        self.slot = slot
        self.downstream = send
        self.action: Action | None = None
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.finished = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.action = self.slot.action
            if self.action is None:
                await self.downstream(message)
            elif self.action.type == "drop":
                self.finished = True
                await hang_up(self.scope)
            else:
                self.start = message
            return
        if self.action is None or self.start is None:
            if not self.finished:
                await self.downstream(message)
            return
        if self.finished or message["type"] != "http.response.body":
            return
        self.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            self.finished = True
            await self._rewrite(self.action, self.start, b"".join(self.chunks))

    async def _rewrite(self, action: Action, start: Message, body: bytes) -> None:
        params = action.params
        if action.type == "truncate":
            await self.downstream(start)
            sent = truncated_length(len(body), float(params["fraction"]))
            await self.downstream({"type": "http.response.body", "body": body[:sent], "more_body": True})
            await hang_up(self.scope)
        elif action.type == "slow_body":
            await self.downstream(start)
            await self._dribble(body, int(params["chunk_bytes"]), float(params["interval_ms"]))
        else:
            if action.type == "malformed":
                body = malformed(body)
            elif _is_json_success(start):
                body = self._reshape(action, body)
            await self.downstream(_with_length(start, len(body)))
            await self.downstream({"type": "http.response.body", "body": body, "more_body": False})

    @staticmethod
    def _reshape(action: Action, body: bytes) -> bytes:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        kind = str(action.params.get("kind", ""))
        changed = empty_page(document) if action.type == "empty_page" else drift(document, kind)
        return orjson.dumps(document) if changed else body

    async def _dribble(self, body: bytes, size: int, interval_ms: float) -> None:
        _, transport = _transport(self.scope)
        offsets = range(0, max(len(body), 1), size)
        for n, offset in enumerate(offsets):
            if n:
                await anyio.sleep(interval_ms / 1000)
                if transport is not None and transport.is_closing():
                    return  # the client went away
            last = offset + size >= len(body)
            await self.downstream({"type": "http.response.body", "body": body[offset:offset + size],
                                   "more_body": not last})
