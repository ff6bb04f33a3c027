"""The one clock. Every time read in the server goes through a Clock, so tests and users can freeze,
offset or speed it up. Times are integers of epoch milliseconds (UTC)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClockState:
    """What the clock shows: ``anchor_ms`` at real time ``real_anchor_ms``, moving at ``rate`` (0 = frozen)."""

    anchor_ms: int
    real_anchor_ms: int
    rate: float

    @property
    def frozen(self) -> bool:
        return self.rate == 0.0


def _real_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """Real, frozen, offset or scaled time, switchable at runtime and thread-safe."""

    def __init__(self, frozen_at_ms: int | None = None, real: Callable[[], int] = _real_ms) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._initial_frozen_at = frozen_at_ms
        self._state = self._start_state()

    def _start_state(self) -> ClockState:
        real_now = self._real()
        if self._initial_frozen_at is None:
            return ClockState(anchor_ms=real_now, real_anchor_ms=real_now, rate=1.0)
        return ClockState(anchor_ms=self._initial_frozen_at, real_anchor_ms=real_now, rate=0.0)

    @property
    def state(self) -> ClockState:
        return self._state

    def real_ms(self) -> int:
        """Real time, as this clock reads it (for offsets: mock time minus real time)."""
        return self._real()

    def now_ms(self) -> int:
        state = self._state
        if state.rate == 0.0:
            return state.anchor_ms
        return state.anchor_ms + int((self._real() - state.real_anchor_ms) * state.rate)

    def freeze(self, at_ms: int | None = None) -> None:
        with self._lock:
            at = self.now_ms() if at_ms is None else at_ms
            self._state = ClockState(anchor_ms=at, real_anchor_ms=self._real(), rate=0.0)

    def run(self, at_ms: int | None = None, rate: float = 1.0) -> None:
        """Let time flow from ``at_ms`` (default: the current mock time) at ``rate`` times real speed."""
        if rate <= 0:
            raise ValueError("rate must be positive; use freeze() to stop the clock")
        with self._lock:
            at = self.now_ms() if at_ms is None else at_ms
            self._state = ClockState(anchor_ms=at, real_anchor_ms=self._real(), rate=rate)

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            state = self._state
            self._state = ClockState(state.anchor_ms + ms, state.real_anchor_ms, state.rate)

    def reset(self) -> None:
        with self._lock:
            self._state = self._start_state()
