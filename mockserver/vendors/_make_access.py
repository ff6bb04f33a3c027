"""Who may read which Make audit logs: roles come from the world file.

A credential is an API token of the world user it names (``user``: id or e-mail), and carries that user's
organization role (``owner``, ``admin``, ``member``) and team roles (``team_admin``, ``team_member``, ...);
a credential naming no user carries its own ``role`` and ``teams``.

- Organization logs and filters: organization Owner or Admin (documented: "only for organizations in
  which you have the Admin or Owner roles. Otherwise, you get the 403 error").
- Team logs and filters: Team Admin of that team (documented), or organization Owner or Admin of the
  team's organization (our choice: Make gives organization Owners and Admins admin rights in every team
  of their organization, so they can read what a Team Admin can).
- Detail of an entry: whoever may read a list that shows it (our choice).

Ids that exist nowhere in the world are 404; an organization or team of another organization than the
token's is 403, like a role that is too low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.engine.vendor import Call
from mockserver.engine.world import Org, Team
from mockserver.errors import NotFound, PermissionDenied
from mockserver.vendors._make_events import ORG_READERS, as_id

TEAM_ADMIN = "team_admin"
ORG_ROLE = "Owner or Admin of the organization"
TEAM_ROLE = "Team Admin of the team"


def _norm(role: str) -> str:
    return role.strip().lower().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Caller:
    org: Org
    role: str
    team_roles: Mapping[str, str]

    @property
    def reads_org(self) -> bool:
        return self.role in ORG_READERS

    def admin_of(self, team_id: str) -> bool:
        return self.reads_org or self.team_roles.get(team_id) == TEAM_ADMIN

    @property
    def admins_a_team(self) -> bool:
        return self.reads_org or TEAM_ADMIN in self.team_roles.values()


def caller(call: Call) -> Caller:
    credential = call.credential
    org = call.runtime.orgs[credential.org_id]
    user = next((u for u in org.users if credential.user in (u.id, u.email)), None)
    role = user.role if user is not None else credential.role
    teams = {**(user.teams if user is not None else {}), **credential.teams}
    return Caller(org=org, role=_norm(role), team_roles={str(k): _norm(v) for k, v in teams.items()})


def _same(ident: str, text: str) -> bool:
    number = as_id(ident)
    return ident == text or (number is not None and number == as_id(text))


def organization(call: Call, who: Caller, organization_id: str) -> Org:
    """The org of the path, if the caller's: 404 when it does not exist, 403 when it is another's."""
    if _same(who.org.id, organization_id):
        return who.org
    if any(_same(org.id, organization_id) for org in call.runtime.orgs.values()):
        raise PermissionDenied(ORG_ROLE)
    raise NotFound("Organization not found.")


def team(call: Call, who: Caller, team_id: str) -> Team:
    """The team of the path, if in the caller's org: 404 when it does not exist, 403 when another org's."""
    for candidate in who.org.teams:
        if _same(candidate.id, team_id):
            return candidate
    if any(_same(t.id, team_id) for org in call.runtime.orgs.values() for t in org.teams):
        raise PermissionDenied(TEAM_ROLE)
    raise NotFound("Team not found.")


def require_org_reader(who: Caller) -> None:
    if not who.reads_org:
        raise PermissionDenied(ORG_ROLE)


def require_team_reader(who: Caller, found: Team) -> None:
    if not who.admin_of(found.id):
        raise PermissionDenied(TEAM_ROLE)
