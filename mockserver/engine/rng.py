"""Deterministic randomness without global state: stable hashes and a splitmix64 generator.

Python's ``hash()`` is salted per process, and ``random.Random`` is slow to seed per event, so the
engine derives every random choice from ``stable_key`` (blake2b) and ``Rng`` (splitmix64, a handful of
integer operations per draw).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def stable_key(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts`` (their ``str``), the same in every process."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def mix64(value: int) -> int:
    z = (value + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class Rng:
    """splitmix64: fast, seedable, good enough for fake data (not for secrets)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & MASK64

    def next(self) -> int:
        self._state = z = (self._state + _GOLDEN) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def unit(self) -> float:
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def chance(self, probability: float) -> bool:
        return self.unit() < probability

    def choice(self, items: Sequence[T]) -> T:
        return items[self.next() % len(items)]

    def skewed(self, items: Sequence[T], power: float = 2.0) -> T:
        """A choice biased to the front of ``items`` (a few busy users, many quiet ones)."""
        return items[int(len(items) * self.unit() ** power)]

    def hex(self, length: int) -> str:
        digits = ""
        while len(digits) < length:
            digits += f"{self.next():016x}"
        return digits[:length]

    def uuid4(self) -> str:
        raw = self.hex(32)
        return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-{'89ab'[self.next() % 4]}{raw[17:20]}-{raw[20:32]}"
