"""A debugging session over one call: stepping, breakpoints (conditional and
temporary), watchpoints, inspection at source level, and reverse execution.

The session runs the call on the store's step machine, paused between
instructions.  ``position`` counts the instructions executed so far; every
command moves it forward or back and returns a ``Stop`` saying why it stopped.

Breakpoints cost nothing until they are reached: the instruction at a
breakpoint is swapped, in the copy of a function's handlers that runs while
pausing (``BoundFunction.stepping``), for one that asks the machine to stop
before it.  So ``continue`` runs at the step machine's handler speed.  A
breakpoint's condition is an expression (expressions.py) evaluated in the
frame that reached it.  Watchpoints compare the watched bytes or global after
every instruction.

Host code.  Three kinds of step run code of the host: a call of a host
function; the return of guest code a generator host function asked for
(``yield caller.call(...)``), which resumes it; and the end of guest code a
plain host function called back (``Caller.invoke``), after which it goes on.
The machine stops before each (the first two by patched instructions, the
last when the called-back invocation finishes), the session runs that step
alone and takes a snapshot right after it.  A host function that takes a
caller runs on a thread of its own (host_threads.py): when it calls back into
the guest, the guest code's frames are pushed on the machine above it and
the host function waits, so stepping goes on into the guest code it called,
breakpoints there hit, and snapshots are taken there like anywhere else;
when the guest code finishes, the host function resumes.  Only one thread
runs at a time, so the run is as deterministic as without threads.

Reverse execution restores the latest snapshot (checkpoints.py) at or before
the target and runs forward to it; snapshots are taken every
``checkpoint_interval`` instructions and after every host step.  Host code
never runs twice: forward execution through recorded history (after going
back) restores the snapshot taken after each host step instead of running it,
and real execution resumes at the furthest point reached (``frontier``), where
every suspended host function and generator is exactly where it was.
Reverse execution is exact: the machine is deterministic, so going back
``n`` instructions lands on the state forward execution had there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable

from interp.debug.c_types import FormatMode, Storage, Value, format_c_value
from interp.debug.checkpoints import CheckpointLog, Snapshot, StoreState
from interp.debug.dwarf_variables import DebugVariables
from interp.debug.expressions import evaluate, tokenize, truth
from interp.debug.frames import FrameView, FunctionCatalog, function_label, type_names, typed
from interp.debug.host_threads import HostThread, NestedRunner, SessionClosed
from interp.debug.inspection import FrameScope, SourceVariable, read_memory
from interp.errors import ExecutionError, FuelExhaustedError, GlasswasmError, UsageError
from interp.exec.bind import BREAK, BoundFunction, IndirectCall
from interp.translate.lower import Return
from interp.exec.machine import Frame, HostFrame, Invocation, resolve_indirect
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.globals import GlobalInstance
from interp.runtime.memory import MemoryInstance
from interp.runtime.tag import ExceptionInstance
from interp.exec.store import Store

DEFAULT_CHECKPOINT_INTERVAL = 20_000


class StopReason(enum.Enum):
    STEP = "step"                  # the requested number of steps ran
    BREAKPOINT = "breakpoint"
    WATCHPOINT = "watchpoint"
    FINISHED = "finished"          # the call returned
    TRAP = "trap"                  # the call trapped (the frames stay to look at)
    START = "start"                # reverse execution reached the earliest recorded point


@dataclass(frozen=True)
class Stop:
    reason: StopReason
    position: int
    breakpoint: Breakpoint | None = None
    watchpoint: Watchpoint | None = None
    old_value: str | None = None
    new_value: str | None = None
    error: ExecutionError | None = None
    condition_error: str | None = None  # the breakpoint's condition could not be evaluated
    exception: str | None = None  # at a catchpoint: what is about to be thrown

    def describe(self) -> str:
        if self.reason is StopReason.BREAKPOINT and self.breakpoint is not None:
            kind = "catchpoint" if self.breakpoint.catches else \
                "temporary breakpoint" if self.breakpoint.temporary else "breakpoint"
            text = f"{kind} {self.breakpoint.number} ({self.breakpoint.description})"
            if self.exception is not None:
                text += f": {self.exception}"
            if self.condition_error is not None:
                text += f"; error in its condition: {self.condition_error}"
            return text
        if self.reason is StopReason.WATCHPOINT and self.watchpoint is not None:
            return (f"watchpoint {self.watchpoint.number} ({self.watchpoint.description}): "
                    f"{self.old_value} -> {self.new_value}")
        if self.reason is StopReason.TRAP and self.error is not None:
            return f"{self.error.label}: {self.error.message}"
        if self.reason is StopReason.START:
            return "reached the start of the recorded execution"
        return self.reason.value


@dataclass
class Breakpoint:
    """Where execution stops: before an instruction (``locations``: function
    and pc pairs), or before a call of a host function (``host``).  ``spec``
    is what it was set with (to set it again after a restart)."""

    number: int
    description: str
    locations: frozenset[tuple[int, int]] = frozenset()
    host: str | None = None
    hits: int = 0
    spec: str = ""
    condition: str | None = None
    temporary: bool = False
    enabled: bool = True

    @property
    def catches(self) -> bool:
        """A catchpoint: it stops where an exception is thrown (``catch throw``)."""
        return self.spec == CATCH_THROW


CATCH_THROW = "catch throw"
"""The spec of a catchpoint: before every ``throw``, ``throw_ref`` and ``rethrow``."""
_THROWING = frozenset({"throw", "throw_ref", "rethrow"})


@dataclass
class Watchpoint:
    number: int
    description: str
    read: Callable[[], Any]
    show: Callable[[Any], str]
    last: Any = field(default=None)
    spec: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostMarker:
    """A host function in a backtrace, between the guest frames that called
    it and the guest code it called back."""

    func: HostFunction

    def describe(self) -> str:
        return f"[host function {function_label(self.func)}]"


@dataclass(frozen=True)
class _Place:
    """What a breakpoint spec names."""

    description: str
    locations: frozenset[tuple[int, int]]
    host: str | None
    spec: str


@dataclass(frozen=True)
class _Temporary:
    """An internal stop: at ``location`` once the frame stack is no deeper
    than ``depth`` (next, finish, until)."""

    locations: frozenset[tuple[int, int]]
    depth: int


class DebugSession:
    """Debug ``func(*args)`` on ``store`` (use a fresh store per session)."""

    def __init__(self, store: Store, func: WasmFunction, args: list,
                 checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL, source_map: Any = None) -> None:
        if checkpoint_interval < 1:
            raise UsageError("checkpoint_interval must be at least 1")
        if store.observer is not None:
            raise UsageError("the store is already observed (traced, profiled or debugged)")
        self.store = store
        self.machine = store.stepper
        self.catalog = FunctionCatalog()
        self.source_map = source_map
        self.module = func.instance.module
        self.invocation = store.start(func, *args)
        self.base = self.invocation.base
        self.position = 0
        self.frontier = 0  # the furthest position really executed
        self.checkpoint_interval = checkpoint_interval
        self.error: ExecutionError | None = None
        self.breakpoints: dict[int, Breakpoint] = {}
        self.watchpoints: dict[int, Watchpoint] = {}
        self.selected = 0  # the frame inspection looks at: 0 is the innermost
        self._numbers = 0
        self._temporary: _Temporary | None = None
        self._hit: tuple[int, int] | None = None
        self._skip: tuple[int, int] | None = None
        self._hosts: list[HostThread] = []  # host calls waiting on their threads, innermost last
        self._stop_at_returns = False  # while a generator host function waits: a return may resume it
        self._variables: DebugVariables | None | bool = False  # False: not read yet
        self._state = StoreState(self.machine, self.base, store.instances)
        self._saved = (self.machine.observer, self.machine.keep_frames_on_error)
        self.machine.observer = NestedRunner()
        self.machine.keep_frames_on_error = True
        self.log = CheckpointLog()
        self.log.add(self._snapshot(after_host_call=False))
        self.machine.bind_hooks.append(self._patch)
        for frame in self.machine.frames[self.base:]:
            if type(frame) is Frame:
                self._patch(frame.bound)

    # --- state ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.invocation.finished

    @property
    def trapped(self) -> bool:
        return self.error is not None

    @property
    def results(self) -> list:
        return self.invocation.results

    @property
    def frames(self) -> list[Frame]:
        """The wasm frames, outermost first (guest code called back by host functions included)."""
        return [frame for frame in self.machine.frames[self.base:] if type(frame) is Frame]

    def view(self, frame: Frame) -> FrameView:
        return FrameView(frame, self.catalog.info(frame.func))

    @property
    def current(self) -> FrameView | None:
        """The innermost frame, about to execute its instruction at ``pc``."""
        frames = self.frames
        return self.view(frames[-1]) if frames else None

    def backtrace(self) -> list[FrameView]:
        """The frames, innermost first."""
        return [self.view(frame) for frame in reversed(self.frames)]

    def call_stack(self) -> list[FrameView | HostMarker]:
        """The frames, innermost first, with the host functions between the
        guest code they called back and the frames that called them."""
        entries: list[FrameView | HostMarker] = []
        frames = self.machine.frames
        bases = {invocation.base for invocation in self.machine.invocations if invocation.base > self.base}
        bases.update(host.waiting_for.base for host in self._hosts if host.waiting_for is not None)
        for index in range(len(frames) - 1, self.base - 1, -1):
            frame = frames[index]
            if type(frame) is HostFrame:
                entries.append(HostMarker(frame.func))
                continue
            entries.append(self.view(frame))  # type: ignore[arg-type]
            if index in bases and index > self.base and type(frames[index - 1]) is Frame:
                callee = self._host_callee(frames[index - 1])  # type: ignore[arg-type]
                if callee is not None:
                    entries.append(HostMarker(callee))
        return entries

    def frame(self, number: int | None = None) -> FrameView:
        """Frame ``number`` (0: the innermost; default: the selected one)."""
        frames = self.backtrace()
        if not frames:
            raise UsageError("the call has finished: no frames")
        number = self.selected if number is None else number
        if not 0 <= number < len(frames):
            raise UsageError(f"no frame {number} (frames 0 to {len(frames) - 1})")
        return frames[number]

    def select_frame(self, number: int) -> FrameView:
        view = self.frame(number)
        self.selected = number
        return view

    def close(self) -> None:
        """Stop debugging: unpatch every function, let waiting host functions
        go (they see an error), and forget the call."""
        if self._patch in self.machine.bind_hooks:
            self.machine.bind_hooks.remove(self._patch)
        for frame_func in self._bound_functions():
            frame_func.stepping = frame_func.code
        while self._hosts:
            host = self._hosts.pop()
            if host.waiting_for is not None:
                host.resume(SessionClosed())
        del self.machine.frames[self.base:]
        self.machine.recount_slots()
        self.machine.invocations[:] = [invocation for invocation in self.machine.invocations
                                       if invocation.base < self.base]
        self.machine.observer, self.machine.keep_frames_on_error = self._saved

    # --- breakpoints and watchpoints ---------------------------------------------------

    def _number(self) -> int:
        self._numbers += 1
        return self._numbers

    def _functions(self) -> list[WasmFunction]:
        seen: dict[int, WasmFunction] = {}
        for instance in self.store.instances:
            for func in instance.funcs:
                if isinstance(func, WasmFunction):
                    seen.setdefault(id(func), func)
        return list(seen.values())

    def _find_function(self, spec: str) -> WasmFunction:
        for func in self._functions():
            if func.name == spec or str(func.index) == spec:
                return func
        raise UsageError(f"no function {spec!r}")

    def break_at(self, spec: str, condition: str | None = None, temporary: bool = False) -> Breakpoint:
        """A breakpoint from its spec: ``FUNC``, ``*OFFSET``, ``FILE:LINE``,
        ``LINE`` (in the current file) or ``host NAME``; it stops only when
        ``condition`` (an expression) is true there, and only once when
        ``temporary``."""
        return self._set(self._place(spec), condition, temporary)

    def break_at_function(self, name: str, condition: str | None = None, temporary: bool = False) -> Breakpoint:
        """Stop at the start of the function named ``name`` (or with index ``name``)."""
        return self._set(self._function_place(name), condition, temporary)

    def break_at_offset(self, offset: int, condition: str | None = None, temporary: bool = False) -> Breakpoint:
        return self.break_at(f"*{offset:#x}", condition, temporary)

    def break_at_line(self, file: str, line: int, condition: str | None = None,
                      temporary: bool = False) -> Breakpoint:
        return self.break_at(f"{file}:{line}", condition, temporary)

    def catch_throw(self, condition: str | None = None) -> Breakpoint:
        """A catchpoint: stop before any instruction that throws an exception
        (``throw``, ``throw_ref``, the legacy ``rethrow``), as gdb's ``catch
        throw`` does.  An exception a host function throws is not one of them."""
        return self._set(self._place(CATCH_THROW), condition, False)

    def break_at_host_function(self, name: str, condition: str | None = None,
                               temporary: bool = False) -> Breakpoint:
        """Stop before any call of the host function imported as ``name``
        (``module.field`` or ``field``)."""
        return self.break_at(f"host {name}", condition, temporary)

    def _set(self, place: _Place, condition: str | None, temporary: bool) -> Breakpoint:
        if condition is not None:
            self._check_expression(condition)
        breakpoint = Breakpoint(self._number(), place.description, place.locations, place.host, spec=place.spec,
                                condition=condition, temporary=temporary)
        self.breakpoints[breakpoint.number] = breakpoint
        self._repatch()
        return breakpoint

    def locations_of(self, spec: str) -> frozenset[tuple[int, int]]:
        """The places in the code a breakpoint spec names (for ``until LOCATION``)."""
        place = self._place(spec)
        if place.host is not None:
            raise UsageError("a host function is not a place in the code")
        return place.locations

    def _place(self, spec: str) -> _Place:
        spec = spec.strip()
        if spec == CATCH_THROW:
            return _Place("throw", frozenset((id(func), pc) for func in self._functions()
                                             for pc, instruction in enumerate(self.catalog.info(func).body)
                                             if instruction.op.name in _THROWING), None, CATCH_THROW)
        if spec.startswith("host "):
            return self._host_place(spec[5:].strip())
        if spec.startswith("*"):
            try:
                offset = int(spec[1:], 0)
            except ValueError:
                raise UsageError(f"bad offset {spec[1:]!r}") from None
            return self._offset_place(offset)
        file, colon, line = spec.rpartition(":")
        if colon and line.isdigit():
            return self._line_place(file, int(line))
        if spec.isdigit() and self.source_map is not None:
            location = self.location(self.current) if self.current is not None else None
            files = self.source_map.files
            return self._line_place(location.file if location is not None else (files[0] if files else ""),
                                    int(spec))
        return self._function_place(spec)

    def _function_place(self, name: str) -> _Place:
        """The start of a function's body: past its prologue when the line
        table says where that ends (as gdb does), else its first instruction."""
        func = self._find_function(name)
        pc = self._body_start(func)
        if pc:
            location = self.source_map.location(self.catalog.info(func).body[pc].offset)
            return _Place(f"{func.describe()} at {location}", frozenset({(id(func), pc)}), None, name)
        return _Place(func.describe(), frozenset({(id(func), 0)}), None, name)

    def _body_start(self, func: WasmFunction) -> int:
        """The pc where ``func``'s body begins, past its prologue (0 when unknown)."""
        body = self.catalog.info(func).body
        if self.source_map is None or func.instance.module is not self.module or not body or body[0].offset < 0:
            return 0
        offset = self.source_map.after_prologue(body[0].offset)
        return next((pc for pc, instruction in enumerate(body) if instruction.offset == offset), 0)

    def _offset_place(self, offset: int) -> _Place:
        for func in self._functions():
            for pc, instruction in enumerate(self.catalog.info(func).body):
                if instruction.offset == offset:
                    return _Place(f"{func.describe()} @ {offset:#x}", frozenset({(id(func), pc)}), None,
                                  f"*{offset:#x}")
        raise UsageError(f"no instruction at byte offset {offset:#x}")

    def _line_place(self, file: str, line: int) -> _Place:
        if self.source_map is None:
            raise UsageError("the module has no source line information")
        offsets = set(self.source_map.offsets_for_line(file, line))
        locations = set()
        for func in self._functions():
            for pc, instruction in enumerate(self.catalog.info(func).body):
                if instruction.offset in offsets:
                    locations.add((id(func), pc))
        if not locations:
            raise UsageError(f"no code for {file}:{line}")
        return _Place(f"{file}:{line}", frozenset(locations), None, f"{file}:{line}")

    def _host_place(self, name: str) -> _Place:
        known = {label for func in self._host_functions() for label in _host_names(func)}
        if name not in known:
            raise UsageError(f"no imported host function {name!r}")
        return _Place(f"host {name}", frozenset(), name, f"host {name}")

    def _host_functions(self) -> list[HostFunction]:
        return [func for instance in self.store.instances for func in instance.funcs
                if isinstance(func, HostFunction)]

    @staticmethod
    def _check_expression(text: str) -> None:
        """Refuse an expression that cannot even be read (names are only
        known where it is evaluated)."""
        if not text.strip():
            raise UsageError("an empty condition")
        tokenize(text)

    def set_condition(self, number: int, condition: str | None) -> Breakpoint:
        breakpoint = self._breakpoint(number)
        if condition is not None:
            self._check_expression(condition)
        breakpoint.condition = condition
        return breakpoint

    def enable(self, number: int, enabled: bool = True) -> Breakpoint:
        breakpoint = self._breakpoint(number)
        breakpoint.enabled = enabled
        self._repatch()
        return breakpoint

    def _breakpoint(self, number: int) -> Breakpoint:
        breakpoint = self.breakpoints.get(number)
        if breakpoint is None:
            raise UsageError(f"no breakpoint {number}")
        return breakpoint

    def watch_memory(self, address: int, length: int = 4, memory: int = 0) -> Watchpoint:
        """Stop when ``length`` bytes at ``address`` of memory ``memory``
        (multi-memory; memory 0 by default) change."""
        self._memory(memory)
        read = read_memory(self.invocation.func.instance, memory)
        if address < 0 or length < 1:
            raise UsageError("watch needs an address and a positive length")
        if read(address, length) is None:
            raise UsageError(f"{address:#x}..+{length} is outside the memory")
        where = f"memory {memory} " if memory else "memory "
        spec = ("memory", str(address), str(length)) + ((str(memory),) if memory else ())
        return self._add_watchpoint(f"{where}{address:#x}..+{length}", lambda: read(address, length),
                                    lambda value: value.hex(" ") if value is not None else "<outside memory>",
                                    spec)

    def watch_global(self, spec: str) -> Watchpoint:
        instance = self.invocation.func.instance
        names = instance.module.names.globals
        for index, cell in enumerate(instance.globals):
            if spec in (str(index), names.get(index)):
                shown = type_names(self.invocation.func)
                return self._add_watchpoint(f"global {names.get(index, index)}", lambda c=cell: c.value,
                                            lambda value, c=cell: typed(value, c.type.valtype, shown),
                                            ("global", spec))
        raise UsageError(f"no global {spec!r}")

    def watch_expression(self, text: str) -> Watchpoint:
        """Watch what ``text`` names in memory (a variable, ``*ptr``,
        ``box.origin``): its bytes, shown as its type reads them."""
        value = self.evaluate(text)
        address, size = value.storage.address, value.type.byte_size()
        if address is None or size <= 0:
            raise UsageError(f"{text} is not in memory: watch a global with 'watch global NAME'")
        read = read_memory(self.invocation.func.instance)
        ctype = value.type

        def show(data: bytes | None) -> str:
            if data is None:
                return "<outside memory>"
            return format_c_value(Value(ctype, Storage.of(data, address)), read)

        return self._add_watchpoint(f"{text} ({ctype} at {address:#x})", lambda: read(address, size), show,
                                    ("expression", text))

    def _add_watchpoint(self, description: str, read: Callable[[], Any], show: Callable[[Any], str],
                        spec: tuple[str, ...]) -> Watchpoint:
        watchpoint = Watchpoint(self._number(), description, read, show, read(), spec)
        self.watchpoints[watchpoint.number] = watchpoint
        return watchpoint

    def delete(self, number: int | None = None) -> None:
        """Delete breakpoint or watchpoint ``number``, or all of them."""
        if number is None:
            self.breakpoints.clear()
            self.watchpoints.clear()
        elif self.breakpoints.pop(number, None) is None and self.watchpoints.pop(number, None) is None:
            raise UsageError(f"no breakpoint or watchpoint {number}")
        self._repatch()

    def adopt(self, other: DebugSession) -> list[str]:
        """Set the breakpoints and watchpoints of ``other`` (a session on the
        same module, before a restart) again here, with the same numbers;
        what cannot be set again is returned as messages."""
        problems = []
        self._numbers = other._numbers
        items: list[tuple[int, Breakpoint | Watchpoint]] = sorted(
            [*other.breakpoints.items(), *other.watchpoints.items()], key=lambda item: item[0])
        for number, item in items:
            try:
                if isinstance(item, Breakpoint):
                    copy = self.break_at(item.spec, item.condition, item.temporary)
                    copy.enabled = item.enabled
                    del self.breakpoints[copy.number]
                    copy.number = number
                    self.breakpoints[number] = copy
                else:
                    kind, *arguments = item.spec
                    if kind == "memory":
                        watch = self.watch_memory(*(int(argument) for argument in arguments))
                    elif kind == "global":
                        watch = self.watch_global(arguments[0])
                    else:
                        watch = self.watch_expression(arguments[0])
                    del self.watchpoints[watch.number]
                    watch.number = number
                    self.watchpoints[number] = watch
            except GlasswasmError as error:
                problems.append(f"{number}: {error}")
        self._numbers = max([other._numbers, *self.breakpoints, *self.watchpoints])
        self._repatch()
        return problems

    # --- patching ------------------------------------------------------------------------

    def _bound_functions(self) -> list[BoundFunction]:
        return [func.bound for func in self._functions() if func.bound is not None]

    def _repatch(self) -> None:
        for bound in self._bound_functions():
            self._patch(bound)

    def _patch(self, bound: BoundFunction) -> None:
        """Make ``bound.stepping`` the handlers with stops at every breakpoint,
        temporary stop, host call and return of this function."""
        func_key = id(bound.func)
        stops = {pc for breakpoint in self.breakpoints.values() if breakpoint.enabled
                 for key, pc in breakpoint.locations if key == func_key}
        if self._temporary is not None:
            stops.update(pc for key, pc in self._temporary.locations if key == func_key)
        stops.update(pc for pc, site in bound.sites.items() if self._may_call_host(site))
        if self._stop_at_returns:
            stops.update(pc for pc, imm in enumerate(bound.lowered.imms) if _may_return(imm))
        stepping = list(bound.code)
        for pc in stops:
            stepping[pc] = self._stop_before(bound, pc, bound.code[pc])
        bound.stepping = stepping

    def _watch_returns(self) -> None:
        """Stop before returns exactly while a generator host function waits
        (only then can a return run host code), so ``continue`` pays for the
        stops only then."""
        waiting = any(type(frame) is HostFrame for frame in self.machine.frames[self.base:])
        if waiting != self._stop_at_returns:
            self._stop_at_returns = waiting
            self._repatch()

    @staticmethod
    def _may_call_host(site: Any) -> bool:
        return isinstance(site, (HostFunction, IndirectCall))

    def _stop_before(self, bound: BoundFunction, pc: int, original: Callable[[list, object], int]
                     ) -> Callable[[list, object], int]:
        key = (id(bound.func), pc)
        session = self

        def stop(R: list, A: object) -> int:
            if session._should_stop(key, bound, pc, R):
                session._hit = key
                return BREAK
            return original(R, A)
        return stop

    def _should_stop(self, key: tuple[int, int], bound: BoundFunction, pc: int, R: list) -> bool:
        if self._skip == key:
            self._skip = None
            return False
        site = bound.sites.get(pc)
        if site is not None and self._site_callee(site, R) is not None:
            return True  # a host call: stop to run it alone and take a snapshot after it
        frames = self.machine.frames
        if _may_return(bound.lowered.imms[pc]) and len(frames) > 1 and type(frames[-2]) is HostFrame:
            return True  # returning to a generator host function resumes it: a host step too
        if any(key in breakpoint.locations for breakpoint in self.breakpoints.values() if breakpoint.enabled):
            return True
        temporary = self._temporary
        return temporary is not None and key in temporary.locations and \
            len(self.machine.frames) - self.base <= temporary.depth

    @staticmethod
    def _site_callee(site: Any, R: list) -> HostFunction | None:
        if isinstance(site, HostFunction):
            return site
        if isinstance(site, IndirectCall):
            try:
                callee = resolve_indirect(site, R)
            except ExecutionError:
                return None
            return callee if isinstance(callee, HostFunction) else None
        return None

    def _host_callee(self, frame: Frame) -> HostFunction | None:
        site = frame.bound.sites.get(frame.pc)
        return self._site_callee(site, frame.regs) if site is not None else None

    # --- running forward ------------------------------------------------------------------

    def _snapshot(self, after_host_call: bool) -> Snapshot:
        return self._state.take(self.position, after_host_call, self.invocation.finished,
                                self.invocation.results, self.log.latest())

    def _running(self) -> Invocation | None:
        """The invocation the machine runs now: the debugged one, or guest code a host function called back."""
        invocations = self.machine.invocations
        if invocations and invocations[-1].base >= self.base:
            return invocations[-1]
        return None

    def _run(self, steps: int) -> None:
        """Run at most ``steps`` instructions of the running invocation,
        counting them.  When guest code a host function called back
        finishes, the host function goes on (a host step)."""
        invocation = self._running()
        if invocation is None:
            return
        machine = self.machine
        before = machine.fuel
        self._hit = None
        try:
            invocation.run(steps)
        except ExecutionError as error:
            self.error = error
            if not isinstance(error, FuelExhaustedError):
                before -= 1  # the instruction that trapped did not complete: it does not count
        except BaseException:  # interrupted: stay where it stopped, runnable
            self._make_runnable(invocation)
            raise
        finally:
            self.position += before - machine.fuel
            self.frontier = max(self.frontier, self.position)
        if invocation is not self.invocation and invocation.finished:
            self._host_goes_on(self._host_waiting_for(invocation))
            self.log.add(self._snapshot(after_host_call=True))

    def _make_runnable(self, invocation: Invocation) -> None:
        """An invocation stopped by an interruption (not by the guest) can go on from where it is."""
        invocation.abandoned = False
        invocation.error = None
        if invocation not in self.machine.invocations:
            self.machine.invocations.append(invocation)

    def _host_waiting_for(self, invocation: Invocation) -> HostThread:
        for host in self._hosts:
            if host.waiting_for is invocation:
                return host
        raise UsageError("guest code called back by a host function lost its host function")

    def _host_goes_on(self, host: HostThread, error: BaseException | None = None) -> None:
        """Resume ``host`` (the guest code it waited for is over) and follow
        what it does next."""
        self._follow_host(host, host.resume(error))

    def _follow_host(self, host: HostThread, event: tuple[str, Any]) -> None:
        kind, payload = event
        if kind == "nested":
            return  # it called back again: that guest code runs on the machine now
        self._hosts.remove(host)
        if kind == "error":
            if isinstance(payload, ExecutionError):
                self.error = payload
            else:
                raise payload

    def _current_host_callee(self) -> HostFunction | None:
        frames = self.frames
        if not frames:
            return None
        return self._host_callee(frames[-1])

    def _host_step_ahead(self) -> bool:
        """Whether the next instruction runs host code: a host call, or a
        return into a generator host function."""
        if self._current_host_callee() is not None:
            return True
        frames = self.machine.frames
        if len(frames) < 2 or type(frames[-1]) is not Frame or type(frames[-2]) is not HostFrame:
            return False
        top = frames[-1]
        return _may_return(top.bound.lowered.imms[top.pc])  # type: ignore[union-attr]

    def _host_step(self) -> Stop | None:
        """Run the host step the machine stands before, alone, and take a
        snapshot after it."""
        frame = self.frames[-1]
        self._skip = (id(frame.func), frame.pc)
        position = self.position
        callee = self._current_host_callee()
        if callee is not None and callee.takes_caller:
            running = self._running()
            self._hit = None
            host = HostThread(running)  # type: ignore[arg-type]
            self._hosts.append(host)
            try:
                self._follow_host(host, host.start())
            except BaseException:  # interrupted inside the host function: before the call again
                self._make_runnable(running)  # type: ignore[arg-type]
                raise
        else:
            self._run(1)
        if self.trapped:
            return Stop(StopReason.TRAP, self.position, error=self.error)
        # One step, however many instructions the host function ran in the guest.
        self.position = position + 1
        self.frontier = max(self.frontier, self.position)
        self.log.add(self._snapshot(after_host_call=True))
        self._watch_returns()
        return None

    def _deliver_trap(self) -> None:
        """Guest code a host function called back trapped: the host function
        gets the trap (it may handle it) as its ``Caller.invoke`` would."""
        error = self.error
        invocation = next(host.waiting_for for host in reversed(self._hosts) if host.waiting_for is not None)
        del self.machine.frames[invocation.base:]  # type: ignore[union-attr]
        self.machine.recount_slots()  # type: ignore[union-attr]
        self.error = None
        position = self.position
        self._host_goes_on(self._host_waiting_for(invocation), error)  # type: ignore[arg-type]
        self.position = position + 1
        self.frontier = max(self.frontier, self.position)
        self.log.add(self._snapshot(after_host_call=True))

    def _trap_is_nested(self) -> bool:
        return self.trapped and any(host.waiting_for is not None for host in self._hosts) and \
            self.position >= self.frontier

    def _advance(self, limit: int | None, stops: bool = True, replay: bool = False) -> Stop:
        """Run forward until ``limit`` more instructions ran (``None``: no
        limit), the call ends or traps, or — with ``stops`` — a breakpoint,
        watchpoint or temporary stop.  In a ``replay`` (re-executing recorded
        history to find or reach a point), host steps are never run: a replay
        ends before one."""
        target = None if limit is None else self.position + limit
        first = True
        self._skip = None
        self.selected = 0
        while True:
            if self.trapped:
                if replay or not first or not self._trap_is_nested():
                    return Stop(StopReason.TRAP, self.position, error=self.error)
                self._deliver_trap()  # the trap was shown: now the host function gets it
                first = False
                continue
            if self.finished:
                if not replay and self.position >= self.frontier:
                    self.log.add(self._snapshot(after_host_call=False))
                return Stop(StopReason.FINISHED, self.position)
            if target is not None and self.position >= target:
                return Stop(StopReason.STEP, self.position)
            if self.position < self.frontier:
                recorded = self.log.host_step_after(self.position)
                if recorded is not None and recorded.position == self.position + 1:
                    if stops and not first:
                        stop = self._host_breakpoint(count=not replay)
                        if stop is not None:
                            return stop
                    if replay:
                        return Stop(StopReason.STEP, self.position)
                    self._restore(recorded)  # host code ran here once: never again
                    first = False
                    if stops and self.watchpoints:
                        stop = self._check_watchpoints()
                        if stop is not None:
                            return stop
                    continue
            elif self._host_step_ahead() and (first or self._hit is not None):
                if replay:
                    return Stop(StopReason.STEP, self.position)
                stop = self._host_step()
                if stop is None and stops and self.watchpoints:
                    stop = self._check_watchpoints()
                if stop is not None:
                    return stop
                first = False
                self._hit = None
                continue
            current = self.current
            if first and current is not None:
                self._skip = (id(current.func), current.pc)  # do not stop again where we stand
            first = False
            next_checkpoint = (self.position // self.checkpoint_interval + 1) * self.checkpoint_interval
            chunk = next_checkpoint - self.position
            if target is not None:
                chunk = min(chunk, target - self.position)
            if self.position < self.frontier:
                recorded = self.log.host_step_after(self.position)
                if recorded is not None:
                    chunk = min(chunk, recorded.position - 1 - self.position)
            if stops and self.watchpoints:
                chunk = 1
            self._run(chunk)
            if self._hit is not None:
                if stops:
                    stop = self._host_breakpoint(count=not replay) if self._host_step_ahead() else None
                    stop = stop or self._breakpoint_stop(count=not replay)
                    if stop is not None:
                        self._hit = None
                        return stop
                if self._host_step_ahead() and self.position >= self.frontier:
                    continue  # the loop runs the host step alone
                self._skip, self._hit = self._hit, None  # not stopping here: run past it
                continue
            if stops and self.watchpoints and not self.trapped:
                stop = self._check_watchpoints()
                if stop is not None:
                    return stop
            if not replay and self.position >= self.frontier and self.position % self.checkpoint_interval == 0 \
                    and not self.trapped:
                self.log.add(self._snapshot(after_host_call=False))

    def _host_breakpoint(self, count: bool) -> Stop | None:
        callee = self._current_host_callee()
        if callee is None:
            return None
        for breakpoint in list(self.breakpoints.values()):
            if breakpoint.enabled and breakpoint.host is not None and breakpoint.host in _host_names(callee):
                stop = self._conditional_stop(breakpoint, count)
                if stop is not None:
                    self._hit = None
                    return stop
        return None

    def _breakpoint_stop(self, count: bool) -> Stop | None:
        """The stop the machine stopped for (``count``: a first-time hit, not a
        replay of history)."""
        key = self._hit
        for breakpoint in list(self.breakpoints.values()):
            if breakpoint.enabled and key in breakpoint.locations:
                stop = self._conditional_stop(breakpoint, count)
                if stop is not None:
                    return stop
        temporary = self._temporary
        if temporary is not None and key in temporary.locations and \
                len(self.machine.frames) - self.base <= temporary.depth:
            return Stop(StopReason.STEP, self.position)
        return None

    def _conditional_stop(self, breakpoint: Breakpoint, count: bool) -> Stop | None:
        """A stop at ``breakpoint`` if its condition holds (or cannot be
        evaluated: then it stops and says why, as gdb does)."""
        problem = None
        if breakpoint.condition is not None:
            try:
                if not truth(self.evaluate(breakpoint.condition, 0)):
                    return None
            except GlasswasmError as error:
                problem = str(error)
        if count:
            breakpoint.hits += 1
            if breakpoint.temporary:
                del self.breakpoints[breakpoint.number]
                self._repatch()
        exception = self._about_to_throw() if breakpoint.catches else None
        return Stop(StopReason.BREAKPOINT, self.position, breakpoint=breakpoint, condition_error=problem,
                    exception=exception)

    def _about_to_throw(self) -> str | None:
        """What the instruction the machine stopped before throws."""
        frame = self.machine.frames[-1]
        if type(frame) is not Frame:
            return None
        lowered = frame.bound.lowered
        name = lowered.ops[frame.pc].name
        imm = lowered.imms[frame.pc]
        top = lowered.num_locals + lowered.heights[frame.pc]
        if name == "throw":
            tag = frame.func.instance.tags[imm]
            exception = ExceptionInstance(tag, frame.regs[top - len(tag.type.params):top])
        else:
            exception = frame.regs[top - 1] if name == "throw_ref" else frame.regs[lowered.num_locals + imm]
        return exception.describe() if exception is not None else "null exception reference"

    def _check_watchpoints(self) -> Stop | None:
        for watchpoint in self.watchpoints.values():
            value = watchpoint.read()
            if value != watchpoint.last:
                old, watchpoint.last = watchpoint.last, value
                return Stop(StopReason.WATCHPOINT, self.position, watchpoint=watchpoint,
                            old_value=watchpoint.show(old), new_value=watchpoint.show(value))
        return None

    # --- commands ---------------------------------------------------------------------------

    def step(self, count: int = 1) -> Stop:
        """Execute ``count`` instructions (into calls, and into guest code
        host functions call back)."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        return self._advance(count)

    def continue_(self) -> Stop:
        """Run to the next breakpoint, watchpoint, trap or the end."""
        return self._advance(None)

    def next(self, count: int = 1) -> Stop:
        """Execute ``count`` instructions of this frame, calls running to their end."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        stop = Stop(StopReason.STEP, self.position)
        for _ in range(count):
            stop = self._over_one()
            if stop.reason is not StopReason.STEP:
                return stop
        return stop

    def _over_one(self) -> Stop:
        current = self.current
        if current is None or current.frame.bound.sites.get(current.pc) is None:
            return self._advance(1)
        depth = len(self.machine.frames) - self.base
        return self._run_to(frozenset({(id(current.func), current.pc + 1)}), depth)

    def finish(self) -> Stop:
        """Run until the current function returns to its caller."""
        frames = self.frames
        if len(frames) < 2:
            return self._advance(None)
        caller = frames[-2]
        depth = self.machine.frames.index(caller) + 1 - self.base
        return self._run_to(frozenset({(id(caller.func), caller.pc + 1)}), depth)

    def until(self, locations: frozenset[tuple[int, int]] = frozenset()) -> Stop:
        """Without ``locations``: run until an instruction after this one in
        this frame (past a loop's backward jump), or until it returns.  With
        them: until one of them is reached in this frame or an outer one, or
        this frame returns."""
        current = self.current
        if current is None:
            return self._advance(None)
        frames = self.frames
        depth = len(self.machine.frames) - self.base
        targets = set(locations)
        if len(frames) > 1:
            targets.add((id(frames[-2].func), frames[-2].pc + 1))
        if locations:
            return self._run_to(frozenset(targets), depth)
        start = current.offset if current.offset is not None else current.pc
        frame = current.frame
        while True:
            stop = self._over_one()
            here = self.current
            if stop.reason is not StopReason.STEP or here is None or here.frame is not frame:
                return stop
            if (here.offset if here.offset is not None else here.pc) > start:
                return stop

    def _run_to(self, locations: frozenset, depth: int) -> Stop:
        self._temporary = _Temporary(locations, depth)
        self._repatch()
        try:
            return self._advance(None)
        finally:
            self._temporary = None
            self._repatch()

    # --- source lines ----------------------------------------------------------------------

    def location(self, view: FrameView | None = None) -> Any:
        view = view or self.current
        if view is None or self.source_map is None or view.offset is None:
            return None
        return self.source_map.location(view.offset)

    def step_line(self, over: bool = False) -> Stop:
        """Execute until the next source line begins (``over``: calls run to
        their end).  Returning to the caller stops there at once, in the middle
        of its line, as gdb does."""
        start = self.location()
        start_line = (start.file, start.line) if start is not None else None
        depth = len(self.frames)
        while True:
            stop = self._over_one() if over else self._advance(1)
            if stop.reason is not StopReason.STEP:
                return stop
            if len(self.frames) < depth:
                return stop
            if len(self.frames) > depth:
                return self._past_prologue()
            here = self.location()
            if here is None or ((here.file, here.line) == start_line and len(self.frames) == depth):
                continue
            current = self.current
            if current is None or current.offset is None or self.source_map.is_statement(current.offset):
                return stop

    def _past_prologue(self) -> Stop:
        """Just stepped into a function: on to where its body begins."""
        current = self.current
        stop = Stop(StopReason.STEP, self.position)
        if current is None:
            return stop
        body_start = self._body_start(current.func)
        frame = current.frame
        while self.current is not None and self.current.frame is frame and self.current.pc < body_start:
            stop = self._advance(1)
            if stop.reason is not StopReason.STEP:
                return stop
        return stop

    def until_line(self) -> Stop:
        """``until`` by source lines: like ``step_line(over=True)``, but not
        stopping at a line at or before this one in this frame (so a loop runs
        to its end)."""
        start = self.location()
        frame = self.current.frame if self.current is not None else None
        if start is None:
            return self.until()
        while True:
            stop = self.step_line(over=True)
            here = self.location()
            current = self.current
            if stop.reason is not StopReason.STEP or current is None or current.frame is not frame or here is None:
                return stop
            if here.file != start.file or here.line > start.line:
                return stop

    # --- reverse ----------------------------------------------------------------------------

    def reverse_step(self, count: int = 1) -> Stop:
        """Go back ``count`` instructions."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        self.selected = 0
        target = self.position - count
        if target < self.log.horizon:
            self._go_to(self.log.horizon)
            return Stop(StopReason.START, self.position)
        self._go_to(target)
        return Stop(StopReason.STEP, self.position)

    def reverse_continue(self) -> Stop:
        """Go back to the latest breakpoint or watchpoint hit before here."""
        self.selected = 0
        end = self.position
        segment_end = end
        while segment_end > self.log.horizon:
            snapshot = self.log.at_or_before(segment_end - 1)
            if snapshot is None:
                break
            hits = self._hits_between(snapshot, segment_end)
            if hits:
                position, stop = hits[-1]
                self._go_to(position)
                return Stop(stop.reason, self.position, breakpoint=stop.breakpoint, watchpoint=stop.watchpoint,
                            old_value=stop.old_value, new_value=stop.new_value)
            segment_end = snapshot.position
        self._go_to(self.log.horizon)
        return Stop(StopReason.START, self.position)

    def _hits_between(self, snapshot: Snapshot, end: int) -> list[tuple[int, Stop]]:
        """Every breakpoint or watchpoint stop from ``snapshot`` to before
        ``end``, found by running that stretch again."""
        self._restore(snapshot)
        for watchpoint in self.watchpoints.values():
            watchpoint.last = watchpoint.read()
        hits = []
        here = self._breakpoint_here() if snapshot.position else None  # the call's start is no hit
        if here is not None and snapshot.position < end:
            hits.append((snapshot.position, here))
        while self.position < end and not self.finished and not self.trapped:
            stop = self._advance(end - self.position, replay=True)
            if stop.reason not in (StopReason.BREAKPOINT, StopReason.WATCHPOINT):
                break
            if stop.position < end:
                hits.append((stop.position, stop))
            if self._current_host_callee() is not None and stop.reason is StopReason.BREAKPOINT and \
                    stop.breakpoint is not None and stop.breakpoint.host is not None:
                break  # the replay cannot go past a host call; a later snapshot covers the rest
        return hits

    def _breakpoint_here(self) -> Stop | None:
        """The breakpoint the current instruction is at, if its condition
        holds (a stretch of history replayed from a snapshot starts past it)."""
        current = self.current
        if current is None:
            return None
        stop = self._host_breakpoint(count=False)
        if stop is None:
            saved, self._hit = self._hit, (id(current.func), current.pc)
            stop = self._breakpoint_stop(count=False)
            self._hit = saved
        return stop if stop is not None and stop.reason is StopReason.BREAKPOINT else None

    def _go_to(self, position: int) -> None:
        snapshot = self.log.at_or_before(position)
        if snapshot is None:
            raise UsageError("no recorded state to go back to")
        self._restore(snapshot)
        if position > self.position:
            self._advance(position - self.position, stops=False, replay=True)
        for watchpoint in self.watchpoints.values():
            watchpoint.last = watchpoint.read()

    def _restore(self, snapshot: Snapshot) -> None:
        self._state.restore(snapshot)
        self.position = snapshot.position
        self.error = None
        self.invocation.finished = snapshot.finished
        self.invocation.results = list(snapshot.results)
        self._watch_returns()

    # --- inspection -------------------------------------------------------------------------

    def globals(self) -> list[tuple[str, GlobalInstance]]:
        instance = self.invocation.func.instance
        names = instance.module.names.globals
        return [(names.get(index, f"global[{index}]"), cell) for index, cell in enumerate(instance.globals)]

    def read_memory(self, address: int, length: int, memory: int = 0) -> bytes:
        """``length`` bytes at ``address`` of memory ``memory`` (memory 0 by default)."""
        instance_memory = self._memory(memory)
        data = instance_memory.data
        if address < 0 or length < 0 or address + length > len(data):
            raise UsageError(f"{address:#x}..+{length} is outside the memory ({len(data)} bytes)")
        return bytes(data[address:address + length])

    def _memory(self, index: int) -> MemoryInstance:
        memories = self.invocation.func.instance.memories
        if not memories:
            raise UsageError("the module has no memory")
        if not 0 <= index < len(memories):
            raise UsageError(f"no memory {index} (the module has {len(memories)})")
        return memories[index]

    def memory_index(self, text: str) -> int:
        """A memory named as ``N`` or by its ``$name`` (the name section's)."""
        names = self.invocation.func.instance.module.names.memories
        for index, name in sorted(names.items()):
            if text in (name, f"${name}"):
                return index
        try:
            index = int(text, 0)
        except ValueError:
            raise UsageError(f"no memory {text}") from None
        self._memory(index)
        return index

    @property
    def debug_variables(self) -> DebugVariables | None:
        """The module's DWARF variables (read on first use), or None."""
        if self._variables is False:
            self._variables = None
            if self.source_map is not None:
                self._variables = DebugVariables.for_module(self.module, self.source_map.code_start)
        return self._variables  # type: ignore[return-value]

    def scope(self, frame: int | None = None) -> FrameScope:
        """Frame ``frame`` (default: the selected one) at source level."""
        view = self.frame(frame)
        variables = self.debug_variables if view.func.instance.module is self.module else None
        return FrameScope(view, variables)

    def source_variables(self, frame: int | None = None) -> list[SourceVariable]:
        """The source variables in scope in a frame (empty without DWARF)."""
        return self.scope(frame).source_variables()

    def evaluate(self, expression: str, frame: int | None = None) -> Value:
        """The value of ``expression`` (expressions.py) in a frame (default: the selected one)."""
        return evaluate(expression, self.scope(frame))

    def format(self, value: Value, mode: FormatMode = FormatMode.NATURAL) -> str:
        return format_c_value(value, read_memory(self.invocation.func.instance), mode)


def _host_names(func: HostFunction) -> set[str]:
    name = func.name or ""
    return {name, name.rpartition(".")[2]} - {""}


def _may_return(imm: Any) -> bool:
    """Whether an instruction with lowered immediate ``imm`` can leave its
    function (``return``, the final ``end``, a branch to the function's label)."""
    if isinstance(imm, Return):
        return True
    if isinstance(imm, tuple) and imm and isinstance(imm[0], tuple):  # br_table
        return isinstance(imm[1], Return) or any(isinstance(entry, Return) for entry in imm[0])
    return False
