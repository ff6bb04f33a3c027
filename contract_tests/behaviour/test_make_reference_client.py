"""The reference Make client pages the live mock and gets exactly the window's entries, once each.

Ground truth is the engine's own list of the entries in the window (``OrgStream.keys``), never the HTTP
API. Windows are snapped onto the timestamps of two entries: the first sits on the window's start (it
must be received, ``dateFrom`` is inclusive) and the one on its end must not be (the client sends
``dateTo`` = end - 1 ms, Make's ``dateTo`` being inclusive too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contract_tests.clients.make_reference import MakeAuditClient, client_factory, make_client
from contract_tests.clients.protocol import AuditClient
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SDK = "Make's official SDK @makehq/sdk: pg.last = key of the last entry; event[]= arrays"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
UMBRELLA, MARKETING = 5100231, 61002


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(now="2024-05-01T12:00:00Z", log_level="warning")) as live:
        yield live


def stream_of(server: LiveServer) -> OrgStream:
    stream: OrgStream = server.state.runtimes["make"].streams[str(UMBRELLA)]
    return stream


def snapped(server: LiveServer, start: str, end: str) -> tuple[datetime, datetime]:
    stream = stream_of(server)
    edges = [stream.ts(stream.first_index_at_or_after(int((datetime.fromisoformat(text) - EPOCH) / MS)))
             for text in (start, end)]
    return EPOCH + edges[0] * MS, EPOCH + edges[1] * MS


def truth(server: LiveServer, start: datetime, end: datetime, descending: bool = False,
          team: int | None = None, events: set[str] | None = None) -> list[str]:
    stream = stream_of(server)
    window = Window((start - EPOCH) // MS, (end - EPOCH) // MS)
    assert stream.visible(window, server.state.clock.now_ms()) == window, "pick a window the engine fully shows"
    entries: list[dict[str, Any]] = [stream.event(key) for key in stream.keys(window, descending=descending)]
    return [e["uuid"] for e in entries if (team is None or e.get("team", {}).get("id") == team)
            and (events is None or e["eventName"] in events)]


@pytest.mark.vendor_documented(SDK)
@pytest.mark.parametrize("paging", ["last", "offset"])
@pytest.mark.parametrize("page_size", [1, 50, 10_000])
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
def test_the_client_gets_every_entry_of_the_window_once(server: LiveServer, paging: str, page_size: int,
                                                        sort_dir: str) -> None:
    start, end = snapped(server, "2024-04-29T06:00:00+00:00", "2024-04-30T06:00:00+00:00")
    client = MakeAuditClient(server.url, server.headers("make", "umbrella-owner"), paging=paging,
                             page_size=page_size, sort_dir=sort_dir)
    received = client.fetch_all(start, end)
    assert not [uuid for uuid, n in Counter(received).items() if n > 1], "entries received twice"
    expected = truth(server, start, end, descending=sort_dir == "desc")
    assert 150 < len(expected) < 250
    assert received == expected
    first = expected[-1] if sort_dir == "desc" else expected[0]
    assert first in received  # the entry on the window's start, which dateFrom includes


@pytest.mark.vendor_documented(SDK)
@pytest.mark.parametrize("array_style", ["brackets", "indexed", "repeated"])
def test_a_team_admin_reads_a_filtered_team_in_every_array_style(server: LiveServer, array_style: str) -> None:
    start, end = snapped(server, "2024-04-01T00:00:00+00:00", "2024-04-15T00:00:00+00:00")
    events = {"scenario_updated", "webhook_created", "data_store_record_deleted"}
    factory = client_factory(team_id=MARKETING, page_size=100, array_style=array_style,
                             filters={"event": sorted(events)})
    received = factory(server.url, server.headers("make", "umbrella-team-admin")).fetch_all(start, end)
    expected = truth(server, start, end, team=MARKETING, events=events)
    assert len(expected) > 100 and received == expected


@pytest.mark.mock_only
def test_the_protocol_factory_reads_the_default_org(server: LiveServer) -> None:
    client: AuditClient = make_client(server.url, server.headers("make", "umbrella-admin"))
    start, end = snapped(server, "2024-05-01T09:00:00+00:00", "2024-05-01T11:00:00+00:00")
    assert isinstance(client, AuditClient)
    assert client.fetch_all(start, end) == truth(server, start, end)


@pytest.mark.mock_only
def test_the_reference_client_refuses_a_real_host() -> None:
    with pytest.raises(ValueError, match="refusing"):
        MakeAuditClient("https://eu1.make.com", {"Authorization": "Token x"})
