"""Datafold audit logs: ``GET /api/v1/audit_logs``.

Documented by Datafold (seed 003, its published OpenAPI document): ``Authorization: Key <api-key>``; an
optional JSON body on the GET with optional, nullable ``start_date``/``end_date``; ``{"logs": [...]}``
without pagination; 422 ``HTTPValidationError`` (Datafold's API is a FastAPI application).

Our choice (README, "our choice"):
- every other error is FastAPI's ``{"detail": "<text>"}``: 401 for a missing or unknown key, 400 for a
  window over the cap, 429 with ``Retry-After``;
- dates absent: the window ends now and starts 7 days before its end; windows are half-open
  ``[start_date, end_date)``; the logs come newest first;
- an answer holds at most 10,000 entries; a window holding more is 400 naming the count, so a client
  can split it (a silent truncation could not be told from a window of exactly 10,000);
- 365 days of retention.
"""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.responses import Response

from mockserver.engine.auth import PrefixedToken
from mockserver.engine.events import OrgStream
from mockserver.engine.ratelimit import RateLimitPolicy
from mockserver.engine.render import error_headers, json_bytes, json_response
from mockserver.engine.vendor import Call, Vendor
from mockserver.engine.windows import DAY_MS, Window
from mockserver.errors import (
    BadRequest,
    InvalidBody,
    MethodNotAllowed,
    MissingCredentials,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    VendorError,
)
from mockserver.vendors._datafold_events import make_event
from mockserver.vendors._datafold_validation import RequestValidationError, errors_of_raw_body, validate_body

MAX_LOGS = 10_000
DEFAULT_WINDOW_DAYS = 7
RETENTION_DAYS = 365
IN_THREAD = 2_000
"""An answer with more entries than this is rendered in a worker thread, so the server keeps answering."""

NOT_AUTHENTICATED = "Not authenticated"  # FastAPI's security dependencies say this for a missing header
INVALID_KEY = "Invalid API key"


class TooManyLogs(BadRequest):
    """The window holds more entries than one answer carries."""

    def __init__(self, count: int, maximum: int) -> None:
        self.count = count
        self.maximum = maximum
        super().__init__(f"The requested range holds {count} audit log entries, more than the {maximum} one "
                         "answer can carry: narrow start_date and end_date")


def render_error(error: VendorError) -> Response:
    headers = error_headers(error)
    if isinstance(error, InvalidBody):
        error = _as_fastapi(error)
        if isinstance(error, RequestValidationError):
            return json_response(422, {"detail": error.errors}, headers)
    if isinstance(error, MissingCredentials):
        return json_response(401, {"detail": NOT_AUTHENTICATED}, headers)
    if isinstance(error, Unauthenticated):
        return json_response(401, {"detail": INVALID_KEY}, headers)
    if isinstance(error, NotFound):
        return json_response(404, {"detail": "Not Found"}, headers)  # Starlette's default texts
    if isinstance(error, MethodNotAllowed):
        return json_response(405, {"detail": "Method Not Allowed"}, headers)
    if isinstance(error, TooManyRequests) and error.message == TooManyRequests.message:
        return json_response(429, {"detail": "Too Many Requests"}, headers)
    return json_response(error.status, {"detail": error.message}, headers)


_ENGINE_JSON_ERROR = re.compile(r"malformed JSON \((?P<msg>.*) at position (?P<pos>\d+)\)")


def _as_fastapi(error: InvalidBody) -> VendorError:
    """A body the engine refused (bad JSON, wrong JSON types), as FastAPI words it. Exact when the error
    carries the body's bytes (``InvalidBody.raw``); otherwise the best the engine's reason allows."""
    if isinstance(error, RequestValidationError):
        return error
    if error.raw is not None:
        return errors_of_raw_body(error.raw)
    found = _ENGINE_JSON_ERROR.fullmatch(error.reason)
    if found is not None:
        return RequestValidationError([{"type": "json_invalid", "loc": ["body", int(found["pos"])],
                                        "msg": "JSON decode error", "input": {}, "ctx": {"error": found["msg"]}}])
    return RequestValidationError([{"type": "value_error", "loc": ["body", *error.location],
                                    "msg": f"Value error, {error.reason}", "input": None}])


async def get_audit_logs(call: Call) -> Response:
    stream = call.stream()
    if stream is None:
        raise Unauthenticated()
    if call.body is None:
        raw = await call.request.body()  # already read by the pipeline: no second read of the stream
        if raw and not raw.strip():  # the engine reads blanks as no body; FastAPI decodes them and fails
            raise errors_of_raw_body(raw)
    dates = validate_body(call.body)
    window = _window(dates["start_date"], dates["end_date"], call.now_ms)
    visible = stream.visible(window, call.now_ms)
    count = stream.count(visible)
    if count > MAX_LOGS:
        raise TooManyLogs(count, MAX_LOGS)
    if count > IN_THREAD:
        answer = await anyio.to_thread.run_sync(_render, stream, visible)
    else:
        answer = _render(stream, visible)
    fixed = dates["end_date"] is not None
    call.remember(answer, _valid_until(stream, window, call.now_ms) if fixed else None)
    return json_bytes(200, answer)


def _ms(us: int) -> int:
    """The first millisecond at or after ``us`` microseconds: events carry milliseconds, so an event is
    in ``[start, end)`` exactly when its millisecond is in ``[_ms(start), _ms(end))``."""
    return -(-us // 1000)


def _window(start_us: int | None, end_us: int | None, now_ms: int) -> Window:
    end = _ms(end_us) if end_us is not None else now_ms + 1  # "now" included
    start = _ms(start_us) if start_us is not None else end - DEFAULT_WINDOW_DAYS * DAY_MS
    return Window(start, end)


def _valid_until(stream: OrgStream, window: Window, now_ms: int) -> int | None:
    """Until when an answer over a fixed ``window`` stays true (see datadog._valid_until)."""
    if not stream.settled(window, now_ms) or window.start_ms < now_ms - stream.retention_ms:
        return None
    return window.start_ms + stream.retention_ms


def _render(stream: OrgStream, visible: Window) -> bytes:
    event_bytes = stream.event_bytes
    return b'{"logs":[' + b",".join(event_bytes(key) for key in stream.keys(visible, descending=True)) + b"]}"


VENDOR = Vendor(
    name="datafold",
    title="Datafold",
    spec_file="datafold.yaml",
    auth=PrefixedToken("Key", "api_key"),
    retention_days=RETENTION_DAYS,
    default_events_per_day=200,
    events=make_event,
    handlers={"get_audit_logs_api_v1_audit_logs_get": get_audit_logs},
    render_error=render_error,
    docs="GET /api/v1/audit_logs",
    entry_schema="AuditLogs",
    timestamp_path=("timestamp",),
    id_path=("event_uuid",),
    # Datafold documents no rate limit: 300 requests per 60 s per API key, Retry-After on the 429, is ours.
    rate_limit=RateLimitPolicy(limit=300, period_s=60, scope="credential", per_operation=True,
                               headers="retry-after", name="audit_logs"),
)
