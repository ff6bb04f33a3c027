"""The Amplitude entry recipe: every documented field, the seed's vocabulary by risk tier, deterministic."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mockserver import Settings, create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng, mix64
from mockserver.engine.spec import component_validator
from mockserver.engine.windows import DAY_MS, Window, parse_instant
from mockserver.vendors._amplitude_events import KINDS, RISK, make_event

SEED_ADMIN = "Amplitude docs: Audit log, tracked events and data captured per event (seeds/001)"
START = parse_instant("2024-04-01T00:00:00Z", 0)


@pytest.fixture(scope="module")
def month() -> tuple[OrgStream, list[dict[str, Any]], Any]:
    app = create_app(Settings(now="2024-05-01T12:00:00Z", seed=5))
    runtime = app.state.mock.runtimes["amplitude"]
    stream: OrgStream = runtime.streams["76273"]
    events = [stream.event(key) for key in stream.keys(Window(START, START + 30 * DAY_MS))]
    return stream, events, component_validator(runtime.spec, "AuditLogEntry")


@pytest.mark.vendor_documented(SEED_ADMIN)
def test_every_entry_matches_the_spec_schema(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, validator = month
    assert len(events) == pytest.approx(30 * 300, rel=0.01)
    for event in events:
        assert validator.is_valid(event), event


@pytest.mark.vendor_documented(SEED_ADMIN)
def test_every_tracked_kind_and_tier_occurs(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, _ = month
    kinds = Counter((e["domain"], e["feature"], e["action"]) for e in events)
    assert set(kinds) == {(k.domain, k.feature, k.action) for k in KINDS}
    tiers = Counter(RISK[kind] for kind in kinds.elements())
    assert tiers["low"] > tiers["medium"] > tiers["high"] > 0  # logins dominate, project changes are rare
    assert {k.risk for k in KINDS if k.feature == "project"} == {"high"}
    assert {k.risk for k in KINDS if k.domain == "auth" or k.domain == "content"} == {"low"}


@pytest.mark.vendor_documented(SEED_ADMIN)
def test_logins_say_how_and_sometimes_fail(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, _ = month
    logins = [e for e in events if e["action"] == "login"]
    methods = Counter(e["event_properties"]["login_method"] for e in logins)
    assert set(methods) == {"sso", "magic_link", "password"}  # the seed's three ways to log in
    assert all(e["event_properties"].get("sso_provider") == "Okta" for e in logins
               if e["event_properties"]["login_method"] == "sso")
    failed = [e for e in logins if e["error"] is not None]
    assert 0 < len(failed) < len(logins) / 10
    assert all(e["target"] == f"user:{e['user_email']}" for e in logins)


@pytest.mark.mock_only
def test_targets_and_app_ids_agree(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, _ = month
    for event in events:
        if event["feature"] == "project":
            assert event["target"] == f"project:{event['app_id']}"
        elif event["domain"] == "content":
            feature = event["feature"]
            assert event["target"] == f"{feature}:{event['event_properties'][f'{feature}_id']}"
            assert event["app_id"] in {432109, 432110, 432111, 432112}
        else:
            assert event["app_id"] is None
        if event["action"] == "invite":
            assert event["target"] == f"user:{event['event_properties']['invitee']}"
    assert len({e["uuid"] for e in events}) == len(events)
    assert len({e["user_email"] for e in events}) > 10  # the org's staff act again and again


@pytest.mark.mock_only
def test_an_entry_is_a_pure_function_of_seed_org_and_index(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    stream, _, _ = month
    ts = stream.ts(1234)
    first = make_event(stream, 1234, ts, Rng(mix64(stream.key + 1234)))
    assert make_event(stream, 1234, ts, Rng(mix64(stream.key + 1234))) == first
    assert make_event(stream, 1235, ts, Rng(mix64(stream.key + 1235))) != first
    other_seed = create_app(Settings(now="2024-05-01T12:00:00Z", seed=6)).state.mock.runtimes["amplitude"]
    other = other_seed.streams["76273"]
    assert other.event(next(other.keys(Window(START, START + DAY_MS)))) != stream.event(
        next(stream.keys(Window(START, START + DAY_MS))))
