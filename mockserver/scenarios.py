"""The shipped fault scenarios (fixtures/scenarios/*.yaml) and plan files: ``mockserver serve --scenario``.

A scenario is a fault plan (README, "Fault plans") with an optional one-line ``description``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import yaml

from mockserver.data import data_dir
from mockserver.engine.faults import FaultPlan, PlanError, parse_plan
from mockserver.engine.yamlsafe import safe_load


def scenarios_dir() -> Path:
    return data_dir("fixtures") / "scenarios"


def shipped_scenarios() -> list[str]:
    return sorted(path.stem for path in scenarios_dir().glob("*.yaml"))


def load_scenario(name_or_path: str, known: Mapping[str, Collection[str]] | None = None) -> FaultPlan:
    """A shipped scenario by name (``chaos``), or a plan file by path (anything with a ``/`` or a
    ``.yaml``/``.yml``/``.json`` suffix). Errors are one ``PlanError`` line naming the file."""
    is_path = "/" in name_or_path or name_or_path.endswith((".yaml", ".yml", ".json"))
    path = Path(name_or_path) if is_path else scenarios_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        if is_path:
            raise PlanError(f"scenario file not found: {name_or_path}")
        raise PlanError(f"unknown scenario {name_or_path!r}; shipped: {', '.join(shipped_scenarios())}")
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanError(f"{path.name}: cannot read: {str(exc).splitlines()[0]}") from None
    try:
        return parse_plan(data, known)
    except PlanError as exc:
        raise PlanError(f"{path.name}: {exc}") from None
