"""The text format of the vector instructions: ``v128.const`` in every lane
shape (each lane range-checked, floats rounded like scalar constants), the
lane immediates, ``i8x16.shuffle``, the lane loads and stores; and in scripts,
v128 arguments and result patterns with NaN lanes, as the runner matches them."""

from __future__ import annotations

import pytest

from interp.errors import TextSyntaxError
from interp.script.run import ScriptRunner
from interp.exec.store import EngineConfig
from interp.syntax.opcodes import MemArg
from interp.syntax.types import F32, F64, V128
from interp.text import parse_module, parse_script
from interp.text.script import AssertReturn, Const, NanPattern, V128Pattern
from tests.simd.lanes_reference import vector_of


def body(text: str) -> list:
    """The instructions of the single function of ``text``, without the final ``end``."""
    return list(parse_module(f"(module (memory 1) (func {text}))").funcs[0].body[:-1])


def constant(text: str) -> int:
    (instruction,) = body(f"(v128.const {text}) drop")[:1]
    return instruction.imm


def syntax_error(text: str) -> str:
    with pytest.raises(TextSyntaxError) as info:
        parse_module(f"(module (memory 1) (func {text}))")
    return info.value.message


@pytest.mark.parametrize("text, lanes, bits", [
    ("i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", list(range(16)), 8),
    ("i8x16 -128 255 -1 0x7f 0 0 0 0 0 0 0 0 0 0 0 -0x80", [0x80, 0xFF, 0xFF, 0x7F] + [0] * 11 + [0x80], 8),
    ("i16x8 -32768 65535 1 0x1_000 0 0 0 -1", [0x8000, 0xFFFF, 1, 0x1000, 0, 0, 0, 0xFFFF], 16),
    ("i32x4 -1 0xffff_ffff 2147483647 -2147483648", [2**32 - 1, 2**32 - 1, 2**31 - 1, 2**31], 32),
    ("i64x2 -1 0x8000_0000_0000_0000", [2**64 - 1, 2**63], 64),
    ("f32x4 1.0 -0 inf nan:0x200000", [0x3F80_0000, 0x8000_0000, 0x7F80_0000, 0x7FA0_0000], 32),
    ("f64x2 0x1p-1074 -nan", [1, 0xFFF8_0000_0000_0000], 64),
])
def test_v128_const_in_every_shape(text: str, lanes: list[int], bits: int) -> None:
    assert constant(text) == vector_of(lanes, bits)


@pytest.mark.parametrize("literal", ["0.1", "1e38", "0x1.fffffep127", "1.00000005960464477539062500001",
                                     "0x1.000001p0", "-1e-45", "1e-46"])
def test_float_lanes_round_like_scalar_constants(literal: str) -> None:
    (scalar,) = body(f"(f32.const {literal}) drop")[:1]
    assert constant(f"f32x4 {literal} 0 0 {literal}") == vector_of([scalar.imm, 0, 0, scalar.imm], 32)
    (scalar64,) = body(f"(f64.const {literal}) drop")[:1]
    assert constant(f"f64x2 0 {literal}") == vector_of([0, scalar64.imm], 64)


@pytest.mark.parametrize("text, message", [
    ("(v128.const i8x16 256 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) drop", "constant out of range"),
    ("(v128.const i8x16 -129 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) drop", "constant out of range"),
    ("(v128.const i16x8 65536 0 0 0 0 0 0 0) drop", "constant out of range"),
    ("(v128.const i32x4 0x1_0000_0000 0 0 0) drop", "constant out of range"),
    ("(v128.const i64x2 -0x8000_0000_0000_0001 0) drop", "constant out of range"),
    ("(v128.const f32x4 1e39 0 0 0) drop", "constant out of range"),
    ("(v128.const f32x4 nan:0x800000 0 0 0) drop", "constant out of range"),
    ("(v128.const i32x4 0 0 0) drop", "wrong number of lane literals"),
    ("(v128.const i64x2 0 0 0) drop", "wrong number of lane literals"),
    ("(v128.const f64x2) drop", "wrong number of lane literals"),
    ("(v128.const 0 0 0 0) drop", "unexpected token"),
    ("(v128.const i32x4 0x 0 0 0) drop", "unknown operator 0x"),
    ("(v128.const i8x8 0 0 0 0 0 0 0 0) drop", "unknown operator i8x8"),
])
def test_malformed_constants(text: str, message: str) -> None:
    assert syntax_error(text) == message


def test_plain_v128_const_stops_at_the_next_instruction() -> None:
    instructions = body("v128.const i32x4 1 2 3 4 drop")
    assert [i.op.name for i in instructions] == ["v128.const", "drop"]
    assert instructions[0].imm == vector_of([1, 2, 3, 4], 32)


def test_lane_immediates() -> None:
    (const, extract, drop) = body("(drop (i8x16.extract_lane_u 0x0f (v128.const i64x2 0 0)))")
    assert (extract.op.name, extract.imm) == ("i8x16.extract_lane_u", 15)
    shuffle = body("(drop (i8x16.shuffle 31 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
                   "(v128.const i64x2 0 0) (v128.const i64x2 0 0)))")[2]
    assert shuffle.imm == (31,) + tuple(range(15))


