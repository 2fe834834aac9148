"""A module named on the command line, made ready to run: compiled, given the
host modules it imports (``spectest``, WASI), in a store — shared by
``glasswasm run``, ``trace`` and ``debug``.

The entry point is ``--invoke NAME`` with arguments read by the export's
parameter types, or, for a WASI command, ``_start`` with the arguments as its
argv.  A WASI guest's standard streams are this process's (its stdin read
only when and as far as it reads it; ``glasswasm debug``, which reads its
commands there, gives the guest an empty one), the directories of ``--dir``
are preopened, its clock and random numbers are simulated (see
``WasiConfig``); ``proc_exit(n)`` becomes the exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from interp.cli.cache import add_cache_option, module_cache
from interp.cli.engine_option import add_engine_argument
from interp.dwarf.source_map import SourceMap
from interp.errors import UsageError, WasmError
from interp.host.spectest import spectest_exports
from interp.loader import compile_bytes, read_file
from interp.runtime.function import FunctionInstance, HostFunction, WasmFunction
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import TypeNames
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import FuncType
from interp.text.values import format_value, parse_value
from interp.wasi import (
    OutputSink,
    Preopen,
    ProcessExit,
    WasiConfig,
    WasiProcess,
    check_wasi_memory,
    imports_wasi,
    initialize_reactor,
)
from interp.wasi.command import COMMAND_ENTRY, exports_function

MAX_EXIT_STATUS = 255


def add_program_arguments(parser: argparse.ArgumentParser, engine: bool = True) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")
    parser.add_argument("args", nargs="*", metavar="ARGS",
                        help="arguments for --invoke, read by the export's parameter types "
                             "(text-format literals: -1, 0x10, 1.5, 0x1p-3, inf, nan:0x200000; put -- before "
                             "arguments like -inf that start with a dash); without --invoke, the argv[1:] "
                             "of a WASI command")
    parser.add_argument("--invoke", metavar="NAME", help="call this exported function")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="set an environment variable for a WASI module (repeatable)")
    parser.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                        help="give a WASI module the host directory HOST, under the name GUEST (default: "
                             "HOST); it cannot reach outside it (repeatable)")
    parser.add_argument("--fuel", type=int, metavar="N", help="stop after N executed instructions")
    parser.add_argument("--max-call-depth", type=int, metavar="N",
                        default=EngineConfig.max_call_depth,
                        help=f"guest call depth before 'call stack exhausted' "
                             f"(default {EngineConfig.max_call_depth})")
    parser.add_argument("--max-memory-pages", type=int, metavar="N",
                        default=EngineConfig.max_memory_pages,
                        help=f"most 64 KiB pages a memory may have "
                             f"(default {EngineConfig.max_memory_pages}, i.e. 1 GiB)")
    add_cache_option(parser)
    if engine:
        add_engine_argument(parser)


class Program:
    """The module of ``args``, compiled, its imports ready, in a fresh store.

    ``guest_stdout`` names the stream (``stdout`` or ``stderr``) that gets what
    the guest writes to its standard output (WASI ``fd_write`` to fd 1, the
    ``spectest`` print functions): a command whose own report goes to
    standard output sends the guest's there to standard error instead.
    ``guest_stdin``: whether the guest reads this process's standard input
    (a debugger reads its commands there)."""

    def __init__(self, args: argparse.Namespace, engine: str | None = None, guest_stdout: str = "stdout",
                 guest_stdin: bool = True) -> None:
        if args.fuel is not None and args.fuel < 0:
            raise UsageError("--fuel must not be negative")
        if args.max_call_depth < 1:
            raise UsageError("--max-call-depth must be at least 1")
        if args.max_memory_pages < 0:
            raise UsageError("--max-memory-pages must not be negative")
        self.args = args
        self.engine = engine or getattr(args, "engine", "auto")
        self.guest_stdout = guest_stdout
        self.guest_stdin = guest_stdin
        self.environment = _parse_environment(args.env)
        self.preopens = tuple(Preopen.parse(text) for text in args.dir)
        self.compiled = compile_bytes(read_file(args.module), args.module, module_cache(args))
        self.wasi = imports_wasi(self.compiled)
        if self.wasi:
            check_wasi_memory(self.compiled)
        if args.args and not args.invoke and not self.wasi:
            raise UsageError("arguments given without --invoke NAME")
        if self.preopens and not self.wasi:
            raise UsageError(f"--dir is for WASI modules, and {args.module} imports no WASI")
        self.process: WasiProcess | None = None
        self.restart()

    def restart(self) -> None:
        """A fresh store and fresh imports (a new WASI process) for the same
        compiled module: what a debugger's ``run`` starts again from."""
        args = self.args
        self.close()
        self.store = Store(EngineConfig(max_call_depth=args.max_call_depth,
                                        max_memory_pages=args.max_memory_pages,
                                        engine=self.engine))
        self.store.set_fuel(args.fuel)
        self.imports: dict[str, Any] = {"spectest": spectest_exports(_print_to(self.guest_stdout))}
        self.process: WasiProcess | None = None
        if self.wasi:
            command_args = () if args.invoke else tuple(args.args)
            self.process = WasiProcess(WasiConfig(
                argv=(Path(args.module).name, *command_args),
                environment=self.environment,
                stdin=_standard_input() if self.guest_stdin else b"",
                stdout=OutputSink.raw(_pass_through(self.guest_stdout)),
                stderr=OutputSink.raw(_pass_through("stderr")),
                preopens=self.preopens,
            ))
            self.imports.update(self.process.imports())

    def instantiate(self, run_start: bool = True) -> ModuleInstance:
        return self.store.instantiate(self.compiled, self.imports, run_start=run_start)

    def entry(self, instance: ModuleInstance) -> tuple[FunctionInstance, list[Any]] | None:
        """The call to make after instantiation: ``--invoke`` (after a WASI
        reactor's ``_initialize``), or a WASI command's ``_start``; ``None``
        when the start function, run by instantiation, was the program.  A
        module with none of these has nothing to run: a ``UsageError`` lists
        the functions it exports."""
        if self.args.invoke:
            func = instance.exported_function(self.args.invoke)
            values = _parse_arguments(self.args.invoke, func.type, self.args.args)
            if self.wasi:
                initialize_reactor(self.store, instance)
            return func, values
        if self.wasi and exports_function(instance, COMMAND_ENTRY):
            return instance.exported_function(COMMAND_ENTRY), []
        if self.compiled.module.start is None:
            raise UsageError(nothing_to_run(self.args.module, instance))
        return None

    def source_map(self) -> SourceMap | None:
        """The module's DWARF line information, looking for source files next
        to the module file too; None without it."""
        return SourceMap.for_module(self.compiled.module, search_paths=[Path(self.args.module).resolve().parent])

    def print_results(self, func: FunctionInstance, results: list[Any]) -> None:
        if self.args.invoke:
            names = TypeNames(func.instance.types, func.instance.module.names) if isinstance(func, WasmFunction) \
                else None
            for value, valtype in zip(results, func.type.results):
                print(format_value(value, valtype, names))

    def close(self) -> None:
        """The run is over: deliver the guest's unfinished output and close
        the files it has open."""
        if self.process is not None:
            self.process.close()


