"""Reading a module from a file or from memory, binary or text alike."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.errors import MalformedError, TextSyntaxError, UsageError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Module
from interp.text.parser import parse_module_with_positions
from interp.text.positions import TextPositions, TextSource
from interp.translate.cache import ModuleCache, compile_cached
from interp.translate.compiled import CompiledModule, compile_module

WASM_MAGIC = b"\0asm"


def is_binary(data: bytes) -> bool:
    """Whether ``data`` is a module binary (else it is taken for text)."""
    return data.startswith(WASM_MAGIC)


@dataclass(frozen=True)
class LoadedModule:
    """A module as read: decoded (a text module through its binary encoding,
    see ``load_bytes``), and for a text module, its ``source``: the text and
    where each instruction and field is written, which locates validation
    and link errors in the text."""

    module: Module
    source: TextSource | None = None

    def compile(self) -> CompiledModule:
        """Validate and compile the module (``compile_module``); an
        ``InvalidError`` then says where in the text it is, too."""
        return compile_module(self.module, self.source)


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
    return _parse_text(data, file)[0]


def _parse_text(data: bytes, file: str | None) -> tuple[Module, TextPositions, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedError("neither a wasm binary (no \\0asm header) nor UTF-8 text", error.start) from None
    try:
        module, positions = parse_module_with_positions(text)
    except TextSyntaxError as error:
        raise (error if file is None else error.in_file(file)) from None
    return module, positions, text


def assemble_text(data: bytes, file: str | None = None) -> tuple[bytes, LoadedModule]:
    """The binary encoding of the text module in ``data``, and that binary
    decoded again, with the module's ``source``."""
    parsed, positions, text = _parse_text(data, file)
    binary = encode_module(parsed)
    module = decode_module(binary)
    return binary, LoadedModule(module, TextSource.of(text, positions, module, file))


def load_bytes(data: bytes, file: str | None = None) -> LoadedModule:
    """Decode a binary module, or parse a text one (the content decides).

    A text module is encoded to its binary form and decoded again, so that its
    instructions carry the byte offsets they have in that binary (the offsets
    ``wat2wasm`` followed by ``wasm-objdump -d`` would show); traces and
    backtraces then point at the same places for both forms, and its
    ``source`` maps those offsets back to the text.
    """
    if is_binary(data):
        return LoadedModule(decode_module(data))
    return assemble_text(data, file)[1]


def compile_bytes(data: bytes, file: str | None = None, module_cache: ModuleCache | None = None) -> CompiledModule:
    """Compile a binary or text module (the content decides).  A binary is
    decoded and validated in one pass, through ``module_cache`` when one is
    given; a text module is compiled with its ``source``, so its errors point
    into the text, and is never cached (text is what people write by hand:
    small, and read for its positions)."""
    if is_binary(data):
        return compile_cached(data, module_cache)
    return assemble_text(data, file)[1].compile()


def module_from_bytes(data: bytes, file: str | None = None) -> Module:
    """``load_bytes`` without the source: just the module."""
    return load_bytes(data, file).module


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


def load_module(path: str | os.PathLike[str]) -> LoadedModule:
    """Read a ``.wasm`` or ``.wat`` file (the content decides, not the name),
    with the source of a text module."""
    return load_bytes(read_file(path), os.fspath(path))


def read_module(path: str | os.PathLike[str]) -> Module:
    """``load_module`` without the source: just the module."""
    return load_module(path).module
