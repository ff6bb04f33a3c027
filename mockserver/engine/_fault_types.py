"""The shapes of a fault plan: rules of match + when + action, the actions and their parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

STATUSES = (429, 500, 502, 503, 504)
DRIFT_KINDS = ("extra_field", "null", "unknown_enum")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
MAX_RULES = 256
MAX_SEED = (1 << 63) - 1
MAX_COUNT = 10**12
"""Largest ``every`` or ``first``."""
MATCH_KEYS = ("vendor", "operation", "org", "method", "path")
MAX_MS = 600_000
"""Longest latency or slow-body interval a rule may ask for: ten minutes."""


class PlanError(ValueError):
    """A fault plan the server cannot use; ``str()`` is one line naming the rule and the field."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an action: a number (``integer`` or not) in [low, high] (``high_open``: [low, high)),
    or one of ``choices``; ``default`` None means required (unless ``optional``)."""

    low: float = 0
    high: float = MAX_MS
    integer: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    default: Any = None
    optional: bool = False


ACTIONS: dict[str, dict[str, Param]] = {
    "latency": {"ms": Param(optional=True), "min_ms": Param(optional=True), "max_ms": Param(optional=True)},
    "status": {"status": Param(choices=STATUSES), "retry_after": Param(high=86_400, optional=True)},
    "drop": {},
    "truncate": {"fraction": Param(high=1, high_open=True, default=0.5)},
    "malformed": {},
    "slow_body": {"chunk_bytes": Param(low=1, high=1 << 20, integer=True, default=64),
                  "interval_ms": Param(high=60_000, default=100)},
    "empty_page": {},
    "drift": {"kind": Param(choices=DRIFT_KINDS)},
}
BODY_ACTIONS = frozenset({"drop", "truncate", "malformed", "slow_body", "empty_page", "drift"})
"""Actions FaultMiddleware applies to the answer on its way out."""


@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a rule looks at; None matches anything."""

    vendor: str | None = None
    operation: str | None = None
    org: str | None = None
    method: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class When:
    """Which of the matching requests fire (every condition given must hold)."""

    probability: float | None = None
    every: int | None = None
    first: int | None = None
    after_ms: int | None = None
    before_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Action:
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    """Every parameter of the type that applies, defaults filled."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: Action
    match: Match = Match()
    when: When = When()

    def as_dict(self) -> dict[str, Any]:
        match = {key: getattr(self.match, key) for key in MATCH_KEYS if getattr(self.match, key) is not None}
        when: dict[str, Any] = {key: getattr(self.when, key) for key in ("probability", "every", "first")
                                if getattr(self.when, key) is not None}
        if self.when.after_ms is not None:
            when["after"] = iso_ms(self.when.after_ms)
        if self.when.before_ms is not None:
            when["before"] = iso_ms(self.when.before_ms)
        return {"name": self.name, "match": match, "when": when, "action": {"type": self.action.type,
                                                                            **self.action.params}}


@dataclass(frozen=True, slots=True)
class FaultPlan:
    rules: tuple[Rule, ...] = ()
    seed: int | None = None
    """None: the server's --seed."""
    description: str | None = None


FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def iso_ms(ms: int) -> str:
    """RFC 3339 with milliseconds, four-digit years included (year 7 is ``0007``)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
