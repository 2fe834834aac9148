"""A debugging session over a whole proxy run: every callback of every
plugin, stepped through as one program.

``HostDebugSession(make_host, drive)`` runs ``drive(make_host(instruments))``
— a scenario's timeline, or a test's own traffic — on a thread of its own.
Every call into plugin code (``abi.vm.instruments``) becomes a ``DebugSession``
of the engine (interp/debug/session.py) on that VM's store, paused at its
first instruction and handed to the caller's thread, which steps it; when the
callback has returned (or trapped) the run thread takes its results and goes
on until the next callback.  Only one thread runs at a time, so the run is as
deterministic as without the debugger.  Plugins must run on the step machine
(``engine="python"``).

Positions.  The run has one instruction count: callback ``k`` starts at
position ``start_k`` (0 for the first), its instructions are ``start_k + p``
(``p`` as its engine session counts them), and ``start_k + n_k`` is the
moment it has returned — or trapped: the trapping instruction counts —
before the proxy goes on; the next callback starts one further.  The end of
the run is one past the last callback's return.

Breakpoints: a plugin's function, a source line, a byte offset, or a host
function (``PLUGIN!`` limits them to one plugin), which are set in the
engine session of each callback of that plugin; a callback by name, any
callback of a stream (stops at its first instruction); a plugin failure
found after a callback returns (a bad return value: it stops where that
callback returned).  A trap always stops.  Conditions are the engine's
expressions, evaluated in the frame that reached the breakpoint.

Going back.  The proxy's state (headers, callouts, timers, shared data) is
not snapshotted, so going back re-runs the run from the start, in a fresh
host, up to the target position: a run is deterministic, so it arrives in
exactly the state the target had, and no host call is made twice in any one
host — the old host is abandoned, not rewound.  Callbacks that end before the
target run at the step machine's full speed (their lengths are known from
the first time); only the one holding the target is stepped.  Going back
within the current callback when no host call lies in between uses the
engine session's own snapshots instead (nothing outside the plugin changed).
``reverse-continue`` re-runs once with the breakpoints to find the last hit
before here, then again to it.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from abi.debug.catalog import CALLBACK_PREFIX, PluginCatalog
from abi.errors import UsageError
from abi.proxy.contexts import ProxyContext
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import HttpStream, http_slot
from abi.proxy.services import ProxyServices
from abi.vm.callbacks import Failure, traced_result
from abi.vm.instruments import ExportCall, VmInstrument
from abi.vm.module import PluginModule
from abi.vm.vm import PluginVm
from interp.debug.expressions import tokenize, truth
from interp.debug.session import DebugSession, Stop, StopReason
from interp.dwarf.source_map import SourceMap
from interp.errors import GlasswasmError

MakeHost = Callable[[Sequence[VmInstrument]], ProxyHost]
Drive = Callable[[ProxyHost], None]


class HostStopKind(enum.Enum):
    STEP = "step"              # the requested steps ran
    BREAKPOINT = "breakpoint"
    WATCHPOINT = "watchpoint"
    TRAP = "trap"              # plugin code trapped (its frames stay to look at)
    FAILURE = "failure"        # a plugin failed after its callback returned
    FINISHED = "finished"      # the run is over
    START = "start"            # going back reached the start of the run


@dataclass
class HostBreakpoint:
    """A breakpoint of the whole run.  ``kind``: ``code`` and ``host`` are
    set in the engine session of each callback (``target`` is the engine's
    spec), ``callback`` and ``stream`` stop at the first instruction of a
    callback (``target`` names it), ``failure`` when a plugin fails."""

    number: int
    kind: str
    plugin: str | None
    target: str
    description: str
    condition: str | None = None
    temporary: bool = False
    enabled: bool = True
    hits: int = 0


@dataclass
class HostWatchpoint:
    """Memory or a global of one VM (the ``vm_index``-th made in the run),
    watched in every callback into that VM."""

    number: int
    vm_index: int
    kind: str  # memory, global
    address: int = 0
    length: int = 0
    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class HostStop:
    kind: HostStopKind
    position: int
    breakpoint: HostBreakpoint | None = None
    watchpoint: HostWatchpoint | None = None
    inner: Stop | None = None
    failure: Failure | None = None

    def describe(self) -> str:
        if self.kind is HostStopKind.BREAKPOINT and self.breakpoint is not None:
            label = "temporary breakpoint" if self.breakpoint.temporary else "breakpoint"
            text = f"{label} {self.breakpoint.number} ({self.breakpoint.description})"
            if self.inner is not None and self.inner.condition_error:
                text += f"; error in its condition: {self.inner.condition_error}"
            if self.failure is not None:
                text += f": {self.failure.describe()}"
            return text
        if self.kind is HostStopKind.WATCHPOINT and self.watchpoint is not None and self.inner is not None:
            return (f"watchpoint {self.watchpoint.number} ({self.watchpoint.description}): "
                    f"{self.inner.old_value} -> {self.inner.new_value}")
        if self.kind is HostStopKind.TRAP and self.inner is not None:
            return self.inner.describe()
        if self.kind is HostStopKind.FAILURE and self.failure is not None:
            return self.failure.describe()
        if self.kind is HostStopKind.START:
            return "reached the start of the run"
        return self.kind.value


@dataclass
class CallbackInfo:
    """One call into plugin code in the run: what it was, where it starts,
    and (once it has ended) how many positions it took."""

    index: int
    start: int
    plugin: str
    name: str
    context_id: int | None
    stream: str | None
    args: tuple[int, ...]
    vm_index: int
    length: int | None = None

    @property
    def end(self) -> int | None:
        return None if self.length is None else self.start + self.length

    def describe(self) -> str:
        names = ", ".join(str(value) for value in self.args)
        where = f" on {self.stream}" if self.stream else ""
        return f"{self.plugin}: {self.name}({names}){where}"


@dataclass
class _Active:
    """The callback the run thread waits in: its engine session."""

    info: CallbackInfo
    call: ExportCall
    session: DebugSession
    armed: int = -1  # the breakpoint table's version last set in the session
    numbers: dict[int, HostBreakpoint | HostWatchpoint] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        return self.session.finished or self.session.trapped

    @property
    def local_position(self) -> int:
        return self.session.position + (1 if self.session.trapped else 0)


class _Abort(BaseException):
    """Unwinds an abandoned run's thread (not an ``Exception``: nothing of
    the proxy catches it)."""


class _Run(VmInstrument):
    """One run of the host on a thread of its own; the instrument that hands
    every callback to the debugger."""

    def __init__(self, debugger: HostDebugSession, plain_until: int | None) -> None:
        self.debugger = debugger
        self.plain_until = plain_until
        self.host: ProxyHost | None = None
        self.services: ProxyServices | None = None
        self.calls = 0
        self.vms: dict[PluginVm, int] = {}
        self.to_run: queue.Queue[str] = queue.Queue()
        self.to_debugger: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._main, daemon=True, name="glasswasm proxy run")
        self._listened: set[int] = set()

    # --- the run's thread ---------------------------------------------------------------------

    def _main(self) -> None:
        try:
            host = self.debugger.make_host([self])
            self.host = host
            self.debugger.drive(host)
            self.to_debugger.put(("finished", None))
        except _Abort:
            pass
        except BaseException as error:
            self.to_debugger.put(("error", error))

    def vm_created(self, vm: PluginVm) -> None:
        if vm.store.engine != "python":
            raise UsageError("debugging needs the plugins on the step machine: make the host with "
                             "HostConfig(engine='python')")
        self.vms[vm] = len(self.vms)
        if id(vm.trace) not in self._listened:
            self._listened.add(id(vm.trace))
            vm.trace.listeners.append(self._trace_entry)

    def invoke(self, call: ExportCall, proceed: Callable[[], list]) -> list:
        index = self.calls
        self.calls += 1
        if self.services is None and isinstance(call.context, ProxyContext):
            self.services = call.context.services
        known = self.debugger._known(index)
        if self.plain_until is not None and known is not None and known.end is not None \
                and known.end < self.plain_until:
            return proceed()
        session = DebugSession(call.vm.store, call.func, list(call.args),
                               source_map=self.debugger._source_map(call.vm.module))
        self.to_debugger.put(("callback", (index, call, session)))
        reply = self.to_run.get()
        try:
            if reply == "abort":
                raise _Abort()
            if session.error is not None:
                raise session.error
            return list(session.results)
        finally:
            session.close()

    def _trace_entry(self, entry: dict[str, Any]) -> None:
        """A plugin failure recorded between callbacks: the debugger may stop there."""
        if entry["type"] != "event" or entry["event"] != "plugin_failed" or \
                threading.current_thread() is not self.thread:
            return
        failure = Failure(entry["plugin"], entry["callback"], entry["error"], tuple(entry["backtrace"]),
                          entry["stream"])
        if not self.debugger._stops_on_failure(failure):
            return
        self.to_debugger.put(("failure", failure))
        if self.to_run.get() == "abort":
            raise _Abort()

    # --- the debugger's thread ----------------------------------------------------------------

    def start(self) -> tuple[str, Any]:
        self.thread.start()
        return self._wait()

    def resume(self) -> tuple[str, Any]:
        self.to_run.put("resume")
        return self._wait()

    def _wait(self) -> tuple[str, Any]:
        while True:
            try:
                return self.to_debugger.get()
            except KeyboardInterrupt:  # the proxy's own work between callbacks is short: let it finish
                continue

    def abort(self) -> None:
        if self.thread.is_alive():
            self.to_run.put("abort")
            self.thread.join()


class HostDebugSession:
    """Debug the run ``drive(make_host(instruments))`` (module docstring).
    ``make_host`` must make a fresh host each time, with the plugins loaded
    and no traffic, passing ``instruments`` on to ``ProxyHost``; ``drive``
    sends the traffic (and shuts the host down).  ``streams``: the names of
    the streams and connections the run will have, to check ``break stream``
    against (``None``: any name).  ``search_paths``: folders where the
    modules' source files may be found."""

    def __init__(self, make_host: MakeHost, drive: Drive, streams: Collection[str] | None = None,
                 search_paths: tuple[str, ...] = ()) -> None:
        self.make_host = make_host
        self.drive = drive
        self.streams = streams
        self.search_paths = search_paths
        self.catalog = PluginCatalog.of_host(make_host(()))
        self.breakpoints: dict[int, HostBreakpoint | HostWatchpoint] = {}
        self.callbacks: list[CallbackInfo] = []
        self.failure: Failure | None = None  # the failure the run waits at
        self.run_error: BaseException | None = None  # what ended the run, when it failed
        self._numbers = 0
        self._version = 0
        self._active: _Active | None = None
        self._trapped: CallbackInfo | None = None  # the callback that last trapped
        self._finished = False
        self._source_maps: dict[int, tuple[PluginModule, SourceMap | None]] = {}
        self._run: _Run | None = None
        self.runs = 0  # how many times the run was started (going back starts it again)
        self._start(None)

    # --- the state ------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """Whether the run is over."""
        return self._finished

    @property
    def host(self) -> ProxyHost | None:
        """The host of the current run (``None`` while its plugins are loaded)."""
        return self._run.host if self._run is not None else None

    @property
    def services(self) -> ProxyServices | None:
        """The simulated proxy's services (logs, metrics, shared data, callouts...)."""
        host = self.host
        if host is not None:
            return host.services
        return self._run.services if self._run is not None else None

    @property
    def session(self) -> DebugSession | None:
        """The engine session of the callback the run is in (``None``
        between callbacks and once the run is over)."""
        return self._active.session if self._active is not None else None

    @property
    def callback(self) -> CallbackInfo | None:
        """The callback the run is in, or the last one."""
        if self._active is not None:
            return self._active.info
        return self.callbacks[-1] if self.callbacks else None

    @property
    def call(self) -> ExportCall | None:
        return self._active.call if self._active is not None else None

    @property
    def returned(self) -> bool:
        """Whether the current callback has returned or trapped (the proxy
        has not gone on yet)."""
        return self._active is not None and self._active.ended

    @property
    def stream(self) -> HttpStream | None:
        """The HTTP stream of the current callback, if it is a stream callback."""
        slot = http_slot(self._active.call.context) if self._active is not None else None
        return slot.stream if slot is not None else None

    @property
    def position(self) -> int:
        active = self._active
        if active is not None:
            return active.info.start + active.local_position
        last = self.callbacks[-1] if self.callbacks else None
        if self.failure is not None and last is not None and last.end is not None:
            return last.end
        if self._finished:
            return last.end + 1 if last is not None and last.end is not None else 0
        return 0

    def result(self) -> Any:
        """The current callback's result as the trace shows it (an action by
        name...), once it has returned."""
        active = self._active
        if active is None or not active.session.finished:
            return None
        results = active.session.results
        return traced_result(active.info.name, results[0] if results else None)

    def _known(self, index: int) -> CallbackInfo | None:
        return self.callbacks[index] if index < len(self.callbacks) else None

    def _source_map(self, module: PluginModule) -> SourceMap | None:
        found = self._source_maps.get(id(module))
        if found is None:
            found = self._source_maps[id(module)] = (module, SourceMap.for_module(module.module, self.search_paths))
        return found[1]

    # --- runs -----------------------------------------------------------------------------------

    def _start(self, plain_until: int | None) -> None:
        """A fresh run, up to its first callback handed to the debugger."""
        self._stop_run()
        self._finished = False
        self.failure = None
        self.run_error = None
        self._source_maps.clear()
        self._run = _Run(self, plain_until)
        self.runs += 1
        self._receive(self._run.start())

    def _stop_run(self) -> None:
        if self._run is not None:
            self._run.abort()
        self._run = None
        self._active = None

    def close(self) -> None:
        """Abandon the run (its thread ends)."""
        self._stop_run()

    def _receive(self, message: tuple[str, Any]) -> None:
        kind, payload = message
        self._active = None
        self.failure = None
        if kind == "callback":
            index, call, session = payload
            self._active = _Active(self._callback_info(index, call), call, session)
        elif kind == "failure":
            self.failure = payload
        elif kind == "finished":
            self._finished = True
        else:
            self._finished = True
            self.run_error = payload

    def _callback_info(self, index: int, call: ExportCall) -> CallbackInfo:
        run = self._run
        vm_index = run.vms.get(call.vm, -1) if run is not None else -1
        known = self._known(index)
        if known is not None:
            if (known.plugin, known.name, known.context_id, known.args) != \
                    (call.plugin, call.name, _context_id(call), call.args):
                raise UsageError(f"the run is not deterministic: call {index} was {known.describe()} before and "
                                 f"is {call.plugin}: {call.name} now")
            return known
        previous = self.callbacks[-1] if self.callbacks else None
        start = previous.end + 1 if previous is not None and previous.end is not None else 0
        info = CallbackInfo(index, start, call.plugin, call.name, _context_id(call), call.stream, call.args, vm_index)
        self.callbacks.append(info)
        return info

    def _resume(self) -> None:
        """Let the run go on from where it waits (a returned callback, a failure)."""
        run = self._run
        if run is None or self._finished:
            return
        self._receive(run.resume())

    # --- moving forward -------------------------------------------------------------------------

    def step(self, count: int = 1) -> HostStop:
        """Execute ``count`` instructions (from a returned callback, the
        next step is the first instruction of the next one)."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        return self._forward(self.position + count, stops=True)

    def continue_(self) -> HostStop:
        """Run to the next breakpoint, watchpoint, trap, or the end of the run."""
        return self._forward(None, stops=True)

    def run_in_callback(self, command: Callable[[DebugSession], Stop]) -> HostStop:
        """Run an engine session command (``next``, ``finish``, ``until``...)
        in the current callback; past its return, on to the next callback."""
        active = self._active
        if active is None or active.ended:
            return self.step()
        self._arm(active)
        return self._after_inner(active, command(active.session), stops=True)

    def _forward(self, limit: int | None, stops: bool, hits: list[tuple[int, HostStop]] | None = None) -> HostStop:
        """Run until ``limit`` (a position) or, with ``stops``, a stop; with
        ``hits``, stops are recorded there and the run goes on."""
        while True:
            if self._finished:
                return HostStop(HostStopKind.FINISHED, self.position)
            if limit is not None and self.position >= limit:
                return HostStop(HostStopKind.STEP, self.position)
            active = self._active
            if active is None or active.ended:
                self._resume()
                stop = self._on_arrival(stops) if stops else None
                if stop is not None:
                    if hits is None:
                        return self._count(stop)
                    hits.append((stop.position, stop))
                continue
            if stops:
                self._arm(active)
            session = active.session
            inner = session.step(limit - self.position) if limit is not None else session.continue_()
            stop = self._after_inner(active, inner, stops, count=hits is None)
            if stop.kind in (HostStopKind.STEP, HostStopKind.FINISHED) or not stops:
                continue
            if hits is None:
                return stop
            hits.append((stop.position, stop))

    def _after_inner(self, active: _Active, inner: Stop, stops: bool, count: bool = True) -> HostStop:
        """The run's stop for a stop of the engine session."""
        position = self.position
        if inner.reason in (StopReason.BREAKPOINT, StopReason.WATCHPOINT) and inner.breakpoint is not None:
            host_breakpoint = active.numbers.get(inner.breakpoint.number)
            if isinstance(host_breakpoint, HostBreakpoint):
                stop = HostStop(HostStopKind.BREAKPOINT, position, breakpoint=host_breakpoint, inner=inner)
                return self._count(stop) if count else stop
        if inner.reason is StopReason.WATCHPOINT and inner.watchpoint is not None:
            watchpoint = active.numbers.get(inner.watchpoint.number)
            return HostStop(HostStopKind.WATCHPOINT, position,
                            watchpoint=watchpoint if isinstance(watchpoint, HostWatchpoint) else None, inner=inner)
        if inner.reason is StopReason.TRAP:
            active.info.length = active.local_position
            self._trapped = active.info
            return HostStop(HostStopKind.TRAP if stops else HostStopKind.STEP, position, inner=inner)
        if inner.reason is StopReason.FINISHED:
            active.info.length = active.local_position
            return HostStop(HostStopKind.STEP, position, inner=inner)
        if inner.reason is StopReason.START:
            return HostStop(HostStopKind.START, position, inner=inner)
        return HostStop(HostStopKind.STEP, position, inner=inner)

    def _on_arrival(self, stops: bool) -> HostStop | None:
        """A stop where the run arrived: a callback's first instruction
        (callback and stream breakpoints), or a failure."""
        if self.failure is not None:
            if not self._stops_on_failure(self.failure):
                return None
            for breakpoint in self._enabled("failure"):
                if breakpoint.plugin in (None, self.failure.plugin):
                    return HostStop(HostStopKind.BREAKPOINT, self.position, breakpoint=breakpoint,
                                    failure=self.failure)
            return None
        active = self._active
        if active is None:
            return None
        self._arm(active)
        info = active.info
        here = active.session.current
        if here is not None:  # the engine session starts past a breakpoint where it begins
            for number, inner_breakpoint in active.session.breakpoints.items():
                item = active.numbers.get(number)
                if (id(here.func), here.pc) in inner_breakpoint.locations and isinstance(item, HostBreakpoint):
                    stop = self._conditional(active, item)
                    if stop is not None:
                        return stop
        for breakpoint in [*self._enabled("callback"), *self._enabled("stream")]:
            if breakpoint.plugin not in (None, info.plugin):
                continue
            wanted = info.name if breakpoint.kind == "callback" else info.stream
            if wanted == breakpoint.target:
                stop = self._conditional(active, breakpoint)
                if stop is not None:
                    return stop
        return None

    def _conditional(self, active: _Active, breakpoint: HostBreakpoint) -> HostStop | None:
        """A stop at ``breakpoint`` where the callback begins, if its
        condition holds (or cannot be evaluated: it stops and says why)."""
        problem = None
        if breakpoint.condition is not None:
            try:
                if not truth(active.session.evaluate(breakpoint.condition, 0)):
                    return None
            except GlasswasmError as error:
                problem = str(error)
        inner = Stop(StopReason.BREAKPOINT, active.session.position, condition_error=problem)
        return HostStop(HostStopKind.BREAKPOINT, self.position, breakpoint=breakpoint, inner=inner)

    def _count(self, stop: HostStop) -> HostStop:
        """A stop shown to the user: its breakpoint counts a hit (and a
        temporary one goes)."""
        breakpoint = stop.breakpoint
        if breakpoint is not None:
            breakpoint.hits += 1
            if breakpoint.temporary:
                self.delete(breakpoint.number)
        return stop

    def _stops_on_failure(self, failure: Failure) -> bool:
        """Whether a failure breakpoint stops at ``failure`` (not when it is
        the trap the run just stopped at)."""
        last = self.callbacks[-1] if self.callbacks else None
        if last is not None and last is self._trapped and last.plugin == failure.plugin:
            return False
        return any(breakpoint.plugin in (None, failure.plugin) for breakpoint in self._enabled("failure"))

    def _enabled(self, kind: str) -> list[HostBreakpoint]:
        return [item for item in self.breakpoints.values()
                if isinstance(item, HostBreakpoint) and item.kind == kind and item.enabled]

    # --- going back -----------------------------------------------------------------------------

    def reverse_step(self, count: int = 1) -> HostStop:
        """Go back ``count`` instructions (module docstring)."""
        if count < 1:
            raise UsageError("step count must be at least 1")
        target = self.position - count
        if target <= 0:
            self.go_to(0)
            return HostStop(HostStopKind.START, self.position)
        self.go_to(target)
        return HostStop(HostStopKind.STEP, self.position)

    def reverse_continue(self) -> HostStop:
        """Go back to the last breakpoint or watchpoint hit (or trap) before here."""
        end = self.position
        hits: list[tuple[int, HostStop]] = []
        self._start(None)
        self._forward(end, stops=True, hits=hits)
        earlier = [(position, stop) for position, stop in hits if position < end]
        if not earlier:
            self.go_to(0)
            return HostStop(HostStopKind.START, self.position)
        position, stop = earlier[-1]
        self.go_to(position)
        if stop.breakpoint is not None and stop.breakpoint.temporary:
            self.delete(stop.breakpoint.number)
        return HostStop(stop.kind, self.position, stop.breakpoint, stop.watchpoint, stop.inner, stop.failure)

    def restart(self) -> HostStop:
        """Start the run again from the beginning (breakpoints kept)."""
        self.go_to(0)
        return HostStop(HostStopKind.START, self.position)

    def go_to(self, target: int) -> None:
        """Be at position ``target`` (module docstring)."""
        if target < 0:
            raise UsageError("positions start at 0")
        if target >= self.position:
            self._forward(target, stops=False)
            return
        active = self._active
        if active is not None and active.info.start <= target < self.position and not active.session.trapped:
            local = target - active.info.start
            session = active.session
            after = session.log.host_step_after(local)
            if local >= session.log.horizon and (after is None or after.position > session.position):
                session.reverse_step(session.position - local)
                return
        self._start(target)
        self._forward(target, stops=False)

    # --- breakpoints ----------------------------------------------------------------------------

    def break_at(self, spec: str, condition: str | None = None, temporary: bool = False) -> HostBreakpoint:
        """A breakpoint from its spec: ``[PLUGIN!]FUNCTION``,
        ``[PLUGIN:]FILE:LINE``, ``[PLUGIN!]*OFFSET``, ``host [PLUGIN!]NAME``,
        ``callback [PLUGIN!]NAME``, ``stream NAME``, ``failure [PLUGIN]``."""
        if condition is not None:
            if not condition.strip():
                raise UsageError("an empty condition")
            tokenize(condition)
        kind, plugin, target, description = self._parse(spec.strip())
        self._numbers += 1
        breakpoint = HostBreakpoint(self._numbers, kind, plugin, target, description, condition, temporary)
        self.breakpoints[breakpoint.number] = breakpoint
        self._changed()
        return breakpoint

    def _parse(self, spec: str) -> tuple[str, str | None, str, str]:
        word, _, rest = spec.partition(" ")
        rest = rest.strip()
        if word == "host" and rest:
            plugin, name = _plugin_prefix(rest)
            self._check_host_function(plugin, name)
            return "host", plugin, f"host {name}", spec
        if word == "callback" and rest:
            plugin, name = _plugin_prefix(rest)
            if plugin is not None:
                self.catalog.module(plugin)
            full = name if name.startswith(CALLBACK_PREFIX) else CALLBACK_PREFIX + name
            if not any(full in module.exported_functions() for module in self._modules(plugin)):
                raise UsageError(f"no plugin{' ' + repr(plugin) if plugin else ''} exports the callback {full!r}")
            return "callback", plugin, full, f"callback {plugin + '!' if plugin else ''}{full}"
        if word == "stream" and rest:
            if self.streams is not None and rest not in self.streams:
                raise UsageError(f"no stream or connection named {rest!r} (there are: "
                                 f"{', '.join(self.streams) or 'none'})")
            return "stream", None, rest, f"stream {rest}"
        if word == "failure":
            if rest:
                self.catalog.module(rest)
            return "failure", rest or None, "", f"failure{' of ' + rest if rest else ''}"
        return self._code_place(spec)

    def _code_place(self, spec: str) -> tuple[str, str | None, str, str]:
        plugin, bang, rest = spec.partition("!")
        if bang:
            self.catalog.module(plugin)
            if rest.startswith("*") or _is_line(rest):
                self._check_place(plugin, rest)
                return "code", plugin, rest, spec
            function = self.catalog.function(plugin, rest)
            return "code", plugin, function, f"{plugin}!{function}"
        first, colon, remainder = spec.partition(":")
        if colon and first in self.catalog.modules and _is_line(remainder):
            self._check_place(first, remainder)
            return "code", first, remainder, spec
        if _is_line(spec) or spec.startswith("*"):
            self._check_place(None, spec)
            return "code", None, spec, spec
        found = self.catalog.plugins_with_function(spec)
        if not found:
            raise UsageError(f"no plugin has a function {spec!r} (give it as PLUGIN!FUNCTION; plugins: "
                             f"{', '.join(self.catalog.names)})")
        names = {function for _, function in found}
        return "code", None, found[0][1] if len(names) == 1 else spec, spec

    def _check_place(self, plugin: str | None, place: str) -> None:
        """A source line or byte offset must have code in the plugin (or in some plugin)."""
        for module in self._modules(plugin):
            if place.startswith("*"):
                try:
                    offset = int(place[1:], 0)
                except ValueError:
                    raise UsageError(f"bad offset {place[1:]!r}") from None
                if any(instruction.offset == offset for func in module.module.funcs for instruction in func.body):
                    return
                continue
            source_map = self._source_map(module)
            file, _, line = place.rpartition(":")
            if source_map is not None and source_map.offsets_for_line(file, int(line)):
                return
        where = f"plugin {plugin!r}" if plugin else "any plugin"
        what = f"an instruction at byte offset {place[1:]}" if place.startswith("*") else \
            f"code for {place} (line information from DWARF)"
        raise UsageError(f"{where} has no {what}")

    def _modules(self, plugin: str | None) -> list[PluginModule]:
        return [self.catalog.module(plugin)] if plugin is not None else list(self.catalog.modules.values())

    def _check_host_function(self, plugin: str | None, name: str) -> None:
        for module in self._modules(plugin):
            if any(imp.name == name or f"{imp.module}.{imp.name}" == name for imp in module.module.imports):
                return
        where = f"plugin {plugin!r}" if plugin else "no plugin"
        raise UsageError(f"{where} imports no host function {name!r}" if plugin else
                         f"no plugin imports a host function {name!r}")

    def watch(self, kind: str, *arguments: str) -> HostWatchpoint:
        """Watch memory or a global of the current callback's VM, in every
        callback into that VM: ``watch("memory", ADDR, LEN)``,
        ``watch("global", NAME)``, ``watch("expression", EXPR)`` (the memory
        the expression names now)."""
        active = self._active
        if active is None or active.ended:
            raise UsageError("watchpoints are set in a running callback (its plugin's memory and globals)")
        session = active.session
        self._numbers += 1
        number = self._numbers
        if kind == "global":
            watched = session.watch_global(arguments[0])
            watchpoint = HostWatchpoint(number, active.info.vm_index, "global", name=arguments[0],
                                        description=f"{active.info.plugin}: {watched.description}")
        else:
            if kind == "expression":
                value = session.evaluate(arguments[0])
                address, length = value.storage.address, value.type.byte_size()
                if address is None or length <= 0:
                    raise UsageError(f"{arguments[0]} is not in memory: watch a global with 'watch global NAME'")
                label = f"{arguments[0]} ({value.type} at {address:#x})"
            else:
                address, length = int(arguments[0], 0), int(arguments[1], 0)
                label = f"memory {address:#x}..+{length}"
            watched = session.watch_memory(address, length)
            watchpoint = HostWatchpoint(number, active.info.vm_index, "memory", address, length,
                                        description=f"{active.info.plugin}: {label}")
        session.delete(watched.number)
        self.breakpoints[number] = watchpoint
        self._changed()
        return watchpoint

    def delete(self, number: int | None = None) -> None:
        if number is None:
            self.breakpoints.clear()
        elif self.breakpoints.pop(number, None) is None:
            raise UsageError(f"no breakpoint or watchpoint {number}")
        self._changed()

    def enable(self, number: int, enabled: bool = True) -> HostBreakpoint:
        breakpoint = self.breakpoints.get(number)
        if not isinstance(breakpoint, HostBreakpoint):
            raise UsageError(f"no breakpoint {number}")
        breakpoint.enabled = enabled
        self._changed()
        return breakpoint

    def set_condition(self, number: int, condition: str | None) -> HostBreakpoint:
        breakpoint = self.breakpoints.get(number)
        if not isinstance(breakpoint, HostBreakpoint):
            raise UsageError(f"no breakpoint {number}")
        if condition is not None:
            tokenize(condition)
        breakpoint.condition = condition
        self._changed()
        return breakpoint

    def _changed(self) -> None:
        self._version += 1
        if self._active is not None and not self._active.ended:
            self._arm(self._active)

    def _arm(self, active: _Active) -> None:
        """Set the run's breakpoints and watchpoints in the callback's engine
        session (those of its plugin and VM)."""
        if active.armed == self._version:
            return
        session = active.session
        session.delete(None)
        active.numbers = {}
        for item in self.breakpoints.values():
            try:
                if isinstance(item, HostWatchpoint):
                    if item.vm_index != active.info.vm_index:
                        continue
                    watched = session.watch_global(item.name) if item.kind == "global" else \
                        session.watch_memory(item.address, item.length)
                    active.numbers[watched.number] = item
                    continue
                if item.kind not in ("code", "host") or not item.enabled or \
                        item.plugin not in (None, active.info.plugin):
                    continue
                inner = session.break_at(item.target, item.condition)
                active.numbers[inner.number] = item
            except GlasswasmError:
                continue  # not in this plugin's module (a name other plugins have)
        active.armed = self._version


def _is_line(text: str) -> bool:
    file, colon, line = text.rpartition(":")
    return bool(colon and file and line.isdigit())


def _plugin_prefix(text: str) -> tuple[str | None, str]:
    plugin, bang, name = text.partition("!")
    return (plugin, name) if bang else (None, text)


def _context_id(call: ExportCall) -> int | None:
    context = call.context
    return context.id if context is not call.vm.start_context else None
