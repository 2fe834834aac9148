"""The compiled loop's superinstructions (interp/exec/native/fusion.py):
they are chosen where the lowered code has their sequence, and a fused
sequence charges the fuel of each of its instructions and traps at the pc
of the instruction that traps, exactly as the step machine does."""

from __future__ import annotations

import dataclasses

import pytest

from interp.errors import FuelExhaustedError, Trap
from interp.exec import engines
from interp.exec.native import cython_semantics
from interp.exec.native.encode import deserialize, encode_function, serialize
from interp.exec.native.fusion import SHAPES, fusions, operand_words
from interp.exec.store import EngineConfig, Store
from interp.loader import module_from_bytes
from interp.translate.compiled import compile_module

needs_loop = pytest.mark.skipif("cython" not in engines.available_engines(), reason="the compiled loop is not built")

# Every kind of part: locals and constants into arithmetic, a local.set, a
# compare deciding br_if and if, loads and stores at a local's address, a
# division that traps inside a fused sequence, a result computed on at once,
# and constants that need all 64 bits.
PROGRAM = """(module
  (memory 1)
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (i32.store (i32.mul (local.get $i) (i32.const 4)) (local.get $i))
        (local.set $acc (i32.add (local.get $acc) (i32.load (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $acc (i32.xor (local.get $acc) (i32.const 0x55)))
        (if (i32.lt_u (local.get $i) (i32.const 3)) (then (local.set $acc (i32.add (local.get $acc) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func (export "divide") (param $a i32) (param $b i32) (result i32) (local $q i32)
    (local.set $q (i32.div_s (local.get $a) (local.get $b)))
    (local.get $q))
  (func (export "poke") (param $address i32) (param $value i32)
    (i32.store offset=8 (local.get $address) (local.get $value)))
  (func (export "mix") (param $a i32) (param $b i32) (result i32)
    (i32.xor (local.get $a) (i32.rotl (local.get $b) (i32.const 7))))
  (func (export "wide") (result i64)
    (i64.add (i64.const -0x7fff_ffff_ffff_ffff) (i64.const 0x7fff_ffff_ffff_ffff))))"""


def _store(engine: str):
    store = Store(EngineConfig(engine=engine))
    return store, store.instantiate(module_from_bytes(PROGRAM.encode()))


def test_every_superinstruction_fits_its_words_and_has_a_case() -> None:
    assert len(fusions()) > len(SHAPES)
    for fusion in fusions():
        arities = tuple(len(op.params or ()) for op in fusion.ops)
        assert operand_words(fusion.shape.parts, arities) <= 3
        case = cython_semantics.fused_case(fusion)
        assert case[0] == f"fuel -= {len(fusion.shape.parts) - 1}"
    names = cython_semantics.opcode_names()
    assert names[-len(fusions()):] == tuple(fusion.name for fusion in fusions())


def test_a_fused_case_is_the_instructions_semantics_over_locals_and_constants() -> None:
    by_name = {fusion.name: fusion for fusion in fusions()}
    case = cython_semantics.fused_case(by_name["local.get+const+compute+local.set:i32.add"])
    assert "R[c].u32 = (<uint32_t>(R[a].u32 + (<uint32_t>b)))" in case
    division = cython_semantics.fused_case(by_name["local.get+local.get+compute+local.set:i32.div_s"])
    assert "    fuel += 1" in division and "    self._trap(TRAP_INTEGER_DIVIDE_BY_ZERO, pc + 2)" in division


@needs_loop
def test_the_encoding_fuses_and_keeps_what_it_replaced() -> None:
    from interp.exec.native import loop  # the built loop: its opcode numbers
    compiled = compile_module(module_from_bytes(PROGRAM.encode()))
    encoded = encode_function(compiled.lower(0), compiled.context, loop.OPCODES)
    first_fused = min(loop.OPCODES[fusion.name] for fusion in fusions())
    heads = [pc for pc in range(len(encoded.code) // 4) if encoded.code[4 * pc] >= first_fused]
    assert len(heads) >= 5
    assert list(encoded.unfused[0::5]) == heads
    plain = {loop.OPCODES[name] for name in cython_semantics.LOOP_OPERATIONS} | {
        loop.OPCODES[op.name] for op in cython_semantics.data_semantics_ops()}
    assert all(word in plain for word in encoded.unfused[1::5])
    again = deserialize(serialize(encoded))
    assert again is not None and again.unfused == encoded.unfused and again.code == encoded.code
    for broken in (encoded.unfused[:-1], encoded.unfused[:0]):  # not whole records, or none at all
        assert deserialize(serialize(dataclasses.replace(encoded, unfused=broken))) is None
    record = serialize(encoded)
    for broken in (record[:-1], record + b"\x00", record[:-1] + b"\x80", record[:-1] + b"\xff" * 10 + b"\x01"):
        assert deserialize(broken) is None  # cut short, too long, a number left open, one wider than 64 bits


@needs_loop
@pytest.mark.parametrize("fuel", range(0, 140, 1))
def test_fuel_runs_out_at_the_same_instruction_on_both_engines(fuel: int) -> None:
    outcomes = []
    for engine in ("python", "cython"):
        store, instance = _store(engine)
        store.set_fuel(fuel)
        try:
            outcomes.append(("result", instance.invoke("sum", 6), store.fuel))
        except FuelExhaustedError as error:
            outcomes.append(("exhausted", str(error), store.fuel))
    assert outcomes[0] == outcomes[1]


@needs_loop
def test_a_trap_inside_a_fused_sequence_reports_its_instruction() -> None:
    reports = []
    for engine in ("python", "cython"):
        store, instance = _store(engine)
        store.set_fuel(100)
        with pytest.raises(Trap) as division:
            instance.invoke("divide", 7, 0)
        remaining = store.fuel
        assert instance.invoke("divide", 7, 2) == [3]
        with pytest.raises(Trap) as out_of_bounds:
            instance.invoke("poke", 65530, 1)
        reports.append((str(division.value), remaining, str(out_of_bounds.value)))
    assert reports[0] == reports[1]
    assert "divide by zero" in reports[0][0] and reports[0][1] == 100 - 3  # both local.gets, then the division


@needs_loop
def test_a_result_computed_on_at_once_is_one_superinstruction() -> None:
    from interp.exec.native import loop  # the built loop: its opcode numbers
    compiled = compile_module(module_from_bytes(PROGRAM.encode()))
    encoded = encode_function(compiled.lower(3), compiled.context, loop.OPCODES)
    names = {number: name for name, number in loop.OPCODES.items()}
    assert [names[word] for word in encoded.code[0::4]] == [
        "copy", "local.get+const+compute+compute:i32.rotl:i32.xor", "const", "i32.rotl", "i32.xor", "return"]
    results = []
    for engine in ("python", "cython"):
        _, instance = _store(engine)
        results.append((instance.invoke("mix", 0x1234_5678, 0x9ABC_DEF0), instance.invoke("wide")))
    assert results[0] == results[1] == ([0x1234_5678 ^ 0x5E6F_784D], [0])
