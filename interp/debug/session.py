"""A debugging session over one call: stepping, breakpoints, watchpoints,
inspection, and reverse execution.

The session runs the call on the store's step machine, paused between
instructions.  ``position`` counts the instructions executed so far; every
command moves it forward or back and returns a ``Stop`` saying why it stopped.

Breakpoints cost nothing until they are reached: the instruction at a
breakpoint is swapped, in the copy of a function's closures that runs while
pausing (``BoundFunction.stepping``), for one that asks the machine to stop
before it.  So ``continue`` runs at the step machine's closure speed.
Watchpoints compare the watched bytes or global after every instruction.

Reverse execution restores the latest snapshot (checkpoints.py) at or before
the target and runs forward to it.  Snapshots are taken every
``checkpoint_interval`` instructions and right after every host call (host
functions are never run twice: the machine stops before each one, runs it,
and takes a snapshot).  Reverse execution is exact: the machine is
deterministic, so going back ``n`` instructions lands on the state forward
execution had there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable

from interp.debug.checkpoints import CheckpointLog, Snapshot, StoreState
from interp.debug.frames import FrameView, FunctionCatalog, typed
from interp.errors import ExecutionError, FuelExhaustedError, UsageError
from interp.exec.bind import BREAK, BoundFunction, IndirectCall
from interp.exec.machine import Frame, resolve_indirect
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.globals import GlobalInstance
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

    def describe(self) -> str:
        if self.reason is StopReason.BREAKPOINT and self.breakpoint is not None:
            return f"breakpoint {self.breakpoint.number} ({self.breakpoint.description})"
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
    index and pc pairs), or before a call of a host function (``host``)."""

    number: int
    description: str
    locations: frozenset[tuple[int, int]] = frozenset()
    host: str | None = None
    hits: int = 0


@dataclass
class Watchpoint:
    number: int
    description: str
    read: Callable[[], Any]
    show: Callable[[Any], str]
    last: Any = field(default=None)


@dataclass(frozen=True)
class _Temporary:
    """An internal stop: at ``location`` once the frame stack is no deeper
    than ``depth`` (next, finish)."""

    locations: frozenset[tuple[int, int]]
    depth: int


