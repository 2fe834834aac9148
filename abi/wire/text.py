"""How bytes from the guest become text, losslessly inside the host and
deterministically in reports.

Header names and values, bodies, log messages and configuration are bytes on
the wire.  Inside the host they are kept as ``str`` decoded with
``surrogateescape``: valid UTF-8 reads as itself, and every other byte becomes a
lone surrogate that encodes back to the same byte, so nothing a plugin writes is
lost or altered.  Reports cannot carry lone surrogates (JSON would need
``\\udcff`` escapes and terminals cannot print them), so ``readable`` renders
each undecodable byte as ``\\xNN``: the same bytes always give the same text.
"""

from __future__ import annotations

ASCII_UPPER_TO_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def from_wire(data: bytes | bytearray | memoryview) -> str:
    """Guest bytes as host text (lossless)."""
    return bytes(data).decode("utf-8", "surrogateescape")


def to_wire(text: str) -> bytes:
    """Host text as the bytes the guest sees (inverse of ``from_wire``)."""
    return text.encode("utf-8", "surrogateescape")


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
    return as_bytes(value).decode("utf-8", "backslashreplace")


def ascii_lower(name: str) -> str:
    """Lower-case ASCII letters only, as Envoy's ``LowerCaseString`` does
    (``str.lower`` would also fold non-ASCII letters)."""
    return name.translate(ASCII_UPPER_TO_LOWER)
