"""Opaque keyset cursors that remember the query they belong to.

A cursor carries the sort key of the last event shown, the resolved window of the first request and
a checksum of the query, sealed with a MAC derived from the seed. Replayed with another query it is
refused (the vendor's 400); tampered with, it is refused; events arriving while a client pages
cannot shift it, because it points at a key, not at an offset.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from mockserver.engine.events import Key
from mockserver.engine.rng import stable_key
from mockserver.engine.windows import Window
from mockserver.errors import CursorQueryMismatch, InvalidCursor

_VERSION = 1
_LAYOUT = struct.Struct(">BqBqqq?Q")  # version, ts, source, seq, window start, window end, descending, checksum
_MAC_BYTES = 8


@dataclass(frozen=True, slots=True)
class CursorState:
    key: Key
    window: Window
    descending: bool
    checksum: int


def query_checksum(*parts: object) -> int:
    """A 64-bit fingerprint of the parameters that define a query (not the page size, not the cursor)."""
    return stable_key("query", *parts)


class CursorCodec:
    def __init__(self, seed: int, purpose: str) -> None:
        self._secret = stable_key("cursor-secret", seed, purpose).to_bytes(8, "big")

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.blake2b).digest()[:_MAC_BYTES]

    def encode(self, state: CursorState) -> str:
        ts, source, seq = state.key
        payload = _LAYOUT.pack(_VERSION, ts, source, seq, state.window.start_ms, state.window.end_ms,
                               state.descending, state.checksum)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode()

    def decode(self, token: str, checksum: int) -> CursorState:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor() from exc
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            raise InvalidCursor()
        payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor()
        version, ts, source, seq, start, end, descending, stored = _LAYOUT.unpack(payload)
        if version != _VERSION:
            raise InvalidCursor()
        if stored != checksum:
            raise CursorQueryMismatch()
        return CursorState(key=(ts, source, seq), window=Window(start, end), descending=descending,
                           checksum=stored)
