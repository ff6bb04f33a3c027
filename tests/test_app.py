from __future__ import annotations

from starlette.testclient import TestClient

from mockserver import Settings, create_app
from mockserver.vendors import by_name, discover


def test_vendors_are_discovered_from_the_package() -> None:
    names = [vendor.name for vendor in discover()]
    assert "datadog" in names
    assert all(not name.startswith("_") for name in names)
    assert by_name()["datadog"].spec_file == "datadog.yaml"


def test_health_lists_vendors_and_the_clock() -> None:
    with TestClient(create_app(Settings(now="2024-05-01T12:00:00Z"))) as client:
        body = client.get("/_mock/health").json()
    assert body["status"] == "ok"
    assert body["vendors"] == sorted(vendor.name for vendor in discover())
    assert body["now"] == "2024-05-01T12:00:00.000Z"


def test_unknown_paths_get_a_json_404_that_helps() -> None:
    with TestClient(create_app()) as client:
        answer = client.get("/api/v9/nothing")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert "GET /api/v9/nothing" in answer.json()["message"]


def test_every_request_is_journalled_without_secrets() -> None:
    app = create_app(Settings(now="2024-05-01T12:00:00Z"))
    key = "9b2121d11ed6621675e9e2b97e2b0fd1"
    with TestClient(app) as client:
        client.get("/api/v2/audit/events", headers={"DD-API-KEY": key,
                                                    "DD-APPLICATION-KEY": "cb7e9a2163b6a38080d4545976fbc09e24330768"})
        client.get("/api/v9/nothing")
        client.get("/_mock/health")  # control calls are not journalled
    entries = list(app.state.mock.journal)
    assert [(e.method, e.path, e.status) for e in entries] == [
        ("GET", "/api/v2/audit/events", 200), ("GET", "/api/v9/nothing", 404)]
    assert entries[0].vendor == "datadog" and entries[0].operation == "ListAuditLogs"
    assert entries[0].credential == "acme-admin" and entries[0].org == "acme"
    assert key not in repr(entries)


def test_the_journal_is_bounded() -> None:
    app = create_app(Settings(journal_size=5))
    with TestClient(app) as client:
        for n in range(12):
            client.get(f"/api/v9/nothing/{n}")
    assert len(app.state.mock.journal) == 5
    assert [e.seq for e in app.state.mock.journal] == [8, 9, 10, 11, 12]


def test_events_per_day_comes_from_the_org_else_the_flag_else_the_vendor() -> None:
    import yaml

    from mockserver.app import secret_fields
    from mockserver.data import default_world
    from mockserver.engine.world import parse_world

    data = yaml.safe_load(default_world().read_text(encoding="utf-8"))
    for vendor in data.values():
        for org in vendor["orgs"]:
            org.pop("events_per_day", None)
    data["datadog"]["orgs"][0]["events_per_day"] = 77
    world = parse_world(data, secret_fields(discover()))

    def per_day(settings: Settings) -> dict[str, int]:
        runtimes = create_app(settings, world=world).state.mock.runtimes
        return {name: runtime.streams[next(iter(runtime.streams))].events_per_day
                for name, runtime in runtimes.items()}

    vendor_default = {name: vendor.default_events_per_day for name, vendor in by_name().items()}
    assert per_day(Settings()) == vendor_default | {"datadog": 77}
    assert per_day(Settings(events_per_day=5)) == dict.fromkeys(vendor_default, 5) | {"datadog": 77}
    assert len(set(vendor_default.values())) > 1, "vendors differ, so the default is really per vendor"
