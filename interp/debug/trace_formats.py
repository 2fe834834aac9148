"""The shapes of ``glasswasm trace`` output, as ``Tracer``s writing to a text
stream.

* ``TextTrace``: one line per instruction, indented by call depth — offset,
  instruction, operand stack — with calls, returns, tail calls, exceptions
  (thrown, the frames they leave, where they are caught) and effects
  between them;
* ``JsonLinesTrace``: one JSON object per event, each with its ``step``, for
  programs to read;
* ``CallTreeTrace``: only calls, as a tree: ``fib(i32:5) { ... } = i32:5``;
* ``ChromeCallTrace``: the Chrome Trace Event format, calls as nested slices
  on a timeline whose clock is the step count (one instruction, one
  microsecond), for Perfetto UI and chrome://tracing.
"""

from __future__ import annotations

import json
from typing import Any, Callable, TextIO

from interp.debug.chrome_trace import ChromeTraceWriter, Track
from interp.debug.tracing import InstructionEvent, Tracer
from interp.errors import ExecutionError

INDENT = "  "


def memory_name(memory: int) -> str:
    """How a text trace names a memory: ``mem`` for memory 0, the only one
    of most modules, ``mem1`` ... for the others (multi-memory)."""
    return f"mem{memory}" if memory else "mem"


def memory_field(memory: int) -> dict[str, int]:
    """The ``memory`` field of a JSON memory event: there only for memories
    other than memory 0, so that single-memory traces stay as they were."""
    return {"memory": memory} if memory else {}


def _offset(offset: int | None) -> str:
    return f"{offset:06x}" if offset is not None else "------"


