"""YAML parsing for specs, world files and fault plans: libyaml's safe loader where PyYAML was built with
it (about ten times faster than the pure-Python one; the specs are most of start-up), else PyYAML's own."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """``yaml.safe_load`` with the fastest safe loader available."""
    return yaml.load(text, Loader=SAFE_LOADER)
