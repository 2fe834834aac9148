"""``glasswasm assemble``: write the binary of a text module, as ``wat2wasm``
does.  (Named for what it is: the text format is WebAssembly's assembly
language, and ``glasswasm dump`` is the disassembler; "compile" would promise
native code, as ``wasmtime compile`` makes.)

The binary is validated first, as ``wat2wasm`` does (``--no-check`` skips
that), and carries a ``name`` section with the ``$identifiers`` (so
backtraces and ``dump`` show them), like ``wat2wasm --debug-names``;
``--no-names`` leaves it out, which gives ``wat2wasm``'s default output.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from interp.binary.encode import encode_module
from interp.errors import UsageError
from interp.loader import assemble_text, is_binary, read_file
from interp.syntax.module import Names
from interp.valid.module import validate_module

STDOUT = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wat text module")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="where to write the binary (default: MODULE with the suffix .wasm; - for "
                             "standard output)")
    parser.add_argument("--no-check", action="store_true", help="write the binary without validating it")
    parser.add_argument("--no-names", action="store_true",
                        help="leave out the name section (the $identifiers), as wat2wasm does by default")


def run(args: argparse.Namespace) -> int:
    data = read_file(args.module)
    if is_binary(data):
        raise UsageError(f"{args.module} is a binary module already (glasswasm dump prints its text)")
    binary, loaded = assemble_text(data, os.fspath(args.module))
    if not args.no_check:
        validate_module(loaded.module, source=loaded.source)
    if args.no_names:
        binary = encode_module(replace(loaded.module, names=Names()))
    output = args.output if args.output is not None else os.fspath(Path(args.module).with_suffix(".wasm"))
    if output == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(binary)
        sys.stdout.buffer.flush()
        return 0
    try:
        with open(output, "wb") as stream:
            stream.write(binary)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None
    return 0
