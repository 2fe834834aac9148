"""Numeric literals of the text format (spec 6.3.1 and 6.5.x ``iN.const``/``fN.const``).

Integers come out in canonical unsigned form and floats as raw IEEE 754 bit
patterns, which is what ``Instruction.imm`` holds for constants.  Floats are
rounded exactly once, from the exact rational value of the literal straight to
the target width (round to nearest, ties to even): going through a double first
would round twice and give wrong f32 results for literals that lie close to an
f32 halfway point.

Each parser returns ``None`` when the text is not *shaped* like a literal of
the requested kind (the caller reports that as a lexical error, "unknown
operator") and raises ``NumberRangeError`` when it is shaped right but the
value does not fit ("constant out of range").  Keeping the two outcomes apart
lets the parser use the testsuite's exact wording for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interp.errors import TextSyntaxError


class NumberRangeError(TextSyntaxError):
    """A well-formed literal whose value does not fit.  It carries no position;
    the parser re-raises it as a located ``TextSyntaxError`` with the same
    message."""

    def __init__(self, literal: str) -> None:
        super().__init__("constant out of range")
        self.literal = literal


@dataclass(frozen=True, slots=True)
class FloatFormat:
    """An IEEE 754 binary interchange format, described by its field widths."""

    exponent_bits: int
    mantissa_bits: int

    @property
    def bias(self) -> int:
        return (1 << (self.exponent_bits - 1)) - 1

    @property
    def exponent_all_ones(self) -> int:
        return (1 << self.exponent_bits) - 1

    @property
    def sign_bit(self) -> int:
        return 1 << (self.exponent_bits + self.mantissa_bits)


MAX_U32 = (1 << 32) - 1
MAX_U64 = (1 << 64) - 1

F32_FORMAT = FloatFormat(8, 23)
F64_FORMAT = FloatFormat(11, 52)

_DEC = r"[0-9](?:_?[0-9])*"
_HEX = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"

_INT_RE = re.compile(rf"([+-]?)(?:0x({_HEX})|({_DEC}))\Z")
_NAT_RE = re.compile(rf"(?:0x({_HEX})|({_DEC}))\Z")
_FLOAT_RE = re.compile(
    rf"""([+-]?)(?:
        (?P<inf>inf)
      | (?P<nan>nan)(?::0x(?P<payload>{_HEX}))?
      | 0x(?P<hint>{_HEX})(?:\.(?P<hfrac>{_HEX})?)?(?:[pP](?P<hexp>[+-]?{_DEC}))?
      | (?P<dint>{_DEC})(?:\.(?P<dfrac>{_DEC})?)?(?:[eE](?P<dexp>[+-]?{_DEC}))?
    )\Z""",
    re.VERBOSE,
)

# Beyond these decimal/binary magnitudes a literal certainly overflows (or
# certainly rounds to zero) in both formats, so the exact arithmetic can stop
# early instead of building astronomically large integers from exponents like
# ``1e999999999``.
_DECIMAL_EXPONENT_LIMIT = 400
_BINARY_EXPONENT_LIMIT = 1200


# CPython refuses to convert more than 4300 decimal digits at once (a guard
# against quadratic-time conversions); literals may be longer than that.
_DIGITS_PER_CONVERSION = 4000


def _digits(text: str) -> str:
    return text.replace("_", "")


def _decimal(digits: str) -> int:
    """The value of a string of decimal digits, however long."""
    if len(digits) <= _DIGITS_PER_CONVERSION:
        return int(digits)
    value = 0
    for start in range(0, len(digits), _DIGITS_PER_CONVERSION):
        chunk = digits[start:start + _DIGITS_PER_CONVERSION]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def looks_numeric(text: str) -> bool:
    """Whether ``text`` is shaped like some numeric literal (integer or float),
    whatever its value."""
    return _INT_RE.match(text) is not None or _FLOAT_RE.match(text) is not None


def parse_nat(text: str) -> int | None:
    """An unsigned literal (``u32`` immediates such as limits, indices,
    ``offset=``): its value, or ``None`` when ``text`` is not one.  No range
    check: the caller knows which bound applies."""
    m = _NAT_RE.match(text)
    if m is None:
        return None
    hex_digits, dec_digits = m.groups()
    return int(_digits(hex_digits), 16) if hex_digits is not None else _decimal(_digits(dec_digits))


def parse_int(text: str, bits: int) -> int | None:
    """An ``iN`` literal (``bits`` is 32 or 64) in canonical unsigned form.

    Accepts ``-2**(bits-1) .. 2**bits - 1`` (unsigned and signed readings share
    the bit patterns), raises ``NumberRangeError`` outside, returns ``None``
    when ``text`` is not an integer literal at all.
    """
    m = _INT_RE.match(text)
    if m is None:
        return None
    sign, hex_digits, dec_digits = m.groups()
    value = int(_digits(hex_digits), 16) if hex_digits is not None else _decimal(_digits(dec_digits))
    if sign == "-":
        if value > 1 << (bits - 1):
            raise NumberRangeError(text)
        return -value & ((1 << bits) - 1)
    if value >= 1 << bits:
        raise NumberRangeError(text)
    return value


def parse_float(text: str, fmt: FloatFormat) -> int | None:
    """An ``fN`` literal as the bit pattern of format ``fmt``.

    Returns ``None`` when ``text`` is not a float literal; raises
    ``NumberRangeError`` when the value rounds to infinity or a NaN payload is
    zero or too wide.
    """
    m = _FLOAT_RE.match(text)
    if m is None:
        return None
    sign = fmt.sign_bit if m.group(1) == "-" else 0
    exponent_field = fmt.exponent_all_ones << fmt.mantissa_bits
    if m.group("inf") is not None:
        return sign | exponent_field
    if m.group("nan") is not None:
        payload_text = m.group("payload")
        if payload_text is None:
            return sign | exponent_field | 1 << (fmt.mantissa_bits - 1)
        payload = int(_digits(payload_text), 16)
        if not 0 < payload < 1 << fmt.mantissa_bits:
            raise NumberRangeError(text)
        return sign | exponent_field | payload
    if m.group("hint") is not None:
        magnitude = _hex_magnitude(m.group("hint"), m.group("hfrac"), m.group("hexp"), fmt)
    else:
        magnitude = _decimal_magnitude(m.group("dint"), m.group("dfrac"), m.group("dexp"), fmt)
    if magnitude is None:
        raise NumberRangeError(text)
    return sign | magnitude


def _exponent(text: str | None, limit: int) -> int:
    """An exponent's value, clamped to ``±limit`` so that absurd exponents
    cannot make the exact arithmetic explode (the clamp keeps the outcome:
    overflow or zero)."""
    if text is None:
        return 0
    digits = _digits(text).lstrip("+-").lstrip("0") or "0"
    if len(digits) > 20:  # far beyond any limit; spare the conversion
        return -limit if text.startswith("-") else limit
    value = int(digits)
    if text.startswith("-"):
        value = -value
    return max(-limit, min(limit, value))


def _hex_magnitude(int_part: str, frac_part: str | None, exp_text: str | None, fmt: FloatFormat) -> int | None:
    frac_digits = _digits(frac_part) if frac_part else ""
    mantissa = int(_digits(int_part) + frac_digits, 16)
    if mantissa == 0:
        return 0
    exponent = _exponent(exp_text, _BINARY_EXPONENT_LIMIT + 4 * len(frac_digits) + mantissa.bit_length())
    exponent -= 4 * len(frac_digits)
    if exponent >= 0:
        return round_to_format(mantissa << exponent, 1, fmt)
    return round_to_format(mantissa, 1 << -exponent, fmt)


def _decimal_magnitude(int_part: str, frac_part: str | None, exp_text: str | None, fmt: FloatFormat) -> int | None:
    frac_digits = _digits(frac_part) if frac_part else ""
    all_digits = (_digits(int_part) + frac_digits).lstrip("0")
    if not all_digits:
        return 0
    mantissa = _decimal(all_digits)
    exponent = _exponent(exp_text, _DECIMAL_EXPONENT_LIMIT + len(frac_digits) + len(all_digits))
    exponent -= len(frac_digits)
    magnitude = exponent + len(all_digits)
    if magnitude > _DECIMAL_EXPONENT_LIMIT:
        return None
    if magnitude < -_DECIMAL_EXPONENT_LIMIT:
        return 0
    if exponent >= 0:
        return round_to_format(mantissa * 10**exponent, 1, fmt)
    return round_to_format(mantissa, 10**-exponent, fmt)


def round_to_format(num: int, den: int, fmt: FloatFormat) -> int | None:
    """The bit pattern (sign bit clear) of the positive rational ``num/den``
    rounded to nearest, ties to even, in format ``fmt``; ``None`` when it
    rounds to infinity."""
    if num == 0:
        return 0
    precision = fmt.mantissa_bits
    min_exponent = 1 - fmt.bias
    # exponent = floor(log2(num/den))
    exponent = num.bit_length() - den.bit_length()
    if (num << -exponent if exponent < 0 else num) < (den << exponent if exponent > 0 else den):
        exponent -= 1
    if exponent < min_exponent:
        exponent = min_exponent
    shift = precision - exponent
    if shift >= 0:
        quotient, remainder = divmod(num << shift, den)
        twice_remainder, divisor = remainder << 1, den
    else:
        divisor = den << -shift
        quotient, remainder = divmod(num, divisor)
        twice_remainder = remainder << 1
    if twice_remainder > divisor or (twice_remainder == divisor and quotient & 1):
        quotient += 1
        if quotient == 1 << (precision + 1):
            quotient >>= 1
            exponent += 1
    if exponent > fmt.bias:
        return None
    if quotient < 1 << precision:
        return quotient  # subnormal: biased exponent 0
    return (exponent + fmt.bias) << precision | (quotient - (1 << precision))
