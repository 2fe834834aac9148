"""SIMD instructions are typed by their opcode table rows alone.  These tests
check a sample of rows against the spec's encodings, immediates, signatures and
access widths, and that the validator types them and checks their immediates:
alignment of vector loads, lane indices of lane instructions, shuffle lane
indices."""

from __future__ import annotations

import pytest

from interp.errors import InvalidError
from interp.syntax.module import Instruction
from interp.syntax.opcodes import MemArg, OPS, OPS_BY_NAME, PREFIX_SIMD, Imm, Op
from interp.syntax.semantics import RUNTIME
from interp.syntax.types import F32, I32, I64, V128, FuncType
from interp.valid import FunctionValidator, ModuleContext
from interp.valid import function as function_module
from tests.valid.assemble import code, environment_module

V = V128
SIMD_ROWS = (
    # name, sub-opcode, immediate kind, params, results, access width
    ("v128.load", 0, Imm.MEMARG, (I32,), (V,), 16),
    ("v128.load8x8_s", 1, Imm.MEMARG, (I32,), (V,), 8),
    ("v128.load32_splat", 9, Imm.MEMARG, (I32,), (V,), 4),
    ("v128.store", 11, Imm.MEMARG, (I32, V), (), 16),
    ("v128.const", 12, Imm.V128, (), (V,), 0),
    ("i8x16.shuffle", 13, Imm.SHUFFLE, (V, V), (V,), 0),
    ("i8x16.extract_lane_s", 21, Imm.LANE, (V,), (I32,), 0),
    ("i64x2.replace_lane", 30, Imm.LANE, (V, I64), (V,), 0),
    ("f32x4.extract_lane", 31, Imm.LANE, (V,), (F32,), 0),
    ("v128.load16_lane", 85, Imm.MEMARG_LANE, (I32, V), (V,), 2),
    ("v128.store64_lane", 91, Imm.MEMARG_LANE, (I32, V), (), 8),
    ("i32x4.add", 174, Imm.NONE, (V, V), (V,), 0),
)
BY_NAME = {name: OPS_BY_NAME[name] for name, *_ in SIMD_ROWS}


@pytest.mark.parametrize("name, code_, imm, params, results, width", SIMD_ROWS)
def test_table_rows(name: str, code_: int, imm: Imm, params: tuple, results: tuple, width: int) -> None:
    row = BY_NAME[name]
    assert (row.prefix, row.code, row.imm, row.params, row.results, row.width) == \
        (PREFIX_SIMD, code_, imm, params, results, width)


def simd(name: str, imm: object = None) -> Instruction:
    return Instruction(BY_NAME[name], imm)


def validate(*instrs: Instruction, results: tuple = ()) -> None:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType((), results), ())
    validator.run(instrs)
    validator.run(code("end"))
    validator.finish()


class TestSimdRows:
    def test_typing(self) -> None:
        validate(simd("v128.const", 0), simd("v128.const", 1), simd("i32x4.add"), results=(V,))
        validate(*code("i32.const 0"), simd("v128.load", MemArg(4, 0)), simd("f32x4.extract_lane", 3), results=(F32,))
        with pytest.raises(InvalidError, match="type mismatch"):
            validate(simd("v128.const", 0), *code("i32.const 1"), simd("i32x4.add"), results=(V,))
        with pytest.raises(InvalidError, match="type mismatch"):
            validate(simd("v128.const", 0), *code("i32.const 1"), simd("i64x2.replace_lane", 0), results=(V,))

    @pytest.mark.parametrize("name, alignment, ok", [
        ("v128.load", 4, True), ("v128.load", 5, False),
        ("v128.load8x8_s", 3, True), ("v128.load8x8_s", 4, False),
        ("v128.load32_splat", 2, True), ("v128.load32_splat", 3, False),
    ])
    def test_alignment(self, name: str, alignment: int, ok: bool) -> None:
        instrs = (*code("i32.const 0"), simd(name, MemArg(alignment, 0)))
        if ok:
            validate(*instrs, results=(V,))
        else:
            with pytest.raises(InvalidError, match="alignment must not be larger than natural"):
                validate(*instrs, results=(V,))

    @pytest.mark.parametrize("name, operands, result, lanes", [
        ("i8x16.extract_lane_s", (), I32, 16),
        ("i64x2.replace_lane", ("i64.const 0",), V, 2),
        ("f32x4.extract_lane", (), F32, 4),
    ])
    def test_lane_index(self, name: str, operands: tuple, result, lanes: int) -> None:
        validate(simd("v128.const", 0), *code(*operands), simd(name, lanes - 1), results=(result,))
        with pytest.raises(InvalidError, match="invalid lane index"):
            validate(simd("v128.const", 0), *code(*operands), simd(name, lanes), results=(result,))

    @pytest.mark.parametrize("name, lanes, results", [("v128.load16_lane", 8, (V,)), ("v128.store64_lane", 2, ())])
    def test_memory_lane_index(self, name: str, lanes: int, results: tuple) -> None:
        width = BY_NAME[name].width
        natural = width.bit_length() - 1
        validate(*code("i32.const 0"), simd("v128.const", 0), simd(name, (MemArg(natural, 0), lanes - 1)), results=results)
        with pytest.raises(InvalidError, match="invalid lane index"):
            validate(*code("i32.const 0"), simd("v128.const", 0), simd(name, (MemArg(natural, 0), lanes)), results=results)
        with pytest.raises(InvalidError, match="alignment must not be larger than natural"):
            validate(*code("i32.const 0"), simd("v128.const", 0), simd(name, (MemArg(natural + 1, 0), 0)),
                     results=results)

    def test_shuffle_lanes(self) -> None:
        operands = (simd("v128.const", 0), simd("v128.const", 0))
        validate(*operands, simd("i8x16.shuffle", tuple(range(16, 32))), results=(V,))
        with pytest.raises(InvalidError, match="invalid lane index"):
            validate(*operands, simd("i8x16.shuffle", (32,) + tuple(range(15))), results=(V,))

    def test_select_and_locals_take_vectors(self) -> None:
        validate(simd("v128.const", 0), simd("v128.const", 1), *code("i32.const 0", "select"), results=(V,))


def test_a_row_without_typing_rule_is_refused() -> None:
    """An instruction with neither a signature nor a handler cannot slip into
    the table unnoticed."""
    untyped = Op(len(OPS), "v128.mystery", PREFIX_SIMD, 999, Imm.NONE, None, None, RUNTIME)
    with pytest.raises(RuntimeError, match="v128.mystery"):
        function_module._build_dispatch(OPS + (untyped,))
