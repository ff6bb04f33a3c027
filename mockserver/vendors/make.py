"""Make audit logs: the five endpoints under ``/api/v2/audit-logs``.

Wire behaviour (VENDORS.md, Make; Make's API reference in seeds/004; the official SDK ``@makehq/sdk``):
- ``Authorization: Token <api-token>``; a missing or unknown token is 401, a role that is too low 403, in
  Make's documented envelope ``{"detail", "message", "code"}`` (roles: _make_access.py);
- filters ``team``, ``event``, ``author`` in the documented ``x[0]=`` form, the SDK's ``x[]=`` form and
  plain repetition; ``dateFrom``/``dateTo`` as dates or date-times;
- ``pg[offset]``/``pg[limit]`` or ``pg[last]`` paging, seven sort fields, ``pg[returnTotalCount]``, and the
  ``pg`` object echoed in every list answer (_make_index.py does the work);
- 12 months of entries (Make keeps audit logs 12 months), shaped as in _make_events.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import orjson
from starlette.responses import Response

from mockserver.engine.auth import PrefixedToken
from mockserver.engine.events import INJECTED, Key, OrgStream
from mockserver.engine.ratelimit import RateLimitPolicy
from mockserver.engine.render import error_headers, json_bytes, json_response
from mockserver.engine.vendor import Call, Vendor
from mockserver.engine.windows import DAY_MS, InstantError, Window, parse_instant
from mockserver.errors import (
    BadRequest,
    InvalidCredentials,
    InvalidParameter,
    MethodNotAllowed,
    MissingCredentials,
    NotFound,
    PermissionDenied,
    ServerFault,
    TooManyRequests,
    Unauthenticated,
    VendorError,
)
from mockserver.vendors import _make_access as access
from mockserver.vendors import _make_index as ordering
from mockserver.vendors._make_catalogue import BY_NAME, event_groups
from mockserver.vendors._make_details import details
from mockserver.vendors._make_events import make_event
from mockserver.vendors._make_index import Query, Selection
from mockserver.vendors._make_uuid import decode_uuid

RETENTION_DAYS = 365
"""Make keeps audit logs 12 months (VENDORS.md, Make)."""
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
"""The official SDK documents ``pg.limit`` "between 1 and 10000. Defaults to 1000" (the spec enforces both)."""
BIG_BUILD = 20_000
"""A selection that must first draw more entries than this is built in a worker thread."""
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INDEXED = re.compile(r"(team|event|author)\[(\d*)\]")


# -- errors --------------------------------------------------------------------------------------------------
def _envelope(error: VendorError) -> dict[str, Any]:
    """Make's envelope (documented: ``{"detail": "Access denied.", "message": "Permission denied",
    "code": "SC403"}``); the codes are Make's (SC4xx, IM005 invalid input, IM102 invalid credentials)."""
    if isinstance(error, InvalidParameter):
        detail = f"Invalid value in parameter '{error.name}': {error.reason}"
        return {"detail": detail, "message": "Invalid input parameters", "code": "IM005",
                "suberrors": [{"message": detail}]}
    if isinstance(error, BadRequest):
        return {"detail": error.message, "message": "Bad request", "code": "SC400"}
    if isinstance(error, MissingCredentials):
        return {"detail": "Missing API token: send the header Authorization: Token <api-token>.",
                "message": "Unauthorized", "code": "SC401"}
    if isinstance(error, InvalidCredentials):
        return {"detail": "Invalid access token.", "message": "Invalid credentials", "code": "IM102"}
    if isinstance(error, Unauthenticated):
        return {"detail": error.message, "message": "Unauthorized", "code": "SC401"}
    if isinstance(error, PermissionDenied):
        return {"detail": "Access denied.", "message": "Permission denied", "code": "SC403"}
    if isinstance(error, NotFound):
        detail = error.message if error.message != NotFound.message else "Resource not found."
        return {"detail": detail, "message": "Not found", "code": "SC404"}
    if isinstance(error, MethodNotAllowed):
        return {"detail": "Method not allowed.", "message": "Method not allowed", "code": "SC405"}
    if isinstance(error, TooManyRequests):
        return {"detail": error.message, "message": "Too many requests", "code": "SC429"}
    if isinstance(error, ServerFault):
        return {"detail": error.message, "message": error.message, "code": f"SC{error.status}"}
    return {"detail": "Internal Server Error", "message": "Internal Server Error", "code": "SC500"}


def render_error(error: VendorError) -> Response:
    return json_response(error.status, _envelope(error), error_headers(error))


