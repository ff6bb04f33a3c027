"""The detail endpoint's ``details``: what Make records about each kind of event.

Make documents one example, for webhooks: ``{"webhookName": "...", "webhookType": "http"}``; the other
kinds follow its pattern (the object's name and type, the user and roles of a role change): our choice.
Drawn from the same rng as the entry, so an entry's details never change.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.events import OrgStream
from mockserver.vendors._make_events import PERSON_VERBS, draw, draws, facts, target

CONNECTION_TYPES = ("google", "slack", "hubspotcrm", "airtable3", "salesforce", "notion", "stripe", "google-email")
KEY_TYPES = ("apikeyauth", "privatekey", "aes-key", "apikeyauth")
VARIABLE_TYPES = ("text", "number", "boolean", "date")
ORG_ROLES = ("Member", "Admin", "Accountant", "App Developer")
TEAM_ROLES = ("Team Member", "Team Admin", "Team Monitoring", "Team Operator")
ORG_FIELDS = ("timezone", "name", "countryId", "productionStatus")


def details(stream: OrgStream, index: int) -> dict[str, Any]:
    """The detail endpoint's ``details`` of entry ``index``: what Make records about that kind of event
    (the documented example: ``{"webhookName": "...", "webhookType": "http"}`` for webhooks)."""
    f = facts(stream)
    d = draw(f, *draws(stream, index))
    c = d.core
    obj, verb, variant = c.kind.obj, c.kind.verb, d.variant
    thing = target(f, c)
    name = thing.name if thing is not None else ""
    if verb in PERSON_VERBS:
        person = f.people[d.subject]
        roles = TEAM_ROLES if obj == "team" else ORG_ROLES
        out: dict[str, Any] = {"userName": person.name, "userEmail": person.email}
        if verb == "role_updated":
            out |= {"roleFrom": roles[variant % len(roles)], "roleTo": roles[(variant + 1) % len(roles)]}
        return out
    simple = {"scenario": "scenarioName", "data_store": "dataStoreName", "data_structure": "dataStructureName",
              "function": "functionName", "credential_request": "requestName"}
    if obj in simple:
        out = {simple[obj]: name}
        if obj == "credential_request" and verb != "deleted":
            out["status"] = "pending" if verb == "created" else ("approved", "declined")[variant % 2]
        return out
    if obj == "connection":
        return {"connectionName": f"My {name} connection", "connectionType": CONNECTION_TYPES[c.entity]}
    if obj == "webhook":
        return {"webhookName": name, "webhookType": "mail" if name == "Support inbox" else "http"}
    if obj == "key":
        return {"keyName": name, "keyType": KEY_TYPES[c.entity]}
    if obj in ("team_variable", "organization_variable"):
        return {"variableName": name, "variableType": VARIABLE_TYPES[c.entity % len(VARIABLE_TYPES)]}
    if obj == "data_store_record":
        stores = f.targets["data_store"][max(c.team, 0)]
        return {"dataStoreName": stores[c.entity % len(stores)].name, "recordKey": thing.id if thing else ""}
    if obj == "team":
        return {"teamName": f.teams[c.team].name if c.team >= 0 else ""}
    if verb.startswith("2fa_enforcement"):
        return {"twoFactorEnforcement": verb.endswith("enabled")}
    return {"organizationName": f.org["name"], "changedFields": [ORG_FIELDS[variant % len(ORG_FIELDS)]]}
