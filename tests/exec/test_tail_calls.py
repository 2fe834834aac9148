"""Tail calls (``return_call``, ``return_call_indirect``) on both engines:
constant frame space, host functions as callees, and backtraces in which
the replaced frame is gone."""

from __future__ import annotations

import pytest

from interp import EngineConfig, HostFunction, Store, parse_module
from interp.errors import ExhaustionError, Trap
from interp.exec.engines import available_engines
from interp.syntax.types import FuncType, I32, I64

ENGINES = available_engines()

MUTUAL = """
(module
  (import "env" "twice" (func $twice (param i64) (result i64)))
  (type $step (func (param i64) (result i64)))
  (table funcref (elem $even $odd $twice))
  (func $even (export "even") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 0))
      (else (return_call_indirect (type $step) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  (func (export "to_host") (param i64) (result i64)
    (return_call $twice (local.get 0)))
  (func (export "to_host_indirect") (param i64) (result i64)
    (return_call_indirect (type $step) (local.get 0) (i32.const 2)))
  (func $fail (param i64) (result i64) (unreachable))
  (func (export "replaced") (param i64) (result i64)
    (return_call $fail (local.get 0)))
  (func (export "wrong_type") (result i64)
    (return_call_indirect (param i32) (result i64) (i32.const 1) (i32.const 0))))
"""


def instantiate(engine: str, max_call_depth: int = 10_000):
    store = Store(EngineConfig(engine=engine, max_call_depth=max_call_depth))
    twice = HostFunction(FuncType((I64,), (I64,)), lambda value: value * 2, "twice")
    return store.instantiate(parse_module(MUTUAL), {"env": {"twice": twice}})


@pytest.mark.parametrize("engine", ENGINES)
def test_a_million_deep_mutual_tail_recursion_runs_in_constant_frame_space(engine: str) -> None:
    """Far deeper than the call-depth limit (here 50 frames) allows calls to go."""
    instance = instantiate(engine, max_call_depth=50)
    assert instance.invoke("even", 1_000_000) == [1]
    assert instance.invoke("odd", 1_000_001) == [1]
    assert instance.store.machine.call_depth == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_plain_calls_still_exhaust_the_stack(engine: str) -> None:
    store = Store(EngineConfig(engine=engine, max_call_depth=50))
    instance = store.instantiate(parse_module(
        "(module (func $f (export \"f\") (param i32) (result i32)"
        " (if (result i32) (local.get 0) (then (call $f (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0)))))"))
    with pytest.raises(ExhaustionError):
        instance.invoke("f", 100)


@pytest.mark.parametrize("engine", ENGINES)
def test_host_functions_can_be_tail_called(engine: str) -> None:
    instance = instantiate(engine)
    assert instance.invoke("to_host", 21) == [42]
    assert instance.invoke("to_host_indirect", 4) == [8]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_replaced_frame_is_not_in_the_backtrace(engine: str) -> None:
    instance = instantiate(engine)
    with pytest.raises(Trap) as trapped:
        instance.invoke("replaced", 1)
    assert [entry.func_name for entry in trapped.value.backtrace] == ["fail"]


@pytest.mark.parametrize("engine", ENGINES)
def test_return_call_indirect_checks_the_type(engine: str) -> None:
    instance = instantiate(engine)
    with pytest.raises(Trap, match="indirect call type mismatch"):
        instance.invoke("wrong_type")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_generator_host_function_can_be_tail_called(engine: str) -> None:
    """On the step machine its frame replaces the caller's: its results are the caller's."""
    store = Store(EngineConfig(engine=engine))
    source = """(module
      (import "env" "ask" (func $ask (param i32) (result i32)))
      (func (export "plus_one") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "go") (param i32) (result i32) (i32.mul (i32.const 10) (call $tail (local.get 0))))
      (func $tail (param i32) (result i32) (return_call $ask (local.get 0))))"""

    def ask(caller, value):
        answer = yield caller.call("plus_one", value)
        return answer[0] * 2

    host = HostFunction(FuncType((I32,), (I32,)), ask, "ask", takes_caller=True)
    instance = store.instantiate(parse_module(source), {"env": {"ask": host}})
    assert instance.invoke("go", 4) == [100]
