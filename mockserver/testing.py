"""The pytest plugin (registered by entry point) and helpers for testing clients against the mock.

One import, a fixture, a documented seam::

    def test_my_exporter(mock_server):            # a live server on 127.0.0.1, a free port
        headers = mock_server.headers("datadog")  # the first credential of the first org
        my_exporter.run(base_url=mock_server.url, headers=headers)

Override ``mock_settings`` in your conftest.py to choose the seed, the frozen clock or the world.
``LiveServer`` also works without pytest, as a context manager. ``run_client`` lets a client read a window
under a fault plan and says whether it lost or duplicated anything::

    run = run_client(mock_server, my_factory, "datadog", (start, end), plan={"rules": [
        {"action": {"type": "status", "status": 503}, "when": {"every": 3}}]})
    run.assert_exactly_once()
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

__all__ = [
    "ClientRun",
    "LiveServer",
    "conformance_headers",
    "conformance_operations",
    "conformance_schema",
    "generation_spec",
    "mock_server",
    "mock_settings",
    "run_client",
]

DEFAULT_NOW = "2024-05-01T12:00:00Z"


class LiveServer:
    """uvicorn serving the mock in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, settings: Settings | None = None, start_timeout: float = 10.0) -> None:
        self.settings = settings or Settings(now=DEFAULT_NOW, log_level="warning")
        self.app = create_app(self.settings)
        self.state = self.app.state.mock
        self._timeout = start_timeout
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.url = ""

    def start(self) -> LiveServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name=f"mockserver:{port}")
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the mock server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=self._timeout)
            self._server = self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def credentials(self, vendor: str) -> list[Any]:
        """The world's credentials of ``vendor`` (``mockserver.engine.world.Credential``)."""
        return [cred for org in self.state.world.orgs.get(vendor, ()) for cred in org.credentials]

    def headers(self, vendor: str, credential_id: str | None = None) -> dict[str, str]:
        """Ready-to-send auth headers: ``credential_id``'s, or the first credential of the vendor."""
        runtime = self.state.runtimes[vendor]
        for cred in self.credentials(vendor):
            if credential_id in (None, cred.id):
                return dict(runtime.vendor.auth.headers_for(cred.secrets))
        raise LookupError(f"no credential {credential_id!r} for {vendor}")


# -- client validation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientRun:
    """What one client read of a window gave, beside what exists there."""

    expected: list[str]
    """Ids of the window's events, oldest first: the ground truth, from the engine."""
    received: list[str] | None
    """What ``fetch_all`` returned (duplicates kept), or None when it raised."""
    error: BaseException | None
    """What the client raised, or None."""
    faults_fired: int
    """How many requests the fault plan answered with a fault."""

    def assert_exactly_once(self) -> None:
        """The client returned every event of the window once (fails if it raised)."""
        if self.error is not None:
            raise AssertionError(f"the client raised {type(self.error).__name__}: {self.error}") from self.error
        self.assert_no_silent_loss()

    def assert_no_silent_loss(self) -> None:
        """The client failed loudly, or returned every event of the window once: never a silent loss or
        duplicate, never an event from outside the window."""
        if self.received is None:
            return
        twice = sorted(event_id for event_id, n in Counter(self.received).items() if n > 1)
        missing = sorted(set(self.expected) - set(self.received))
        extra = sorted(set(self.received) - set(self.expected))
        assert not twice, f"silently duplicated {len(twice)} events, e.g. {twice[:3]}"
        assert not missing, f"silently lost {len(missing)} of {len(self.expected)} events, e.g. {missing[:3]}"
        assert not extra, f"returned {len(extra)} events outside the window, e.g. {extra[:3]}"


def run_client(server: LiveServer, factory: Callable[[str, dict[str, str]], Any], vendor: str,
               window: tuple[datetime, datetime], plan: Mapping[str, Any] | None = None,
               credential: str | None = None) -> ClientRun:
    """Let the client ``factory(base_url, headers)`` builds read ``window`` (``[start, end)``, aware
    datetimes, wholly past and retained) from ``server`` under the fault plan ``plan`` (what ``PUT
    /_mock/faults`` takes; none by default), as ``credential`` (default the vendor's first), and compare.
    The plan is removed afterwards."""
    from mockserver.control_faults import known_operations
    from mockserver.engine._fault_plan import parse_plan
    from mockserver.engine.windows import Window

    state = server.state
    runtime = state.runtimes[vendor]
    cred = next(c for c in server.credentials(vendor) if credential in (None, c.id))
    stream = runtime.streams[cred.org_id]
    start_ms, end_ms = (round(when.timestamp() * 1000) for when in window)
    wanted = Window(start_ms, end_ms)
    if stream.visible(wanted, state.clock.now_ms()) != wanted or not stream.settled(wanted, state.clock.now_ms()):
        raise ValueError("pick a window wholly in the past, inside retention and past any ingestion lag")
    expected = [str(_at(stream.event(key), runtime.vendor.id_path)) for key in stream.keys(wanted)]
    state.faults.install(parse_plan(dict(plan or {"rules": []}), known_operations(state.runtimes)))
    try:
        client = factory(server.url, server.headers(vendor, cred.id))
        try:
            received, error = list(client.fetch_all(*window)), None
        except Exception as exc:  # failing loudly is allowed: the caller decides what to make of it
            received, error = None, exc
        fired = sum(rule["fired"] for rule in state.faults.snapshot()["rules"])
    finally:
        state.faults.clear()
    return ClientRun(expected, received, error, fired)


