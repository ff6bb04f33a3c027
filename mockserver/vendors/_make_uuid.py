"""Make entry uuids: 32 hex digits, a version-4 UUID without hyphens (as the official SDK's fixtures show
them), that encode the entry's index in its org's corpus.

``pg[last]`` and the detail endpoint receive a uuid and must find the entry's place without a table of
every uuid ever shown: the index is permuted (a 4-round Feistel network keyed by the org) into 64 bits,
the rest is a check that no other org's key, and no random uuid, decodes.
"""

from __future__ import annotations

from mockserver.engine.rng import mix64

_M32 = 0xFFFFFFFF
_ROUNDS = (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89)
_CHECK_SALT = 0x5555AAAA3C3C9696


def _permute(value: int, key: int) -> int:
    left, right = value >> 32, value & _M32
    for salt in _ROUNDS:
        left, right = right, left ^ (mix64(key ^ salt ^ right) & _M32)
    return (left << 32) | right


def _unpermute(value: int, key: int) -> int:
    left, right = value >> 32, value & _M32
    for salt in reversed(_ROUNDS):
        left, right = right ^ (mix64(key ^ salt ^ left) & _M32), left
    return (left << 32) | right


def encode_uuid(stream_key: int, index: int) -> str:
    """A version-4 UUID, without hyphens, from which ``decode_uuid`` recovers ``index`` (and which no other
    org's key decodes)."""
    body = f"{_permute(index, stream_key):016x}"
    check = mix64(stream_key ^ _CHECK_SALT ^ int(body, 16))
    return f"{body[:12]}4{body[12:15]}{'89ab'[check & 3]}{body[15]}{check >> 8:014x}"


def decode_uuid(stream_key: int, text: str) -> int | None:
    """The index ``text`` encodes for this org, or None; hyphens and case are ignored."""
    raw = text.replace("-", "").lower()
    if len(raw) != 32 or raw[12] != "4":
        return None
    try:
        body = int(raw[:12] + raw[13:16] + raw[17], 16)
    except ValueError:
        return None
    if encode_uuid(stream_key, index := _unpermute(body, stream_key)) != raw:
        return None
    return index

