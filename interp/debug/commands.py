"""The debugger's command language, gdb-like, over a ``DebugSession``.

``CommandInterpreter.execute(line)`` runs one command and writes what it has
to say; ``glasswasm debug`` feeds it lines from the terminal or from a pipe.
Commands (abbreviations in brackets):

  break [b] FUNC | *OFFSET | FILE:LINE | LINE | host NAME   set a breakpoint
  watch ADDR [LEN] | watch global NAME                     set a watchpoint
  delete [d] [N]                 delete breakpoint/watchpoint N, or all
  step [s] [N] / next [n] [N]    by source line when the module has line info, else by instruction
  stepi [si] [N] / nexti [ni] [N]   by instruction (into / over calls)
  finish                         run until the current function returns
  continue [c]                   run to the next breakpoint, watchpoint, trap or the end
  reverse-step [rs] [N]          go back N instructions
  reverse-continue [rc]          go back to the previous breakpoint or watchpoint hit
  backtrace [bt]                 the call stack
  locals / stack / globals       values in the current frame / operand stack / module globals
  memory [x] ADDR [LEN]          hex dump;  memory ADDR COUNT TYPE: typed values (i32 i64 f32 f64 u8 ...)
  list [l]                       instructions (or source lines) around the current one
  info breakpoints               breakpoints and watchpoints
  help / quit [q]
"""

from __future__ import annotations

import struct
from typing import Callable, TextIO

from interp.debug.frames import FrameView, typed
from interp.debug.session import DebugSession, Stop, StopReason
from interp.errors import GlasswasmError, UsageError
from interp.syntax.types import ValType
from interp.syntax.values import f32_from_bits

LIST_CONTEXT = 4
HEX_ROW = 16

_TYPED_READS: dict[str, tuple[str, ValType | None]] = {
    "i8": ("<b", None), "u8": ("<B", None), "i16": ("<h", None), "u16": ("<H", None),
    "i32": ("<i", None), "u32": ("<I", None), "i64": ("<q", None), "u64": ("<Q", None),
    "f32": ("<I", ValType.F32), "f64": ("<d", ValType.F64),
}


class QuitDebugger(Exception):
    """``quit`` was given."""


