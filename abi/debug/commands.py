"""The debugger's commands over a whole proxy run (``glasswasm proxy
SCENARIO --debug``): the engine's gdb-like command line
(interp/debug/commands.py), with the commands that move through the run or
set breakpoints replaced by ones over a ``HostDebugSession``, and ``info``
topics for the proxy's state at that moment.

The engine's inspection commands (``print``, ``locals``, ``frame``, ``x``,
``list``, ``display``...) work on the current callback's engine session;
between callbacks and once the run is over there is no plugin code to look
at, and they say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from abi.debug.session import HostBreakpoint, HostDebugSession, HostStop, HostStopKind
from abi.proxy.http_callouts import HttpCall
from abi.proxy.http_stream import FilterSlot, HttpStream
from abi.proxy.services import ProxyServices
from abi.wire.text import readable
from interp.debug.commands import Command, CommandInterpreter, is_integer, parse_count, parse_number, split_condition
from interp.debug.session import DebugSession, Stop
from interp.errors import GlasswasmError, UsageError

MAX_SHOWN = 400
FRAME_TOPICS = ("locals", "args", "frame", "display", "globals")
DEFAULT_LOG_LINES = 20

HOST_COMMANDS: tuple[Command, ...] = (
    Command(("break", "b", "br"), "break LOCATION [if COND]",
            "stop at LOCATION: [PLUGIN!]FUNC, [PLUGIN:]FILE:LINE, [PLUGIN!]*OFFSET, host [PLUGIN!]NAME, "
            "callback [PLUGIN!]NAME, stream NAME, failure [PLUGIN]", "do_break"),
    Command(("tbreak",), "tbreak LOCATION [if COND]", "a breakpoint deleted when first hit", "do_tbreak"),
    Command(("condition",), "condition N [COND]", "stop at breakpoint N only when COND holds (none: always)",
            "do_condition"),
    Command(("watch",), "watch EXPR | watch ADDR LEN | watch global NAME",
            "stop when memory or a wasm global of this callback's plugin VM changes (in any of its callbacks)",
            "do_watch"),
    Command(("delete", "d"), "delete [N]", "delete breakpoint or watchpoint N, or all of them", "do_delete"),
    Command(("disable",), "disable N", "keep breakpoint N but do not stop there", "do_disable"),
    Command(("enable",), "enable N", "stop at breakpoint N again", "do_enable"),
    Command(("run", "r"), "run", "start the run again from the beginning (breakpoints kept)", "do_run"),
    Command(("continue", "c"), "continue", "run to the next breakpoint, watchpoint, trap or the end of the run",
            "do_continue", True),
    Command(("step", "s"), "step [N]", "the next source line (or instruction), into calls and on into the next "
            "callback", "do_step", True),
    Command(("next", "n"), "next [N]", "the next source line (or instruction), calls run to their end",
            "do_next", True),
    Command(("stepi", "si"), "stepi [N]", "the next instruction of the run", "do_stepi", True),
    Command(("nexti", "ni"), "nexti [N]", "the next instruction, calls run to their end", "do_nexti", True),
    Command(("until", "u"), "until [LOCATION]", "run past the current line (out of a loop), or to LOCATION, "
            "within this callback", "do_until", True),
    Command(("advance",), "advance LOCATION", "run to LOCATION within this callback", "do_advance"),
    Command(("finish", "fin"), "finish", "run until the current function returns (the callback: to its return)",
            "do_finish", True),
    Command(("reverse-step", "rs"), "reverse-step [N]", "go back N instructions of the run (exactly: it is "
            "run again to there)", "do_reverse_step", True),
    Command(("reverse-continue", "rc"), "reverse-continue", "go back to the previous breakpoint, watchpoint or "
            "trap", "do_reverse_continue", True),
    Command(("backtrace", "bt", "where"), "backtrace", "the wasm frames, host functions included, and the "
            "callback, plugin and stream around them", "do_backtrace"),
    Command(("info", "i"), "info TOPIC", "breakpoints, stream [NAME], streams, headers, calls, metrics, shared, "
            "logs [N], callbacks, plugins, failures, time; or the frame's locals, args, frame, display, globals",
            "do_info"),
)

INSPECTING = frozenset({"frame", "up", "down", "print", "display", "ptype", "locals", "stack", "globals",
                        "memory", "list", "watch", "until", "advance"})


class HostCommandInterpreter(CommandInterpreter):
    """Runs debugger commands on a ``HostDebugSession``."""

    def __init__(self, debugger: HostDebugSession, out: TextIO) -> None:
        super().__init__(debugger.session, out)  # type: ignore[arg-type]
        self.debugger = debugger
        self._shown_callback = -1
        for command in HOST_COMMANDS:
            self.add_command(command, getattr(self, command.method))

    # --- the session the engine's commands look at -----------------------------------------------

    def execute(self, line: str) -> None:
        word = line.strip().split(maxsplit=1)[0].partition("/")[0] if line.strip() else ""
        found = self.commands.get(word)
        if found is not None and found[0].names[0] in INSPECTING and self.debugger.session is None:
            self.write("no plugin code is running here: " + ("the run has finished" if self.debugger.finished
                                                             else "the proxy is between callbacks"))
            return
        try:
            super().execute(line)
        finally:
            self._sync()

    def _sync(self) -> None:
        session = self.debugger.session
        if session is not None:
            self.session = session

    # --- where we are ----------------------------------------------------------------------------

    def show_location(self, view: object = None) -> None:
        debugger = self.debugger
        self._sync()
        if debugger.finished:
            self._show_end()
            return
        if debugger.failure is not None:
            self.write(f"{debugger.failure.describe()} (after its callback returned)")
            return
        info = debugger.callback
        if info is not None and info.index != self._shown_callback:
            self._shown_callback = info.index
            self.write(f"callback #{info.index}, {self._time()}: {info.describe()}")
        if debugger.returned and debugger.session is not None:
            session = debugger.session
            if session.trapped and session.error is not None:
                self.write(f"{info.name if info else 'the call'} trapped: {session.error.label}: "
                           f"{session.error.message}")
                super().show_location()
                return
            result = debugger.result()
            self.write(f"{info.name if info else 'the call'} returned" + (f" {result}" if result is not None else ""))
            return
        super().show_location(view)  # type: ignore[arg-type]

    def _show_end(self) -> None:
        debugger = self.debugger
        if debugger.run_error is not None:
            error = debugger.run_error
            label = error.label if isinstance(error, GlasswasmError) else type(error).__name__
            self.write(f"the run ended with an error: {label}: {error}")
        else:
            self.write(f"the run has finished: {len(debugger.callbacks)} callbacks, {debugger.position} steps"
                       f"{', ' + self._time() if debugger.services is not None else ''}")

    def _time(self) -> str:
        services = self.debugger.services
        return f"{services.scheduler.now_ns / 1_000_000:g} ms" if services is not None else "start"

    def show_displays(self) -> None:
        if self.debugger.session is not None and not self.debugger.returned:
            super().show_displays()

    def report_host(self, stop: HostStop) -> None:
        if stop.kind not in (HostStopKind.STEP, HostStopKind.FINISHED):
            self.write(f"[{stop.describe()}] at step {stop.position}")
            if stop.kind is HostStopKind.TRAP and stop.inner is not None and stop.inner.error is not None:
                for line in stop.inner.error.format_backtrace():
                    self.write(line)
        self.show_location()
        self.show_displays()

    # --- breakpoints -----------------------------------------------------------------------------

    def do_break(self, text: str, letter: str) -> None:
        self._host_break(text, temporary=False)

    def do_tbreak(self, text: str, letter: str) -> None:
        self._host_break(text, temporary=True)

    def _host_break(self, text: str, temporary: bool) -> None:
        spec, condition = split_condition(text)
        if not spec:
            raise UsageError("break LOCATION [if COND] (a location of the run: see help break)")
        breakpoint = self.debugger.break_at(spec, condition, temporary)
        kind = "temporary breakpoint" if temporary else "breakpoint"
        self.write(f"{kind} {breakpoint.number}: {breakpoint.description}"
                   f"{' if ' + condition if condition else ''}")

    def do_condition(self, text: str, letter: str) -> None:
        number, _, condition = text.strip().partition(" ")
        if not number.isdigit():
            raise UsageError("condition N [COND]")
        breakpoint = self.debugger.set_condition(int(number), condition.strip() or None)
        self.write(f"breakpoint {breakpoint.number} stops only if {breakpoint.condition}" if breakpoint.condition
                   else f"breakpoint {breakpoint.number} stops unconditionally")

    def do_enable(self, text: str, letter: str) -> None:
        self.debugger.enable(parse_number(text, "enable N"), True)

    def do_disable(self, text: str, letter: str) -> None:
        self.debugger.enable(parse_number(text, "disable N"), False)

    def do_delete(self, text: str, letter: str) -> None:
        self.debugger.delete(parse_number(text, "delete [N]") if text.strip() else None)
        self.write("deleted" if text.strip() else "deleted all breakpoints and watchpoints")

    def do_watch(self, text: str, letter: str) -> None:
        args = text.split()
        if len(args) == 2 and args[0] == "global":
            watchpoint = self.debugger.watch("global", args[1])
        elif len(args) == 2 and is_integer(args[0]) and is_integer(args[1]):
            watchpoint = self.debugger.watch("memory", args[0], args[1])
        elif len(args) == 1 and is_integer(args[0]):
            watchpoint = self.debugger.watch("memory", args[0], "4")
        elif text.strip():
            watchpoint = self.debugger.watch("expression", text.strip())
        else:
            raise UsageError("watch EXPR | watch ADDR [LEN] | watch global NAME")
        self.write(f"watchpoint {watchpoint.number}: {watchpoint.description}")

    # --- moving ----------------------------------------------------------------------------------

    def do_run(self, text: str, letter: str) -> None:
        self.debugger.restart()
        self._shown_callback = -1
        self.write("restarted from the beginning of the run")
        self.show_location()
        self.show_displays()

    def do_continue(self, text: str, letter: str) -> None:
        self.report_host(self.debugger.continue_())

    def do_stepi(self, text: str, letter: str) -> None:
        self.report_host(self.debugger.step(parse_count(text)))

    def do_nexti(self, text: str, letter: str) -> None:
        count = parse_count(text)
        self._repeat(count, lambda session: session.next())

    def do_step(self, text: str, letter: str) -> None:
        self._by_line(parse_count(text), over=False)

    def do_next(self, text: str, letter: str) -> None:
        self._by_line(parse_count(text), over=True)

    def _by_line(self, count: int, over: bool) -> None:
        def one(session: DebugSession) -> Stop:
            if session.source_map is None:
                return session.next() if over else session.step()
            return session.step_line(over=over)
        self._repeat(count, one)

    def _repeat(self, count: int, command: Callable[[DebugSession], Stop]) -> None:
        stop = None
        for _ in range(count):
            stop = self.debugger.run_in_callback(command)
            if stop.kind is not HostStopKind.STEP:
                break
        if stop is not None:
            self.report_host(stop)

    def do_finish(self, text: str, letter: str) -> None:
        self.report_host(self.debugger.run_in_callback(lambda session: session.finish()))

    def do_until(self, text: str, letter: str) -> None:
        place = text.strip()

        def until(session: DebugSession) -> Stop:
            if place:
                return session.until(session.locations_of(place))
            if session.source_map is not None and session.location() is not None:
                return session.until_line()
            return session.until()
        self.report_host(self.debugger.run_in_callback(until))

    def do_advance(self, text: str, letter: str) -> None:
        place = text.strip()
        if not place:
            raise UsageError("advance LOCATION")
        self.report_host(self.debugger.run_in_callback(lambda session: session.until(session.locations_of(place))))

    def do_reverse_step(self, text: str, letter: str) -> None:
        self.report_host(self.debugger.reverse_step(parse_count(text)))

    def do_reverse_continue(self, text: str, letter: str) -> None:
        self.report_host(self.debugger.reverse_continue())

    # --- the call stack --------------------------------------------------------------------------

    def do_backtrace(self, text: str, letter: str) -> None:
        debugger = self.debugger
        session = debugger.session
        if session is not None and (not debugger.returned or session.trapped):
            super().do_backtrace(text, letter)
        info = debugger.callback
        if info is None or debugger.finished:
            self.write("no callback is running: the run has finished" if debugger.finished else "no callback yet")
            return
        state = ""
        if session is not None and session.trapped:
            state = " (trapped)"
        elif debugger.returned:
            result = debugger.result()
            state = " (returned" + (f" {result})" if result is not None else ")")
        where = f", stream {info.stream}" if info.stream else ""
        self.write(f"    in callback {info.name}({', '.join(str(value) for value in info.args)}){state} of plugin "
                   f"{info.plugin}{where} — callback #{info.index}, {self._time()}")

    # --- info ------------------------------------------------------------------------------------

    def do_info(self, text: str, letter: str) -> None:
        topic, _, argument = text.strip().partition(" ")
        argument = argument.strip()
        topics: dict[str, Callable[[str], None]] = {
            "breakpoints": self._info_breakpoints, "break": self._info_breakpoints, "b": self._info_breakpoints,
            "watchpoints": self._info_breakpoints, "stream": self._info_stream, "streams": self._info_streams,
            "headers": self._info_headers, "calls": self._info_calls, "metrics": self._info_metrics,
            "shared": self._info_shared, "logs": self._info_logs, "callbacks": self._info_callbacks,
            "plugins": self._info_plugins, "failures": self._info_failures, "time": self._info_time,
        }
        shown = topics.get(topic)
        if shown is not None:
            shown(argument)
            return
        if topic not in FRAME_TOPICS:
            raise UsageError("info TOPIC: breakpoints, stream [NAME], streams, headers, calls, metrics, shared, "
                             "logs [N], callbacks, plugins, failures, time, locals, args, frame, display, globals")
        if self.debugger.session is None:
            raise UsageError(f"info {topic}: no plugin code is running here")
        super().do_info(text, letter)

    def _info_breakpoints(self, argument: str) -> None:
        items = self.debugger.breakpoints
        if not items:
            self.write("no breakpoints or watchpoints")
        for item in items.values():
            if not isinstance(item, HostBreakpoint):
                self.write(f"{item.number}  watchpoint  {item.description}")
                continue
            kind = "tbreak" if item.temporary else "breakpoint"
            state = "" if item.enabled else "  [disabled]"
            condition = f"  if {item.condition}" if item.condition else ""
            self.write(f"{item.number}  {kind}  {item.description}{condition}  (hit {item.hits} times){state}")
        self.write("stop on trap: yes")

    def _current_stream(self, name: str) -> HttpStream:
        host = self.debugger.host
        if name:
            streams = host.streams if host is not None else []
            for stream in streams:
                if stream.name == name:
                    return stream
            raise UsageError(f"no stream {name!r} yet" + (f" (streams: {', '.join(s.name for s in streams)})"
                                                           if streams else ""))
        stream = self.debugger.stream
        if stream is None:
            raise UsageError("this callback is not a stream's: give a stream (info stream NAME; info streams "
                             "lists them)")
        return stream

    def _info_stream(self, argument: str) -> None:
        stream = self._current_stream(argument)
        self.write(f"stream {stream.name}: {_stream_state(stream)}")
        self.write("  chain: " + ", ".join(_slot_state(slot) for slot in stream.slots))
        self._headers(stream)
        for label, body in (("request body", stream.request_body), ("response body", stream.response_body)):
            if body:
                self.write(f"  {label} ({len(body)} bytes): {_short(readable(body))}")
        if stream.local_response is not None:
            reply = stream.local_response
            self.write(f"  local reply by {reply.plugin or 'the proxy'}: {reply.status} {readable(reply.details)}")
        for call in stream.http_calls:
            self.write(f"  {_call_line(call)}")

    def _headers(self, stream: HttpStream) -> None:
        for label, headers in (("request headers", stream.request_headers),
                               ("request trailers", stream.request_trailers),
                               ("response headers", stream.response_headers),
                               ("response trailers", stream.response_trailers)):
            if headers is None:
                continue
            self.write(f"  {label} ({len(headers)}):")
            for name, value in headers.to_report():
                self.write(f"    {name}: {value}")

    def _info_streams(self, argument: str) -> None:
        host = self.debugger.host
        streams = host.streams if host is not None else []
        if not streams:
            self.write("no streams yet")
        for stream in streams:
            self.write(f"{stream.name}: {_stream_state(stream)}")

    def _info_headers(self, argument: str) -> None:
        stream = self._current_stream(argument)
        self.write(f"stream {stream.name}:")
        self._headers(stream)

    def _info_calls(self, argument: str) -> None:
        services = self._services()
        calls = services.http_callouts.calls
        grpc = services.grpc_callouts.calls
        if not calls and not grpc:
            self.write("no callouts yet")
        for call in calls:
            self.write(_call_line(call))
        for grpc_call in grpc:
            status = "open" if grpc_call.status is None else f"status {grpc_call.status[0]}"
            self.write(f"grpc {grpc_call.kind.value} {grpc_call.plugin.name}#{grpc_call.token} {grpc_call.path}: "
                       f"{grpc_call.state.value}, {status}")

    def _services(self) -> ProxyServices:
        services = self.debugger.services
        if services is None:
            raise UsageError("the proxy has not started yet")
        return services

    def _info_metrics(self, argument: str) -> None:
        metrics = self._services().metrics.report()
        if not metrics:
            self.write("no metrics yet")
        for name, value in metrics.items():
            self.write(f"{readable(name)} = {json.dumps(value)}")

    def _info_shared(self, argument: str) -> None:
        shared = self._services().shared_data.report()
        if not shared:
            self.write("no shared data")
        for vm_id, entries in shared.items():
            for key, entry in entries.items():
                self.write(f"[vm {vm_id!r}] {key} = {entry['value']!r} (cas {entry['cas']})")

    def _info_logs(self, argument: str) -> None:
        count = int(argument) if argument.isdigit() else DEFAULT_LOG_LINES
        logs = self._services().logs.select(None, None)
        if not logs:
            self.write("no log lines yet")
        if len(logs) > count:
            self.write(f"... {len(logs) - count} earlier lines (info logs N shows more)")
        for entry in logs[-count:]:
            where = f" ({entry.stream})" if entry.stream else ""
            self.write(f"[{entry.level.label}] {entry.plugin}{where}: {readable(entry.message)}")

    def _info_callbacks(self, argument: str) -> None:
        debugger = self.debugger
        current = debugger.callback.index if debugger.callback is not None and not debugger.finished else None
        for info in debugger.callbacks:
            marker = "=>" if info.index == current else "  "
            extent = f"steps {info.start}-{info.end}" if info.end is not None else f"from step {info.start}"
            self.write(f"{marker} #{info.index}  {extent}  {info.describe()}")

    def _info_plugins(self, argument: str) -> None:
        host = self.debugger.host
        if host is None:
            self.write("plugins: " + ", ".join(self.debugger.catalog.names) + " (loading)")
            return
        for link in host.plugin_set.links:
            plugin = link.current
            state = "FAILED" if plugin.failed else "ok"
            self.write(f"{plugin.name} ({link.kind.value}): {plugin.config.wasm_label}, ABI {plugin.abi_version.value}, "
                       f"{state}")

    def _info_failures(self, argument: str) -> None:
        host = self.debugger.host
        failures = host.failures if host is not None else []
        if not failures:
            self.write("no failures yet")
        for failure in failures:
            self.write(failure.describe() + (f" (stream {failure.stream})" if failure.stream else ""))
            for index, frame in enumerate(failure.backtrace):
                self.write(f"  {index}: {frame}")

    def _info_time(self, argument: str) -> None:
        self.write(f"step {self.debugger.position}, simulated time {self._time()}")


def _stream_state(stream: HttpStream) -> str:
    headers = stream.request_headers
    request = f"{headers.get(':method') or '?'} {headers.get(':authority') or ''}{headers.get(':path') or ''}"
    if stream.completed:
        state = "completed"
    elif stream.stalled:
        state = f"stalled ({stream.stalled})"
    elif stream.reset_reason:
        state = f"reset ({stream.reset_reason})"
    else:
        state = "open"
    response = stream.downstream_response
    answer = f", client got {response.status}" if response is not None else ""
    origin = ", reached the origin" if stream.upstream_request is not None else ""
    return f"{request}, {state}{origin}{answer}"


def _slot_state(slot: FilterSlot) -> str:
    plugin = slot.plugin
    parts = []
    for direction, state in (("request", slot.request), ("response", slot.response)):
        if state.held is not None:
            parts.append(f"{direction} paused in {state.held.kind.value}")
        elif state.body_paused:
            parts.append(f"{direction} body buffered")
    failed = " FAILED" if plugin.failed else ""
    return f"{plugin.name}{failed}" + (f" ({', '.join(parts)})" if parts else "")


def _call_line(call: HttpCall) -> str:
    response = call.response
    if response is None:
        outcome = "pending"
    elif response.failure:
        outcome = f"failed ({response.failure})"
    else:
        outcome = f"answered {response.headers.get(':status')}"
    stream = f" for stream {call.stream_name}" if call.stream_name else ""
    return f"http call {call.plugin.name}#{call.token} to {readable(call.upstream)}{stream}: {outcome}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " ..."
