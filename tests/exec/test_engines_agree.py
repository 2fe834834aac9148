"""Differential testing of the engines: random well-typed numeric programs
give the same results, bit for bit, or the same trap, on the step machine's
closures, on its compiled blocks and on the compiled loop — three renderings
of the instruction table's semantics (python_semantics.py twice,
native/cython_semantics.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.errors import Trap
from interp.exec.blocks import HOT_CALLS
from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig, Store
from interp.syntax.module import Export, Func, Instruction, Module
from interp.syntax.opcodes import OPS, OPS_BY_NAME, Imm
from interp.syntax.types import F32, F64, I32, I64, ExternKind, FuncType, ValType
from interp.syntax.values import f32_to_bits, f64_to_bits

pytestmark = pytest.mark.skipif("cython" not in available_engines(), reason="the compiled loop is not built")

SCALAR = (I32, I64, F32, F64)
NUMERIC_OPS = [op for op in OPS if op.imm is Imm.NONE and op.params is not None and op.results
               and len(op.results) == 1 and all(t in SCALAR for t in op.params + op.results)
               and op.prefix in (None, 0xFC)]
CONST = {I32: OPS_BY_NAME["i32.const"], I64: OPS_BY_NAME["i64.const"], F32: OPS_BY_NAME["f32.const"],
         F64: OPS_BY_NAME["f64.const"]}
WIDTH = {I32: 32, I64: 64, F32: 32, F64: 64}
# Bit patterns worth meeting often: zeros, ones, signs, NaNs, infinities, limits.
SPECIAL = {32: [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7FA0_0000,
                0x4F00_0000, 0xCF00_0000, 0x3F80_0000],
           64: [0, 1, 2**63 - 1, 2**63, 2**64 - 1, 0x7FF0_0000_0000_0000, 0x7FF8_0000_0000_0000,
                0x7FF4_0000_0000_0000, 0x43E0_0000_0000_0000, 0xC3E0_0000_0000_0000, 0x3FF0_0000_0000_0000]}


@st.composite
def programs(draw) -> tuple[list[Instruction], type]:
    """A straight-line body leaving one value: operands pushed as constants,
    then an operation consuming them, a few levels deep."""
    def value_of(valtype, depth: int) -> list[Instruction]:
        producers = [op for op in NUMERIC_OPS if op.results[0] is valtype]
        if depth == 0 or not producers or draw(st.integers(0, 3)) == 0:
            bits = draw(st.one_of(st.sampled_from(SPECIAL[WIDTH[valtype]]),
                                  st.integers(0, 2 ** WIDTH[valtype] - 1)))
            return [Instruction(CONST[valtype], bits)]
        op = draw(st.sampled_from(producers))
        code: list[Instruction] = []
        for param in op.params:
            code += value_of(param, depth - 1)
        return code + [Instruction(op)]

    result = draw(st.sampled_from(SCALAR))
    return value_of(result, 3), result


def run(engine: str, module: Module, calls: int = 1) -> tuple[str, object]:
    """The outcome of the ``calls``-th call of ``f`` (on the step machine, a
    call after the ``HOT_CALLS``-th runs the compiled blocks)."""
    store = Store(EngineConfig(engine=engine))
    instance = store.instantiate(module)
    try:
        for _ in range(calls):
            [value] = instance.invoke("f")
    except Trap as trap:
        return "trap", trap.message
    if isinstance(value, float):
        kind = module.types[0].results[0]
        return "bits", f32_to_bits(value) if kind is F32 else f64_to_bits(value)
    return "value", value


@settings(max_examples=300, deadline=None)
@given(program=programs())
def test_both_engines_compute_the_same(program) -> None:
    body, result = program
    module = Module(types=(FuncType((), (result,)),),
                    funcs=(Func(0, (), tuple(body) + (Instruction(OPS_BY_NAME["end"]),)),),
                    exports=(Export("f", ExternKind.FUNC, 0),))
    closures, compiled_loop = run("python", module), run("cython", module)
    blocks = run("python", module, calls=HOT_CALLS + 1)
    assert same_outcome(closures, blocks, result)
    assert same_outcome(closures, compiled_loop, result)


def same_outcome(one: tuple[str, object], other: tuple[str, object], result: ValType) -> bool:
    if one[0] == "bits" and other[0] == "bits":
        nan_mask = 0x7F80_0000 if result is F32 else 0x7FF0_0000_0000_0000
        a, b = one[1], other[1]
        if a & nan_mask == nan_mask and b & nan_mask == nan_mask and (a & ~nan_mask) and (b & ~nan_mask):
            return True  # both NaN: which NaN an arithmetic NaN is, the spec leaves open
    return one == other
