"""google.protobuf's well-known types, the way Istio and Envoy hand them to
plugins.

* istiod writes a WasmPlugin's ``pluginConfig`` (a ``google.protobuf.Struct``)
  as JSON text in a ``StringValue``, with Go's ``protojson``: compact, object
  keys sorted, every number a double written the way JavaScript writes it
  (``5``, ``0.25``, ``1e+21``, ``1e-7``).  ``struct_json`` writes the same.
* Envoy passes a plugin its ``configuration`` (an ``Any``) through
  ``MessageUtil::anyToBytes``: the text of a ``StringValue``, the bytes of a
  ``BytesValue``, and for any other type the ``Any``'s own bytes, the
  protobuf encoding of the message (a ``Struct`` is *not* turned into JSON,
  whatever the API's comment says).  ``encode_message`` writes that encoding
  for the well-known types, given their JSON form as it appears in a YAML or
  JSON configuration; map entries are written in key order (protobuf leaves
  their order open, so Envoy's bytes may order them otherwise).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import struct
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from abi.wire.key_paths import join_key, value_kind
from abi.wire.protobuf import encode_fixed_field, encode_string_field, encode_varint_field


class WellKnownError(ValueError):
    """A value does not fit its type; ``key_path`` says where in it."""

    def __init__(self, problem: str, key_path: str = "") -> None:
        self.problem = problem
        self.key_path = key_path
        super().__init__(f"{key_path}: {problem}" if key_path else problem)


STRING_VALUE = "google.protobuf.StringValue"
BYTES_VALUE = "google.protobuf.BytesValue"
TYPED_STRUCTS = ("xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct")
"""Messages whose JSON form is their fields (``type_url``, ``value``), not a
``value`` key as for the well-known types."""

_INTEGER_RANGES = {
    "google.protobuf.Int32Value": (-(1 << 31), (1 << 31) - 1),
    "google.protobuf.UInt32Value": (0, (1 << 32) - 1),
    "google.protobuf.Int64Value": (-(1 << 63), (1 << 63) - 1),
    "google.protobuf.UInt64Value": (0, (1 << 64) - 1),
}
_FLOATS = {"google.protobuf.DoubleValue": "<d", "google.protobuf.FloatValue": "<f"}
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
ENCODED_TYPES = tuple(sorted({
    "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Empty",
    "google.protobuf.BoolValue", STRING_VALUE, BYTES_VALUE, *_INTEGER_RANGES, *_FLOATS, *TYPED_STRUCTS}))
"""The message types ``encode_message`` writes."""


# --- JSON, as protojson writes it -----------------------------------------------------------------


def struct_json(value: Any) -> str:
    """A ``Struct`` (a mapping) as Go's ``protojson`` writes it."""
    if not isinstance(value, Mapping):
        raise WellKnownError(f"a Struct is a mapping, not {value_kind(value)}")
    return _json(value, "")


def _json(value: Any, key_path: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_number(_double(value, key_path))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        keys = _keys(value, key_path)
        return "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{_json(value[key], join_key(key_path, key))}"
                              for key in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(item, f"{key_path}[{index}]") for index, item in enumerate(value)) + "]"
    raise WellKnownError(_unsupported(value), key_path)


def go_number(number: float) -> str:
    """A double as ``protojson`` (and JavaScript) writes it: the shortest
    digits that read back the same, in plain notation from 1e-6 up to 1e21,
    in exponent notation (``1e+21``, ``1.5e-7``) outside."""
    decimal = Decimal(repr(number)).normalize()
    magnitude = abs(number)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        return format(decimal, "f")
    sign, digits, exponent = decimal.as_tuple()
    scientific = int(exponent) + len(digits) - 1
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    # Go writes at least two exponent digits, then protojson drops the zero of "e-0N".
    written = f"{scientific:+03d}" if scientific >= 0 else f"-{-scientific}"
    return ("-" if sign else "") + mantissa + "e" + written


# --- protobuf encodings ----------------------------------------------------------------------------


