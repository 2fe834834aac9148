"""The debugging session: stepping, breakpoints, watchpoints, traps, and
reverse execution landing exactly where forward execution was."""

from __future__ import annotations

import signal
import threading

import pytest

from interp.debug.session import DebugSession, HostMarker, StopReason
from interp.dwarf.source_map import SourceMap
from interp.errors import Trap, UsageError
from interp.loader import module_from_bytes, read_module
from interp.runtime.function import HostFunction
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import I32, FuncType

from tests.debug.modules import FIB, PROGRAMS


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


CALLBACKS = """(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "thrice" (func $thrice (param i32) (result i32)))
  (memory 1)
  (func $double (export "double") (param i32) (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.add (local.get 0) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (i32.add (call $twice (local.get 0)) (call $thrice (local.get 0))))
  (func $crash (export "crash") (param i32) (result i32)
    (call $twice (i32.div_u (i32.const 1) (local.get 0)))))"""

DOUBLE_FAILS = """(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (func $double (export "double") (param i32) (result i32)
    (i32.div_u (i32.const 100) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (i32.add (call $twice (local.get 0)) (i32.const 1))))"""


def callback_imports(calls: list, forgiving: bool = False) -> dict:
    def twice(caller, value: int) -> int:  # calls back at once: Caller.invoke, twice
        calls.append(("twice", value))
        try:
            once = caller.invoke("double", value)[0]
        except Trap:
            if not forgiving:
                raise
            return 99
        return caller.invoke("double", once)[0]

    def thrice(caller, value: int):  # a generator host function: the machine runs its request
        calls.append(("thrice", value))
        doubled = yield caller.call("double", value)
        return doubled[0] + value

    return {"env": {"twice": HostFunction(FuncType((I32,), (I32,)), twice, takes_caller=True),
                    "thrice": HostFunction(FuncType((I32,), (I32,)), thrice, takes_caller=True)}}


def callback_state(session: DebugSession) -> tuple:
    frames = tuple((f.func.index, f.pc, tuple(f.regs)) for f in session.frames)
    memory = bytes(session.store.instances[0].memory.data[:4])
    return session.position, frames, memory, session.finished


@pytest.mark.parametrize("interval", [1, 3, 20_000])
def test_stepping_into_guest_code_host_functions_call_back_and_back_again(interval: int) -> None:
    calls: list = []
    session = session_for(CALLBACKS, "run", 5, imports=callback_imports(calls), interval=interval)
    forward = [callback_state(session)]
    stacks = []
    while not session.finished:
        session.step()
        forward.append(callback_state(session))
        stacks.append(tuple(entry.describe() if isinstance(entry, HostMarker) else entry.func.describe()
                            for entry in session.call_stack()))
    assert session.results == [5 * 4 + 5 * 3] and calls == [("twice", 5), ("thrice", 5)]
    assert stacks[0] == ("run",)
    assert stacks[1] == ("double", "[host function twice]", "run")  # inside Caller.invoke's guest code
    assert ("double", "[host function thrice]", "run") in stacks      # inside a generator's request
    assert len(forward) == 37  # every instruction of run and of the three calls of double, one step each
    for expected in reversed(forward[:-1]):
        session.reverse_step()
        assert callback_state(session) == expected
    session.step(20)  # forward again through recorded history: restored, not run again
    assert callback_state(session) == forward[20]
    assert session.continue_().reason is StopReason.FINISHED and callback_state(session) == forward[-1]
    assert calls == [("twice", 5), ("thrice", 5)]  # no host function ran twice


def test_breakpoints_stop_inside_guest_code_called_back_and_finish_returns_through_the_host() -> None:
    calls: list = []
    session = session_for(CALLBACKS, "run", 5, imports=callback_imports(calls))
    session.break_at_function("double")
    positions = []
    while (stop := session.continue_()).reason is StopReason.BREAKPOINT:
        positions.append((session.position, session.current.locals()[0].value))
    assert positions == [(2, 5), (12, 10), (24, 5)] and session.results == [35]
    session.reverse_continue()
    assert session.position == 24 and calls == [("twice", 5), ("thrice", 5)]
    session.delete()
    session.reverse_step(22)
    assert session.position == 2 and len(session.frames) == 2  # the first double, called back by twice
    stop = session.finish()  # returns to the host function, which calls double again
    assert stop.reason is StopReason.STEP and session.current.func.name == "run"
    assert session.current.stack()[-1][1] == 20  # twice(5) = double(double(5))


def test_a_trap_in_guest_code_called_back_goes_to_the_host_function() -> None:
    calls: list = []
    session = session_for(DOUBLE_FAILS, "run", 0, imports=callback_imports(calls, forgiving=True))
    stop = session.continue_()
    assert stop.reason is StopReason.TRAP and session.current.func.name == "double"  # the frames to look at
    trapped_at = session.position
    stop = session.continue_()  # the host function gets the trap, handles it, and the call goes on
    assert stop.reason is StopReason.FINISHED and session.results == [100]
    session.reverse_step(session.position - trapped_at)
    assert session.current.instruction_text == "i32.div_u" and not session.trapped
    assert session.step().reason is StopReason.STEP  # over the recorded trap: restored, not run again
    assert session.current.func.name == "run"
    assert session.continue_().reason is StopReason.FINISHED and calls == [("twice", 0)]
    session = session_for(DOUBLE_FAILS, "run", 0, imports=callback_imports([], forgiving=False))
    assert session.continue_().reason is StopReason.TRAP
    stop = session.continue_()  # this host function lets it through: the call instruction traps
    assert stop.reason is StopReason.TRAP and session.current.func.name == "run"
    assert session.continue_().reason is StopReason.TRAP  # and that is the end
    session.close()


