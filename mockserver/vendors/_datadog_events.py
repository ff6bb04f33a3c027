"""What a Datadog Audit Trail event looks like, and the recipe that builds event ``i`` of an org.

Shapes follow events observed from the real API (see VENDORS.md, Datadog): nested ``attributes`` with
``evt.name``, ``evt.actor.type``, ``usr.*``, ``org.uuid``, ``action``, ``auth_method``, ``http.*``
(``status_code`` as a string), ``network.client.ip`` and ``status: "info"``; outer ``tags:
["source:audit"]``; timestamps with milliseconds and ``Z``.
"""

from __future__ import annotations

import base64
import struct
from typing import Any, NamedTuple

import orjson

from mockserver.engine.events import OrgStream
from mockserver.engine.rng import Rng
from mockserver.engine.windows import format_iso_ms


class Kind(NamedTuple):
    evt: str
    service: str
    action: str
    method: str
    path: str  # {id} is replaced by the asset id
    asset: str | None  # asset type, or None for plain requests
    message: str  # {email} {asset} {method} {path} {code}
    weight: int


# Weights: most audit traffic is API/UI requests, then logins, then configuration changes.
KINDS = (
    Kind("Request", "datadog", "accessed", "GET", "/api/v1/dashboard/{id}", None,
         "GET request made to {path} by {email} with response {code}", 30),
    Kind("Request", "datadog", "accessed", "GET", "/api/v2/logs/events", None,
         "GET request made to {path} by {email} with response {code}", 12),
    Kind("Request", "datadog", "accessed", "POST", "/api/v1/query", None,
         "POST request made to {path} by {email} with response {code}", 8),
    Kind("Authentication", "authentication", "login", "POST", "/account/login", None,
         "{email} logged in via {auth}", 10),
    Kind("Authentication", "authentication", "logout", "POST", "/account/logout", None,
         "{email} logged out", 3),
    Kind("Dashboard", "dashboard", "created", "POST", "/api/v1/dashboard", "dashboard",
         "{email} created the dashboard \u201c{asset}\u201d", 3),
    Kind("Dashboard", "dashboard", "modified", "PUT", "/api/v1/dashboard/{id}", "dashboard",
         "{email} modified the dashboard \u201c{asset}\u201d", 6),
    Kind("Dashboard", "dashboard", "deleted", "DELETE", "/api/v1/dashboard/{id}", "dashboard",
         "{email} deleted the dashboard \u201c{asset}\u201d", 1),
    Kind("Monitor", "monitor", "created", "POST", "/api/v1/monitor", "monitor",
         "{email} created the monitor \u201c{asset}\u201d", 2),
    Kind("Monitor", "monitor", "modified", "PUT", "/api/v1/monitor/{id}", "monitor",
         "{email} modified the monitor \u201c{asset}\u201d", 5),
    Kind("Monitor", "monitor", "deleted", "DELETE", "/api/v1/monitor/{id}", "monitor",
         "{email} deleted the monitor \u201c{asset}\u201d", 1),
    Kind("Notebook", "notebook", "modified", "PUT", "/api/v1/notebooks/{id}", "notebook",
         "{email} modified the notebook \u201c{asset}\u201d", 2),
    Kind("Log Management", "logs", "update_config", "PUT", "/api/v1/logs/config/pipelines/{id}", "logs_pipeline",
         "{email} modified the log pipeline \u201c{asset}\u201d", 2),
    Kind("Access Management", "access-management", "created", "POST", "/api/v2/user_invitations", "user",
         "{email} invited {asset} to the organization", 1),
    Kind("Access Management", "access-management", "modified", "PATCH", "/api/v2/roles/{id}", "role",
         "{email} modified the role \u201c{asset}\u201d", 1),
    Kind("Access Management", "access-management", "created", "POST", "/api/v2/api_keys", "api_key",
         "{email} created the API key \u201c{asset}\u201d", 1),
    Kind("Organization Management", "organization", "modified", "PUT", "/api/v1/org/{id}", "organization",
         "{email} modified the organization settings", 1),
)
_TABLE: tuple[Kind, ...] = tuple(kind for kind in KINDS for _ in range(kind.weight))

AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
API_AGENTS = ("datadog-api-client-python/2.24.1 (python 3.11.7; os Linux; arch x86_64)",
              "terraform-provider-datadog/3.39.0 (terraform 1.8.2; terraform-cli 1.8.2) datadog-api-client-go/2.25.0",
              "curl/8.5.0")
WORDS = ("Checkout", "Payments", "Edge", "Kafka", "Postgres", "Latency", "Errors", "SLO", "Billing", "Search",
         "Ingest", "Frontend", "Mobile", "Auth", "Queue", "Cache", "Storage", "Capacity", "Canary", "Core")
