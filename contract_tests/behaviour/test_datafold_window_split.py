"""A client that reads 90 days of Datafold audit logs in chunks receives every entry exactly once.

Datafold's endpoint has no pagination, and the mock caps an answer at 10,000 entries (our choice), so a
client reads a long window in chunks. The reference client (``clients/datafold_reference.py``) asks for
7 days at a time, or starts with 30 days and halves the chunks the server refuses as too large. Ground
truth is the engine's own list of the window's entries; entries are injected exactly on chunk bounds,
where a closed window would count them twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from contract_tests.clients.datafold_reference import make_client
from contract_tests.clients.protocol import AuditClient
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SOURCE = "Datafold API reference: Get Audit Logs, start_date/end_date and no pagination (seeds/003)"
NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WINDOW = (NOW - timedelta(days=90), NOW)


def to_ms(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


def stream_of(server: LiveServer, org: str) -> OrgStream:
    stream: OrgStream = server.state.runtimes["datafold"].streams[org]
    return stream


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(now=NOW.isoformat(), log_level="warning")) as live:
        for org in ("northwind", "contoso"):
            stream = stream_of(live, org)
            template = stream.event(next(stream.keys(Window(to_ms(NOW) - 3_600_000, to_ms(NOW)))))
            for days in (7, 14, 30, 60):  # bounds of 7-day chunks and of 30-day chunks
                at = to_ms(WINDOW[0] + timedelta(days=days))
                stamp = (EPOCH + timedelta(milliseconds=at)).isoformat(timespec="microseconds")
                stream.inject(at, {**template, "event_uuid": f"{org}-on-day-{days}", "timestamp": stamp})
        yield live


def truth(server: LiveServer, org: str) -> list[str]:
    stream = stream_of(server, org)
    window = Window(to_ms(WINDOW[0]), to_ms(WINDOW[1]))
    assert stream.visible(window, to_ms(NOW)) == window
    return [stream.event(key)["event_uuid"] for key in stream.keys(window)]


def assert_exactly_once(received: list[str], expected: list[str]) -> None:
    twice = sorted(uuid for uuid, n in Counter(received).items() if n > 1)
    assert not twice, f"{len(twice)} entries received more than once, e.g. {twice[:3]}"
    missing, extra = set(expected) - set(received), set(received) - set(expected)
    assert not missing and not extra, f"{len(missing)} entries missing, {len(extra)} not in the window"


@pytest.mark.vendor_documented(SOURCE)
def test_90_days_in_7_day_chunks_gives_every_entry_once(server: LiveServer) -> None:
    expected = truth(server, "northwind")
    assert 17_000 < len(expected) < 19_000 and "northwind-on-day-7" in expected
    client = make_client(server.url, server.headers("datafold", "northwind-admin"))
    assert isinstance(client, AuditClient)

    received = client.fetch_all(*WINDOW)

    assert_exactly_once(received, expected)
    assert len(client.chunks) == 13 and client.refused == 0


@pytest.mark.mock_only  # the cap and its 400 are our choice
def test_chunks_over_the_cap_are_refused_and_split_without_losing_an_entry(server: LiveServer) -> None:
    expected = truth(server, "contoso")
    assert len(expected) > 80_000
    client = make_client(server.url, server.headers("datafold", "contoso-admin"), chunk=timedelta(days=30))

    received = client.fetch_all(*WINDOW)

    assert_exactly_once(received, expected)
    assert client.refused >= 2 and all(end - start <= timedelta(days=10) for start, end in client.chunks)


@pytest.mark.mock_only
def test_the_reference_client_only_talks_to_the_mock(server: LiveServer) -> None:
    for url in ("https://app.datafold.com", "http://192.168.1.10"):
        with pytest.raises(ValueError, match="refusing"):
            make_client(url, server.headers("datafold"))
