"""The control API's data routes: the ground truth of events (``GET /_mock/events``), injected events
(``POST /_mock/events``) and the request journal (``GET /_mock/requests``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mockserver.control import ControlApi, instant, invalid
from mockserver.engine.events import OrgStream, read_page
from mockserver.engine.render import json_bytes, json_response
from mockserver.engine.spec import component_validator
from mockserver.engine.vendor import VendorRuntime
from mockserver.engine.windows import InstantError, Window, format_iso_ms, parse_instant

if TYPE_CHECKING:
    from mockserver.app import MockServer


def _runtime(server: MockServer, vendor: str, name: str = "vendor") -> VendorRuntime:
    runtime = server.runtimes.get(vendor)
    if runtime is None:
        raise invalid(f"{name}: unknown vendor {vendor!r} (known: {', '.join(sorted(server.runtimes))})")
    return runtime


def _stream(runtime: VendorRuntime, org: str, name: str = "org") -> OrgStream:
    stream = runtime.streams.get(org)
    if stream is None:
        known = ", ".join(runtime.streams) or "none"
        raise invalid(f"{name}: {runtime.vendor.name} has no org {org!r} in the world (known: {known})")
    return stream


def _entry_time(entry: Mapping[str, Any], path: tuple[str, ...], where: str, now_ms: int) -> int:
    node: Any = entry
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    field = ".".join((where, *path))
    if not isinstance(node, str) or node.strip().startswith("now") or node.strip().lstrip("-").isdigit():
        raise invalid(f"{field}: must be an ISO 8601 date-time string")
    try:
        return parse_instant(node, now_ms)
    except InstantError as exc:
        raise invalid(f"{field}: {exc}") from None


def add_data_routes(server: MockServer, api: ControlApi) -> None:
    async def ground_truth(request: Request, params: Any, body: Any) -> Response:
        runtime = _runtime(server, params["vendor"])
        stream = _stream(runtime, params["org"])
        now = server.clock.now_ms()
        start = instant(params["from"], "from", now) if "from" in params else now - stream.retention_ms
        end = instant(params.get("to", "now"), "to", now)
        window = Window(start, end)
        visible = stream.visible(window, now)
        happened = Window(visible.start_ms, visible.end_ms)  # the same window, ignoring ingestion
        count = stream.count(visible)
        limit = params.get("limit", 10_000)
        page = read_page(stream, visible, after=None, descending=params.get("order") == "desc", limit=limit)
        head = orjson.dumps({
            "vendor": runtime.vendor.name, "org": stream.org.id, "from": format_iso_ms(max(start, 0)),
            "to": format_iso_ms(max(end, 0)), "now": format_iso_ms(now), "count": count,
            "pending": stream.count(happened) - count, "returned": len(page.events),
            "truncated": count > len(page.events)})
        return json_bytes(200, head[:-1] + b',"events":[' + b",".join(page.events) + b"]}")

    async def inject(request: Request, params: Any, body: Any) -> Response:
        runtime = _runtime(server, body["vendor"])
        stream = _stream(runtime, body["org"])
        vendor = runtime.vendor
        if not vendor.entry_schema or not vendor.timestamp_path:
            raise invalid(f"vendor: {vendor.name} does not accept injected events")
        validator = runtime.state.get("entry_validator")
        if validator is None:
            validator = runtime.state["entry_validator"] = component_validator(runtime.spec, vendor.entry_schema)
        now = server.clock.now_ms()
        timed = []
        for n, entry in enumerate(body["events"]):
            where = f"events[{n}]"
            for error in validator.iter_errors(entry):
                field = ".".join(str(part) for part in (where, *error.instance_path))
                raise invalid(f"{field}: {error.message} (the {vendor.title} entry schema "
                              f"{vendor.entry_schema} in {runtime.spec.path.name})")
            ts = _entry_time(entry, vendor.timestamp_path, where, now)
            if ts < now - stream.retention_ms:
                raise invalid(f"{'.'.join((where, *vendor.timestamp_path))}: older than {vendor.title}'s "
                              f"{stream.retention_ms // 86_400_000}-day retention; it would never be visible")
            timed.append((ts, entry))
        for ts, entry in timed:
            stream.inject(ts, entry)
        return json_response(201, {"vendor": vendor.name, "org": stream.org.id, "inserted": len(timed)})

    async def requests(request: Request, params: Any, body: Any) -> Response:
        now = server.clock.now_ms()
        since = instant(params["since"], "since", now) if "since" in params else None
        vendor, operation, status = params.get("vendor"), params.get("operation"), params.get("status")
        entries = [entry for entry in server.journal
                   if (vendor is None or entry.vendor == vendor) and (operation is None or entry.operation == operation)
                   and (status is None or entry.status == status) and (since is None or entry.time_ms >= since)]
        entries = entries[-params.get("limit", 1000):]
        return json_response(200, {"count": len(entries), "kept": len(server.journal),
                                   "capacity": server.journal.capacity,
                                   "entries": [entry.as_dict() for entry in entries]})

    api.add("GetEvents", ground_truth)
    api.add("InjectEvents", inject)
    api.add("GetRequests", requests)