NOUNS = {"dashboard": ("Overview", "Service Health", "Weekly Review", "On-call"),
         "monitor": ("error rate is high", "p99 latency above SLO", "queue backlog", "disk almost full"),
         "notebook": ("Postmortem", "Investigation", "Runbook"),
         "logs_pipeline": ("pipeline", "parser", "processor"),
         "role": ("Responder", "Read Only", "Billing Admin"),
         "api_key": ("ci", "terraform", "exporter"),
         "organization": ("settings",), "user": ("",)}


def _assets(stream: OrgStream) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each asset type's fixed catalogue for this org: (id, name)."""
    rng = Rng(stream.key ^ 0xA55E7)
    catalogue: dict[str, tuple[tuple[str, str], ...]] = {}
    for kind, nouns in NOUNS.items():
        items = []
        for n in range(12):
            if kind == "user":
                ident, name = rng.uuid4(), f"new.hire{n}@{stream.org.domain}"
            elif kind == "monitor":
                ident, name = str(1_000_000 + rng.below(9_000_000)), f"[{rng.choice(WORDS)}] {rng.choice(nouns)}"
            else:
                raw = rng.hex(9)
                ident = f"{raw[:3]}-{raw[3:6]}-{raw[6:9]}"
                name = f"{rng.choice(WORDS)} {rng.choice(nouns)}".strip()
            items.append((ident, name))
        catalogue[kind] = tuple(items)
    return catalogue


def _memo(stream: OrgStream) -> dict[str, Any]:
    """Everything about an org that does not change from event to event, built once: staff, org,
    asset catalogue, and the constant sub-objects events share (orjson serialises shared dicts fine)."""
    memo = stream.memo
    if "people" not in memo:
        memo = {}  # filled privately, published in one update: a worker thread may be rendering too
        staff = stream.staff
        rng = Rng(stream.key ^ 0x0D06)
        memo["people"] = tuple(
            (p, {"id": p.id, "email": p.email, "uuid": p.uuid, "name": p.name},
             tuple({"client": {"ip": ip}} for ip in p.ips))
            for p in staff.people)
        memo["weights"] = _skew_table(len(staff.people))
        memo["org"] = {"uuid": str(stream.org.extra.get("uuid") or rng.uuid4()), "name": stream.org.name}
        memo["assets"] = {kind: tuple((ident, name, {"type": kind, "id": ident, "name": name})
                                      for ident, name in items)
                          for kind, items in _assets(stream).items()}
        stream.memo.update(memo)
    return memo


def _skew_table(people: int, size: int = 4096, power: float = 2.5) -> tuple[int, ...]:
    """Person index for each of ``size`` equally likely draws: a few busy people, many quiet ones."""
    return tuple(int(people * (n / size) ** power) for n in range(size))


_EVT = {kind: {"name": kind.evt, "actor": {"type": "USER"}} for kind in KINDS}
_NO_SYMBOLS = bytes.maketrans(b"+/", b"Xk")
_ID_LAYOUT = struct.Struct(">QQQQB")  # 33 bytes: 44 base64 characters, no padding
_B64 = base64.b64encode


def event_id(ts_ms: int, draws: tuple[int, int, int]) -> str:
    """Shaped like real ids (``AAAAAWgN8Xwgr1vKDQAAAABBV2dO...``: 50 letters and digits, no ``+`` or ``/``):
    a fixed prefix, the timestamp, then 25 bytes of the event's random draws."""
    first, second, third = draws
    raw = _ID_LAYOUT.pack(ts_ms, first, second, third, (first ^ third) & 0xFF)
    return "AAAAAY" + _B64(raw).translate(_NO_SYMBOLS).decode()  # 33 bytes: 44 characters, no padding


class Draw(NamedTuple):
    """Every choice an event makes, sliced from two 64-bit draws; shared by make_event and render_event."""

    person: int
    kind: Kind
    via_api: bool
    asset: int
    code: str
    agent: int
    network: int
    saml: bool


def draw(first: int, second: int, weights: tuple[int, ...]) -> Draw:
    kind = _TABLE[(first >> 12) % len(_TABLE)]
    roll = (second >> 16) % 100
    code = "200" if roll < 93 else ("404" if roll < 97 else ("403" if roll < 99 else "500"))
    if code == "200" and kind.action == "created" and kind.method == "POST":
        code = "201"
    return Draw(person=weights[first & 0xFFF], kind=kind,
                via_api=kind.evt == "Request" and (second & 0xFF) < 102,  # 40% of requests use API keys
                asset=(second >> 8) % 12, code=code, agent=second >> 24, network=second >> 32,
                saml=not (second >> 40) & 1)