class DebugSession:
    """Debug ``func(*args)`` on ``store`` (use a fresh store per session)."""

    def __init__(self, store: Store, func: WasmFunction, args: list,
                 checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL, source_map: Any = None) -> None:
        if checkpoint_interval < 1:
            raise UsageError("checkpoint_interval must be at least 1")
        self.store = store
        self.machine = store.stepper
        self.catalog = FunctionCatalog()
        self.source_map = source_map
        self.invocation = store.start(func, *args)
        self.base = self.invocation.base
        self.position = 0
        self.checkpoint_interval = checkpoint_interval
        self.error: ExecutionError | None = None
        self.breakpoints: dict[int, Breakpoint] = {}
        self.watchpoints: dict[int, Watchpoint] = {}
        self._numbers = 0
        self._temporary: _Temporary | None = None
        self._hit: tuple[int, int] | None = None
        self._skip: tuple[int, int] | None = None
        self._state = StoreState(self.machine, self.base, store.instances)
        self.log = CheckpointLog()
        self.log.add(self._snapshot(after_host_call=False))
        self.machine.bind_hooks.append(self._patch)
        for frame in self.machine.frames[self.base:]:
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

    def close(self) -> None:
        """Stop debugging: unpatch every function and forget the call."""
        if self._patch in self.machine.bind_hooks:
            self.machine.bind_hooks.remove(self._patch)
        for frame_func in self._bound_functions():
            frame_func.stepping = frame_func.code
        if not self.invocation.finished:
            del self.machine.frames[self.base:]
            if self.invocation in self.machine.invocations:
                self.machine.invocations.remove(self.invocation)

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

    def break_at_function(self, spec: str) -> Breakpoint:
        func = self._find_function(spec)
        return self._add_breakpoint(f"{func.describe()}", frozenset({(id(func), 0)}))

    def break_at_offset(self, offset: int) -> Breakpoint:
        for func in self._functions():
            body = self.catalog.info(func).body
            for pc, instruction in enumerate(body):
                if instruction.offset == offset:
                    return self._add_breakpoint(f"{func.describe()} @ {offset:#x}", frozenset({(id(func), pc)}))
        raise UsageError(f"no instruction at byte offset {offset:#x}")

    def break_at_line(self, file: str, line: int) -> Breakpoint:
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
        return self._add_breakpoint(f"{file}:{line}", frozenset(locations))

    def break_at_host_function(self, name: str) -> Breakpoint:
        """Stop before any call of the host function imported as ``name``
        (``module.field`` or ``field``)."""
        known = {label for func in self._host_functions() for label in _host_names(func)}
        if name not in known:
            raise UsageError(f"no imported host function {name!r}")
        return self._add_breakpoint(f"host {name}", frozenset(), host=name)

    def _host_functions(self) -> list[HostFunction]:
        return [func for instance in self.store.instances for func in instance.funcs
                if isinstance(func, HostFunction)]

    def _add_breakpoint(self, description: str, locations: frozenset, host: str | None = None) -> Breakpoint:
        breakpoint = Breakpoint(self._number(), description, locations, host)
        self.breakpoints[breakpoint.number] = breakpoint
        self._repatch()
        return breakpoint

    def watch_memory(self, address: int, length: int = 4) -> Watchpoint:
        memory = self.invocation.func.instance.memory
        if memory is None:
            raise UsageError("the module has no memory")
        if address < 0 or length < 1:
            raise UsageError("watch needs an address and a positive length")

        def read() -> bytes:
            return bytes(memory.data[address:address + length])

        return self._add_watchpoint(f"memory {address:#x}..+{length}", read, lambda value: value.hex(" "))

    def watch_global(self, spec: str) -> Watchpoint:
        instance = self.invocation.func.instance
        names = instance.module.names.globals
        for index, cell in enumerate(instance.globals):
            if spec in (str(index), names.get(index)):
                return self._add_watchpoint(f"global {names.get(index, index)}", lambda c=cell: c.value,
                                            lambda value, c=cell: typed(value, c.type.valtype))
        raise UsageError(f"no global {spec!r}")

    def _add_watchpoint(self, description: str, read: Callable[[], Any], show: Callable[[Any], str]) -> Watchpoint:
        watchpoint = Watchpoint(self._number(), description, read, show, read())
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

    # --- patching ------------------------------------------------------------------------

    def _bound_functions(self) -> list[BoundFunction]:
        return [func.bound for func in self._functions() if func.bound is not None]

    def _repatch(self) -> None:
        for bound in self._bound_functions():
            self._patch(bound)

    def _patch(self, bound: BoundFunction) -> None:
        """Make ``bound.stepping`` the closures with stops at every breakpoint,
        temporary stop and host call of this function."""
        func_key = id(bound.func)
        stops = {pc for breakpoint in self.breakpoints.values() for key, pc in breakpoint.locations
                 if key == func_key}
        if self._temporary is not None:
            stops.update(pc for key, pc in self._temporary.locations if key == func_key)
        stops.update(pc for pc, site in enumerate(bound.sites) if site is not None and self._may_call_host(site))
        if not stops:
            bound.stepping = bound.code
            return
        stepping = list(bound.code)
        for pc in stops:
            stepping[pc] = self._stop_before(bound, pc, bound.code[pc])
        bound.stepping = stepping

    @staticmethod
    def _may_call_host(site: Any) -> bool:
        return isinstance(site, (HostFunction, IndirectCall))

    def _stop_before(self, bound: BoundFunction, pc: int, original: Callable[[list], int]) -> Callable[[list], int]:
        key = (id(bound.func), pc)
        session = self

        def stop(R: list) -> int:
            if session._should_stop(key, bound, pc, R):
                session._hit = key
                return BREAK
            return original(R)
        return stop

    def _should_stop(self, key: tuple[int, int], bound: BoundFunction, pc: int, R: list) -> bool:
        if self._skip == key:
            self._skip = None
            return False
        site = bound.sites[pc]
        if site is not None and self._host_callee(site, R) is not None:
            return True  # a host call: stop to run it alone and take a snapshot after it
        if any(key in breakpoint.locations for breakpoint in self.breakpoints.values()):
            return True
        temporary = self._temporary
        return temporary is not None and key in temporary.locations and \
            len(self.machine.frames) - self.base <= temporary.depth

    @staticmethod
    def _host_callee(site: Any, R: list) -> HostFunction | None:
        if isinstance(site, HostFunction):
            return site
        if isinstance(site, IndirectCall):
            try:
                callee = resolve_indirect(site, R)
            except ExecutionError:
                return None
            return callee if isinstance(callee, HostFunction) else None
        return None

    # --- running forward ------------------------------------------------------------------

    def _snapshot(self, after_host_call: bool) -> Snapshot:
        return self._state.take(self.position, after_host_call, self.invocation.finished,
                                self.invocation.results, self.log.latest())

    def _run(self, steps: int) -> None:
        """Run at most ``steps`` instructions on the machine, counting them."""
        machine = self.machine
        before = machine.fuel
        machine.keep_frames_on_error = True
        self._hit = None
        try:
            self.invocation.run(steps)
        except ExecutionError as error:
            self.error = error
            self._revive()
            if not isinstance(error, FuelExhaustedError):
                before -= 1  # the instruction that trapped did not complete: it does not count
        except BaseException:  # interrupted: stay where it stopped
            self._revive()
            raise
        finally:
            machine.keep_frames_on_error = False
            self.position += before - machine.fuel

    def _revive(self) -> None:
        """The invocation stopped abnormally (or was set back by a snapshot);
        its frames are there to look at.  Make it runnable again: on the
        machine's list of invocations while it has not finished."""
        invocation = self.invocation
        invocation.abandoned = False
        listed = invocation in self.machine.invocations
        if not invocation.finished and not listed:
            self.machine.invocations.append(invocation)
        elif invocation.finished and listed:
            self.machine.invocations.remove(invocation)

    def _current_host_callee(self) -> HostFunction | None:
        frames = self.frames
        if not frames:
            return None
        frame = frames[-1]
        site = frame.bound.sites[frame.pc]
        return self._host_callee(site, frame.regs) if site is not None else None

    def _host_step(self) -> Stop | None:
        """Run the host call the machine stands before, alone, and take a
        snapshot after it."""
        frame = self.frames[-1]
        self._skip = (id(frame.func), frame.pc)
        position = self.position
        self._run(1)
        if self.trapped:
            return Stop(StopReason.TRAP, self.position, error=self.error)
        # One step, however many instructions the host function ran in the guest.
        self.position = position + 1
        self.log.add(self._snapshot(after_host_call=True))
        return None

    def _advance(self, limit: int | None, stops: bool = True, replay: bool = False) -> Stop:
        """Run forward until ``limit`` more instructions ran (``None``: no
        limit), the call ends or traps, or — with ``stops`` — a breakpoint,
        watchpoint or temporary stop.  In a ``replay`` (re-executing recorded
        history), host calls are never run: a replay ends before one."""
        target = None if limit is None else self.position + limit
        first = True
        self._skip = None
        while True:
            if self.trapped:
                return Stop(StopReason.TRAP, self.position, error=self.error)
            if self.finished:
                if not replay:
                    self.log.add(self._snapshot(after_host_call=False))
                return Stop(StopReason.FINISHED, self.position)
            if target is not None and self.position >= target:
                return Stop(StopReason.STEP, self.position)
            if self._current_host_callee() is not None and (first or self._hit is not None):
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
            if stops and self.watchpoints:
                chunk = 1
            self._run(chunk)
            if self._hit is not None:
                if self._current_host_callee() is not None:
                    stop = self._host_breakpoint(count=not replay) if stops else None
                    if stop is not None:
                        return stop
                    continue  # the loop runs the host call alone
                stop = self._breakpoint_stop(count=not replay) if stops else None
                if stop is not None:
                    self._hit = None
                    return stop
                self._skip, self._hit = self._hit, None  # not stopping here: run past it
                continue
            if stops and self.watchpoints and not self.trapped:
                stop = self._check_watchpoints()
                if stop is not None:
                    return stop
            if not replay and self.position % self.checkpoint_interval == 0 and not self.trapped:
                self.log.add(self._snapshot(after_host_call=False))

    def _host_breakpoint(self, count: bool) -> Stop | None:
        callee = self._current_host_callee()
        for breakpoint in self.breakpoints.values():
            if breakpoint.host is not None and callee is not None and breakpoint.host in _host_names(callee):
                breakpoint.hits += count
                self._hit = None
                return Stop(StopReason.BREAKPOINT, self.position, breakpoint=breakpoint)
        return None

    def _breakpoint_stop(self, count: bool) -> Stop | None:
        """The stop the machine stopped for (``count``: a first-time hit, not a
        replay of history)."""
        key = self._hit
        for breakpoint in self.breakpoints.values():
            if key in breakpoint.locations:
                breakpoint.hits += count
                return Stop(StopReason.BREAKPOINT, self.position, breakpoint=breakpoint)
        if self._temporary is not None and key in self._temporary.locations:
            return Stop(StopReason.STEP, self.position)
        return None

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
        """Execute ``count`` instructions (into calls)."""
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
        if current is None or current.frame.bound.sites[current.pc] is None or \
                self._current_host_callee() is not None:
            return self._advance(1)
        depth = len(self.machine.frames) - self.base
        return self._run_to(frozenset({(id(current.func), current.pc + 1)}), depth)

    def finish(self) -> Stop:
        """Run until the current function returns to its caller."""
        frames = self.frames
        if len(frames) < 2:
            return self._advance(None)
        caller = frames[-2]
        depth = len(self.machine.frames) - self.base - 1
        return self._run_to(frozenset({(id(caller.func), caller.pc + 1)}), depth)

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
            here = self.location()
            if here is None or ((here.file, here.line) == start_line and len(self.frames) == depth):
                continue
            current = self.current
            if current is None or current.offset is None or self.source_map.is_statement(current.offset):
                return stop

    # --- reverse ----------------------------------------------------------------------------

    def reverse_step(self, count: int = 1) -> Stop:
        """Go back ``count`` instructions."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        target = self.position - count
        if target < self.log.horizon:
            self._go_to(self.log.horizon)
            return Stop(StopReason.START, self.position)
        self._go_to(target)
        return Stop(StopReason.STEP, self.position)

    def reverse_continue(self) -> Stop:
        """Go back to the latest breakpoint or watchpoint hit before here."""
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
        while self.position < end and not self.finished and not self.trapped:
            stop = self._advance(end - self.position, replay=True)
            if stop.reason not in (StopReason.BREAKPOINT, StopReason.WATCHPOINT):
                break
            if stop.position < end:
                hits.append((stop.position, stop))
        return hits

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
        self._revive()

    # --- inspection -------------------------------------------------------------------------

    def globals(self) -> list[tuple[str, GlobalInstance]]:
        instance = self.invocation.func.instance
        names = instance.module.names.globals
        return [(names.get(index, f"global[{index}]"), cell) for index, cell in enumerate(instance.globals)]

    def read_memory(self, address: int, length: int) -> bytes:
        memory = self.invocation.func.instance.memory
        if memory is None:
            raise UsageError("the module has no memory")
        if address < 0 or length < 0 or address + length > len(memory.data):
            raise UsageError(f"{address:#x}..+{length} is outside the memory ({len(memory.data)} bytes)")
        return bytes(memory.data[address:address + length])


def _host_names(func: HostFunction) -> set[str]:
    name = func.name or ""
    return {name, name.rpartition(".")[2]} - {""}
