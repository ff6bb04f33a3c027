"""Make's filters: team, event and author in every array form, dateFrom/dateTo, and the filters endpoints.

Expected results are computed here from the engine's entries (what exists), with the rules a client
reads in the spec: a team by id or name, an author by id, name or e-mail, several values of one filter
OR-ed, different filters AND-ed, both dates inclusive, a plain date meaning the whole UTC day.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.engine.windows import DAY_MS, Window, format_iso_ms, parse_instant
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


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture(scope="module")
def initech(client: TestClient) -> list[Entry]:
    """Every entry of Initech, newest first, from the engine: the ground truth."""
    stream = client.app.state.mock.runtimes["make"].streams[INITECH]  # type: ignore[attr-defined]
    window = stream.visible(Window(0, NOW_MS + 1), NOW_MS)
    return [stream.event(key) for key in stream.keys(window, descending=True)]


def uuids(entries: list[Entry]) -> list[str]:
    return [e["uuid"] for e in entries]


def fetch(client: TestClient, query: str, path: str = org_logs(INITECH), who: str = "other-org") -> list[Entry]:
    """Every entry the raw ``query`` selects (sent as written, to control the array form), by offset."""
    entries: list[Entry] = []
    for offset in range(0, 1_000_000, 10_000):
        answer = client.get(f"{path}?pg[limit]=10000&pg[offset]={offset}&{query}", headers=auth(who))
        assert answer.status_code == 200, answer.text
        entries.extend(answer.json()["auditLogs"])
        if len(entries) < offset + 10_000:
            return entries
    raise AssertionError("more than a million entries")


# -- array forms -------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(REFERENCE + " (x[0]=a&x[1]=b); " + SDK + " (x[]=a&x[]=b)")
@pytest.mark.parametrize(("name", "values"), [
    ("event", ["webhook_created", "key_deleted"]),
    ("team", ["62001", "Platform"]),
    ("author", ["890201", "Bill Lumbergh"]),
])
def test_every_array_form_selects_the_same_entries(client: TestClient, initech: list[Entry], name: str,
                                                   values: list[str]) -> None:
    forms = {
        "indexed": "&".join(f"{name}[{n}]={v}" for n, v in enumerate(values)),
        "brackets": "&".join(f"{name}[]={v}" for v in values),
        "repeated": "&".join(f"{name}={v}" for v in values),
        "mixed": f"{name}[0]={values[0]}&{name}={values[1]}",
    }
    answers = {form: uuids(fetch(client, query)) for form, query in forms.items()}
    assert len(set(map(tuple, answers.values()))) == 1, answers.keys()
    assert answers["indexed"]
    one = {v: set(uuids(fetch(client, f"{name}={v}"))) for v in values}
    assert set(answers["indexed"]) == one[values[0]] | one[values[1]]  # several values of one filter: OR


@pytest.mark.vendor_documented(REFERENCE + ": team and author by id or by name")
def test_teams_and_authors_by_id_name_or_email(client: TestClient, initech: list[Entry]) -> None:
    platform = [e for e in initech if e.get("team", {}).get("name") == "Platform"]
    assert uuids(fetch(client, "team=62002")) == uuids(fetch(client, "team=Platform")) == uuids(platform)
    bill = [e for e in initech if e["actor"]["id"] == 890201]
    assert bill and uuids(bill) == uuids(fetch(client, "author=890201")) == uuids(fetch(client, "author=Bill Lumbergh"))
    assert uuids(fetch(client, "author=BILL.LUMBERGH@initech.example")) == uuids(bill)  # the SDK sends e-mails too
    assert fetch(client, "team=61002") == []  # Umbrella's Marketing is not an Initech team
    assert fetch(client, "author=Nobody At All") == []


@pytest.mark.mock_only
def test_different_filters_combine_with_and(client: TestClient, initech: list[Entry]) -> None:
    query = "team[]=Operations&event[]=scenario_updated&event[]=scenario_activated&dateFrom=2024-03-01"
    want = [e for e in initech if e.get("team", {}).get("name") == "Operations"
            and e["eventName"] in {"scenario_updated", "scenario_activated"} and e["triggeredAt"] >= "2024-03-01"]
    assert want and uuids(fetch(client, query)) == uuids(want)
    assert not [e for e in fetch(client, "team=Operations") if "team" not in e]  # org-level entries have no team


# -- dates -------------------------------------------------------------------------------------------------------
@pytest.mark.vendor_documented(REFERENCE + ": dateFrom from the date or newer, dateTo until the date or older")
def test_plain_dates_bound_whole_utc_days(client: TestClient, initech: list[Entry]) -> None:
    got = fetch(client, "dateFrom=2024-04-10&dateTo=2024-04-11")
    want = [e for e in initech if "2024-04-10T00:00:00.000Z" <= e["triggeredAt"] <= "2024-04-11T23:59:59.999Z"]
    assert uuids(got) == uuids(want) and len(want) > 100


@pytest.mark.vendor_documented(REFERENCE + " (examples use date-times); " + SDK + " (epoch milliseconds)")
def test_date_times_and_epoch_milliseconds_are_inclusive_instants(client: TestClient, initech: list[Entry]) -> None:
    middle = initech[len(initech) // 2]
    at = parse_instant(middle["triggeredAt"], 0)
    for text in (middle["triggeredAt"], str(at), format_iso_ms(at).replace("Z", "+00:00"),
                 format_iso_ms(at + 2 * 3_600_000).replace("Z", "+02:00")):
        assert uuids(fetch(client, f"dateFrom={text}&dateTo={text}".replace("+", "%2B"))) == [middle["uuid"]]
    assert middle not in fetch(client, f"dateFrom={at + 1}&dateTo={at + DAY_MS}")
    assert middle not in fetch(client, f"dateFrom={at - DAY_MS}&dateTo={at - 1}")


@pytest.mark.mock_only
def test_reversed_dates_give_nothing_and_old_dates_are_clipped(client: TestClient, initech: list[Entry]) -> None:
    assert fetch(client, "dateFrom=2024-04-11&dateTo=2024-04-10") == []
    assert uuids(fetch(client, "dateFrom=2020-01-01&dateTo=2023-05-03")) == uuids(
        [e for e in initech if e["triggeredAt"] < "2023-05-04"])
    assert fetch(client, "dateTo=2023-04-30") == []  # older than 12 months: gone
    assert initech[-1]["triggeredAt"] >= format_iso_ms(NOW_MS - 365 * DAY_MS)


# -- the filters endpoints ---------------------------------------------------------------------------------------
def listed(filters: dict[str, Any]) -> tuple[set[int], set[int], set[str]]:
    users = {u["id"] for u in filters["users"]}
    teams = {t["id"] for t in filters.get("teams", [])}
    events = {item["value"] for group in filters["events"] for item in group["items"]}
    return users, teams, events


@pytest.mark.vendor_documented(REFERENCE + ": the filters endpoints list what the list endpoints filter by")
@pytest.mark.parametrize(("org", "team", "who"), [(INITECH, None, "other-org"), (UMBRELLA, MARKETING, "team-admin")])
def test_filters_list_exactly_what_the_data_holds(client: TestClient, org: str, team: str | None, who: str) -> None:
    path = team_logs(team) if team else org_logs(org)
    answer = client.get(path + "/filters", headers=auth(who)).json()
    assert set(answer) == ({"users", "events"} if team else {"users", "teams", "events"})
    users, teams, events = listed(answer)
    entries = page_all(client, path, {}, who=who)
    assert users == {e["actor"]["id"] for e in entries}
    assert events == {e["eventName"] for e in entries}
    if not team:
        assert teams == {e["team"]["id"] for e in entries if "team" in e}
    for group in answer["events"]:
        assert group["header"] and group["items"]
        assert all(item["label"].lower().replace(" ", "_") == item["value"] for item in group["items"])
    names = [u["name"] for u in answer["users"]]
    assert names == sorted(names)
    for value in sorted(events)[:12]:
        assert fetch(client, f"event={value}", path, who), value
    for user in answer["users"][:12]:
        assert fetch(client, f"author={user['id']}", path, who)
    for listed_team in answer.get("teams", []):
        assert fetch(client, f"team={listed_team['id']}", path, who)


@pytest.mark.vendor_documented(SDK + ": events grouped under headers, label and value per item")
def test_event_groups_are_shaped_like_makes() -> None:
    with make_client() as fresh:
        answer = fresh.get(org_logs() + "/filters", headers=auth("owner")).json()
    webhooks = next(group for group in answer["events"] if group["header"] == "Webhooks")
    assert {"label": "Webhook created", "value": "webhook_created"} in webhooks["items"]
    assert all(item["value"].startswith("webhook_") for item in webhooks["items"])


@pytest.mark.mock_only
def test_injected_entries_are_filtered_and_listed_like_generated_ones() -> None:
    with make_client() as fresh:
        stream = fresh.app.state.mock.runtimes["make"].streams[UMBRELLA]  # type: ignore[attr-defined]
        template = fresh.get(team_logs(), headers=auth("owner"), params={"pg[limit]": 1}).json()["auditLogs"][0]
        at = NOW_MS - 60_000
        entry = {**template, "uuid": "b" * 12 + "4" + "c" * 19, "triggeredAt": format_iso_ms(at),
                 "createdAt": format_iso_ms(at + 5), "eventName": "credential_request_updated",
                 "actor": {"id": 4242, "name": "Injected Person", "email": "injected@umbrella.example"}}
        stream.inject(at, entry)
        for query in ("author=4242", "author[]=Injected Person", "event[0]=credential_request_updated&team=Marketing"):
            got = fresh.get(f"{team_logs()}?{query}", headers=auth("owner")).json()["auditLogs"]
            assert entry in got, query
        assert entry not in fresh.get(org_logs(), headers=auth("owner"), params={"team": "Operations"}).json()[
            "auditLogs"]
        users, _, _ = listed(fresh.get(team_logs() + "/filters", headers=auth("owner")).json())
        assert 4242 in users
        assert fresh.get(f"/api/v2/audit-logs/{UMBRELLA}/{entry['uuid']}", headers=auth("owner")).json() == {
            **entry, "details": {}}
