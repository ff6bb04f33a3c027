"""Fault plans: rules of match (vendor, operation, org, method, path glob) + when (seeded probability,
every nth, first N, between two times of the mock clock) + action (latency, 5xx/429, dropped connection,
truncated, malformed or slow body, empty page, schema drift).

The pipeline asks ``FaultEngine.decide`` once per vendor request, before auth. Rules are tried in order
and the first whose match and when both hold fires: one fault per request. Each rule counts the requests
that reach it (no earlier rule fired) and satisfy its match; ``every``, ``first`` and the probability draw
read that count, and the draw is a pure function of (seed, rule index, count). So the same plan, seed and
request sequence give the same faults, whatever the wall clock or the process.

A status action answers instead of the vendor (``Fault.error``); latency sleeps in ``Fault.before``;
body-level actions are left in the scope for ``FaultMiddleware`` (fault_middleware.py), which rewrites
the answer on its way out.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import Scope

from mockserver.engine._fault_plan import parse_plan
from mockserver.engine._fault_types import (
    ACTIONS,
    BODY_ACTIONS,
    DRIFT_KINDS,
    STATUSES,
    Action,
    FaultPlan,
    Match,
    PlanError,
    Rule,
    When,
)
from mockserver.engine.rng import mix64, stable_key
from mockserver.errors import ServerFault, TooManyRequests, VendorError

__all__ = [
    "ACTIONS",
    "DRIFT_KINDS",
    "FAULT_SCOPE_KEY",
    "STATUSES",
    "Action",
    "Fault",
    "FaultEngine",
    "FaultPlan",
    "FaultSlot",
    "Match",
    "PlanError",
    "RequestFacts",
    "Rule",
    "When",
    "parse_plan",
]

FAULT_SCOPE_KEY = "mockserver.fault"
"""Scope key of the ``FaultSlot`` FaultMiddleware puts in every HTTP scope."""
_LATENCY_SALT = 0x6C6174656E6379  # "latency"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    vendor: str
    operation: str
    org: str | None
    method: str
    path: str
    now_ms: int


@dataclass(slots=True)
class FaultSlot:
    """Where ``Fault.before`` leaves a body-level action for FaultMiddleware to apply."""

    action: Action | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    """One rule firing on one request."""

    label: str
    """For the journal: ``<rule name>:<action>``, e.g. ``flaky:status=503``, ``slow:latency=250ms``."""
    action: Action | None = None
    delay_ms: float = 0.0
    """How long ``before`` waits (a latency action), in real milliseconds."""

    async def before(self, scope: Scope) -> None:
        """Runs before the vendor answers: sleeps for latency; leaves body-level actions in ``scope``
        for FaultMiddleware."""
        if self.delay_ms > 0:
            await anyio.sleep(self.delay_ms / 1000)
        if self.action is not None and self.action.type in BODY_ACTIONS:
            slot = scope.get(FAULT_SCOPE_KEY)
            if isinstance(slot, FaultSlot):
                slot.action = self.action

    def error(self) -> VendorError | None:
        """The error to answer with instead (ServerFault, or TooManyRequests for a 429), or None."""
        if self.action is None or self.action.type != "status":
            return None
        status = int(self.action.params["status"])
        if status == 429:
            return TooManyRequests(retry_after=float(self.action.params["retry_after"]))
        return ServerFault(status)


def matches(match: Match, facts: RequestFacts) -> bool:
    return ((match.vendor is None or match.vendor == facts.vendor)
            and (match.operation is None or match.operation == facts.operation)
            and (match.org is None or match.org == facts.org)
            and (match.method is None or match.method == facts.method)
            and (match.path is None or fnmatch.fnmatchcase(facts.path, match.path)))


def _unit(key: int, count: int) -> float:
    """A uniform draw in [0, 1) that depends only on ``key`` and ``count``."""
    return (mix64(key ^ count) >> 11) * (1.0 / 9007199254740992.0)


class FaultEngine:
    """The installed plan and its per-rule counters; thread-safe."""

    def __init__(self, seed: int, plan: FaultPlan | None = None) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._initial = plan or FaultPlan()
        self._plan = self._initial
        self._keys: list[int] = []
        self._matched: list[int] = []
        self._fired: list[int] = []
        self.install(self._initial)

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    @property
    def effective_seed(self) -> int:
        return self.seed if self._plan.seed is None else self._plan.seed

    def install(self, plan: FaultPlan) -> None:
        """Replace the plan; every counter starts again from zero."""
        with self._lock:
            self._plan = plan
            seed = self.seed if plan.seed is None else plan.seed
            self._keys = [stable_key("fault", seed, index) for index in range(len(plan.rules))]
            self._matched = [0] * len(plan.rules)
            self._fired = [0] * len(plan.rules)

    def start_with(self, plan: FaultPlan) -> None:
        """Install ``plan`` as the plan the server starts with, the one ``reset`` returns to."""
        self._initial = plan
        self.install(plan)

    def clear(self) -> None:
        """No rule at all (``DELETE /_mock/faults``)."""
        self.install(FaultPlan())

    def reset(self) -> None:
        """Back to the plan the server started with (``--scenario``, or none), every counter at zero."""
        self.install(self._initial)

    @property
    def armed(self) -> bool:
        """Whether a plan with at least one rule is installed."""
        return bool(self._plan.rules)

    def decide(self, facts: RequestFacts) -> Fault | None:
        rules = self._plan.rules
        if not rules:
            return None
        with self._lock:
            for index, rule in enumerate(self._plan.rules):
                if not matches(rule.match, facts):
                    continue
                self._matched[index] += 1
                count = self._matched[index]
                if self._fires(rule.when, self._keys[index], count, facts.now_ms):
                    self._fired[index] += 1
                    return self._fault(rule, self._keys[index], count)
        return None

    @staticmethod
    def _fires(when: When, key: int, count: int, now_ms: int) -> bool:
        if when.after_ms is not None and now_ms < when.after_ms:
            return False
        if when.before_ms is not None and now_ms >= when.before_ms:
            return False
        if when.first is not None and count > when.first:
            return False
        if when.every is not None and count % when.every:
            return False
        return when.probability is None or _unit(key, count) < when.probability

    @staticmethod
    def _fault(rule: Rule, key: int, count: int) -> Fault:
        action = rule.action
        params = action.params
        if action.type == "latency":
            if "ms" in params:
                delay = float(params["ms"])
            else:
                low, high = float(params["min_ms"]), float(params["max_ms"])
                delay = float(round(low + _unit(key ^ _LATENCY_SALT, count) * (high - low)))
            return Fault(label=f"{rule.name}:latency={delay:g}ms", action=action, delay_ms=delay)
        if action.type == "status":
            return Fault(label=f"{rule.name}:status={params['status']}", action=action)
        if action.type == "drift":
            return Fault(label=f"{rule.name}:drift={params['kind']}", action=action)
        return Fault(label=f"{rule.name}:{action.type}", action=action)

    def snapshot(self) -> dict[str, Any]:
        """The installed plan as ``GET /_mock/faults`` shows it: defaults filled, counters per rule."""
        with self._lock:
            plan, matched, fired = self._plan, list(self._matched), list(self._fired)
            seed = self.seed if plan.seed is None else plan.seed
        body: dict[str, Any] = {"seed": seed}
        if plan.description is not None:
            body["description"] = plan.description
        body["rules"] = [{**rule.as_dict(), "matched": matched[i], "fired": fired[i]}
                         for i, rule in enumerate(plan.rules)]
        return body
