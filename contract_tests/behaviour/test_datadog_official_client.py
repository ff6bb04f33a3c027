"""Datadog's official ``datadog-api-client``, unchanged, pages the mock and gets exactly the window's events.

Ground truth never comes from the HTTP API: it is the engine's own list of the events that exist in the
window (``OrgStream.keys``), so a page the server duplicated, dropped or misordered shows up as a diff.
Every window is snapped to the exact timestamps of two events, so the first event sits on ``from``
(inclusive) and the event on ``to`` (exclusive) must not be received.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from contract_tests.clients.datadog_official import (
    Sort,
    make_list_client,
    make_search_client,
    official_configuration,
)
from contract_tests.clients.protocol import AuditClient
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SOURCE = "VENDORS.md: datadog-api-client pagination"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
Factory = Callable[..., AuditClient]
FACTORIES: dict[str, Factory] = {"list": make_list_client, "search": make_search_client}
Attributes = dict[str, Any]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(now="2024-05-01T12:00:00Z", log_level="warning")) as live:
        yield live


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def to_ms(when: datetime) -> int:
    return (when - EPOCH) // MS


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * MS


def stream_of(server: LiveServer, org: str) -> OrgStream:
    stream: OrgStream = server.state.runtimes["datadog"].streams[org]
    return stream


def snapped(stream: OrgStream, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window moved onto the timestamps of the first events at or after ``start`` and ``end``."""
    first, last = (stream.ts(stream.first_index_at_or_after(to_ms(when))) for when in (start, end))
    return from_ms(first), from_ms(last)


def truth(server: LiveServer, org: str, start: datetime, end: datetime, *, sort: Sort = "-timestamp",
          keep: Callable[[Attributes], bool] | None = None) -> list[str]:
    """Ids of the events the engine holds in [start, end), in the order ``sort`` asks for."""
    stream = stream_of(server, org)
    window = Window(to_ms(start), to_ms(end))
    # Windows here lie wholly in the past and inside retention: every event the engine generates in them exists.
    assert stream.visible(window, server.state.clock.now_ms()) == window, "pick a window the engine fully shows"
    events = (stream.event(key) for key in stream.keys(window, descending=sort == "-timestamp"))
    return [event["id"] for event in events if keep is None or keep(event["attributes"]["attributes"])]


def first_and_beyond(server: LiveServer, start: datetime, end: datetime) -> tuple[str, str]:
    """The id of the event on ``start`` (must be received) and of the event on ``end`` (must not)."""
    stream = stream_of(server, "acme")
    first, beyond = (stream.event(next(stream.keys(Window(to_ms(when), to_ms(when) + 1))))["id"]
                     for when in (start, end))
    return first, beyond


def assert_exactly(received: list[str], expected: list[str]) -> None:
    twice = sorted(event_id for event_id, n in Counter(received).items() if n > 1)
    assert not twice, f"received {len(twice)} events more than once, e.g. {twice[:3]}"
    missing, extra = set(expected) - set(received), set(received) - set(expected)
    assert not missing and not extra, f"{len(missing)} events missing, {len(extra)} not in the window"
    assert received == expected, "every event received once, but not in the order of the sort"


# (page size, window, range the ground-truth count must fall in so that the pages are meaningful)
PAGE_CASES = [
    pytest.param(1, "2024-05-01T09:07:00Z", "2024-05-01T09:27:00Z", (20, 40), id="size1"),  # ~28 pages
    pytest.param(10, "2024-04-30T22:00:00Z", "2024-05-01T02:00:00Z", (200, 500), id="size10"),  # ~34 pages
    pytest.param(1000, "2024-04-29T20:00:00Z", "2024-04-30T23:00:00Z", (2001, 3000), id="size1000"),  # 3 pages
]


@pytest.mark.vendor_documented(SOURCE)
@pytest.mark.parametrize("sort", ["timestamp", "-timestamp"])
@pytest.mark.parametrize(("size", "start", "end", "expected_count"), PAGE_CASES)
@pytest.mark.parametrize("endpoint", FACTORIES)
def test_official_client_receives_every_event_of_the_window_once(
        server: LiveServer, endpoint: str, size: int, start: str, end: str, expected_count: tuple[int, int],
        sort: Sort) -> None:
    window_start, window_end = snapped(stream_of(server, "acme"), at(start), at(end))
    expected = truth(server, "acme", window_start, window_end, sort=sort)
    low, high = expected_count
    assert low <= len(expected) <= high, f"the window holds {len(expected)} events, not {low}-{high}"
    client = FACTORIES[endpoint](server.url, server.headers("datadog"), page_size=size, sort=sort,
                                 max_events=2 * high)

    received = client.fetch_all(window_start, window_end)

    assert_exactly(received, expected)


