"""The header-map pairs encoding (spec v0.2.1, Serialization)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abi.wire.pairs import PairsFormatError, decode_pairs, encode_pairs, encoded_size

byte_strings = st.binary(max_size=40)
pair_lists = st.lists(st.tuples(byte_strings, byte_strings), max_size=12)


def test_encoding_matches_the_layout_the_sdks_use() -> None:
    encoded = encode_pairs([(b"a", b"1"), (b"b", b"22")])
    assert encoded == (struct.pack("<5I", 2, 1, 1, 1, 2) + b"a\x001\x00b\x0022\x00")


def test_no_pairs_encode_to_nothing() -> None:
    assert encode_pairs([]) == b""
    assert encoded_size([]) == 0


@pytest.mark.parametrize("empty", [b"", b"\x00", struct.pack("<I", 0)])
def test_every_empty_form_decodes_to_no_pairs(empty: bytes) -> None:
    assert decode_pairs(empty) == []


@given(pair_lists)
def test_round_trip(pairs: list[tuple[bytes, bytes]]) -> None:
    encoded = encode_pairs(pairs)
    assert decode_pairs(encoded) == pairs
    assert encoded_size(pairs) == len(encoded)


@given(pair_lists, st.binary(max_size=8))
def test_bytes_after_the_last_pair_are_ignored(pairs: list[tuple[bytes, bytes]], tail: bytes) -> None:
    if pairs:
        assert decode_pairs(encode_pairs(pairs) + tail) == pairs


@given(pair_lists.filter(bool), st.data())
def test_every_truncation_is_rejected(pairs: list[tuple[bytes, bytes]], data: st.DataObject) -> None:
    encoded = encode_pairs(pairs)
    cut = data.draw(st.integers(min_value=2, max_value=len(encoded) - 1))
    with pytest.raises(PairsFormatError):
        decode_pairs(encoded[:cut])


@pytest.mark.parametrize(("data", "message"), [
    (b"\x01\x00", "2 bytes are too short for the pair count"),
    (struct.pack("<I", 3), "3 pairs need 28 bytes of lengths, only 4 given"),
    (struct.pack("<3I", 1, 1, 1) + b"aX1\x00", "the key of pair 0 is not followed by a NUL byte"),
    (struct.pack("<3I", 1, 1, 5) + b"a\x001\x00", "the value of pair 0 (5 bytes and its NUL) runs past the end (16 bytes)"),
    (struct.pack("<I", 0xFFFF_FFFF), "4294967295 pairs are more than the 1024 a pairs map may have"),
])
def test_malformed_encodings_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(PairsFormatError) as raised:
        decode_pairs(data)
    assert str(raised.value) == message
