"""Whole functions compiled to Python (interp/exec/whole.py): the same
results, fuel, traps and backtraces as the machine's closures run one
instruction at a time, through nested labels, tables of branches, direct and
indirect calls, deep recursion and running out of fuel anywhere."""

from __future__ import annotations

import pytest

from interp import HostFunction
from interp.errors import ExhaustionError, FuelExhaustedError, Trap
from interp.exec.store import EngineConfig, Store
from interp.exec.blocks import HOT_CALLS
from interp.exec.whole import MAX_NESTED_CALLS
from interp.loader import module_from_bytes
from interp.syntax.types import FuncType, I32

PROGRAM = """(module
  (import "env" "double" (func $double (param i32) (result i32)))
  (memory 1)
  (type $unary (func (param i32) (result i32)))
  (table funcref (elem $square $double $fib))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $labels (export "labels") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc)
          (block $picked (result i32)
            (block $three
              (block $two
                (block $one
                  (block $zero (br_table $zero $one $two $three (i32.rem_u (local.get $i) (i32.const 5))))
                  (br $picked (i32.const 100)))
                (br $picked (loop $inner (result i32)
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (if (i32.eq (local.get $i) (i32.const 7)) (then (br $next)))
                  (br_if $inner (i32.lt_u (local.get $i) (i32.const 3)))
                  (i32.const 10))))
              (br $picked (i32.mul (local.get $i) (i32.const 3))))
            (if (result i32) (i32.and (local.get $i) (i32.const 1))
              (then (br $done))
              (else (i32.const 1000))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.add (local.get $acc) (local.get $i)))
  (func $pair (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) (i32.const 1)))
  (func (export "pairs") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (call $pair (local.get $n))
      (local.set $acc (i32.add (local.get $acc) (i32.mul)))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next))
    (local.get $acc))
  (func $through (export "through") (param i32) (param i32) (result i32)
    (call_indirect (type $unary) (local.get 0) (local.get 1)))
  (func (export "indirect") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc)
        (call $through (local.get $n) (i32.rem_u (local.get $n) (i32.const 2)))))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next))
    (local.get $acc))
  (func $deep (export "deep") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))
      (else (i32.div_u (i32.const 1) (local.get 0)))))
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))
      (else (i32.const 0))))
  (func (export "grow") (param i32) (result i32) (local $i i32)
    (loop $next
      (i32.store (i32.mul (local.get $i) (i32.const 4)) (memory.grow (i32.const 0)))
      (local.tee $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get 0))))
    (i32.load (i32.const 4))))"""


def instantiate(max_call_depth: int = 10_000):
    store = Store(EngineConfig(engine="python", max_call_depth=max_call_depth))
    double = HostFunction(FuncType((I32,), (I32,)), lambda value: value * 2 & 0xFFFF_FFFF, "double")
    return store, store.instantiate(module_from_bytes(PROGRAM.encode()), {"env": {"double": double}})


def stepped(export: str, *args: int, fuel: int = 10**9) -> tuple[object, int]:
    """One instruction at a time on the closures: the results (or the error)
    and the instructions run."""
    store, instance = instantiate()
    store.set_fuel(fuel)
    invocation = store.start(instance.exports[export], *args)
    try:
        while not invocation.run(1):
            pass
    except (Trap, FuelExhaustedError) as error:
        return (type(error), error.message, error.backtrace), fuel - store.fuel
    return invocation.results, fuel - store.fuel


def compiled(export: str, *args: int, fuel: int = 10**9, warm: tuple = ()) -> tuple[object, int]:
    """Run compiled, after ``HOT_CALLS`` calls with the ``warm`` arguments
    (by default ``args``) made it hot."""
    store, instance = instantiate()
    for call in range(HOT_CALLS):
        warm_args = (warm or (args,))[call % len(warm or (args,))]
        try:
            instance.invoke(export, *warm_args)
        except Trap:
            pass
    store.set_fuel(fuel)
    try:
        results = instance.invoke(export, *args)
    except (Trap, FuelExhaustedError) as error:
        assert store.machine.call_depth == 0
        return (type(error), error.message, error.backtrace), fuel - store.fuel
    assert instance.exports[export].bound.whole is not None
    return results, fuel - store.fuel


