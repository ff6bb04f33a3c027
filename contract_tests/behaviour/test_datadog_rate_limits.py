"""Datadog's official ``datadog-api-client`` with ``enable_retry=True`` gets through a 429 by waiting
``X-RateLimit-Reset`` seconds (its ``ClientRetry`` reads that header and ignores ``Retry-After``).

The mock clock runs at real speed from the start of a 2 s window, with a limit of 2 requests per 2 s for
the org; two requests spend the window's budget before the client starts, so its first request is
refused and only the wait the header asks for brings it into the next window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from contract_tests.clients.datadog_official import make_list_client
from mockserver.engine.events import OrgStream
from mockserver.engine.windows import Window, parse_instant
from mockserver.settings import Settings
from mockserver.testing import LiveServer

SOURCE = "VENDORS.md: datadog-api-client with enable_retry=True waits X-RateLimit-Reset seconds"
NOW = "2024-05-01T12:00:00Z"  # a whole minute: a 2 s window starts here
PERIOD_S, LIMIT = 2, 2
LIST = "/api/v2/audit/events"
WINDOW = ("2024-05-01T06:00:00Z", "2024-05-01T06:20:00Z")  # ~28 events of acme, one page of 1000


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(now=NOW, log_level="warning")) as live:
        yield live


@pytest.mark.vendor_documented(SOURCE)
def test_the_official_client_waits_x_ratelimit_reset_after_a_429_and_gets_every_event(server: LiveServer) -> None:
    state = server.state
    start_ms = parse_instant(NOW, 0)
    window = Window(parse_instant(WINDOW[0], 0), parse_instant(WINDOW[1], 0))
    stream: OrgStream = state.runtimes["datadog"].streams["acme"]
    expected = [stream.event(key)["id"] for key in stream.keys(window, descending=True)]
    assert 20 <= len(expected) <= 40 and stream.visible(window, start_ms) == window
    state.limits.override(orgs={("datadog", "acme"): {"limit": LIMIT, "period_s": PERIOD_S}})
    headers = server.headers("datadog")
    with httpx.Client(base_url=server.url) as http:  # the clock is still frozen: both land in the first window
        spent = [http.get(LIST, headers=headers).status_code for _ in range(LIMIT)]
    assert spent == [200] * LIMIT
    client = make_list_client(server.url, headers, page_size=1000, enable_retry=True, max_events=100)
    state.clock.run(start_ms, rate=1.0)

    received = client.fetch_all(*(datetime.fromisoformat(text).astimezone(UTC) for text in WINDOW))

    assert received == expected
    served = [entry for entry in state.journal if entry.operation == "ListAuditLogs"]
    assert [entry.status for entry in served] == [200] * LIMIT + [429, 200, 200]  # page 1 twice, then the end
    refused, retried = served[LIMIT], served[LIMIT + 1]
    assert refused.query == retried.query, "the client sent the same request again"
    assert refused.time_ms < start_ms + PERIOD_S * 1000 <= retried.time_ms, "it waited for the next window"
