"""Events that arrive while a client pages never shift or duplicate the pages still to come.

A client pages ``GET /api/v2/audit/events`` over a fixed window the way the official client does
(follow ``meta.page.after``, stop on an empty page or a missing cursor). Between two pages, hypothesis
injects events through the engine: behind the cursor, ahead of it, exactly on the timestamp of the
last event seen (ties), on the timestamp of an event not yet seen, exactly on ``filter[from]`` (in
the window) and on ``filter[to]`` (out of it), and outside the window. Sometimes the client sends a
page's request twice with injections in between, as a retrying client does. The cursor position is
the engine key of the last event received.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from contract_tests.behaviour._inserts import Run, inject_some
from mockserver import create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window, format_iso_ms
from mockserver.settings import Settings

NOW = "2024-05-01T12:00:00Z"
WINDOW_START, WINDOW_END = "2024-05-01T10:00:00Z", "2024-05-01T10:20:00Z"  # ~28 events of acme
MAX_REQUESTS = 5_000


def to_ms(text: str) -> int:
    return (datetime.fromisoformat(text) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def acme_headers(app: Starlette) -> dict[str, str]:
    runtime = app.state.mock.runtimes["datadog"]
    return dict(runtime.vendor.auth.headers_for(runtime.orgs["acme"].credentials[0].secrets))


def build(template: dict[str, Any], event_id: str, ts_ms: int) -> dict[str, Any]:
    return {**template, "id": event_id, "attributes": {**template["attributes"], "timestamp": format_iso_ms(ts_ms)}}


@pytest.mark.mock_only  # DESIGN.md "Stable cursors": the vendor documents nothing about inserts while paging
@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(1, 10), data=st.data())
def test_events_inserted_while_paging_never_shift_or_duplicate_pages(sort: str, limit: int,
                                                                     data: st.DataObject) -> None:
    app = create_app(Settings(now=NOW, log_level="warning"))
    stream: OrgStream = app.state.mock.runtimes["datadog"].streams["acme"]
    window = Window(to_ms(WINDOW_START), to_ms(WINDOW_END))
    assert stream.visible(window, app.state.mock.clock.now_ms()) == window, "the window must be past and retained"
    run, existing = Run.start(stream, window, lambda event: event["id"], build, descending=sort == "-timestamp")
    assert 20 <= len(existing) <= 40, f"the window holds {len(existing)} events"
    template = stream.event(next(iter(existing.values())))
    params = {"filter[from]": WINDOW_START, "filter[to]": WINDOW_END, "sort": sort, "page[limit]": str(limit)}

    with TestClient(app, base_url="http://127.0.0.1") as client:
        for _ in range(MAX_REQUESTS):
            unseen = run.unseen(existing)
            inject_some(run, data, template, unseen)
            response = client.get("/api/v2/audit/events", params=params, headers=acme_headers(app))
            if data.draw(st.integers(0, 3), label="retry this page") == 0:
                # The client lost that answer and sends the same request again (the official client retries
                # 429 and 5xx): events injected meanwhile must not be hidden by a replayed, stale answer.
                inject_some(run, data, template, unseen)
                response = client.get("/api/v2/audit/events", params=params, headers=acme_headers(app))
            assert response.status_code == 200, response.text
            body = response.json()
            page = [event["id"] for event in body["data"]]
            run.receive(page)
            cursor = body.get("meta", {}).get("page", {}).get("after")
            if not page or not cursor:
                break
            params["page[cursor]"] = cursor
        else:
            pytest.fail(f"still paging after {MAX_REQUESTS} requests")

    run.check(existing)  # every event once, in the sort order
