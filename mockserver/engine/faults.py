"""Fault plans: rules of match (vendor, operation, org, method, path glob) + when (seeded probability,
every nth, first N, between two times) + action (latency, 5xx/429, dropped connection, truncated,
malformed or slow body, empty page, schema drift). STUB: the interface is fixed, the engine is being
written (never fires yet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import Scope

from mockserver.errors import VendorError


@dataclass(frozen=True, slots=True)
class RequestFacts:
    vendor: str
    operation: str
    org: str | None
    method: str
    path: str
    now_ms: int


@dataclass(frozen=True, slots=True)
class Fault:
    """One rule firing on one request."""

    label: str
    """For the journal: ``<rule name>:<action>``."""

    async def before(self, scope: Scope) -> None:
        """Runs before the vendor answers: sleeps for latency; leaves body-level actions in ``scope``
        for FaultMiddleware."""

    def error(self) -> VendorError | None:
        """The error to answer with instead (ServerFault, or TooManyRequests for a 429), or None."""
        return None


class FaultEngine:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def decide(self, facts: RequestFacts) -> Fault | None:
        return None

    def reset(self) -> None:
        """No plan installed, every counter back to zero."""

    def snapshot(self) -> dict[str, Any]:
        return {"rules": []}
