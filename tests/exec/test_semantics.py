"""The instruction table as the one definition of every instruction: each
row's semantics reaches every engine, the semantics language refuses what it
cannot mean, and a new instruction needs nothing but its row."""

from __future__ import annotations

import dataclasses
import importlib
import re

import pytest

from interp.errors import TrapKind, UsageError
from interp.exec import bind, engines
from interp.exec.instance_ops import _BUILDERS, vector_function
from interp.exec.native import cython_semantics
from interp.exec.native.encode import _MACHINE_ENCODERS, _PLAIN_MACHINE_KINDS
from interp.exec.native.fusion import fusions
from interp.exec.python_semantics import access_format, handler_template, python_code, python_function
from interp.exec.semantics import SemanticsError, Type, access_shape, typed_compute
from interp.syntax.opcodes import OPS, PREFIX_SIMD, op
from interp.syntax.semantics import MACHINE, RUNTIME, Access, Compute

COMPUTED = [o for o in OPS if isinstance(o.semantics, Compute)]
ACCESSES = [o for o in OPS if isinstance(o.semantics, Access)]


def test_every_row_states_its_semantics() -> None:
    forms = {type(o.semantics) for o in OPS}
    assert forms <= {Compute, Access, type(RUNTIME)}
    assert len(COMPUTED) == 123 + 5 + 8  # every numeric instruction (test_numeric_wast.py) but the constants
    assert len(ACCESSES) == 23


@pytest.mark.parametrize("instruction", COMPUTED, ids=lambda o: o.name)
def test_every_computed_row_types_and_renders_for_both_engines(instruction) -> None:
    typed = typed_compute(instruction)
    assert typed.result.text == instruction.results[0].text
    assert callable(python_function(instruction)) and callable(handler_template(instruction))
    case = cython_semantics.compute_case(instruction)
    assert case[-2].startswith("R[a].") and case[-1] == "pc += 1"
    assert sum(line.startswith("if ") for line in case) == len(typed.traps)


@pytest.mark.parametrize("instruction", ACCESSES, ids=lambda o: o.name)
def test_every_access_row_derives_its_format_and_case(instruction) -> None:
    shape = access_shape(instruction)
    layout, _ = access_format(instruction)
    assert layout.size == shape.width == instruction.width
    case = cython_semantics.access_case(instruction)
    assert f"if ea + {shape.width} > mem_size:" in case


def test_every_runtime_and_machine_row_has_its_implementations() -> None:
    for instruction in OPS:
        if instruction.semantics is RUNTIME:
            if instruction.prefix == PREFIX_SIMD:
                assert callable(vector_function(instruction))
            else:
                assert instruction.name in _BUILDERS
        elif instruction.semantics is MACHINE:
            assert instruction.name in _MACHINE_ENCODERS or instruction.name in _PLAIN_MACHINE_KINDS
            assert instruction.name in bind._CALLS or instruction.id in bind._FACTORIES


def test_the_loop_opcodes_are_its_own_then_the_tables() -> None:
    names = cython_semantics.opcode_names()
    assert names[:len(cython_semantics.LOOP_OPERATIONS)] == cython_semantics.LOOP_OPERATIONS
    assert list(names[len(cython_semantics.LOOP_OPERATIONS):]) == \
        [o.name for o in OPS if isinstance(o.semantics, (Compute, Access))] + \
        [f"{o.name}.indexed" for o in OPS if isinstance(o.semantics, Access)] + \
        [fusion.name for fusion in fusions()]
    assert len(set(names)) == len(names)
    codes = "\n".join(cython_semantics.generated_parts()["trap codes"])
    assert all(f"TRAP_{kind.name} = {kind.code}" in codes for kind in TrapKind)
    assert len({kind.code for kind in TrapKind}) == len(TrapKind)


