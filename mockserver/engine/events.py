"""The deterministic, lazy event corpus.

Each (vendor, org) has a stream of generated events. Event ``i`` happens at ``ts(i)`` inside the
``i``-th slice of the day's timeline (``events_per_day`` slices a day, counted from the Unix epoch), so
timestamps strictly increase with ``i`` and the events of any window are found by arithmetic, not
by a scan. The event itself is a pure function of (seed, vendor, org, i), built by the vendor's
factory on demand, so a 10-million-event corpus costs no memory until a page shows it. Which events
exist is decided by the clock alone: an event is visible when ``ts(i) <= now`` and it is within the
vendor's retention, so time moving forward makes new events arrive.

Events injected through the engine live beside the generated ones. Every event has a sort key
``(ts_ms, source, seq)``: source 0 for generated events (seq = i), 1 for injected ones (seq = the
insertion number). Keyset cursors carry such a key, so inserts never shift later pages.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import orjson

from mockserver.engine.cache import ByteCache
from mockserver.engine.clock import Clock
from mockserver.engine.live import Live
from mockserver.engine.rng import Rng, mix64, stable_key
from mockserver.engine.staff import Staff, make_staff
from mockserver.engine.windows import DAY_MS, Window
from mockserver.engine.world import Org

Key = tuple[int, int, int]

GENERATED, INJECTED = 0, 1
MAX_EVENTS_PER_DAY = DAY_MS  # one event per millisecond keeps timestamps strictly increasing


class EventFactory(Protocol):
    """A vendor's recipe: the event shown for index ``index`` at ``ts_ms`` (draw only from ``rng``)."""

    def __call__(self, stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]: ...


