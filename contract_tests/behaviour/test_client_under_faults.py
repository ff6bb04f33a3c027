"""A client under faults may fail loudly, never silently: hypothesis hunts for lost or duplicated events.

For each example hypothesis draws a past window and a fault plan (5xx, a 429, a dropped connection, a
truncated, malformed or slow body, schema drift, an empty page that keeps its cursor, latency), installs
the plan on a live server (a real socket: drops and truncations need one), lets the client read the
window, and compares what it returned with the engine's ground truth (``mockserver.testing.run_client``,
usable from your own tests too). The client either raises or returns every event of the window once.

Your client: set ``AUDIT_CLIENT=package.module:make_client`` (the factory of contract_tests/clients/
protocol.py), ``AUDIT_CLIENT_VENDOR`` (default ``datadog``) and, if needed, ``AUDIT_CLIENT_CREDENTIAL`` (a
credential id of the world file; default the vendor's first), then run
``make test PYTEST_ARGS=contract_tests/behaviour/test_client_under_faults.py``. Without them the reference
client runs: Datadog's official client with ``enable_retry=True``, which must also get through every fault
it can retry (the second test).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from contract_tests.clients.datadog_official import make_list_client
from contract_tests.clients.protocol import AuditClient, ClientFactory
from mockserver.engine.windows import parse_instant
from mockserver.settings import Settings
from mockserver.testing import ClientRun, LiveServer, run_client

NOW = "2024-05-01T12:00:00Z"
NOW_MS = parse_instant(NOW, 0)
HOUR_MS = 3_600_000
PLUGGED = os.environ.get("AUDIT_CLIENT")
VENDOR = os.environ.get("AUDIT_CLIENT_VENDOR", "datadog")
CREDENTIAL = os.environ.get("AUDIT_CLIENT_CREDENTIAL")


def load_factory(spec: str) -> ClientFactory:
    module, _, name = spec.partition(":")
    factory: ClientFactory = getattr(importlib.import_module(module), name or "make_client")
    return factory


def reference_client(base_url: str, headers: dict[str, str]) -> AuditClient:
    """Datadog's official client with its retries on, 20 events a page so that a window takes many pages."""
    return make_list_client(base_url, headers, page_size=20, enable_retry=True)


FACTORY: ClientFactory = load_factory(PLUGGED) if PLUGGED else reference_client


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # Rate limits off: the faults decide every refusal; the world's other orgs are untouched.
    with LiveServer(Settings(now=NOW, log_level="warning", rate_limits=False)) as live:
        yield live


