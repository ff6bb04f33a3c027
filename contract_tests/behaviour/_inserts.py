"""What the paging-under-inserts properties share: one client paging one fresh mock, the events the test
injects between its pages, and the verdict on what it received.

Injections go behind the cursor, ahead of it, exactly on the timestamp of the last event seen (ties), on
the timestamp of an event not yet seen, exactly on the window's start (in it) and end (out of it), and
outside the window. The cursor position is the engine key of the last event received.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from mockserver.engine.events import Key, OrgStream
from mockserver.engine.windows import Window

MAX_INJECTIONS = 12  # per example: keeps the number of pages (and the run time) bounded
MINUTE_MS = 60_000

Build = Callable[[dict[str, Any], str, int], dict[str, Any]]
"""``build(template, event_id, ts_ms)``: an entry of the vendor's shape with that id and time."""


@dataclass
class Run:
    """One client paging one fresh mock, and what the test injected along the way."""

    stream: OrgStream
    window: Window
    build: Build
    key_of: dict[str, Key]  # every event id the test knows -> its engine key
    existing: int  # how many events the window held before paging started
    descending: bool = False
    received: list[str] = field(default_factory=list)
    must_receive: set[str] = field(default_factory=set)  # injected ahead of the cursor, inside the window
    may_receive: set[str] = field(default_factory=set)  # injected anywhere inside the window

    @classmethod
    def start(cls, stream: OrgStream, window: Window, id_of: Callable[[dict[str, Any]], str], build: Build,
              descending: bool = False) -> tuple[Run, dict[str, Key]]:
        """A run over ``window``, and the events it held before paging started (id -> key)."""
        existing = {id_of(stream.event(key)): key for key in stream.keys(window)}
        return cls(stream, window, build, dict(existing), len(existing), descending), existing

    @property
    def cursor(self) -> Key | None:
        return self.key_of[self.received[-1]] if self.received else None

    def ahead(self, key: Key) -> bool:
        cursor = self.cursor
        return cursor is None or (key < cursor if self.descending else key > cursor)

    def unseen(self, existing: dict[str, Key]) -> list[int]:
        """Timestamps of the events that existed before paging and are still ahead of the cursor."""
        return sorted(key[0] for event_id, key in existing.items() if event_id not in self.received and self.ahead(key))

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Where the next injection may go: inclusive millisecond ranges, by name."""
        start, end = self.window.start_ms, self.window.end_ms
        places = {"before-window": (start - MINUTE_MS, start - 1), "after-window": (end + 1, end + MINUTE_MS),
                  "on-window-start": (start, start), "on-window-end": (end, end)}  # [start, end): in, out
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
        key = self.stream.inject(ts_ms, self.build(template, event_id, ts_ms))
        self.key_of[event_id] = key
        if self.window.start_ms <= ts_ms < self.window.end_ms:
            self.may_receive.add(event_id)
            if self.ahead(key):
                self.must_receive.add(event_id)

    def receive(self, page: list[str]) -> None:
        unknown = [event_id for event_id in page if event_id not in self.key_of]
        assert not unknown, f"events that never existed: {unknown}"
        self.received.extend(page)

    def check(self, existing: dict[str, Key]) -> None:
        """Every event once: none twice, none that existed missed, none injected ahead missed, none from
        outside the window, in the run's order."""
        counts = Counter(self.received)
        twice = sorted(event_id for event_id, n in counts.items() if n > 1)
        assert not twice, "events received more than once"
        never = sorted(set(existing) - set(counts))
        assert not never, "events that existed before paging started were not received"
        missed = sorted(self.must_receive - set(counts))
        assert not missed, "events inserted ahead of the cursor were not received"
        stray = sorted(set(counts) - set(existing) - self.may_receive)
        assert not stray, "events from outside the window were received"
        keys = [self.key_of[event_id] for event_id in self.received]
        assert keys == sorted(keys, reverse=self.descending), "pages are not in the run's order"


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
