"""The trace: every callback into a plugin and every host call it makes, in
order, with decoded arguments and results.

Entries are plain JSON-ready dicts (``--trace FILE`` writes one per line):

* ``{"seq", "type": "callback", "plugin", "context_id", "stream", "name",
  "args": {...}, "result": ..., "error": ...}`` — ``result`` is filled in when
  the callback returns (an action by name for stream callbacks), ``error``
  when it fails;
* ``{"seq", "type": "hostcall", "plugin", "context_id", "name", "args":
  {...}, "status": "OK", "result": {...}}`` — ``context_id`` is the effective
  context; ``args`` are decoded (strings, map and buffer types by name,
  header pairs as ``[[name, value]]``), out-pointers left out;
* ``{"seq", "type": "event", "stream", "event", ...}`` — what the simulated
  proxy did: a request reaching the origin, a local reply, an HTTP call
  answered, a stream completing or stalling;
* with instruction tracing on (``--trace-instructions``), what the plugin's
  code does inside each callback, as the engine's tracer reports it:
  ``{"seq", "type": "instr", "plugin", "func", "offset", "op", "stack",
  "depth"}``, ``call`` / ``return`` (``func``, ``args`` / ``results``),
  ``memory_read`` / ``memory_write`` (``address``, ``size``, ``value``),
  ``global_write`` and ``trap`` entries (see interp/debug/tracing.py).

Long byte strings are shown whole: a trace is for debugging, and cutting a
body in the middle hides exactly what one looks for.  Lines are ASCII JSON
(other characters escaped), so any guest bytes can be written.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from interp.debug.tracing import InstructionEvent, Tracer
from interp.errors import ExecutionError


class Trace:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.error_statuses: dict[tuple[str, str, str], int] = {}

    def finish_hostcall(self, entry: dict[str, Any], status: str) -> None:
        """Record the status a host call answered; errors (anything but OK)
        are also counted per plugin, call and status, so nothing is silent."""
        entry["status"] = status
        if status != "OK":
            key = (entry["plugin"], entry["name"], status)
            self.error_statuses[key] = self.error_statuses.get(key, 0) + 1

    def _add(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry = {"seq": len(self.entries), **entry}
        self.entries.append(entry)
        return entry

    def callback(self, plugin: str, context_id: int | None, stream: str | None, name: str,
                 args: dict[str, Any]) -> dict[str, Any]:
        """Record a callback as it starts; the caller fills in ``result``."""
        return self._add({"type": "callback", "plugin": plugin, "context_id": context_id, "stream": stream,
                          "name": name, "args": args, "result": None})

    def hostcall(self, plugin: str, context_id: int | None, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Record a host call as it starts; the caller fills in ``status``
        and ``result``."""
        return self._add({"type": "hostcall", "plugin": plugin, "context_id": context_id, "name": name,
                          "args": args, "status": None, "result": {}})

    def event(self, event: str, stream: str | None = None, **details: Any) -> dict[str, Any]:
        return self._add({"type": "event", "stream": stream, "event": event, **details})

    def callbacks(self) -> list[tuple[str, str, int | None]]:
        """``(plugin, callback name, context id)`` of every callback, in
        order: what tests compare callback sequences against."""
        return [(entry["plugin"], entry["name"], entry["context_id"])
                for entry in self.entries if entry["type"] == "callback"]

    def hostcalls(self, name: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in self.entries
                if entry["type"] == "hostcall" and (name is None or entry["name"] == name)]

    def write_jsonl(self, stream: TextIO) -> None:
        for entry in self.entries:
            stream.write(json.dumps(entry) + "\n")


class InstructionRecorder(Tracer):
    """The engine's tracer for one plugin, writing into the host's trace."""

    def __init__(self, trace: Trace, plugin: str) -> None:
        self.trace = trace
        self.plugin = plugin

    def _entry(self, entry_type: str, **fields: Any) -> None:
        self.trace._add({"type": entry_type, "plugin": self.plugin, **fields})

    def instruction(self, event: InstructionEvent) -> None:
        self._entry("instr", func=event.func, offset=event.offset, op=event.op, stack=list(event.stack),
                    depth=event.depth)

    def call(self, func: str, args: list[str], depth: int) -> None:
        self._entry("call", func=func, args=args, depth=depth)

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._entry("return", func=func, results=results, depth=depth)

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        self._entry("trap", func=func, kind=error.label, message=error.message, depth=depth)

    def memory_read(self, address: int, size: int, value: str, depth: int) -> None:
        self._entry("memory_read", address=address, size=size, value=value, depth=depth)

    def memory_write(self, address: int, size: int, value: str, depth: int) -> None:
        self._entry("memory_write", address=address, size=size, value=value, depth=depth)

    def global_write(self, index: int, name: str, value: str, depth: int) -> None:
        self._entry("global_write", index=index, name=name, value=value, depth=depth)
