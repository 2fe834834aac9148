"""Property paths, Envoy's value encodings and where values come from."""

from __future__ import annotations

import struct

import pytest

from abi.proxy.headers import HeaderMap
from abi.wire.pairs import decode_pairs
from abi.proxy.properties import UnencodableValue, dotted_path, encode_value, lookup_in, parse_path


@pytest.mark.parametrize("raw", [b"request\0path", b"request\0path\0"])
def test_paths_are_accepted_with_and_without_a_trailing_nul(raw: bytes) -> None:
    assert parse_path(raw) == ("request", "path")


def test_a_single_segment_and_an_empty_path() -> None:
    assert parse_path(b"plugin_name") == ("plugin_name",)
    assert parse_path(b"") == ()
    assert dotted_path("source.address") == ("source", "address")


@pytest.mark.parametrize(("value", "encoded"), [
    ("text", b"text"),
    (b"\x00\xff", b"\x00\xff"),
    (200, struct.pack("<q", 200)),
    (-1, struct.pack("<q", -1)),
    (1 << 63, struct.pack("<Q", 1 << 63)),
    (True, b"\x01"),
    (False, b"\x00"),
    (1.5, struct.pack("<d", 1.5)),
])
def test_scalars_are_encoded_as_envoy_does(value: object, encoded: bytes) -> None:
    assert encode_value(value) == encoded


def test_maps_and_lists_are_pairs() -> None:
    assert decode_pairs(encode_value({"a": "1", "n": 2})) == [(b"a", b"1"), (b"n", struct.pack("<q", 2))]
    assert decode_pairs(encode_value(["x", "y"])) == [(b"x", b""), (b"y", b"")]
    assert decode_pairs(encode_value(HeaderMap({"K": "v"}))) == [(b"k", b"v")]


def test_values_envoy_cannot_serialize_are_refused() -> None:
    with pytest.raises(UnencodableValue):
        encode_value(object())
    with pytest.raises(UnencodableValue):
        encode_value(1 << 64)


def test_lookups_continue_inside_mapping_and_list_values() -> None:
    layer = {("node", "metadata"): {"team": "a", "tags": ["x", "y"]}, ("flat",): "v"}
    assert lookup_in(layer, ("node", "metadata")) == (True, {"team": "a", "tags": ["x", "y"]})
    assert lookup_in(layer, ("node", "metadata", "team")) == (True, "a")
    assert lookup_in(layer, ("node", "metadata", "tags", "1")) == (True, "y")
    assert lookup_in(layer, ("node", "metadata", "tags", "2")) == (False, None)
    assert lookup_in(layer, ("node", "other")) == (False, None)
    assert lookup_in(layer, ("flat", "deeper")) == (False, None)
