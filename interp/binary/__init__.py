"""The WebAssembly binary format: decoding a module binary into the abstract
:class:`~interp.syntax.module.Module` and encoding it back."""

from __future__ import annotations

from interp.binary.decode import decode_expr, decode_module
from interp.binary.encode import encode_expr, encode_module, encode_names
from interp.binary.names import decode_names
from interp.binary.reader import ByteReader

__all__ = [
    "ByteReader",
    "decode_expr",
    "decode_module",
    "decode_names",
    "encode_expr",
    "encode_module",
    "encode_names",
]