# name -> (zone the window is expressed in, hand the client naive UTC datetimes)
DATETIME_FORMS: dict[str, tuple[tzinfo, bool]] = {
    "aware-utc": (UTC, False),  # the client sends ...+00:00
    "aware-plus-0530": (timezone(timedelta(hours=5, minutes=30)), False),  # ...+05:30, "+" percent-encoded
    "aware-minus-0800": (timezone(timedelta(hours=-8)), False),
    "naive-utc": (UTC, True),  # the client sends ...000Z
}


@pytest.mark.vendor_documented(SOURCE)
@pytest.mark.parametrize("form", DATETIME_FORMS)
@pytest.mark.parametrize("endpoint", FACTORIES)
def test_window_bounds_hold_in_every_form_the_client_writes_datetimes(
        server: LiveServer, endpoint: str, form: str) -> None:
    """``from`` is inclusive and ``to`` exclusive to the millisecond, whatever offset the client sends."""
    window_start, window_end = snapped(stream_of(server, "acme"), at("2024-05-01T06:00:00Z"),
                                       at("2024-05-01T06:20:00Z"))
    expected = truth(server, "acme", window_start, window_end)
    first, beyond = first_and_beyond(server, window_start, window_end)
    assert 20 <= len(expected) <= 40 and first in expected and beyond not in expected
    tz, naive_utc = DATETIME_FORMS[form]
    client = FACTORIES[endpoint](server.url, server.headers("datadog"), page_size=1000, naive_utc=naive_utc,
                                 max_events=100)

    received = client.fetch_all(window_start.astimezone(tz), window_end.astimezone(tz))

    assert first in received, "the event exactly on filter[from] is missing"
    assert beyond not in received, "the event exactly on filter[to] was received"
    assert_exactly(received, expected)


def _is_dashboard(attributes: Attributes) -> bool:
    return bool(attributes["evt"]["name"] == "Dashboard")


def _is_monitor_not_put(attributes: Attributes) -> bool:
    return bool(attributes["evt"]["name"] == "Monitor" and attributes["http"]["method"] != "PUT")


QUERIES = [
    pytest.param("@evt.name:Dashboard", _is_dashboard, id="attribute"),
    pytest.param("@evt.name:Monitor -@http.method:PUT", _is_monitor_not_put, id="attribute-and-not"),
]


@pytest.mark.vendor_documented(SOURCE)
@pytest.mark.parametrize(("query", "keep"), QUERIES)
@pytest.mark.parametrize("endpoint", FACTORIES)
def test_filter_query_selects_exactly_the_matching_events(
        server: LiveServer, endpoint: str, query: str, keep: Callable[[Attributes], bool]) -> None:
    window_start, window_end = snapped(stream_of(server, "acme"), at("2024-04-30T08:00:00Z"),
                                       at("2024-04-30T18:00:00Z"))
    everything = truth(server, "acme", window_start, window_end)
    expected = truth(server, "acme", window_start, window_end, keep=keep)
    page_size = 10
    assert page_size < len(expected) < len(everything) // 2, "the query must select a real subset"
    client = FACTORIES[endpoint](server.url, server.headers("datadog"), page_size=page_size, query=query,
                                 max_events=2 * len(everything))

    received = client.fetch_all(window_start, window_end)

    assert_exactly(received, expected)


@pytest.mark.vendor_documented(SOURCE)
@pytest.mark.parametrize("endpoint", FACTORIES)
def test_each_credential_sees_only_its_own_org(server: LiveServer, endpoint: str) -> None:
    window_start, window_end = at("2024-05-01T03:00:00Z"), at("2024-05-01T09:00:00Z")
    globex = truth(server, "globex", window_start, window_end)
    acme = truth(server, "acme", window_start, window_end)
    assert 60 <= len(globex) <= 250 and len(acme) > len(globex), "both orgs must have events in the window"
    client = FACTORIES[endpoint](server.url, server.headers("datadog", "globex-admin"), page_size=100,
                                 max_events=2 * len(acme))

    received = client.fetch_all(window_start, window_end)

    assert not set(received) & set(acme), "globex's credential received acme's events"
    assert_exactly(received, globex)


@pytest.mark.mock_only
def test_reference_clients_only_ever_talk_to_the_mock(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    headers = server.headers("datadog")

    assert official_configuration(server.url, headers).host == server.url
    for factory in FACTORIES.values():
        for url in ("https://api.datadoghq.com", "http://api.datadoghq.eu", "http://10.0.0.1:8080"):
            with pytest.raises(ValueError, match="refusing"):
                factory(url, headers)
