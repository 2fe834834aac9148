"""google.protobuf's well-known types as Istio and Envoy hand them to
plugins: a Struct as protojson text, the protobuf encodings, and refusals."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abi.wire.protobuf import parse_message
from abi.wire.well_known import WellKnownError, encode_message, go_number, struct_json


@pytest.mark.parametrize(("number", "written"), [
    (5, "5"), (5.0, "5"), (-0.0, "-0"), (0.25, "0.25"), (0.1, "0.1"), (1e-6, "0.000001"),
    (1e20, "100000000000000000000"),
    (1e21, "1e+21"), (1.5e-7, "1.5e-7"), (1e-10, "1e-10"), (3.14e100, "3.14e+100"), (-2.5e-8, "-2.5e-8"),
    (2 ** 60, "1152921504606847000"), (123456789.125, "123456789.125"),
])
def test_numbers_as_protojson_writes_them(number: float, written: str) -> None:
    assert go_number(float(number)) == written


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_read_back_the_same(number: float) -> None:
    assert float(go_number(number)) == number


def test_struct_json_is_compact_with_sorted_keys() -> None:
    value = {"b": [1, 2.5, None, True, "x\n\"\u00e9"], "a": {"z": 1, "\u00e9": "\u00fc"}, "": False}
    assert struct_json(value) == '{"":false,"a":{"z":1,"\u00e9":"\u00fc"},"b":[1,2.5,null,true,"x\\n\\"\u00e9"]}'
    assert json.loads(struct_json(value)) == value


@pytest.mark.parametrize(("value", "problem"), [
    ([1], "a Struct is a mapping, not a list"),
    ({"a": math.nan}, "a: a Struct's numbers are finite (no NaN or infinity)"),
    ({"a": [{"b": 10 ** 400}]}, "a[0].b: the number is too large for a double"),
    ({1: "x"}, "keys are text, got a number 1"),
    ({"a": b"x"}, "a: binary data is not a JSON value"),
])
def test_struct_json_refusals(value: object, problem: str) -> None:
    with pytest.raises(WellKnownError) as caught:
        struct_json(value)
    assert str(caught.value) == problem


def test_struct_encoding_reads_back() -> None:
    encoded = encode_message("google.protobuf.Struct", {"n": None, "list": [1, "two"], "nested": {"ok": False}})
    entries = [parse_message(entry) for entry in parse_message(encoded)[1]]
    assert [entry[1][0] for entry in entries] == [b"list", b"n", b"nested"]      # keys in order
    list_value = parse_message(parse_message(entries[0][2][0])[6][0])
    assert [parse_message(item) for item in list_value[1]] == [
        {2: [int.from_bytes(struct.pack("<d", 1.0), "little")]}, {3: [b"two"]}]
    assert parse_message(entries[1][2][0]) == {1: [0]}                          # null_value
    assert parse_message(parse_message(parse_message(entries[2][2][0])[5][0])[1][0]) == {1: [b"ok"], 2: [b"\x20\x00"]}


@pytest.mark.parametrize(("type_name", "value", "encoded"), [
    ("google.protobuf.Int32Value", -2, "08feffffffffffffffff01"),
    ("google.protobuf.UInt64Value", "18446744073709551615", "08ffffffffffffffffff01"),
    ("google.protobuf.Int64Value", 0, ""),
    ("google.protobuf.FloatValue", 1.5, "0d0000c03f"),
    ("google.protobuf.DoubleValue", "-Infinity", "09000000000000f0ff"),
    ("google.protobuf.BoolValue", False, ""),
    ("google.protobuf.StringValue", "h\u00e9", "0a0368c3a9"),
    ("google.protobuf.BytesValue", "aGk=", "0a026869"),
    ("google.protobuf.ListValue", [], ""),
    ("google.protobuf.Value", "x", "1a0178"),
])
def test_wrapper_encodings(type_name: str, value: object, encoded: str) -> None:
    assert encode_message(type_name, value).hex() == encoded


@pytest.mark.parametrize(("type_name", "value", "problem"), [
    ("google.protobuf.Int32Value", 2 ** 31, "expected an integer from -2147483648 to 2147483647"),
    ("google.protobuf.UInt32Value", 1.5, "expected an integer from 0 to 4294967295"),
    ("google.protobuf.FloatValue", 1e39, "the number does not fit the type"),
    ("google.protobuf.BytesValue", "a!", "not valid base64"),
    ("google.protobuf.Empty", {"a": 1}, "an Empty is written {}"),
    ("my.Message", {}, "glasswasm writes only"),
])
def test_encoding_refusals(type_name: str, value: object, problem: str) -> None:
    with pytest.raises(WellKnownError, match=problem):
        encode_message(type_name, value)
