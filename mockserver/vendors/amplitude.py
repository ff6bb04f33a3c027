"""Amplitude Audit Logs API: ``POST /api/2/audit-logs/{ORG_ID}``.

Documented by Amplitude (seeds 000 and 001, VENDORS.md): HTTP Basic with the organization API key and
secret key; ``start_date`` and ``end_date`` required, ISO 8601; ``filters`` domain/feature/action;
``pagination.limit``; at most 30 days per request; 90 days of retention.

Our choice, since Amplitude documents none of it (README, "our choice"):
- errors ``{"code": <status>, "error": "<message>"}``, the shape of Amplitude's HTTP V2 API; a bad key
  is 401 ``Invalid Api-Key``, the text of its other ``/api/2`` endpoints;
- the answer ``{"data": [...], "pagination": {"limit", "next_cursor"}}``, oldest first;
- the next page: ``pagination.cursor`` in the body, a keyset cursor bound to the query (engine
  pagination), so events arriving while a client pages never shift later pages; ``next_cursor`` is
  null on the last page (the page after it is looked at before answering);
- windows are half-open ``[start_date, end_date)``; a start older than the retention is clamped;
- keys of another organization, or an ``ORG_ID`` they cannot see, are 403 (no 404: an ORG_ID's
  existence is not revealed to keys of another organization).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
import orjson
from starlette.responses import Response

from mockserver.engine.auth import HttpBasic
from mockserver.engine.events import Key, OrgStream, read_page
from mockserver.engine.pagination import CursorCodec, CursorState, query_checksum
from mockserver.engine.ratelimit import RateLimitPolicy
from mockserver.engine.render import error_headers, json_bytes, json_response
from mockserver.engine.vendor import Call, Vendor
from mockserver.engine.windows import DAY_MS, InstantError, Window, parse_instant
from mockserver.errors import (
    BadRequest,
    InvalidBody,
    MethodNotAllowed,
    MissingCredentials,
    NotFound,
    PermissionDenied,
    RangeTooWide,
    TooManyRequests,
    Unauthenticated,
    VendorError,
)
from mockserver.vendors._amplitude_events import make_event

MAX_RANGE_DAYS = 30
RETENTION_DAYS = 90
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SCAN_BUDGET = 200_000
"""Events a filtered request examines before answering with what it found (our choice)."""
BIG_SCAN = 20_000
"""A filtered request over more events than this runs in a worker thread, so the server keeps answering."""
FILTERS = ("domain", "feature", "action")

# Amplitude's other /api/2 endpoints answer a bad key with this text (VENDORS.md, Amplitude).
INVALID_KEY = "Invalid Api-Key"
MISSING_KEY = ("Missing Api-Key: authenticate with HTTP Basic, the organization API key as the user name "
               "and the organization secret key as the password")

# ISO 8601 as the mock reads it: a date, or a date-time with or without seconds, fraction and offset.
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?")


class WrongOrganization(PermissionDenied):
    """Keys of one organization asking for another's audit log (or for an ORG_ID they cannot see)."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.permission = f"the keys of organization {org_id}"
        VendorError.__init__(self, f"These keys do not belong to organization {org_id}")


class EndBeforeStart(BadRequest):
    def __init__(self) -> None:
        super().__init__("end_date must not be before start_date")


def render_error(error: VendorError) -> Response:
    headers = error_headers(error)
    if isinstance(error, MissingCredentials):
        return _error(401, MISSING_KEY, headers)
    if isinstance(error, Unauthenticated):
        return _error(401, INVALID_KEY, headers)
    if isinstance(error, NotFound):
        return _error(404, "Not found", headers)
    if isinstance(error, MethodNotAllowed):
        return _error(405, "Method not allowed: use POST", headers)
    if isinstance(error, TooManyRequests):
        return _error(429, error.message, headers)
    return _error(error.status, error.message, headers)


def _error(status: int, message: str, headers: Mapping[str, str]) -> Response:
    return json_response(status, {"code": status, "error": message}, headers)


