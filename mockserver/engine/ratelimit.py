"""Rate limits: per (vendor, org or credential, operation) buckets driven by the mock clock.

A vendor declares its dialect as data (``RateLimitPolicy`` on ``Vendor.rate_limit``); the engine
counts requests in fixed windows aligned on the clock's epoch (a 60 s window starts at :00), so
advancing the clock into the next window refills every bucket.

The limit an org gets, highest precedence first (the same order for ``period_s`` and ``enabled``)::

    runtime, org level     PUT /_mock/ratelimits {"vendors": {v: {"orgs": {org: {...}}}}}
    runtime, vendor level  PUT /_mock/ratelimits {"vendors": {v: {...}}}
    world file             <vendor>.orgs[i].rate_limit: {limit, period_s, enabled}
    plan                   policy.plan_limits[org.plan] (Make: Core 60, Pro 120, ...)
    vendor                 policy.limit

Only allowed requests use up the limit; refused ones are counted apart (``Bucket.refused``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from mockserver.engine.world import Credential, Org, World, WorldError

if TYPE_CHECKING:
    from mockserver.engine.clock import Clock
    from mockserver.engine.vendor import Vendor

HeaderStyle = Literal["x-ratelimit", "retry-after"]
"""``x-ratelimit``: Datadog's five X-RateLimit-* headers on every answer (Reset = seconds until the
window resets) and on the 429; ``retry-after``: only ``Retry-After`` on the 429."""

OVERRIDE_KEYS = ("enabled", "limit", "period_s")
MAX_LIMIT = 1_000_000_000
MAX_PERIOD_S = 86_400
Override = dict[str, int | bool]
Source = Literal["vendor", "plan", "world", "runtime", "none"]


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
    """Limit by the org's ``plan`` in the world file (Make: Core 60, Pro 120, ...); matched ignoring case."""
    headers: HeaderStyle = "retry-after"
    name: str = ""
    """The bucket's name, sent as X-RateLimit-Name by the x-ratelimit style."""
    message: str | None = None
    """The 429's message, when the vendor has its own (Make's)."""


UNDECLARED = RateLimitPolicy(limit=0, period_s=60)
"""The dialect of a vendor that declares no policy, when the world or the control API gives it a limit."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the limiter says of one request: allowed or not, and the headers the answer carries."""

    allowed: bool
    headers: Mapping[str, str]
    retry_after_s: int = 0
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Effective:
    """The limit that applies to one org of one vendor, and where it comes from."""

    limit: int | None
    period_s: int
    enabled: bool
    source: Source
    policy: RateLimitPolicy

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "period_s": self.period_s, "enabled": self.enabled, "source": self.source}


@dataclass(slots=True)
class Bucket:
    window: int
    period_ms: int
    limit: int
    used: int = 0
    refused: int = 0

    @property
    def start_ms(self) -> int:
        return self.window * self.period_ms

    @property
    def end_ms(self) -> int:
        return (self.window + 1) * self.period_ms


class RateLimitConfigError(ValueError):
    """A rate-limit setting the server cannot use; ``str()`` is one line naming where it is."""


