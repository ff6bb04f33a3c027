"""The corpus: event i is a pure function of (seed, vendor, org, i); windows are found by arithmetic."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.engine.clock import Clock
from mockserver.engine.events import GENERATED, INJECTED, Corpus, OrgStream, read_page
from mockserver.engine.rng import Rng
from mockserver.engine.windows import DAY_MS, Window
from mockserver.engine.world import Org

NOW = 1_714_564_800_000  # 2024-05-01T12:00:00Z


def org(org_id: str = "acme", vendor: str = "testvendor") -> Org:
    return Org(vendor=vendor, id=org_id, name=org_id.title(), domain=f"{org_id}.example", plan=None,
               events_per_day=None, staff=5, users=(), teams=(), credentials=(), extra={})


def factory(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    return {"id": f"{stream.org.id}-{index}", "ts": ts_ms, "draw": rng.next()}


def make_stream(seed: int = 1, per_day: int = 2_000, org_id: str = "acme", cache_mb: int = 4) -> OrgStream:
    corpus = Corpus(seed=seed, clock=Clock(frozen_at_ms=NOW), cache_mb=cache_mb)
    return corpus.add(org(org_id), per_day, factory, retention_days=90)


def brute_force(stream: OrgStream, window: Window) -> list[int]:
    lo = max(0, window.start_ms * stream.events_per_day // DAY_MS - 2)
    hi = window.end_ms * stream.events_per_day // DAY_MS + 2
    return [i for i in range(lo, hi + 1) if window.start_ms <= stream.ts(i) < window.end_ms]


def test_timestamps_strictly_increase_with_index() -> None:
    stream = make_stream(per_day=86_400_000)  # one event per millisecond: the densest allowed
    stamps = [stream.ts(i) for i in range(10_000_000, 10_002_000)]
    assert all(a < b for a, b in itertools.pairwise(stamps))


@settings(max_examples=100)
@given(start=st.integers(0, 2 * 10**12), width=st.integers(0, 3 * 3_600_000), per_day=st.integers(1, 60_000))
def test_window_keys_equal_brute_force(start: int, width: int, per_day: int) -> None:
    stream = make_stream(per_day=per_day)
    window = Window(start, start + width)
    expected = brute_force(stream, window)
    assert [seq for _, _, seq in stream.keys(window)] == expected
    assert [seq for _, _, seq in stream.keys(window, descending=True)] == expected[::-1]
    assert stream.count(window) == len(expected)


@settings(max_examples=100)
@given(start=st.integers(10**12, 2 * 10**12), cut=st.integers(0, 200), descending=st.booleans())
def test_keys_after_a_key_continue_exactly_where_it_stopped(start: int, cut: int, descending: bool) -> None:
    stream = make_stream(per_day=50_000)
    window = Window(start, start + 3_600_000)
    everything = list(stream.keys(window, descending=descending))
    if cut >= len(everything):
        return
    rest = list(stream.keys(window, after=everything[cut], descending=descending))
    assert rest == everything[cut + 1 :]


def test_event_depends_only_on_seed_vendor_org_and_index() -> None:
    a, b = make_stream(seed=7), make_stream(seed=7)
    key = next(a.keys(Window(NOW - 3_600_000, NOW)))
    # b renders a later event first: the order of reads must not matter
    later = list(b.keys(Window(NOW - 60_000, NOW)))
    b.event_bytes(later[-1])
    assert a.event_bytes(key) == b.event_bytes(key)
    assert make_stream(seed=8).event(key) != a.event(key)
    assert make_stream(seed=7, org_id="globex").event(key) != a.event(key)


def test_visible_window_is_clipped_by_retention_and_the_present() -> None:
    stream = make_stream()
    window = stream.visible(Window(0, NOW + DAY_MS), NOW)
    assert window == Window(NOW - 90 * DAY_MS, NOW + 1)


def test_the_cache_stays_within_its_byte_budget() -> None:
    stream = make_stream(per_day=200_000, cache_mb=1)
    for key in stream.keys(Window(NOW - DAY_MS, NOW)):
        stream.event_bytes(key)
    cache = stream.corpus.cache
    assert 0 < cache.used <= cache.max_bytes == 1024 * 1024 * 5 // 8
    assert len(cache) < 200_000


def test_read_page_filters_and_stops_at_the_limit() -> None:
    stream = make_stream(per_day=20_000)
    window = Window(NOW - 3_600_000, NOW)
    page = read_page(stream, window, after=None, descending=False, limit=7,
                     predicate=lambda event: event["draw"] % 2 == 0)
    assert len(page.keys) == 7
    assert all(orjson.loads(raw)["draw"] % 2 == 0 for raw in page.events)
    everything = [k for k in stream.keys(window) if stream.event(k)["draw"] % 2 == 0]
    assert page.keys == everything[:7]


def test_injected_events_merge_in_key_order_and_are_counted() -> None:
    stream = make_stream(per_day=1_000)
    window = Window(NOW - 3_600_000, NOW)
    generated = list(stream.keys(window))
    tie = generated[3][0]
    k1 = stream.inject(tie, {"id": "tie"})
    k2 = stream.inject(NOW - 1_000, {"id": "late"})
    merged = list(stream.keys(window))
    assert merged == sorted([*generated, k1, k2])
    assert merged.index(k1) == 4  # after the generated event with the same timestamp
    assert k1[1] == INJECTED and generated[0][1] == GENERATED
    assert stream.count(window) == len(generated) + 2
    assert stream.event(k1) == {"id": "tie"}
    assert list(stream.keys(window, descending=True)) == merged[::-1]


def test_injection_before_a_cursor_does_not_shift_what_follows_it() -> None:
    stream = make_stream(per_day=5_000)
    window = Window(NOW - 3_600_000, NOW)
    first = read_page(stream, window, after=None, descending=False, limit=10)
    expected_next = read_page(stream, window, after=first.last_key, descending=False, limit=10).keys
    stream.inject(first.keys[2][0], {"id": "earlier"})
    assert read_page(stream, window, after=first.last_key, descending=False, limit=10).keys == expected_next


def test_reset_forgets_injected_events() -> None:
    stream = make_stream()
    window = Window(NOW - 3_600_000, NOW)
    before = stream.count(window)
    stream.inject(NOW - 10, {"id": "x"})
    stream.corpus.reset()
    assert stream.count(window) == before


@pytest.mark.parametrize("per_day", [0, 86_400_001])
def test_events_per_day_out_of_range_is_refused(per_day: int) -> None:
    with pytest.raises(ValueError, match="events_per_day"):
        make_stream(per_day=per_day)