def encode_message(type_name: str, value: Any, key_path: str = "") -> bytes:
    """The protobuf encoding of a message of ``type_name`` (one of
    ``ENCODED_TYPES``) given its JSON form: for the well-known types the
    ``value`` of their ``Any``, for a TypedStruct the mapping of its
    fields."""
    if type_name == "google.protobuf.Struct":
        return _struct(value, key_path)
    if type_name == "google.protobuf.Value":
        return _value(value, key_path)
    if type_name == "google.protobuf.ListValue":
        return _list(value, key_path)
    if type_name == "google.protobuf.Empty":
        if value != {}:
            raise WellKnownError("an Empty is written {}", key_path)
        return b""
    if type_name == "google.protobuf.BoolValue":
        if not isinstance(value, bool):
            raise WellKnownError(f"expected true or false, got {value_kind(value)}", key_path)
        return encode_varint_field(1, 1) if value else b""
    if type_name == STRING_VALUE:
        if not isinstance(value, str):
            raise WellKnownError(f"expected text, got {value_kind(value)}", key_path)
        return encode_string_field(1, value.encode("utf-8")) if value else b""
    if type_name == BYTES_VALUE:
        data = base64_bytes(value, key_path)
        return encode_string_field(1, data) if data else b""
    if type_name in _INTEGER_RANGES:
        number = _integer(value, *_INTEGER_RANGES[type_name], key_path)
        return encode_varint_field(1, number) if number else b""
    if type_name in _FLOATS:
        packed = _float(value, _FLOATS[type_name], key_path)
        return encode_fixed_field(1, packed) if any(packed) else b""
    if type_name in TYPED_STRUCTS:
        return _typed_struct(value, key_path)
    raise WellKnownError(f"glasswasm writes only {', '.join(ENCODED_TYPES)}, not {type_name}", key_path)


def base64_bytes(value: Any, key_path: str = "") -> bytes:
    """Protobuf JSON's ``bytes``: base64, standard or URL-safe, padding
    optional."""
    if not isinstance(value, str):
        raise WellKnownError(f"expected base64 text, got {value_kind(value)}", key_path)
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise WellKnownError("not valid base64", key_path) from None


def _value(value: Any, key_path: str) -> bytes:
    if value is None:
        return encode_varint_field(1, 0)
    if isinstance(value, bool):
        return encode_varint_field(4, int(value))
    if isinstance(value, (int, float)):
        return encode_fixed_field(2, struct.pack("<d", _double(value, key_path)))
    if isinstance(value, str):
        return encode_string_field(3, value.encode("utf-8"))
    if isinstance(value, Mapping):
        return encode_string_field(5, _struct(value, key_path))
    if isinstance(value, list):
        return encode_string_field(6, _list(value, key_path))
    raise WellKnownError(_unsupported(value), key_path)


def _struct(value: Any, key_path: str) -> bytes:
    if not isinstance(value, Mapping):
        raise WellKnownError(f"a Struct is a mapping, not {value_kind(value)}", key_path)
    return b"".join(encode_string_field(1, encode_string_field(1, key.encode("utf-8")) +
                                        encode_string_field(2, _value(value[key], join_key(key_path, key))))
                    for key in _keys(value, key_path))


def _list(value: Any, key_path: str) -> bytes:
    if not isinstance(value, list):
        raise WellKnownError(f"a ListValue is a list, not {value_kind(value)}", key_path)
    return b"".join(encode_string_field(1, _value(item, f"{key_path}[{index}]")) for index, item in enumerate(value))


def _typed_struct(value: Any, key_path: str) -> bytes:
    if not isinstance(value, Mapping) or not set(value) <= {"type_url", "typeUrl", "value"}:
        raise WellKnownError("a TypedStruct has the fields type_url and value", key_path)
    type_url = value.get("type_url", value.get("typeUrl", ""))
    if not isinstance(type_url, str):
        raise WellKnownError(f"expected text, got {value_kind(type_url)}", join_key(key_path, "type_url"))
    fields = encode_string_field(1, type_url.encode("utf-8")) if type_url else b""
    if "value" in value:
        fields += encode_string_field(2, _struct(value["value"], join_key(key_path, "value")))
    return fields


def _integer(value: Any, minimum: int, maximum: int, key_path: str) -> int:
    number: Any = value
    if isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            raise WellKnownError(f"expected an integer, got {value!r}", key_path) from None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not minimum <= number <= maximum:
        raise WellKnownError(f"expected an integer from {minimum} to {maximum}", key_path)
    return number


def _float(value: Any, layout: str, key_path: str) -> bytes:
    number = value
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            number = _SPECIAL_FLOATS[value]
        else:
            try:
                number = float(value)
            except ValueError:
                raise WellKnownError(f"expected a number, got {value!r}", key_path) from None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise WellKnownError(f"expected a number, got {value_kind(value)}", key_path)
    try:
        return struct.pack(layout, float(number))
    except (OverflowError, struct.error):
        raise WellKnownError("the number does not fit the type", key_path) from None


def _double(value: int | float, key_path: str) -> float:
    try:
        number = float(value)
    except OverflowError:
        raise WellKnownError("the number is too large for a double", key_path) from None
    if not math.isfinite(number):
        raise WellKnownError("a Struct's numbers are finite (no NaN or infinity)", key_path)
    return number


def _keys(value: Mapping[Any, Any], key_path: str) -> list[str]:
    for key in value:
        if not isinstance(key, str):
            raise WellKnownError(f"keys are text, got {value_kind(key)} {key!r}", key_path)
    return sorted(value)


def _unsupported(value: Any) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "an unquoted date or time: quote it (Kubernetes and Envoy read it as text)"
    return f"{value_kind(value)} is not a JSON value"