@pytest.mark.parametrize("text, immediate", [
    ("v128.load8_lane 3", (MemArg(0, 0), 3)),
    ("v128.load16_lane offset=10 align=1 7", (MemArg(0, 10), 7)),
    ("v128.store64_lane align=8 1", (MemArg(3, 0), 1)),
    ("v128.store32_lane offset=0x20 0", (MemArg(2, 32), 0)),
])
def test_lane_memory_immediates(text: str, immediate: tuple) -> None:
    (instruction,) = [i for i in body(f"(i32.const 0) (v128.const i64x2 0 0) ({text}) drop")
                      if i.op.name.endswith("_lane")]
    assert instruction.imm == immediate


@pytest.mark.parametrize("text, message", [
    ("(i8x16.extract_lane_s 256 (v128.const i64x2 0 0))", "malformed lane index"),
    ("(i8x16.extract_lane_s -1 (v128.const i64x2 0 0))", "unexpected token"),
    ("(i8x16.extract_lane_s 1.5 (v128.const i64x2 0 0))", "unexpected token"),
    ("(i8x16.extract_lane_s (v128.const i64x2 0 0))", "unexpected token"),
    ("(i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 (v128.const i64x2 0 0) (v128.const i64x2 0 0))",
     "invalid lane length"),
    ("(i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 (v128.const i64x2 0 0) (v128.const i64x2 0 0))",
     "invalid lane length"),
    ("(i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 256 (v128.const i64x2 0 0) (v128.const i64x2 0 0))",
     "malformed lane index"),
    ("(i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 nan (v128.const i64x2 0 0) (v128.const i64x2 0 0))",
     "malformed lane index"),
    ("(v128.load8_lane 16 (i32.const 0) (v128.const i64x2 0 0))", None),  # parses; validation rejects it
])
def test_malformed_lane_immediates(text: str, message: str | None) -> None:
    if message is None:
        body(f"(drop {text})")
    else:
        assert syntax_error(f"(drop {text})") == message


# -- scripts --------------------------------------------------------------------------------------

SCRIPT = """
(module
  (func (export "id") (param v128) (result v128) (local.get 0))
  (func (export "nans") (result v128) (v128.const f32x4 nan:0x600000 -nan 1.5 nan:0x1)))
"""


def test_script_values_and_patterns() -> None:
    (_, command) = parse_script(SCRIPT + """
        (assert_return (invoke "nans" (v128.const i16x8 -1 0 0 0 0 0 0 1))
                       (v128.const f32x4 nan:arithmetic nan:canonical 1.5 nan:0x1))""")
    assert isinstance(command, AssertReturn)
    assert command.action.args == (Const(V128, vector_of([0xFFFF, 0, 0, 0, 0, 0, 0, 1], 16)),)
    (pattern,) = command.expected
    assert pattern == V128Pattern("f32x4", (NanPattern(F32, "arithmetic"), NanPattern(F32, "canonical"),
                                            0x3FC0_0000, 0x7F80_0001))
    (_, plain) = parse_script(SCRIPT + '(assert_return (invoke "id") (v128.const f64x2 -0 nan))')
    assert plain.expected == (Const(V128, vector_of([2**63, 0x7FF8_0000_0000_0000], 64)),)
    (_, doubles) = parse_script(SCRIPT + '(assert_return (invoke "id") (v128.const f64x2 nan:canonical 0))')
    assert doubles.expected[0].lanes[0] == NanPattern(F64, "canonical")


@pytest.mark.parametrize("text", [
    '(assert_return (invoke "id") (v128.const i32x4 nan:canonical 0 0 0))',
    '(assert_return (invoke "id" (v128.const f32x4 nan:canonical 0 0 0)))',
])
def test_nan_patterns_only_in_float_lanes_of_results(text: str) -> None:
    with pytest.raises(TextSyntaxError):
        parse_script(SCRIPT + text)


@pytest.mark.parametrize("expected, passes", [
    ("(v128.const f32x4 nan:arithmetic nan:canonical 1.5 nan:arithmetic)", False),  # last lane is signalling
    ("(v128.const f32x4 nan:arithmetic nan:canonical 1.5 nan:0x1)", True),
    ("(v128.const f32x4 nan:canonical nan:canonical 1.5 nan:0x1)", False),  # lane 0's payload is not canonical
    ("(v128.const f32x4 nan:arithmetic nan:arithmetic 1.5 nan:0x1)", True),
    ("(v128.const f32x4 nan:arithmetic nan:canonical 1.0 nan:0x1)", False),
    ("(v128.const i32x4 0x7fe00000 0xffc00000 0x3fc00000 0x7f800001)", True),
])
def test_the_runner_matches_lane_by_lane(expected: str, passes: bool) -> None:
    commands = parse_script(SCRIPT + f'(assert_return (invoke "nans") {expected})')
    results = ScriptRunner(EngineConfig(engine="python")).run(commands)
    assert results[0].passed
    assert results[1].passed is passes, results[1].detail


def test_the_runner_passes_v128_arguments() -> None:
    commands = parse_script(SCRIPT + '(assert_return (invoke "id" (v128.const i8x16 -1 2 3 4 5 6 7 8 9 10 11 12 '
                                     '13 14 15 -16)) (v128.const i8x16 255 2 3 4 5 6 7 8 9 10 11 12 13 14 15 240))')
    assert all(result.passed for result in ScriptRunner(EngineConfig(engine="python")).run(commands))
