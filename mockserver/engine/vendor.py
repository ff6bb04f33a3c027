"""What a vendor module declares, and what a handler receives.

A vendor module holds one ``VENDOR = Vendor(...)``: data (name, spec file, auth scheme, retention,
event recipe, error envelope) plus one handler per operationId. The engine does everything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver.engine.auth import AuthScheme, CredentialIndex
from mockserver.engine.cache import ByteCache
from mockserver.engine.clock import Clock
from mockserver.engine.events import EventFactory, EventRenderer, OrgStream
from mockserver.engine.faults import FaultEngine
from mockserver.engine.ratelimit import RateLimiter, RateLimitPolicy
from mockserver.engine.spec import ApiSpec, Operation
from mockserver.engine.world import Credential, Org
from mockserver.errors import VendorError


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated, validated request, as a handler sees it."""

    request: Request
    runtime: VendorRuntime
    operation: Operation
    credential: Credential
    params: Mapping[str, Any]
    body: Any
    now_ms: int
    prefix: str
    replay_key: tuple[object, ...] | None = None

    def remember(self, body: bytes, valid_until_ms: int | None) -> None:
        """Offer a 200 answer for replay to identical requests. ``valid_until_ms``: the clock time up to
        which the answer stays true (None: it depends on the exact clock, e.g. ``now-15m``; it is then
        replayed only while the clock shows the same millisecond, as a frozen clock does)."""
        if self.replay_key is None:
            return
        if valid_until_ms is None:
            if self.runtime.clock.state.frozen:  # a running clock never shows the same millisecond twice
                self.runtime.answers.put((*self.replay_key, self.now_ms), (body, self.now_ms + 1))
        elif valid_until_ms > self.now_ms:
            self.runtime.answers.put((*self.replay_key, STABLE), (body, valid_until_ms))

    def stream(self, org_id: str | None = None) -> OrgStream | None:
        return self.runtime.streams.get(org_id or self.credential.org_id)

    def base_url(self) -> str:
        """Scheme, host and mount prefix of this request: ``http://127.0.0.1:8080/datadog``."""
        url = self.request.url
        return f"{url.scheme}://{url.netloc}{self.prefix}"


STABLE = "stable"
"""Replay-key suffix of answers that do not depend on the exact clock time."""

Handler = Callable[[Call], Awaitable[Response]]
ErrorRenderer = Callable[[VendorError], Response]


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    title: str
    spec_file: str
    auth: AuthScheme
    retention_days: int
    default_events_per_day: int
    events: EventFactory
    handlers: Mapping[str, Handler]
    render_error: ErrorRenderer
    render_event: EventRenderer | None = None
    """Optional fast path of ``events``: the same event as JSON bytes (a test must hold them equal)."""
    docs: str = ""
    path_prefix: str = ""
    """Prefix of every spec path on the wire (Make's spec paths are relative to /api/v2)."""
    entry_schema: str = ""
    """Name of the spec's component schema of one audit entry (``POST /_mock/events`` checks injected
    entries against it)."""
    timestamp_path: tuple[str, ...] = ()
    """Where an entry keeps its ISO 8601 time, e.g. ``("attributes", "timestamp")``."""
    id_path: tuple[str, ...] = ()
    """Where an entry keeps its unique id, e.g. ``("id",)`` (what a client de-duplicates on)."""
    rate_limit: RateLimitPolicy | None = None
    """The vendor's default rate limit; None: not rate limited unless configured."""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class VendorRuntime:
    """A vendor wired to this server's world, corpus, clock and spec."""

    vendor: Vendor
    spec: ApiSpec
    credentials: CredentialIndex
    orgs: Mapping[str, Org]
    streams: Mapping[str, OrgStream]
    clock: Clock
    seed: int
    answers: ByteCache[tuple[Any, ...], tuple[bytes, int]]
    """Whole answers offered by handlers for replay (``Call.remember``), shared with the corpus."""
    faults: FaultEngine
    limits: RateLimiter
    state: dict[str, Any] = field(default_factory=dict)
