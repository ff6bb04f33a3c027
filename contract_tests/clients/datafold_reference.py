"""Reference adapter for Datafold's ``GET /api/v1/audit_logs``: what an exporter written from Datafold's
OpenAPI document does (Datafold's SDK has no audit-log call).

- ``Authorization: Key <api-key>`` as given; the window goes in a JSON body on the GET
  (``{"start_date", "end_date"}``), as Datafold documents;
- there is no pagination, and the mock caps an answer at 10,000 entries (400 naming the count above it,
  our choice): the client asks for ``chunk`` at a time and halves a chunk the server refuses as too
  large, down to ``min_chunk``;
- windows are half-open ``[start_date, end_date)`` in the mock, so consecutive chunks sharing a bound
  never share an entry;
- only loopback base URLs are accepted, and every loop is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from contract_tests.clients.amplitude_reference import iso
from contract_tests.clients.protocol import PagingLimitExceeded, require_loopback

__all__ = ["DatafoldClient", "make_client"]


@dataclass
class DatafoldClient:
    base_url: str
    headers: dict[str, str]
    chunk: timedelta = timedelta(days=7)
    min_chunk: timedelta = timedelta(minutes=1)
    max_requests: int = 10_000
    chunks: list[tuple[datetime, datetime]] = field(default_factory=list)
    """The ``[start, end)`` of every request that was answered 200, in order."""
    refused: int = 0
    """How many requests the server refused as holding too many entries."""

    def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
        uuids: list[str] = []
        size = self.chunk
        start = window_start
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60.0,
                          follow_redirects=False) as http:
            for _ in range(self.max_requests):
                if start >= window_end:
                    return uuids
                end = min(start + size, window_end)
                answer = http.request("GET", "/api/v1/audit_logs",
                                      json={"start_date": iso(start), "end_date": iso(end)})
                if answer.status_code == 400 and size > self.min_chunk:
                    self.refused += 1
                    size = max(size / 2, self.min_chunk)
                    continue
                answer.raise_for_status()
                uuids.extend(log["event_uuid"] for log in answer.json()["logs"])
                self.chunks.append((start, end))
                start = end
        raise PagingLimitExceeded(f"still fetching after {self.max_requests} requests")


def make_client(base_url: str, headers: dict[str, str], *, chunk: timedelta = timedelta(days=7)) -> DatafoldClient:
    """The protocol's ``make_client(base_url, headers)``."""
    require_loopback(base_url)
    return DatafoldClient(base_url, dict(headers), chunk)