def check_override(raw: object, where: str, *, allow_null: bool, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{limit, period_s, enabled}`` checked (plus ``extra`` keys, returned unchecked); a null value
    (when ``allow_null``) means "remove this override"."""
    if not isinstance(raw, Mapping):
        raise RateLimitConfigError(f"{where}: must be an object")
    known = sorted((*OVERRIDE_KEYS, *extra))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise RateLimitConfigError(f"{where}.{key}: unknown key (known: {', '.join(known)})")
        if key in extra or (value is None and allow_null):
            out[key] = value
        elif key == "enabled":
            if not isinstance(value, bool):
                raise RateLimitConfigError(f"{_at(where, 'enabled')}: must be true or false")
            out[key] = value
        else:
            top = MAX_LIMIT if key == "limit" else MAX_PERIOD_S
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise RateLimitConfigError(f"{_at(where, key)}: must be a positive integer (at most {top})")
            out[key] = value
    return out


def _at(where: str, key: str) -> str:
    return key if where == "body" else f"{where}.{key}"


def seconds_until(end_ms: int, now_ms: int) -> int:
    """Whole seconds until ``end_ms``, rounded up: a client that waits that long finds the new window."""
    return max(0, math.ceil((end_ms - now_ms) / 1000))


class RateLimiter:
    """Buckets per (vendor, org or credential, operation), in windows of the mock clock."""

    def __init__(self, clock: Clock, world: World, *, enabled: bool = True, source: str = "world") -> None:
        self.clock = clock
        self.world = world
        self.default_enabled = enabled
        """The configured global switch (``--no-rate-limits``); ``reset()`` comes back to it."""
        self._runtime_enabled: bool | None = None
        self._world: dict[tuple[str, str], Override] = {}
        for vendor, orgs in world.orgs.items():
            for n, org in enumerate(orgs):
                if org.rate_limit is not None:
                    where = f"{vendor}.orgs[{n}].rate_limit"
                    try:
                        self._world[vendor, org.id] = check_override(org.rate_limit, where, allow_null=False)
                    except RateLimitConfigError as exc:
                        raise WorldError(f"{source}: {exc}") from None
        self._vendor_rt: dict[str, Override] = {}
        self._org_rt: dict[tuple[str, str], Override] = {}
        self._cache: dict[tuple[str, str | None], Effective] = {}
        self._generation = 0
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._sweep_at = math.inf
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """The global switch: the runtime override (``PUT /_mock/ratelimits {"enabled": false}``) if any,
        else the configured one. Setting it sets the configured switch (as build_server does)."""
        return self.default_enabled if self._runtime_enabled is None else self._runtime_enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self.default_enabled = value
        self._runtime_enabled = None

    # -- the request path --------------------------------------------------------------------------------
    def take(self, vendor: Vendor, org: Org, credential: Credential, operation: str, now_ms: int) -> Verdict | None:
        """Count one request; None when no limit applies to it."""
        if not self.enabled:
            return None
        eff = self.effective(vendor, org)
        if eff.limit is None or not eff.enabled:
            return None
        policy = eff.policy
        key = (vendor.name, credential.id if policy.scope == "credential" else org.id,
               operation if policy.per_operation else "*")
        period_ms = eff.period_s * 1000
        window = now_ms // period_ms
        with self._lock:
            if now_ms >= self._sweep_at:
                self._sweep(now_ms)
            bucket = self._buckets.get(key)
            if bucket is None or bucket.window != window or bucket.period_ms != period_ms:
                bucket = self._buckets[key] = Bucket(window, period_ms, eff.limit)
                self._sweep_at = min(self._sweep_at, bucket.end_ms)
            bucket.limit = eff.limit
            allowed = bucket.used < eff.limit
            if allowed:
                bucket.used += 1
            else:
                bucket.refused += 1
            remaining = max(0, eff.limit - bucket.used)
        reset_s = seconds_until(bucket.end_ms, now_ms)
        headers = self._headers(eff, eff.limit, remaining, reset_s)
        if allowed:
            return Verdict(True, headers)
        return Verdict(False, headers, retry_after_s=reset_s, message=policy.message)

    def fault_headers(self, vendor: Vendor, org: Org | None, operation: str, retry_after_s: int) -> dict[str, str]:
        """The dialect's headers for a 429 a fault plan injects (Remaining 0, Reset = retry_after_s)."""
        eff = self.effective(vendor, org)
        if eff.limit is None:
            return {}
        return self._headers(eff, eff.limit, 0, retry_after_s)

    @staticmethod
    def _headers(eff: Effective, limit: int, remaining: int, reset_s: int) -> dict[str, str]:
        if eff.policy.headers != "x-ratelimit":
            return {}
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Period": str(eff.period_s),
                "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset_s),
                "X-RateLimit-Name": eff.policy.name}

    def _sweep(self, now_ms: int) -> None:
        """Drop the buckets of past windows (memory stays bounded by the buckets of one window)."""
        self._buckets = {key: b for key, b in self._buckets.items() if b.start_ms <= now_ms < b.end_ms}
        self._sweep_at = min((b.end_ms for b in self._buckets.values()), default=math.inf)

    # -- configuration --------------------------------------------------------------------------------------
    def effective(self, vendor: Vendor, org: Org | None) -> Effective:
        """The limit, period and switch that apply to ``org`` (None: the vendor's default)."""
        cache_key = (vendor.name, org.id if org is not None else None)
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        generation = self._generation
        policy = vendor.rate_limit or UNDECLARED
        limit: int | None = None if vendor.rate_limit is None else policy.limit
        source: Source = "none" if limit is None else "vendor"
        if org is not None and org.plan is not None and policy.plan_limits:
            plans = {name.casefold(): value for name, value in policy.plan_limits.items()}
            if org.plan.casefold() in plans:
                limit, source = plans[org.plan.casefold()], "plan"
        period_s, enabled = policy.period_s, True
        layers: list[tuple[Override, Literal["world", "runtime"]]] = [(self._vendor_rt.get(vendor.name, {}), "runtime")]
        if org is not None:
            layers.insert(0, (self._world.get((vendor.name, org.id), {}), "world"))
            layers.append((self._org_rt.get((vendor.name, org.id), {}), "runtime"))
        for layer, name in layers:
            if "limit" in layer:
                limit, source = int(layer["limit"]), name
            period_s = int(layer.get("period_s", period_s))
            enabled = bool(layer.get("enabled", enabled))
        eff = Effective(limit, period_s, enabled, source, policy)
        with self._lock:
            if generation == self._generation:  # no override landed while this one was worked out
                self._cache[cache_key] = eff
        return eff

    def override(self, vendors: Mapping[str, Mapping[str, Any]] | None = None,
                 orgs: Mapping[tuple[str, str], Mapping[str, Any]] | None = None, enabled: bool | None = None) -> None:
        """Merge runtime overrides (checked by ``check_override``; a None value removes that override) per
        vendor and per (vendor, org id), and set the global switch unless ``enabled`` is None."""
        with self._lock:
            if enabled is not None:
                self._runtime_enabled = enabled
            for name, patch_v in (vendors or {}).items():
                _merge(self._vendor_rt, name, patch_v)
            for key, patch_o in (orgs or {}).items():
                _merge(self._org_rt, key, patch_o)
            self._forget()

    def _forget(self) -> None:
        self._cache.clear()
        self._generation += 1

    def clear_overrides(self) -> None:
        """Back to the world's configuration (``DELETE /_mock/ratelimits``); the counts stay."""
        with self._lock:
            self._runtime_enabled = None
            self._vendor_rt.clear()
            self._org_rt.clear()
            self._forget()

    def reset(self) -> None:
        """Every bucket full again, runtime configuration back to the world's."""
        self.clear_overrides()
        with self._lock:
            self._buckets.clear()
            self._sweep_at = math.inf

    # -- what the control API shows -------------------------------------------------------------------------
    @property
    def bucket_count(self) -> int:
        return len(self._buckets)

    def buckets(self, now_ms: int) -> list[tuple[tuple[str, str, str], Bucket]]:
        """The buckets of the current windows, by (vendor, org or credential id, operation or "*")."""
        with self._lock:
            current = [(key, replace(b)) for key, b in self._buckets.items() if b.start_ms <= now_ms < b.end_ms]
        return sorted(current, key=lambda item: item[0])


def _merge(store: dict[Any, Override], key: Any, patch: Mapping[str, Any]) -> None:
    merged: Override = dict(store.get(key, {}))
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    if merged:
        store[key] = merged
    else:
        store.pop(key, None)
