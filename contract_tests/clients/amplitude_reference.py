"""Reference adapter for Amplitude's Audit Logs API: what a SIEM exporter written from Amplitude's
documentation does (Amplitude publishes no official client for this endpoint).

- ``POST {base_url}/api/2/audit-logs/{ORG_ID}`` with the HTTP Basic header it is given, sent as is;
- Amplitude allows at most 30 days per request (documented), so a longer window is split into
  consecutive half-open chunks ``[t, t + 30 days)``; the mock's windows are half-open too, so an event on
  a chunk boundary belongs to exactly one chunk;
- each chunk is paged with ``pagination.cursor`` until ``pagination.next_cursor`` is null (the mock's
  paging, our choice: Amplitude documents none);
- only loopback base URLs are accepted, and every loop is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contract_tests.clients.protocol import PagingLimitExceeded, require_loopback

__all__ = ["AmplitudeClient", "PagingLimitExceeded", "iso", "make_client", "require_loopback"]

MAX_RANGE = timedelta(days=30)
DEFAULT_ORG_ID = "76273"  # the default world's first Amplitude organization


def iso(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: ``2024-05-01T12:00:00.000Z``."""
    if when.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware datetimes")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class AmplitudeClient:
    base_url: str
    headers: dict[str, str]
    org_id: str = DEFAULT_ORG_ID
    page_size: int = 1000
    filters: dict[str, str] | None = None
    max_events: int = 1_000_000
    max_pages: int = 10_000
    chunks: list[tuple[datetime, datetime]] = field(default_factory=list)
    """The ``[start, end)`` of every request window sent, in order (for tests to check the split)."""

    def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
        uuids: list[str] = []
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30.0,
                          follow_redirects=False) as http:
            start = window_start
            while start < window_end:
                end = min(start + MAX_RANGE, window_end)
                self.chunks.append((start, end))
                uuids.extend(self._chunk(http, start, end, budget=self.max_events - len(uuids)))
                start = end
        return uuids

    def _chunk(self, http: httpx.Client, start: datetime, end: datetime, budget: int) -> list[str]:
        body: dict[str, Any] = {"start_date": iso(start), "end_date": iso(end),
                                "pagination": {"limit": self.page_size}}
        if self.filters:
            body["filters"] = self.filters
        uuids: list[str] = []
        for _ in range(self.max_pages):
            answer = http.post(f"/api/2/audit-logs/{self.org_id}", json=body)
            answer.raise_for_status()
            page = answer.json()
            uuids.extend(entry["uuid"] for entry in page["data"])
            if len(uuids) > budget:
                raise PagingLimitExceeded(f"more than {self.max_events} events received")
            cursor = page["pagination"]["next_cursor"]
            if cursor is None:
                return uuids
            body["pagination"]["cursor"] = cursor
        raise PagingLimitExceeded(f"still paging after {self.max_pages} pages")


def make_client(base_url: str, headers: dict[str, str], *, org_id: str = DEFAULT_ORG_ID, page_size: int = 1000,
                filters: dict[str, str] | None = None, max_events: int = 1_000_000) -> AmplitudeClient:
    """The protocol's ``make_client(base_url, headers)``; ``org_id`` is the ORG_ID of the keys' organization."""
    require_loopback(base_url)
    return AmplitudeClient(base_url, dict(headers), org_id, page_size, filters, max_events)
