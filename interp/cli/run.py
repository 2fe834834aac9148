"""``glasswasm run`` and ``glasswasm validate``."""

from __future__ import annotations

import argparse

from interp.errors import UsageError
from interp.exec.compiled import compile_module
from interp.host.spectest import spectest_exports
from interp.loader import read_module
from interp.runtime.store import EngineConfig, Store
from interp.text.values import format_value, parse_value


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")
    parser.add_argument("args", nargs="*", metavar="ARGS",
                        help="arguments for --invoke, read by the export's parameter types "
                             "(text-format literals: -1, 0x10, 1.5, 0x1p-3, inf, nan:0x200000; put -- before "
                             "arguments like -inf that start with a dash)")
    parser.add_argument("--invoke", metavar="NAME", help="call this exported function")
    parser.add_argument("--fuel", type=int, metavar="N", help="stop after N executed instructions")
    parser.add_argument("--max-call-depth", type=int, metavar="N",
                        default=EngineConfig.max_call_depth,
                        help=f"guest call depth before 'call stack exhausted' "
                             f"(default {EngineConfig.max_call_depth})")
    parser.add_argument("--max-memory-pages", type=int, metavar="N",
                        default=EngineConfig.max_memory_pages,
                        help=f"most 64 KiB pages a memory may have "
                             f"(default {EngineConfig.max_memory_pages}, i.e. 1 GiB)")


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")


def run(args: argparse.Namespace) -> int:
    if args.fuel is not None and args.fuel < 0:
        raise UsageError("--fuel must not be negative")
    if args.max_call_depth < 1:
        raise UsageError("--max-call-depth must be at least 1")
    if args.max_memory_pages < 0:
        raise UsageError("--max-memory-pages must not be negative")
    if args.args and not args.invoke:
        raise UsageError("arguments given without --invoke NAME")
    compiled = compile_module(read_module(args.module))
    store = Store(EngineConfig(max_call_depth=args.max_call_depth, max_memory_pages=args.max_memory_pages))
    store.set_fuel(args.fuel)
    instance = store.instantiate(compiled, {"spectest": spectest_exports(print)})
    if args.invoke:
        func = instance.exported_function(args.invoke)
        params = func.type.params
        if len(args.args) != len(params):
            raise UsageError(f"{args.invoke} takes {len(params)} arguments {func.type}, "
                             f"{len(args.args)} given")
        values = []
        for position, (text, valtype) in enumerate(zip(args.args, params)):
            try:
                values.append(parse_value(text, valtype))
            except ValueError as error:
                raise UsageError(f"argument {position + 1}: {error}") from None
        results = store.invoke(func, *values)
        for value, valtype in zip(results, func.type.results):
            print(format_value(value, valtype))
    return 0


def validate(args: argparse.Namespace) -> int:
    compile_module(read_module(args.module))
    print(f"{args.module}: valid")
    return 0
