"""The world file: orgs, their teams, named users and credentials, per vendor.

The file is validated once at start-up; every problem is reported as one ``WorldError`` line naming
the file and the place in it (``world.yaml: datadog.orgs[1].credentials[0]: missing 'secrets.app_key'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mockserver.engine.yamlsafe import safe_load


class WorldError(ValueError):
    """A world file the server cannot use; ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    role: str
    teams: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    vendor: str
    org_id: str
    role: str
    permissions: frozenset[str]
    secrets: Mapping[str, str]
    user: str | None = None
    teams: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Org:
    vendor: str
    id: str
    name: str
    domain: str
    plan: str | None
    events_per_day: int | None
    staff: int
    users: tuple[User, ...]
    teams: tuple[Team, ...]
    credentials: tuple[Credential, ...]
    extra: Mapping[str, Any]
    rate_limit: Mapping[str, Any] | None = None
    """Overrides of the vendor's rate limit for this org (checked by engine.ratelimit at start-up)."""
    live: Mapping[str, Any] | None = None
    """Overrides of live arrival for this org: ingestion lag, jitter, out-of-order fraction."""


@dataclass(frozen=True, slots=True)
class World:
    orgs: Mapping[str, tuple[Org, ...]]

    def org(self, vendor: str, org_id: str) -> Org | None:
        for org in self.orgs.get(vendor, ()):
            if org.id == org_id:
                return org
        return None


_ORG_KEYS = {"id", "name", "domain", "plan", "events_per_day", "staff", "users", "teams", "credentials", "extra",
             "rate_limit", "live"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> WorldError:
        return WorldError(f"{self.source}: {where}: {what}")

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise self.fail(where, f"missing '{key}'")
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            raise self.fail(where, f"'{key}' must be a non-empty string")
        return str(value)

    def count(self, data: Mapping[str, Any], key: str, where: str, default: int | None) -> int | None:
        value = data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, f"'{key}' must be a non-negative integer")
        return value

    def roles(self, value: object, where: str) -> dict[str, str]:
        data = self.mapping(value or {}, where)
        return {str(k): str(v) for k, v in data.items()}


def parse_world(data: object, secret_fields: Mapping[str, tuple[str, ...]], source: str = "world") -> World:
    """Build a World from parsed YAML; ``secret_fields`` names each known vendor's credential fields."""
    reader = _Reader(source)
    top = reader.mapping(data, "top level")
    orgs: dict[str, tuple[Org, ...]] = {}
    seen_secrets: dict[tuple[str, tuple[str, ...]], str] = {}
    for vendor, vendor_data in top.items():
        if vendor not in secret_fields:
            known = ", ".join(sorted(secret_fields))
            raise reader.fail(str(vendor), f"unknown vendor (known: {known})")
        section = reader.mapping(vendor_data, vendor)
        org_list: list[Org] = []
        for n, raw in enumerate(reader.items(section.get("orgs"), f"{vendor}.orgs")):
            where = f"{vendor}.orgs[{n}]"
            org = _parse_org(reader, vendor, reader.mapping(raw, where), where, secret_fields[vendor])
            if any(existing.id == org.id for existing in org_list):
                raise reader.fail(where, f"duplicate org id {org.id!r}")
            for cred in org.credentials:
                fingerprint = (vendor, tuple(cred.secrets[f] for f in secret_fields[vendor]))
                if fingerprint in seen_secrets:
                    owner = seen_secrets[fingerprint]
                    raise reader.fail(where, f"credential {cred.id!r} reuses the secrets of {owner!r}")
                seen_secrets[fingerprint] = cred.id
            org_list.append(org)
        orgs[vendor] = tuple(org_list)
    return World(orgs=orgs)


def _parse_org(reader: _Reader, vendor: str, raw: Mapping[str, Any], where: str, fields: tuple[str, ...]) -> Org:
    unknown = set(raw) - _ORG_KEYS
    if unknown:
        raise reader.fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    org_id = reader.text(raw, "id", where)
    name = reader.text(raw, "name", where)
    teams = tuple(
        Team(id=reader.text(t, "id", f"{where}.teams[{i}]"), name=reader.text(t, "name", f"{where}.teams[{i}]"))
        for i, t in enumerate(reader.mapping(x, f"{where}.teams[{i}]") for i, x in enumerate(
            reader.items(raw.get("teams"), f"{where}.teams")))
    )
    users = []
    for i, item in enumerate(reader.items(raw.get("users"), f"{where}.users")):
        uw = f"{where}.users[{i}]"
        u = reader.mapping(item, uw)
        users.append(User(id=reader.text(u, "id", uw), email=reader.text(u, "email", uw),
                          name=reader.text(u, "name", uw), role=reader.text(u, "role", uw, "member"),
                          teams=reader.roles(u.get("teams"), f"{uw}.teams")))
    credentials = []
    for i, item in enumerate(reader.items(raw.get("credentials"), f"{where}.credentials")):
        cw = f"{where}.credentials[{i}]"
        c = reader.mapping(item, cw)
        secrets = reader.mapping(c.get("secrets", {}), f"{cw}.secrets")
        for f in fields:
            if not secrets.get(f):
                raise reader.fail(cw, f"missing 'secrets.{f}'")
        perms = reader.items(c.get("permissions"), f"{cw}.permissions")
        credentials.append(Credential(
            id=reader.text(c, "id", cw), vendor=vendor, org_id=org_id, role=reader.text(c, "role", cw),
            permissions=frozenset(str(p) for p in perms), secrets={f: str(secrets[f]) for f in fields},
            user=str(c["user"]) if c.get("user") else None, teams=reader.roles(c.get("teams"), f"{cw}.teams")))
    domain = reader.text(raw, "domain", where, default=org_id.lower().replace(" ", "") + ".example")
    plan = raw.get("plan")
    return Org(vendor=vendor, id=org_id, name=name, domain=domain, plan=str(plan) if plan else None,
               events_per_day=reader.count(raw, "events_per_day", where, None),
               staff=reader.count(raw, "staff", where, 20) or 0, users=tuple(users), teams=teams,
               credentials=tuple(credentials), extra=reader.mapping(raw.get("extra") or {}, f"{where}.extra"),
               rate_limit=reader.mapping(raw["rate_limit"], f"{where}.rate_limit") if "rate_limit" in raw else None,
               live=reader.mapping(raw["live"], f"{where}.live") if "live" in raw else None)


def load_world(path: Path, secret_fields: Mapping[str, tuple[str, ...]]) -> World:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorldError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else "?"
        raise WorldError(f"{path}: {at}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    return parse_world(data, secret_fields, source=path.name)
