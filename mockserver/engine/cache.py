"""Byte-bounded caches: rendered events and whole answers, so hot pages cost almost nothing and memory
stays flat however long the server runs. First in, first out: cheap, and clients re-read in order."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ENTRY_OVERHEAD = 250
"""Bytes a cached entry costs beyond its value: the bytes header, the key tuple and its ints, the ordered
dict slot and link (measured: ~1.1 KiB per ~850-byte event)."""


class ByteCache(Generic[K, V]):
    """At most ``max_bytes`` of values (``size(value)`` each, plus the entry overhead)."""

    def __init__(self, max_bytes: int, size: Callable[[V], int] = len) -> None:  # type: ignore[assignment]
        self.max_bytes = max_bytes
        self.used = 0
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        size = self._size
        cost = size(value) + ENTRY_OVERHEAD
        if cost > self.max_bytes // 4:
            return  # one answer may not crowd out the rest
        data = self._data
        old = data.pop(key, None)
        if old is not None:
            self.used -= size(old) + ENTRY_OVERHEAD
        while data and self.used + cost > self.max_bytes:
            _, evicted = data.popitem(last=False)
            self.used -= size(evicted) + ENTRY_OVERHEAD
        data[key] = value
        self.used += cost

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self.used = 0
