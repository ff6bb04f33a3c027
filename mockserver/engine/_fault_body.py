"""What the body-level faults do to an answer's bytes, vendor-neutral: pure functions of the body.

``empty_page`` and ``drift`` look for the page's entries generically: the first non-empty list of
objects met breadth-first in the JSON body (Datadog's ``data``, a ``logs`` or ``auditLogs`` array, or
a top-level array). Drift changes the first entry only.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson

UNKNOWN_ENUM = "x-mock-unknown-value"
DRIFT_FIELD = "x_mock_drift"
ENUM_NAMES = frozenset({"type", "status", "eventname", "event_name", "eventtype", "event_type", "action",
                        "domain", "category", "kind", "level", "severity", "outcome", "result", "event"})
"""Field names that usually hold an enumeration (compared lower-cased), besides ``ENUM_SUFFIXES``."""
ENUM_SUFFIXES = ("_type", "type", "_status", "_kind", "_action", "_category", "_level")
"""``request_type``, ``objectType``, ``auth_status``, ...: enumerations too (compared lower-cased)."""
_KEY_NAMES = frozenset({"id", "uuid", "type", "timestamp", "time", "date"})
_KEY_SUFFIXES = ("_id", "uuid", "_at", "time", "date")
_CAMEL_KEY_SUFFIXES = ("Id", "ID", "At")


def malformed(body: bytes) -> bytes:
    """A strict prefix of ``body`` that is not JSON (half of it); never empty."""
    cut = body[: len(body) // 2] or b"{"
    try:
        orjson.loads(cut)
    except orjson.JSONDecodeError:
        return cut
    return cut + b"{"  # a prefix that still parses (a bare number): make sure it does not


def truncated_length(size: int, fraction: float) -> int:
    """How many of ``size`` bytes a truncated answer sends: ``fraction`` of them, always fewer than all."""
    return min(int(size * fraction), max(size - 1, 0))


def find_entries(document: Any) -> list[Any] | None:
    """The first non-empty list of objects in ``document``, breadth-first; None if there is none."""
    queue: deque[Any] = deque([document])
    for _ in range(10_000):  # bounded: a page is far smaller
        if not queue:
            return None
        node = queue.popleft()
        if isinstance(node, list):
            if node and all(isinstance(item, dict) for item in node):
                return node
            queue.extend(item for item in node if isinstance(item, dict | list))
        elif isinstance(node, dict):
            queue.extend(value for value in node.values() if isinstance(value, dict | list))
    return None


def empty_page(document: Any) -> bool:
    """Empty the entries of ``document`` in place, keeping the rest (cursor, links, meta). False if none."""
    entries = find_entries(document)
    if entries is None:
        return False
    entries.clear()
    return True


def drift(document: Any, kind: str) -> bool:
    """Apply schema drift ``kind`` to the first entry of ``document``, in place. False if nothing to change.

    ``extra_field``: the entry gains ``"x_mock_drift": true``; ``null``: its first string, number or boolean
    field that is not a key or a time (id, type, uuid, timestamp, ..._at, ...), searched depth-first, becomes
    null; ``unknown_enum``: its first short string in a field named like an enumeration (type, status,
    eventName, action, ..._type, ...), searched breadth-first, else its first string field that is not a key or a time,
    becomes ``"x-mock-unknown-value"``."""
    entries = find_entries(document)
    if entries is None:
        return False
    entry: dict[str, Any] = entries[0]
    if kind == "extra_field":
        entry[DRIFT_FIELD] = True
        return True
    if kind == "null":
        found = _first_leaf(entry, (str, int, float, bool))
        if found is None:
            return False
        found[0][found[1]] = None
        return True
    place = _first_enum(entry) or _first_leaf(entry, (str,))
    if place is None:
        return False
    place[0][place[1]] = UNKNOWN_ENUM
    return True


def _is_key_or_time(name: str) -> bool:
    lowered = name.lower()
    return lowered in _KEY_NAMES or lowered.endswith(_KEY_SUFFIXES) or name.endswith(_CAMEL_KEY_SUFFIXES)


def _first_leaf(node: dict[str, Any], kinds: tuple[type, ...], depth: int = 0) -> tuple[dict[str, Any], str] | None:
    if depth > 32:
        return None
    for name, value in node.items():
        if isinstance(value, dict):
            found = _first_leaf(value, kinds, depth + 1)
            if found is not None:
                return found
        elif isinstance(value, kinds) and not _is_key_or_time(name):
            return node, name
    return None


def _first_enum(entry: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    queue: deque[dict[str, Any]] = deque([entry])
    for _ in range(1_000):
        if not queue:
            return None
        node = queue.popleft()
        for name, value in node.items():
            lowered = name.lower()
            if isinstance(value, str) and 0 < len(value) <= 64 and (lowered in ENUM_NAMES
                                                                     or lowered.endswith(ENUM_SUFFIXES)):
                return node, name
            if isinstance(value, dict):
                queue.append(value)
    return None