CASES = [("fib", (15,), ((3,), (4,))), ("labels", (40,), ()), ("labels", (9,), ()), ("pairs", (30,), ()),
         ("indirect", (30,), ()), ("down", (MAX_NESTED_CALLS * 3,), ((1,), (2,))), ("grow", (5,), ())]


@pytest.mark.parametrize("export, args, warm", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_compiled_functions_compute_and_count_as_the_closures(export: str, args: tuple, warm: tuple) -> None:
    expected = stepped(export, *args)
    assert compiled(export, *args, warm=warm) == expected
    assert isinstance(expected[0], list)


@pytest.mark.parametrize("export, args, warm", CASES[:5], ids=[f"{c[0]}{c[1]}" for c in CASES[:5]])
def test_running_out_of_fuel_stops_exactly_where_the_closures_stop(export: str, args: tuple, warm: tuple) -> None:
    """Every budget short of the whole run, in compiled code and in the
    callees it calls: the same backtrace, all the fuel spent."""
    _, needed = stepped(export, *args)
    for budget in sorted({1, 2, 3, 5, needed // 3, needed // 2, needed - 7, needed - 1}):
        error, spent = compiled(export, *args, fuel=budget, warm=warm)
        assert (error, spent) == stepped(export, *args, fuel=budget), budget
        assert error[0] is FuelExhaustedError and spent == budget


def test_a_trap_deep_in_compiled_recursion_has_every_frame_in_its_backtrace() -> None:
    expected, _ = stepped("deep", 30)
    error, _ = compiled("deep", 30, warm=((1,), (2,)))
    assert error == expected
    assert error[1] == "integer divide by zero" and len(error[2]) == 31


def test_compiled_recursion_deeper_than_python_nests_and_still_exhausts_the_stack() -> None:
    store, instance = instantiate(max_call_depth=MAX_NESTED_CALLS * 4)
    instance.invoke("down", HOT_CALLS)  # the recursion's calls make it hot
    assert instance.exports["down"].bound.whole is not None
    assert instance.invoke("down", MAX_NESTED_CALLS * 4 - 1) == [MAX_NESTED_CALLS * 4 - 1]
    with pytest.raises(ExhaustionError):
        instance.invoke("down", MAX_NESTED_CALLS * 4)
    assert store.machine.call_depth == 0 and store.machine.slots_in_use == 0


def test_functions_calling_the_host_stay_on_the_machine() -> None:
    text = """(module (import "env" "f" (func $f (result i32)))
      (func (export "g") (result i32) (local $i i32)
        (loop $next (local.set $i (i32.add (local.get $i) (call $f))) (br_if $next (i32.lt_u (local.get $i) (i32.const 9000))))
        (local.get $i)))"""
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(text.encode()),
                                 {"env": {"f": HostFunction(FuncType((), (I32,)), lambda: 3, "f")}})
    assert instance.invoke("g") == [9000]  # its loop turns often enough to make it hot
    bound = instance.exports["g"].bound
    assert bound.blocks is not None and bound.whole is None


def test_functions_nested_deeper_than_python_compiles_stay_on_the_blocks() -> None:
    """25 loops inside each other, each branched to: Python compiles at most
    20 nested loops, so the function runs on its compiled blocks."""
    depth = 25
    loops = "".join(f"(loop $l{i} " for i in range(depth))
    body = ("(local.set 1 (i32.add (local.get 1) (i32.const 1)))"
            "(br_if $l24 (i32.lt_u (local.get 1) (local.get 0)))"
            + "".join(f"(br_if $l{i} (i32.eqz (local.get 1)))" for i in range(depth - 1, -1, -1)))
    text = (f'(module (func (export "f") (param i32) (result i32) (local i32) {loops}{body}{")" * depth}'
            ' (local.get 1)))')
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(text.encode()))
    assert instance.invoke("f", 1000) == [1000]  # its loops turn often enough to make it hot
    bound = instance.exports["f"].bound
    assert bound.blocks is not None and bound.whole is None
