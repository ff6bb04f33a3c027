"""What a Datafold audit-log entry looks like, and the recipe that builds entry ``i`` of an org.

Fields are those of Datafold's ``AuditLogs`` schema (seed 003): ``timestamp``, ``event_uuid``,
``client_ip`` and ``url`` always set; ``action``, ``is_support_user``, ``log_entry``, ``object_id``,
``object_type``, ``payload``, ``referer``, ``request_type``, ``source``, ``status``, ``user_agent``,
``user_email`` and ``user_id`` nullable. Datafold documents no values: the vocabulary below and when a
field is null are our choice, deterministic per entry:

- plain API reads (``GET``) are logged as requests only: no action, object, log entry, source or status;
- scheduled runs (a monitor run by Datafold's scheduler) have no user, user agent, referer or request
  type, and ``is_support_user`` null;
- ``payload`` is the request's JSON body, null for reads and deletions; ``referer`` is set for the web
  app only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng
from mockserver.engine.staff import Person
from mockserver.engine.windows import format_iso_ms

BASE_URL = "https://app.datafold.com"


class Kind(NamedTuple):
    action: str | None
    object_type: str | None
    method: str
    path: str  # {id} is replaced by the object id
    log_entry: str | None  # {email} {name} {id} {other} {role}
    weight: int
    scheduled: bool = False


KINDS = (
    Kind("login", "user", "POST", "/api/v1/auth/login", "{email} logged in", 30),
    Kind("logout", "user", "POST", "/api/v1/auth/logout", "{email} logged out", 6),
    Kind(None, None, "GET", "/api/v1/datadiffs/{id}", None, 40),
    Kind(None, None, "GET", "/api/v1/monitors", None, 12),
    Kind("create", "data_diff", "POST", "/api/v1/datadiffs", "{email} created data diff {id}", 20),
    Kind("create", "data_source", "POST", "/api/v1/data_sources", "{email} created data source '{name}'", 1),
    Kind("update", "data_source", "PUT", "/api/v1/data_sources/{id}", "{email} updated data source '{name}'", 3),
    Kind("delete", "data_source", "DELETE", "/api/v1/data_sources/{id}", "{email} deleted data source '{name}'", 1),
    Kind("create", "monitor", "POST", "/api/v1/monitors", "{email} created monitor '{name}'", 4),
    Kind("update", "monitor", "PATCH", "/api/v1/monitors/{id}", "{email} updated monitor '{name}'", 6),
    Kind("delete", "monitor", "DELETE", "/api/v1/monitors/{id}", "{email} deleted monitor '{name}'", 1),
    Kind("run", "monitor", "POST", "/api/internal/monitors/{id}/run", "Scheduled run of monitor '{name}'", 14,
         scheduled=True),
    Kind("create", "api_key", "POST", "/api/v1/api_keys", "{email} created an API key", 1),
    Kind("delete", "api_key", "DELETE", "/api/v1/api_keys/{id}", "{email} revoked an API key", 1),
    Kind("invite", "user", "POST", "/api/v1/users/invite", "{email} invited {other}", 2),
    Kind("update", "user", "PATCH", "/api/v1/users/{id}", "{email} changed the role of {other} to {role}", 1),
    Kind("update", "ci_config", "PUT", "/api/v1/ci/{id}", "{email} updated CI configuration '{name}'", 2),
    Kind("update", "organization", "PATCH", "/api/v1/organization/settings", "{email} updated organization settings",
         1),
    Kind("download", "audit_logs", "GET", "/api/v1/audit_logs", "{email} downloaded audit logs", 1),
)
_TABLE: tuple[Kind, ...] = tuple(kind for kind in KINDS for _ in range(kind.weight))

BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
)
CLIENTS = ("python-requests/2.31.0", "datafold-sdk/0.6.2 (python 3.11.7)", "curl/8.5.0", "dbt-datafold/0.3.1")
PAGES = ("/datadiffs", "/monitors", "/settings/data_sources", "/settings/org", "/settings/users", "/ci")
SOURCES = ("Snowflake prod", "BigQuery analytics", "Postgres app replica", "Databricks lakehouse", "Redshift legacy",
           "Snowflake staging")
MONITORS = ("orders row count", "revenue freshness", "users schema change", "payments null rate", "events volume",
            "dim_customers diff", "inventory freshness", "sessions anomaly")
CI = ("dbt Cloud prod", "GitHub Actions", "GitLab CI")
ROLES = ("viewer", "member", "admin")
SUPPORT_EMAIL = "support@datafold.com"


def _memo(stream: OrgStream) -> dict[str, Any]:
    memo = stream.memo
    if "people" in memo:
        return memo
    rng = Rng(stream.key ^ 0xDF01)
    people: tuple[Person, ...] = stream.staff.people
    built: dict[str, Any] = {
        "people": tuple((p, int(p.id) if p.id.isdigit() else p.number) for p in people),
        "weights": tuple(int(len(people) * (n / 1024) ** 2.5) for n in range(1024)),
        "data_source": tuple((1000 + rng.below(9000), name) for name in SOURCES),
        "monitor": tuple((20_000 + rng.below(80_000), name) for name in MONITORS),
        "ci_config": tuple((300 + rng.below(700), name) for name in CI),
        "network": f"10.{rng.below(256)}.{rng.below(256)}.",
    }
    stream.memo.update(built)
    return stream.memo


def _object(kind: Kind, memo: dict[str, Any], index: int, rng: Rng, other: tuple[Person, int],
            actor_id: int) -> tuple[int | None, str]:
    """The object's id and name (the id of a new data diff follows the entry's index, so ids increase)."""
    match kind.object_type:
        case "data_source" | "monitor" | "ci_config":
            ident, name = memo[kind.object_type][rng.below(len(memo[kind.object_type]))]
            return ident, name
        case "user":
            return (other[1] if kind.action in ("invite", "update") else actor_id), ""
        case "api_key":
            return 70_000 + rng.below(30_000), ""
        case "organization" | "audit_logs":
            return None, ""
        case _:  # data diffs, created or read
            return 500_000 + index // 3, ""


def _payload(kind: Kind, rng: Rng, name: str, other_email: str, role: str) -> dict[str, Any] | None:
    if kind.method in ("GET", "DELETE") or kind.scheduled:
        return None
    match kind.object_type:
        case "data_diff":
            return {"data_source1_id": 1000 + rng.below(9000), "table1": ["analytics", "public", "orders"],
                    "table2": ["analytics", "staging", "orders"], "pk_columns": ["order_id"],
                    "materialize_results": rng.chance(0.3)}
        case "data_source":
            return {"name": name, "type": name.split()[0].lower()}
        case "monitor":
            return {"name": name, "schedule": rng.choice(("0 * * * *", "0 6 * * *", "*/15 * * * *")),
                    "enabled": True}
        case "user":
            if kind.action == "invite":
                return {"email": other_email, "role": role}
            return {"role": role} if kind.action == "update" else {"remember_me": rng.chance(0.5)}
        case "ci_config":
            return {"name": name, "files_to_ignore": ["docs/**"], "pr_comment": True}
        case "organization":
            return {rng.choice(("require_sso", "session_timeout_minutes")): rng.choice((True, 720))}
        case _:
            return {}


def make_event(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    """Entry ``index`` of the org: every choice drawn from ``rng`` (a pure function of seed, org, index)."""
    memo = stream.memo if "people" in stream.memo else _memo(stream)
    uuid = rng.uuid4()
    kind = _TABLE[rng.below(len(_TABLE))]
    actor, actor_id = memo["people"][memo["weights"][rng.below(1024)]]
    other = memo["people"][rng.below(len(memo["people"]))]
    support = not kind.scheduled and rng.chance(0.01)  # Datafold support acting in the org
    via_api = not kind.scheduled and kind.object_type != "user" and rng.chance(0.35)
    role = rng.choice(ROLES)
    object_id, name = _object(kind, memo, index, rng, other, actor_id)
    path = kind.path.replace("{id}", str(object_id))
    email = SUPPORT_EMAIL if support else actor.email
    failed = kind.action is not None and rng.chance(0.03)
    ip = f"{memo['network']}{rng.below(256)}" if kind.scheduled else actor.ips[rng.below(len(actor.ips))]
    agent = rng.choice(CLIENTS if via_api else BROWSERS)
    page = rng.choice(PAGES)
    log_entry = None
    if kind.log_entry is not None:
        log_entry = kind.log_entry.format(email=email, name=name, id=object_id, other=other[0].email, role=role)
    human = not kind.scheduled
    return {
        "action": kind.action,
        "client_ip": ip,
        "event_uuid": uuid,
        "is_support_user": support if human else None,
        "log_entry": log_entry,
        "object_id": object_id if kind.action is not None else None,
        "object_type": kind.object_type,
        "payload": _payload(kind, rng, name, other[0].email, role),
        "referer": f"{BASE_URL}{page}" if human and not via_api else None,
        "request_type": kind.method if human else None,
        "source": None if kind.action is None else ("scheduler" if kind.scheduled else "api" if via_api else "web"),
        "status": None if kind.action is None else ("failure" if failed else "success"),
        "timestamp": format_iso_ms(ts_ms)[:-1] + "000+00:00",
        "url": f"{BASE_URL}{path}",
        "user_agent": agent if human else None,
        "user_email": email if human else None,
        "user_id": (1 if support else actor_id) if human else None,
    }
