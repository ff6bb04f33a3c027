"""Live arrival: ingestion lag, jitter and out-of-order arrival decide when generated events appear."""

from __future__ import annotations

import pytest

from mockserver.engine.clock import Clock
from mockserver.engine.events import Corpus, OrgStream, read_page
from mockserver.engine.live import Live, LiveError, parse_live
from mockserver.engine.rng import Rng
from mockserver.engine.windows import Window
from mockserver.engine.world import Org

NOW = 1_714_564_800_000  # 2024-05-01T12:00:00Z
MINUTE = 60_000


def _factory(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, object]:
    return {"i": index, "ts": ts_ms}


def _stream(live: Live, per_day: int = 14_400) -> OrgStream:  # one event every 6 s on average
    corpus = Corpus(seed=3, clock=Clock(frozen_at_ms=NOW))
    org = Org(vendor="v", id="o", name="O", domain="o.example", plan=None, events_per_day=per_day, staff=3,
              users=(), teams=(), credentials=(), extra={})
    stream = corpus.add(org, per_day, _factory, retention_days=30)
    stream.live = live
    return stream


def _visible_indexes(stream: OrgStream, start: int, end: int, now: int, descending: bool = False) -> list[int]:
    window = stream.visible(Window(start, end), now)
    return [key[2] for key in stream.keys(window, descending=descending)]


def _truth(stream: OrgStream, start: int, end: int, now: int) -> list[int]:
    """What must be visible, event by event, from the definition."""
    first, last = stream.first_index_at_or_after(start), stream.first_index_at_or_after(min(end, now + 1))
    return [i for i in range(first, last) if stream.ts(i) + stream.live.delay_ms(stream.key, i) <= now]


def test_without_live_settings_an_event_is_visible_at_its_time() -> None:
    stream = _stream(Live())
    window = stream.visible(Window(NOW - 10 * MINUTE, NOW + MINUTE), NOW)
    assert window.as_of_ms is None and window.end_ms == NOW + 1
    assert _visible_indexes(stream, NOW - 10 * MINUTE, NOW + MINUTE, NOW) == _truth(
        stream, NOW - 10 * MINUTE, NOW + MINUTE, NOW)


def test_a_fixed_lag_hides_exactly_the_last_lag_of_events() -> None:
    stream = _stream(Live(lag_ms=2 * MINUTE))
    shown = _visible_indexes(stream, NOW - 10 * MINUTE, NOW + 1, NOW)
    assert shown and all(stream.ts(i) <= NOW - 2 * MINUTE for i in shown)
    assert stream.ts(shown[-1] + 1) > NOW - 2 * MINUTE  # the very next event is still in ingestion
    assert _visible_indexes(stream, NOW - 10 * MINUTE, NOW + 1, NOW + 2 * MINUTE)[-1] > shown[-1]


@pytest.mark.parametrize("live", [
    Live(lag_ms=30_000, jitter_ms=90_000),
    Live(lag_ms=10_000, jitter_ms=5_000, out_of_order=0.2, out_of_order_delay_ms=5 * MINUTE),
    Live(out_of_order=1.0, out_of_order_delay_ms=MINUTE),
])
@pytest.mark.parametrize("descending", [False, True])
def test_visibility_matches_the_definition_at_every_moment(live: Live, descending: bool) -> None:
    stream = _stream(live)
    for step in range(0, 12 * MINUTE, 17_000):
        now = NOW + step
        expected = _truth(stream, NOW - 10 * MINUTE, now + 1, now)
        shown = _visible_indexes(stream, NOW - 10 * MINUTE, now + 1, now, descending)
        assert shown == (expected[::-1] if descending else expected)
        window = stream.visible(Window(NOW - 10 * MINUTE, now + 1), now)
        assert stream.count(window) == len(expected)


def test_out_of_order_events_appear_after_later_ones_so_polling_from_the_last_seen_time_loses_them() -> None:
    stream = _stream(Live(out_of_order=0.3, out_of_order_delay_ms=4 * MINUTE))
    seen: set[int] = set()
    last_seen_ts = NOW - 30 * MINUTE
    now = NOW
    for _ in range(20):  # a naive poller: from the newest timestamp it has seen, every minute
        window = stream.visible(Window(last_seen_ts + 1, now + 1), now)
        page = read_page(stream, window, after=None, descending=False, limit=10_000)
        seen.update(key[2] for key in page.keys)
        if page.keys:
            last_seen_ts = page.keys[-1][0]
        now += MINUTE
    settled = now - 5 * MINUTE  # every event up to here has arrived by now
    everything = set(_truth(stream, NOW - 30 * MINUTE + 1, settled, now))
    missed = everything - seen
    assert missed, "late events must escape a poller that does not overlap its windows"
    assert all(stream.live.delay_ms(stream.key, i) > 0 for i in missed)


def test_delays_are_a_pure_function_of_the_stream_and_index() -> None:
    live = Live(lag_ms=1000, jitter_ms=5000, out_of_order=0.5, out_of_order_delay_ms=MINUTE)
    one, two = _stream(live), _stream(live)
    assert [one.live.delay_ms(one.key, i) for i in range(500)] == [two.live.delay_ms(two.key, i) for i in range(500)]
    late = sum(1 for i in range(10_000) if one.live.delay_ms(one.key, i) > 6000)
    assert 4000 < late < 6000  # about half arrive out of order


def test_settled_says_when_a_window_can_no_longer_change() -> None:
    stream = _stream(Live(lag_ms=MINUTE, jitter_ms=MINUTE))
    window = Window(NOW - 10 * MINUTE, NOW - 5 * MINUTE)
    assert not stream.settled(window, NOW - 4 * MINUTE)
    assert stream.settled(window, NOW - 3 * MINUTE)


def test_injected_events_are_not_delayed() -> None:
    stream = _stream(Live(lag_ms=10 * MINUTE))
    key = stream.inject(NOW - MINUTE, {"injected": True})
    window = stream.visible(Window(NOW - 2 * MINUTE, NOW + 1), NOW)
    assert list(stream.keys(window)) == [key]


def test_parse_live_reads_seconds_and_names_the_bad_key() -> None:
    live = parse_live({"lag": 30, "jitter": 1.5, "out_of_order": 0.1, "out_of_order_delay": 600}, Live(), "w")
    assert live == Live(lag_ms=30_000, jitter_ms=1500, out_of_order=0.1, out_of_order_delay_ms=600_000)
    with pytest.raises(LiveError, match=r"^w\.out_of_order: must be a number between 0 and 1$"):
        parse_live({"out_of_order": 2}, Live(), "w")
    with pytest.raises(LiveError, match=r"^w\.lag: must be a number of seconds"):
        parse_live({"lag": "soon"}, Live(), "w")
    with pytest.raises(LiveError, match=r"^w: unknown key 'delay'"):
        parse_live({"delay": 3}, Live(), "w")
