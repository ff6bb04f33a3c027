"""The rate-limit engine: fixed windows of the mock clock, buckets by scope and operation, the limit each
org gets (vendor, plan, world file, runtime), the global switch, bounded memory and the headers."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import Response

from mockserver.engine.auth import HeaderKeys
from mockserver.engine.clock import Clock
from mockserver.engine.events import OrgStream
from mockserver.engine.ratelimit import RateLimiter, RateLimitPolicy, Verdict
from mockserver.engine.rng import Rng
from mockserver.engine.vendor import Vendor
from mockserver.engine.world import Credential, Org, World, WorldError, parse_world
from mockserver.errors import VendorError

DATADOG_DOCS = "Datadog API reference: Rate Limits (X-RateLimit-* headers, calendar-aligned periods)"
MINUTE = 60_000
T0 = 1_714_564_800_000  # 2024-05-01T12:00:00Z, a whole minute: windows of 60 s start here
POLICY = RateLimitPolicy(limit=2, period_s=60, headers="x-ratelimit", name="audit_logs")


def _no_events(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    raise AssertionError("not used")


def _render(error: VendorError) -> Response:
    return Response(status_code=error.status)


def vendor(policy: RateLimitPolicy | None = POLICY) -> Vendor:
    return Vendor(name="v", title="V", spec_file="", auth=HeaderKeys((("X-Key", "key"),)), retention_days=90,
                  default_events_per_day=1, events=_no_events, handlers={}, render_error=_render,
                  rate_limit=policy)


def org_data(org_id: str, *credentials: str, **extra: Any) -> dict[str, Any]:
    return {"id": org_id, "name": org_id.title(), **extra,
            "credentials": [{"id": c, "role": "admin", "secrets": {"key": f"{org_id}-{c}"}} for c in credentials]}


def make_world(*orgs: dict[str, Any]) -> World:
    return parse_world({"v": {"orgs": list(orgs)}}, {"v": ("key",)})


WORLD = make_world(org_data("acme", "a1", "a2"), org_data("globex", "g1"))


def limiter(world: World = WORLD, **kwargs: Any) -> RateLimiter:
    return RateLimiter(Clock(frozen_at_ms=T0), world, **kwargs)


def org(world: World, org_id: str) -> Org:
    found = world.org("v", org_id)
    assert found is not None
    return found


def cred(world: World, org_id: str, n: int = 0) -> Credential:
    return org(world, org_id).credentials[n]


def take(lim: RateLimiter, v: Vendor, org_id: str = "acme", n: int = 0, op: str = "List",
         now_ms: int = T0) -> Verdict:
    verdict = lim.take(v, org(lim.world, org_id), cred(lim.world, org_id, n), op, now_ms)
    assert verdict is not None
    return verdict


def allowed(lim: RateLimiter, v: Vendor, times: int, **kwargs: Any) -> list[bool]:
    return [take(lim, v, **kwargs).allowed for _ in range(times)]


# -- windows and the clock ------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_the_limit_holds_within_a_window_aligned_on_the_clock_and_the_next_window_refills() -> None:
    lim, v = limiter(), vendor()
    assert allowed(lim, v, 3, now_ms=T0 + 59_000) == [True, True, False]
    assert allowed(lim, v, 3, now_ms=T0 + 59_999) == [False] * 3  # still the window [T0, T0+60 s)
    assert allowed(lim, v, 3, now_ms=T0 + MINUTE) == [True, True, False]  # the window starts on the minute


@pytest.mark.mock_only
def test_advancing_the_mock_clock_refills_the_bucket() -> None:
    lim, v = limiter(), vendor()
    clock = lim.clock
    assert allowed(lim, v, 3, now_ms=clock.now_ms()) == [True, True, False]
    clock.advance(59_999)
    assert not take(lim, v, now_ms=clock.now_ms()).allowed
    clock.advance(1)
    assert allowed(lim, v, 3, now_ms=clock.now_ms()) == [True, True, False]


@pytest.mark.mock_only
def test_a_clock_set_back_starts_a_new_window_instead_of_reusing_a_later_one() -> None:
    lim, v = limiter(), vendor()
    assert allowed(lim, v, 3, now_ms=T0 + 5 * MINUTE) == [True, True, False]
    assert allowed(lim, v, 3, now_ms=T0) == [True, True, False]


@pytest.mark.mock_only
def test_refused_requests_do_not_count() -> None:
    lim, v = limiter(world=WORLD), vendor(RateLimitPolicy(limit=3, period_s=60, headers="x-ratelimit"))
    assert allowed(lim, v, 10) == [True] * 3 + [False] * 7
    [bucket] = [b for _, b in lim.buckets(T0)]
    assert (bucket.used, bucket.refused, bucket.limit) == (3, 7, 3)


# -- headers --------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_every_allowed_answer_carries_the_five_headers_with_what_is_left() -> None:
    lim, v = limiter(), vendor()
    first, second = take(lim, v, now_ms=T0 + 15_000), take(lim, v, now_ms=T0 + 15_000)
    assert first == Verdict(True, {"X-RateLimit-Limit": "2", "X-RateLimit-Period": "60",
                                   "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "45",
                                   "X-RateLimit-Name": "audit_logs"})
    assert second.headers["X-RateLimit-Remaining"] == "0" and second.allowed


@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_a_refused_request_says_when_to_come_back_in_the_header_and_retry_after() -> None:
    lim = limiter()
    v = vendor(RateLimitPolicy(limit=1, period_s=60, headers="x-ratelimit", name="n", message="Slow down"))
    take(lim, v, now_ms=T0 + 30_500)
    refused = take(lim, v, now_ms=T0 + 30_500)
    assert not refused.allowed and refused.retry_after_s == 30 and refused.message == "Slow down"
    assert refused.headers == {"X-RateLimit-Limit": "1", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": "30", "X-RateLimit-Name": "n"}


# ms into a 60 s window -> X-RateLimit-Reset: whole seconds until the window ends, rounded up (never 0)
RESETS = [(0, "60"), (1, "60"), (999, "60"), (1_000, "59"), (58_999, "2"), (59_000, "1"), (59_001, "1"),
          (59_999, "1")]


@pytest.mark.mock_only  # Datadog sends whole seconds; rounding up is our choice, so waiting Reset always refills
@pytest.mark.parametrize(("offset_ms", "reset"), RESETS)
def test_reset_is_whole_seconds_until_the_window_ends_rounded_up(offset_ms: int, reset: str) -> None:
    verdict = take(limiter(), vendor(), now_ms=T0 + offset_ms)
    assert verdict.headers["X-RateLimit-Reset"] == reset
    assert T0 + offset_ms + int(reset) * 1000 >= T0 + MINUTE, "a client waiting Reset seconds finds a new window"


@pytest.mark.mock_only
def test_the_retry_after_dialect_sends_no_header_until_it_refuses() -> None:
    lim, v = limiter(), vendor(RateLimitPolicy(limit=1, period_s=60, headers="retry-after"))
    assert take(lim, v, now_ms=T0 + 10_000) == Verdict(True, {})
    assert take(lim, v, now_ms=T0 + 10_000) == Verdict(False, {}, retry_after_s=50)


@pytest.mark.vendor_documented(DATADOG_DOCS)
def test_an_injected_429_gets_the_dialect_headers_with_nothing_left() -> None:
    lim = limiter()
    assert lim.fault_headers(vendor(), org(WORLD, "acme"), "List", 7) == {
        "X-RateLimit-Limit": "2", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7",
        "X-RateLimit-Name": "audit_logs"}
    assert lim.fault_headers(vendor(), None, "List", 7)["X-RateLimit-Limit"] == "2"  # before auth: the default
    assert limiter().fault_headers(vendor(RateLimitPolicy(limit=2, period_s=60)), None, "List", 7) == {}
    assert limiter().fault_headers(vendor(None), None, "List", 7) == {}


# -- buckets: scope and operation -----------------------------------------------------------------------------
@pytest.mark.mock_only
def test_org_scope_shares_one_bucket_between_the_credentials_of_an_org_but_not_between_orgs() -> None:
    lim, v = limiter(), vendor()
    assert allowed(lim, v, 1, n=0) + allowed(lim, v, 2, n=1) == [True, True, False]
    assert allowed(lim, v, 3, org_id="globex") == [True, True, False]


@pytest.mark.mock_only
def test_credential_scope_gives_each_credential_its_own_bucket() -> None:
    lim, v = limiter(), vendor(RateLimitPolicy(limit=2, period_s=60, scope="credential"))
    assert allowed(lim, v, 3, n=0) == [True, True, False]
    assert allowed(lim, v, 3, n=1) == [True, True, False]
    assert [key for key, _ in lim.buckets(T0)] == [("v", "a1", "List"), ("v", "a2", "List")]


@pytest.mark.mock_only
def test_operations_have_their_own_buckets_unless_the_policy_shares_one() -> None:
    lim, v = limiter(), vendor()
    assert allowed(lim, v, 3, op="List") == [True, True, False]
    assert allowed(lim, v, 3, op="Search") == [True, True, False]
    lim, shared = limiter(), vendor(RateLimitPolicy(limit=2, period_s=60, per_operation=False))
    assert allowed(lim, shared, 1, op="List") + allowed(lim, shared, 2, op="Search") == [True, True, False]
    assert [key for key, _ in lim.buckets(T0)] == [("v", "acme", "*")]


# -- what limit an org gets -----------------------------------------------------------------------------------
PLANS = RateLimitPolicy(limit=60, period_s=60, plan_limits={"Core": 60, "Pro": 120, "Enterprise": 1000})


@pytest.mark.mock_only
@pytest.mark.parametrize(("plan", "limit", "source"), [
    ("Pro", 120, "plan"), ("enterprise", 1000, "plan"), ("Free", 60, "vendor"), (None, 60, "vendor")])
def test_the_org_plan_picks_the_limit_ignoring_case(plan: str | None, limit: int, source: str) -> None:
    world = make_world(org_data("acme", "a1", **({"plan": plan} if plan else {})))
    eff = limiter(world).effective(vendor(PLANS), org(world, "acme"))
    assert (eff.limit, eff.source) == (limit, source)


@pytest.mark.mock_only
def test_the_world_file_overrides_the_plan_and_can_switch_an_org_off() -> None:
    world = make_world(org_data("acme", "a1", plan="Pro", rate_limit={"limit": 3, "period_s": 10}),
                       org_data("globex", "g1", rate_limit={"enabled": False}))
    lim, v = limiter(world), vendor(PLANS)
    assert lim.effective(v, org(world, "acme")).as_dict() == {"limit": 3, "period_s": 10, "enabled": True,
                                                              "source": "world"}
    assert allowed(lim, v, 4) == [True, True, True, False]
    assert allowed(lim, v, 1, now_ms=T0 + 10_000) == [True]  # windows of 10 s
    assert lim.take(v, org(world, "globex"), cred(world, "globex"), "List", T0) is None


@pytest.mark.mock_only
@pytest.mark.parametrize(("rate_limit", "message"), [
    ({"limit": 0}, "world: v.orgs[1].rate_limit.limit: must be a positive integer (at most 1000000000)"),
    ({"limit": "10"}, "world: v.orgs[1].rate_limit.limit: must be a positive integer"),
    ({"limit": True}, "world: v.orgs[1].rate_limit.limit: must be a positive integer"),
    ({"period_s": 86_401}, "world: v.orgs[1].rate_limit.period_s: must be a positive integer (at most 86400)"),
    ({"period_s": None}, "world: v.orgs[1].rate_limit.period_s: must be a positive integer"),
    ({"enabled": "no"}, "world: v.orgs[1].rate_limit.enabled: must be true or false"),
    ({"burst": 5}, "world: v.orgs[1].rate_limit.burst: unknown key (known: enabled, limit, period_s)"),
])
def test_a_bad_world_rate_limit_is_one_line_naming_its_place(rate_limit: dict[str, Any], message: str) -> None:
    world = make_world(org_data("acme", "a1"), org_data("globex", "g1", rate_limit=rate_limit))
    with pytest.raises(WorldError) as caught:
        limiter(world)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.mock_only
def test_runtime_overrides_beat_the_world_org_level_beats_vendor_level_and_null_removes_one() -> None:
    world = make_world(org_data("acme", "a1", rate_limit={"limit": 3}), org_data("globex", "g1"))
    lim, v = limiter(world), vendor()
    acme, globex = org(world, "acme"), org(world, "globex")
    lim.override(vendors={"v": {"limit": 5, "period_s": 30}})
    assert lim.effective(v, acme).as_dict() == {"limit": 5, "period_s": 30, "enabled": True, "source": "runtime"}
    lim.override(orgs={("v", "globex"): {"limit": 7, "enabled": False}})
    assert lim.effective(v, globex).as_dict() == {"limit": 7, "period_s": 30, "enabled": False, "source": "runtime"}
    lim.override(vendors={"v": {"limit": None}})
    assert lim.effective(v, acme).as_dict() == {"limit": 3, "period_s": 30, "enabled": True, "source": "world"}
    lim.clear_overrides()
    assert lim.effective(v, globex).as_dict() == {"limit": 2, "period_s": 60, "enabled": True, "source": "vendor"}


@pytest.mark.mock_only
def test_a_lower_limit_set_mid_window_applies_to_what_was_already_counted() -> None:
    lim, v = limiter(), vendor(RateLimitPolicy(limit=10, period_s=60, headers="x-ratelimit"))
    assert allowed(lim, v, 3) == [True] * 3
    lim.override(orgs={("v", "acme"): {"limit": 4}})
    assert allowed(lim, v, 2) == [True, False]
    lim.override(orgs={("v", "acme"): {"period_s": 10}})  # another window length: a new bucket
    assert allowed(lim, v, 5) == [True] * 4 + [False]


@pytest.mark.mock_only
def test_a_vendor_without_a_policy_is_unlimited_until_configured_then_uses_retry_after() -> None:
    lim, v = limiter(), vendor(None)
    assert lim.take(v, org(WORLD, "acme"), cred(WORLD, "acme"), "List", T0) is None
    assert lim.effective(v, org(WORLD, "acme")).as_dict() == {"limit": None, "period_s": 60, "enabled": True,
                                                              "source": "none"}
    lim.override(vendors={"v": {"limit": 1}})
    assert take(lim, v, now_ms=T0 + 20_000) == Verdict(True, {})
    assert take(lim, v, now_ms=T0 + 20_000) == Verdict(False, {}, retry_after_s=40)


# -- the switch, reset and memory -----------------------------------------------------------------------------
@pytest.mark.mock_only
def test_switched_off_nothing_is_limited_or_counted() -> None:
    lim, v = limiter(enabled=False), vendor()
    assert lim.take(v, org(WORLD, "acme"), cred(WORLD, "acme"), "List", T0) is None
    assert lim.bucket_count == 0
    lim.override(enabled=True)
    assert allowed(lim, v, 3) == [True, True, False]
    lim.reset()
    assert lim.enabled is False, "reset goes back to the configured switch"


@pytest.mark.mock_only
def test_the_switch_set_at_start_up_survives_reset_but_a_runtime_one_does_not() -> None:
    lim = limiter()
    lim.enabled = False  # what build_server does for --no-rate-limits
    lim.override(enabled=True)
    assert lim.enabled is True
    lim.clear_overrides()
    assert lim.enabled is False
    lim.enabled = True
    lim.override(enabled=False)
    lim.reset()
    assert lim.enabled is True


@pytest.mark.mock_only
def test_reset_refills_every_bucket_and_drops_runtime_overrides() -> None:
    lim, v = limiter(), vendor()
    lim.override(vendors={"v": {"limit": 1}})
    assert allowed(lim, v, 2) == [True, False]
    lim.reset()
    assert lim.bucket_count == 0
    assert allowed(lim, v, 3) == [True, True, False]


@pytest.mark.mock_only
def test_buckets_of_past_windows_are_dropped() -> None:
    lim, v = limiter(), vendor(RateLimitPolicy(limit=1_000, period_s=1, scope="credential"))
    for second in range(50):
        for op in ("List", "Search", "Get"):
            for n in (0, 1):
                take(lim, v, n=n, op=op, now_ms=T0 + second * 1000)
        assert lim.bucket_count == 6, "only the buckets of the current window are kept"
    take(lim, v, now_ms=T0 + 3_600_000)
    assert lim.bucket_count == 1
    assert [key for key, _ in lim.buckets(T0 + 3_600_000)] == [("v", "a1", "List")]
