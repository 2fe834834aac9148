"""Validation of function bodies: the typing rules of every kind of
instruction, the polymorphic stack after unconditional branches (the cases of
the testsuite's unreached-valid / unreached-invalid), error messages and
locations, and the step-wise interface the translator relies on."""

from __future__ import annotations

from typing import Any

import pytest

from interp.errors import FunctionRef, InvalidError
from interp.syntax.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType
from interp.valid import FunctionValidator, ModuleContext, validate_module
from tests.valid.assemble import (
    CALLEE,
    TYPE_I32_I64_TO_F32,
    TYPE_I32_TO_I32,
    TYPE_I32_TO_I32_I64,
    TYPE_TO_I32_I64,
    code,
    environment_module,
    instruction,
)


def outcome(*lines: str, **signature: Any) -> str | None:
    """The message ``validate_module`` reports for ``environment_module(lines)``
    (``None`` when it is valid)."""
    try:
        validate_module(environment_module(*lines, **signature))
    except InvalidError as error:
        return error.message
    return None


def check(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    message = outcome(*lines, **signature)
    if expected is None:
        assert message is None, f"expected valid, got {message!r}"
    else:
        assert message is not None, f"expected {expected!r}, but it validated"
        assert message.startswith(expected), f"expected {expected!r}, got {message!r}"


def cases(*rows: tuple[str, tuple[str, ...], dict[str, Any], str | None]) -> Any:
    return pytest.mark.parametrize("lines, signature, expected",
                                   [pytest.param(lines, signature, expected, id=name)
                                    for name, lines, signature, expected in rows])


NONE: dict[str, Any] = {}
TO_I32 = {"results": (I32,)}
TO_I64 = {"results": (I64,)}
TO_F32 = {"results": (F32,)}
I32_TO_I32 = {"params": (I32,), "results": (I32,)}
MISMATCH = "type mismatch"


@cases(
    ("empty", (), NONE, None),
    ("const result", ("i32.const 1",), TO_I32, None),
    ("missing result", (), TO_I32, MISMATCH),
    ("extra value", ("i32.const 1",), NONE, MISMATCH),
    ("wrong result type", ("i64.const 1",), TO_I32, MISMATCH),
    ("binary op", ("i32.const 1", "i32.const 2", "i32.add"), TO_I32, None),
    ("binary op underflow", ("i32.const 1", "i32.add"), TO_I32, MISMATCH),
    ("binary op wrong operand", ("i32.const 1", "i64.const 2", "i32.add"), TO_I32, MISMATCH),
    ("operands in order", ("i64.const 1", "i32.const 2", "i64.shl"), TO_I64, MISMATCH),
    ("conversion", ("f64.const 0", "i32.trunc_f64_s"), TO_I32, None),
    ("conversion wrong input", ("f32.const 0", "i32.trunc_f64_s"), TO_I32, MISMATCH),
    ("comparison gives i32", ("f32.const 0", "f32.const 0", "f32.lt"), TO_I32, None),
    ("saturating truncation", ("f32.const 0", "i64.trunc_sat_f32_u"), TO_I64, None),
    ("nop", ("nop",), NONE, None),
    ("drop", ("i32.const 1", "drop"), NONE, None),
    ("drop underflow", ("drop",), NONE, MISMATCH),
    ("drop reference", ("ref.null funcref", "drop"), NONE, None),
)
def test_basic_typing(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("block result", ("block i32", "i32.const 1", "end"), TO_I32, None),
    ("block missing result", ("block i32", "end", "i32.const 1"), TO_I32, MISMATCH),
    ("block extra value", ("block", "i32.const 1", "end"), NONE, MISMATCH),
    ("block cannot see outer operands", ("i32.const 1", "block", "drop", "end", "drop"), NONE, MISMATCH),
    ("block operands stay outside", ("i32.const 1", "block", "end"), TO_I32, None),
    ("block params from type", ("i32.const 1", f"block {TYPE_I32_TO_I32}", "i32.const 2", "i32.add", "end"),
     TO_I32, None),
    ("block params popped at entry", ("i32.const 1", f"block {TYPE_I32_TO_I32}", "end", "drop"), NONE, None),
    ("block params missing", (f"block {TYPE_I32_TO_I32}", "end"), TO_I32, MISMATCH),
    ("block multi-value results", (f"block {TYPE_TO_I32_I64}", "i32.const 1", "i64.const 2", "end",
                                   "drop", "drop"), NONE, None),
    ("block results in order", (f"block {TYPE_TO_I32_I64}", "i64.const 2", "i32.const 1", "end",
                                "drop", "drop"), NONE, MISMATCH),
    ("block unknown type", ("block 99", "end"), NONE, "unknown type"),
    ("loop result", ("loop i32", "i32.const 1", "end"), TO_I32, None),
    ("loop label is params", ("i32.const 1", f"loop {TYPE_I32_TO_I32}", "br 0", "end"), TO_I32, None),
    ("loop label carries nothing", ("loop i32", "i32.const 1", "br 0", "end"), TO_I32, None),
    ("loop label is not results", ("i32.const 1", f"loop {TYPE_I32_TO_I32_I64}", "i64.const 0", "br 0", "end",
                                   "drop"), TO_I32, MISMATCH),
    ("if else", ("i32.const 1", "if i32", "i32.const 2", "else", "i32.const 3", "end"), TO_I32, None),
    ("if needs condition", ("if", "end"), NONE, MISMATCH),
    ("if condition is i32", ("i64.const 1", "if", "end"), NONE, MISMATCH),
    ("if else branch checked", ("i32.const 1", "if i32", "i32.const 2", "else", "end"), TO_I32, MISMATCH),
    ("if then branch checked", ("i32.const 1", "if i32", "else", "i32.const 3", "end"), TO_I32, MISMATCH),
    ("if without else needs equal types", ("i32.const 1", "if i32", "i32.const 2", "end"), TO_I32, MISMATCH),
    ("if without else passes params", ("i32.const 5", "i32.const 1", f"if {TYPE_I32_TO_I32}", "end"),
     TO_I32, None),
    ("if params in else", ("i32.const 5", "i32.const 1", f"if {TYPE_I32_TO_I32}", "i32.const 1", "i32.add",
                           "else", "i32.const 2", "i32.sub", "end"), TO_I32, None),
    ("if params with condition", ("i32.const 1", f"if {TYPE_I32_TO_I32_I64}", "i64.const 1", "else",
                                  "i64.const 2", "end", "drop"), TO_I32, MISMATCH),
    ("else without if", ("block", "else", "end"), NONE, "else"),
    ("else twice", ("i32.const 1", "if", "else", "else", "end"), NONE, "else"),
)
def test_blocks(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("br to function", ("i32.const 1", "br 0"), TO_I32, None),
    ("br carries label types", ("block i32", "i64.const 1", "br 0", "end"), TO_I32, MISMATCH),
    ("br unknown label", ("block", "br 2", "end"), NONE, "unknown label"),
    ("br deepest label", ("block", "block", "br 2", "end", "end"), NONE, None),
    ("br_if keeps label types", ("block i32", "i32.const 1", "i32.const 0", "br_if 0", "end"), TO_I32, None),
    ("br_if needs condition", ("block i32", "i32.const 1", "br_if 0", "end"), TO_I32, MISMATCH),
    ("br_if label values", ("block i32", "i64.const 1", "i32.const 0", "br_if 0", "drop", "i32.const 0",
                            "end"), TO_I32, MISMATCH),
    ("br_if unknown label", ("i32.const 0", "br_if 1"), NONE, "unknown label"),
    ("br_table", ("block", "block", "i32.const 0", "br_table 0 1 0", "end", "end"), NONE, None),
    ("br_table values", ("block i32", "block i32", "i32.const 7", "i32.const 0", "br_table 0 1 0", "end",
                         "end"), TO_I32, None),
    ("br_table index type", ("block", "i64.const 0", "br_table 0 0", "end"), NONE, MISMATCH),
    ("br_table arity mismatch", ("block i32", "block", "i32.const 0", "br_table 0 1", "end", "i32.const 1",
                                 "end"), TO_I32, MISMATCH),
    ("br_table type mismatch", ("block i32", "block i64", "i64.const 1", "i32.const 0", "br_table 0 1",
                                "end", "drop", "i32.const 1", "end"), TO_I32, MISMATCH),
    ("br_table unknown target", ("block", "i32.const 0", "br_table 5 0", "end"), NONE, "unknown label"),
    ("br_table unknown default", ("block", "i32.const 0", "br_table 0 5", "end"), NONE, "unknown label"),
    ("br_table default only", ("i32.const 3", "i32.const 0", "br_table 0"), TO_I32, None),
    ("return", ("i32.const 1", "return"), TO_I32, None),
    ("return from block", ("block", "i32.const 1", "return", "end", "i32.const 2"), TO_I32, None),
    ("return wrong type", ("i64.const 1", "return"), TO_I32, MISMATCH),
    ("return missing value", ("return",), TO_I32, MISMATCH),
)
def test_branches(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    # unreached-valid.wast
    ("select after unreachable", ("unreachable", "select", "drop"), NONE, None),
    ("select result is a value", ("unreachable", "select"), NONE, MISMATCH),
    ("select with condition after unreachable", ("unreachable", "i32.const 0", "select", "drop"), NONE, None),
    ("select one operand after unreachable", ("unreachable", "f32.const 0", "i32.const 0", "select"), TO_F32,
     None),
    ("select result feeds i32 op", ("unreachable", "select", "i32.add"), TO_I32, None),
    ("select result feeds ref op", ("unreachable", "select", "ref.is_null", "drop"), NONE, None),
    ("meet bottom", ("block f64", "block f32", "unreachable", "i32.const 1", "br_table 0 1 1", "end",
                     "drop", "f64.const 0", "end", "drop"), NONE, None),
    # unreached-invalid.wast and variations
    ("operands after unreachable still typed", ("unreachable", "i64.const 0", "i32.add"), TO_I32, MISMATCH),
    ("result after unreachable", ("unreachable", "i64.const 0"), TO_I32, MISMATCH),
    ("unknown result is any type", ("unreachable",), {"results": (I32, F64)}, None),
    ("ops on unknown operands", ("unreachable", "i64.add"), TO_I64, None),
    ("op result still typed", ("unreachable", "i64.add"), TO_I32, MISMATCH),
    ("stack reset by unreachable", ("i32.const 1", "unreachable"), NONE, None),
    ("br makes rest unreachable", ("block", "br 0", "i32.add", "drop", "end"), NONE, None),
    ("return makes rest unreachable", ("f32.const 0", "return", "f32.add"), TO_F32, None),
    ("br_table makes rest unreachable", ("block", "i32.const 0", "br_table 0", "i64.add", "drop", "end"),
     NONE, None),
    ("new block after break is reachable", ("block", "br 0", "block", "nop", "i32.eqz", "drop", "end", "end"),
     NONE, MISMATCH),
    ("unary after break", ("block", "br 0", "f32.const 1", "i32.eqz", "drop", "end"), NONE, MISMATCH),
    ("nested unreachable block", ("i32.const 3", "block", "unreachable", "end"), NONE, MISMATCH),
    ("block value after unreachable", ("block", "unreachable", "i32.const 0", "end"), NONE, MISMATCH),
    ("block result from bottom", ("block i32", "unreachable", "end"), TO_I32, None),
    ("loop result from bottom", ("loop i32", "unreachable", "end"), TO_I32, None),
    ("if condition from bottom", ("unreachable", "if", "end"), NONE, None),
    ("br_if after unreachable", ("unreachable", "i32.const 0", "br_if 0"), TO_I32, None),
    ("br_if condition after unreachable", ("unreachable", "i64.const 0", "br_if 0"), TO_I32, MISMATCH),
    ("br_table label num vs num", ("block i32", "unreachable", "f32.const 0", "i32.const 1", "br_table 0",
                                   "end"), TO_I32, MISMATCH),
    ("br_table index after unreachable", ("block", "unreachable", "f32.const 1", "br_table 0", "end"), NONE,
     MISMATCH),
    ("br_table arity after unreachable", ("block", "block f32", "unreachable", "i32.const 1", "br_table 0 1 0",
                                          "end", "drop", "end"), NONE, MISMATCH),
    ("br_table ref labels after unreachable", ("block externref", "block funcref", "unreachable",
                                               "ref.null externref", "i32.const 0", "br_table 0 1", "end",
                                               "drop", "ref.null externref", "end", "drop"), NONE, MISMATCH),
    ("select funcref after unreachable", ("unreachable", "ref.null funcref", "i32.const 0", "select", "drop"),
     NONE, MISMATCH),
    ("select mixed after unreachable", ("unreachable", "i32.const 0", "i64.const 0", "i32.const 0", "select",
                                        "drop"), NONE, MISMATCH),
)
def test_polymorphic_stack(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("select numeric", ("i64.const 1", "i64.const 2", "i32.const 0", "select"), TO_I64, None),
    ("select operand mismatch", ("i64.const 1", "i32.const 2", "i32.const 0", "select", "drop"), NONE, MISMATCH),
    ("select condition type", ("i32.const 1", "i32.const 2", "i64.const 0", "select"), TO_I32, MISMATCH),
    ("select reference needs type", ("ref.null funcref", "ref.null funcref", "i32.const 0", "select", "drop"),
     NONE, MISMATCH),
    ("typed select reference", ("ref.null funcref", "ref.null funcref", "i32.const 0", "select_typed funcref",
                                "drop"), NONE, None),
    ("typed select mismatch", ("ref.null externref", "ref.null funcref", "i32.const 0", "select_typed funcref",
                               "drop"), NONE, MISMATCH),
    ("typed select no type", ("i32.const 1", "i32.const 2", "i32.const 0", "select_typed"), TO_I32,
     "invalid result arity"),
    ("typed select two types", ("i32.const 1", "i32.const 2", "i32.const 0", "select_typed i32 i32"), TO_I32,
     "invalid result arity"),
    ("typed select after unreachable", ("unreachable", "select_typed i64"), TO_I64, None),
)
def test_select(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


def test_select_accepts_vectors() -> None:
    """``select`` without type takes vector operands too (SIMD has no
    instructions in the table yet, so the operands come in as locals)."""
    check(("local.get 0", "local.get 0", "i32.const 0", "select"), {"locals": (V128,), "results": (V128,)}, None)
    check(("local.get 0", "f64.const 0", "i32.const 0", "select", "drop"), {"locals": (V128,)}, MISMATCH)


@cases(
    ("local.get param", ("local.get 0",), I32_TO_I32, None),
    ("local.get declared local", ("local.get 1",), {"params": (I32,), "locals": (I64,), "results": (I64,)}, None),
    ("local.get unknown", ("local.get 1",), I32_TO_I32, "unknown local"),
    ("local.get unknown after locals", ("local.get 2",), {"params": (I32,), "locals": (I64,), "results": (I64,)},
     "unknown local"),
    ("local.set", ("i32.const 1", "local.set 0", "local.get 0"), I32_TO_I32, None),
    ("local.set wrong type", ("i64.const 1", "local.set 0", "local.get 0"), I32_TO_I32, MISMATCH),
    ("local.set underflow", ("local.set 0", "local.get 0"), I32_TO_I32, MISMATCH),
    ("local.set unknown", ("i32.const 1", "local.set 3", "i32.const 0"), I32_TO_I32, "unknown local"),
    ("local.tee", ("i32.const 1", "local.tee 0"), I32_TO_I32, None),
    ("local.tee wrong type", ("f32.const 1", "local.tee 0"), I32_TO_I32, MISMATCH),
    ("local.tee underflow", ("local.tee 0",), I32_TO_I32, MISMATCH),
    ("local.tee after unreachable", ("unreachable", "local.tee 0"), I32_TO_I32, None),
    ("local.tee result typed after unreachable", ("unreachable", "local.tee 0"), TO_I64 | {"params": (I32,)},
     MISMATCH),
    ("global.get", ("global.get 0",), TO_I32, None),
    ("global.get defined", ("global.get 1",), TO_I64, None),
    ("global.get unknown", ("global.get 3",), TO_I32, "unknown global"),
    ("global.set mutable", ("i64.const 1", "global.set 1"), NONE, None),
    ("global.set wrong type", ("i32.const 1", "global.set 1"), NONE, MISMATCH),
    ("global.set immutable import", ("i32.const 1", "global.set 0"), NONE, "global is immutable"),
    ("global.set immutable", ("f32.const 1", "global.set 2"), NONE, "global is immutable"),
    ("global.set unknown", ("i32.const 1", "global.set 3"), NONE, "unknown global"),
)
def test_variables(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("call", ("i32.const 1", "i64.const 2", f"call {CALLEE}"), TO_F32, None),
    ("call argument order", ("i64.const 2", "i32.const 1", f"call {CALLEE}"), TO_F32, MISMATCH),
    ("call missing argument", ("i64.const 2", f"call {CALLEE}"), TO_F32, MISMATCH),
    ("call unknown function", ("call 9",), NONE, "unknown function"),
    ("call itself", ("call 0",), NONE, None),
    ("call_indirect", ("i32.const 1", "i64.const 2", "i32.const 0", f"call_indirect {TYPE_I32_I64_TO_F32}"),
     TO_F32, None),
    ("call_indirect needs index", ("i32.const 1", "i64.const 2", f"call_indirect {TYPE_I32_I64_TO_F32}"), TO_F32,
     MISMATCH),
    ("call_indirect unknown type", ("i32.const 0", "call_indirect 99"), NONE, "unknown type"),
    ("call_indirect unknown table", ("i32.const 0", f"call_indirect {TYPE_I32_TO_I32} 7"), NONE,
     "unknown table"),
    ("call_indirect externref table", ("i32.const 1", "i32.const 0", f"call_indirect {TYPE_I32_TO_I32} 1"),
     TO_I32, MISMATCH),
    ("call_indirect multi-value", ("i32.const 0", f"call_indirect {TYPE_TO_I32_I64}", "drop"), TO_I32, None),
)
def test_calls(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("ref.null", ("ref.null externref",), {"results": (EXTERNREF,)}, None),
    ("ref.null wrong type", ("ref.null externref",), {"results": (FUNCREF,)}, MISMATCH),
    ("ref.is_null", ("ref.null funcref", "ref.is_null"), TO_I32, None),
    ("ref.is_null number", ("i32.const 0", "ref.is_null"), TO_I32, MISMATCH),
    ("ref.is_null after unreachable", ("unreachable", "ref.is_null"), TO_I32, None),
    ("ref.is_null underflow", ("ref.is_null",), TO_I32, MISMATCH),
    ("ref.func declared", (f"ref.func {CALLEE}",), {"results": (FUNCREF,)}, None),
    ("ref.func undeclared", ("ref.func 0",), {"results": (FUNCREF,)}, "undeclared function reference"),
    ("ref.func unknown", ("ref.func 9",), {"results": (FUNCREF,)}, "unknown function"),
)
def test_references(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("table.get", ("i32.const 0", "table.get 1"), {"results": (EXTERNREF,)}, None),
    ("table.get type", ("i32.const 0", "table.get 0"), {"results": (EXTERNREF,)}, MISMATCH),
    ("table.get unknown", ("i32.const 0", "table.get 2", "drop"), NONE, "unknown table"),
    ("table.set", ("i32.const 0", "ref.null funcref", "table.set 0"), NONE, None),
    ("table.set element type", ("i32.const 0", "ref.null externref", "table.set 0"), NONE, MISMATCH),
    ("table.set operand order", ("ref.null funcref", "i32.const 0", "table.set 0"), NONE, MISMATCH),
    ("table.size", ("table.size 1",), TO_I32, None),
    ("table.size unknown", ("table.size 2",), TO_I32, "unknown table"),
    ("table.grow", ("ref.null externref", "i32.const 1", "table.grow 1"), TO_I32, None),
    ("table.grow element type", ("ref.null funcref", "i32.const 1", "table.grow 1"), TO_I32, MISMATCH),
    ("table.grow unknown", ("ref.null funcref", "i32.const 1", "table.grow 5"), TO_I32, "unknown table"),
    ("table.fill", ("i32.const 0", "ref.null funcref", "i32.const 1", "table.fill 0"), NONE, None),
    ("table.fill element type", ("i32.const 0", "ref.null funcref", "i32.const 1", "table.fill 1"), NONE,
     MISMATCH),
    ("table.fill unknown", ("i32.const 0", "ref.null funcref", "i32.const 1", "table.fill 2"), NONE,
     "unknown table"),
    ("table.copy", ("i32.const 0", "i32.const 0", "i32.const 0", "table.copy 0 0"), NONE, None),
    ("table.copy element types", ("i32.const 0", "i32.const 0", "i32.const 0", "table.copy 0 1"), NONE,
     MISMATCH),
    ("table.copy unknown source", ("i32.const 0", "i32.const 0", "i32.const 0", "table.copy 0 2"), NONE,
     "unknown table"),
    ("table.init", ("i32.const 0", "i32.const 0", "i32.const 0", "table.init 1 1"), NONE, None),
    ("table.init element types", ("i32.const 0", "i32.const 0", "i32.const 0", "table.init 1 0"), NONE,
     MISMATCH),
    ("table.init unknown segment", ("i32.const 0", "i32.const 0", "i32.const 0", "table.init 2 0"), NONE,
     "unknown elem segment"),
    ("table.init unknown table", ("i32.const 0", "i32.const 0", "i32.const 0", "table.init 0 4"), NONE,
     "unknown table"),
    ("table.init operands", ("i32.const 0", "i32.const 0", "i64.const 0", "table.init 0 0"), NONE, MISMATCH),
    ("elem.drop", ("elem.drop 1",), NONE, None),
    ("elem.drop unknown", ("elem.drop 2",), NONE, "unknown elem segment"),
)
def test_tables(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@cases(
    ("load", ("i32.const 0", "i64.load"), TO_I64, None),
    ("load address type", ("i64.const 0", "i64.load"), TO_I64, MISMATCH),
    ("load natural alignment", ("i32.const 0", "i64.load 3"), TO_I64, None),
    ("load smaller alignment", ("i32.const 0", "i64.load 0"), TO_I64, None),
    ("load over-alignment", ("i32.const 0", "i64.load 4"), TO_I64, "alignment must not be larger than natural"),
    ("narrow load over-alignment", ("i32.const 0", "i64.load16_s 2"), TO_I64,
     "alignment must not be larger than natural"),
    ("huge alignment", ("i32.const 0", "i32.load 4294967295"), TO_I32, "alignment must not be larger than natural"),
    ("store", ("i32.const 0", "f64.const 0", "f64.store"), NONE, None),
    ("store operand order", ("f64.const 0", "i32.const 0", "f64.store"), NONE, MISMATCH),
    ("store8 over-alignment", ("i32.const 0", "i32.const 0", "i32.store8 1"), NONE,
     "alignment must not be larger than natural"),
    ("memory.size", ("memory.size",), TO_I32, None),
    ("memory.grow", ("i32.const 1", "memory.grow"), TO_I32, None),
    ("memory.fill", ("i32.const 0", "i32.const 0", "i32.const 0", "memory.fill"), NONE, None),
    ("memory.copy", ("i32.const 0", "i32.const 0", "i32.const 0", "memory.copy"), NONE, None),
    ("memory.init", ("i32.const 0", "i32.const 0", "i32.const 0", "memory.init 0"), NONE, None),
    ("memory.init unknown segment", ("i32.const 0", "i32.const 0", "i32.const 0", "memory.init 1"), NONE,
     "unknown data segment"),
    ("memory.init operands", ("i32.const 0", "i64.const 0", "i32.const 0", "memory.init 0"), NONE, MISMATCH),
    ("data.drop", ("data.drop 0",), NONE, None),
    ("data.drop unknown", ("data.drop 1",), NONE, "unknown data segment"),
)
def test_memory(lines: tuple[str, ...], signature: dict[str, Any], expected: str | None) -> None:
    check(lines, signature, expected)


@pytest.mark.parametrize("lines", [
    ("i32.const 0", "i32.load", "drop"),
    ("i32.const 0", "i32.const 0", "i64.store32"),
    ("memory.size", "drop"),
    ("i32.const 0", "memory.grow", "drop"),
    ("i32.const 0", "i32.const 0", "i32.const 0", "memory.fill"),
    ("i32.const 0", "i32.const 0", "i32.const 0", "memory.copy"),
    ("i32.const 0", "i32.const 0", "i32.const 0", "memory.init 0"),
])
def test_memory_instructions_need_a_memory(lines: tuple[str, ...]) -> None:
    message = outcome(*lines, memories=())
    assert message is not None and message.startswith("unknown memory 0")


def test_data_index_bounded_by_segments_without_data_count() -> None:
    """A text module may have no data count section; the data segments
    themselves then bound the index (a binary decoder rejects such a module
    earlier, with "data count section required")."""
    assert outcome("data.drop 0", data_count=None) is None
    assert outcome("data.drop 1", data_count=None) == "unknown data segment 1"


def test_error_location() -> None:
    module = environment_module("i32.const 1", "i32.const 2", "i64.add", "drop")
    with pytest.raises(InvalidError) as info:
        validate_module(module)
    assert info.value.function == FunctionRef(0)
    assert info.value.offset == 2  # the assembler's offset of i64.add
    assert info.value.instruction == "i64.add"
    assert str(info.value) == ("type mismatch in i64.add: expected [i64 i64], got [i32 i32] "
                               "(in function 0, at offset 0x2)")


def test_error_location_in_later_function() -> None:
    from interp.syntax.module import Func
    from tests.valid.assemble import expr
    bad = Func(0, (), expr("nop", "local.get 4"))
    module = environment_module(funcs=(Func(TYPE_I32_I64_TO_F32, (), expr("f32.const 0")), bad))
    with pytest.raises(InvalidError) as info:
        validate_module(module)
    # One imported global, no imported functions: function 2 is the second extra one.
    assert (info.value.message, info.value.function, info.value.offset) == ("unknown local 4", FunctionRef(2), 1)


def test_error_offset_unknown_for_text_instructions() -> None:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType((), ()), ())
    with pytest.raises(InvalidError) as info:
        validator.step(instruction("i32.add"))  # offset -1: not from a binary
    assert info.value.function == FunctionRef(0) and info.value.offset is None


def test_instruction_after_final_end() -> None:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType((), ()), ())
    validator.run(code("end"))
    for late in ("nop", "i32.const 1", "local.get 0", "end"):
        with pytest.raises(InvalidError, match="after the end"):
            validator.step(instruction(late))


@pytest.mark.parametrize("lines", [(), ("block",), ("block", "end"), ("i32.const 0", "if", "else")])
def test_missing_end(lines: tuple[str, ...]) -> None:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType((), ()), ())
    validator.run(code(*lines))
    with pytest.raises(InvalidError, match="end"):
        validator.finish()


