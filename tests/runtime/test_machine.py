"""The step machine: frames, traps with backtraces, call depth and fuel."""

from __future__ import annotations

import pytest

from interp.binary.decode import decode_module
from interp.errors import ExhaustionError, FuelExhaustedError, Trap
from interp.exec.machine import MAX_STACK_SLOTS
from interp.exec.store import EngineConfig, Store
from interp.loader import module_from_bytes
from interp.translate.compiled import compile_module

RECURSIVE = """(module
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $down (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 0)))))"""


def instance_of(text: str, config: EngineConfig | None = None):
    store = Store(config)
    return store, store.instantiate(module_from_bytes(text.encode()))


def test_guest_recursion_does_not_use_python_recursion() -> None:
    _, instance = instance_of(RECURSIVE, EngineConfig(max_call_depth=50_000))
    assert instance.invoke("down", 20_000) == [0]


def test_call_depth_limit_is_exact_and_reports_exhaustion() -> None:
    store, instance = instance_of(RECURSIVE, EngineConfig(max_call_depth=100))
    assert instance.invoke("down", 99) == [0]  # 100 frames
    with pytest.raises(ExhaustionError, match="call stack exhausted") as caught:
        instance.invoke("down", 100)
    assert len(caught.value.backtrace) == 100
    assert store.machine.call_depth == 0
    assert instance.invoke("down", 3) == [0]  # the machine is usable afterwards


def test_trap_backtrace_names_functions_and_binary_offsets() -> None:
    text = """(module
      (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func $main (export "main") (param i32) (result i32) (call $divide (i32.const 7) (local.get 0))))"""
    store, instance = instance_of(text)
    assert instance.invoke("main", 2) == [3]
    with pytest.raises(Trap, match="integer divide by zero") as caught:
        instance.invoke("main", 0)
    module = instance.module
    div = next(i for i in module.funcs[0].body if i.op.name == "i32.div_s")
    call = next(i for i in module.funcs[1].body if i.op.name == "call")
    assert [(e.func_name, e.offset) for e in caught.value.backtrace] == [
        ("divide", div.offset), ("main", call.offset)]
    assert div.offset > 0 and call.offset > div.offset
    assert store.machine.call_depth == 0


def test_fuel_counts_every_executed_instruction() -> None:
    text = """(module (func (export "f") (result i32) i32.const 1 i32.const 2 i32.add))"""
    store, instance = instance_of(text)
    store.set_fuel(4)  # three instructions and the final end
    assert instance.invoke("f") == [3]
    assert store.fuel == 0
    store.set_fuel(3)
    with pytest.raises(FuelExhaustedError) as caught:
        instance.invoke("f")
    assert caught.value.backtrace[0].func_index == 0
    store.set_fuel(None)
    assert instance.invoke("f") == [3]
    assert store.fuel is None


def test_fuel_stops_an_infinite_loop() -> None:
    store, instance = instance_of("""(module (func (export "spin") (loop (br 0))))""")
    store.set_fuel(10_000)
    with pytest.raises(FuelExhaustedError):
        instance.invoke("spin")


def test_multi_value_blocks_and_branches_move_values() -> None:
    text = """(module (func (export "f") (param i32) (result i32 i32)
      (block (result i32 i32)
        (i32.const 1) (i32.const 2)
        (br_if 0 (local.get 0))
        (drop) (drop) (i32.const 3) (i32.const 4))))"""
    _, instance = instance_of(text)
    assert instance.invoke("f", 1) == [1, 2]
    assert instance.invoke("f", 0) == [3, 4]


def test_text_modules_get_the_offsets_of_their_binary_encoding() -> None:
    from interp.binary.encode import encode_module
    from interp.text.parser import parse_module

    text = '(module (func (export "f") (result i32) (i32.const 5)))'
    via_loader = module_from_bytes(text.encode())
    direct = decode_module(encode_module(parse_module(text)))
    assert [i.offset for i in via_loader.funcs[0].body] == [i.offset for i in direct.funcs[0].body]
    assert all(i.offset > 0 for i in via_loader.funcs[0].body)


def test_frames_with_many_locals_exhaust_the_stack_before_the_host() -> None:
    """A small module whose frames hold 50,000 locals each, recursing 9,000
    deep, would need 3.5 GB of slots; both engines stop it at the same bound
    of slots with "call stack exhausted", and the step machine gives the
    slots back."""
    wat = ('(module (func $f (export "f") (param $n i32) (result i32) (local ' + "i64 " * 50_000 + ')'
           ' (if (result i32) (local.get $n) (then (call $f (i32.sub (local.get $n) (i32.const 1))))'
           ' (else (i32.const 0)))))')
    compiled = compile_module(module_from_bytes(wat.encode()))
    depths = []
    for engine in ("python", "cython"):
        store = Store(EngineConfig(engine=engine))
        if store.engine != engine:
            continue
        instance = store.instantiate(compiled)
        with pytest.raises(ExhaustionError) as raised:
            instance.invoke("f", 9_000)
        depths.append(len(raised.value.backtrace))
        if engine == "python":
            assert store.machine.slots_in_use == 0
            assert instance.invoke("f", 10) == [0]  # still usable
    assert all(depth * 50_001 <= MAX_STACK_SLOTS for depth in depths)