def test_conditional_temporary_and_disabled_breakpoints() -> None:
    session = session_for(FIB, "fib", 4)
    conditional = session.break_at_function("fib", condition="n == 1")
    hits = []
    while session.continue_().reason is StopReason.BREAKPOINT:
        hits.append(session.evaluate("n").storage.data[0])
    assert hits == [1, 1, 1] and conditional.hits == 3
    session = session_for(FIB, "fib", 4)
    temporary = session.break_at("fib", temporary=True)
    assert session.continue_().breakpoint is temporary and temporary.number not in session.breakpoints
    assert session.continue_().reason is StopReason.FINISHED
    session = session_for(FIB, "fib", 4)
    broken = session.break_at("fib", condition="nothing > 1")
    stop = session.continue_()
    assert stop.breakpoint is broken and "no variable 'nothing'" in stop.describe()  # stops, and says why
    session.enable(broken.number, False)
    assert session.continue_().reason is StopReason.FINISHED
    with pytest.raises(UsageError):
        session.break_at("fib", condition="1 @ 2")
    with pytest.raises(UsageError):
        session.set_condition(99, "1")


def test_until_frames_and_restarting_with_the_same_breakpoints() -> None:
    session = session_for(COUNTER, "run", 4, imports=tick_imports([]))
    body = session.invocation.func.instance.module.funcs[0].body
    br_if = next(pc for pc, instruction in enumerate(body) if instruction.op.name == "br_if")
    session.step(br_if)
    assert session.current.pc == br_if
    session.until()  # past the loop's backward branch: out of the loop
    assert session.current.pc == br_if + 1 and session.evaluate("$i").storage.data[0] == 4
    session = session_for(FIB, "fib", 3)
    session.break_at("fib", condition="n == 0")
    session.continue_()
    assert [view.locals()[0].value for view in session.backtrace()] == [0, 2, 3]
    assert session.select_frame(2).locals()[0].value == 3 and session.evaluate("n").storage.data[0] == 3
    with pytest.raises(UsageError, match="no frame 3"):
        session.select_frame(3)
    fresh = session_for(FIB, "fib", 3)
    assert fresh.adopt(session) == []
    assert [(b.number, b.condition) for b in fresh.breakpoints.values()] == [(1, "n == 0")]
    assert fresh.continue_().reason is StopReason.BREAKPOINT and fresh.position == session.position


def test_watching_an_expression_in_memory() -> None:
    session = session_for(COUNTER, "run", 3, imports=tick_imports([]))
    watchpoint = session.watch_expression("{int} 8")
    stop = session.continue_()
    assert stop.watchpoint is watchpoint and (stop.old_value, stop.new_value) == ("0", "20")


def test_interrupting_a_host_function_that_never_returns_leaves_the_session_usable() -> None:
    spinning = threading.Event()

    def spin(caller, value: int) -> int:
        spinning.set()
        while True:
            pass

    imports = {"env": {"twice": HostFunction(FuncType((I32,), (I32,)), spin, takes_caller=True),
                       "thrice": HostFunction(FuncType((I32,), (I32,)), spin, takes_caller=True)}}
    session = session_for(CALLBACKS, "run", 5, imports=imports)

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            session.continue_()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert spinning.is_set() and session.current.instruction_text == "call $twice"  # before the call, as it was
    assert session.reverse_step().reason is StopReason.STEP and session.position == 0
    session.close()


BOX = """(module
  (type $box (struct (field $count (mut i32))))
  (type $counts (array (mut i32)))
  (global $box (ref $box) (struct.new $box (i32.const 0)))
  (global $counts (ref $counts) (array.new_default $counts (i32.const 3)))
  (func (export "bump") (param $n i32) (result i32)
    (loop $again
      (struct.set $box $count (global.get $box) (i32.add (struct.get $box $count (global.get $box)) (i32.const 1)))
      (array.set $counts (global.get $counts) (i32.rem_u (local.get $n) (i32.const 3)) (local.get $n))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (struct.get $box $count (global.get $box))))"""


def heap_state(session: DebugSession) -> tuple:
    """The fields of the structs and arrays the globals hold (which existed
    before the run, so re-execution cannot make them anew)."""
    box, counts = (cell.value for cell in session.store.instances[0].globals)
    return session.position, tuple(box.fields), tuple(counts.elements)


@pytest.mark.parametrize("interval", [1, 7, 20_000])
def test_reverse_execution_restores_the_fields_of_structs_and_arrays(interval: int) -> None:
    session = session_for(BOX, "bump", 5, interval=interval)
    forward = [heap_state(session)]
    while not session.finished:
        session.step()
        forward.append(heap_state(session))
    assert forward[-1][1:] == ((5,), (3, 1, 2))
    backward = [heap_state(session)]
    while session.position > 0:
        session.reverse_step()
        backward.append(heap_state(session))
    assert backward == forward[::-1]


def test_frames_show_structs_and_arrays_by_their_names() -> None:
    session = session_for(BOX, "bump", 2)
    session.step(3)  # global.get $box, global.get $box, struct.get
    assert session.current.typed_stack() == ["(ref $box):struct $box {count 0}", "(ref $box):struct $box {count 0}"]
    session.step(9)
    assert session.current.instruction_text == "array.set $counts"
    assert session.current.typed_stack()[0] == "(ref $counts):array $counts [0, 0, 0]"
