"""Datadog Audit Trail: ``GET /api/v2/audit/events`` and ``POST /api/v2/audit/events/search``.

Wire behaviour (VENDORS.md, Datadog; the API reference page in seeds/):
- both ``DD-API-KEY`` and ``DD-APPLICATION-KEY``; any auth failure, or a key without
  ``audit_logs_read``, is 403 ``{"errors": ["Forbidden"]}`` (observed);
- keyset cursors in ``meta.page.after``, shaped like Datadog's: unpadded base64url of
  ``{"after": "<opaque>"}`` (observed); every non-empty page carries one, and ``links.next``
  points at the GET endpoint with the query re-encoded, even for a POST search (observed);
- an empty result is exactly ``{"data": []}`` (observed).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import anyio.to_thread
import orjson
from starlette.responses import Response

from mockserver.engine.auth import HeaderKeys
from mockserver.engine.events import Key, OrgStream, read_page
from mockserver.engine.pagination import CursorCodec, CursorState, query_checksum
from mockserver.engine.ratelimit import RateLimitPolicy
from mockserver.engine.render import error_headers, json_bytes, json_response
from mockserver.engine.rng import stable_key
from mockserver.engine.vendor import Call, Vendor
from mockserver.engine.windows import InstantError, Window, parse_instant, parse_timezone
from mockserver.errors import (
    BadRequest,
    InvalidBody,
    InvalidCursor,
    InvalidParameter,
    InvalidQuery,
    MethodNotAllowed,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    VendorError,
)
from mockserver.vendors._datadog_events import make_event, render_event
from mockserver.vendors._datadog_query import QuerySyntaxError, compile_query, matches_all

PERMISSION = "audit_logs_read"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 10
LIST_PATH = "/api/v2/audit/events"
EMPTY = b'{"data":[]}'
SCAN_BUDGET = 200_000
"""Events a filtered search examines per request before answering with what it has (our choice)."""
TIMEOUT_WARNING = {
    "code": "timeout",
    "title": "The query took too long; results are partial",
    "detail": f"examined {SCAN_BUDGET} events without filling the page; continue with meta.page.after",
}
BIG_SCAN = 20_000
"""A filtered search over more events than this runs in a worker thread, so the server keeps answering."""


def render_error(error: VendorError) -> Response:
    headers = error_headers(error)
    if isinstance(error, Unauthenticated | PermissionDenied):
        return json_response(403, {"errors": ["Forbidden"]}, headers)  # observed: every auth failure
    if isinstance(error, BadRequest):
        return json_response(400, {"errors": [error.message]}, headers)
    if isinstance(error, NotFound):
        return json_response(404, {"errors": ["Not found"]}, headers)
    if isinstance(error, MethodNotAllowed):
        return json_response(405, {"errors": ["Method Not Allowed"]}, headers)
    if isinstance(error, TooManyRequests):
        return json_response(429, {"errors": ["Too many requests"]}, headers)
    return json_response(error.status, {"errors": [error.message]}, headers)


@lru_cache(maxsize=512)
def _predicate(text: str) -> Any:
    if matches_all(text):
        return None
    try:
        inner = compile_query(text)
    except QuerySyntaxError as exc:
        raise InvalidQuery(str(exc)) from None
    return lambda event: inner(event["attributes"])


def _codec(call: Call) -> CursorCodec:
    codec = call.runtime.state.get("codec")
    if codec is None:
        codec = call.runtime.state["codec"] = CursorCodec(call.runtime.seed, "datadog")
    return codec


def wrap_cursor(token: str) -> str:
    """Datadog's shape: unpadded base64url of ``{"after": token}`` (observed)."""
    return base64.urlsafe_b64encode(orjson.dumps({"after": token})).rstrip(b"=").decode()


def unwrap_cursor(cursor: str) -> str:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidCursor() from None
    token = decoded.get("after") if isinstance(decoded, dict) else None
    if not isinstance(token, str):
        raise InvalidCursor()
    return token


def _instant(text: str, name: str, call: Call, tz: tzinfo, in_body: bool) -> int:
    try:
        return parse_instant(text, call.now_ms, tz)
    except InstantError as exc:
        if in_body:
            raise InvalidBody(str(exc), ("filter", name)) from None
        raise InvalidParameter(f"filter[{name}]", str(exc)) from None


async def list_audit_logs(call: Call) -> Response:
    p = call.params
    return await _search(call, query=p.get("filter[query]", "*"), start=p.get("filter[from]", "now-15m"),
                   end=p.get("filter[to]", "now"), sort=p.get("sort", "-timestamp"),
                   limit=p.get("page[limit]", DEFAULT_LIMIT), cursor=p.get("page[cursor]"), tz=None, in_body=False)


async def search_audit_logs(call: Call) -> Response:
    body = call.body if call.body is not None else {}
    if not isinstance(body, Mapping):
        raise InvalidBody("expected a JSON object")
    filt = _section(body, "filter")
    page = _section(body, "page")
    options = _section(body, "options")
    tz = None
    if options.get("timezone") is not None:
        try:
            tz = parse_timezone(str(options["timezone"]))
        except InstantError as exc:
            raise InvalidBody(str(exc), ("options", "timezone")) from None
    return await _search(call, query=filt.get("query") or "*", start=filt.get("from") or "now-15m",
                   end=filt.get("to") or "now", sort=body.get("sort") or "-timestamp",
                   limit=page.get("limit", DEFAULT_LIMIT), cursor=page.get("cursor"), tz=tz, in_body=True)


