"""What an Amplitude audit-log entry looks like, and the recipe that builds entry ``i`` of an org.

Fields (the seed page "Audit log", "Data captured per event"): timestamp, domain, feature, action,
target, user email, org id, app/project id, IP address, user agent, event properties, error. Amplitude
publishes no JSON for them: the key names (snake_case, as in its other /api/2 answers), ``uuid`` (an id
per entry, like its export API's events) and the ``target`` form ``<kind>:<id>`` are our choice.

The vocabulary follows the seed's risk tiers: high (project create, update of permissions, delete, data
export), medium (invitations, role changes to or from Admin, role permissions, role create/update/delete,
user exports, access toggles and bulk transfers, user deletions, groups, SSO settings) and low (logins
by SSO, magic link or password, registration, password resets, chart/dashboard/notebook deletion).
Domains and features use the page's examples (domain: content, config, group, auth; feature: chart,
user, group, auth); the admin page's example filter ``auth``/``auth``/``login`` matches login entries.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng
from mockserver.engine.staff import Person
from mockserver.engine.windows import format_iso_ms


class Kind(NamedTuple):
    domain: str
    feature: str
    action: str
    risk: str  # high | medium | low (the seed's tiers; not a field of the entry)
    weight: int
    target: str  # what the entry's target names: see _target
    in_project: bool  # carries an app_id


KINDS = (
    Kind("config", "project", "create", "high", 2, "project", True),
    Kind("config", "project", "update", "high", 4, "project", True),
    Kind("config", "project", "delete", "high", 1, "project", True),
    Kind("config", "project", "export", "high", 3, "project", True),
    Kind("config", "user", "invite", "medium", 8, "invitee", False),
    Kind("config", "user", "update", "medium", 4, "member", False),
    Kind("config", "user", "export", "medium", 2, "org", False),
    Kind("config", "user", "delete", "medium", 2, "member", False),
    Kind("config", "role", "create", "medium", 1, "role", False),
    Kind("config", "role", "update", "medium", 3, "role", False),
    Kind("config", "role", "delete", "medium", 1, "role", False),
    Kind("config", "access", "toggle", "medium", 2, "org", False),
    Kind("config", "access", "transfer", "medium", 1, "member", False),
    Kind("group", "group", "create", "medium", 2, "group", False),
    Kind("group", "group", "update", "medium", 4, "group", False),
    Kind("config", "sso", "update", "medium", 1, "sso", False),
    Kind("config", "sso", "toggle", "medium", 1, "sso", False),
    Kind("auth", "auth", "login", "low", 90, "self", False),
    Kind("auth", "auth", "register", "low", 4, "self", False),
    Kind("auth", "auth", "reset_password", "low", 8, "self", False),
    Kind("content", "chart", "delete", "low", 10, "chart", True),
    Kind("content", "dashboard", "delete", "low", 6, "dashboard", True),
    Kind("content", "notebook", "delete", "low", 4, "notebook", True),
)
_TABLE: tuple[Kind, ...] = tuple(kind for kind in KINDS for _ in range(kind.weight))

BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
SCRIPTS = ("python-requests/2.31.0", "curl/8.5.0")
ROLES = ("Viewer", "Member", "Manager", "Admin")
CUSTOM_ROLES = ("Growth Analyst", "Data Steward", "Marketing Viewer", "Billing Admin")
PERMISSIONS = ("create_charts", "edit_dashboards", "export_data", "manage_cohorts", "view_raw_data",
               "manage_taxonomy", "manage_experiments")
GROUPS = ("Growth", "Product Analytics", "Marketing", "Data Platform", "Leadership", "Customer Success")
WORDS = ("Weekly", "Active Users", "Retention", "Funnel", "Checkout", "Onboarding", "Revenue", "Activation",
         "Churn", "Cohort", "Engagement", "North Star", "Experiment", "Mobile", "Web")
LOGIN_METHODS = ("sso", "sso", "password", "password", "magic_link")
LOGIN_ERRORS = {"password": ("Invalid email or password", 0.08), "magic_link": ("Magic link expired", 0.05),
                "sso": ("SAML assertion rejected by the identity provider", 0.02)}
RESET_ERROR = ("Password reset link expired", 0.12)


def _memo(stream: OrgStream) -> dict[str, Any]:
    """What does not change from entry to entry: staff, projects, content, the org's SSO provider."""
    memo = stream.memo
    if "people" in memo:
        return memo
    built: dict[str, Any] = {}  # filled privately, published in one update (a worker thread may render too)
    rng = Rng(stream.key ^ 0xA3F1)
    org = stream.org
    built["people"] = stream.staff.people
    built["weights"] = tuple(int(len(built["people"]) * (n / 1024) ** 2.5) for n in range(1024))
    built["org_id"] = int(org.id) if org.id.isdigit() else org.id
    projects = org.extra.get("projects") or [
        {"id": 100_000 + rng.below(900_000), "name": name} for name in ("Web", "iOS", "Android")]
    built["projects"] = tuple((int(p["id"]), str(p["name"])) for p in projects)
    built["sso"] = str(org.extra.get("sso_provider") or "Okta")
    built["content"] = {kind: tuple((rng.hex(7), f"{rng.choice(WORDS)} {rng.choice(WORDS)}") for _ in range(24))
                        for kind in ("chart", "dashboard", "notebook")}
    stream.memo.update(built)
    return stream.memo


def _invitee(rng: Rng, stream: OrgStream) -> str:
    return f"new.hire{rng.below(10_000):04d}@{stream.org.domain}"


