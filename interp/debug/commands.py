"""The debugger's command language, gdb-like, over a ``DebugSession``.

``CommandInterpreter.execute(line)`` runs one command and writes what it has
to say; console.py feeds it lines from a terminal (with line editing and
history) or from a pipe.  The commands are data (``COMMANDS``): the same table
drives dispatch, abbreviations, ``help`` and ``glasswasm debug --help``, and
which commands an empty line repeats.  Another kind of session (a proxy
scenario) can reuse the interpreter and add commands of its own with
``add_command``.

Values are shown as ``NAME = VALUE (TYPE)`` for source variables (``count =
3 (int)``, pointers as addresses, structs by member) and as ``NAME =
i32:3`` for wasm's own values, as everywhere in glasswasm.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, TextIO

from interp.debug.c_types import BaseType, CType, FormatMode, PointerType, StructType, Value, declaration
from interp.debug.frames import FrameView, type_names, typed
from interp.debug.session import DebugSession, HostMarker, Stop, StopReason
from interp.errors import GlasswasmError, UsageError
from interp.syntax.types import ValType
from interp.syntax.values import f32_from_bits

LIST_CONTEXT = 4
HELP_COLUMN = 26  # usages longer than this get a line of their own
HEX_ROW = 16

_TYPED_READS: dict[str, tuple[str, ValType | None]] = {
    "i8": ("<b", None), "u8": ("<B", None), "i16": ("<h", None), "u16": ("<H", None),
    "i32": ("<i", None), "u32": ("<I", None), "i64": ("<q", None), "u64": ("<Q", None),
    "f32": ("<I", ValType.F32), "f64": ("<d", ValType.F64),
}
_FORMATS = {mode.value: mode for mode in FormatMode if mode.value}


class QuitDebugger(Exception):
    """``quit`` was given."""


@dataclass(frozen=True)
class Command:
    """One command: its names (the first is the full one), what it takes,
    what it does, and whether an empty line repeats it."""

    names: tuple[str, ...]
    usage: str
    summary: str
    method: str
    repeats: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(("break", "b", "br"), "break [LOCATION] [if COND]",
            "stop at LOCATION: FUNC, *OFFSET, FILE:LINE, LINE or host NAME (default: here)", "do_break"),
    Command(("tbreak",), "tbreak LOCATION [if COND]", "a breakpoint deleted when first hit", "do_tbreak"),
    Command(("catch",), "catch throw [if COND]", "stop where an exception is thrown (throw, throw_ref, rethrow)",
            "do_catch"),
    Command(("condition",), "condition N [COND]", "stop at breakpoint N only when COND holds (none: always)",
            "do_condition"),
    Command(("watch",), "watch EXPR | watch [@MEM] ADDR LEN | watch global NAME",
            "stop when memory (a variable, ADDR..+LEN of memory 0 or MEM) or a wasm global changes", "do_watch"),
    Command(("delete", "d"), "delete [N]", "delete breakpoint or watchpoint N, or all of them", "do_delete"),
    Command(("disable",), "disable N", "keep breakpoint N but do not stop there", "do_disable"),
    Command(("enable",), "enable N", "stop at breakpoint N again", "do_enable"),
    Command(("run", "r"), "run", "start the program again from the beginning (breakpoints kept)", "do_run"),
    Command(("continue", "c"), "continue", "run to the next breakpoint, watchpoint, trap or the end", "do_continue",
            True),
    Command(("step", "s"), "step [N]", "the next source line (or instruction without line information), "
            "into calls", "do_step", True),
    Command(("next", "n"), "next [N]", "the next source line (or instruction), calls run to their end", "do_next",
            True),
    Command(("stepi", "si"), "stepi [N]", "the next instruction, into calls", "do_stepi", True),
    Command(("nexti", "ni"), "nexti [N]", "the next instruction, calls run to their end", "do_nexti", True),
    Command(("until", "u"), "until [LOCATION]", "run past the current line without going back (out of a loop), "
            "or to LOCATION, but not beyond this function's return", "do_until", True),
    Command(("advance",), "advance LOCATION", "run to LOCATION (or until this function returns)", "do_advance"),
    Command(("finish", "fin"), "finish", "run until the current function returns", "do_finish", True),
    Command(("reverse-step", "rs"), "reverse-step [N]", "go back N instructions", "do_reverse_step", True),
    Command(("reverse-continue", "rc"), "reverse-continue", "go back to the previous breakpoint or watchpoint hit",
            "do_reverse_continue", True),
    Command(("backtrace", "bt", "where"), "backtrace", "the call stack, host functions included", "do_backtrace"),
    Command(("frame", "f"), "frame [N]", "select frame N (0: innermost) for locals, print, list", "do_frame"),
    Command(("up",), "up [N]", "select the frame N calls out (the caller)", "do_up", True),
    Command(("down",), "down [N]", "select the frame N calls in", "do_down", True),
    Command(("print", "p", "inspect"), "print[/FMT] EXPR", "the value of EXPR (variables, *ADDR, {TYPE} ADDR, "
            "arithmetic); FMT: x d u o t c", "do_print"),
    Command(("display",), "display[/FMT] [EXPR]", "print EXPR after every stop (none: show them now)",
            "do_display"),
    Command(("undisplay",), "undisplay [N]", "stop displaying expression N, or all of them", "do_undisplay"),
    Command(("ptype", "whatis"), "ptype EXPR|TYPE", "the type of EXPR, or a type spelled out", "do_ptype"),
    Command(("locals",), "locals [wasm]", "the variables of the selected frame (wasm: its wasm locals)",
            "do_locals"),
    Command(("stack",), "stack", "the operand stack of the selected frame", "do_stack"),
    Command(("globals",), "globals", "the module's wasm globals", "do_globals"),
    Command(("memory", "x"), "memory [@MEM] ADDR [LEN] | memory [@MEM] ADDR COUNT TYPE",
            "a hex dump, or COUNT values of TYPE (i8 u8 i16 u16 i32 u32 i64 u64 f32 f64), of memory 0 "
            "or of memory MEM (an index or a $name)", "do_memory", True),
    Command(("list", "l"), "list", "the source (or instructions) around the selected frame's position", "do_list"),
    Command(("info", "i"), "info breakpoints|watchpoints|locals|args|frame|display|globals",
            "what is set, and what the selected frame holds", "do_info"),
    Command(("help", "h"), "help [COMMAND]", "the commands, or one of them", "do_help"),
    Command(("quit", "q"), "quit", "leave the debugger", "do_quit"),
)


def command_help(commands: tuple[Command, ...] = COMMANDS) -> str:
    """The command list, one line each: what ``help`` and ``--help`` show."""
    lines = []
    for command in commands:
        aliases = f" ({', '.join(command.names[1:])})" if len(command.names) > 1 else ""
        if len(command.usage) > HELP_COLUMN:
            lines.append(f"  {command.usage}")
            lines.append(f"  {'':<{HELP_COLUMN}}  {command.summary}{aliases}")
        else:
            lines.append(f"  {command.usage:<{HELP_COLUMN}}  {command.summary}{aliases}")
    return "\n".join(lines)


class CommandInterpreter:
    """Runs commands on a session.  ``restart``, when given, makes a fresh
    session of the same program (``run``); breakpoints, watchpoints and
    displays carry over."""

    def __init__(self, session: DebugSession, out: TextIO,
                 restart: Callable[[], DebugSession] | None = None) -> None:
        self.session = session
        self.out = out
        self.restart = restart
        self.commands: dict[str, tuple[Command, Callable[[str, str], None]]] = {}
        self.table: list[Command] = []
        self.displays: dict[int, tuple[str, str, object]] = {}  # number -> (expression, format letter, function)
        self._display_numbers = 0
        for command in COMMANDS:
            self.add_command(command, getattr(self, command.method))

    def add_command(self, command: Command, handler: Callable[[str, str], None]) -> None:
        """Make ``command`` known; ``handler(argument_text, format_letter)``
        runs it.  A command of the same (full) name is replaced, in its place
        in the table."""
        same = [index for index, known in enumerate(self.table) if known.names[0] == command.names[0]]
        if same:
            for name in self.table[same[0]].names:
                self.commands.pop(name, None)
            self.table[same[0]] = command
        else:
            self.table.append(command)
        for name in command.names:
            self.commands[name] = (command, handler)

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def command_names(self) -> list[str]:
        return sorted(self.commands)

    def repeats(self, line: str) -> bool:
        """Whether an empty line after ``line`` runs it again."""
        word = line.split(maxsplit=1)[0].partition("/")[0] if line.strip() else ""
        found = self.commands.get(word)
        return found is not None and found[0].repeats

    def execute(self, line: str) -> None:
        """Run one command line; errors are reported, never raised (but
        ``QuitDebugger``)."""
        parts = line.strip().split(maxsplit=1)
        if not parts:
            return
        word, _, letter = parts[0].partition("/")
        found = self.commands.get(word)
        if found is None:
            self.write(f"unknown command {word!r} (try help)")
            return
        try:
            found[1](parts[1] if len(parts) > 1 else "", letter)
        except (UsageError, ValueError) as error:
            self.write(f"error: {error}")
        except GlasswasmError as error:
            self.write(f"{error.label}: {error}")

    # --- showing where we are -------------------------------------------------------

    def show_location(self, view: FrameView | None = None) -> None:
        session = self.session
        if session.finished:
            results = session.results
            func = session.invocation.func
            names = type_names(func)
            shown = ", ".join(typed(value, valtype, names) for value, valtype in zip(results, func.type.results))
            self.write(f"finished: {func.describe()} returned {shown or 'nothing'}")
            return
        view = view or session.current
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
        self.show_displays()

    def show_displays(self) -> None:
        if self.session.finished or self.session.current is None:
            return
        here = self.session.frame().func
        for number, (expression, letter, where) in sorted(self.displays.items()):
            try:
                shown = self._shown(expression, letter)
            except GlasswasmError as error:
                if where is not here:
                    continue  # made for another function's variables, as gdb's are
                shown = f"<error: {error}>"
            self.write(f"{number}: {shown}")

    def _shown(self, expression: str, letter: str) -> str:
        """``EXPR = VALUE (TYPE)``: how print, display and locals show a value."""
        value = self.session.evaluate(expression)
        return f"{expression} = {self._value_text(value, letter)}"

    def _value_text(self, value: Value, letter: str = "") -> str:
        mode = _FORMATS.get(letter) if letter else FormatMode.NATURAL
        if mode is None:
            raise UsageError(f"unknown format /{letter} (formats: {', '.join(_FORMATS)})")
        text = self.session.format(value, mode)
        resolved = value.type.resolved()
        if isinstance(resolved, BaseType) and resolved.wasm:
            return text
        return f"{text} ({value.type})"

    # --- breakpoints ---------------------------------------------------------------------

    def do_break(self, text: str, letter: str) -> None:
        self._break(text, temporary=False)

    def do_tbreak(self, text: str, letter: str) -> None:
        if not text:
            raise UsageError("tbreak LOCATION [if COND]")
        self._break(text, temporary=True)

    def _break(self, text: str, temporary: bool) -> None:
        session = self.session
        spec, condition = split_condition(text)
        if not spec:
            view = session.frame()
            if view.offset is None:
                raise UsageError("here has no byte offset: give a location")
            spec = f"*{view.offset:#x}"
        breakpoint = session.break_at(spec, condition, temporary)
        kind = "temporary breakpoint" if temporary else "breakpoint"
        suffix = f" if {condition}" if condition else ""
        self.write(f"{kind} {breakpoint.number}: {breakpoint.description}{suffix}")

    def do_catch(self, text: str, letter: str) -> None:
        event, condition = split_condition(text)
        if event != "throw":
            raise UsageError("catch throw [if COND]")
        catchpoint = self.session.catch_throw(condition)
        suffix = f" if {condition}" if condition else ""
        self.write(f"catchpoint {catchpoint.number}: {catchpoint.description}{suffix}")

    def do_condition(self, text: str, letter: str) -> None:
        number, _, condition = text.strip().partition(" ")
        if not number.isdigit():
            raise UsageError("condition N [COND]")
        breakpoint = self.session.set_condition(int(number), condition.strip() or None)
        if breakpoint.condition:
            self.write(f"breakpoint {breakpoint.number} stops only if {breakpoint.condition}")
        else:
            self.write(f"breakpoint {breakpoint.number} stops unconditionally")

    def do_enable(self, text: str, letter: str) -> None:
        self.session.enable(parse_number(text, "enable N"), True)

    def do_disable(self, text: str, letter: str) -> None:
        self.session.enable(parse_number(text, "disable N"), False)

    def do_watch(self, text: str, letter: str) -> None:
        session = self.session
        memory, args = _memory_selector(session, text.split())
        if len(args) == 2 and args[0] == "global":
            watchpoint = session.watch_global(args[1])
        elif len(args) == 2 and is_integer(args[0]) and is_integer(args[1]):
            watchpoint = session.watch_memory(int(args[0], 0), int(args[1], 0), memory)
        elif len(args) == 1 and is_integer(args[0]):
            watchpoint = session.watch_memory(int(args[0], 0), memory=memory)
        elif text.strip():
            watchpoint = session.watch_expression(text.strip())
        else:
            raise UsageError("watch EXPR | watch ADDR [LEN] | watch global NAME")
        self.write(f"watchpoint {watchpoint.number}: {watchpoint.description}")

    def do_delete(self, text: str, letter: str) -> None:
        self.session.delete(parse_number(text, "delete [N]") if text.strip() else None)
        self.write("deleted" if text.strip() else "deleted all breakpoints and watchpoints")

    # --- running -------------------------------------------------------------------------

    def do_run(self, text: str, letter: str) -> None:
        if self.restart is None:
            raise UsageError("this session cannot be restarted")
        old = self.session
        fresh = self.restart()
        problems = fresh.adopt(old)
        old.close()
        self.session = fresh
        self.write("restarted from the beginning")
        for problem in problems:
            self.write(f"could not set {problem}")
        self.show_location()
        self.show_displays()

    def do_step(self, text: str, letter: str) -> None:
        self._by_line(text, over=False)

    def do_next(self, text: str, letter: str) -> None:
        self._by_line(text, over=True)

    def _by_line(self, text: str, over: bool) -> None:
        session = self.session
        count = parse_count(text)
        if session.source_map is None:
            self.report(session.next(count) if over else session.step(count))
            return
        stop = None
        for _ in range(count):
            stop = session.step_line(over=over)
            if stop.reason is not StopReason.STEP:
                break
        if stop is not None:
            self.report(stop)

    def do_stepi(self, text: str, letter: str) -> None:
        self.report(self.session.step(parse_count(text)))

    def do_nexti(self, text: str, letter: str) -> None:
        self.report(self.session.next(parse_count(text)))

    def do_until(self, text: str, letter: str) -> None:
        session = self.session
        if text.strip():
            self.report(session.until(session.locations_of(text.strip())))
        elif session.source_map is not None and session.location() is not None:
            self.report(session.until_line())
        else:
            self.report(session.until())

    def do_advance(self, text: str, letter: str) -> None:
        if not text.strip():
            raise UsageError("advance LOCATION")
        self.report(self.session.until(self.session.locations_of(text.strip())))

    def do_finish(self, text: str, letter: str) -> None:
        self.report(self.session.finish())

    def do_continue(self, text: str, letter: str) -> None:
        self.report(self.session.continue_())

    def do_reverse_step(self, text: str, letter: str) -> None:
        self.report(self.session.reverse_step(parse_count(text)))

    def do_reverse_continue(self, text: str, letter: str) -> None:
        self.report(self.session.reverse_continue())

    # --- frames --------------------------------------------------------------------------

    def do_backtrace(self, text: str, letter: str) -> None:
        session = self.session
        number = 0
        for entry in session.call_stack():
            if isinstance(entry, HostMarker):
                self.write(f"    {entry.describe()}")
                continue
            marker = "*" if number == session.selected and number else " "
            self.write(f"#{number}{marker} {self._frame_line(entry)}")
            number += 1

    def _frame_line(self, view: FrameView) -> str:
        offset = f"{view.offset:#06x}" if view.offset is not None else "-"
        location = self.session.location(view)
        where = f" ({location})" if location is not None else ""
        return f"{view.func.describe()} @ {offset}{where}"

    def do_frame(self, text: str, letter: str) -> None:
        session = self.session
        if text.strip():
            session.select_frame(parse_number(text, "frame [N]"))
        self._show_selected()

    def do_up(self, text: str, letter: str) -> None:
        self.session.select_frame(self.session.selected + (parse_count(text)))
        self._show_selected()

    def do_down(self, text: str, letter: str) -> None:
        target = self.session.selected - parse_count(text)
        if target < 0:
            raise UsageError("already at the innermost frame")
        self.session.select_frame(target)
        self._show_selected()

    def _show_selected(self) -> None:
        view = self.session.frame()
        self.write(f"#{self.session.selected}  {self._frame_line(view)}")
        self.show_location(view)

    # --- values --------------------------------------------------------------------------

    def do_print(self, text: str, letter: str) -> None:
        if not text.strip():
            raise UsageError("print[/FMT] EXPR")
        self.write(self._shown(text.strip(), letter))

    def do_display(self, text: str, letter: str) -> None:
        if not text.strip():
            self.show_displays()
            return
        expression = text.strip()
        if letter and letter not in _FORMATS:
            raise UsageError(f"unknown format /{letter} (formats: {', '.join(_FORMATS)})")
        self._display_numbers += 1
        where = self.session.frame().func if self.session.current is not None else None
        self.displays[self._display_numbers] = (expression, letter, where)
        if not self.session.finished and self.session.current is not None:
            try:
                shown = self._shown(expression, letter)
            except GlasswasmError as error:
                shown = f"<error: {error}>"
            self.write(f"{self._display_numbers}: {shown}")

    def do_undisplay(self, text: str, letter: str) -> None:
        if not text.strip():
            self.displays.clear()
            return
        number = parse_number(text, "undisplay [N]")
        if self.displays.pop(number, None) is None:
            raise UsageError(f"no display {number}")

    def do_ptype(self, text: str, letter: str) -> None:
        expression = text.strip()
        if not expression:
            raise UsageError("ptype EXPR|TYPE")
        ctype = self.session.scope().type_named(expression)
        if ctype is None:
            ctype = self.session.evaluate(expression).type
        self.write(f"type = {_spelled_out(ctype)}")

    def do_locals(self, text: str, letter: str) -> None:
        scope = self.session.scope()
        if text.strip() == "wasm" or not scope.has_source:
            for local in scope.view.locals():
                self.write(str(local))
            return
        if text.strip():
            raise UsageError("locals [wasm]")
        variables = scope.source_variables()
        if not variables:
            self.write("no variables in scope")
        for variable in variables:
            self.write(variable.describe(scope.read))

    def do_stack(self, text: str, letter: str) -> None:
        view = self.session.frame()
        entries = view.typed_stack()
        if not entries:
            self.write("(empty)")
        for height, entry in enumerate(entries):
            self.write(f"[{height}] {entry}")

    def do_globals(self, text: str, letter: str) -> None:
        names = type_names(self.session.invocation.func)
        for name, cell in self.session.globals():
            mutable = "mut " if cell.type.mutable else ""
            self.write(f"{name} = {mutable}{typed(cell.value, cell.type.valtype, names)}")

    def do_memory(self, text: str, letter: str) -> None:
        memory, args = _memory_selector(self.session, text.split())
        if not args:
            raise UsageError("memory [@MEM] ADDR [LEN] | memory [@MEM] ADDR COUNT TYPE")
        address = _address(self.session, args[0])
        if len(args) == 3:
            fmt, float_type = _TYPED_READS.get(args[2], (None, None))
            if fmt is None:
                raise UsageError(f"unknown type {args[2]!r} (types: {', '.join(_TYPED_READS)})")
            size = struct.calcsize(fmt)
            count = int(args[1], 0)
            data = self.session.read_memory(address, size * count, memory)
            for index in range(count):
                (value,) = struct.unpack_from(fmt, data, index * size)
                if float_type is ValType.F32:
                    value = typed(f32_from_bits(value), ValType.F32)
                elif float_type is ValType.F64:
                    value = typed(value, ValType.F64)
                self.write(f"{address + index * size:#010x}: {value}")
            return
        length = int(args[1], 0) if len(args) > 1 else 64
        data = self.session.read_memory(address, length, memory)
        for row in range(0, len(data), HEX_ROW):
            chunk = data[row:row + HEX_ROW]
            shown = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
            self.write(f"{address + row:#010x}: {chunk.hex(' '):<{HEX_ROW * 3 - 1}}  {shown}")

    def do_list(self, text: str, letter: str) -> None:
        session = self.session
        view = session.frame()
        location = session.location(view)
        if location is not None:
            for line in range(max(1, location.line - LIST_CONTEXT), location.line + LIST_CONTEXT + 1):
                source = session.source_map.source_line(type(location)(location.file, line, 0))
                if source is None:
                    continue
                marker = "=>" if line == location.line else "  "
                self.write(f"{marker} {line:5d}  {source.rstrip()}")
            return
        body = view.info.body
        first = max(0, view.pc - LIST_CONTEXT)
        for pc in range(first, min(len(body), view.pc + LIST_CONTEXT + 1)):
            marker = "=>" if pc == view.pc else "  "
            offset = f"{body[pc].offset:#06x}" if body[pc].offset >= 0 else "-"
            self.write(f"{marker} {offset}  {view.info.instruction_text(pc)}")

    # --- info ----------------------------------------------------------------------------

    def do_info(self, text: str, letter: str) -> None:
        topic = text.strip()
        topics: dict[str, Callable[[], None]] = {
            "breakpoints": self._info_breakpoints, "break": self._info_breakpoints, "b": self._info_breakpoints,
            "watchpoints": self._info_breakpoints, "locals": lambda: self._info_variables(parameters=False),
            "args": lambda: self._info_variables(parameters=True), "frame": self._info_frame,
            "display": self._info_display, "globals": lambda: self.do_globals("", ""),
        }
        shown = topics.get(topic)
        if shown is None:
            raise UsageError("info breakpoints|watchpoints|locals|args|frame|display|globals")
        shown()

    def _info_breakpoints(self) -> None:
        session = self.session
        if not session.breakpoints and not session.watchpoints:
            self.write("no breakpoints or watchpoints")
        for breakpoint in session.breakpoints.values():
            kind = "catchpoint" if breakpoint.catches else "tbreak" if breakpoint.temporary else "breakpoint"
            state = "" if breakpoint.enabled else "  [disabled]"
            condition = f"  if {breakpoint.condition}" if breakpoint.condition else ""
            self.write(f"{breakpoint.number}  {kind}  {breakpoint.description}{condition}  "
                       f"(hit {breakpoint.hits} times){state}")
        for watchpoint in session.watchpoints.values():
            self.write(f"{watchpoint.number}  watchpoint  {watchpoint.description}  "
                       f"(now {watchpoint.show(watchpoint.last)})")
        self.write("stop on trap: yes")  # always: a trapped call cannot go on

    def _info_variables(self, parameters: bool) -> None:
        scope = self.session.scope()
        if not scope.has_source:
            locals_ = [local for local in scope.view.locals()
                       if (local.index < scope.view.info.param_count) == parameters]
            for local in locals_:
                self.write(str(local))
            if not locals_:
                self.write("no arguments" if parameters else "no locals")
            return
        variables = [variable for variable in scope.source_variables() if variable.parameter == parameters]
        for variable in variables:
            self.write(variable.describe(scope.read))
        if not variables:
            self.write("no arguments" if parameters else "no locals")

    def _info_frame(self) -> None:
        session = self.session
        view = session.frame()
        number = session.selected
        self.write(f"frame #{number}: {self._frame_line(view)}")
        self.write(f"  function {view.func.describe()} (index {view.func.index}), instruction {view.pc} of "
                   f"{len(view.info.body)}: {view.instruction_text}")
        frames = session.backtrace()
        if number + 1 < len(frames):
            self.write(f"  called by frame #{number + 1}: {self._frame_line(frames[number + 1])}")
        else:
            self.write("  the outermost frame of the call")
        if number:
            self.write(f"  calls frame #{number - 1}: {frames[number - 1].func.describe()}")
        params = view.info.param_count
        self.write(f"  {params} parameters, {len(view.info.local_types) - params} locals, "
                   f"operand stack height {len(view.info.stack_types(view.pc))}")
        scope = session.scope()
        if scope.has_source and scope.debug_variables is not None:
            base = scope.frame_base()
            if base is not None:
                self.write(f"  frame base {base:#x} (linear memory)")

    def _info_display(self) -> None:
        if not self.displays:
            self.write("no displays")
        for number, (expression, letter, _) in sorted(self.displays.items()):
            self.write(f"{number}: {'/' + letter + ' ' if letter else ''}{expression}")

    def do_help(self, text: str, letter: str) -> None:
        word = text.strip()
        if not word:
            self.write(command_help(tuple(self.table)))
            self.write("An empty line repeats the last stepping or running command.")
            return
        found = self.commands.get(word)
        if found is None:
            raise UsageError(f"no command {word!r}")
        self.write(command_help((found[0],)).strip())

    def do_quit(self, text: str, letter: str) -> None:
        raise QuitDebugger()


# --- parsing helpers ---------------------------------------------------------------------


def split_condition(text: str) -> tuple[str, str | None]:
    """``LOCATION if COND`` -> the location and the condition."""
    words = text.split()
    if "if" in words:
        index = words.index("if")
        condition = " ".join(words[index + 1:])
        if not condition:
            raise UsageError("a condition is needed after 'if'")
        return " ".join(words[:index]), condition
    return text.strip(), None


def parse_count(text: str) -> int:
    if not text.strip():
        return 1
    count = int(text.strip(), 0)
    if count < 1:
        raise UsageError("the count must be at least 1")
    return count


def parse_number(text: str, usage: str) -> int:
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise UsageError(usage) from None


def is_integer(text: str) -> bool:
    try:
        int(text, 0)
    except ValueError:
        return False
    return True


def _memory_selector(session: DebugSession, args: list[str]) -> tuple[int, list[str]]:
    """``@MEM`` before an address picks a memory (multi-memory): its index,
    and the arguments after it; memory 0 without one."""
    if args and args[0].startswith("@"):
        return session.memory_index(args[0][1:]), args[1:]
    return 0, args


def _address(session: DebugSession, text: str) -> int:
    """An address: a number, or an expression (``&here``, ``box.name``)."""
    if is_integer(text):
        return int(text, 0)
    value = session.evaluate(text)
    resolved = value.type.resolved()
    if isinstance(resolved, PointerType) or (isinstance(resolved, BaseType) and not resolved.is_float):
        return int.from_bytes(value.storage.data[:resolved.size], "little")
    if value.storage.address is not None:
        return value.storage.address
    raise UsageError(f"{text} is not an address")


def _spelled_out(ctype: CType) -> str:
    """A type for ``ptype``: structs with their members."""
    resolved = ctype.resolved()
    if isinstance(resolved, StructType):
        members = "".join(f"    {declaration(member.type, member.name)}"
                          f"{f' : {member.bit_size}' if member.bit_size else ''};\n" for member in resolved.members)
        return f"{resolved} {{\n{members}}}"
    return str(ctype)
