"""What a Make audit log entry looks like, and the recipe that builds entry ``i`` of an org.

The shape is Make's documented entry (seeds/004, VENDORS.md, Make) in its documented key order::

    {"uuid", "createdAt", "triggeredAt", "organizationId", "organization": {"id", "name"}, "eventName",
     "team": {"id", "name"}, "actor": {"id", "name", "email"}, "targetId", "version": {"from", "to"}}

- ``uuid`` is 32 hex digits without hyphens, a version-4 UUID (the official SDK's fixtures and docs:
  "UUIDv4 of the audit log entry. Hyphens are optional"). It encodes the entry's place in the corpus,
  so ``pg[last]`` and the detail endpoint find an entry from its uuid alone (_make_uuid.py).
- ``triggeredAt`` and ``createdAt`` are ISO 8601 strings with milliseconds, as in every real example;
  Make's published schema types ``triggeredAt`` as an integer, which no example follows.
- ``team`` is absent from organization-level entries (the SDK: "absent for organization-level events");
  ``version`` only comes with versioned payloads (scenario blueprints, functions), without ``from`` for
  a first version.
- Actors are the org's fixed staff (engine/staff.py), picked among the members of the entry's team, or
  among the org's owners and admins for organization-level entries. Targets come from a fixed set of
  objects per team (scenarios, webhooks, ...), so the same scenario is edited again and again.

Every choice an entry makes is read from two draws of its rng by ``draw`` (``core`` for the first, all
that filters and sorts need); the factory, the details (_make_details.py) and the sort/filter columns
(_make_columns.py) all go through it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng, mix64
from mockserver.engine.staff import Person
from mockserver.engine.windows import format_iso_ms
from mockserver.engine.world import Team
from mockserver.vendors._make_catalogue import KINDS, TABLE, TEAM, Kind
from mockserver.vendors._make_uuid import encode_uuid

ORG_READERS = frozenset({"owner", "admin"})
"""Organization roles that read the organization's audit logs (and act in its organization-level entries)."""

# Objects per team (per org for organization variables): (id base, names)
POOLS: dict[str, tuple[int, tuple[str, ...]]] = {
    "scenario": (4_100_000, ("Sync Shopify orders to Google Sheets", "New HubSpot deals to Slack",
                             "Invoice PDFs to Google Drive", "Daily Jira digest", "Typeform leads to Salesforce",
                             "Stripe payments to Xero", "Backup Airtable base", "Zendesk tickets to Teams",
                             "Calendly bookings to CRM", "GitHub issues to Notion", "Weekly KPI report",
                             "Mailchimp unsubscribes")),
    "connection": (9_200_000, ("Google", "Slack", "HubSpot CRM", "Airtable", "Salesforce", "Notion", "Stripe",
                               "Gmail")),
    "webhook": (1_700_000, ("Orders webhook", "Leads webhook", "Stripe events", "Form submissions",
                            "Support inbox", "Deploy notifications")),
    "key": (52_000, ("Partner API key", "SFTP private key", "Payload encryption key", "Billing API key")),
    "team_variable": (0, ("CRM_API_URL", "SLACK_CHANNEL", "RETRY_LIMIT", "REPORT_RECIPIENTS", "DEFAULT_CURRENCY")),
    "organization_variable": (0, ("COMPANY_NAME", "SUPPORT_EMAIL", "FISCAL_YEAR_START", "DATA_RETENTION_DAYS",
                                  "MAINTENANCE_MODE", "REGION")),
    "data_store": (61_000, ("Processed orders", "Customer cache", "Dedup keys", "Rate limits")),
    "data_store_record": (0, tuple(f"record {n}" for n in range(24))),
    "data_structure": (230_000, ("Order", "Customer", "Invoice line", "Lead")),
    "function": (1_900, ("formatPhone", "parseInvoiceNumber", "slugify", "toCents")),
    "credential_request": (0, ("Access to Salesforce", "Google Drive for reporting", "Slack workspace",
                               "Stripe read-only")),
}


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    name: str
    team: int
    """The team index the object belongs to (-1: organization level)."""