def _properties(kind: Kind, rng: Rng, memo: dict[str, Any], actor: Person, other: Person, invitee: str,
                project: tuple[int, str], item: tuple[str, str]) -> dict[str, Any]:
    """Event properties: the context of each kind of entry (our choice of names)."""
    match kind.feature, kind.action:
        case "project", "update":
            return {"project_name": project[1], "setting": "permissions", "user": other.email,
                    "old_role": rng.choice(ROLES[:3]), "new_role": rng.choice(ROLES[1:])}
        case "project", "export":
            return {"project_name": project[1], "export_type": rng.choice(("raw_events", "cohort", "chart_csv")),
                    "format": rng.choice(("json", "csv"))}
        case "project", _:
            return {"project_name": project[1]}
        case ("chart" | "dashboard" | "notebook") as feature, _:
            return {f"{feature}_id": item[0], f"{feature}_name": item[1], "project_name": project[1]}
        case "user", "invite":
            return {"invitee": invitee, "role": rng.choice(ROLES[:3])}
        case "user", "update":
            old, new = rng.choice((("Member", "Admin"), ("Admin", "Member"), ("Manager", "Admin")))
            return {"user": other.email, "old_role": old, "new_role": new}
        case "user", "export":
            return {"format": "csv", "user_count": len(memo["people"])}
        case "user", _:
            return {"deleted_user": other.email}
        case "role", "update":
            removed = [rng.choice(PERMISSIONS)] if rng.chance(0.4) else []
            return {"role_name": rng.choice(CUSTOM_ROLES), "permissions_added": [rng.choice(PERMISSIONS)],
                    "permissions_removed": removed}
        case "role", _:
            return {"role_name": rng.choice(CUSTOM_ROLES)}
        case "access", "toggle":
            return {"setting": rng.choice(("request_access", "open_join")), "enabled": rng.chance(0.5)}
        case "access", _:
            return {"from_user": other.email, "to_user": actor.email, "items_transferred": 1 + rng.below(60)}
        case "group", "update":
            return {"group_name": rng.choice(GROUPS), "members_added": [other.email], "members_removed": []}
        case "group", _:
            return {"group_name": rng.choice(GROUPS)}
        case "sso", "update":
            return {"provider": memo["sso"], "setting": rng.choice(("idp_metadata_url", "default_role", "certificate"))}
        case "sso", _:
            return {"provider": memo["sso"], "setting": "require_sso", "enabled": rng.chance(0.7)}
        case "auth", "login":
            method = LOGIN_METHODS[rng.below(len(LOGIN_METHODS))]
            return {"login_method": method, **({"sso_provider": memo["sso"]} if method == "sso" else {})}
        case "auth", "register":
            return {"signup_method": rng.choice(("invite", "sso"))}
        case _:
            return {"stage": rng.choice(("requested", "completed"))}


def _target(kind: Kind, memo: dict[str, Any], actor: Person, other: Person, invitee: str,
            project: tuple[int, str], item: tuple[str, str], properties: dict[str, Any]) -> str:
    match kind.target:
        case "project":
            return f"project:{project[0]}"
        case "invitee":
            return f"user:{invitee}"
        case "member":
            return f"user:{other.email}"
        case "self":
            return f"user:{actor.email}"
        case "org":
            return f"org:{memo['org_id']}"
        case "role":
            return f"role:{properties['role_name']}"
        case "group":
            return f"group:{properties['group_name']}"
        case "sso":
            return f"sso:{memo['sso'].lower()}"
        case _:
            return f"{kind.target}:{item[0]}"


def make_event(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    """Entry ``index`` of the org: every choice drawn from ``rng`` (a pure function of seed, org, index)."""
    memo = stream.memo if "people" in stream.memo else _memo(stream)
    people: tuple[Person, ...] = memo["people"]
    uuid = rng.uuid4()
    kind = _TABLE[rng.below(len(_TABLE))]
    actor = people[memo["weights"][rng.below(1024)]]
    other = people[rng.below(len(people))]
    project = memo["projects"][rng.below(len(memo["projects"]))]
    item = memo["content"].get(kind.feature, (("", ""),))[rng.below(24) if kind.domain == "content" else 0]
    invitee = _invitee(rng, stream)
    properties = _properties(kind, rng, memo, actor, other, invitee, project, item)
    error: str | None = None
    if kind.action == "login":
        text, rate = LOGIN_ERRORS[properties["login_method"]]
        error = text if rng.chance(rate) else None
    elif kind.action == "reset_password" and rng.chance(RESET_ERROR[1]):
        error = RESET_ERROR[0]
    scripted = kind.action == "export" and rng.chance(0.3)
    agents = SCRIPTS if scripted else BROWSERS
    return {
        "uuid": uuid,
        "timestamp": format_iso_ms(ts_ms),
        "domain": kind.domain,
        "feature": kind.feature,
        "action": kind.action,
        "target": _target(kind, memo, actor, other, invitee, project, item, properties),
        "user_email": actor.email,
        "org_id": memo["org_id"],
        "app_id": project[0] if kind.in_project else None,
        "ip_address": actor.ips[rng.below(len(actor.ips))],
        "user_agent": agents[rng.below(len(agents))],
        "event_properties": properties,
        "error": error,
    }


RISK = {(kind.domain, kind.feature, kind.action): kind.risk for kind in KINDS}
"""The seed's tier of each (domain, feature, action): what the UI's summary cards count."""
