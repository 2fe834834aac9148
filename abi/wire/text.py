"""Bytes and text at the host's edges.

Header names and values, bodies, configuration and properties are bytes
inside the host, as in Envoy.  Text comes in from scenario files and the
Python API and goes out in reports:

* ``as_bytes`` takes text as UTF-8 — and bytes a decoding with
  ``surrogateescape`` produced back as those bytes — so any bytes survive a
  round trip through ``from_wire``; text that has no byte form (a lone
  surrogate such as ``"\\ud800"``) is refused with ``UnencodableText``, a
  one-line usage error, instead of failing deep inside a host call;
* ``from_wire`` gives bytes to API callers as text, losslessly;
* ``readable`` renders bytes for reports: UTF-8 as is, every other byte as
  ``\\xNN``, so the same bytes always give the same text.
"""

from __future__ import annotations

from abi.errors import UsageError

ASCII_UPPER_TO_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


class UnencodableText(UsageError):
    """Text that cannot become bytes (a lone surrogate)."""


def from_wire(data: bytes | bytearray | memoryview) -> str:
    """Bytes as text (lossless: undecodable bytes become surrogates)."""
    return bytes(data).decode("utf-8", "surrogateescape")


def to_wire(text: str) -> bytes:
    """Text as bytes (inverse of ``from_wire``); ``UnencodableText`` when it
    has no byte form."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as error:
        raise UnencodableText(f"text with the lone surrogate U+{ord(text[error.start]):04X} at position "
                              f"{error.start} has no byte form") from None


def as_text(value: str | bytes | bytearray) -> str:
    """Accept either form from API callers: bytes are decoded as from the wire."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return from_wire(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"expected str or bytes, not {type(value).__name__}")


def as_bytes(value: str | bytes | bytearray) -> bytes:
    """Accept either form from API callers: text is encoded as to the wire."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return to_wire(value)
    raise TypeError(f"expected str or bytes, not {type(value).__name__}")


def readable(value: str | bytes | bytearray) -> str:
    """Text for reports: UTF-8 as is, every other byte as ``\\xNN``."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape") if _encodable(value) else \
            value.encode("utf-8", "backslashreplace")
    return bytes(value).decode("utf-8", "backslashreplace")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def ascii_lower(name: bytes) -> bytes:
    """Lower-case ASCII letters only, as Envoy's ``LowerCaseString`` does."""
    return name.translate(ASCII_UPPER_TO_LOWER)
