"""Compiled blocks of the step machine: same results, same fuel, same trap
locations as the single instructions' handlers."""

from __future__ import annotations

import pytest

from interp import HostFunction
from interp.errors import FuelExhaustedError, Trap
from interp.exec import blocks
from interp.exec.store import EngineConfig, Store
from interp.loader import module_from_bytes
from interp.syntax.module import Export, Func, Instruction, Module
from interp.syntax.opcodes import OPS, OPS_BY_NAME, Op
from interp.syntax.semantics import Compute
from interp.syntax.types import ExternKind, FuncType, ValType
from interp.syntax.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits

LOOP = """(module
  (memory 1)
  (func $sum (export "sum") (param $n i32) (param $divisor i32) (result i32) (local $i i32) (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc)
                               (i32.div_u (i32.mul (local.get $i) (i32.const 3)) (local.get $divisor))))
      (i32.store (i32.mul (local.get $i) (i32.const 4)) (local.get $acc))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))"""


def python_store() -> Store:
    return Store(EngineConfig(engine="python"))


def instance_of(text: str, store: Store):
    return store.instantiate(module_from_bytes(text.encode()))


def executed(text: str, export: str, *args: int) -> tuple[list, int]:
    store = python_store()
    instance = instance_of(text, store)
    store.set_fuel(10**9)
    results = instance.invoke(export, *args)
    return results, 10**9 - store.fuel


def test_a_loop_that_turns_is_compiled_during_the_first_call() -> None:
    store = python_store()
    instance = instance_of(LOOP, store)
    assert instance.invoke("sum", 10, 1) == [135]
    assert instance.exports["sum"].bound.blocks is None  # a loop that barely turned
    iterations = blocks.HOT_BACK_EDGES + 10
    assert instance.invoke("sum", iterations, 1) == executed(LOOP, "sum", iterations, 1)[0]
    assert instance.exports["sum"].bound.blocks is not None


def test_a_long_first_call_goes_on_in_the_blocks() -> None:
    """Compiled while its loop runs, the function goes on in its blocks
    from the next iteration: same result, same fuel, whenever that happens."""
    for iterations in (blocks.HOT_BACK_EDGES - 1, blocks.HOT_BACK_EDGES, blocks.HOT_BACK_EDGES + 1, 1000):
        results, fuel = executed(LOOP, "sum", iterations, 3)
        store = python_store()
        instance = instance_of(LOOP, store)
        invocation = store.start(instance.exports["sum"], iterations, 3)
        steps = 1
        while not invocation.run(1):  # one instruction at a time: on the closures throughout
            steps += 1
        assert (invocation.results, steps) == (results, fuel)


def test_fuel_is_counted_per_instruction_inside_blocks() -> None:
    store = python_store()
    instance = instance_of(LOOP, store)
    invocation = store.start(instance.exports["sum"], 50, 7)
    steps = 0
    while not invocation.run(1):
        steps += 1
    stepped = steps + 1  # every instruction, one at a time, with the closures
    results, counted = executed(LOOP, "sum", 50, 7)
    assert results == invocation.results and counted == stepped
    for budget in (stepped - 1, stepped // 2, 17):
        store = python_store()
        instance = instance_of(LOOP, store)
        store.set_fuel(budget)
        with pytest.raises(FuelExhaustedError):
            instance.invoke("sum", 50, 7)
        assert store.fuel == 0


def test_a_trap_inside_a_block_names_its_instruction() -> None:
    store = python_store()
    instance = instance_of(LOOP, store)
    assert instance.invoke("sum", 3, 1) == [9]
    divide = next(i for i in instance.module.funcs[0].body if i.op.name == "i32.div_u")
    with pytest.raises(Trap, match="integer divide by zero") as caught:
        instance.invoke("sum", 3, 0)
    assert caught.value.backtrace[0].offset == divide.offset
    store_instr = next(i for i in instance.module.funcs[0].body if i.op.name == "i32.store")
    with pytest.raises(Trap, match="out of bounds memory access") as caught:
        instance.invoke("sum", 20_000, 1)
    assert caught.value.backtrace[0].offset == store_instr.offset


def test_hot_functions_without_loops_compile_after_a_few_calls() -> None:
    text = '(module (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))'
    store = python_store()
    instance = instance_of(text, store)
    for call in range(1, blocks.HOT_CALLS + 1):
        assert instance.invoke("f", call) == [call + 1]
    assert instance.exports["f"].bound.blocks is not None


# Operands for every instruction computed from the table: the edges of each type.
EDGES = {
    ValType.I32: [0, 1, 31, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF],
    ValType.I64: [0, 1, 63, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF],
    ValType.F32: [0x0000_0000, 0x8000_0000, 0x3FC0_0000, 0xCF00_0000, 0x7F80_0000, 0x7FA0_0000],
    ValType.F64: [0x0, 0x8000_0000_0000_0000, 0x3FF8_0000_0000_0000, 0xC3E0_0000_0000_0000,
                  0x7FF0_0000_0000_0000, 0x7FF4_0000_0000_0000],
}
CONSTS = {ValType.I32: "i32.const", ValType.I64: "i64.const", ValType.F32: "f32.const", ValType.F64: "f64.const"}
COMPUTED = [op for op in OPS if isinstance(op.semantics, Compute)]


def outcome(store: Store, func: object, args: tuple) -> object:
    try:
        [value] = store.invoke(func, *args)
    except Trap as trap:
        return trap.message
    return value if not isinstance(value, float) else ("bits", f64_to_bits(value), f32_to_bits(value))


@pytest.mark.parametrize("op", COMPUTED, ids=lambda op: op.name)
def test_blocks_compute_as_the_closures(op: Op) -> None:
    """Every instruction computed from the table, on the edges of its operand
    types, with its operands in locals and as constants: the closures (first
    call) and the compiled blocks (a call after the function got hot) agree."""
    params, result = op.params, op.results[0]
    from_locals = tuple(Instruction(OPS_BY_NAME["local.get"], i) for i in range(len(params)))
    store = Store(EngineConfig(engine="python"))
    for position in range(len(EDGES[params[0]])):
        values = tuple(EDGES[t][(position + i) % len(EDGES[t])] for i, t in enumerate(params))
        constants = tuple(Instruction(OPS_BY_NAME[CONSTS[t]], v) for t, v in zip(params, values))
        args = tuple(f32_from_bits(v) if t is ValType.F32 else f64_from_bits(v) if t is ValType.F64 else v
                     for t, v in zip(params, values))
        module = Module(types=(FuncType(params, (result,)), FuncType((), (result,))),
                        funcs=(Func(0, (), from_locals + (Instruction(op), Instruction(OPS_BY_NAME["end"]))),
                               Func(1, (), constants + (Instruction(op), Instruction(OPS_BY_NAME["end"])))),
                        exports=(Export("locals", ExternKind.FUNC, 0), Export("constants", ExternKind.FUNC, 1)))
        instance = store.instantiate(module)
        for name, call_args in (("locals", args), ("constants", ())):
            func = instance.exports[name]
            first = outcome(store, func, call_args)
            for _ in range(blocks.HOT_CALLS):
                last = outcome(store, func, call_args)
            assert func.bound.blocks is not None
            assert last == first, (name, values)


TRAP_AFTER_A_HOST_CALL = b'''(module (import "env" "f" (func $f (result i32)))
  (func (export "divide") (param i32 i32) (result i32)
    (drop (call $f))
    (i32.add (i32.const 1) (i32.add (i32.const 2) (i32.div_s (local.get 0) (local.get 1))))))'''


@pytest.mark.parametrize("warm_calls", [0, blocks.HOT_CALLS + 1])
def test_a_trap_inside_a_compiled_block_charges_only_what_ran(warm_calls: int) -> None:
    """A block is charged whole when it starts; when it traps, the fuel of
    the instructions after the one that trapped comes back, so the fuel
    spent is the closures' (a host call keeps the function on the blocks)."""
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(TRAP_AFTER_A_HOST_CALL),
                                 {"env": {"f": HostFunction(FuncType((), (ValType.I32,)), lambda: 3, "f")}})
    for _ in range(warm_calls):
        instance.invoke("divide", 7, 1)
    store.set_fuel(100)
    with pytest.raises(Trap, match="integer divide by zero"):
        instance.invoke("divide", 7, 0)
    assert (instance.exports["divide"].bound.blocks is not None) == bool(warm_calls)
    assert 100 - store.fuel == 7  # call, drop, two i32.const, two local.get and the i32.div_s that traps


