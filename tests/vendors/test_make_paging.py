"""Paging Make audit logs: by offset and by key, every sort field both ways, every entry exactly once.

The expected order is computed here from the entries themselves (what a client sees), not from the
mock's sort ranks: team and actor by name then id (entries without a team last when ascending),
eventName and targetId as strings, createdAt and triggeredAt by time, organization a tie; every tie by
triggeredAt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.engine.windows import Window, format_iso_ms, parse_instant
from mockserver.vendors._make_index import SORT_FIELDS
from tests.vendors.test_make_support import (
    INITECH,
    MARKETING,
    NOW_MS,
    REFERENCE,
    SDK,
    UMBRELLA,
    auth,
    make_client,
    org_logs,
    page_all,
    team_logs,
)

Entry = dict[str, Any]
NO_TEAM = (chr(0x10FFFF), 0)


def field_key(sort_by: str) -> Callable[[Entry], Any]:
    named: dict[str, Callable[[Entry], Any]] = {
        "createdAt": lambda e: e["createdAt"],
        "triggeredAt": lambda e: "",
        "organization": lambda e: e["organization"]["name"],
        "eventName": lambda e: e["eventName"],
        "team": lambda e: (e["team"]["name"], e["team"]["id"]) if "team" in e else NO_TEAM,
        "actor": lambda e: (e["actor"]["name"], e["actor"]["id"]),
        "targetId": lambda e: e["targetId"],
    }
    field = named[sort_by]
    return lambda e: (field(e), e["triggeredAt"])


def expected(entries: list[Entry], sort_by: str, sort_dir: str) -> list[str]:
    ordered = sorted(entries, key=field_key(sort_by))
    return [e["uuid"] for e in (ordered[::-1] if sort_dir == "desc" else ordered)]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture(scope="module")
def initech(client: TestClient) -> list[Entry]:
    """Every entry of Initech (60 a day for 12 months), from the engine: the ground truth."""
    stream = client.app.state.mock.runtimes["make"].streams[INITECH]  # type: ignore[attr-defined]
    window = stream.visible(Window(0, NOW_MS + 1), NOW_MS)
    return [stream.event(key) for key in stream.keys(window)]


@pytest.mark.vendor_documented(REFERENCE + ": pg[offset], pg[limit], pg[last], pg[sortBy], pg[sortDir]")
@pytest.mark.parametrize("style", ["offset", "last"])
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", SORT_FIELDS)
def test_paging_an_org_returns_every_entry_once_in_order(client: TestClient, initech: list[Entry], sort_by: str,
                                                         sort_dir: str, style: str) -> None:
    assert len(initech) == 60 * 365
    params = {"pg[sortBy]": sort_by, "pg[sortDir]": sort_dir}
    received = page_all(client, org_logs(INITECH), params, who="other-org", style=style, limit=4_000)
    uuids = [e["uuid"] for e in received]
    assert not [u for u, n in Counter(uuids).items() if n > 1], "entries received twice"
    assert uuids == expected(initech, sort_by, sort_dir)


@pytest.mark.vendor_documented(REFERENCE + ": entries sorted by triggeredAt, descending, by default")
def test_the_default_order_is_newest_first(client: TestClient, initech: list[Entry]) -> None:
    first = client.get(org_logs(INITECH), headers=auth("other-org"), params={"pg[limit]": 500}).json()["auditLogs"]
    assert [e["uuid"] for e in first] == expected(initech, "triggeredAt", "desc")[:500]


@pytest.mark.mock_only
@pytest.mark.parametrize("sort_by", ["team", "actor", "targetId"])
@pytest.mark.parametrize("limit", [1, 37])
def test_small_pages_of_a_filtered_team_by_key(client: TestClient, sort_by: str, limit: int) -> None:
    params = {"pg[sortBy]": sort_by, "pg[sortDir]": "asc", "dateFrom": "2024-04-20", "dateTo": "2024-04-22",
              "event": ["scenario_updated", "scenario_activated", "webhook_created"]}
    whole = page_all(client, team_logs(MARKETING), params, who="team-admin")
    assert 10 < len(whole) < 200
    assert [e["uuid"] for e in whole] == expected(whole, sort_by, "asc")
    by_key = page_all(client, team_logs(MARKETING), params, who="team-admin", style="last", limit=limit)
    by_offset = page_all(client, team_logs(MARKETING), params, who="team-admin", limit=limit)
    assert by_key == by_offset == whole


@pytest.mark.mock_only
def test_the_last_key_need_not_match_the_filters(client: TestClient) -> None:
    # pg[last] is a place in the sort order: an entry the filter leaves out still says where to resume.
    every = client.get(org_logs(), headers=auth("owner"), params={"pg[limit]": 400}).json()["auditLogs"]
    outsider = next(e for e in every[100:] if e["eventName"] != "scenario_updated")
    params = {"event": "scenario_updated", "pg[limit]": 400}
    filtered = client.get(org_logs(), headers=auth("owner"), params={**params, "pg[limit]": 2000}).json()["auditLogs"]
    after = client.get(org_logs(), headers=auth("owner"), params={**params, "pg[last]": outsider["uuid"]}).json()
    assert after["auditLogs"] == [e for e in filtered if e["triggeredAt"] < outsider["triggeredAt"]][:400]


@pytest.mark.mock_only
def test_a_key_older_than_retention_still_places_the_page(client: TestClient) -> None:
    # An entry that aged out keeps its place in time order: paging ascending from it starts at the oldest kept.
    stream = client.app.state.mock.runtimes["make"].streams[UMBRELLA]  # type: ignore[attr-defined]
    index = stream.first_index_at_or_after(NOW_MS - 400 * 86_400_000)
    gone = stream.event((stream.ts(index), 0, index))["uuid"]
    params = {"pg[sortDir]": "asc", "pg[limit]": 3}
    oldest = client.get(org_logs(), headers=auth("owner"), params=params).json()["auditLogs"]
    assert client.get(org_logs(), headers=auth("owner"), params={**params, "pg[last]": gone}).json()[
        "auditLogs"] == oldest


@pytest.mark.mock_only
def test_offset_paging_shifts_when_entries_arrive_and_key_paging_does_not(client: TestClient) -> None:
    with make_client() as fresh:
        stream = fresh.app.state.mock.runtimes["make"].streams[UMBRELLA]  # type: ignore[attr-defined]
        params = {"pg[limit]": 5, "pg[sortDir]": "desc"}
        first = fresh.get(org_logs(), headers=auth("owner"), params=params).json()["auditLogs"]
        template = dict(first[0])
        newest = parse_instant(first[0]["triggeredAt"], 0) + 1
        stream.inject(newest, {**template, "uuid": "0" * 12 + "4" + "0" * 19, "triggeredAt": format_iso_ms(newest)})
        by_offset = fresh.get(org_logs(), headers=auth("owner"), params={**params, "pg[offset]": 5}).json()
        by_key = fresh.get(org_logs(), headers=auth("owner"), params={**params, "pg[last]": first[-1]["uuid"]}).json()
    assert by_offset["auditLogs"][0] == first[-1]  # Make's offsets count from the top: the new entry shifted them
    assert by_key["auditLogs"][0]["triggeredAt"] < first[-1]["triggeredAt"]
    assert first[-1] not in by_key["auditLogs"]


@pytest.mark.vendor_documented(SDK + ": pg.last is the key of the last entry received")
def test_every_entry_of_a_team_once_by_key_under_injections() -> None:
    # Entries injected ahead of the key appear once; those behind never shift the pages still to come.
    with make_client() as fresh:
        stream = fresh.app.state.mock.runtimes["make"].streams[UMBRELLA]  # type: ignore[attr-defined]
        params: dict[str, Any] = {"dateFrom": "2024-04-29", "pg[limit]": 25, "pg[sortDir]": "asc"}
        before = page_all(fresh, team_logs(), dict(params), who="team-admin")
        received: list[Entry] = []
        injected: list[str] = []
        for turn in range(100):
            body = fresh.get(team_logs(), headers=auth("team-admin"), params=params).json()
            received.extend(body["auditLogs"])
            if not body["auditLogs"]:
                break
            params["pg[last]"] = body["auditLogs"][-1]["uuid"]
            last = parse_instant(body["auditLogs"][-1]["triggeredAt"], 0)
            if turn >= 6:
                continue  # stop injecting, so that the client reaches the end
            for n, ts in enumerate((last + 1, last - 1, NOW_MS - 5)):  # ahead, behind, ahead (latest)
                uuid = f"{turn:06x}{n:06x}4{'a' * 19}"
                stream.inject(ts, {**body["auditLogs"][0], "uuid": uuid, "triggeredAt": format_iso_ms(ts)})
                if n != 1:
                    injected.append(uuid)
        else:
            pytest.fail("still paging after 100 pages")
        uuids = [e["uuid"] for e in received]
    assert len(before) > 100 and len(injected) == 12
    assert not [u for u, n in Counter(uuids).items() if n > 1]
    assert set(uuids) == {e["uuid"] for e in before} | set(injected)
    assert [e["triggeredAt"] for e in received] == sorted(e["triggeredAt"] for e in received)
