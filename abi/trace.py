"""The trace: every callback into a plugin and every host call it makes, and
what the simulated proxy did, in order, with decoded arguments and results.

An entry is recorded when it is complete — a callback when it starts and
again when it returns, a host call when it has answered — and gets the next
``seq`` then, and ``time_ns``, the simulated time since the run started
(the host sets the trace's ``clock``).  Entries go, as they are recorded, to
a sink (``--trace FILE`` writes one JSON object per line), to the
``listeners`` (the Chrome timeline, the HTML report's recorder) and, when the
trace keeps them, to ``entries`` (the Python API's default, bounded by
``max_entries``: later ones are counted in ``dropped``).  Nothing else holds
on to them, so a long run traced to a file does not grow the host's memory.

* ``{"seq", "type": "callback", "plugin", "context_id", "stream", "name",
  "args": {...}}`` — a callback starting;
* ``{"seq", "type": "callback_return", "plugin", "context_id", "stream",
  "name", "result": ...}`` (or ``"error"``) — it returned (an action by
  name for stream callbacks) or failed;
* ``{"seq", "type": "hostcall", "plugin", "context_id", "name", "args":
  {...}, "status": "OK", "result": {...}}`` — ``context_id`` is the effective
  context; ``args`` are decoded (strings, map and buffer types by name,
  header pairs as ``[[name, value]]``), out-pointers left out;
* ``{"seq", "type": "event", "stream", "event", ...}`` — what the simulated
  proxy did: a request reaching the origin, a local reply, a callout
  answered, a stream completing or stalling, a limit crossed...;
* with instruction tracing on (``--trace-instructions PLUGIN``), what the
  plugin's code does inside each callback, as the engine's tracer reports
  it: ``{"seq", "time_ns", "type": "instr", "plugin", "step", "func",
  "offset", "op", "stack", "depth"}``, ``call`` / ``return`` (``func``,
  ``args`` / ``results``), ``host_call`` / ``host_return``, ``memory_read``
  / ``memory_write`` (``address``, ``size``, ``value``; ``memory``, the
  index, for a memory other than memory 0), ``global_write``
  and ``trap`` entries (see interp/debug/tracing.py); ``step`` counts the
  instructions traced in that plugin's VM so far.

Lines are ASCII JSON (other characters escaped), so any guest bytes can be
written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from interp.debug.trace_formats import memory_field
from interp.debug.tracing import InstructionEvent, Tracer
from interp.errors import ExecutionError

DEFAULT_MAX_ENTRIES = 1_000_000


class Trace:
    """See the module docstring.  ``keep``: hold the entries in memory
    (``entries``); ``sink``: write each as a JSON line; ``listeners``: called
    with each entry."""

    def __init__(self, keep: bool = True, sink: TextIO | None = None,
                 max_entries: int = DEFAULT_MAX_ENTRIES,
                 listeners: Iterable[Callable[[dict[str, Any]], None]] = ()) -> None:
        self.keep = keep
        self.sink = sink
        self.listeners = list(listeners)
        self.clock: Callable[[], int] | None = None
        self.max_entries = max_entries
        self.entries: list[dict[str, Any]] = []
        self.dropped = 0
        self.recorded = 0
        self.error_statuses: dict[tuple[str, str, str], int] = {}

    def record(self, entry: dict[str, Any]) -> None:
        """Record a complete entry (see the module docstring)."""
        head: dict[str, Any] = {"seq": self.recorded}
        if self.clock is not None:
            head["time_ns"] = self.clock()
        entry = {**head, **entry}
        self.recorded += 1
        if self.sink is not None:
            self.sink.write(json.dumps(entry) + "\n")
        for listener in self.listeners:
            listener(entry)
        if self.keep:
            if len(self.entries) < self.max_entries:
                self.entries.append(entry)
            else:
                self.dropped += 1

    def callback(self, plugin: str, context_id: int | None, stream: str | None, name: str,
                 args: dict[str, Any]) -> None:
        self.record({"type": "callback", "plugin": plugin, "context_id": context_id, "stream": stream,
                     "name": name, "args": args})

    def callback_return(self, plugin: str, context_id: int | None, stream: str | None, name: str,
                        **outcome: Any) -> None:
        """``result=...`` or ``error=...``."""
        self.record({"type": "callback_return", "plugin": plugin, "context_id": context_id, "stream": stream,
                     "name": name, **outcome})

    def begin_hostcall(self, plugin: str, context_id: int | None, name: str,
                       args: dict[str, Any]) -> dict[str, Any]:
        """An entry for a host call to fill in; ``end_hostcall`` records it."""
        return {"type": "hostcall", "plugin": plugin, "context_id": context_id, "name": name, "args": args,
                "status": None, "result": {}}

    def end_hostcall(self, entry: dict[str, Any], status: Any) -> None:
        """Record the host call with the status it answered; errors (anything
        but OK) are also counted per plugin, call and status, so nothing is
        silent."""
        entry["status"] = status
        if status != "OK":
            key = (entry["plugin"], entry["name"], str(status))
            self.error_statuses[key] = self.error_statuses.get(key, 0) + 1
        self.record(entry)

    def event(self, event: str, stream: str | None = None, **details: Any) -> None:
        self.record({"type": "event", "stream": stream, "event": event, **details})

    # --- reading what was kept -----------------------------------------------------------

    def callbacks(self) -> list[tuple[str, str, int | None]]:
        """``(plugin, callback name, context id)`` of every callback, in
        order: what tests compare callback sequences against."""
        return [(entry["plugin"], entry["name"], entry["context_id"])
                for entry in self.entries if entry["type"] == "callback"]

    def returns(self, name: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in self.entries
                if entry["type"] == "callback_return" and (name is None or entry["name"] == name)]

    def hostcalls(self, name: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in self.entries
                if entry["type"] == "hostcall" and (name is None or entry["name"] == name)]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in self.entries
                if entry["type"] == "event" and (name is None or entry["event"] == name)]


class InstructionRecorder(Tracer):
    """The engine's tracer for one plugin VM, writing into the host's trace.
    ``plugin`` names the plugin whose callback runs (set per callback in a
    VM several plugins share)."""

    def __init__(self, trace: Trace, plugin: str) -> None:
        self.trace = trace
        self.plugin = plugin

    def _entry(self, entry_type: str, **fields: Any) -> None:
        self.trace.record({"type": entry_type, "plugin": self.plugin, "step": self.step, **fields})

    def instruction(self, event: InstructionEvent) -> None:
        self._entry("instr", func=event.func, offset=event.offset, op=event.op, stack=list(event.stack),
                    depth=event.depth)

    def call(self, func: str, args: list[str], depth: int) -> None:
        self._entry("call", func=func, args=args, depth=depth)

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._entry("return", func=func, results=results, depth=depth)

    def host_call(self, func: str, args: list[str], depth: int) -> None:
        self._entry("host_call", func=func, args=args, depth=depth)

    def host_return(self, func: str, results: list[str], depth: int) -> None:
        self._entry("host_return", func=func, results=results, depth=depth)

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        self._entry("trap", func=func, kind=error.label, message=error.message, depth=depth)

    def memory_read(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._entry("memory_read", address=address, size=size, value=value, depth=depth, **memory_field(memory))

    def memory_write(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._entry("memory_write", address=address, size=size, value=value, depth=depth, **memory_field(memory))

    def global_write(self, index: int, name: str, value: str, depth: int) -> None:
        self._entry("global_write", index=index, name=name, value=value, depth=depth)
