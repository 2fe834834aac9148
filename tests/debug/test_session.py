"""The debugging session: stepping, breakpoints, watchpoints, traps, and
reverse execution landing exactly where forward execution was."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.debug.session import DebugSession, StopReason
from interp.debug.source_map import SourceMap
from interp.errors import UsageError
from interp.loader import module_from_bytes, read_module
from interp.runtime.function import HostFunction
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import I32, FuncType

PROGRAMS = Path(__file__).parent / "programs"
REPOSITORY = Path(__file__).resolve().parents[2]

FIB = """(module
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))"""

COUNTER = """(module
  (import "env" "tick" (func $tick (param i32) (result i32)))
  (memory 1)
  (global $total (mut i32) (i32.const 0))
  (func $run (export "run") (param $n i32) (result i32) (local $i i32)
    (loop $again
      (i32.store (i32.mul (local.get $i) (i32.const 4)) (call $tick (local.get $i)))
      (global.set $total (i32.add (global.get $total) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (global.get $total)))"""


def session_for(text: str, export: str, *args: int, imports=None, interval: int = 20_000) -> DebugSession:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(text.encode()), imports)
    return DebugSession(store, instance.exports[export], list(args), checkpoint_interval=interval)


def state(session: DebugSession) -> tuple:
    """Everything the guest can see, to compare two moments of one run."""
    frames = tuple((f.func.index, f.pc, tuple(f.regs)) for f in session.frames)
    memories = tuple(bytes(instance.memory.data) for instance in session.store.instances if instance.memory)
    globals_ = tuple(cell.value for instance in session.store.instances for cell in instance.globals)
    return session.position, frames, memories, globals_, session.finished


def tick_imports(calls: list[int]):
    def tick(value: int) -> int:
        calls.append(value)
        return value * 10
    return {"env": {"tick": HostFunction(FuncType((I32,), (I32,)), tick)}}


def test_step_next_finish_and_results() -> None:
    session = session_for(FIB, "fib", 3)
    assert session.current.instruction_text == "local.get $n" and session.position == 0
    session.step(7)
    assert session.current.instruction_text == "call $fib" and len(session.frames) == 1
    session.step()
    assert len(session.frames) == 2 and session.current.locals()[0].value == 2
    session.finish()
    assert len(session.frames) == 1 and session.current.stack()[-1][1] == 1
    session.step(3)
    assert session.current.instruction_text == "call $fib"
    session.next()
    assert len(session.frames) == 1 and [value for _, value in session.current.stack()] == [1, 1]
    stop = session.continue_()
    assert stop.reason is StopReason.FINISHED and session.results == [2]


@pytest.mark.parametrize("interval", [1, 5, 20_000])
def test_reverse_stepping_lands_on_the_states_forward_stepping_saw(interval: int) -> None:
    calls: list[int] = []
    session = session_for(COUNTER, "run", 6, imports=tick_imports(calls), interval=interval)
    forward = [state(session)]
    while not session.finished:
        session.step()
        forward.append(state(session))
    assert session.results == [15] and calls == [0, 1, 2, 3, 4, 5]
    for expected in reversed(forward[:-1]):
        session.reverse_step()
        assert state(session) == expected
    assert calls == [0, 1, 2, 3, 4, 5]  # going back never ran a host function again
    session.step(len(forward) // 2)
    assert state(session) == forward[len(forward) // 2]
    assert session.reverse_step(10_000).reason is StopReason.START and state(session) == forward[0]


def test_breakpoints_and_reverse_continue() -> None:
    session = session_for(FIB, "fib", 4)
    breakpoint = session.break_at_function("fib")
    hits = []
    while (stop := session.continue_()).reason is StopReason.BREAKPOINT:
        hits.append((session.position, session.current.locals()[0].value))
    assert stop.reason is StopReason.FINISHED and breakpoint.hits == len(hits) == 8
    assert [n for _, n in hits] == [3, 2, 1, 0, 1, 2, 1, 0]
    for position, n in reversed(hits):
        stop = session.reverse_continue()
        assert stop.reason is StopReason.BREAKPOINT and session.position == position
        assert session.current.locals()[0].value == n
    assert session.reverse_continue().reason is StopReason.START and session.position == 0
    assert breakpoint.hits == 8  # going back is not hitting again


def test_breakpoint_at_an_offset_and_on_a_host_function() -> None:
    calls: list[int] = []
    session = session_for(COUNTER, "run", 3, imports=tick_imports(calls))
    body = session.invocation.func.instance.module.funcs[0].body
    store_offset = next(i.offset for i in body if i.op.name == "i32.store")
    session.break_at_offset(store_offset)
    session.break_at_host_function("tick")
    assert session.continue_().breakpoint.description == "host tick" and calls == []
    assert session.continue_().breakpoint.description.endswith(f"@ {store_offset:#x}") and calls == [0]
    with pytest.raises(UsageError):
        session.break_at_offset(1)
    with pytest.raises(UsageError):
        session.break_at_function("nope")


def test_watchpoints_forward_and_back() -> None:
    calls: list[int] = []
    session = session_for(COUNTER, "run", 4, imports=tick_imports(calls))
    session.watch_memory(8, 4)
    stop = session.continue_()
    assert stop.reason is StopReason.WATCHPOINT
    assert (stop.old_value, stop.new_value) == ("00 00 00 00", "14 00 00 00")  # tick(2) == 20
    watch_position = session.position
    session.delete()
    session.watch_global("total")
    changes = []
    while (stop := session.continue_()).reason is StopReason.WATCHPOINT:
        changes.append(stop.new_value)
    assert changes == ["i32:3", "i32:6"]  # 0+0 does not change it, then +1 after the memory stop... +2, +3
    session.delete()
    session.watch_memory(8, 4)
    assert session.reverse_continue().reason is StopReason.WATCHPOINT and session.position == watch_position


def test_a_trap_stops_with_the_frames_to_look_at_and_can_be_reversed() -> None:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(read_module(PROGRAMS / "collatz.wasm"))
    session = DebugSession(store, instance.exports["divide"], [7, 0],
                           source_map=SourceMap.for_module(instance.module, search_paths=[PROGRAMS]))
    stop = session.continue_()
    assert stop.reason is StopReason.TRAP and stop.error.message == "integer divide by zero"
    assert session.current.instruction_text == "i32.div_s"
    assert str(session.location()).endswith("traps.c:10:23")
    trapped_at = session.position
    session.reverse_step()
    assert session.position == trapped_at - 1 and not session.trapped
    assert session.step().reason is StopReason.STEP and session.current.instruction_text == "i32.div_s"
    assert session.step().reason is StopReason.TRAP


def test_source_lines_stepping_and_line_breakpoints() -> None:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(read_module(PROGRAMS / "collatz.wasm"))
    source_map = SourceMap.for_module(instance.module, search_paths=[PROGRAMS])
    session = DebugSession(store, instance.exports["collatz_length"], [6], source_map=source_map)
    session.break_at_line("collatz_step.h", 5)
    assert session.continue_().reason is StopReason.BREAKPOINT
    assert session.location().line == 5
    lines = []
    for _ in range(3):
        session.step_line(over=True)
        lines.append(session.location().line)
    assert lines == [6, 8, 11]  # return n / 2, the closing brace, back in collatz_length
    assert "collatz_step" in source_map.source_line(session.location())
