from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockserver.engine.world import WorldError, load_world, parse_world

FIELDS = {"dd": ("api_key", "app_key")}


def world(**org: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "acme", "name": "Acme"}
    base.update(org)
    return {"dd": {"orgs": [base]}}


def test_a_complete_org() -> None:
    parsed = parse_world(world(users=[{"id": "u1", "email": "a@acme.example", "name": "A", "role": "admin"}],
                               teams=[{"id": 1, "name": "Ops"}],
                               credentials=[{"id": "c", "role": "admin", "permissions": ["p"],
                                             "secrets": {"api_key": "a", "app_key": "b"}}]), FIELDS)
    org = parsed.orgs["dd"][0]
    assert org.domain == "acme.example" and org.staff == 20 and org.teams[0].id == "1"
    assert org.credentials[0].permissions == frozenset({"p"})
    assert parsed.org("dd", "acme") is org and parsed.org("dd", "nope") is None


@pytest.mark.parametrize(("data", "message"), [
    ({"nope": {}}, "nope: unknown vendor (known: dd)"),
    ({"dd": {"orgs": "x"}}, "dd.orgs: expected a list"),
    (world(name=None), "dd.orgs[0]: missing 'name'"),
    (world(colour="red"), "dd.orgs[0]: unknown key(s) colour"),
    (world(events_per_day=-1), "'events_per_day' must be a non-negative integer"),
    (world(credentials=[{"id": "c", "role": "r", "secrets": {"api_key": "a"}}]),
     "dd.orgs[0].credentials[0]: missing 'secrets.app_key'"),
    (world(credentials=[{"id": "c", "role": "r", "secrets": {"api_key": "a", "app_key": "b"}},
                        {"id": "d", "role": "r", "secrets": {"api_key": "a", "app_key": "b"}}]),
     "credential 'd' reuses the secrets of 'c'"),
    ([1, 2], "top level: expected a mapping"),
])
def test_problems_are_one_line_naming_the_place(data: Any, message: str) -> None:
    with pytest.raises(WorldError) as info:
        parse_world(data, FIELDS, source="w.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("w.yaml: ")
    assert "\n" not in str(info.value)


def test_duplicate_org_ids() -> None:
    with pytest.raises(WorldError, match="duplicate org id 'a'"):
        parse_world({"dd": {"orgs": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}}, FIELDS)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("dd:\n  orgs: [\n")
    with pytest.raises(WorldError, match=r"w.yaml: line \d+: not valid YAML"):
        load_world(path, FIELDS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="cannot read"):
        load_world(tmp_path / "absent.yaml", FIELDS)
