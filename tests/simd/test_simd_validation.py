"""Validation of the vector instructions: every lane immediate is bounded by
its lane count, every vector load and store by its natural alignment, the
shuffle's indices by 32 lanes; v128 operands are typed like any other value
(untyped ``select`` takes them)."""

from __future__ import annotations

import dataclasses

import pytest

from interp.errors import InvalidError
from interp.syntax.opcodes import OPS, OPS_BY_NAME, PREFIX_SIMD, Imm, Op
from interp.syntax.types import ValType
from interp.text import parse_module
from interp.translate.compiled import compile_module

SIMD_OPS = [op for op in OPS if op.prefix == PREFIX_SIMD]
LANE_OPS = [op for op in SIMD_OPS if op.imm in (Imm.LANE, Imm.MEMARG_LANE)]
MEMORY_OPS = [op for op in SIMD_OPS if op.imm in (Imm.MEMARG, Imm.MEMARG_LANE)]
OPERAND = {
    ValType.I32: "(i32.const 0)",
    ValType.I64: "(i64.const 0)",
    ValType.F32: "(f32.const 0)",
    ValType.F64: "(f64.const 0)",
    ValType.V128: "(v128.const i64x2 0 0)",
}


def instruction(op: Op, immediates: str) -> str:
    """``op`` folded over constant operands, its results dropped."""
    folded = f"({op.name} {immediates} {' '.join(OPERAND[t] for t in op.params or ())})"
    return f"(drop {folded})" if op.results else folded


def validate(text: str) -> None:
    compile_module(parse_module(f"(module (memory 1) (func {text}))"))


def test_every_lane_instruction_knows_its_lane_count() -> None:
    expected = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}
    for op in LANE_OPS:
        if op.imm is Imm.LANE:
            assert op.lanes == expected[op.name.partition(".")[0]], op
        else:
            assert op.lanes == 16 // op.width, op
    assert all(op.lanes == 0 for op in OPS if op not in LANE_OPS)


@pytest.mark.parametrize("op", LANE_OPS, ids=[op.name for op in LANE_OPS])
def test_lane_index_bounds(op: Op) -> None:
    memarg = "" if op.imm is Imm.LANE else "offset=0"
    validate(instruction(op, f"{memarg} {op.lanes - 1}"))
    with pytest.raises(InvalidError, match="invalid lane index"):
        validate(instruction(op, f"{memarg} {op.lanes}"))
    with pytest.raises(InvalidError, match="invalid lane index"):
        validate(instruction(op, f"{memarg} 255"))


@pytest.mark.parametrize("op", MEMORY_OPS, ids=[op.name for op in MEMORY_OPS])
def test_alignment_at_most_natural(op: Op) -> None:
    lane = "0" if op.imm is Imm.MEMARG_LANE else ""
    validate(instruction(op, f"align={op.width} {lane}"))
    validate(instruction(op, f"align=1 {lane}"))
    with pytest.raises(InvalidError, match="alignment must not be larger than natural"):
        validate(instruction(op, f"align={op.width * 2} {lane}"))


@pytest.mark.parametrize("op", MEMORY_OPS, ids=[op.name for op in MEMORY_OPS])
def test_memory_instructions_need_a_memory(op: Op) -> None:
    lane = "0" if op.imm is Imm.MEMARG_LANE else ""
    with pytest.raises(InvalidError, match="unknown memory"):
        compile_module(parse_module(f"(module (func {instruction(op, lane)}))"))


def test_shuffle_lanes_below_32() -> None:
    operands = "(v128.const i64x2 0 0) (v128.const i64x2 0 0)"
    validate(f"(drop (i8x16.shuffle 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16 {operands}))")
    with pytest.raises(InvalidError, match="invalid lane index"):
        validate(f"(drop (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 32 {operands}))")


@pytest.mark.parametrize("op", SIMD_OPS, ids=[op.name for op in SIMD_OPS])
def test_operands_are_typed_by_the_table(op: Op) -> None:
    """Each instruction accepts its signature's operands and refuses an
    operand of another type in place of its last one."""
    immediates = {Imm.NONE: "", Imm.V128: "i64x2 0 0", Imm.LANE: "0", Imm.MEMARG: "",
                  Imm.MEMARG_LANE: "0", Imm.SHUFFLE: " ".join(["0"] * 16)}[op.imm]
    validate(instruction(op, immediates))
    if not op.params:
        return
    wrong = ValType.F64 if op.params[-1] is not ValType.F64 else ValType.I32
    substituted = dataclasses.replace(op, params=op.params[:-1] + (wrong,))
    with pytest.raises(InvalidError, match="type mismatch"):
        validate(instruction(substituted, immediates))


def test_vectors_in_select_locals_globals_and_blocks() -> None:
    compile_module(parse_module("""
        (module
          (global $g (mut v128) (v128.const i32x4 1 2 3 4))
          (func (param v128) (result v128) (local v128)
            (local.set 1 (global.get $g))
            (global.set $g (local.get 0))
            (block (result v128)
              (select (local.get 0) (local.get 1) (i32.const 1)))))"""))
    with pytest.raises(InvalidError, match="type mismatch"):
        validate("(drop (select (v128.const i64x2 0 0) (i64.const 0) (i32.const 1)))")


def test_vector_constants_are_constant_expressions() -> None:
    compile_module(parse_module("(module (global v128 (v128.const f32x4 1 2 3 4)))"))
    with pytest.raises(InvalidError, match="constant expression required"):
        compile_module(parse_module(
            "(module (global v128 (i32x4.add (v128.const i64x2 0 0) (v128.const i64x2 0 0))))"))
    with pytest.raises(InvalidError, match="type mismatch"):
        compile_module(parse_module("(module (global i64 (v128.const i64x2 0 0)))"))


def test_table_rows_match_their_shape() -> None:
    """A row's signature mentions v128 (every vector instruction takes or
    produces one)."""
    for op in SIMD_OPS:
        assert ValType.V128 in (op.params or ()) + (op.results or ()), op
    assert OPS_BY_NAME["v128.bitselect"].params == (ValType.V128,) * 3
