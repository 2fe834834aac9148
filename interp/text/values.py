"""Values written the way the text format writes them: for command-line
arguments and results, traces, and the printer.  Floats print as the shortest
literal that reads back to the same bits (NaN payloads included), so whatever
glasswasm prints can be pasted back into a .wat file or a command line."""

from __future__ import annotations

from typing import Any

from interp.syntax.types import HeapKind, ValType
from interp.syntax.values import (
    f32_from_bits,
    f32_to_bits,
    f64_from_bits,
    f64_to_bits,
    signed32,
    signed64,
)
from interp.text.numbers import F32_FORMAT, F64_FORMAT, FloatFormat, NumberRangeError, parse_float, parse_int

_CANONICAL_PAYLOAD = {F32_FORMAT: 1 << 22, F64_FORMAT: 1 << 51}


def format_float_bits(bits: int, fmt: FloatFormat) -> str:
    """The shortest text-format literal for the float with these bits."""
    sign = "-" if bits & fmt.sign_bit else ""
    magnitude = bits & (fmt.sign_bit - 1)
    exponent = magnitude >> fmt.mantissa_bits
    fraction = magnitude & ((1 << fmt.mantissa_bits) - 1)
    if exponent == fmt.exponent_all_ones:
        if fraction == 0:
            return f"{sign}inf"
        if fraction == _CANONICAL_PAYLOAD[fmt]:
            return f"{sign}nan"
        return f"{sign}nan:{fraction:#x}"
    if fmt is F64_FORMAT:
        return repr(f64_from_bits(bits))
    value = f32_from_bits(bits)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        try:
            if parse_float(text, fmt) == bits:
                return text
        except NumberRangeError:  # near the largest f32, a short candidate can round past it
            continue
    return repr(value)  # not reached: 9 significant digits always round-trip an f32


def format_value(value: object, valtype: ValType, names: Any = None) -> str:
    """A value for people: integers signed, floats as literals, references by
    what they refer to (a struct or an array by its type, named by
    ``names``, a ``TypeNames`` of interp/runtime/references.py, and its
    fields or first elements)."""
    if valtype is ValType.I32:
        return str(signed32(value))  # type: ignore[arg-type]
    if valtype is ValType.I64:
        return str(signed64(value))  # type: ignore[arg-type]
    if valtype is ValType.F32:
        return format_float_bits(f32_to_bits(value), F32_FORMAT)  # type: ignore[arg-type]
    if valtype is ValType.F64:
        return format_float_bits(f64_to_bits(value), F64_FORMAT)  # type: ignore[arg-type]
    if valtype is ValType.V128:
        return f"0x{value:032x}"
    if value is None:
        return "null"
    show = getattr(value, "show", None)
    if show is not None:
        return show(names)
    describe = getattr(value, "describe", None)
    if describe is not None and getattr(valtype.heap, "top", None) is HeapKind.FUNC:  # type: ignore[attr-defined]
        return f"ref.func {describe()}"
    if valtype is ValType.EXNREF and describe is not None:
        return f"exn {describe()}"  # no literal says an exception: its tag and payload
    return f"ref.extern {value!r}"


_INTEGER_BITS = {ValType.I32: 32, ValType.I64: 64, ValType.V128: 128}


def parse_value(text: str, valtype: ValType) -> object:
    """Read a value of ``valtype`` written as in the text format
    (``-1``, ``0x10``, ``1.5``, ``0x1p-3``, ``inf``, ``nan:0x200000``, ``null``
    for references; a v128 as one 128-bit integer, lane 0 in the low bits, the
    way ``format_value`` prints it).  Raises ``ValueError`` with the reason."""
    try:
        if valtype in _INTEGER_BITS:
            number = parse_int(text, _INTEGER_BITS[valtype])
        elif valtype is ValType.F32:
            bits = parse_float(text, F32_FORMAT)
            number = None if bits is None else f32_from_bits(bits)
        elif valtype is ValType.F64:
            bits = parse_float(text, F64_FORMAT)
            number = None if bits is None else f64_from_bits(bits)
        elif valtype.is_ref and text == "null":
            return None
        else:
            raise ValueError(f"cannot pass a {valtype} from the command line")
    except NumberRangeError:
        raise ValueError(f"{text!r} is out of range for {valtype}") from None
    if number is None:
        raise ValueError(f"{text!r} is not an {valtype} literal")
    return number
