"""Rate limits: per (vendor, org or credential, operation) buckets driven by the mock clock.

A vendor declares its dialect as data (``RateLimitPolicy`` on ``Vendor.rate_limit``); the engine
counts requests in calendar-aligned windows of the mock clock, so advancing the clock refills.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mockserver.engine.clock import Clock
    from mockserver.engine.vendor import Vendor
    from mockserver.engine.world import Credential, Org, World

HeaderStyle = Literal["x-ratelimit", "retry-after"]
"""``x-ratelimit``: Datadog's five X-RateLimit-* headers on every answer (Reset = seconds until the
window resets) and on the 429; ``retry-after``: only ``Retry-After`` on the 429."""


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """A vendor's default rate limit, overridable per org in the world file and at runtime."""

    limit: int
    """Requests allowed per window."""
    period_s: int
    """Window length in seconds, aligned on the clock's epoch (a 60 s window starts at :00)."""
    scope: Literal["org", "credential"] = "org"
    """Who shares a bucket: every credential of an org, or each credential alone."""
    per_operation: bool = True
    """One bucket per operation (True) or one for every operation of the vendor."""
    plan_limits: Mapping[str, int] = field(default_factory=dict)
    """Limit by the org's ``plan`` in the world file (Make: Core 60, Pro 120, ...)."""
    headers: HeaderStyle = "retry-after"
    name: str = ""
    """The bucket's name, sent as X-RateLimit-Name by the x-ratelimit style."""
    message: str | None = None
    """The 429's message, when the vendor has its own (Make's)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the limiter says of one request: allowed or not, and the headers the answer carries."""

    allowed: bool
    headers: Mapping[str, str]
    retry_after_s: int = 0
    message: str | None = None


class RateLimiter:
    """Buckets per (vendor, org or credential, operation). STUB: the interface is fixed, the counting
    is being written (never limits yet)."""

    def __init__(self, clock: Clock, world: World) -> None:
        self.clock = clock
        self.world = world
        self.enabled = True

    def take(self, vendor: Vendor, org: Org, credential: Credential, operation: str, now_ms: int) -> Verdict | None:
        """Count one request; None when no limit applies to it."""
        return None

    def fault_headers(self, vendor: Vendor, org: Org | None, operation: str, retry_after_s: int) -> dict[str, str]:
        """The dialect's headers for a 429 a fault plan injects (Remaining 0, Reset = retry_after_s)."""
        return {}

    def reset(self) -> None:
        """Every bucket full again, runtime configuration back to the world's."""
