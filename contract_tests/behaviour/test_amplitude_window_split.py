"""A client that splits a 90-day window into 30-day requests receives every Amplitude event exactly once.

Amplitude documents a 30-day maximum per request and 90 days of retention, so reading everything means
three requests at least, each paged. The reference client (``clients/amplitude_reference.py``) does that
over real HTTP; ground truth is the engine's own list of the window's events (``OrgStream.keys``), so an
event lost or repeated at a chunk boundary or a page boundary shows up as a diff. Events are injected
exactly on the chunk boundaries, the places a closed window would count twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contract_tests.clients.amplitude_reference import iso, make_client
from contract_tests.clients.protocol import AuditClient
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window, format_iso_ms
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SOURCE = "Amplitude docs: Audit Logs API, 30-day maximum range and 90-day retention (seeds/000)"
NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WINDOW = (NOW - timedelta(days=90), NOW)


def to_ms(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # Rate limits off: this module reads 90 days several times, more than one hour's worth of requests.
    with LiveServer(Settings(now=NOW.isoformat(), log_level="warning", rate_limits=False)) as live:
        stream = stream_of(live)
        template = stream.event(next(stream.keys(Window(to_ms(NOW) - 3_600_000, to_ms(NOW)))))
        for n, bound in enumerate((WINDOW[0] + timedelta(days=30), WINDOW[0] + timedelta(days=60))):
            at = to_ms(bound)
            stream.inject(at, {**template, "uuid": f"on-chunk-boundary-{n}", "timestamp": format_iso_ms(at)})
        yield live


def stream_of(server: LiveServer, org: str = "76273") -> OrgStream:
    stream: OrgStream = server.state.runtimes["amplitude"].streams[org]
    return stream


def truth(server: LiveServer, keep: Any = None) -> list[str]:
    stream = stream_of(server)
    window = Window(to_ms(WINDOW[0]), to_ms(WINDOW[1]))
    assert stream.visible(window, to_ms(NOW)) == window, "the window must be wholly retained and past"
    events = (stream.event(key) for key in stream.keys(window))
    return [event["uuid"] for event in events if keep is None or keep(event)]


def assert_exactly_once(received: list[str], expected: list[str]) -> None:
    twice = sorted(uuid for uuid, n in Counter(received).items() if n > 1)
    assert not twice, f"{len(twice)} events received more than once, e.g. {twice[:3]}"
    missing, extra = set(expected) - set(received), set(received) - set(expected)
    assert not missing and not extra, f"{len(missing)} events missing, {len(extra)} not in the window"
    assert received == expected, "every event once, but not oldest first"


@pytest.mark.vendor_documented(SOURCE)
@pytest.mark.parametrize("page_size", [1000, 250])
def test_a_90_day_window_in_30_day_requests_gives_every_event_once(server: LiveServer, page_size: int) -> None:
    expected = truth(server)
    assert 26_000 < len(expected) < 28_000 and "on-chunk-boundary-0" in expected
    client = make_client(server.url, server.headers("amplitude"), page_size=page_size)
    assert isinstance(client, AuditClient)

    received = client.fetch_all(*WINDOW)

    assert_exactly_once(received, expected)
    assert [end - start for start, end in client.chunks] == [timedelta(days=30)] * 3


@pytest.mark.vendor_documented(SOURCE)
def test_filters_hold_across_chunks_and_pages(server: LiveServer) -> None:
    filters = {"domain": "config", "feature": "user"}
    expected = truth(server, keep=lambda e: e["domain"] == "config" and e["feature"] == "user")
    assert 100 < len(expected) < len(truth(server)) / 5
    client = make_client(server.url, server.headers("amplitude"), page_size=50, filters=filters)

    assert_exactly_once(client.fetch_all(*WINDOW), expected)


@pytest.mark.vendor_documented(SOURCE)
def test_the_whole_window_in_one_request_is_refused(server: LiveServer) -> None:
    answer = httpx.post(f"{server.url}/api/2/audit-logs/76273", headers=server.headers("amplitude"),
                        json={"start_date": iso(WINDOW[0]), "end_date": iso(WINDOW[1])})
    assert answer.status_code == 400
    assert "30 days" in answer.json()["error"]


@pytest.mark.mock_only
def test_the_reference_client_only_talks_to_the_mock(server: LiveServer) -> None:
    for url in ("https://amplitude.com", "http://10.0.0.1:8080"):
        with pytest.raises(ValueError, match="refusing"):
            make_client(url, server.headers("amplitude"))