def nothing_to_run(module_name: str, instance: ModuleInstance) -> str:
    """Why a module without an entry point does not run, and what it offers
    to ``--invoke`` instead."""
    exported = [f"{name} {value.type}" for name, value in instance.exports.items()
                if isinstance(value, (WasmFunction, HostFunction))]
    if not exported:
        return f"nothing to run: {module_name} has no start function and exports no functions"
    return (f"nothing to run: {module_name} has no start function; call an export with --invoke NAME "
            f"(exported functions: {', '.join(exported)})")


def exit_status(exit: ProcessExit) -> int:
    """``proc_exit``'s code as this process's exit status, which can only be
    0-255; a larger code is an error rather than silently truncated."""
    if exit.code > MAX_EXIT_STATUS:
        raise WasmError(f"process exited with status {exit.code}, which is not an exit status (0-255)")
    return exit.code


def _parse_arguments(name: str, func_type: FuncType, texts: list[str]) -> list[Any]:
    params = func_type.params
    if len(texts) != len(params):
        raise UsageError(f"{name} takes {len(params)} arguments {func_type}, {len(texts)} given")
    values = []
    for position, (text, valtype) in enumerate(zip(texts, params)):
        try:
            values.append(parse_value(text, valtype))
        except ValueError as error:
            raise UsageError(f"argument {position + 1}: {error}") from None
    return values


def _parse_environment(assignments: list[str]) -> dict[str, str]:
    environment: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name:
            raise UsageError(f"--env expects NAME=VALUE, got {assignment!r}")
        environment[name] = value
    return environment


def _standard_input() -> BinaryIO | bytes:
    """This process's standard input as bytes the guest reads lazily (none
    when there is no standard input at all)."""
    stream = getattr(sys.stdin, "buffer", None)
    return stream if stream is not None else b""


def _print_to(stream_name: str) -> Callable[[str], None]:
    """``print`` to ``sys.stdout`` or ``sys.stderr`` as they are at the time."""

    def write(text: str) -> None:
        print(text, file=getattr(sys, stream_name))

    return write


def _pass_through(stream_name: str) -> Callable[[bytes], None]:
    """A sink writing the guest's bytes to ``sys.stdout`` or ``sys.stderr``
    as they are at the time (so redirections and test captures see them),
    after whatever this process printed before."""

    def write(data: bytes) -> None:
        stream = getattr(sys, stream_name)
        stream.flush()
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            stream.write(data.decode("utf-8", "replace"))
        else:
            buffer.write(data)
            buffer.flush()

    return write
