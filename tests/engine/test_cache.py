from __future__ import annotations

from mockserver.engine.cache import ENTRY_OVERHEAD, ByteCache


def test_stays_within_its_budget_and_evicts_the_oldest_first() -> None:
    cache: ByteCache[int, bytes] = ByteCache(max_bytes=10 * (100 + ENTRY_OVERHEAD))
    for n in range(25):
        cache.put(n, bytes(100))
    assert len(cache) == 10 and cache.used == 10 * (100 + ENTRY_OVERHEAD)
    assert cache.get(14) is None and cache.get(15) == bytes(100)


def test_replacing_a_key_does_not_count_it_twice() -> None:
    cache: ByteCache[str, bytes] = ByteCache(max_bytes=100_000)
    cache.put("a", b"x" * 10)
    cache.put("a", b"y" * 20)
    assert cache.get("a") == b"y" * 20 and cache.used == 20 + ENTRY_OVERHEAD


def test_a_value_too_big_for_a_quarter_of_the_budget_is_not_kept() -> None:
    cache: ByteCache[str, bytes] = ByteCache(max_bytes=4_000)
    cache.put("big", bytes(2_000))
    assert cache.get("big") is None and cache.used == 0


def test_values_with_their_own_size() -> None:
    cache: ByteCache[str, tuple[bytes, int]] = ByteCache(max_bytes=100_000, size=lambda v: len(v[0]))
    cache.put("k", (b"abc", 7))
    assert cache.get("k") == (b"abc", 7) and cache.used == 3 + ENTRY_OVERHEAD


def test_a_zero_budget_keeps_nothing() -> None:
    cache: ByteCache[int, bytes] = ByteCache(max_bytes=0)
    cache.put(1, b"x")
    assert len(cache) == 0