@dataclass(frozen=True, slots=True)
class OrgFacts:
    """Everything about an org that entries share, built once per stream."""

    org_id: int
    org: dict[str, Any]
    teams: tuple[Team, ...]
    team_ids: tuple[int, ...]
    team_objects: tuple[dict[str, Any], ...]
    people: tuple[Person, ...]
    person_ids: tuple[int, ...]
    actors: tuple[dict[str, Any], ...]
    team_people: tuple[tuple[int, ...], ...]
    admins: tuple[int, ...]
    everyone: tuple[int, ...]
    targets: Mapping[str, tuple[tuple[Target, ...], ...]]
    """Per object, per team index (one row for organization-level objects): its targets."""
    target_strings: tuple[str, ...]
    """Every targetId the org can show, in string order: an entry's target is known by its rank here
    (``pg[sortBy]=targetId`` sorts by that rank)."""
    entity_ranks: Mapping[str, tuple[tuple[int, ...], ...]]
    person_ranks: tuple[int, ...]
    team_ranks: tuple[int, ...]
    org_rank: int


def as_id(text: object) -> int | None:
    """``text`` as a Make id (an integer written in ASCII digits), or None."""
    value = str(text)
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def person_id(person: Person) -> int:
    """Make user ids are integers: the world's id when it is one, else the staff number."""
    ident = as_id(person.id)
    return person.number if ident is None else ident


def facts(stream: OrgStream) -> OrgFacts:
    found: OrgFacts | None = stream.memo.get("make")
    if found is None:
        found = stream.memo["make"] = _build(stream)
    return found


def _build(stream: OrgStream) -> OrgFacts:
    org, staff = stream.org, stream.staff
    org_id = as_id(org.id) or 0
    teams = org.teams
    team_ids = tuple(as_id(team.id) or 0 for team in teams)
    people = staff.people
    person_ids = tuple(person_id(person) for person in people)
    everyone = tuple(range(len(people)))
    team_people = tuple(tuple(n for n, person in enumerate(people) if team.id in person.teams) or everyone
                        for team in teams)
    admins = tuple(n for n, person in enumerate(people) if person.role in ORG_READERS) or everyone
    rng = Rng(stream.key ^ 0x4D414B45)  # "MAKE"
    targets: dict[str, tuple[tuple[Target, ...], ...]] = {}
    for obj, (base, names) in POOLS.items():
        # one row per team; organization-level objects (and every object of an org without teams): one row
        rows = [-1] if obj == "organization_variable" or not teams else list(range(len(teams)))
        table = []
        for row, team in enumerate(rows):
            items = []
            for j, name in enumerate(names):
                number = row + max(1, len(rows)) * j
                if obj in ("team_variable", "organization_variable"):
                    ident = name  # Make names variables; the name is their identity
                elif obj == "data_store_record":
                    ident = rng.hex(10)
                elif obj == "credential_request":
                    ident = rng.hex(32)
                else:
                    ident = str(base + (org_id % 97) * 1_000 + number)
                items.append(Target(ident, name, team))
            table.append(tuple(items))
        targets[obj] = tuple(table)
    strings = {t.id for table in targets.values() for row in table for t in row}
    strings |= {str(n) for n in (org_id, *team_ids, *person_ids)}
    ordered = tuple(sorted(strings))
    rank = {text: n for n, text in enumerate(ordered)}
    return OrgFacts(
        org_id=org_id, org={"id": org_id, "name": org.name}, teams=teams, team_ids=team_ids,
        team_objects=tuple({"id": ident, "name": team.name} for ident, team in zip(team_ids, teams, strict=True)),
        people=people, person_ids=person_ids,
        actors=tuple({"id": ident, "name": p.name, "email": p.email} for ident, p in zip(person_ids, people,
                                                                                         strict=True)),
        team_people=team_people, admins=admins, everyone=everyone, targets=targets, target_strings=ordered,
        entity_ranks={obj: tuple(tuple(rank[t.id] for t in row) for row in table) for obj, table in targets.items()},
        person_ranks=tuple(rank[str(n)] for n in person_ids), team_ranks=tuple(rank[str(n)] for n in team_ids),
        org_rank=rank[str(org_id)])


class Core(NamedTuple):
    """The choices an entry reads from its first draw: everything filters and sorts need."""

    kind: Kind
    team: int
    """Team index, -1 for organization-level entries."""
    actor: int
    entity: int
    """Which of its team's objects of that kind it acts on."""
    delay_ms: int
    """createdAt - triggeredAt: Make stores an entry a moment after the event."""