def _section(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidBody("expected an object", (name,))
    return value


async def _search(call: Call, *, query: str, start: str, end: str, sort: str, limit: Any, cursor: str | None,
            tz: tzinfo | None, in_body: bool) -> Response:
    if PERMISSION not in call.credential.permissions:
        raise PermissionDenied(PERMISSION)
    if sort not in ("timestamp", "-timestamp"):
        raise InvalidParameter("sort", "must be one of timestamp, -timestamp")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("page[limit]", f"must be an integer between 1 and {MAX_LIMIT}")
    stream = call.stream()
    if stream is None:
        raise PermissionDenied(PERMISSION)
    descending = sort == "-timestamp"
    predicate = _predicate(query)
    checksum = query_checksum("datadog", call.credential.org_id, query, start, end, sort)
    codec = _codec(call)
    if cursor:
        state = codec.decode(unwrap_cursor(cursor), checksum)
        window, after = state.window, state.key
    else:
        zone = tz or UTC
        window = Window(_instant(start, "from", call, zone, in_body), _instant(end, "to", call, zone, in_body))
        after = None
    visible = stream.visible(window, call.now_ms)
    args = (call, stream, visible, window, after, descending, limit, predicate, checksum, (query, start, end, sort),
            call.base_url())
    if predicate is not None and stream.count(visible) > BIG_SCAN:
        body = await anyio.to_thread.run_sync(_render, *args)
    else:
        body = _render(*args)
    fixed = bool(cursor) or not (start.lstrip().startswith("now") or end.lstrip().startswith("now"))
    call.remember(body, _valid_until(stream, window, call.now_ms) if fixed else None)
    return json_bytes(200, body)


def _valid_until(stream: OrgStream, window: Window, now_ms: int) -> int | None:
    """Until when an answer over a fixed ``window`` stays true: while no event can arrive in it (its end
    is past) and none of it has aged out of retention. None when it can change with the clock now."""
    if not stream.settled(window, now_ms) or window.start_ms < now_ms - stream.retention_ms:
        return None
    return window.start_ms + stream.retention_ms


def _render(call: Call, stream: OrgStream, visible: Window, window: Window, after: Key | None, descending: bool,
            limit: int, predicate: Any, checksum: int, raw: tuple[str, str, str, str], base_url: str) -> bytes:
    """The answer's bytes: a page of events, the cursor after it and the link to the next page."""
    query, start, end, sort = raw
    page = read_page(stream, visible, after=after, descending=descending, limit=limit, predicate=predicate,
                     scan_budget=SCAN_BUDGET)
    if page.resume_after is None or (not page.keys and not page.exhausted):
        return EMPTY
    after_cursor = wrap_cursor(_codec(call).encode(CursorState(page.resume_after, window, descending, checksum)))
    next_query = "&".join(f"{name}={quote(str(value), safe='')}" for name, value in (
        ("filter[query]", query), ("filter[from]", start), ("filter[to]", end), ("sort", sort),
        ("page[limit]", limit), ("page[cursor]", after_cursor)))
    meta = {
        "elapsed": 1 + page.scanned // 200,  # our choice: derived from the work done, so answers are repeatable
        "page": {"after": after_cursor},
        "request_id": _request_id(call, checksum, after, limit),
        "status": "timeout" if page.exhausted else "done",
        "warnings": [TIMEOUT_WARNING] if page.exhausted else [],
    }
    tail = orjson.dumps({"next": f"{base_url}{LIST_PATH}?{next_query}"})
    return b'{"data":[' + b",".join(page.events) + b'],"links":' + tail + b',"meta":' + orjson.dumps(meta) + b"}"


def _request_id(call: Call, checksum: int, after: Any, limit: int) -> str:
    digest = b"".join(stable_key("request-id", call.runtime.seed, checksum, after, limit, n)
                      .to_bytes(8, "big") for n in range(4))
    return base64.urlsafe_b64encode(digest[:30]).decode()


VENDOR = Vendor(
    name="datadog",
    title="Datadog",
    spec_file="datadog.yaml",
    auth=HeaderKeys((("DD-API-KEY", "api_key"), ("DD-APPLICATION-KEY", "app_key"))),
    retention_days=90,
    default_events_per_day=2_000,
    events=make_event,
    render_event=render_event,
    handlers={"ListAuditLogs": list_audit_logs, "SearchAuditLogs": search_audit_logs},
    render_error=render_error,
    docs="GET /api/v2/audit/events, POST /api/v2/audit/events/search",
    entry_schema="AuditLogsEvent",
    timestamp_path=("attributes", "timestamp"),
    id_path=("id",),
    # Documented: the five X-RateLimit-* headers, calendar-aligned periods, limits per org and per endpoint
    # (API reference, "Rate Limits"). Datadog publishes no figure for the audit endpoints: 1,000 requests
    # per 60 s per org per operation, and the name "audit_logs", are our choice.
    rate_limit=RateLimitPolicy(limit=1_000, period_s=60, scope="org", per_operation=True, headers="x-ratelimit",
                               name="audit_logs"),
)