class CommandInterpreter:
    def __init__(self, session: DebugSession, out: TextIO) -> None:
        self.session = session
        self.out = out
        self.commands: dict[str, Callable[[list[str]], None]] = {}
        for names, handler in (
            (("break", "b"), self.do_break), (("watch",), self.do_watch), (("delete", "d"), self.do_delete),
            (("step", "s"), self.do_step), (("next", "n"), self.do_next),
            (("stepi", "si"), self.do_stepi), (("nexti", "ni"), self.do_nexti),
            (("finish",), self.do_finish), (("continue", "c"), self.do_continue),
            (("reverse-step", "rs"), self.do_reverse_step), (("reverse-continue", "rc"), self.do_reverse_continue),
            (("backtrace", "bt"), self.do_backtrace), (("locals",), self.do_locals), (("stack",), self.do_stack),
            (("globals",), self.do_globals), (("memory", "x"), self.do_memory), (("list", "l"), self.do_list),
            (("info",), self.do_info), (("help", "h"), self.do_help), (("quit", "q"), self.do_quit),
        ):
            for name in names:
                self.commands[name] = handler

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def execute(self, line: str) -> None:
        """Run one command line; errors are reported, never raised (but
        ``QuitDebugger``)."""
        words = line.split()
        if not words:
            return
        handler = self.commands.get(words[0])
        if handler is None:
            self.write(f"unknown command {words[0]!r} (try help)")
            return
        try:
            handler(words[1:])
        except (UsageError, ValueError) as error:
            self.write(f"error: {error}")
        except GlasswasmError as error:
            self.write(f"{error.label}: {error}")

    # --- showing where we are -------------------------------------------------------

    def show_location(self) -> None:
        session = self.session
        if session.finished:
            results = session.results
            func = session.invocation.func
            shown = ", ".join(typed(value, valtype) for value, valtype in zip(results, func.type.results))
            self.write(f"finished: {func.describe()} returned {shown or 'nothing'}")
            return
        view = session.current
        if view is None:
            self.write("not running")
            return
        self.write(self._describe(view))
        location = session.location(view)
        if location is not None:
            text = session.source_map.source_line(location)
            self.write(f"  at {location}" + (f": {text.strip()}" if text else ""))

    @staticmethod
    def _describe(view: FrameView) -> str:
        offset = f"{view.offset:#06x}" if view.offset is not None else "-"
        stack = " ".join(view.typed_stack())
        return f"{view.func.describe()} @ {offset}: {view.instruction_text:<28} [{stack}]"

    def report(self, stop: Stop) -> None:
        if stop.reason is not StopReason.STEP:
            self.write(f"[{stop.describe()}] at step {stop.position}")
            if stop.reason is StopReason.TRAP and stop.error is not None:
                for line in stop.error.format_backtrace():
                    self.write(line)
        self.show_location()

    # --- commands ---------------------------------------------------------------------

    @staticmethod
    def _count(args: list[str]) -> int:
        if not args:
            return 1
        count = int(args[0], 0)
        if count < 1:
            raise UsageError("the count must be at least 1")
        return count

    def do_break(self, args: list[str]) -> None:
        if not args:
            raise UsageError("break FUNC | *OFFSET | FILE:LINE | LINE | host NAME")
        session = self.session
        spec = args[0]
        if spec == "host" and len(args) == 2:
            breakpoint = session.break_at_host_function(args[1])
        elif spec.startswith("*"):
            breakpoint = session.break_at_offset(int(spec[1:], 0))
        elif ":" in spec and spec.rpartition(":")[2].isdigit():
            file, _, line = spec.rpartition(":")
            breakpoint = session.break_at_line(file, int(line))
        elif spec.isdigit() and session.source_map is not None:
            view = session.current
            location = session.location(view) if view is not None else None
            files = session.source_map.files
            file = location.file if location is not None else (files[0] if files else "")
            breakpoint = session.break_at_line(file, int(spec))
        else:
            breakpoint = session.break_at_function(spec)
        self.write(f"breakpoint {breakpoint.number}: {breakpoint.description}")

    def do_watch(self, args: list[str]) -> None:
        if len(args) == 2 and args[0] == "global":
            watchpoint = self.session.watch_global(args[1])
        elif 1 <= len(args) <= 2:
            watchpoint = self.session.watch_memory(int(args[0], 0), int(args[1], 0) if len(args) == 2 else 4)
        else:
            raise UsageError("watch ADDR [LEN] | watch global NAME")
        self.write(f"watchpoint {watchpoint.number}: {watchpoint.description}")

    def do_delete(self, args: list[str]) -> None:
        self.session.delete(int(args[0]) if args else None)
        self.write("deleted" if args else "deleted all breakpoints and watchpoints")

    def do_step(self, args: list[str]) -> None:
        self._by_line(args, over=False)

    def do_next(self, args: list[str]) -> None:
        self._by_line(args, over=True)

    def _by_line(self, args: list[str], over: bool) -> None:
        session = self.session
        if session.source_map is None:
            self.report(session.next(self._count(args)) if over else session.step(self._count(args)))
            return
        stop = None
        for _ in range(self._count(args)):
            stop = session.step_line(over=over)
            if stop.reason is not StopReason.STEP:
                break
        if stop is not None:
            self.report(stop)

    def do_stepi(self, args: list[str]) -> None:
        self.report(self.session.step(self._count(args)))

    def do_nexti(self, args: list[str]) -> None:
        self.report(self.session.next(self._count(args)))

    def do_finish(self, args: list[str]) -> None:
        self.report(self.session.finish())

    def do_continue(self, args: list[str]) -> None:
        self.report(self.session.continue_())

    def do_reverse_step(self, args: list[str]) -> None:
        self.report(self.session.reverse_step(self._count(args)))

    def do_reverse_continue(self, args: list[str]) -> None:
        self.report(self.session.reverse_continue())

    def do_backtrace(self, args: list[str]) -> None:
        session = self.session
        for number, view in enumerate(session.backtrace()):
            offset = f"{view.offset:#06x}" if view.offset is not None else "-"
            location = session.location(view)
            where = f" ({location})" if location is not None else ""
            self.write(f"#{number}  {view.func.describe()} @ {offset}{where}")

    def do_locals(self, args: list[str]) -> None:
        view = self._view()
        for local in view.locals():
            self.write(str(local))

    def do_stack(self, args: list[str]) -> None:
        view = self._view()
        entries = view.typed_stack()
        if not entries:
            self.write("(empty)")
        for height, entry in enumerate(entries):
            self.write(f"[{height}] {entry}")

    def do_globals(self, args: list[str]) -> None:
        for name, cell in self.session.globals():
            mutable = "mut " if cell.type.mutable else ""
            self.write(f"{name} = {mutable}{typed(cell.value, cell.type.valtype)}")

    def do_memory(self, args: list[str]) -> None:
        if not args:
            raise UsageError("memory ADDR [LEN] | memory ADDR COUNT TYPE")
        address = int(args[0], 0)
        if len(args) == 3:
            fmt, float_type = _TYPED_READS.get(args[2], (None, None))
            if fmt is None:
                raise UsageError(f"unknown type {args[2]!r} (types: {', '.join(_TYPED_READS)})")
            size = struct.calcsize(fmt)
            count = int(args[1], 0)
            data = self.session.read_memory(address, size * count)
            for index in range(count):
                (value,) = struct.unpack_from(fmt, data, index * size)
                if float_type is ValType.F32:
                    value = typed(f32_from_bits(value), ValType.F32)
                elif float_type is ValType.F64:
                    value = typed(value, ValType.F64)
                self.write(f"{address + index * size:#010x}: {value}")
            return
        length = int(args[1], 0) if len(args) > 1 else 64
        data = self.session.read_memory(address, length)
        for row in range(0, len(data), HEX_ROW):
            chunk = data[row:row + HEX_ROW]
            text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
            self.write(f"{address + row:#010x}: {chunk.hex(' '):<{HEX_ROW * 3 - 1}}  {text}")

    def do_list(self, args: list[str]) -> None:
        session = self.session
        view = self._view()
        location = session.location(view)
        if location is not None:
            for line in range(max(1, location.line - LIST_CONTEXT), location.line + LIST_CONTEXT + 1):
                text = session.source_map.source_line(type(location)(location.file, line, 0))
                if text is None:
                    continue
                marker = "=>" if line == location.line else "  "
                self.write(f"{marker} {line:5d}  {text.rstrip()}")
            return
        body = view.info.body
        first = max(0, view.pc - LIST_CONTEXT)
        for pc in range(first, min(len(body), view.pc + LIST_CONTEXT + 1)):
            marker = "=>" if pc == view.pc else "  "
            offset = f"{body[pc].offset:#06x}" if body[pc].offset >= 0 else "-"
            self.write(f"{marker} {offset}  {view.info.instruction_text(pc)}")

    def do_info(self, args: list[str]) -> None:
        if args[:1] not in (["breakpoints"], ["break"], ["b"], ["watchpoints"]):
            raise UsageError("info breakpoints")
        session = self.session
        if not session.breakpoints and not session.watchpoints:
            self.write("no breakpoints or watchpoints")
        for breakpoint in session.breakpoints.values():
            self.write(f"{breakpoint.number}  breakpoint  {breakpoint.description}  (hit {breakpoint.hits} times)")
        for watchpoint in session.watchpoints.values():
            self.write(f"{watchpoint.number}  watchpoint  {watchpoint.description}  "
                       f"(now {watchpoint.show(watchpoint.last)})")
        self.write("stop on trap: yes")  # always: a trapped call cannot go on

    def do_help(self, args: list[str]) -> None:
        self.write((__doc__ or "").split("Commands (abbreviations in brackets):", 1)[1].strip("\n"))

    def do_quit(self, args: list[str]) -> None:
        raise QuitDebugger()

    def _view(self) -> FrameView:
        view = self.session.current
        if view is None:
            raise UsageError("the call has finished: nothing to show")
        return view
