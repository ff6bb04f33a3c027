"""Reference adapters on Datadog's official Python client, ``datadog-api-client``, used unchanged.

Two ways the official client pages audit events (VENDORS.md, Datadog: "datadog-api-client"):

- ``make_list_client``: ``AuditApi.list_audit_logs_with_pagination`` (``GET /api/v2/audit/events``); the
  window goes in as ``datetime`` objects and the client serialises them itself (``+00:00`` for aware
  datetimes, ``...000Z`` for naive ones);
- ``make_search_client``: ``AuditApi.search_audit_logs_with_pagination`` (``POST
  /api/v2/audit/events/search``) with an ``AuditLogsSearchEventsRequest``; the body's ``from``/``to``
  are strings in the model, so they are written with the same rule the client applies to datetimes.

Both follow only ``meta.page.after`` and stop on an empty page or a missing cursor: that is the
official client's own loop, not ours. Nothing here can reach a real Datadog host: the base URL must be
a loopback URL, it is set as ``Configuration(host=...)`` (which the client uses verbatim, ignoring
``DD_SITE``), and by default the client neither retries nor follows redirects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.model_utils import data_to_dict
from datadog_api_client.v2.api.audit_api import AuditApi
from datadog_api_client.v2.model.audit_logs_query_filter import AuditLogsQueryFilter
from datadog_api_client.v2.model.audit_logs_query_page_options import AuditLogsQueryPageOptions
from datadog_api_client.v2.model.audit_logs_search_events_request import AuditLogsSearchEventsRequest
from datadog_api_client.v2.model.audit_logs_sort import AuditLogsSort
from urllib3.util import Retry

from contract_tests.clients.protocol import PagingLimitExceeded, require_loopback

__all__ = ["PagingLimitExceeded", "make_client", "make_list_client", "make_search_client", "official_configuration"]

Sort = Literal["timestamp", "-timestamp"]
API_KEY_HEADER = "DD-API-KEY"
APP_KEY_HEADER = "DD-APPLICATION-KEY"
DEFAULT_MAX_EVENTS = 100_000


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def official_configuration(base_url: str, headers: Mapping[str, str], *, enable_retry: bool = False) -> Configuration:
    """A ``Configuration`` aimed at the mock only, with the keys from ``headers``."""
    require_loopback(base_url)
    keys = {"apiKeyAuth": _header(headers, API_KEY_HEADER), "appKeyAuth": _header(headers, APP_KEY_HEADER)}
    # retry_policy wins over enable_retry in the client; without retries, no redirect is followed either.
    configuration = Configuration(host=base_url, api_key={name: key for name, key in keys.items() if key},
                                  enable_retry=enable_retry,
                                  retry_policy=None if enable_retry else Retry(total=0, redirect=False))
    if configuration.host != base_url or configuration.server_operation_index:
        raise ValueError(f"the client would not send every request to {base_url!r}")
    return configuration


@dataclass
class _OfficialClient:
    configuration: Configuration
    page_size: int
    sort: Sort
    query: str
    naive_utc: bool
    max_events: int

    def fetch_all(self, window_start: datetime, window_end: datetime) -> list[str]:
        start, end = self._instant(window_start), self._instant(window_end)
        ids: list[str] = []
        with ApiClient(self.configuration) as api_client:
            for event in self._events(AuditApi(api_client), start, end):
                if len(ids) >= self.max_events:
                    raise PagingLimitExceeded(f"more than {self.max_events} events received")
                ids.append(str(event.id))
        return ids

    def _instant(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware datetimes")
        return when.astimezone(UTC).replace(tzinfo=None) if self.naive_utc else when

    def _events(self, api: AuditApi, start: datetime, end: datetime) -> Iterable[Any]:
        raise NotImplementedError


class ListAuditLogsClient(_OfficialClient):
    """``GET /api/v2/audit/events`` through ``list_audit_logs_with_pagination``."""

    def _events(self, api: AuditApi, start: datetime, end: datetime) -> Iterable[Any]:
        return api.list_audit_logs_with_pagination(filter_query=self.query, filter_from=start, filter_to=end,
                                                   sort=AuditLogsSort(self.sort), page_limit=self.page_size)


class SearchAuditLogsClient(_OfficialClient):
    """``POST /api/v2/audit/events/search`` through ``search_audit_logs_with_pagination``."""

    def _events(self, api: AuditApi, start: datetime, end: datetime) -> Iterable[Any]:
        # The model types from/to as strings: write them as the client writes datetimes in a query string.
        body = AuditLogsSearchEventsRequest(
            filter=AuditLogsQueryFilter(_from=data_to_dict(start), to=data_to_dict(end), query=self.query),
            page=AuditLogsQueryPageOptions(limit=self.page_size),
            sort=AuditLogsSort(self.sort),
        )
        return api.search_audit_logs_with_pagination(body=body)


def make_list_client(base_url: str, headers: dict[str, str], *, page_size: int = 10, sort: Sort = "-timestamp",
                     query: str = "*", naive_utc: bool = False, enable_retry: bool = False,
                     max_events: int = DEFAULT_MAX_EVENTS) -> ListAuditLogsClient:
    """The official client's GET pagination. ``naive_utc`` hands it naive UTC datetimes (sent as ``Z``)."""
    return ListAuditLogsClient(official_configuration(base_url, headers, enable_retry=enable_retry),
                               page_size, sort, query, naive_utc, max_events)


def make_search_client(base_url: str, headers: dict[str, str], *, page_size: int = 10, sort: Sort = "-timestamp",
                       query: str = "*", naive_utc: bool = False, enable_retry: bool = False,
                       max_events: int = DEFAULT_MAX_EVENTS) -> SearchAuditLogsClient:
    """The official client's POST search pagination, same options as ``make_list_client``."""
    return SearchAuditLogsClient(official_configuration(base_url, headers, enable_retry=enable_retry),
                                 page_size, sort, query, naive_utc, max_events)


make_client = make_list_client
"""The protocol's ``make_client(base_url, headers)``: the GET pagination with the client's defaults."""

