"""The Make entry recipe: uuids, the catalogue, the org's staff and objects, and the sort/filter columns
agreeing with the entries they stand for."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng, mix64
from mockserver.engine.windows import parse_instant
from mockserver.vendors._make_catalogue import BY_NAME, EVENT_NAMES, KINDS, event_groups
from mockserver.vendors._make_details import details
from mockserver.vendors._make_events import draw, draws, facts, make_event
from mockserver.vendors._make_index import Columns, ranks
from mockserver.vendors._make_uuid import decode_uuid, encode_uuid
from tests.vendors.test_make_support import INITECH, NOW_MS, REFERENCE, UMBRELLA, VENDORS_MD, make_client

DOCUMENTED = ("webhook_created", "webhook_updated", "webhook_disabled", "webhook_deleted", "key_created",
              "connection_created")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture(scope="module")
def stream(client: TestClient) -> OrgStream:
    found: OrgStream = client.app.state.mock.runtimes["make"].streams[UMBRELLA]  # type: ignore[attr-defined]
    return found


def recent(stream: OrgStream, count: int) -> range:
    end = stream.first_index_at_or_after(NOW_MS)
    return range(end - count, end)


# -- catalogue ---------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(VENDORS_MD + ": event names <object>_<verb>, the documented ones among them")
def test_the_catalogue_holds_the_documented_names_spelled_object_verb() -> None:
    assert set(DOCUMENTED) <= set(EVENT_NAMES)
    assert len(set(EVENT_NAMES)) == len(EVENT_NAMES)
    objects = {"scenario", "connection", "webhook", "key", "team", "team_variable", "organization_variable",
               "data_store", "data_store_record", "data_structure", "function", "organization", "credential_request"}
    assert {kind.obj for kind in KINDS} == objects
    for kind in KINDS:
        assert kind.name == f"{kind.obj}_{kind.verb}" and re.fullmatch(r"[a-z0-9_]+", kind.name)
    for obj in objects:
        assert {f"{obj}_{verb}" for verb in ("created", "updated", "deleted")} <= set(EVENT_NAMES)
    assert {"scenario_activated", "webhook_enabled", "team_role_updated", "organization_member_removed",
            "organization_2fa_enforcement_enabled", "organization_2fa_enforcement_disabled"} <= set(EVENT_NAMES)


@pytest.mark.vendor_documented(REFERENCE + ": filters events[].header, items[].label/value")
def test_event_groups_keep_catalogue_order_and_only_the_names_given() -> None:
    groups = event_groups({"key_created", "webhook_disabled", "webhook_created"})
    assert groups == [{"header": "Webhooks", "items": [{"label": "Webhook created", "value": "webhook_created"},
                                                       {"label": "Webhook disabled", "value": "webhook_disabled"}]},
                      {"header": "Keys", "items": [{"label": "Key created", "value": "key_created"}]}]


# -- uuids -------------------------------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_uuids_decode_to_their_index_and_nowhere_else(stream: OrgStream, client: TestClient) -> None:
    other: OrgStream = client.app.state.mock.runtimes["make"].streams[INITECH]  # type: ignore[attr-defined]
    seen = set()
    for index in (0, 1, 2, 12_345, 99_999_999, 2**40 + 7, *recent(stream, 500)):
        uuid = encode_uuid(stream.key, index)
        assert re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", uuid)
        assert decode_uuid(stream.key, uuid) == index
        hyphenated = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
        assert decode_uuid(stream.key, hyphenated.upper()) == index
        assert decode_uuid(other.key, uuid) is None
        seen.add(uuid)
    assert len(seen) == 506
    for junk in ("", "0" * 32, "5a1f0c2e8d3b4e6f9a7c1b2d3e4f5a6b", "z" * 32, encode_uuid(stream.key, 5)[:-1] + "0"):
        assert decode_uuid(stream.key, junk) is None


# -- the entries and their columns ------------------------------------------------------------------------------
@pytest.mark.mock_only
def test_entries_are_a_pure_function_of_seed_org_and_index(stream: OrgStream) -> None:
    index = recent(stream, 1)[0]
    ts = stream.ts(index)
    once = make_event(stream, index, ts, Rng(mix64(stream.key + index)))
    assert once == make_event(stream, index, ts, Rng(mix64(stream.key + index)))
    assert once == stream.event((ts, 0, index))  # what the engine serves is the factory's entry
    assert once["uuid"] == encode_uuid(stream.key, index)


@pytest.mark.mock_only
def test_the_columns_agree_with_the_entries(stream: OrgStream) -> None:
    # Sorting and filtering read the columns; clients read the entries: they must never disagree.
    f, r = facts(stream), ranks(stream)
    indices = recent(stream, 3_000)
    cols = Columns(indices.start)
    cols.extend(stream, f, indices.stop)
    created = cols.created(stream)
    for p, index in enumerate(indices):
        entry = stream.event((stream.ts(index), 0, index))
        assert KINDS[cols.kind[p]].name == entry["eventName"]
        assert (cols.team[p] < 0) == ("team" not in entry)
        if cols.team[p] >= 0:
            assert f.team_objects[cols.team[p]] == entry["team"]
        assert f.actors[cols.actor[p]] == entry["actor"]
        assert f.target_strings[cols.target[p]] == entry["targetId"]
        assert created[p] == parse_instant(entry["createdAt"], 0)
    assert list(r.targets) == sorted(r.targets)  # a target's rank is its place in string order


@pytest.mark.mock_only
def test_actors_belong_to_the_entrys_team_and_org_changes_are_by_admins(stream: OrgStream) -> None:
    world = stream.org
    staff = {p.email: p for p in stream.staff.people}
    kinds_seen = set()
    for index in recent(stream, 3_000):
        entry = stream.event((stream.ts(index), 0, index))
        person = staff[entry["actor"]["email"]]
        if "team" in entry:
            assert str(entry["team"]["id"]) in person.teams
        else:
            assert person.role in {"owner", "admin"}
        kinds_seen.add(entry["eventName"])
    assert len(kinds_seen) > 35
    named = {u.email for u in world.users}
    assert named <= set(staff)  # the world's users act too


@pytest.mark.mock_only
def test_targets_repeat_within_a_team(stream: OrgStream) -> None:
    # An org has a fixed set of scenarios per team: the same scenario is edited again and again.
    edits: dict[str, set[int]] = {}
    for index in recent(stream, 3_000):
        entry = stream.event((stream.ts(index), 0, index))
        if entry["eventName"] == "scenario_updated":
            edits.setdefault(entry["targetId"], set()).add(entry["team"]["id"])
    assert 10 <= len(edits) <= 40 and all(len(teams) == 1 for teams in edits.values())


@pytest.mark.vendor_documented(VENDORS_MD + ': details fit the event, e.g. {"webhookName", "webhookType": "http"}')
def test_every_kind_has_details_naming_its_object(stream: OrgStream) -> None:
    f = facts(stream)
    shown: dict[str, dict[str, object]] = {}
    for index in recent(stream, 20_000):
        d = draw(f, *draws(stream, index))
        shown.setdefault(d.core.kind.name, details(stream, index))
    generated = {kind.name for kind in KINDS if kind.weight}
    assert set(shown) == generated
    for name, extra in shown.items():
        kind = BY_NAME[name]
        assert extra, name
        if kind.verb in ("role_updated", "member_removed"):
            assert {"userName", "userEmail"} <= set(extra)
        elif kind.obj == "webhook":
            assert set(extra) == {"webhookName", "webhookType"}
        else:
            assert all(isinstance(value, str | bool | list) for value in extra.values())
