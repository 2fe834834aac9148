"""Reading a module from a file or from memory, binary or text alike."""

from __future__ import annotations

import os
import stat

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.errors import MalformedError, TextSyntaxError, UsageError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Module
from interp.text.parser import parse_module

WASM_MAGIC = b"\0asm"


def is_binary(data: bytes) -> bool:
    """Whether ``data`` is a module binary (else it is taken for text)."""
    return data.startswith(WASM_MAGIC)


def binary_from_bytes(data: bytes, file: str | None = None) -> bytes:
    """The binary form of a module: ``data`` itself when it is a binary, else
    the encoding of the text module it holds (what ``wat2wasm`` writes, with
    the ``name`` section of its ``$identifiers``).  ``file`` names the source
    in syntax errors."""
    if is_binary(data):
        return data
    return encode_module(parse_text(data, file))


def parse_text(data: bytes, file: str | None = None) -> Module:
    """The module of a text file's bytes; ``file`` names it in syntax errors."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedError("neither a wasm binary (no \\0asm header) nor UTF-8 text", error.start) from None
    try:
        return parse_module(text)
    except TextSyntaxError as error:
        raise (error if file is None else error.in_file(file)) from None


def module_from_bytes(data: bytes, file: str | None = None) -> Module:
    """Decode a binary module, or parse a text one.

    A text module is encoded to its binary form and decoded again, so that its
    instructions carry the byte offsets they have in that binary (the offsets
    ``wat2wasm`` followed by ``wasm-objdump -d`` would show); traces and
    backtraces then point at the same places for both forms.
    """
    return decode_module(binary_from_bytes(data, file))


def with_binary_offsets(module: Module, features: frozenset[Feature] = SUPPORTED_FEATURES) -> Module:
    """``module`` as decoded from its own binary encoding (in the binary
    format of ``features``): its instructions carry the byte offsets they
    have there."""
    return decode_module(encode_module(module), features)


MAX_MODULE_FILE_BYTES = 1 << 30
"""The largest module file read (1 GiB: far beyond any real module, and what
keeps ``/dev/zero`` or a runaway file from filling the host's memory)."""


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a module file; an unreadable file, one that is not a
    regular file (a device, a pipe, a directory) or one larger than
    ``MAX_MODULE_FILE_BYTES`` is a one-line ``UsageError``."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            status = os.fstat(stream.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise UsageError(f"cannot read {name}: not a regular file")
            if status.st_size > MAX_MODULE_FILE_BYTES:
                raise UsageError(f"cannot read {name}: larger than {MAX_MODULE_FILE_BYTES} bytes")
            data = stream.read(status.st_size + 1)
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    if len(data) > MAX_MODULE_FILE_BYTES:
        raise UsageError(f"cannot read {name}: larger than {MAX_MODULE_FILE_BYTES} bytes")
    return data


def read_module(path: str | os.PathLike[str]) -> Module:
    """Read a ``.wasm`` or ``.wat`` file (the content decides, not the name)."""
    return module_from_bytes(read_file(path), os.fspath(path))
