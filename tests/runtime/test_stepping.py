"""Pausing and resuming execution between instructions."""

from __future__ import annotations

import pytest

from interp.errors import FuelExhaustedError, Trap, UsageError
from interp.exec.machine import Frame, HostFrame
from interp.runtime.function import HostFunction
from interp.exec.store import Store
from interp.syntax.types import I32, FuncType
from interp.text.parser import parse_module

FACTORIAL = """(module
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1))))))))"""


def test_stepping_one_instruction_at_a_time_gives_the_same_result_and_count() -> None:
    store = Store()
    instance = store.instantiate(parse_module(FACTORIAL))
    store.set_fuel(10_000)
    assert instance.invoke("fac", 10) == [3628800]
    instructions = 10_000 - store.fuel

    invocation = store.start(instance.exports["fac"], 10)
    steps = 0
    depths = set()
    while not invocation.run(1):
        steps += 1
        depths.add(len(invocation.frames))
    assert invocation.results == [3628800]
    assert steps + 1 == instructions
    assert depths == set(range(1, 12))  # fac(10) .. fac(0)
    assert store.machine.call_depth == 0


def test_paused_frames_show_function_pc_and_locals() -> None:
    store = Store()
    instance = store.instantiate(parse_module(FACTORIAL))
    invocation = store.start(instance.exports["fac"], 3)
    assert not invocation.run(12)
    frames = invocation.frames
    assert all(isinstance(f, Frame) and f.func.name == "fac" for f in frames)
    assert [f.regs[0] for f in frames] == list(range(3, 3 - len(frames), -1))
    assert invocation.run()
    assert invocation.results == [6]


def test_generator_host_function_calls_back_into_the_guest_and_can_be_paused_inside() -> None:
    text = """(module
      (import "env" "twice" (func $twice (param i32) (result i32)))
      (func $inc (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "run") (param i32) (result i32) (call $twice (local.get 0))))"""

    def twice(caller, value):
        [once] = yield caller.call("inc", value)
        [again] = yield caller.call("inc", once)
        return again * 10

    store = Store()
    instance = store.instantiate(parse_module(text), {"env": {
        "twice": HostFunction(FuncType((I32,), (I32,)), twice, takes_caller=True)}})
    assert instance.invoke("run", 5) == [70]

    invocation = store.start(instance.exports["run"], 5)
    seen_inside = False
    while not invocation.run(1):
        kinds = [type(f) for f in invocation.frames]
        if kinds == [Frame, HostFrame, Frame]:
            seen_inside = True
            assert invocation.frames[2].func.name == "inc"
    assert seen_inside
    assert invocation.results == [70]


def test_generator_host_function_errors_become_traps() -> None:
    text = """(module (import "env" "bad" (func $bad (result i32)))
      (func (export "run") (result i32) (call $bad)))"""

    def bad(caller):
        yield "not a request"

    store = Store()
    instance = store.instantiate(parse_module(text), {"env": {
        "bad": HostFunction(FuncType((), (I32,)), bad, takes_caller=True)}})
    with pytest.raises(Trap, match="not a caller.call"):
        instance.invoke("run")
    assert store.machine.call_depth == 0


def test_steps_beyond_the_fuel_raise_fuel_exhaustion() -> None:
    store = Store()
    instance = store.instantiate(parse_module(FACTORIAL))
    invocation = store.start(instance.exports["fac"], 20)
    store.set_fuel(5)
    assert not invocation.run(5)
    with pytest.raises(FuelExhaustedError):
        invocation.run(1)
    with pytest.raises(UsageError, match="cannot continue"):
        invocation.run()
    assert store.machine.call_depth == 0


def test_only_the_latest_invocation_can_run() -> None:
    store = Store()
    instance = store.instantiate(parse_module(FACTORIAL))
    outer = store.start(instance.exports["fac"], 5)
    outer.run(3)
    inner = store.start(instance.exports["fac"], 2)
    with pytest.raises(UsageError, match="started later"):
        outer.run()
    assert inner.run() and inner.results == [2]
    assert outer.run() and outer.results == [120]
