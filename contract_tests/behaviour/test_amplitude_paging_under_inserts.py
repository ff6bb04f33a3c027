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
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.engine.events import Key, OrgStream
from mockserver.engine.windows import Window, format_iso_ms, parse_instant
from mockserver.settings import Settings

NOW = "2024-05-01T12:00:00Z"
WINDOW_START, WINDOW_END = "2024-05-01T06:00:00Z", "2024-05-01T08:00:00Z"  # ~25 events of org 76273
PATH = "/api/2/audit-logs/76273"
MAX_REQUESTS = 5_000
MAX_INJECTIONS = 12
MINUTE_MS = 60_000
HEADERS = {"Authorization": "Basic " + base64.b64encode(
    b"6b26fdd45f52e473f14661a2993af27e:1d92a1e47bd65b82225760e47ed4bd76").decode()}


@dataclass
class Run:
    stream: OrgStream
    window: Window
    key_of: dict[str, Key]
    existing: int
    received: list[str] = field(default_factory=list)
    must_receive: set[str] = field(default_factory=set)  # injected ahead of the cursor, inside the window
    may_receive: set[str] = field(default_factory=set)  # injected anywhere inside the window

    @property
    def cursor(self) -> Key | None:
        return self.key_of[self.received[-1]] if self.received else None

    def ahead(self, key: Key) -> bool:
        return self.cursor is None or key > self.cursor

    def ranges(self) -> dict[str, tuple[int, int]]:
        start, end = self.window.start_ms, self.window.end_ms
        places = {"before-window": (start - MINUTE_MS, start - 1), "after-window": (end + 1, end + MINUTE_MS),
                  "on-start-date": (start, start), "on-end-date": (end, end)}  # [start, end): in, out
        cursor = self.cursor
        if cursor is None:
            return places | {"ahead": (start, end - 1)}
        ts = cursor[0]
        places |= {"tie-with-last-seen": (ts, ts), "ahead": (ts + 1, end - 1), "behind": (start, ts - 1)}
        return {name: (lo, hi) for name, (lo, hi) in places.items() if lo <= hi}

    def inject(self, ts_ms: int, template: dict[str, Any]) -> None:
        uuid = f"injected-{len(self.key_of):05d}"
        key = self.stream.inject(ts_ms, {**template, "uuid": uuid, "timestamp": format_iso_ms(ts_ms)})
        self.key_of[uuid] = key
        if self.window.start_ms <= ts_ms < self.window.end_ms:
            self.may_receive.add(uuid)
            if self.ahead(key):
                self.must_receive.add(uuid)


def inject_some(run: Run, data: st.DataObject, template: dict[str, Any], unseen: list[int]) -> None:
    room = MAX_INJECTIONS - (len(run.key_of) - run.existing)
    for _ in range(data.draw(st.integers(0, min(2, room)), label="injections before this page")):
        places: dict[str, st.SearchStrategy[int]] = {
            name: st.integers(lo, hi) for name, (lo, hi) in run.ranges().items()}
        if unseen:
            places["tie-with-unseen"] = st.sampled_from(unseen)
        place = data.draw(st.sampled_from(sorted(places)), label="place")
        run.inject(data.draw(places[place], label=f"timestamp ({place})"), template)


@pytest.mark.mock_only  # our paging design: Amplitude documents no next page, let alone inserts while paging
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(1, 10), data=st.data())
def test_events_inserted_while_paging_never_shift_or_duplicate_pages(limit: int, data: st.DataObject) -> None:
    app = create_app(Settings(now=NOW, log_level="warning", rate_limits=False))
    stream: OrgStream = app.state.mock.runtimes["amplitude"].streams["76273"]
    window = Window(parse_instant(WINDOW_START, 0), parse_instant(WINDOW_END, 0))
    existing = {stream.event(key)["uuid"]: key for key in stream.keys(window)}
    assert 15 <= len(existing) <= 40, f"the window holds {len(existing)} events"
    run = Run(stream, window, key_of=dict(existing), existing=len(existing))
    template = stream.event(next(iter(existing.values())))
    request: dict[str, Any] = {"start_date": WINDOW_START, "end_date": WINDOW_END, "pagination": {"limit": limit}}

    with TestClient(app, base_url="http://127.0.0.1") as client:
        for _ in range(MAX_REQUESTS):
            unseen = sorted(key[0] for uuid, key in existing.items() if uuid not in run.received and run.ahead(key))
            inject_some(run, data, template, unseen)
            answer = client.post(PATH, json=request, headers=HEADERS)
            if data.draw(st.integers(0, 3), label="retry this page") == 0:
                inject_some(run, data, template, unseen)  # the answer was lost: the same request again
                answer = client.post(PATH, json=request, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            uuids = [entry["uuid"] for entry in page["data"]]
            assert not [u for u in uuids if u not in run.key_of], "events that never existed"
            run.received.extend(uuids)
            cursor = page["pagination"]["next_cursor"]
            if cursor is None:
                break
            request["pagination"]["cursor"] = cursor
        else:
            pytest.fail(f"still paging after {MAX_REQUESTS} requests")

    counts = Counter(run.received)
    assert not [u for u, n in counts.items() if n > 1], "events received more than once"
    assert not set(existing) - set(counts), "events that existed before paging started were not received"
    assert not run.must_receive - set(counts), "events inserted ahead of the cursor were not received"
    assert not set(counts) - set(existing) - run.may_receive, "events from outside the window were received"
    stamps = [run.key_of[uuid] for uuid in run.received]
    assert stamps == sorted(stamps), "pages are not oldest first"
