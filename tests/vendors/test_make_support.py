"""Shared by the Make tests: the default world's tokens and ids, and a client that pages every entry.

(Its own tests check that these constants are the world file's.)"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.engine.windows import parse_instant

NOW = "2024-05-01T12:00:00Z"
NOW_MS = parse_instant(NOW, 0)
UMBRELLA, INITECH = "5100231", "5200877"
OPERATIONS, MARKETING, FINANCE = "61001", "61002", "61003"
INITECH_OPERATIONS = "62001"
TOKENS = {
    "owner": "3ad50f3d-be28-411d-b467-3537d06e4c7b",
    "admin": "be091e73-4c5a-4ddc-b92f-e38a605a2efe",
    "member": "fa1761f7-ba20-4d02-8b73-2138cf23da52",
    "team-admin": "99fe68cc-2d83-44d8-9b62-4aa50b96c724",  # Team Admin of Marketing only
    "other-org": "457b05fa-5ec9-45e1-b5c0-de7ee6d9ad7a",  # Owner of Initech
}
REFERENCE = "Make API reference: Audit logs (seeds/004, developers.make.com)"
VENDORS_MD = "VENDORS.md, Make"
SDK = "Make's official SDK @makehq/sdk (audit-logs endpoint, its docs and fixtures)"


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Token {TOKENS[who]}"}


def org_logs(org: str = UMBRELLA) -> str:
    return f"/api/v2/audit-logs/organization/{org}"


def team_logs(team: str = MARKETING) -> str:
    return f"/api/v2/audit-logs/team/{team}"


def detail(uuid: str, org: str = UMBRELLA) -> str:
    return f"/api/v2/audit-logs/{org}/{uuid}"


def make_client(seed: int = 0) -> TestClient:
    return TestClient(create_app(Settings(now=NOW, seed=seed, log_level="warning")),
                      raise_server_exceptions=False)


def page_all(client: TestClient, path: str, params: dict[str, Any], who: str = "owner", style: str = "offset",
             limit: int = 10_000) -> list[dict[str, Any]]:
    """Every entry, paging by ``offset`` or by ``last`` (the uuid of the last entry received), as a client
    would: offset until a short page, last until an empty one. Checks the ``pg`` echo on the way."""
    entries: list[dict[str, Any]] = []
    params = {**params, "pg[limit]": limit}
    more = True
    for _ in range(1_000):
        answer = client.get(path, params=params, headers=auth(who))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        page, pg = body["auditLogs"], body["pg"]
        assert pg["limit"] == limit and len(page) <= limit
        entries.extend(page)
        if style == "offset":
            assert pg["offset"] == params.get("pg[offset]", 0) and "last" not in pg and "showLast" not in pg
            if len(page) < limit:
                return entries
            params["pg[offset]"] = params.get("pg[offset]", 0) + limit
            continue
        if "pg[last]" in params:
            assert pg["last"] == params["pg[last]"] and "offset" not in pg
            assert bool(page) is more, "showLast said whether entries follow"
            more = pg["showLast"]
        if not page:
            return entries
        params["pg[last]"] = page[-1]["uuid"]
    raise AssertionError("did not finish in 1000 pages")


def test_the_tokens_here_are_the_world_files() -> None:
    world = make_client().app.state.mock.world  # type: ignore[attr-defined]
    creds = {cred.secrets["token"]: (org.id, cred) for org in world.orgs["make"] for cred in org.credentials}
    users = {(org.id, user.email): user for org in world.orgs["make"] for user in org.users}
    roles = {}
    for who, token in TOKENS.items():
        org_id, cred = creds[token]
        user = users[(org_id, cred.user)]
        roles[who] = (org_id, user.role, dict(user.teams))
    assert roles["owner"][:2] == (UMBRELLA, "owner") and roles["admin"][:2] == (UMBRELLA, "admin")
    assert roles["member"][:2] == (UMBRELLA, "member") and "team_admin" not in roles["member"][2].values()
    assert roles["team-admin"] == (UMBRELLA, "member", {MARKETING: "team_admin", OPERATIONS: "team_member"})
    assert roles["other-org"][:2] == (INITECH, "owner")