def read_date(text: str, name: str) -> int:
    """Epoch milliseconds of an ISO 8601 date or date-time (UTC when it has no offset)."""
    if _ISO_8601.fullmatch(text):
        try:
            return parse_instant(text, 0)
        except InstantError:
            pass
    raise InvalidBody(f"{text!r} is not an ISO 8601 date or date-time (e.g. 2024-04-01T00:00:00Z)", (name,))


def _codec(call: Call) -> CursorCodec:
    codec = call.runtime.state.get("codec")
    if codec is None:
        codec = call.runtime.state["codec"] = CursorCodec(call.runtime.seed, "amplitude")
    return codec


async def get_audit_logs(call: Call) -> Response:
    org_id = call.params["org_id"]
    stream = call.stream()
    if org_id != call.credential.org_id or stream is None:
        raise WrongOrganization(org_id)
    body: Mapping[str, Any] = call.body  # an object with both dates: the spec requires them
    start, end = read_date(body["start_date"], "start_date"), read_date(body["end_date"], "end_date")
    if end < start:
        raise EndBeforeStart()
    if end - start > MAX_RANGE_DAYS * DAY_MS:
        raise RangeTooWide(max_days=MAX_RANGE_DAYS)
    filters = body.get("filters") or {}
    wanted = tuple((name, filters[name]) for name in FILTERS if filters.get(name) is not None)
    pagination = body.get("pagination") or {}
    limit = pagination.get("limit", DEFAULT_LIMIT)
    window = Window(start, end)
    checksum = query_checksum("amplitude", org_id, start, end, wanted)
    cursor = pagination.get("cursor")
    after = _codec(call).decode(cursor, checksum).key if cursor else None
    visible = stream.visible(window, call.now_ms)
    args = (call, stream, visible, window, after, limit, wanted, checksum)
    if wanted and stream.count(visible) > BIG_SCAN:
        answer = await anyio.to_thread.run_sync(_render, *args)
    else:
        answer = _render(*args)
    call.remember(answer, _valid_until(stream, window, call.now_ms))
    return json_bytes(200, answer)


def _valid_until(stream: OrgStream, window: Window, now_ms: int) -> int | None:
    """Until when an answer over ``window`` stays true: while no event can still arrive in it and none of
    it ages out of retention. None when it can change with the clock now."""
    if not stream.settled(window, now_ms) or window.start_ms < now_ms - stream.retention_ms:
        return None
    return window.start_ms + stream.retention_ms


def _render(call: Call, stream: OrgStream, visible: Window, window: Window, after: Key | None, limit: int,
            wanted: tuple[tuple[str, str], ...], checksum: int) -> bytes:
    """One page, oldest first, read one event further to know whether another page follows."""
    predicate = (lambda event: all(event.get(name) == value for name, value in wanted)) if wanted else None
    page = read_page(stream, visible, after=after, descending=False, limit=limit + 1, predicate=predicate,
                     scan_budget=SCAN_BUDGET)
    events = page.events[:limit]
    resume: Key | None = None
    if len(page.keys) > limit:
        resume = page.keys[limit - 1]
    elif page.exhausted:
        resume = page.resume_after
    token = _codec(call).encode(CursorState(resume, window, False, checksum)) if resume is not None else None
    return (b'{"data":[' + b",".join(events) + b'],"pagination":'
            + orjson.dumps({"limit": limit, "next_cursor": token}) + b"}")


VENDOR = Vendor(
    name="amplitude",
    title="Amplitude",
    spec_file="amplitude.yaml",
    auth=HttpBasic("api_key", "secret_key"),
    retention_days=RETENTION_DAYS,
    default_events_per_day=300,
    events=make_event,
    handlers={"GetAuditLogs": get_audit_logs},
    render_error=render_error,
    docs="POST /api/2/audit-logs/{ORG_ID}",
    entry_schema="AuditLogEntry",
    timestamp_path=("timestamp",),
    id_path=("uuid",),
    # Amplitude documents no limit for this endpoint; its other /api/2 endpoints allow a few hundred
    # requests per hour. 360 per hour per organization, Retry-After on the 429, is our choice.
    rate_limit=RateLimitPolicy(limit=360, period_s=3600, scope="org", per_operation=True, headers="retry-after",
                               name="audit_logs"),
)
