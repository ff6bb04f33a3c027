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

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.engine.events import Key, OrgStream
from mockserver.engine.windows import Window, format_iso_ms
from mockserver.settings import Settings

NOW = "2024-05-01T12:00:00Z"
WINDOW_START, WINDOW_END = "2024-05-01T10:00:00Z", "2024-05-01T10:20:00Z"  # ~28 events of acme
MAX_REQUESTS = 5_000
MAX_INJECTIONS = 12  # per example: keeps the number of pages (and the run time) bounded
MINUTE_MS = 60_000


def to_ms(text: str) -> int:
    return (datetime.fromisoformat(text) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def acme_headers(app: Starlette) -> dict[str, str]:
    runtime = app.state.mock.runtimes["datadog"]
    return dict(runtime.vendor.auth.headers_for(runtime.orgs["acme"].credentials[0].secrets))


@dataclass
class Run:
    """One client paging one fresh mock, and what the test injected along the way."""

    stream: OrgStream
    window: Window
    descending: bool
    key_of: dict[str, Key]  # every event id the test knows -> its engine key
    existing: int  # how many events the window held before paging started
    received: list[str] = field(default_factory=list)
    must_receive: set[str] = field(default_factory=set)  # injected ahead of the cursor, inside the window
    may_receive: set[str] = field(default_factory=set)  # injected anywhere inside the window

    @property
    def cursor(self) -> Key | None:
        return self.key_of[self.received[-1]] if self.received else None

    def ahead(self, key: Key) -> bool:
        cursor = self.cursor
        return cursor is None or (key < cursor if self.descending else key > cursor)

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Where the next injection may go: inclusive millisecond ranges, by name."""
        start, end = self.window.start_ms, self.window.end_ms
        places = {"before-window": (start - MINUTE_MS, start - 1), "after-window": (end + 1, end + MINUTE_MS),
                  "on-filter-from": (start, start), "on-filter-to": (end, end)}  # [from, to): in, out
        cursor = self.cursor
        if cursor is None:
            return places | {"ahead": (start, end - 1)}
        ts = cursor[0]
        earlier, later = (start, ts - 1), (ts + 1, end - 1)
        places |= {"tie-with-last-seen": (ts, ts), "ahead": earlier if self.descending else later,
                   "behind": later if self.descending else earlier}
        return {name: (lo, hi) for name, (lo, hi) in places.items() if lo <= hi}

    def inject(self, ts_ms: int, template: dict[str, Any]) -> None:
        event_id = f"injected-{len(self.key_of):05d}"
        attributes = {**template["attributes"], "timestamp": format_iso_ms(ts_ms)}
        event = {**template, "id": event_id, "attributes": attributes}
        key = self.stream.inject(ts_ms, event)
        self.key_of[event_id] = key
        if self.window.start_ms <= ts_ms < self.window.end_ms:
            self.may_receive.add(event_id)
            if self.ahead(key):
                self.must_receive.add(event_id)


def inject_some(run: Run, data: st.DataObject, template: dict[str, Any], unseen: list[int]) -> None:
    """A few events, each behind, ahead, on the cursor's timestamp, on an unseen event's, or outside."""
    room = MAX_INJECTIONS - (len(run.key_of) - run.existing)
    for _ in range(data.draw(st.integers(0, min(2, room)), label="injections before this page")):
        places: dict[str, st.SearchStrategy[int]] = {
            name: st.integers(lo, hi) for name, (lo, hi) in run.ranges().items()}
        if unseen:
            places["tie-with-unseen"] = st.sampled_from(unseen)
        place = data.draw(st.sampled_from(sorted(places)), label="place")
        run.inject(data.draw(places[place], label=f"timestamp ({place})"), template)


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
    existing = {stream.event(key)["id"]: key for key in stream.keys(window)}
    assert 20 <= len(existing) <= 40, f"the window holds {len(existing)} events"
    run = Run(stream, window, sort == "-timestamp", key_of=dict(existing), existing=len(existing))
    template = stream.event(next(iter(existing.values())))
    params = {"filter[from]": WINDOW_START, "filter[to]": WINDOW_END, "sort": sort, "page[limit]": str(limit)}

    with TestClient(app, base_url="http://127.0.0.1") as client:
        for _ in range(MAX_REQUESTS):
            unseen = sorted(key[0] for event_id, key in existing.items()
                            if event_id not in run.received and run.ahead(key))
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
            unknown = [event_id for event_id in page if event_id not in run.key_of]
            assert not unknown, f"events that never existed: {unknown}"
            run.received.extend(page)
            cursor = body.get("meta", {}).get("page", {}).get("after")
            if not page or not cursor:
                break
            params["page[cursor]"] = cursor
        else:
            pytest.fail(f"still paging after {MAX_REQUESTS} requests")

    counts = Counter(run.received)
    twice = sorted(event_id for event_id, n in counts.items() if n > 1)
    assert not twice, "events received more than once"
    never = sorted(set(existing) - set(counts))
    assert not never, "events that existed before paging started were not received"
    missed = sorted(run.must_receive - set(counts))
    assert not missed, "events inserted ahead of the cursor were not received"
    stray = sorted(set(counts) - set(existing) - run.may_receive)
    assert not stray, "events from outside the window were received"
    stamps = [run.key_of[event_id][0] for event_id in run.received]
    assert stamps == sorted(stamps, reverse=run.descending), f"pages are not in {sort} order"