# -- request parsing -----------------------------------------------------------------------------------------
def _values(call: Call, name: str) -> frozenset[str] | None:
    """A filter's values in every form clients send: ``x=a&x=b`` (validated by the spec), ``x[]=a&x[]=b``
    (the official SDK) and ``x[0]=a&x[1]=b`` (Make's docs), in any mix; None when it is absent."""
    values: list[str] = list(call.params.get(name) or [])
    present = name in call.params
    for key, value in call.request.query_params.multi_items():
        found = _INDEXED.fullmatch(key)
        if found and found.group(1) == name:
            present = True
            values.append(value)
    if not present:
        return None
    for value in values:
        if not value:
            raise InvalidParameter(name, "must not be empty")
        if name == "event" and value not in BY_NAME:
            raise InvalidParameter(name, f"unknown event {value!r}; the filters endpoint lists the events")
    return frozenset(values)


def _instant(call: Call, name: str, end: bool) -> int | None:
    text = call.params.get(name)
    if text is None:
        return None
    try:
        moment = parse_instant(text, call.now_ms)
    except InstantError as exc:
        raise InvalidParameter(name, str(exc)) from None
    if not end:
        return moment
    return moment + (DAY_MS if _PLAIN_DATE.fullmatch(text.strip()) else 1)  # dateTo is inclusive


def _window(call: Call, stream: OrgStream) -> Window:
    start = _instant(call, "dateFrom", end=False)
    end = _instant(call, "dateTo", end=True)
    requested = Window(0 if start is None else start, call.now_ms + 1 if end is None else end)
    return stream.visible(requested, call.now_ms)


def _stream(call: Call, org_id: str) -> OrgStream:
    stream = call.stream(org_id)
    if stream is None:
        raise NotFound("Organization not found.")
    return stream


# -- handlers ------------------------------------------------------------------------------------------------
async def get_organization_audit_logs(call: Call) -> Response:
    who = access.caller(call)
    org = access.organization(call, who, str(call.params["organizationId"]))
    access.require_org_reader(who)
    return await _list(call, _stream(call, org.id), team_id=None)


async def get_team_audit_logs(call: Call) -> Response:
    who = access.caller(call)
    team = access.team(call, who, str(call.params["teamId"]))
    access.require_team_reader(who, team)
    return await _list(call, _stream(call, who.org.id), team_id=team.id)


async def _select(stream: OrgStream, visible: Window, query: Query) -> Selection:
    """The entries a query selects, in order. A first build that must draw many entries (a year of an org
    sorted by a field other than time, or filtered) runs in a worker thread, so the server keeps answering."""
    p = ordering.plan(stream, visible, query)
    found = ordering.cached(stream, p)
    if found is not None:
        return found
    if ordering.cost(stream, p) > BIG_BUILD:
        return await anyio.to_thread.run_sync(ordering.select, stream, p)
    return ordering.select(stream, p)


async def _list(call: Call, stream: OrgStream, team_id: str | None) -> Response:
    p = call.params
    sort_by, sort_dir = p.get("pg[sortBy]", "triggeredAt"), p.get("pg[sortDir]", "desc")
    limit, offset, last = p.get("pg[limit]", DEFAULT_LIMIT), p.get("pg[offset]", 0), p.get("pg[last]")
    query = Query(teams=_values(call, "team") if team_id is None else None, events=_values(call, "event"),
                  authors=_values(call, "author"), team_id=team_id, sort_by=sort_by)
    selection = await _select(stream, _window(call, stream), query)
    after = None
    if last is not None:
        after = ordering.key_of_uuid(selection, last)
        if after is None:
            raise InvalidParameter("pg[last]", "is not the uuid of an entry of this organization")
    rows, more = selection.page(offset=offset, after=after, limit=limit, descending=sort_dir == "desc")
    pg: dict[str, Any] = {"sortBy": sort_by, "sortDir": sort_dir, "limit": limit}
    pg |= {"offset": offset} if last is None else {"last": last, "showLast": more}
    if p.get("pg[returnTotalCount]"):
        pg["totalCount"] = len(selection)
    entries = b",".join(stream.event_bytes(selection.engine_key(row)) for row in rows)
    return _answer(call, b'{"auditLogs":[' + entries + b'],"pg":' + orjson.dumps(pg) + b"}")


async def get_organization_filters(call: Call) -> Response:
    who = access.caller(call)
    org = access.organization(call, who, str(call.params["organizationId"]))
    access.require_org_reader(who)
    stream = _stream(call, org.id)
    users, teams, events = _present(await _everything(call, stream, None))
    return _answer(call, {"users": users, "teams": teams, "events": events})


