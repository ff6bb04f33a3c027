from __future__ import annotations

import re
import subprocess
import sys

from mockserver.engine.rng import Rng, stable_key


def test_same_seed_same_draws() -> None:
    assert [Rng(5).next() for _ in range(3)] == [Rng(5).next() for _ in range(3)]
    a, b = Rng(5), Rng(6)
    assert [a.next() for _ in range(3)] != [b.next() for _ in range(3)]


def test_stable_key_is_the_same_in_another_process() -> None:
    code = "from mockserver.engine.rng import stable_key; print(stable_key('seed', 1, 'acme'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == stable_key("seed", 1, "acme")


def test_uuid4_shape() -> None:
    rng = Rng(1)
    for _ in range(100):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rng.uuid4())


def test_draws_are_spread() -> None:
    rng = Rng(3)
    counts = [0] * 10
    for _ in range(10_000):
        counts[rng.below(10)] += 1
    assert min(counts) > 800 and max(counts) < 1200
    units = [rng.unit() for _ in range(1000)]
    assert all(0.0 <= u < 1.0 for u in units)


def test_skewed_prefers_the_front() -> None:
    rng = Rng(9)
    picks = [rng.skewed(range(10), 2.5) for _ in range(5_000)]
    assert picks.count(0) > picks.count(9) * 3