def _at(entry: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        entry = entry[part]
    return entry


@pytest.fixture
def mock_settings() -> Settings:
    """The settings of ``mock_server``: override this fixture to change seed, clock or world."""
    return Settings(now=DEFAULT_NOW, log_level="warning")


@pytest.fixture
def mock_server(mock_settings: Settings) -> Iterator[LiveServer]:
    """A live mock server for one test, stopped afterwards."""
    with LiveServer(mock_settings) as server:
        yield server


# -- conformance (schemathesis) -----------------------------------------------------------------------------
GENERATE_PATTERN = "x-generate-pattern"
"""A pattern the suite generates valid values from, which the server does not enforce (its own parser is
more lenient, e.g. the full Datadog search syntax or every calendar date)."""
SERVER_MINTED = "x-server-minted"
"""Marks a parameter or property only the server can produce a valid value for (cursors)."""


def generation_spec(document: Any) -> Any:
    """``document`` with generation hints applied, for positive testing: ``x-generate-pattern`` becomes
    ``pattern`` and server-minted parameters and properties are dropped."""
    if isinstance(document, list):
        return [generation_spec(item) for item in document
                if not (isinstance(item, dict) and item.get(SERVER_MINTED))]
    if not isinstance(document, dict):
        return document
    out = {}
    for key, value in document.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: generation_spec(sub) for name, sub in value.items()
                        if not (isinstance(sub, dict) and sub.get(SERVER_MINTED))}
        else:
            out[key] = generation_spec(value)
    if GENERATE_PATTERN in out:
        out["pattern"] = out.pop(GENERATE_PATTERN)
    return out


def conformance_operations() -> list[tuple[str, str]]:
    """(vendor, operationId) of every discovered vendor's spec."""
    from mockserver.data import spec_path
    from mockserver.engine.spec import load_spec
    from mockserver.vendors import discover

    return [(vendor.name, op.operation_id) for vendor in discover()
            for op in load_spec(spec_path(vendor.spec_file)).operations]


def conformance_schema(vendor: str, mode: str, settings: Settings | None = None) -> tuple[Any, Any]:
    """A schemathesis schema of ``vendor``'s spec bound in process to a fresh app, for ``mode``
    (``positive``: generation hints applied; ``negative``: the spec as served)."""
    import copy

    import schemathesis
    import yaml

    from mockserver.data import spec_path
    from mockserver.vendors import by_name

    app = create_app(settings or Settings(now=DEFAULT_NOW, log_level="warning"))
    raw = yaml.safe_load(spec_path(by_name()[vendor].spec_file).read_text(encoding="utf-8"))
    document = generation_spec(raw) if mode == "positive" else copy.deepcopy(raw)
    schema = schemathesis.openapi.from_dict(document)
    # Auth comes from the world (conformance_headers), not from generated header values: otherwise most
    # negative cases stop at the 403 and never reach the parameters they were meant to break.
    schema.config.generation.update(with_security_parameters=False)
    schema.app = app
    return schema, app


CONFORMANCE_CREDENTIAL = "x-conformance-credential"
"""On an operation: the id of the world credential the suite authenticates it with (an org admin for an
org's logs, a team admin for a team's), where the first credential of the first org would be refused."""


def conformance_headers(app: Any, vendor: str, operation_id: str | None = None) -> dict[str, str]:
    """Auth headers for ``operation_id``: the credential its ``x-conformance-credential`` names, else the
    first credential of the vendor's first org (the world lists an admin first)."""
    runtime = app.state.mock.runtimes[vendor]
    wanted = _conformance_credential(runtime.spec.document, operation_id)
    for org in runtime.orgs.values():
        for cred in org.credentials:
            if wanted in (None, cred.id):
                return dict(runtime.vendor.auth.headers_for(cred.secrets))
    raise LookupError(f"the world has no credential {wanted!r} for {vendor}" if wanted
                      else f"the world has no credential for {vendor}")


def _conformance_credential(document: Any, operation_id: str | None) -> str | None:
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                named = operation.get(CONFORMANCE_CREDENTIAL)
                return str(named) if named else None
    return None
