"""``glasswasm dump``: print a module in the text format (the disassembler)."""

from __future__ import annotations

import argparse
import sys

from interp.errors import UsageError
from interp.loader import read_module
from interp.text.printer import print_module


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")
    parser.add_argument("--folded", action="store_true",
                        help="write folded S-expressions, (i32.add (local.get 0) (i32.const 1)), "
                             "instead of one instruction per line")
    parser.add_argument("--offsets", action="store_true",
                        help="start each instruction's line with its byte offset in the binary, (;@2c;), "
                             "as wasm-objdump -d shows it (a .wat module is encoded first)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    """Read the module (decoded, not validated: invalid modules print too)
    and write its text; names come from its ``name`` section."""
    module = read_module(args.module)
    text = print_module(module, folded=args.folded, offsets=args.offsets)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    return 0