@pytest.mark.skipif("cython" not in engines.available_engines(), reason="the compiled loop is not built")
def test_the_built_loop_is_generated_from_this_table() -> None:
    loop = importlib.import_module("interp.exec.native.loop")
    assert list(loop.OPCODES) == list(cython_semantics.opcode_names())
    assert loop.SOURCE_DIGEST == cython_semantics.source_digest()
    assert loop.RENDERED_DIGEST == cython_semantics.rendered_digest()


def test_a_loop_built_from_another_table_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    engines._compiled_loop_state.cache_clear()
    monkeypatch.setattr(engines, "source_digest", lambda: "another table")
    try:
        if engines.engine_state("cython") == engines.NOT_BUILT:
            pytest.skip("the compiled loop is not built")
        assert engines.engine_state("cython") == engines.OUT_OF_DATE
        assert engines.available_engines() == ("python",)
        with pytest.raises(UsageError, match="out of date"):
            engines.resolve_engine("cython")
    finally:
        monkeypatch.undo()
        engines._compiled_loop_state.cache_clear()


def row(name: str, expression: str, traps: tuple = ()) -> object:
    """``name``'s table row with other semantics."""
    return dataclasses.replace(op(name), semantics=Compute(expression, traps))


@pytest.mark.parametrize("name, expression, message", [
    ("i32.add", "a + d", "unknown name 'd'"),
    ("i32.add", "a + 1.5", "float literal"),
    ("i32.add", "a + 0x1_0000_0000", "does not fit in i32"),
    ("i32.add", "1 + 2", "two literals"),
    ("i32.add", "s32(a) + s32(b)", "+ on s32"),
    ("i64.add", "a + b + 1 if a else b", "is not a condition"),
    ("i32.wrap_i64", "a", "gives i64, the result is i32"),
    ("f32.add", "a + b + (a < b)", "an operation on f32 and bool"),
    ("f32.neg", "abs(a, a)", "abs() takes 1 values"),
    ("i32.clz", "sqrt(a)", "sqrt() of i32"),
    ("i32.clz", "a[0]", "not in the semantics language"),
    ("i32.clz", "a +", "invalid syntax"),
    ("i32.clz", "frobnicate(a)", "unknown function frobnicate()"),
])
def test_the_language_refuses_what_it_cannot_mean(name: str, expression: str, message: str) -> None:
    with pytest.raises(SemanticsError, match=re.escape(message)):
        typed_compute(row(name, expression))


def test_a_trap_condition_must_be_a_condition() -> None:
    with pytest.raises(SemanticsError, match="is not a condition"):
        typed_compute(row("i32.div_u", "a / b", (("b", TrapKind.INTEGER_DIVIDE_BY_ZERO),)))


def test_a_new_instruction_is_a_row() -> None:
    """An instruction the table does not have (an unsigned average that cannot
    overflow, trapping on equal operands) gets its Python function, handler,
    block code and C case from its row alone."""
    average = dataclasses.replace(op("i32.add"), name="i32.avgr_u", semantics=Compute(
        "(a >> 1) + (b >> 1) + ((a | b) & 1)", (("a == b", TrapKind.INTEGER_OVERFLOW),)))
    assert typed_compute(average).value.type is Type.I32
    function = python_function(average)
    assert function(7, 9) == 8 and function(0xFFFF_FFFF, 0xFFFF_FFFD) == 0xFFFF_FFFE
    with pytest.raises(Exception, match="integer overflow"):
        function(3, 3)
    registers = [7, 9]
    assert handler_template(average)(registers, (0, 1, 5)) == 5 and registers[0] == 8
    assert python_code(average, ["t1", "t2"]).checks == (("(t1 == t2)", "INTEGER_OVERFLOW"),)
    case = cython_semantics.compute_case(average)
    assert "self._trap(TRAP_INTEGER_OVERFLOW, pc)" in case[2]
    assert case[3] == "R[a].u32 = (<uint32_t>((<uint32_t>((R[a].u32 >> (<uint32_t>1U)) + (R[b].u32 >> " \
                      "(<uint32_t>1U)))) + ((R[a].u32 | R[b].u32) & (<uint32_t>1U))))"
