"""The request pipeline of every vendor operation, top to bottom:

faults -> auth -> rate limit -> replayed answer? -> validate against the spec -> vendor handler -> renderer.

Faults come first (a load balancer's 502 does not wait for auth) and match on the org of the credential
the request carries, if any. The rate limiter's headers go on every answer after it, errors included.

Each stage refuses by raising a ``VendorError``; the vendor's envelope renders it. An unexpected
exception is logged here and answered with the vendor's 500 envelope: never a traceback on the wire.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.engine.faults import RequestFacts
from mockserver.engine.journal import SCOPE_KEY, RequestNote
from mockserver.engine.render import json_bytes
from mockserver.engine.spec import Operation, parse_body, parse_params
from mockserver.engine.vendor import STABLE, Call, VendorRuntime
from mockserver.errors import (
    InternalError,
    InvalidCredentials,
    MethodNotAllowed,
    MissingCredentials,
    TooManyRequests,
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
        headers: dict[str, str] = {}
        note: RequestNote | None = request.scope.get(SCOPE_KEY)
        if note is not None:
            note.vendor = vendor.name
        try:
            op = ops.get(request.method)
            if op is None:
                raise MethodNotAllowed(allowed)
            if note is not None:
                note.operation = op.operation_id
            response = await _serve(runtime, op, request, prefix, note, headers)
        except VendorError as error:
            response = vendor.render_error(error)
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
            response = vendor.render_error(InternalError())
        if headers:
            response.headers.update(headers)
        return response

    return endpoint


async def _serve(runtime: VendorRuntime, op: Operation, request: Request, prefix: str,
                 note: RequestNote | None, headers: dict[str, str]) -> Response:
    """The answer to an authenticated request; ``headers`` collects what every answer carries from here."""
    vendor = runtime.vendor
    now_ms = runtime.clock.now_ms()
    secrets = vendor.auth.extract(request.headers)
    credential = runtime.credentials.lookup(secrets) if secrets is not None else None
    if note is not None and credential is not None:
        note.credential = credential.id
        note.org = credential.org_id
    org = runtime.orgs.get(credential.org_id) if credential is not None else None
    fault = None
    if runtime.faults.armed:  # facts are built only when a plan could use them: this is the hot path
        fault = runtime.faults.decide(RequestFacts(
            vendor=vendor.name, operation=op.operation_id, org=credential.org_id if credential else None,
            method=request.method, path=request.scope["path"], now_ms=now_ms))
    if fault is not None:
        if note is not None:
            note.fault = fault.label
        await fault.before(request.scope)
        injected = fault.error()
        if injected is not None:
            if isinstance(injected, TooManyRequests):
                injected.with_headers(runtime.limits.fault_headers(
                    vendor, org, op.operation_id, math.ceil(injected.retry_after or 0)))
            raise injected
    if secrets is None:
        raise MissingCredentials(vendor.auth.description)
    if credential is None or org is None:
        raise InvalidCredentials()
    verdict = runtime.limits.take(vendor, org, credential, op.operation_id, now_ms)
    if verdict is not None:
        headers.update(verdict.headers)
        if not verdict.allowed:
            raise TooManyRequests(verdict.retry_after_s, verdict.message)
    raw_body = await request.body() if op.body_schema is not None else b""
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
    return (runtime.vendor.name, op.operation_id, prefix, request.scope["path"], request.headers.get("host", ""),
            request.scope.get("query_string", b""), raw_body, secrets,
            -1 if stream is None else stream.number, -1 if stream is None else stream.version)
