"""A reference Make audit-log client, on httpx: the loop a Make connector runs, as an ``AuditClient``.

Make publishes no Python client; its official TypeScript SDK (``@makehq/sdk``) builds
``{zone}/api/v2{path}``, sends array filters as ``event[]=a&event[]=b`` and pages by passing the key of the
last entry received as ``pg[last]``. This client does the same against any base URL (the mock's is
``http://127.0.0.1:<port>``), so it doubles as a model for yours:

- the window ``[start, end)`` becomes ``dateFrom`` = start and ``dateTo`` = end - 1 ms, because Make's
  dates are inclusive at both ends;
- ``paging="last"`` follows ``pg[last]`` = the uuid of the last entry until a page is empty (stable
  when entries arrive meanwhile); ``paging="offset"`` adds ``pg[limit]`` to ``pg[offset]`` until a page is
  short (Make's offsets count from the top, so entries arriving meanwhile shift them);
- ``array_style`` writes filters the three ways clients do (``brackets``: the SDK's ``x[]=``, ``indexed``:
  Make's documented ``x[0]=``, ``repeated``: ``x=a&x=b``).

``make_client(base_url, headers)`` reads the organization of the default world's first Make org; use
``client_factory(organization_id=..., team_id=...)`` for another org or a team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from contract_tests.clients.protocol import ClientFactory, PagingLimitExceeded, require_loopback

__all__ = ["DEFAULT_ORGANIZATION", "MakeAuditClient", "PagingLimitExceeded", "client_factory", "make_client"]

DEFAULT_ORGANIZATION = 5100231
"""Umbrella Automation, the first Make org of the shipped fixtures/world.yaml."""
Paging = Literal["last", "offset"]
ArrayStyle = Literal["brackets", "indexed", "repeated"]


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_filters(filters: Mapping[str, Sequence[str]], style: ArrayStyle) -> list[tuple[str, str]]:
    """``{"event": ["a", "b"]}`` as query pairs in ``style``."""
    pairs: list[tuple[str, str]] = []
    for name, values in filters.items():
        for n, value in enumerate(values):
            key = {"brackets": f"{name}[]", "indexed": f"{name}[{n}]", "repeated": name}[style]
            pairs.append((key, str(value)))
    return pairs


@dataclass
class MakeAuditClient:
    base_url: str
    headers: dict[str, str]
    organization_id: int = DEFAULT_ORGANIZATION
    team_id: int | None = None
    paging: Paging = "last"
    page_size: int = 1000
    sort_by: str = "triggeredAt"
    sort_dir: Literal["asc", "desc"] = "asc"
    array_style: ArrayStyle = "brackets"
    filters: dict[str, list[str]] = field(default_factory=dict)
    max_pages: int = 10_000
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        require_loopback(self.base_url)

    @property
    def path(self) -> str:
        if self.team_id is not None:
            return f"/api/v2/audit-logs/team/{self.team_id}"
        return f"/api/v2/audit-logs/organization/{self.organization_id}"

    def entries(self, window_start: datetime, window_end: datetime) -> list[dict[str, Any]]:
        """Every entry of ``[window_start, window_end)``, in the order received, duplicates kept."""
        base = [("dateFrom", _instant(window_start)), ("dateTo", _instant(window_end - timedelta(milliseconds=1))),
                ("pg[sortBy]", self.sort_by), ("pg[sortDir]", self.sort_dir), ("pg[limit]", str(self.page_size)),
                *encode_filters(self.filters, self.array_style)]
        received: list[dict[str, Any]] = []
        offset, last = 0, None
        with httpx.Client(base_url=self.base_url, headers=self.headers, transport=self.transport,
                          follow_redirects=False, timeout=30) as http:
            for _ in range(self.max_pages):
                paging = [("pg[last]", last)] if last else [("pg[offset]", str(offset))] if offset else []
                answer = http.get(f"{self.path}?{urlencode([*base, *paging])}")
                answer.raise_for_status()
                page = answer.json()["auditLogs"]
                received.extend(page)
                if self.paging == "last":
                    if not page:
                        return received
                    last = page[-1]["uuid"]
                else:
                    if len(page) < self.page_size:
                        return received
                    offset += self.page_size
        raise PagingLimitExceeded(f"still paging after {self.max_pages} pages")

    def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
        return [str(entry["uuid"]) for entry in self.entries(window_start, window_end)]


def client_factory(**options: Any) -> ClientFactory:
    """A ``make_client(base_url, headers)`` for the protocol, with ``MakeAuditClient``'s other options."""

    def factory(base_url: str, headers: dict[str, str]) -> MakeAuditClient:
        return MakeAuditClient(base_url, dict(headers), **options)

    return factory


make_client: ClientFactory = client_factory()
"""The protocol's ``make_client(base_url, headers)``: the default world's first org, paged by key."""
