"""The seam between the contract suite and an audit-log client: implement ``AuditClient`` for yours.

The behaviour tests do not care how a client talks to a vendor. They give it a base URL (the mock on
127.0.0.1) and ready-to-send auth headers, ask it for every event of a time window, and compare the
event ids it returns with what the mock's engine knows exists in that window.

Plugging in your own client
---------------------------
Write an adapter module that exposes one factory::

    # my_project/contract_adapter.py
    from datetime import datetime

    from my_project.exporter import AuditExporter


    class _Adapter:
        def __init__(self, base_url: str, headers: dict[str, str]) -> None:
            self._exporter = AuditExporter(base_url=base_url, auth_headers=headers)

        def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
            return [event["id"] for event in self._exporter.export(window_start, window_end)]


    def make_client(base_url: str, headers: dict[str, str]) -> _Adapter:
        return _Adapter(base_url, headers)

Rules for the adapter:

- Send every request to ``base_url`` (for example ``http://127.0.0.1:40123``); the vendor's real paths
  are served there, so only the base URL changes. Never fall back to the vendor's real host.
- Send ``headers`` as given (``mockserver.testing.LiveServer.headers(vendor)`` builds them, and
  ``mockserver credentials --json`` prints them).
- ``fetch_all`` pages until the client would stop on its own and returns the ids of the events it
  received, in the order received, duplicates included: the tests are there to find duplicates.
- The window is half-open, ``[window_start, window_end)``, and both ends are timezone-aware datetimes.
- Bound your loops: raise instead of paging forever if the server misbehaves.

``contract_tests/clients/datadog_official.py`` is the reference adapter, built on Datadog's official
``datadog-api-client`` package; copy its shape. To hunt for lost or duplicated events in your client
under fault plans, name your factory in ``AUDIT_CLIENT`` (``package.module:make_client``) and the vendor in
``AUDIT_CLIENT_VENDOR`` and run ``contract_tests/behaviour/test_client_under_faults.py``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

__all__ = ["AuditClient", "ClientFactory", "PagingLimitExceeded", "require_loopback"]


@runtime_checkable
class AuditClient(Protocol):
    """A client that can read every audit event of a time window."""

    def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
        """Ids of the events in ``[window_start, window_end)``, in the order received, duplicates kept."""
        ...


ClientFactory = Callable[[str, dict[str, str]], AuditClient]
"""``make_client(base_url, headers)``: what an adapter module exposes."""


class PagingLimitExceeded(RuntimeError):
    """More pages or events than the caller allowed: the server is probably looping."""


def require_loopback(base_url: str) -> None:
    """Refuse any base URL but a loopback one: the reference clients only ever talk to a mock."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if parts.scheme not in ("http", "https") or not loopback:
        raise ValueError(f"refusing {base_url!r}: the reference clients only talk to a mock on 127.0.0.1")
