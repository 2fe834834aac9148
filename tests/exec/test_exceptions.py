"""Exceptions at the API, on both engines: what an uncaught one carries,
exnref values in and out, host functions throwing into the guest, and
exceptions crossing host functions that called back into the guest."""

from __future__ import annotations

import pytest

from interp import EngineConfig, ExceptionInstance, HostFunction, Store, TagInstance, UncaughtException, parse_module
from interp.errors import HostFunctionError, Trap, UsageError
from interp.exec.engines import available_engines
from interp.syntax.types import F64, I32, FuncType

ENGINES = available_engines()

SOURCE = """
(module
  (import "env" "host_tag" (tag $host (param i32)))
  (import "env" "raise" (func $raise (param i32)))
  (import "env" "call_back" (func $call_back (param i32) (result i32)))
  (tag $oops (export "oops") (param i32 f64))
  (func $thrower (export "throw") (param i32)
    (throw $oops (local.get 0) (f64.const 0.5)))
  (func (export "catch_host") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $host $h) (call $raise (local.get 0)))
      (i32.const -1)))
  (func (export "through_host") (param i32) (result i32)
    (block $h (result i32 f64)
      (try_table (result i32) (catch $oops $h) (call $call_back (local.get 0)))
      (return))
    (drop))
  (func (export "catch_ref") (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $thrower (local.get 0)))
      (ref.null exn)))
  (func (export "throw_ref") (param exnref) (throw_ref (local.get 0)))
  (func (export "trap_is_no_exception") (result i32)
    (block $h
      (try_table (catch_all $h) (unreachable)))
    (i32.const 1)))
"""


def instantiate(engine: str, raised=None):
    store = Store(EngineConfig(engine=engine))
    host_tag = TagInstance(FuncType((I32,), ()), "host_tag")

    def raise_(value: int) -> None:
        raise (raised or host_tag.exception)(value)

    def call_back(caller, value: int) -> int:
        return caller.invoke("throw", value)[0]

    imports = {"env": {"host_tag": host_tag,
                       "raise": HostFunction(FuncType((I32,), ()), raise_, "raise"),
                       "call_back": HostFunction(FuncType((I32,), (I32,)), call_back, "call_back",
                                                 takes_caller=True)}}
    return store.instantiate(parse_module(SOURCE), imports), host_tag


@pytest.mark.parametrize("engine", ENGINES)
def test_an_uncaught_exception_carries_its_tag_payload_and_backtrace(engine: str) -> None:
    instance, _ = instantiate(engine)
    with pytest.raises(UncaughtException) as raised:
        instance.invoke("throw", 7)
    error = raised.value
    assert error.tag is instance.exports["oops"]
    assert error.values == [7, 0.5]
    assert str(error).startswith('tag $oops (i32:7, f64:0.5)')
    assert error.label == "uncaught exception"
    assert [entry.func_name for entry in error.backtrace] == ["thrower"]
    assert instance.store.machine.call_depth == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_host_function_throws_into_the_guest(engine: str) -> None:
    instance, _ = instantiate(engine)
    assert instance.invoke("catch_host", 5) == [5]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_host_exception_with_a_bad_payload_fails_the_host_function(engine: str) -> None:
    wrong = TagInstance(FuncType((I32,), ()), "wrong")
    instance, _ = instantiate(engine, raised=lambda value: UncaughtException(ExceptionInstance(wrong, ["x"])))
    with pytest.raises(HostFunctionError, match="bad payload"):
        instance.invoke("catch_host", 5)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exception_passes_through_a_host_function_that_called_back(engine: str) -> None:
    instance, _ = instantiate(engine)
    assert instance.invoke("through_host", 9) == [9]


@pytest.mark.parametrize("engine", ENGINES)
def test_exnref_values_go_out_and_back_in(engine: str) -> None:
    instance, _ = instantiate(engine)
    (caught,) = instance.invoke("catch_ref", 3)
    assert isinstance(caught, ExceptionInstance) and caught.tag is instance.exports["oops"]
    assert caught.values == (3, 0.5)
    with pytest.raises(UncaughtException) as raised:
        instance.invoke("throw_ref", caught)
    assert raised.value.exception is caught
    with pytest.raises(Trap, match="null exception reference"):
        instance.invoke("throw_ref", None)
    with pytest.raises(UsageError, match="not an exception reference"):
        instance.invoke("throw_ref", 12)


@pytest.mark.parametrize("engine", ENGINES)
def test_traps_are_not_caught(engine: str) -> None:
    instance, _ = instantiate(engine)
    with pytest.raises(Trap, match="unreachable"):
        instance.invoke("trap_is_no_exception")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_generator_host_function_gets_the_exception_of_its_guest_call(engine: str) -> None:
    source = """(module
      (import "env" "guard" (func $guard (param i32) (result i32)))
      (tag $t (param i32))
      (func (export "risky") (param i32) (result i32)
        (if (local.get 0) (then (throw $t (local.get 0))))
        (i32.const 100))
      (func (export "run") (param i32) (result i32) (call $guard (local.get 0))))"""

    def guard(caller, value):
        try:
            results = yield caller.call("risky", value)
        except UncaughtException as error:
            return -error.values[0]
        return results[0]

    store = Store(EngineConfig(engine=engine))
    host = HostFunction(FuncType((I32,), (I32,)), guard, "guard", takes_caller=True)
    instance = store.instantiate(parse_module(source), {"env": {"guard": host}})
    assert instance.invoke("run", 0) == [100]
    assert instance.invoke("run", 4) == [(-4) & 0xFFFF_FFFF]


def test_tags_are_generative_and_shared_through_imports() -> None:
    store = Store()
    exporter = parse_module('(module (tag (export "t") (param f64)))')
    first, second = store.instantiate(exporter), store.instantiate(exporter)
    assert first.exports["t"] is not second.exports["t"]
    importer = store.instantiate(parse_module('(module (import "m" "t" (tag (param f64))))'), {"m": first.exports})
    assert importer.tags[0] is first.exports["t"] and importer.tags[0].type == FuncType((F64,), ())
