from __future__ import annotations

import pytest

from mockserver.engine.clock import Clock


class FakeReal:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def test_frozen_clock_does_not_move() -> None:
    real = FakeReal()
    clock = Clock(frozen_at_ms=42, real=real)
    real.ms += 10_000
    assert clock.now_ms() == 42


def test_real_clock_follows_real_time() -> None:
    real = FakeReal()
    clock = Clock(real=real)
    real.ms += 1_500
    assert clock.now_ms() == 1_001_500


def test_advance_and_rate() -> None:
    real = FakeReal()
    clock = Clock(frozen_at_ms=0, real=real)
    clock.advance(60_000)
    assert clock.now_ms() == 60_000
    clock.run(rate=10.0)
    real.ms += 1_000
    assert clock.now_ms() == 70_000
    clock.freeze()
    real.ms += 1_000
    assert clock.now_ms() == 70_000


def test_reset_returns_to_the_start() -> None:
    real = FakeReal()
    clock = Clock(frozen_at_ms=5, real=real)
    clock.advance(100)
    clock.reset()
    assert clock.now_ms() == 5


def test_time_only_moves_forward() -> None:
    with pytest.raises(ValueError):
        Clock(frozen_at_ms=0).advance(-1)
    with pytest.raises(ValueError):
        Clock(frozen_at_ms=0).run(rate=0)