class TestStepwiseInterface:
    """What the translator reads while it drives the validator: operand stack
    heights, frame kinds and heights, label types and the unreachable flag."""

    def validator(self, params: tuple = (I32,), results: tuple = (I32,)) -> FunctionValidator:
        context = ModuleContext.of_module(environment_module())
        return FunctionValidator(context, 0, FuncType(params, results), (I64,))

    def test_initial_state(self) -> None:
        validator = self.validator()
        assert validator.vals == [] and len(validator.ctrls) == 1
        body = validator.ctrls[0]
        assert (body.kind, body.start_types, body.end_types, body.label_types, body.height, body.unreachable) == (
            "function", (), (I32,), (I32,), 0, False)
        assert validator.local_types == (I32, I64) and validator.locals == [I32, I64]

    def test_heights_and_frames(self) -> None:
        validator = self.validator()
        heights = []
        for line in ("i64.const 1", "local.get 0", f"loop {TYPE_I32_TO_I32}", "i32.const 1", "i32.add",
                     "i32.const 0", "br_if 0", "end", "local.set 0", "drop", "local.get 0", "end"):
            validator.step(instruction(line))
            heights.append(len(validator.vals))
            if line.startswith("loop"):
                loop = validator.ctrls[-1]
                assert (loop.kind, loop.height, loop.label_types, loop.end_types) == ("loop", 1, (I32,), (I32,))
                assert loop.instr is not None and loop.instr.op.name == "loop"
        assert heights == [1, 2, 2, 3, 2, 3, 2, 2, 1, 0, 1, 1]
        assert validator.ctrls == [] and validator.vals == [I32]
        validator.finish()

    def test_block_frame_and_label(self) -> None:
        validator = self.validator()
        validator.run(code("i32.const 5", f"block {TYPE_I32_TO_I32_I64}"))
        frame = validator.ctrls[-1]
        assert (frame.kind, frame.height, frame.label_types) == ("block", 0, (I32, I64))
        assert validator.vals == [I32]  # the parameter, pushed again inside

    def test_if_else_frames(self) -> None:
        validator = self.validator()
        validator.run(code("local.get 0", "if i32"))
        assert validator.ctrls[-1].kind == "if" and validator.ctrls[-1].height == 0
        validator.run(code("i32.const 1", "else"))
        assert validator.ctrls[-1].kind == "else" and validator.vals == []

    def test_unreachable_truncates_and_pops_unknown(self) -> None:
        validator = self.validator()
        validator.run(code("block i32", "i64.const 1", "i64.const 2", "unreachable"))
        frame = validator.ctrls[-1]
        assert frame.unreachable and len(validator.vals) == frame.height == 0
        validator.step(instruction("select"))  # Unknown operands make an Unknown result
        assert validator.vals == [None]
        validator.step(instruction("i32.eqz"))
        assert validator.vals == [I32]

    def test_br_table_keeps_bottom_for_following_checks(self) -> None:
        validator = self.validator()
        validator.run(code("block", "unreachable", "i32.const 0", "br_table 0 0"))
        assert validator.vals == [] and validator.ctrls[-1].unreachable
