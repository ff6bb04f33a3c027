"""Events that arrive while a client pages Amplitude's audit log never shift or duplicate later pages.

A client pages ``POST /api/2/audit-logs/{ORG_ID}`` over a fixed window with ``pagination.cursor``
(our design: Amplitude documents no next page). Between two pages hypothesis injects events through the
engine: behind the cursor, ahead of it, exactly on the timestamp of the last event seen (ties), on the
timestamp of an event not yet seen, exactly on ``start_date`` (in the window) and on ``end_date`` (out of
it), and outside the window. Sometimes a page's request is sent twice with injections in between, as a
retrying client does. The cursor position is the engine key of the last event received.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from contract_tests.behaviour._inserts import Run, inject_some
from mockserver import create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window, format_iso_ms, parse_instant
from mockserver.settings import Settings

NOW = "2024-05-01T12:00:00Z"
WINDOW_START, WINDOW_END = "2024-05-01T06:00:00Z", "2024-05-01T08:00:00Z"  # ~25 events of org 76273
PATH = "/api/2/audit-logs/76273"
MAX_REQUESTS = 5_000
HEADERS = {"Authorization": "Basic " + base64.b64encode(
    b"6b26fdd45f52e473f14661a2993af27e:1d92a1e47bd65b82225760e47ed4bd76").decode()}


def build(template: dict[str, Any], uuid: str, ts_ms: int) -> dict[str, Any]:
    return {**template, "uuid": uuid, "timestamp": format_iso_ms(ts_ms)}


@pytest.mark.mock_only  # our paging design: Amplitude documents no next page, let alone inserts while paging
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(1, 10), data=st.data())
def test_events_inserted_while_paging_never_shift_or_duplicate_pages(limit: int, data: st.DataObject) -> None:
    app = create_app(Settings(now=NOW, log_level="warning", rate_limits=False))
    stream: OrgStream = app.state.mock.runtimes["amplitude"].streams["76273"]
    window = Window(parse_instant(WINDOW_START, 0), parse_instant(WINDOW_END, 0))
    run, existing = Run.start(stream, window, lambda entry: entry["uuid"], build)
    assert 15 <= len(existing) <= 40, f"the window holds {len(existing)} events"
    template = stream.event(next(iter(existing.values())))
    request: dict[str, Any] = {"start_date": WINDOW_START, "end_date": WINDOW_END, "pagination": {"limit": limit}}

    with TestClient(app, base_url="http://127.0.0.1") as client:
        for _ in range(MAX_REQUESTS):
            unseen = run.unseen(existing)
            inject_some(run, data, template, unseen)
            answer = client.post(PATH, json=request, headers=HEADERS)
            if data.draw(st.integers(0, 3), label="retry this page") == 0:
                inject_some(run, data, template, unseen)  # the answer was lost: the same request again
                answer = client.post(PATH, json=request, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            run.receive([entry["uuid"] for entry in page["data"]])
            cursor = page["pagination"]["next_cursor"]
            if cursor is None:
                break
            request["pagination"]["cursor"] = cursor
        else:
            pytest.fail(f"still paging after {MAX_REQUESTS} requests")

    run.check(existing)  # every event once, oldest first
