"""The pytest plugin (registered by entry point) and helpers for testing clients against the mock.

One import, a fixture, a documented seam::

    def test_my_exporter(mock_server):            # a live server on 127.0.0.1, a free port
        headers = mock_server.headers("datadog")  # the first credential of the first org
        my_exporter.run(base_url=mock_server.url, headers=headers)

Override ``mock_settings`` in your conftest.py to choose the seed, the frozen clock or the world.
``LiveServer`` also works without pytest, as a context manager.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.settings import Settings

__all__ = ["LiveServer", "mock_server", "mock_settings"]

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


@pytest.fixture
def mock_settings() -> Settings:
    """The settings of ``mock_server``: override this fixture to change seed, clock or world."""
    return Settings(now=DEFAULT_NOW, log_level="warning")


@pytest.fixture
def mock_server(mock_settings: Settings) -> Iterator[LiveServer]:
    """A live mock server for one test, stopped afterwards."""
    with LiveServer(mock_settings) as server:
        yield server