class Draw(NamedTuple):
    """Every choice an entry makes: its core, and what it reads from its second draw."""

    core: Core
    subject: int
    """The person a role change or removal is about."""
    version: int
    variant: int


PERSON_VERBS = frozenset({"role_updated", "member_removed"})
_GOLDEN = 0x9E3779B97F4A7C15
_SIZES = tuple(len(POOLS[kind.obj][1]) if kind.obj in POOLS else 1 for kind in KINDS)


def _skew(draw: int, size: int) -> int:
    """An index below ``size`` biased to the front: a few busy people, many quiet ones."""
    return int(size * (draw / 65536.0) ** 2)


def core(f: OrgFacts, first: int) -> Core:
    kind = TABLE[first % len(TABLE)]
    if kind.scope == TEAM and f.teams:
        team = (first >> 8) % len(f.teams)
        pool = f.team_people[team]
    else:
        team, pool = -1, f.admins
    return Core(kind, team, pool[_skew((first >> 20) & 0xFFFF, len(pool))],
                ((first >> 36) & 0x3FFF) % _SIZES[kind.index], 20 + (first >> 54))


def subject(f: OrgFacts, c: Core, second: int) -> int:
    others = f.team_people[c.team] if c.team >= 0 else f.everyone
    chosen = others[(second >> 24) % len(others)]
    if chosen == c.actor and len(others) > 1:
        chosen = others[((second >> 24) + 1) % len(others)]
    return chosen


def draw(f: OrgFacts, first: int, second: int) -> Draw:
    c = core(f, first)
    return Draw(c, subject(f, c, second), 1 + (second >> 10) % 80, second >> 48)


def target(f: OrgFacts, c: Core) -> Target | None:
    """The object the entry acts on, when it is one of the org's objects (not a team, user or the org)."""
    table = f.targets.get(c.kind.obj)
    if table is None:
        return None
    return table[max(c.team, 0)][c.entity]


def target_rank(f: OrgFacts, c: Core, person: int) -> int:
    """The rank of the entry's targetId among the org's (``target_strings``): the object it acts on, the
    user (``person``, its subject) a role change or removal is about, the team, or the organization."""
    table = f.entity_ranks.get(c.kind.obj)
    if table is not None:
        return table[max(c.team, 0)][c.entity]
    if c.kind.verb in PERSON_VERBS:
        return f.person_ranks[person]
    if c.kind.obj == "team" and c.team >= 0:
        return f.team_ranks[c.team]
    return f.org_rank


def draws(stream: OrgStream, index: int) -> tuple[int, int]:
    """The first two draws of the rng the engine gives entry ``index`` (``Rng(mix64(stream.key + index))``),
    without building it: ``Rng(seed).next()`` is ``mix64(seed)``, the next one ``mix64(seed + golden)``."""
    seed = mix64(stream.key + index)
    return mix64(seed), mix64(seed + _GOLDEN)


def sort_facts(stream: OrgStream, f: OrgFacts, index: int) -> tuple[Core, int]:
    """Entry ``index``'s core and its target's rank (``target_strings``), for the sort and filter columns:
    the same draws as the factory's, the second one read only when the target is a person."""
    seed = mix64(stream.key + index)
    c = core(f, mix64(seed))
    person = subject(f, c, mix64(seed + _GOLDEN)) if c.kind.verb in PERSON_VERBS else -1
    return c, target_rank(f, c, person)


def make_event(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    f = facts(stream)
    d = draw(f, rng.next(), rng.next())
    c = d.core
    entry: dict[str, Any] = {
        "uuid": encode_uuid(stream.key, index),
        "createdAt": format_iso_ms(ts_ms + c.delay_ms),
        "triggeredAt": format_iso_ms(ts_ms),
        "organizationId": f.org_id,
        "organization": f.org,
        "eventName": c.kind.name,
    }
    if c.team >= 0:
        entry["team"] = f.team_objects[c.team]
    entry["actor"] = f.actors[c.actor]
    entry["targetId"] = f.target_strings[target_rank(f, c, d.subject)]
    if c.kind.versioned:
        entry["version"] = {"to": "1"} if c.kind.verb == "created" else {"from": str(d.version),
                                                                        "to": str(d.version + 1)}
    return entry