class EventRenderer(Protocol):
    """Optional fast path: the same event as JSON bytes, equal to ``orjson.dumps(factory(...))``."""

    def __call__(self, stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> bytes: ...


@dataclass(slots=True)
class _Injected:
    keys: list[Key]
    events: dict[int, bytes]


class OrgStream:
    """The events of one org of one vendor."""

    def __init__(self, corpus: Corpus, number: int, org: Org, events_per_day: int, factory: EventFactory,
                 retention_days: int, renderer: EventRenderer | None = None) -> None:
        if not 1 <= events_per_day <= MAX_EVENTS_PER_DAY:
            raise ValueError(f"events_per_day must be between 1 and {MAX_EVENTS_PER_DAY}")
        self.corpus = corpus
        self.number = number
        self.org = org
        self.events_per_day = events_per_day
        self.factory = factory
        self.renderer = renderer
        self.retention_ms = retention_days * DAY_MS
        self.key = stable_key(corpus.seed, org.vendor, org.id)
        self.memo: dict[str, Any] = {}  # per-org values a vendor factory precomputes once
        self._injected = _Injected(keys=[], events={})
        self.version = 0
        """Bumped whenever the stream's content changes other than by the clock (injections, reset)."""
        self.live = Live()
        """When generated events become visible (ingestion lag, jitter, out of order)."""

    @cached_property
    def staff(self) -> Staff:
        return make_staff(self.corpus.seed, self.org)

    # -- time <-> index arithmetic -------------------------------------------------------------------
    def ts(self, index: int) -> int:
        e = self.events_per_day
        base = index * DAY_MS // e
        width = (index + 1) * DAY_MS // e - base
        return base + mix64(self.key ^ index) % width

    def first_index_at_or_after(self, ms: int) -> int:
        index = max(0, ms * self.events_per_day // DAY_MS - 1)
        while self.ts(index) < ms:
            index += 1
        return index

    def visible(self, window: Window, now_ms: int) -> Window:
        """``window`` clipped to what exists at ``now_ms``: retention behind, the present ahead. Injected
        events are visible once the clock reaches their time; generated ones after their ingestion delay
        (``live``), so with a lag the generated part ends earlier, and with jitter or out-of-order
        arrival the window carries ``as_of_ms`` and its most recent events are checked one by one."""
        start = max(window.start_ms, now_ms - self.retention_ms, 0)
        end = min(window.end_ms, now_ms + 1)
        return Window(start, end, now_ms if self.live.max_delay_ms else None)

    def visible_at(self, key: Key) -> int:
        """When the event of ``key`` becomes visible to clients."""
        ts, source, seq = key
        return ts if source == INJECTED else ts + self.live.delay_ms(self.key, seq)

    def settled(self, window: Window, now_ms: int) -> bool:
        """Whether no event can still appear in ``window`` as the clock moves on from ``now_ms``."""
        return window.end_ms + self.live.max_delay_ms <= now_ms + 1

    # -- keys ------------------------------------------------------------------------------------------
    def keys(self, window: Window, after: Key | None = None, descending: bool = False) -> Iterator[Key]:
        """Keys in ``window`` (already clipped by the caller), in order, strictly after ``after``."""
        generated = self._generated_keys(window, after, descending)
        if window.as_of_ms is not None:
            generated = self._arrived(generated, window.as_of_ms)
        if not self._injected.keys:
            return generated
        return heapq.merge(generated, self._injected_keys(window, after, descending), reverse=descending)

    def _generated_keys(self, window: Window, after: Key | None, descending: bool) -> Iterator[Key]:
        if window.empty:
            return
        ts = self.ts
        if not descending:
            i = self.first_index_at_or_after(window.start_ms)
            if after is not None:
                i = max(i, self.first_index_at_or_after(after[0]))
                while (ts(i), GENERATED, i) <= after:
                    i += 1
            end = window.end_ms
            while (t := ts(i)) < end:
                yield (t, GENERATED, i)
                i += 1
        else:
            i = self.first_index_at_or_after(window.end_ms) - 1
            if after is not None:
                i = min(i, self.first_index_at_or_after(after[0] + 1) - 1)
                while i >= 0 and (ts(i), GENERATED, i) >= after:
                    i -= 1
            start = window.start_ms
            while i >= 0 and (t := ts(i)) >= start:
                yield (t, GENERATED, i)
                i -= 1

    def _arrived(self, keys: Iterator[Key], as_of_ms: int) -> Iterator[Key]:
        """``keys`` without the generated events still in ingestion at ``as_of_ms``."""
        settled_before = as_of_ms - self.live.max_delay_ms  # every event up to here has arrived
        not_before = as_of_ms - self.live.lag_ms  # no event after here has
        delay, stream_key = self.live.delay_ms, self.key
        for key in keys:
            ts = key[0]
            if ts <= settled_before or (ts <= not_before and ts + delay(stream_key, key[2]) <= as_of_ms):
                yield key

    def injected_keys(self, window: Window) -> Iterator[Key]:
        """Keys of the injected events in ``window``, oldest first."""
        return self._injected_keys(window, None, False)

    def _injected_keys(self, window: Window, after: Key | None, descending: bool) -> Iterator[Key]:
        keys = self._injected.keys
        lo = bisect.bisect_left(keys, (window.start_ms, -1, -1))
        hi = bisect.bisect_left(keys, (window.end_ms, -1, -1))
        if after is not None:
            if descending:
                hi = min(hi, bisect.bisect_left(keys, after))
            else:
                lo = max(lo, bisect.bisect_right(keys, after))
        selected = keys[lo:hi]
        return reversed(selected) if descending else iter(selected)

    def count(self, window: Window) -> int:
        if window.empty:
            return 0
        generated = self.first_index_at_or_after(window.end_ms) - self.first_index_at_or_after(window.start_ms)
        if window.as_of_ms is not None:  # minus the generated events still in ingestion
            frontier = Window(max(window.start_ms, window.as_of_ms - self.live.max_delay_ms + 1), window.end_ms)
            in_flight = self._generated_keys(frontier, None, False)
            generated -= sum(1 for key in in_flight if self.visible_at(key) > window.as_of_ms)
        keys = self._injected.keys
        injected = bisect.bisect_left(keys, (window.end_ms, -1, -1)) - bisect.bisect_left(
            keys, (window.start_ms, -1, -1))
        return generated + injected

    # -- events ----------------------------------------------------------------------------------------
    def event_bytes(self, key: Key) -> bytes:
        ts, source, seq = key
        if source == INJECTED:
            return self._injected.events[seq]
        cache_key = (self.number, seq)
        cache = self.corpus.cache
        cached = cache.get(cache_key)
        if cached is None:
            rng = Rng(mix64(self.key + seq))
            if self.renderer is not None:
                cached = self.renderer(self, seq, ts, rng)
            else:
                # orjson returns its 4 KiB working buffer; an exact copy keeps a cached event at its real size
                cached = memoryview(orjson.dumps(self.factory(self, seq, ts, rng))).tobytes()
            cache.put(cache_key, cached)
        return cached

    def event(self, key: Key) -> dict[str, Any]:
        """The event as a client sees it (decoded from the served bytes)."""
        decoded: dict[str, Any] = orjson.loads(self.event_bytes(key))
        return decoded

    def event_dict(self, key: Key) -> dict[str, Any]:
        """The event as a fresh dict, without touching the cache: for scans that only look."""
        ts, source, seq = key
        cached = self.corpus.cache.get((self.number, seq)) if source == GENERATED else None
        if source == INJECTED or cached is not None:
            return self.event(key)
        if self.renderer is not None:  # parsing the fast path's bytes beats building the dict in Python
            decoded: dict[str, Any] = orjson.loads(self.renderer(self, seq, ts, Rng(mix64(self.key + seq))))
            return decoded
        return self.factory(self, seq, ts, Rng(mix64(self.key + seq)))

    def inject(self, ts_ms: int, event: Mapping[str, Any]) -> Key:
        seq = self.corpus.next_injection()
        key = (ts_ms, INJECTED, seq)
        bisect.insort(self._injected.keys, key)
        self._injected.events[seq] = memoryview(orjson.dumps(event)).tobytes()
        self.version += 1
        return key

    def clear_injected(self) -> None:
        self._injected = _Injected(keys=[], events={})
        self.version += 1


def _answer_size(answer: tuple[bytes, int]) -> int:
    return len(answer[0])


class Corpus:
    """Every org stream of every vendor, one seed, one clock, one bounded cache."""

    def __init__(self, seed: int, clock: Clock, cache_mb: int = 48) -> None:
        self.seed = seed
        self.clock = clock
        budget = cache_mb * 1024 * 1024
        self.cache: ByteCache[tuple[int, int], bytes] = ByteCache(budget * 5 // 8)
        """Rendered generated events, by (stream number, index)."""
        self.answers: ByteCache[tuple[Any, ...], tuple[bytes, int]] = ByteCache(budget * 3 // 8, _answer_size)
        """Whole answers (body, valid until epoch ms), replayed to identical requests (see pipeline)."""
        self._streams: dict[tuple[str, str], OrgStream] = {}
        self._injections = 0

    def add(self, org: Org, events_per_day: int, factory: EventFactory, retention_days: int,
            renderer: EventRenderer | None = None) -> OrgStream:
        stream = OrgStream(self, len(self._streams), org, events_per_day, factory, retention_days, renderer)
        self._streams[(org.vendor, org.id)] = stream
        return stream

    def stream(self, vendor: str, org_id: str) -> OrgStream | None:
        return self._streams.get((vendor, org_id))

    def streams(self) -> list[OrgStream]:
        return list(self._streams.values())

    def next_injection(self) -> int:
        self._injections += 1
        return self._injections

    def reset(self) -> None:
        for stream in self._streams.values():
            stream.clear_injected()
        self._injections = 0


Predicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Page:
    keys: list[Key]
    events: list[bytes]
    scanned: int
    resume_after: Key | None
    """Where the next page starts: the last event shown, or the last event examined when the scan
    budget ran out first (then ``exhausted`` is True and the page may be short, even empty)."""
    exhausted: bool = False

    @property
    def last_key(self) -> Key | None:
        return self.keys[-1] if self.keys else None


DEFAULT_SCAN_BUDGET = 500_000


def read_page(stream: OrgStream, window: Window, *, after: Key | None, descending: bool, limit: int,
              predicate: Predicate | None = None, scan_budget: int = DEFAULT_SCAN_BUDGET) -> Page:
    """Up to ``limit`` events of ``window`` after ``after`` that satisfy ``predicate``, in order.

    A filtered scan examines at most ``scan_budget`` events (a query that matches nothing in a large
    window would otherwise hold the server for minutes); the page then says where to resume.
    """
    keys: list[Key] = []
    events: list[bytes] = []
    scanned = 0
    last: Key | None = after
    if predicate is None:
        event_bytes = stream.event_bytes
        for key in itertools.islice(stream.keys(window, after, descending), limit):
            keys.append(key)
            events.append(event_bytes(key))
        return Page(keys=keys, events=events, scanned=len(keys), resume_after=keys[-1] if keys else after)
    for key in stream.keys(window, after, descending):
        scanned += 1
        last = key
        # Match on the event itself; only matches are serialised and cached, so a scan does not evict
        # the pages clients are reading.
        if predicate(stream.event_dict(key)):
            keys.append(key)
            events.append(stream.event_bytes(key))
            if len(keys) >= limit:
                break
        if scanned >= scan_budget:
            return Page(keys=keys, events=events, scanned=scanned, resume_after=last, exhausted=True)
    return Page(keys=keys, events=events, scanned=scanned, resume_after=keys[-1] if keys else last)