def test_a_loop_compiled_while_it_runs_goes_on_in_its_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The back edge that compiles the function hands the machine over to
    the blocks (``RESUME``): the iterations left run there, not on the handlers."""
    ran: list[int] = []
    compile_blocks = blocks.compile_blocks

    def counted(bound):  # the compiled blocks, each counting its runs
        compiled = compile_blocks(bound)
        for start, entry in enumerate(compiled.entries):
            if entry is not bound.code[start]:
                compiled.entries[start] = lambda R, A, entry=entry, start=start: ran.append(start) or entry(R, A)
        return compiled

    monkeypatch.setattr(blocks, "compile_blocks", counted)
    store = python_store()
    instance = instance_of(LOOP, store)
    iterations = blocks.HOT_BACK_EDGES + 10
    assert instance.invoke("sum", iterations, 1) == executed(LOOP, "sum", iterations, 1)[0]
    assert instance.exports["sum"].bound.blocks is not None
    assert len(ran) >= 10  # the last iterations, at least one block each


def test_instructions_of_a_kind_share_one_handler() -> None:
    """Binding an instruction makes no function: its handler is its kind's,
    its own part a tuple of ints (slots, next pc)."""
    store = python_store()
    instance = instance_of(LOOP, store)
    instance.invoke("sum", 3, 1)
    bound = instance.exports["sum"].bound
    names = [operation.name for operation in bound.lowered.ops]
    for name in ("local.get", "i32.add", "i32.const"):
        pcs = [pc for pc, found in enumerate(names) if found == name]
        assert len(pcs) > 1 and len({id(bound.code[pc]) for pc in pcs}) == 1
        assert len({bound.args[pc] for pc in pcs}) == len(pcs)
        assert all(all(type(value) is int for value in bound.args[pc]) for pc in pcs)


def test_a_larger_function_waits_for_more_calls() -> None:
    """Compiling costs in proportion to a function's size: a larger one
    compiles after more calls than ``HOT_CALLS``, in proportion to it."""
    body = "(drop (i32.add (local.get 0) (i32.const 1)))" * 60
    text = f'(module (func (export "f") (param i32) (result i32) {body} (local.get 0)))'
    store = python_store()
    instance = instance_of(text, store)
    instance.invoke("f", 1)
    bound = instance.exports["f"].bound
    calls = int(len(bound.lowered.ops) * blocks.CALLS_PER_INSTRUCTION)
    assert calls > blocks.HOT_CALLS
    for _ in range(calls - 2):
        assert instance.invoke("f", 1) == [1]
    assert bound.blocks is None
    assert instance.invoke("f", 1) == [1]
    assert bound.blocks is not None
