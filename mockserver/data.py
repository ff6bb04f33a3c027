"""Where the shipped specs and fixtures are: inside the wheel (``mockserver/_data``) when installed,
at the repository root when running from a checkout or an editable install."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped {name}/ folder is missing from this installation")


def spec_path(file_name: str) -> Path:
    return data_dir("specs") / file_name


def default_world() -> Path:
    return data_dir("fixtures") / "world.yaml"