def make_event(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> dict[str, Any]:
    """The readable recipe of event ``index`` (render_event is its fast path)."""
    memo = stream.memo if "people" in stream.memo else _memo(stream)
    first, second = rng.next(), rng.next()
    d = draw(first, second, memo["weights"])
    kind = d.kind
    person, usr, networks = memo["people"][d.person]
    asset_id, asset_name, asset = memo["assets"][kind.asset or "dashboard"][d.asset]
    path = kind.path.replace("{id}", asset_id)
    agents = API_AGENTS if d.via_api else AGENTS
    attributes: dict[str, Any] = {
        "evt": _EVT[kind],
        "usr": usr,
        "org": memo["org"],
        "action": kind.action,
        "auth_method": "API + App Key" if d.via_api else "SESSION",
        "http": {"method": kind.method, "status_code": d.code, "url_details": {"path": path},
                 "useragent": agents[d.agent % len(agents)]},
        "network": networks[d.network % len(networks)],
        "status": "info",
    }
    if kind.asset is not None:
        attributes["asset"] = asset
    message = kind.message.format(email=person.email, asset=asset_name, path=path, code=d.code,
                                  auth="SAML" if d.saml else "password")
    return {
        "id": event_id(ts_ms, (first, second, rng.next())),
        "type": "audit",
        "attributes": {
            "timestamp": format_iso_ms(ts_ms),
            "service": kind.service,
            "message": message,
            "tags": ["source:audit"],
            "attributes": attributes,
        },
    }


# -- the fast path: the same event, assembled as JSON text from pre-serialised pieces -------------------------
def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _text(value: str) -> str:
    """``value`` escaped for use inside a JSON string."""
    return orjson.dumps(value).decode()[1:-1]


def _fragments(stream: OrgStream) -> dict[str, Any]:
    """Per org, the JSON text of everything make_event shares between events."""
    memo = stream.memo if "people" in stream.memo else _memo(stream)
    frags = memo.get("fragments")
    if frags is None:
        frags = {
            "people": tuple((person.email, _json(usr), tuple(_json(net) for net in networks))
                            for person, usr, networks in memo["people"]),
            "org": _json(memo["org"]),
            "assets": {kind: tuple((ident, _text(name), _json(asset)) for ident, name, asset in items)
                       for kind, items in memo["assets"].items()},
        }
        stream.memo["fragments"] = frags
    return frags


_KIND_TEXT = {kind: (_text(kind.message), _json(_EVT[kind]), _text(kind.service), _text(kind.action),
                     _text(kind.method)) for kind in KINDS}
_AGENTS_TEXT = (tuple(_text(a) for a in AGENTS), tuple(_text(a) for a in API_AGENTS))


def render_event(stream: OrgStream, index: int, ts_ms: int, rng: Rng) -> bytes:
    """Exactly ``orjson.dumps(make_event(...))``, three times faster: the same draws, the same choices,
    the JSON written from pieces serialised once per org (a test holds the two equal)."""
    memo = stream.memo if "people" in stream.memo else _memo(stream)
    frags = memo.get("fragments") or _fragments(stream)
    first, second = rng.next(), rng.next()
    d = draw(first, second, memo["weights"])
    kind = d.kind
    email, usr, networks = frags["people"][d.person]
    message, evt, service, action, method = _KIND_TEXT[kind]
    asset_id, asset_name, asset = frags["assets"][kind.asset or "dashboard"][d.asset]
    path = kind.path.replace("{id}", asset_id)
    agents = _AGENTS_TEXT[1] if d.via_api else _AGENTS_TEXT[0]
    text = message.format(email=email, asset=asset_name, path=path, code=d.code, auth="SAML" if d.saml else "password")
    tail = ',"asset":' + asset + "}}}" if kind.asset is not None else "}}}"
    return "".join((
        '{"id":"', event_id(ts_ms, (first, second, rng.next())), '","type":"audit","attributes":{"timestamp":"',
        format_iso_ms(ts_ms), '","service":"', service, '","message":"', text,
        '","tags":["source:audit"],"attributes":{"evt":', evt, ',"usr":', usr, ',"org":', frags["org"],
        ',"action":"', action, '","auth_method":"', "API + App Key" if d.via_api else "SESSION",
        '","http":{"method":"', method, '","status_code":"', d.code, '","url_details":{"path":"', path,
        '"},"useragent":"', agents[d.agent % len(agents)], '"},"network":',
        networks[d.network % len(networks)], ',"status":"info"', tail,
    )).encode()