def actions(retryable_only: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Fault actions; ``retryable_only``: those a client that retries 5xx, 429 and broken reads survives."""
    retryable = [
        st.builds(lambda status: {"type": "status", "status": status}, st.sampled_from([500, 502, 503, 504])),
        st.just({"type": "status", "status": 429, "retry_after": 1}),
        st.just({"type": "drop"}),
        st.builds(lambda f: {"type": "truncate", "fraction": f}, st.sampled_from([0.0, 0.5, 0.99])),
        st.builds(lambda ms: {"type": "latency", "ms": ms}, st.integers(0, 30)),
        st.just({"type": "slow_body", "chunk_bytes": 8192, "interval_ms": 1}),
        st.builds(lambda kind: {"type": "drift", "kind": kind}, st.sampled_from(["extra_field", "null"])),
    ]
    if retryable_only:
        return st.one_of(retryable)
    return st.one_of(*retryable, st.just({"type": "malformed"}), st.just({"type": "empty_page"}),
                     st.just({"type": "drift", "kind": "unknown_enum"}))


def plans(retryable_only: bool) -> st.SearchStrategy[dict[str, Any]]:
    """One rule on a cadence (every 2nd to 5th request), or that and a second rule on the first request.
    Two requests in a row are never both faulted, so a retry is never the next victim and a retrying
    client waits no back-off; a 429 fires once at most (its wait is real time)."""
    def when(action: dict[str, Any], every: int) -> dict[str, Any]:
        return {"first": 1} if action.get("status") == 429 else {"every": every}

    cadence = st.builds(lambda action, every: {"name": "cadence", "action": action, "when": when(action, every)},
                        actions(retryable_only), st.integers(2, 5))
    wide = st.builds(lambda action, every: {"name": "cadence", "action": action, "when": when(action, every)},
                     actions(retryable_only), st.integers(3, 5))
    opening = st.builds(lambda action: {"name": "opening", "action": action, "when": {"first": 1}},
                        actions(retryable_only))
    rules = st.one_of(cadence.map(lambda rule: [rule]), st.tuples(wide, opening).map(list))
    return st.builds(lambda rules, seed: {"seed": seed, "rules": rules}, rules, st.integers(0, 1000))


# Past windows of 2 to 6 hours: at ~1.4 events a minute and 20 a page, 9 to 26 pages, so every cadence fires.
windows = st.builds(lambda end_h, length_min: (NOW_MS - end_h * HOUR_MS - length_min * 60_000,
                                               NOW_MS - end_h * HOUR_MS),
                    st.integers(1, 48), st.integers(120, 360))


def read_under(server: LiveServer, factory: ClientFactory, plan: dict[str, Any] | None,
               window: tuple[int, int]) -> ClientRun:
    start, end = (datetime.fromtimestamp(ms / 1000, UTC) for ms in window)
    run = run_client(server, factory, VENDOR, (start, end), plan, CREDENTIAL)
    if currently_in_test_context():
        fired = run.faults_fired
        event(f"faults fired: {'none' if fired == 0 else '1' if fired == 1 else '2 or more'}")
        event("raised" if run.error is not None else "returned")
    return run


@pytest.mark.mock_only  # the faults are ours; what a client must do with them is the point of the suite
@settings(max_examples=12 if PLUGGED is None else 60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=plans(retryable_only=PLUGGED is None), window=windows)
def test_a_client_under_faults_fails_loudly_or_returns_every_event_once(
        server: LiveServer, plan: dict[str, Any], window: tuple[int, int]) -> None:
    read_under(server, FACTORY, plan, window).assert_no_silent_loss()


@pytest.mark.mock_only
@pytest.mark.skipif(PLUGGED is not None, reason="checks the reference client; AUDIT_CLIENT names another")
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=plans(retryable_only=True), window=windows)
def test_the_official_client_with_retries_gets_through_every_fault_it_can_retry(
        server: LiveServer, plan: dict[str, Any], window: tuple[int, int]) -> None:
    run = read_under(server, reference_client, plan, window)
    assert run.faults_fired > 0, "the window is long enough for the plan to fire"
    run.assert_exactly_once()


@pytest.mark.mock_only
def test_the_official_client_stops_at_an_empty_page_that_still_has_a_cursor(server: LiveServer) -> None:
    """A known weakness, pinned: the official client ends its loop on an empty ``data`` even when
    ``meta.page.after`` says more follows (as Datadog's partial ``timeout`` pages do), so it silently
    returns part of the window. A client of your own should follow the cursor."""
    window = (NOW_MS - 6 * HOUR_MS, NOW_MS - 2 * HOUR_MS)
    plan = {"rules": [{"name": "hollow", "action": {"type": "empty_page"}, "when": {"every": 3}}]}
    client = lambda url, headers: make_list_client(url, headers, page_size=20, enable_retry=True)  # noqa: E731
    run = read_under(server, client, plan, window)
    assert run.error is None and len(run.expected) > 60, "no error, and enough events for a third page"
    newest_first = run.expected[::-1]  # the ground truth is oldest first; the client's default sort is -timestamp
    assert run.received == newest_first[:40], "two pages, then the hollow third page ended the loop"
    assert read_under(server, client, None, window).received == newest_first, "without the fault: everything"
