"""Reading a module from a file or from memory, binary or text alike."""

from __future__ import annotations

import os

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.errors import MalformedError, UsageError
from interp.syntax.module import Module
from interp.text.parser import parse_module

WASM_MAGIC = b"\0asm"


def module_from_bytes(data: bytes) -> Module:
    """Decode a binary module, or parse a text one.

    A text module is encoded to its binary form and decoded again, so that its
    instructions carry the byte offsets they have in that binary (the offsets
    ``wat2wasm`` followed by ``wasm-objdump -d`` would show); traces and
    backtraces then point at the same places for both forms.
    """
    if data.startswith(WASM_MAGIC):
        return decode_module(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedError("neither a wasm binary (no \\0asm header) nor UTF-8 text", error.start) from None
    return with_binary_offsets(parse_module(text))


def with_binary_offsets(module: Module) -> Module:
    """``module`` as decoded from its own binary encoding: its instructions
    carry the byte offsets they have there."""
    return decode_module(encode_module(module))


def read_module(path: str | os.PathLike[str]) -> Module:
    """Read a ``.wasm`` or ``.wat`` file (the content decides, not the name)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as error:
        raise UsageError(f"cannot read {os.fspath(path)}: {error.strerror or error}") from None
    return module_from_bytes(data)
