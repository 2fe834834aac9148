"""Modules in the text format: fields, abbreviations, identifiers, instructions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.errors import MalformedError, TextSyntaxError
from interp.syntax.module import Data, Elem, Export, Import, Instruction, SegmentMode
from interp.features import SUPPORTED_FEATURES, WASM_2_0_FEATURES, Feature
from interp.syntax.opcodes import OPS_BY_NAME, SELECT_TYPED, MemArg
from interp.syntax.types import (
    EXTERNREF,
    F32,
    F64,
    FUNCREF,
    I32,
    I64,
    ExternKind,
    FuncType,
    GlobalType,
    HeapKind,
    Limits,
    MemoryType,
    TableType,
    ValType,
    ref_type,
)
from interp.text import parse_module

FUNC_INDICES = ref_type(False, HeapKind.FUNC)
"""The type of an element segment written as function indices."""


def ins(name: str, imm: object = None) -> Instruction:
    return Instruction(OPS_BY_NAME[name], imm)


END = ins("end")
ZERO_OFFSET = (ins("i32.const", 0), END)


def body(text: str, index: int = 0) -> tuple[Instruction, ...]:
    return parse_module(text).funcs[index].body


def syntax_error(text: str, features: frozenset[Feature] = SUPPORTED_FEATURES) -> TextSyntaxError:
    with pytest.raises(TextSyntaxError) as info:
        parse_module(text, features)
    return info.value


# -- modules and fields ------------------------------------------------------------


def test_module_wrapper_is_optional() -> None:
    assert parse_module("(module (func))") == parse_module("(func)")
    assert parse_module("") == parse_module("(module)")


def test_module_name_and_trailing_garbage() -> None:
    assert parse_module("(module $m)").names.module == "m"
    assert syntax_error("(module) (module)").message == "unexpected token"
    assert syntax_error("(module").message == "unexpected token"


def test_unknown_field() -> None:
    assert syntax_error("(funky)").message == "unknown operator funky"
    assert syntax_error("(param i32)").message == "unexpected token"


def test_function_with_params_results_and_locals() -> None:
    module = parse_module("(func (param i32 i64) (param $x f32) (result f64) (local i32) (local $y i64) unreachable)")
    assert module.types == (FuncType((I32, I64, F32), (F64,)),)
    assert module.funcs[0].type_index == 0
    assert module.funcs[0].locals == (I32, I64)
    assert module.funcs[0].body == (ins("unreachable"), END)
    assert module.names.locals == {0: {2: "x", 4: "y"}}


def test_inline_types_reuse_the_first_match_and_append_after_explicit_types() -> None:
    module = parse_module("""
        (func $a (result i32) (i32.const 0))
        (type $t (func (param i32)))
        (func $b (param i32))
        (func $c (param i64) (result i64) (local.get 0))
        (type $u (func (result i32)))
        (func $d (result i32) (i32.const 1))
        (type $v (func (result i32)))
    """)
    assert module.types == (
        FuncType((I32,), ()),
        FuncType((), (I32,)),
        FuncType((), (I32,)),
        FuncType((I64,), (I64,)),  # appended: the only type no explicit one matches
    )
    assert [f.type_index for f in module.funcs] == [1, 0, 3, 1]
    assert module.names.types == {0: "t", 1: "u", 2: "v"}


def test_explicit_type_use_binds_params_for_local_indices() -> None:
    module = parse_module("""
        (type $t (func (param i32 i32) (result i32)))
        (func (type $t) (local $l i64) (local.get $l) drop (local.get 1))
    """)
    assert module.funcs[0].body[0] == ins("local.get", 2)
    assert module.funcs[0].type_index == 0
    assert len(module.types) == 1


def test_explicit_type_use_with_matching_inline_signature() -> None:
    module = parse_module("(type (func (param i32))) (func (type 0) (param $p i32) (local.get $p))")
    assert module.types == (FuncType((I32,), ()),)
    assert module.names.locals == {0: {0: "p"}}


@pytest.mark.parametrize("text", [
    "(type $t (func (param i32))) (func (type $t) (param i64))",
    "(type $t (func (param i32))) (func (type $t) (result i32))",
    "(type $t (func)) (func (block (type $t) (result i32) (i32.const 0)) drop)",
    "(type $t (func)) (table 1 funcref) (func (call_indirect (type $t) (param i32) (i32.const 0) (i32.const 0)))",
])
def test_inline_type_must_match_explicit_type(text: str) -> None:
    assert syntax_error(text).message.startswith("inline function type")


def test_explicit_type_use_out_of_range() -> None:
    # Without an inline signature an unknown type index is the validator's business ...
    assert parse_module("(func (type 7))").funcs[0].type_index == 7
    # ... with one, it has to be looked up while parsing.
    assert syntax_error("(func (type 7) (param i32))").message.startswith("unknown type")


@pytest.mark.parametrize("text", [
    "(func (result i32) (param i32) (i32.const 0))",
    "(func (param i32) (type 0) (i32.const 0))",
    "(func (local i32) (param i32))",
    "(func (nop) (local i32))",
    "(type (func (result i32) (param i32)))",
    "(func (block (param $x i32)))",
    "(func (call_indirect (param $x i32)))",
    "(type (func (result $x i32)))",
])
def test_type_use_clauses_out_of_order_or_misplaced(text: str) -> None:
    assert syntax_error(text).message == "unexpected token"


def test_imports_of_every_kind() -> None:
    module = parse_module("""
        (import "m" "f" (func $f (param i32)))
        (import "m" "t" (table $t 1 2 externref))
        (import "m" "mem" (memory $mem 1))
        (import "m" "g" (global $g (mut f32)))
        (func $f2 (import "n" "f") (result i32))
        (table (import "n" "t") 3 funcref)
        (memory (import "n" "m") 0 1)
        (global $g2 (import "n" "g") i64)
    """)
    assert module.imports == (
        Import("m", "f", 0),
        Import("m", "t", TableType(Limits(1, 2), EXTERNREF)),
        Import("m", "mem", MemoryType(Limits(1))),
        Import("m", "g", GlobalType(F32, True)),
        Import("n", "f", 1),
        Import("n", "t", TableType(Limits(3), FUNCREF)),
        Import("n", "m", MemoryType(Limits(0, 1))),
        Import("n", "g", GlobalType(I64, False)),
    )
    assert module.names.funcs == {0: "f", 1: "f2"}
    assert module.names.globals == {0: "g", 1: "g2"}
    assert module.funcs == ()


@pytest.mark.parametrize(("text", "message"), [
    ('(func) (import "" "" (func))', "import after function"),
    ('(global i64 (i64.const 0)) (import "" "" (global f32))', "import after global"),
    ('(table 0 funcref) (import "" "" (memory 0))', "import after table"),
    ('(memory 0) (table (import "" "") 0 funcref)', "import after memory"),
    ('(memory 0) (func (import "" ""))', "import after memory"),
])
def test_imports_after_definitions(text: str, message: str) -> None:
    assert syntax_error(text).message == message


def test_inline_exports() -> None:
    module = parse_module("""
        (func $f (export "a") (export "b"))
        (table (export "t") 0 funcref)
        (memory (export "m") 1)
        (global (export "g") i32 (i32.const 0))
        (export "c" (func $f))
        (export "m2" (memory 0))
    """)
    assert module.exports == (
        Export("a", ExternKind.FUNC, 0),
        Export("b", ExternKind.FUNC, 0),
        Export("t", ExternKind.TABLE, 0),
        Export("m", ExternKind.MEMORY, 0),
        Export("g", ExternKind.GLOBAL, 0),
        Export("c", ExternKind.FUNC, 0),
        Export("m2", ExternKind.MEMORY, 0),
    )


def test_names_must_be_utf8() -> None:
    assert syntax_error(r'(func (export "\ff"))').message == "malformed UTF-8 encoding"
    assert syntax_error(r'(import "\c0\80" "x" (func))').message == "malformed UTF-8 encoding"
    assert parse_module(r'(func (export "\e2\98\83"))').exports[0].name == "☃"


def test_table_with_inline_elements() -> None:
    module = parse_module("""
        (func $f) (func $g)
        (table $t (export "t") funcref (elem $f $g $f))
        (table externref (elem (ref.null extern) (item ref.null extern)))
        (elem $e func)
    """)
    assert module.tables == (TableType(Limits(3, 3), FUNCREF), TableType(Limits(2, 2), EXTERNREF))
    refs = tuple((ins("ref.func", i), END) for i in (0, 1, 0))
    nulls = ((ins("ref.null", HeapKind.EXTERN), END),) * 2
    assert module.elems == (
        Elem(FUNCREF, refs, SegmentMode.ACTIVE, 0, ZERO_OFFSET),  # the table's element type
        Elem(EXTERNREF, nulls, SegmentMode.ACTIVE, 1, ZERO_OFFSET),
        Elem(FUNC_INDICES, (), SegmentMode.PASSIVE),
    )
    assert module.names.elems == {2: "e"}  # the inline segments take indices 0 and 1
    assert module.exports == (Export("t", ExternKind.TABLE, 0),)


def test_memory_with_inline_data() -> None:
    module = parse_module('(memory $m (data "ab" "c")) (memory (data)) (data $d "x")')
    assert module.memories == (MemoryType(Limits(1, 1)), MemoryType(Limits(0, 0)))
    assert module.datas == (
        Data(b"abc", SegmentMode.ACTIVE, 0, ZERO_OFFSET),
        Data(b"", SegmentMode.ACTIVE, 1, ZERO_OFFSET),
        Data(b"x", SegmentMode.PASSIVE),
    )
    assert module.names.datas == {2: "d"}
    big = parse_module('(memory (data "' + "a" * 65537 + '"))')
    assert big.memories == (MemoryType(Limits(2, 2)),)


def test_element_segment_forms() -> None:
    module = parse_module("""
        (table $t 10 funcref) (table $u 10 funcref)
        (func $f) (func $g)
        (elem (i32.const 0) $f $g)
        (elem (i32.const 1))
        (elem (offset (i32.const 2)) func $g)
        (elem (table $u) (i32.const 3) func $f)
        (elem (table 1) (offset i32.const 4) funcref (ref.func $f) (item (ref.null func)))
        (elem $p func $f 1)
        (elem funcref (ref.null func))
        (elem declare func $g)
        (elem $q declare funcref (item ref.func $f))
    """)
    f, g = (ins("ref.func", 0), END), (ins("ref.func", 1), END)
    null = (ins("ref.null", HeapKind.FUNC), END)

    def offset(n: int) -> tuple[Instruction, ...]:
        return (ins("i32.const", n), END)

    assert module.elems == (  # function indices are references of type (ref func)
        Elem(FUNC_INDICES, (f, g), SegmentMode.ACTIVE, 0, offset(0)),
        Elem(FUNC_INDICES, (), SegmentMode.ACTIVE, 0, offset(1)),
        Elem(FUNC_INDICES, (g,), SegmentMode.ACTIVE, 0, offset(2)),
        Elem(FUNC_INDICES, (f,), SegmentMode.ACTIVE, 1, offset(3)),
        Elem(FUNCREF, (f, null), SegmentMode.ACTIVE, 1, offset(4)),
        Elem(FUNC_INDICES, (f, g), SegmentMode.PASSIVE),
        Elem(FUNCREF, (null,), SegmentMode.PASSIVE),
        Elem(FUNC_INDICES, (g,), SegmentMode.DECLARATIVE),
        Elem(FUNCREF, (f,), SegmentMode.DECLARATIVE),
    )
    assert module.names.elems == {5: "p", 8: "q"}


def test_data_segment_forms() -> None:
    module = parse_module("""
        (memory $m 1)
        (data (i32.const 0) "a" "b")
        (data (offset (i32.const 1)))
        (data (memory $m) (i32.const 2) "c")
        (data $d "\\00\\01")
    """)
    assert module.datas == (
        Data(b"ab", SegmentMode.ACTIVE, 0, (ins("i32.const", 0), END)),
        Data(b"", SegmentMode.ACTIVE, 0, (ins("i32.const", 1), END)),
        Data(b"c", SegmentMode.ACTIVE, 0, (ins("i32.const", 2), END)),
        Data(b"\x00\x01", SegmentMode.PASSIVE),
    )
    assert module.data_count is None


def test_globals() -> None:
    module = parse_module("(global $a i32 (i32.const 1)) (global (mut f64) f64.const 2.5) (global externref (ref.null extern))")
    assert [g.type for g in module.globals] == [GlobalType(I32, False), GlobalType(F64, True), GlobalType(EXTERNREF, False)]
    assert module.globals[1].init == (ins("f64.const", 0x4004_0000_0000_0000), END)
    assert module.names.globals == {0: "a"}


def test_start() -> None:
    assert parse_module("(func) (func $s) (start $s)").start == 1
    assert syntax_error("(func $a) (start $a) (start $a)").message == "multiple start sections"


def test_limits_must_fit_in_32_bits_in_webassembly_2_0() -> None:
    """In 2.0's text format; with memory64 they are u64s (and too large a
    one for its type is a validation error)."""
    assert parse_module("(memory 0 0xffff_ffff)", WASM_2_0_FEATURES).memories == (MemoryType(Limits(0, 2**32 - 1)),)
    assert syntax_error("(memory 0x1_0000_0000)", WASM_2_0_FEATURES).message == "i32 constant out of range"
    assert syntax_error("(table 0 0x1_0000_0000 funcref)", WASM_2_0_FEATURES).message == "i32 constant out of range"
    assert syntax_error("(table 0 0x1_0000_0000_0000_0000 funcref)").message == "i64 constant out of range"


# -- identifiers -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("(func $f) (func $f)", "duplicate function $f"),
    ('(import "" "" (func $f)) (func $f)', "duplicate function $f"),
    ("(func (param $x i32) (local $x i32))", "duplicate local $x"),
    ("(global $g i32 (i32.const 0)) (global $g i32 (i32.const 0))", "duplicate global $g"),
    ("(memory $m 1) (memory $m 1)", "duplicate memory $m"),
    ("(table $t 1 funcref) (table $t 1 funcref)", "duplicate table $t"),
    ("(type $t (func)) (type $t (func))", "duplicate type $t"),
    ("(elem $e func) (elem $e func)", "duplicate elem segment $e"),
    ('(data $d "") (data $d "")', "duplicate data segment $d"),
])
def test_duplicate_identifiers(text: str, message: str) -> None:
    assert syntax_error(text).message == message


@pytest.mark.parametrize(("text", "message"), [
    ("(func (call $nope))", "unknown function $nope"),
    ("(func (local.get $x))", "unknown local $x"),
    ("(func (global.get $g))", "unknown global $g"),
    ("(func (br $l))", "unknown label $l"),
    ("(func (type $t))", "unknown type $t"),
    ("(func (table.size $t))", "unknown table $t"),
    ("(func (elem.drop $e))", "unknown elem segment $e"),
    ("(func (data.drop $d))", "unknown data segment $d"),
    ('(export "m" (memory $m))', "unknown memory $m"),
])
def test_unknown_identifiers(text: str, message: str) -> None:
    assert syntax_error(text).message == message


def test_identifiers_may_be_used_before_their_definition() -> None:
    module = parse_module("(func (call $later) (global.get $g)) (func $later) (global $g i32 (i32.const 0))")
    assert module.funcs[0].body[:2] == (ins("call", 1), ins("global.get", 0))


def test_names_section_contents() -> None:
    module = parse_module("""(module $mod
        (type $sig (func))
        (import "a" "b" (func $imp))
        (func $f (param $p i32) (local $l i32))
        (table $tab 1 funcref) (memory $mem 1) (global $glob i32 (i32.const 0))
        (elem $seg func) (data $blob ""))""")
    names = module.names
    assert names.module == "mod"
    assert names.types == {0: "sig"}
    assert names.funcs == {0: "imp", 1: "f"}
    assert names.locals == {1: {0: "p", 1: "l"}}
    assert (names.tables, names.memories, names.globals) == ({0: "tab"}, {0: "mem"}, {0: "glob"})
    assert (names.elems, names.datas) == ({0: "seg"}, {0: "blob"})


# -- instructions ------------------------------------------------------------------------


def test_folded_instructions_put_operands_first() -> None:
    assert body("(func (result i32) (i32.add (i32.const 1) (i32.mul (i32.const 2) (i32.const 3))))") == (
        ins("i32.const", 1), ins("i32.const", 2), ins("i32.const", 3), ins("i32.mul"), ins("i32.add"), END,
    )


def test_blocks_plain_and_folded() -> None:
    expected = (ins("block", None), ins("loop", I32), ins("i32.const", 1), END, ins("drop"), END, END)
    assert body("(func block loop (result i32) i32.const 1 end drop end)") == expected
    assert body("(func (block (loop (result i32) (i32.const 1)) (drop)))") == expected


def test_if_plain_and_folded() -> None:
    expected = (ins("i32.const", 1), ins("if", I32), ins("i32.const", 2), ins("else"), ins("i32.const", 3), END,
                ins("drop"), END)
    assert body("(func i32.const 1 if (result i32) i32.const 2 else i32.const 3 end drop)") == expected
    assert body("(func (drop (if (result i32) (i32.const 1) (then (i32.const 2)) (else (i32.const 3)))))") == expected


def test_folded_if_with_several_conditions_and_no_else() -> None:
    assert body("(func (if (i32.const 1) (i32.eqz) (then (nop))))") == (
        ins("i32.const", 1), ins("i32.eqz"), ins("if", None), ins("nop"), END, END,
    )


def test_an_empty_else_is_dropped_like_wat2wasm_does() -> None:
    assert body("(func (if (i32.const 1) (then) (else)))") == (ins("i32.const", 1), ins("if", None), END, END)
    assert body("(func i32.const 1 if else end)") == (ins("i32.const", 1), ins("if", None), END, END)
    assert body("(func i32.const 1 if (if (i32.const 0) (then) (else)) else nop end)")[-5:] == (
        END, ins("else"), ins("nop"), END, END,
    )


def test_block_types() -> None:
    module = parse_module("""
        (type $ii (func (param i32) (result i32)))
        (type $r (func (result f32)))
        (func
          (block (type $ii) (param i32) (result i32) (local.get 0)) drop
          (block (type $r) (f32.const 0)) drop
          (block (result i32 i64) (i32.const 0) (i64.const 0)) drop drop
          (block (param i64) (drop)))
    """)
    blocks = [i.imm for i in module.funcs[0].body if i.op.name == "block"]
    # A type use whose type has no params and at most one result is encoded
    # as a value type, as wat2wasm does.
    assert blocks == [0, F32, 3, 4]
    assert module.types[3:] == (FuncType((), (I32, I64)), FuncType((I64,), ()))


def test_labels_resolve_to_relative_depths() -> None:
    assert body("(func (block $outer (block $inner (br $outer) (br $inner) (br 1) (br_if $outer (i32.const 0)))))") == (
        ins("block", None), ins("block", None), ins("br", 1), ins("br", 0), ins("br", 1), ins("i32.const", 0),
        ins("br_if", 1), END, END, END,
    )


def test_labels_shadow_and_if_conditions_see_the_outer_labels() -> None:
    assert body("(func (block $l (block $l (br $l))))")[2] == ins("br", 0)
    instrs = body("(func (block $l (if $l (br_if $l (i32.const 0) (i32.const 1)) (then (br $l)))))")
    assert instrs[3] == ins("br_if", 0)  # condition: outside the if
    assert instrs[5] == ins("br", 0)     # then branch: inside the if


@pytest.mark.parametrize("text", [
    "(func block end $l)", "(func block $a end $l)", "(func i32.const 0 if else $l end)",
    "(func i32.const 0 if $a else $b end)", "(func i32.const 0 if $a else $a end $b)",
])
def test_mismatching_labels(text: str) -> None:
    assert syntax_error(text).message == "mismatching label"


def test_matching_end_labels_are_accepted() -> None:
    assert len(body("(func block $a end $a i32.const 0 if $b else $b end $b)")) == 6


def test_br_table() -> None:
    assert body("(func (block $a (block $b (br_table $a $b 0 (i32.const 0)))))")[3] == ins("br_table", ((1, 0), 0))
    assert body("(func (block (br_table 0 (i32.const 0))))")[2] == ins("br_table", ((), 0))
    assert syntax_error("(func (br_table))").message == "unexpected token"


def test_select_untyped_and_typed() -> None:
    assert body("(func (select (i32.const 1) (i32.const 2) (i32.const 0)) drop)")[3] == ins("select")
    typed = body("(func (select (result i32) (result) (i32.const 1) (i32.const 2) (i32.const 0)) drop)")[3]
    assert typed == Instruction(SELECT_TYPED, (I32,))
    assert body("(func select (result i64 f32))")[0] == Instruction(SELECT_TYPED, (I64, F32))


def test_call_indirect() -> None:
    module = parse_module("""
        (type $t (func (param i32)))
        (table $a 1 funcref) (table $b 1 funcref)
        (func
          (call_indirect (type $t) (i32.const 0) (i32.const 0))
          (call_indirect $b (type $t) (param i32) (i32.const 0) (i32.const 0))
          (call_indirect 1 (param i64) (result f32) (i64.const 0) (i32.const 0)) drop
          i32.const 0 call_indirect (result i32) drop)
    """)
    calls = [i.imm for i in module.funcs[0].body if i.op.name == "call_indirect"]
    assert calls == [(0, 0), (0, 1), (2, 1), (3, 0)]
    # type 1 is the function's own [] -> [], appended first
    assert module.types[1:] == (FuncType((), ()), FuncType((I64,), (F32,)), FuncType((), (I32,)))


def test_table_instructions() -> None:
    module = parse_module("""
        (table $t 1 funcref) (table $u 1 funcref) (elem $e func) (elem $f func)
        (func
          (table.init $f (i32.const 0) (i32.const 0) (i32.const 0))
          (table.init $u $f (i32.const 0) (i32.const 0) (i32.const 0))
          (table.init 1 0 (i32.const 0) (i32.const 0) (i32.const 0))
          (table.copy (i32.const 0) (i32.const 0) (i32.const 0))
          (table.copy $u $t (i32.const 0) (i32.const 0) (i32.const 0))
          (drop (table.get (i32.const 0))) (drop (table.get $u (i32.const 0)))
          (drop (table.size)) (drop (table.grow $u (ref.null func) (i32.const 1)))
          (table.fill $u (i32.const 0) (ref.null func) (i32.const 0))
          (elem.drop $f))
    """)
    immediates = [(i.op.name, i.imm) for i in module.funcs[0].body
                  if i.op.name.startswith(("table.", "elem."))]
    assert immediates == [
        ("table.init", (1, 0)), ("table.init", (1, 1)), ("table.init", (0, 1)),
        ("table.copy", (0, 0)), ("table.copy", (1, 0)),
        ("table.get", 0), ("table.get", 1), ("table.size", 0), ("table.grow", 1), ("table.fill", 1),
        ("elem.drop", 1),
    ]


def test_memory_instructions_and_data_count() -> None:
    module = parse_module("""
        (memory 1) (data $d "x")
        (func
          (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))
          (data.drop 0)
          (memory.copy (i32.const 0) (i32.const 0) (i32.const 0))
          (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))
          (drop (memory.size)) (drop (memory.grow (i32.const 1))))
    """)
    immediates = [(i.op.name, i.imm) for i in module.funcs[0].body if i.op.name.startswith(("memory.", "data."))]
    assert immediates == [("memory.init", (0, 0)), ("data.drop", 0), ("memory.copy", (0, 0)),
                          ("memory.fill", 0), ("memory.size", 0), ("memory.grow", 0)]
    assert module.data_count == 1


def test_memory_arguments() -> None:
    instrs = body("""(func
        (drop (i32.load (i32.const 0)))
        (drop (i64.load8_u offset=0x10 (i32.const 0)))
        (drop (f64.load offset=4294967295 align=1 (i32.const 0)))
        (i32.store16 align=2 (i32.const 0) (i32.const 0)))""")
    memargs = [i.imm for i in instrs if i.op.imm.value == "memarg"]
    assert memargs == [MemArg(2, 0), MemArg(0, 16), MemArg(0, 2**32 - 1), MemArg(1, 0)]


def test_memory_arguments_name_their_memory() -> None:
    """Multi-memory: an index or ``$id`` before the offset; memory64:
    offsets up to 2**64 - 1 (whether one fits its memory is validation's)."""
    module = parse_module("""(memory $a 1) (memory $b i64 1)
        (func
          (drop (i32.load $b offset=0xffff_ffff_ffff_ffff (i64.const 0)))
          (drop (i64.load8_u 1 align=1 (i64.const 0)))
          (v128.store8_lane $b 3 (i64.const 0) (v128.const i64x2 0 0))
          (v128.store8_lane 1 3 (i64.const 0) (v128.const i64x2 0 0))
          (v128.store8_lane 3 (i32.const 0) (v128.const i64x2 0 0)))""")
    immediates = [i.imm for i in module.funcs[0].body if i.op.imm.value in ("memarg", "memarg_lane")]
    assert immediates == [MemArg(2, 2**64 - 1, 1), MemArg(0, 0, 1), (MemArg(0, 0, 1), 3), (MemArg(0, 0, 1), 3),
                          (MemArg(0, 0, 0), 3)]


@pytest.mark.parametrize(("text", "message"), [
    ("(func (drop (i32.load align=3 (i32.const 0))))", "alignment"),
    ("(func (drop (i32.load align=0 (i32.const 0))))", "alignment"),
    ("(func (drop (i32.load offset=18446744073709551616 (i32.const 0))))", "i64 constant out of range"),
    ("(func (drop (i32.load offset=x (i32.const 0))))", "unknown operator"),
    ("(func (drop (i32.load align=4 offset=0 (i32.const 0))))", "unexpected token"),
    ("(func (drop (i32.load $m (i32.const 0))))", "unknown memory $m"),
])
def test_bad_memory_arguments(text: str, message: str) -> None:
    assert syntax_error(text).message.startswith(message)


@pytest.mark.parametrize(("text", "message"), [
    ("(func (drop (i32.load offset=4294967296 (i32.const 0))))", "i32 constant out of range"),
    ("(memory 0 0x1_0000_0000)", "i32 constant out of range"),
    ("(memory $m 1) (func (drop (i32.load $m (i32.const 0))))", "unexpected token"),
    ("(memory i64 1)", "unexpected token"),
])
def test_webassembly_2_0_text_has_no_memory_indices_or_64_bit_limits(text: str, message: str) -> None:
    assert syntax_error(text, WASM_2_0_FEATURES).message.startswith(message)


@pytest.mark.parametrize(("text", "memory"), [
    ("(memory i64 1 2)", MemoryType(Limits(1, 2), ValType.I64)),
    ("(memory 0x1_0000_0000)", MemoryType(Limits(2**32))),
    ("(memory 1 (pagesize 1))", MemoryType(Limits(1), page_size=1)),
    ("(memory i64 (pagesize 1) (data \"xyz\"))", MemoryType(Limits(3, 3), ValType.I64, 1)),
    ("(memory (import \"m\" \"m\") i64 0xffff_ffff_ffff_ffff (pagesize 1))",
     MemoryType(Limits(2**64 - 1), ValType.I64, 1)),
])
def test_memory_types(text: str, memory: MemoryType) -> None:
    """Memory64's address type, 64-bit limits, custom-page-sizes' page size;
    inline data fills whole pages of the memory's size."""
    assert parse_module(text).memory_types() == (memory,)


def test_inline_segments_have_offsets_of_the_address_type() -> None:
    module = parse_module("(memory i64 (data \"a\")) (table i64 funcref (elem 0)) (func)")
    assert module.tables == (TableType(Limits(1, 1), ValType.FUNCREF, ValType.I64),)
    assert [instr.op.name for instr in module.datas[0].offset] == ["i64.const", "end"]
    assert [instr.op.name for instr in module.elems[0].offset] == ["i64.const", "end"]


@pytest.mark.parametrize("text", ["(memory 0 (pagesize 3))", "(memory 0 (pagesize 0))"])
def test_a_page_size_is_a_power_of_two(text: str) -> None:
    assert syntax_error(text).message == "invalid custom page size"


def test_constants_are_canonical_ints_and_float_bit_patterns() -> None:
    assert body("(func i32.const -1 i64.const -1 f32.const -0.5 f64.const nan:0x1 f32.const inf)")[:5] == (
        ins("i32.const", 0xFFFF_FFFF), ins("i64.const", 2**64 - 1), ins("f32.const", 0xBF00_0000),
        ins("f64.const", 0x7FF0_0000_0000_0001), ins("f32.const", 0x7F80_0000),
    )


@pytest.mark.parametrize(("text", "message"), [
    ("(func (i32.const 0x100000000) drop)", "constant out of range"),
    ("(func (i32.const 1.5) drop)", "constant out of range"),
    ("(func (f32.const 1e39) drop)", "constant out of range"),
    ("(func (i32.const) drop)", "unexpected token"),
    ("(func (f32.const nan:canonical) drop)", "unexpected token"),
    ("(func (i32.const 0x) drop)", "unknown operator"),
    ("(func (i64.const _1) drop)", "unknown operator"),
    ("(func br 0drop)", "unknown operator"),
    ("(func (block $l (br_table 0$l)))", "unknown operator"),
    ("(func (br 0x1_0000_0000))", "i32 constant out of range"),
])
def test_bad_immediates(text: str, message: str) -> None:
    assert syntax_error(text).message.startswith(message)


def test_references() -> None:
    assert body("(func $f (drop (ref.null func)) (drop (ref.null extern)) (drop (ref.is_null (ref.func $f))))")[:5] == (
        ins("ref.null", HeapKind.FUNC), ins("drop"), ins("ref.null", HeapKind.EXTERN), ins("drop"), ins("ref.func", 0),
    )
    assert syntax_error("(func (ref.null funcref))").message == "unexpected token"


@pytest.mark.parametrize(("text", "message"), [
    ("(func (get_local 0))", "unknown operator get_local"),
    ("(func (i32.load32 (i32.const 0)))", "unknown operator i32.load32"),
    ("(global anyfunc (ref.null func))", "unknown operator anyfunc"),
    ("(func nop)foo", "unknown operator foo"),
    ("(func (nop (nop)) nop (local i32))", "unexpected token"),
    ("(func (if (i32.const 0)))", "unexpected token"),
    ("(func (if i32.const 0 (then)))", "unexpected token"),
    ("(func (if (i32.const 0) (else) (then)))", "unexpected token"),
    ("(func (if (i32.const 0) (then) (then)))", "unexpected token"),
    ("(func (block (then)))", "unexpected token"),
    ("(func end)", "unexpected token"),
    ("(func else)", "unexpected token"),
    ("(func block)", "unexpected token"),
    ("(func (nop nop))", "unexpected token"),
    ("(func ((nop)))", "unexpected token"),
    ('(func "x")', "unexpected token"),
    ("(func (i32.add (i32.const 1) i32.const 2))", "unexpected token"),
    ("(func (v128.const i32x4 0 0 0) drop)", "wrong number of lane literals"),
    ("(func (v128.const i9x16 0) drop)", "unknown operator i9x16"),
])
def test_malformed_instructions(text: str, message: str) -> None:
    assert syntax_error(text).message == message


def test_errors_point_at_the_offending_token() -> None:
    error = syntax_error("(module\n  (func\n    (i32.add (local.get $nope))))")
    assert (error.line, error.column) == (3, 25)


# -- robustness -----------------------------------------------------------------------------


DEPTH = 50_000
DEEP_TEXTS = {
    "folded blocks": "(func " + "(block " * DEPTH + ")" * DEPTH + ")",
    "plain blocks": "(func " + "block " * DEPTH + "end " * DEPTH + ")",
    "folded operands": "(func (result i32) " + "(i32.add (i32.const 1) " * DEPTH + "(i32.const 0)" + ")" * DEPTH + ")",
    "folded ifs": "(func " + "(if (i32.const 1) (then " * DEPTH + "))" * DEPTH + ")",
}


@pytest.mark.parametrize("name", DEEP_TEXTS)
def test_deep_nesting_does_not_recurse(name: str) -> None:
    module = parse_module(DEEP_TEXTS[name])
    assert len(module.funcs[0].body) > 2 * DEPTH


def test_deeply_nested_garbage_is_a_clean_error() -> None:
    with pytest.raises(TextSyntaxError):
        parse_module("(module " + "(" * 100_000 + ")" * 100_000 + ")")


_FRAGMENTS = st.sampled_from([
    "(", ")", "(func", "(module", "(block", "(if", "(then", "(else", "(param", "(result", "(local",
    "(type", "(table", "(memory", "(elem", "(data", "(import", "(export", "(global", "(start",
    "end", "else", "block", "loop", "if", "br 0", "br_table 0 1", "$x", "$y", "0", "-1", "1.5", "nan:0x1",
    '"s"', '"\\ff"', "i32", "funcref", "func", "i32.const", "i32.load", "offset=1", "align=2", "select",
    "call_indirect", "table.init", "memory.init", "local.get", "drop", "nop", "(mut", "declare", "item",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=30))
def test_arbitrary_token_soup_only_raises_malformed(fragments: list[str]) -> None:
    text = " ".join(fragments)
    try:
        parse_module(text)
    except MalformedError:
        pass


SAMPLE = r"""(module $m
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $imp (type $t)))
  (table $tab 2 funcref) (memory $mem 1) (global $g (mut i64) (i64.const -1))
  (func $f (export "f") (param $x i32) (result i32) (local f64)
    (block $b (result i32)
      (br_table $b 0 (local.get $x) (i32.const 0)))
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (call $imp (i32.const 2))))
    i32.add
    (call_indirect $tab (type $t) (i32.const 0))
    loop $l (param i32) (result i32) br_if $l end
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))
    (table.init $tab $e (i32.const 0) (i32.const 0) (i32.const 0))
    (drop (select (result f64) (f64.const 0x1p-3) (f64.const nan:0x1) (i32.const 1))))
  (elem $e func $f) (data $d "\00\u{263a}") (start $f))"""


def test_every_prefix_of_a_module_is_parsed_or_cleanly_rejected() -> None:
    assert parse_module(SAMPLE).funcs
    for end in range(len(SAMPLE)):
        try:
            parse_module(SAMPLE[:end])
        except MalformedError:
            pass


WAT2WASM_CASES = [
    SAMPLE,
    "(memory (data))",
    '(memory (export "m") (data "a" "b"))',
    "(func $f) (table funcref (elem)) (table $t externref (elem (ref.null extern))) (table funcref (elem $f $f))",
    "(type $r (func (result i32))) (type $v (func)) (func (block (type $r) (i32.const 0)) drop (loop (type $v)))",
    '(import "a" "b" (func (param i32) (result i64))) (func (param i32) (result i64) (i64.const 0))',
    "(func $a) (func $b) (table $t 3 funcref) (table $u 3 funcref)"
    " (elem (table $u) (offset (i32.const 1)) func $b $a) (elem declare func $a) (elem $p funcref (item ref.func $b))"
    " (func (table.init $u $p (i32.const 0) (i32.const 0) (i32.const 1)) (elem.drop $p) (table.copy $t $u"
    " (i32.const 0) (i32.const 0) (i32.const 0)))",
    "(func (result i32 i64) (block (result i32 i64) (i32.const 1) (i64.const 2)))"
    " (func (param i32) (local.get 0) (if (param i32) (then drop) (else drop)))",
    '(memory 1) (data $x "x") (func (memory.init $x (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop $x))',
    "(global $g (mut f32) (f32.const -0x1.fffffep127)) (global f64 (f64.const 1e-320)) (global i64 (i64.const -0x8000000000000000))",
]


@pytest.mark.parametrize("text", WAT2WASM_CASES)
def test_same_module_as_wat2wasm(text: str, wat2wasm_module, comparable) -> None:  # type: ignore[no-untyped-def]
    assert comparable(parse_module(text)) == comparable(wat2wasm_module(text))
