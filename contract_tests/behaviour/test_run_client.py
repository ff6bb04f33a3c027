"""``mockserver.testing.run_client`` for every vendor: its reference client reads a past window and gets
exactly the events the engine holds there; under a fault it cannot survive it raises, which
``assert_no_silent_loss`` accepts and ``assert_exactly_once`` does not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from contract_tests.clients import amplitude_reference, datadog_official, datafold_reference, make_reference
from contract_tests.clients.protocol import ClientFactory
from mockserver.settings import Settings
from mockserver.testing import LiveServer, run_client

WINDOW = (datetime(2024, 4, 30, 6, tzinfo=UTC), datetime(2024, 4, 30, 18, tzinfo=UTC))
CLIENTS: dict[str, ClientFactory] = {
    "amplitude": amplitude_reference.make_client,
    "datadog": datadog_official.make_client,
    "datafold": datafold_reference.make_client,
    "make": make_reference.make_client,
}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(now="2024-05-01T12:00:00Z", log_level="warning", rate_limits=False)) as live:
        yield live


@pytest.mark.mock_only
@pytest.mark.parametrize("vendor", sorted(CLIENTS))
def test_each_reference_client_gets_the_window_exactly_once(server: LiveServer, vendor: str) -> None:
    run = run_client(server, CLIENTS[vendor], vendor, WINDOW)
    assert len(run.expected) >= 20, "a window with events in it"
    assert run.faults_fired == 0
    run.assert_exactly_once()
    assert sorted(run.received or []) == sorted(run.expected)


@pytest.mark.mock_only
@pytest.mark.parametrize("vendor", sorted(CLIENTS))
def test_a_client_that_raises_is_loud_not_silent(server: LiveServer, vendor: str) -> None:
    plan = {"rules": [{"action": {"type": "status", "status": 500}}]}  # every request; no client retries a 500
    run = run_client(server, CLIENTS[vendor], vendor, WINDOW, plan)
    assert run.received is None and run.error is not None and run.faults_fired >= 1
    run.assert_no_silent_loss()
    with pytest.raises(AssertionError, match="the client raised"):
        run.assert_exactly_once()
    assert server.state.faults.snapshot()["rules"] == [], "the plan is removed afterwards"


def test_a_window_the_engine_cannot_vouch_for_is_refused(server: LiveServer) -> None:
    future = (datetime(2024, 5, 1, 11, tzinfo=UTC), datetime(2024, 5, 1, 13, tzinfo=UTC))
    with pytest.raises(ValueError, match="wholly in the past"):
        run_client(server, CLIENTS["datadog"], "datadog", future)
