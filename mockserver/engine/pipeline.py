"""The request pipeline of every vendor operation, top to bottom:

auth -> (rate limit) -> validate against the spec -> vendor handler -> vendor renderer.

Each stage refuses by raising a ``VendorError``; the vendor's envelope renders it. An unexpected
exception is logged here and answered with the vendor's 500 envelope: never a traceback on the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.engine.journal import SCOPE_KEY, RequestNote
from mockserver.engine.render import json_bytes
from mockserver.engine.spec import Operation, parse_body, parse_params
from mockserver.engine.vendor import STABLE, Call, VendorRuntime
from mockserver.errors import (
    InternalError,
    InvalidCredentials,
    MethodNotAllowed,
    MissingCredentials,
    VendorError,
)

log = logging.getLogger("mockserver")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def vendor_routes(runtime: VendorRuntime, prefix: str = "") -> list[BaseRoute]:
    """One Starlette route per spec path; the methods of that path share it so a wrong method gets
    the vendor's own 405 envelope."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in runtime.spec.operations:
        by_path.setdefault(runtime.vendor.path_prefix + op.path, {})[op.method] = op
    return [Route(path, _endpoint(runtime, ops, prefix), methods=ALL_METHODS, name=f"{runtime.vendor.name}:{path}")
            for path, ops in by_path.items()]


def _endpoint(runtime: VendorRuntime, ops: Mapping[str, Operation], prefix: str):  # type: ignore[no-untyped-def]
    vendor = runtime.vendor
    allowed = tuple(sorted(ops))
    for op in ops.values():
        if op.operation_id not in vendor.handlers:
            raise LookupError(f"{vendor.name}: no handler for operationId {op.operation_id}")

    async def endpoint(request: Request) -> Response:
        note: RequestNote | None = request.scope.get(SCOPE_KEY)
        if note is not None:
            note.vendor = vendor.name
        try:
            op = ops.get(request.method)
            if op is None:
                raise MethodNotAllowed(allowed)
            if note is not None:
                note.operation = op.operation_id
            return await _serve(runtime, op, request, prefix, note)
        except VendorError as error:
            response = vendor.render_error(error)
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
            response = vendor.render_error(InternalError())
        return response

    return endpoint


async def _serve(runtime: VendorRuntime, op: Operation, request: Request, prefix: str,
                 note: RequestNote | None) -> Response:
    vendor = runtime.vendor
    secrets = vendor.auth.extract(request.headers)
    if secrets is None:
        raise MissingCredentials(vendor.auth.description)
    credential = runtime.credentials.lookup(secrets)
    if credential is None:
        raise InvalidCredentials()
    if note is not None:
        note.credential = credential.id
        note.org = credential.org_id
    raw_body = await request.body() if op.body_schema is not None else b""
    now_ms = runtime.clock.now_ms()
    replay_key = _replay_key(runtime, op, request, prefix, secrets, credential.org_id, raw_body)
    if replay_key is not None:
        answers = runtime.answers
        hit = answers.get((*replay_key, STABLE)) or answers.get((*replay_key, now_ms))
        if hit is not None and now_ms < hit[1]:
            return json_bytes(200, hit[0])
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    params = parse_params(op, query, request.path_params)
    body = parse_body(op, raw_body) if op.body_schema is not None else None
    call = Call(request=request, runtime=runtime, operation=op, credential=credential, params=params,
                body=body, now_ms=now_ms, prefix=prefix, replay_key=replay_key)
    return await vendor.handlers[op.operation_id](call)


MAX_REPLAY_BODY = 8_192


def _replay_key(runtime: VendorRuntime, op: Operation, request: Request, prefix: str, secrets: tuple[str, ...],
                org_id: str, raw_body: bytes) -> tuple[object, ...] | None:
    """What an answer may depend on, besides the clock: the exact request, who sent it and the state of
    their org's stream (its version changes when events are injected)."""
    stream = runtime.streams.get(org_id)
    if len(raw_body) > MAX_REPLAY_BODY:
        return None
    return (runtime.vendor.name, op.operation_id, prefix, request.headers.get("host", ""),
            request.scope.get("query_string", b""), raw_body, secrets,
            -1 if stream is None else stream.number, -1 if stream is None else stream.version)