async def get_team_filters(call: Call) -> Response:
    who = access.caller(call)
    team = access.team(call, who, str(call.params["teamId"]))
    access.require_team_reader(who, team)
    users, _, events = _present(await _everything(call, _stream(call, who.org.id), team.id))
    return _answer(call, {"users": users, "events": events})


async def _everything(call: Call, stream: OrgStream, team_id: str | None) -> Iterable[dict[str, Any]]:
    """Every entry the org (team) shows now, summarised: what the filters endpoints describe."""
    query = Query(team_id=team_id, sort_by="eventName")  # a sort that builds the columns summaries read
    selection = await _select(stream, stream.visible(Window(0, call.now_ms + 1), call.now_ms), query)
    return ordering.summaries(selection)


def _present(entries: Iterable[dict[str, Any]]) -> tuple[list[Any], list[Any], list[Any]]:
    users: dict[Any, dict[str, Any]] = {}
    teams: dict[Any, dict[str, Any]] = {}
    names: set[str] = set()
    for entry in entries:
        names.add(str(entry.get("eventName")))
        actor, team = entry.get("actor"), entry.get("team")
        if actor:
            users.setdefault(actor.get("id"), actor)
        if team:
            teams.setdefault(team.get("id"), team)

    def by_name(item: dict[str, Any]) -> tuple[str, str]:
        return (str(item.get("name")), str(item.get("id")))

    return sorted(users.values(), key=by_name), sorted(teams.values(), key=by_name), event_groups(names)


def _answer(call: Call, body: dict[str, Any] | bytes) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    call.remember(raw, None)  # the replay key holds the path, so /team/1 is never answered with /team/2
    return json_bytes(200, raw)


async def get_audit_log_detail(call: Call) -> Response:
    who = access.caller(call)
    org = access.organization(call, who, str(call.params["organizationId"]))
    if not who.admins_a_team:
        raise PermissionDenied(access.ORG_ROLE)
    stream = _stream(call, org.id)
    found = _find(call, stream, str(call.params["uuid"]))
    if found is None:
        raise NotFound("Audit log entry not found.")
    key, entry = found
    team = entry.get("team")
    if not (who.reads_org or (team and who.admin_of(str(team.get("id"))))):
        raise PermissionDenied(access.TEAM_ROLE)
    extra = details(stream, key[2]) if key[1] != INJECTED else {}
    return _answer(call, {**entry, "details": extra})


def _find(call: Call, stream: OrgStream, uuid: str) -> tuple[Key, dict[str, Any]] | None:
    """The org's entry ``uuid``, if it exists now (not in the future, not past retention)."""
    retained = stream.visible(Window(0, call.now_ms + 1), call.now_ms)
    index = decode_uuid(stream.key, uuid)
    if index is not None:
        key = (stream.ts(index), 0, index)
        if retained.start_ms <= key[0] < retained.end_ms and stream.visible_at(key) <= call.now_ms:
            return key, stream.event(key)
        return None
    wanted = uuid.replace("-", "").lower()
    for key in ordering.injected_keys(stream, retained):
        entry = stream.event(key)
        if str(entry.get("uuid", "")).replace("-", "").lower() == wanted:
            return key, entry
    return None


RATE_LIMIT = RateLimitPolicy(
    limit=1000, period_s=60, scope="org", per_operation=False,
    plan_limits={"core": 60, "pro": 120, "teams": 240, "enterprise": 1000},
    headers="retry-after", message="Requests limit for organization exceeded, please try again later.")
"""Documented: per organization and minute, by plan (Core 60, Pro 120, Teams 240, Enterprise 1000); the 429
message is Make's. No rate-limit headers are documented; the official SDK honours Retry-After."""

VENDOR = Vendor(
    name="make",
    title="Make",
    spec_file="make.yaml",
    auth=PrefixedToken("Token", "token"),
    retention_days=RETENTION_DAYS,
    default_events_per_day=200,
    events=make_event,
    handlers={
        "getOrganizationAuditLogs": get_organization_audit_logs,
        "getOrganizationAuditLogsFilters": get_organization_filters,
        "getTeamAuditLogs": get_team_audit_logs,
        "getTeamAuditLogsFilters": get_team_filters,
        "getAuditLogDetail": get_audit_log_detail,
    },
    render_error=render_error,
    docs="GET /audit-logs/organization/{organizationId}[/filters], GET /audit-logs/team/{teamId}[/filters], "
         "GET /audit-logs/{organizationId}/{uuid}",
    path_prefix="/api/v2",
    entry_schema="AuditLogEntry",
    timestamp_path=("triggeredAt",),
    id_path=("uuid",),
    rate_limit=RATE_LIMIT,
)