class TextTrace(Tracer):
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _line(self, depth: int, text: str) -> None:
        self.out.write(f"{INDENT * depth}{text}\n")

    def instruction(self, event: InstructionEvent) -> None:
        stack = " ".join(event.stack)
        self._line(event.depth, f"{_offset(event.offset)}: {event.op:<28} [{stack}]")

    def call(self, func: str, args: list[str], depth: int) -> None:
        self._line(depth, f"call {func}({', '.join(args)})")

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._line(depth, f"return {func} = {', '.join(results) or '()'}")

    def host_call(self, func: str, args: list[str], depth: int) -> None:
        self._line(depth + 1, f"call host {func}({', '.join(args)})")

    def host_return(self, func: str, results: list[str], depth: int) -> None:
        self._line(depth + 1, f"return host {func} = {', '.join(results) or '()'}")

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        self._line(depth, f"{error.label}: {error.message}")

    def tail_call(self, func: str, callee: str, args: list[str], depth: int) -> None:
        self._line(depth, f"return_call {callee}({', '.join(args)})  (replaces {func})")

    def throw(self, func: str | None, exception: str, depth: int) -> None:
        self._line(depth, f"throw {exception}")

    def unwind(self, func: str, exception: str, depth: int) -> None:
        self._line(depth, f"unwind {func}")

    def catch(self, func: str, offset: int | None, exception: str, depth: int) -> None:
        self._line(depth, f"catch in {func}, going on at {_offset(offset)}")

    def memory_read(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._line(depth + 1, f"; read  {memory_name(memory)}[{address:#x}..+{size}] = {value}")

    def memory_write(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._line(depth + 1, f"; write {memory_name(memory)}[{address:#x}..+{size}] = {value}")

    def global_write(self, index: int, name: str, value: str, depth: int) -> None:
        self._line(depth + 1, f"; write {name} = {value}")

    def stopped(self, steps: int) -> None:
        self.out.write(f"... stopped after {steps} instructions (--max-steps)\n")


class JsonLinesTrace(Tracer):
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _event(self, event: str, **fields: object) -> None:
        self.out.write(json.dumps({"event": event, "step": self.step, **fields}, ensure_ascii=True) + "\n")

    def instruction(self, event: InstructionEvent) -> None:
        self._event("instr", func=event.func, func_index=event.func_index, offset=event.offset,
                    op=event.op, stack=list(event.stack), depth=event.depth)

    def call(self, func: str, args: list[str], depth: int) -> None:
        self._event("call", func=func, args=args, depth=depth)

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._event("return", func=func, results=results, depth=depth)

    def host_call(self, func: str, args: list[str], depth: int) -> None:
        self._event("host_call", func=func, args=args, depth=depth)

    def host_return(self, func: str, results: list[str], depth: int) -> None:
        self._event("host_return", func=func, results=results, depth=depth)

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        self._event("trap", func=func, kind=error.label, message=error.message, depth=depth,
                    backtrace=[entry.describe() for entry in error.backtrace])

    def tail_call(self, func: str, callee: str, args: list[str], depth: int) -> None:
        self._event("tail_call", func=func, callee=callee, args=args, depth=depth)

    def throw(self, func: str | None, exception: str, depth: int) -> None:
        self._event("throw", func=func, exception=exception, depth=depth)

    def unwind(self, func: str, exception: str, depth: int) -> None:
        self._event("unwind", func=func, exception=exception, depth=depth)

    def catch(self, func: str, offset: int | None, exception: str, depth: int) -> None:
        self._event("catch", func=func, offset=offset, exception=exception, depth=depth)

    def memory_read(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._event("memory_read", address=address, size=size, value=value, depth=depth, **memory_field(memory))

    def memory_write(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        self._event("memory_write", address=address, size=size, value=value, depth=depth, **memory_field(memory))

    def global_write(self, index: int, name: str, value: str, depth: int) -> None:
        self._event("global_write", index=index, name=name, value=value, depth=depth)

    def stopped(self, steps: int) -> None:
        self._event("stopped", steps=steps)


class CallTreeTrace(Tracer):
    """Calls as a tree.  A call's line is printed once it is known whether it
    makes calls itself: ``f(args) {`` ... ``} = results`` if it does,
    ``f(args) = results`` if not."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.open: list[tuple[str, int]] = []  # calls not returned yet: (their text, depth)
        self.pending: str | None = None        # the innermost call, not printed yet

    def _flush_pending(self) -> None:
        if self.pending is not None:
            depth = len(self.open) - 1
            self.out.write(f"{INDENT * depth}{self.pending} {{\n")
            self.pending = None

    def _enter(self, text: str) -> None:
        self._flush_pending()
        self.open.append((text, len(self.open)))
        self.pending = text

    def _leave(self, results: list[str], trapped: str | None = None) -> None:
        if not self.open:
            return
        text, depth = self.open.pop()
        outcome = trapped if trapped is not None else f"= {', '.join(results) or '()'}"
        if self.pending is not None:
            self.out.write(f"{INDENT * depth}{text} {outcome}\n")
            self.pending = None
        else:
            self.out.write(f"{INDENT * depth}}} {outcome}\n")

    def call(self, func: str, args: list[str], depth: int) -> None:
        self._enter(f"{func}({', '.join(args)})")

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._leave(results)

    def host_call(self, func: str, args: list[str], depth: int) -> None:
        self._enter(f"host {func}({', '.join(args)})")

    def host_return(self, func: str, results: list[str], depth: int) -> None:
        self._leave(results)

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        while self.open:
            self._leave([], trapped=f"{error.label}: {error.message}")

    def tail_call(self, func: str, callee: str, args: list[str], depth: int) -> None:
        self._leave([], trapped=f"-> {callee}")
        self._enter(f"{callee}({', '.join(args)})")

    def unwind(self, func: str, exception: str, depth: int) -> None:
        self._leave([], trapped=f"! {exception}")

    def stopped(self, steps: int) -> None:
        self._flush_pending()
        self.out.write(f"... stopped after {steps} instructions (--max-steps)\n")


class ChromeCallTrace(Tracer):
    """Calls and host calls as slices of one track, at ``ts`` = step (a call
    from its call instruction to one past its last instruction); a trap or
    the step limit is an instant event, and whatever is open then ends there."""

    TRACK = Track(1, 1)

    def __init__(self, out: TextIO, title: str = "wasm") -> None:
        self.writer = ChromeTraceWriter(out, {"clock": "one microsecond per executed WebAssembly instruction",
                                              "producer": "glasswasm trace"})
        self.writer.name_process(self.TRACK.pid, title)
        self.writer.name_thread(self.TRACK, "calls")

    def call(self, func: str, args: list[str], depth: int) -> None:
        self.writer.begin(self.TRACK, func, self.step, "wasm", {"args": args})

    def return_(self, func: str, results: list[str], depth: int) -> None:
        self._end({"results": results})

    def host_call(self, func: str, args: list[str], depth: int) -> None:
        self.writer.begin(self.TRACK, f"host {func}", self.step, "host", {"args": args})

    def host_return(self, func: str, results: list[str], depth: int) -> None:
        self._end({"results": results})

    def _end(self, args: dict[str, Any]) -> None:
        if self.writer.open_slices(self.TRACK):  # a filtered trace can return from what it did not enter
            self.writer.end(self.TRACK, self.step, args)

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None:
        self.writer.instant(self.TRACK, f"{error.label}: {error.message}", self.step, "trap",
                            {"backtrace": [entry.describe() for entry in error.backtrace]})

    def tail_call(self, func: str, callee: str, args: list[str], depth: int) -> None:
        self._end({"tail_call": callee})
        self.writer.begin(self.TRACK, callee, self.step, "wasm", {"args": args})

    def throw(self, func: str | None, exception: str, depth: int) -> None:
        self.writer.instant(self.TRACK, f"throw {exception}", self.step, "exception", {"func": func})

    def unwind(self, func: str, exception: str, depth: int) -> None:
        self._end({"exception": exception})

    def catch(self, func: str, offset: int | None, exception: str, depth: int) -> None:
        self.writer.instant(self.TRACK, f"catch in {func}", self.step, "exception",
                            {"exception": exception, "offset": offset})

    def stopped(self, steps: int) -> None:
        self.writer.instant(self.TRACK, f"stopped after {steps} instructions", self.step, "limit")

    def finish(self) -> None:
        self.writer.close(self.step)


TRACE_FORMATS: dict[str, Callable[[TextIO, str], Tracer]] = {
    "text": lambda out, title: TextTrace(out),
    "jsonl": lambda out, title: JsonLinesTrace(out),
    "calls": lambda out, title: CallTreeTrace(out),
    "chrome": ChromeCallTrace,
}
"""Each format's tracer, made from the stream to write and a title (what is traced)."""
