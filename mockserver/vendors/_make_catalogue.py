"""Make's audit event catalogue: names, the filter groups they are listed under, and how often each happens.

Names follow Make's documentation (VENDORS.md, Make; the Audit logs API reference in seeds/004):
``<object>_<verb>``, e.g. the documented ``webhook_created``, ``webhook_updated``, ``webhook_disabled``,
``webhook_deleted``, ``key_created`` and ``connection_created``. The objects are those Make's audit log
covers: scenarios, connections, webhooks, keys, teams, team variables, organization variables, data stores,
data store records, data structures, functions, the organization and credential requests, each created,
updated and deleted, plus activated, enabled/disabled, role updated, member removed and 2FA enforcement
enabled/disabled where they apply.

Groups and labels are shaped like the filters endpoint's documented ``events[].header`` and
``items[].label``/``value`` (the official SDK's fixture: header "Webhooks", label "Webhook created").
Weights are our choice: scenario edits and data store records dominate, organization changes are rare;
a weight of 0 keeps a name in the catalogue (a valid filter) without generating it.
"""

from __future__ import annotations

from dataclasses import dataclass

TEAM, ORG = "team", "org"


@dataclass(frozen=True, slots=True)
class Kind:
    index: int
    name: str
    """The event name, e.g. ``webhook_created``."""
    header: str
    """The filter group it is listed under, e.g. ``Webhooks``."""
    label: str
    """Its label in that group, e.g. ``Webhook created``."""
    obj: str
    """The object it acts on, e.g. ``webhook``: decides the target and the details."""
    verb: str
    scope: str
    """``team``: the entry carries the team the object belongs to; ``org``: an organization-level entry."""
    weight: int
    versioned: bool


# (object, header, singular label, scope, ((verb, weight), ...), versioned verbs)
_OBJECTS: tuple[tuple[str, str, str, str, tuple[tuple[str, int], ...], tuple[str, ...]], ...] = (
    ("scenario", "Scenarios", "Scenario", TEAM,
     (("created", 4), ("updated", 24), ("deleted", 1), ("activated", 8)), ("created", "updated")),
    ("connection", "Connections", "Connection", TEAM, (("created", 3), ("updated", 2), ("deleted", 1)), ()),
    ("webhook", "Webhooks", "Webhook", TEAM,
     (("created", 3), ("updated", 3), ("enabled", 1), ("disabled", 1), ("deleted", 1)), ()),
    ("key", "Keys", "Key", TEAM, (("created", 1), ("updated", 1), ("deleted", 1)), ()),
    ("team", "Teams", "Team", TEAM,
     (("created", 1), ("updated", 1), ("deleted", 0), ("role_updated", 2), ("member_removed", 1)), ()),
    ("team_variable", "Team variables", "Team variable", TEAM,
     (("created", 2), ("updated", 3), ("deleted", 1)), ()),
    ("organization_variable", "Organization variables", "Organization variable", ORG,
     (("created", 1), ("updated", 2), ("deleted", 1)), ()),
    ("data_store", "Data stores", "Data store", TEAM, (("created", 1), ("updated", 1), ("deleted", 1)), ()),
    ("data_store_record", "Data store records", "Data store record", TEAM,
     (("created", 5), ("updated", 6), ("deleted", 2)), ()),
    ("data_structure", "Data structures", "Data structure", TEAM,
     (("created", 1), ("updated", 2), ("deleted", 1)), ()),
    ("function", "Functions", "Function", TEAM, (("created", 1), ("updated", 2), ("deleted", 1)), ("updated",)),
    ("organization", "Organization", "Organization", ORG,
     (("created", 0), ("updated", 1), ("deleted", 0), ("role_updated", 1), ("member_removed", 1),
      ("2fa_enforcement_enabled", 1), ("2fa_enforcement_disabled", 1)), ()),
    ("credential_request", "Credential requests", "Credential request", TEAM,
     (("created", 1), ("updated", 1), ("deleted", 1)), ()),
)


def _label(singular: str, verb: str) -> str:
    words = verb.replace("2fa", "2FA").replace("_", " ")
    return f"{singular} {words}"


def _kinds() -> tuple[Kind, ...]:
    kinds: list[Kind] = []
    for obj, header, singular, scope, verbs, versioned in _OBJECTS:
        for verb, weight in verbs:
            kinds.append(Kind(index=len(kinds), name=f"{obj}_{verb}", header=header, label=_label(singular, verb),
                              obj=obj, verb=verb, scope=scope, weight=weight, versioned=verb in versioned))
    return tuple(kinds)


KINDS = _kinds()
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
EVENT_NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
HEADERS: tuple[str, ...] = tuple(dict.fromkeys(kind.header for kind in KINDS))
TABLE: tuple[Kind, ...] = tuple(kind for kind in KINDS for _ in range(kind.weight))
"""One slot per unit of weight: a uniform draw from it is a weighted draw of a kind."""
NAME_RANK: tuple[int, ...] = tuple(sorted(EVENT_NAMES).index(kind.name) for kind in KINDS)
"""Each kind's position in alphabetical order of event names (``pg[sortBy]=eventName``)."""


def event_groups(names: set[str]) -> list[dict[str, object]]:
    """The filters endpoint's ``events``: the catalogue's groups, in catalogue order, with only ``names``."""
    groups: list[dict[str, object]] = []
    for header in HEADERS:
        items = [{"label": kind.label, "value": kind.name} for kind in KINDS
                 if kind.header == header and kind.name in names]
        if items:
            groups.append({"header": header, "items": items})
    return groups
