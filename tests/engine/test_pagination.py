from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.engine.pagination import CursorCodec, CursorState, query_checksum
from mockserver.engine.windows import Window
from mockserver.errors import CursorQueryMismatch, InvalidCursor

STATE = CursorState(key=(1_714_564_800_123, 0, 42), window=Window(1, 2), descending=True,
                    checksum=query_checksum("q", "now-15m", "now"))


def test_round_trip() -> None:
    codec = CursorCodec(seed=1, purpose="test")
    assert codec.decode(codec.encode(STATE), STATE.checksum) == STATE


def test_cursor_is_opaque_url_safe_text() -> None:
    token = CursorCodec(seed=1, purpose="test").encode(STATE)
    assert token.replace("-", "").replace("_", "").isalnum()
    assert "42" not in token and "now" not in token


def test_another_query_is_refused() -> None:
    codec = CursorCodec(seed=1, purpose="test")
    with pytest.raises(CursorQueryMismatch):
        codec.decode(codec.encode(STATE), query_checksum("other", "now-15m", "now"))


def test_cursor_of_another_seed_is_refused() -> None:
    token = CursorCodec(seed=1, purpose="test").encode(STATE)
    with pytest.raises(InvalidCursor):
        CursorCodec(seed=2, purpose="test").decode(token, STATE.checksum)


def test_flipping_any_byte_is_detected() -> None:
    codec = CursorCodec(seed=1, purpose="test")
    raw = bytearray(base64.urlsafe_b64decode(codec.encode(STATE) + "=="))
    for n in range(len(raw)):
        tampered = bytearray(raw)
        tampered[n] ^= 0x01
        token = base64.urlsafe_b64encode(bytes(tampered)).rstrip(b"=").decode()
        with pytest.raises(InvalidCursor):
            codec.decode(token, STATE.checksum)


@given(st.text(max_size=200))
def test_any_text_is_either_a_cursor_or_invalid_cursor(text: str) -> None:
    codec = CursorCodec(seed=1, purpose="test")
    with pytest.raises(InvalidCursor):
        codec.decode(text, STATE.checksum)


def test_checksum_is_stable_across_processes() -> None:
    # A fixed value: Python's hash() is salted per process, ours must not be.
    assert query_checksum("a", 1) == query_checksum("a", 1) != query_checksum("a", 2)
    assert query_checksum("a", 1) == 0x88BE8450FBA40DD2
