"""Vendor modules, discovered by listing this package: a module ``<name>.py`` that defines
``VENDOR`` is a vendor. Modules whose name starts with ``_`` are helpers and are skipped."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from mockserver.engine.vendor import Vendor


@cache
def discover() -> tuple[Vendor, ...]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        vendor = getattr(module, "VENDOR", None)
        if not isinstance(vendor, Vendor):
            continue
        if vendor.name != info.name:
            raise ImportError(f"vendor module {info.name}.py declares name {vendor.name!r}: they must match")
        found.append(vendor)
    return tuple(found)


def by_name() -> dict[str, Vendor]:
    return {vendor.name: vendor for vendor in discover()}
