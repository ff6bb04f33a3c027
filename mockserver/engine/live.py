"""Live arrival: when a generated event becomes visible to clients.

Audit logging is asynchronous: an event that happened at ``ts`` shows up in the API a little later.
Each org's ``Live`` settings say how much later: every event waits ``lag`` plus a uniform ``jitter``;
a fraction ``out_of_order`` waits up to ``out_of_order_delay`` more, so it becomes visible after
events that happened later. The delay of event ``i`` is a pure function of (stream key, i): the same
seed and clock show the same events, in any request order.

With every setting at 0 (the default) an event is visible as soon as the clock reaches its time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockserver.engine.rng import mix64

_OOO_SALT = 0x6F6F6F5F6C617465  # "ooo_late"
_JITTER_SALT = 0x6A69747465725F5F


class LiveError(ValueError):
    """Live-arrival settings the server cannot use; ``str()`` is one line naming the key."""


@dataclass(frozen=True, slots=True)
class Live:
    lag_ms: int = 0
    jitter_ms: int = 0
    out_of_order: float = 0.0
    out_of_order_delay_ms: int = 300_000

    @property
    def spread_ms(self) -> int:
        """How much more than ``lag`` an event may wait: beyond it, visibility is decided per event."""
        return self.jitter_ms + (self.out_of_order_delay_ms if self.out_of_order > 0 else 0)

    @property
    def max_delay_ms(self) -> int:
        return self.lag_ms + self.spread_ms

    def delay_ms(self, stream_key: int, index: int) -> int:
        """How long after its time generated event ``index`` becomes visible."""
        delay = self.lag_ms
        if self.jitter_ms:
            delay += mix64(stream_key ^ _JITTER_SALT ^ index) % (self.jitter_ms + 1)
        if self.out_of_order > 0:
            draw = mix64(stream_key ^ _OOO_SALT ^ (index * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))
            if (draw >> 11) / float(1 << 53) < self.out_of_order:
                delay += 1 + (draw & 0x7FF_FFFF) % max(1, self.out_of_order_delay_ms)
        return delay

    def as_dict(self) -> dict[str, float]:
        return {"lag": self.lag_ms / 1000, "jitter": self.jitter_ms / 1000, "out_of_order": self.out_of_order,
                "out_of_order_delay": self.out_of_order_delay_ms / 1000}


KEYS = {"lag": "lag_ms", "jitter": "jitter_ms", "out_of_order_delay": "out_of_order_delay_ms"}
MAX_DELAY_S = 7 * 86_400


def parse_live(data: Mapping[str, Any], base: Live, where: str) -> Live:
    """``base`` with the overrides in ``data`` (seconds for lag, jitter and out_of_order_delay; a
    fraction for out_of_order). Errors name ``where.<key>``."""
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "out_of_order":
            if not _number(value) or not 0 <= value <= 1:
                raise LiveError(f"{where}.out_of_order: must be a number between 0 and 1")
            changes["out_of_order"] = float(value)
        elif key in KEYS:
            if not _number(value) or not 0 <= value <= MAX_DELAY_S:
                raise LiveError(f"{where}.{key}: must be a number of seconds between 0 and {MAX_DELAY_S}")
            changes[KEYS[key]] = round(value * 1000)
        else:
            raise LiveError(f"{where}: unknown key {key!r} (known: lag, jitter, out_of_order, out_of_order_delay)")
    return replace(base, **changes)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value
