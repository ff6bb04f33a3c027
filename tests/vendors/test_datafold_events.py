"""The Datafold entry recipe: Datafold's AuditLogs schema, nulls where a field does not apply, deterministic."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mockserver import Settings, create_app
from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng, mix64
from mockserver.engine.spec import component_validator
from mockserver.engine.windows import DAY_MS, Window, parse_instant
from mockserver.vendors._datafold_events import KINDS, make_event

SEED = "Datafold API reference: AuditLogs schema (seeds/003)"
START = parse_instant("2024-04-01T00:00:00Z", 0)


@pytest.fixture(scope="module")
def month() -> tuple[OrgStream, list[dict[str, Any]], Any]:
    app = create_app(Settings(now="2024-05-01T12:00:00Z", seed=5))
    runtime = app.state.mock.runtimes["datafold"]
    stream: OrgStream = runtime.streams["northwind"]
    events = [stream.event(key) for key in stream.keys(Window(START, START + 30 * DAY_MS))]
    return stream, events, component_validator(runtime.spec, "AuditLogs")


@pytest.mark.vendor_documented(SEED)
def test_every_entry_matches_datafolds_schema(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, validator = month
    assert len(events) == 30 * 200
    for event in events:
        assert validator.is_valid(event), event
        assert parse_instant(event["timestamp"], 0) >= START


@pytest.mark.mock_only
def test_nulls_follow_what_the_entry_is(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    _, events, _ = month
    kinds = Counter((e["action"], e["object_type"]) for e in events)
    assert set(kinds) == {(k.action, k.object_type) for k in KINDS}
    for event in events:
        scheduled = event["source"] == "scheduler"
        assert (event["user_email"] is None) == scheduled == (event["user_id"] is None)
        assert (event["is_support_user"] is None) == scheduled == (event["request_type"] is None)
        plain_read = event["action"] is None
        assert plain_read == (event["log_entry"] is None) == (event["status"] is None) == (event["source"] is None)
        assert plain_read <= (event["object_type"] is None and event["payload"] is None)
        if event["referer"] is not None:
            assert event["source"] in (None, "web") and event["referer"].startswith("https://app.datafold.com/")
        if event["request_type"] in ("GET", "DELETE"):
            assert event["payload"] is None
        if event["is_support_user"]:
            assert event["user_email"] == "support@datafold.com"
    named = {e["user_id"]: e["user_email"] for e in events if e["user_id"] is not None and not e["is_support_user"]}
    assert named[4101] == "nadia.owner@northwind.example"  # the world's users keep their integer ids
    assert len({e["event_uuid"] for e in events}) == len(events)


@pytest.mark.mock_only
def test_an_entry_is_a_pure_function_of_seed_org_and_index(month: tuple[OrgStream, list[dict[str, Any]], Any]) -> None:
    stream, _, _ = month
    ts = stream.ts(777)
    first = make_event(stream, 777, ts, Rng(mix64(stream.key + 777)))
    assert make_event(stream, 777, ts, Rng(mix64(stream.key + 777))) == first
    assert make_event(stream, 778, ts, Rng(mix64(stream.key + 778))) != first
