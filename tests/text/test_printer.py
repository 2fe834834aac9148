"""The text-format printer (``interp.text.printer``): exact output for small
modules, one instruction at a time, names, offsets against ``wasm-objdump
-d``, and the round trip print -> parse over every module of the official
testsuite, flat and folded."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.binary.decode import SECTION_ORDER, decode_module
from interp.binary.encode import encode_module
from interp.errors import MalformedError
from interp.features import WASM_2_0_FEATURES, Feature
from interp.loader import module_from_bytes
from interp.script.testsuites import WASM_3_0, files_of_testsuite, place_of, recognise
from interp.syntax.module import (
    Catch,
    CatchKind,
    CustomSection,
    Data,
    Elem,
    Expr,
    Func,
    Global,
    Instruction,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS, OPS_BY_NAME, SELECT_TYPED, Imm, MemArg, op
from interp.syntax.types import (
    EXTERNREF,
    FUNCREF,
    I32,
    I64,
    V128,
    FuncType,
    GlobalType,
    HeapKind,
    Limits,
    MemoryType,
    TableType,
    TagType,
    composite,
    ref_type,
)
from interp.text import parse_module, parse_script
from interp.text.lexer import STRING, tokenize
from interp.text.numbers import F32_FORMAT, parse_float
from interp.text.printer import (
    MAX_INDENT_LEVELS,
    STRUCTURED_OPS,
    format_instruction,
    format_string,
    is_identifier,
    print_function,
    print_module,
)
from interp.text.script import AssertMalformed, AssertTrap, ModuleSource, ScriptModule
from spec_tests.expectations import configured_testsuite, configured_testsuites, features_of_testsuite

END = OPS_BY_NAME["end"]
ELSE = OPS_BY_NAME["else"]


# -- comparing modules -------------------------------------------------------------------------


def _normal_expr(expr: Expr | None, module: Module) -> Expr | None:
    """``expr`` as the text format can say it: no byte offsets, a block
    type index whose type is ``[] -> [t?]`` in the short form, an empty
    ``else`` left out (the parser's normalisations, see its docstring)."""
    if expr is None:
        return None
    types = module.types
    out: list[Instruction] = []
    for instr in expr:
        instr = instr._replace(offset=-1)
        if instr.op.imm is Imm.BLOCKTYPE and isinstance(instr.imm, int) and 0 <= instr.imm < len(types):
            functype = composite(types[instr.imm])
            if isinstance(functype, FuncType) and not functype.params and len(functype.results) <= 1:
                instr = instr._replace(imm=functype.results[0] if functype.results else None)
        if instr.op is END and out and out[-1].op is ELSE:
            out.pop()
        out.append(instr)
    return tuple(out)


def _uses_data_count(module: Module) -> bool:
    return any(instr.op.imm in (Imm.DATA, Imm.MEMORY_INIT, Imm.ARRAY_DATA) for func in module.funcs
               for instr in func.body)


def comparable(module: Module, keep_names: bool) -> Module:
    """``module`` without what the text format cannot carry: offsets,
    custom sections, a data count section nothing needs, and (unless
    ``keep_names``) names."""
    def normal(expr: Expr | None) -> Expr | None:
        return _normal_expr(expr, module)

    return dataclasses.replace(
        module,
        funcs=tuple(dataclasses.replace(f, offset=-1, body=normal(f.body)) for f in module.funcs),
        globals=tuple(dataclasses.replace(g, init=normal(g.init)) for g in module.globals),
        elems=tuple(dataclasses.replace(e, init=tuple(normal(i) for i in e.init), offset=normal(e.offset))
                    for e in module.elems),
        datas=tuple(dataclasses.replace(d, offset=normal(d.offset)) for d in module.datas),
        table_inits=tuple(normal(init) for init in module.table_inits),
        data_count=len(module.datas) if _uses_data_count(module) else None,
        customs=(),
        names=module.names if keep_names else Names(),
    )


def assert_round_trip(module: Module, keep_names: bool = True) -> None:
    expected = comparable(module, keep_names)
    for folded, offsets in ((False, False), (True, False), (True, True)):
        text = print_module(module, folded=folded, offsets=offsets)
        assert comparable(parse_module(text), keep_names) == expected, text


# -- exact output -------------------------------------------------------------------------------

SMALL = r"""(module $demo
  (type $binop (func (param i32 i32) (result i32)))
  (import "env" "log" (func $log (param i32)))
  (import "env" "mem" (memory $mem 1 2))
  (import "env" "tab" (table $tab 2 funcref))
  (import "env" "g" (global $g (mut i64)))
  (func $add (export "add") (type $binop) (param $a i32) (param $b i32) (result i32)
    (local $t i32) (local f64 f64)
    (local.set $t (i32.add (local.get $a) (local.get $b)))
    (block $out (result i32)
      (br_if $out (local.get $t) (i32.eqz (local.get $t)))
      (drop)
      (i32.load8_u offset=4 align=1 (i32.const -1)))
    (call $log (i32.const 7))
    (f64.const -0x1p-3) (f64.const nan:0x4) (drop) (drop))
  (func $start (call $log (call $add (i32.const 1) (i32.const 2))))
  (global $count (mut i32) (i32.const 0))
  (start $start)
  (elem (i32.const 0) $add $start)
  (elem $later funcref (ref.func $add) (ref.null func))
  (elem declare func $log)
  (data (i32.const 16) "hi\n\"\\\ff")
  (data $blob "\00ab"))"""

HEAD = """(module $demo
  (type $binop (func (param i32 i32) (result i32)))
  (type (;1;) (func (param i32)))
  (type (;2;) (func))
  (import "env" "log" (func $log (type 1) (param i32)))
  (import "env" "mem" (memory $mem 1 2))
  (import "env" "tab" (table $tab 2 funcref))
  (import "env" "g" (global $g (mut i64)))
  (func $add (type $binop) (param $a i32) (param $b i32) (result i32)
    (local $t i32) (local f64 f64)
"""

SMALL_FLAT = HEAD + """\
    local.get $a
    local.get $b
    i32.add
    local.set $t
    block (result i32)
      local.get $t
      local.get $t
      i32.eqz
      br_if 0
      drop
      i32.const -1
      i32.load8_u offset=4
    end
    i32.const 7
    call $log
    f64.const -0.125
    f64.const nan:0x4
    drop
    drop)
  (func $start (type 2)
    i32.const 1
    i32.const 2
    call $add
    call $log)
  (global $count (mut i32) i32.const 0)
  (export "add" (func $add))
  (start $start)
  (elem (;0;) (offset i32.const 0) func $add $start)
  (elem $later funcref (item ref.func $add) (item ref.null func))
  (elem (;2;) declare func $log)
  (data (;0;) (offset i32.const 16) "hi\\0a\\"\\\\\\ff")
  (data $blob "\\00ab"))
"""

SMALL_FOLDED = HEAD + """\
    (local.set $t (i32.add (local.get $a) (local.get $b)))
    (block (result i32)
      (drop (br_if 0 (local.get $t) (i32.eqz (local.get $t))))
      (i32.load8_u offset=4 (i32.const -1)))
    (call $log (i32.const 7))
    (f64.const -0.125)
    (drop (f64.const nan:0x4))
    drop)
  (func $start (type 2)
    (call $log (call $add (i32.const 1) (i32.const 2))))
  (global $count (mut i32) (i32.const 0))
  (export "add" (func $add))
  (start $start)
  (elem (;0;) (offset (i32.const 0)) func $add $start)
  (elem $later funcref (item (ref.func $add)) (item (ref.null func)))
  (elem (;2;) declare func $log)
  (data (;0;) (offset (i32.const 16)) "hi\\0a\\"\\\\\\ff")
  (data $blob "\\00ab"))
"""


def test_flat_output_of_a_small_module() -> None:
    assert print_module(parse_module(SMALL)) == SMALL_FLAT


def test_folded_output_of_a_small_module() -> None:
    assert print_module(parse_module(SMALL), folded=True) == SMALL_FOLDED


def test_offsets_start_every_instruction_line_in_both_forms() -> None:
    module = module_from_bytes(SMALL.encode())  # through the binary: instructions have offsets
    flat = print_module(module, offsets=True)
    assert "    (;@7f;) local.get $a\n    (;@81;) local.get $b\n" in flat
    assert "    (;@95;) end\n" in flat
    assert "(global $count (mut i32) (;@50;) i32.const 0)" in flat
    assert "(elem $later funcref (item (;@6c;) ref.func $add) (item (;@6f;) ref.null func))" in flat
    folded = print_module(module, folded=True, offsets=True)
    assert "    (;@84;) (local.set $t\n      (;@83;) (i32.add\n        (;@7f;) (local.get $a)\n" in folded
    # Every line of a function body is an instruction with its offset.
    body = folded.split("(local $t i32) (local f64 f64)\n")[1].split("  (func $start")[0]
    assert all(re.match(r" +\(;@[0-9a-f]+;\) ", line) for line in body.splitlines())
    # The name section was made from the text's $identifiers, which say it.
    assert "@custom" not in flat
    for text in (flat, folded):
        assert comparable(parse_module(text), False) == comparable(module, False)


def test_function_of_a_module() -> None:
    module = parse_module(SMALL)
    assert print_function(module, 2) == "(func $start (type 2)\n  i32.const 1\n  i32.const 2\n  call $add\n  call $log)\n"
    assert print_function(module, 2, folded=True) == \
        "(func $start (type 2)\n  (call $log (call $add (i32.const 1) (i32.const 2))))\n"


def test_multi_value_and_unreachable_code_stay_flat_where_they_cannot_fold() -> None:
    module = parse_module("""(module
      (type $two (func (result i32 i32)))
      (func $pair (type $two) (i32.const 1) (i32.const 2))
      (func (result i32)
        (i32.add (call $pair))
        (unreachable)
        (i32.add)
        (i32.const 5)
        (block $b (type $two) (call $pair))
        (drop) (drop) (drop)))""")
    assert print_module(module, folded=True).endswith("""\
  (func (;1;) (type 1) (result i32)
    (call $pair)
    i32.add
    (unreachable)
    i32.add
    (i32.const 5)
    (block (type $two) (result i32 i32)
      (call $pair))
    drop
    drop
    drop))
""")
    assert_round_trip(module)


def test_if_folds_its_condition_and_branches() -> None:
    module = parse_module("""(module (func (param i32) (result i32)
      (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2)))
      (if (local.get 0) (then (nop)))
      (loop $l (param i32) (br_if $l (local.get 0)) (drop))))""")
    text = print_module(module, folded=True)
    assert """\
    (if (result i32)
      (local.get 0)
      (then
        (i32.const 1))
      (else
        (i32.const 2)))
    (if
      (local.get 0)
      (then
        (nop)))""" in text
    assert_round_trip(module)


# -- one instruction -----------------------------------------------------------------------------

NAMES = Names(module="m", funcs={3: "fib", 4: "has space", 5: "dup", 6: "dup"},
              locals={0: {0: "x", 1: "y"}}, types={1: "t"}, globals={0: "g"}, datas={1: "d"})


@pytest.mark.parametrize("name, imm, names, expected", [
    ("local.get", 0, None, "local.get 0"),
    ("local.get", 1, NAMES, "local.get 1"),
    ("i32.const", 0xFFFF_FFFF, None, "i32.const -1"),
    ("i64.const", 1 << 63, None, "i64.const -9223372036854775808"),
    ("f32.const", 0x7FC0_0000, None, "f32.const nan"),
    ("f32.const", 0xFF80_0000, None, "f32.const -inf"),
    ("f32.const", 0x7F80_0001, None, "f32.const nan:0x1"),
    ("f32.const", 0x3DCC_CCCD, None, "f32.const 0.1"),
    ("f64.const", 0x3FB9_9999_9999_999A, None, "f64.const 0.1"),
    ("f64.const", 0xFFF0_0000_0000_0001, None, "f64.const -nan:0x1"),
    ("call", 3, None, "call 3"),
    ("call", 3, NAMES, "call $fib"),
    ("call", 4, NAMES, 'call $"has space"'),
    ("call", 6, NAMES, "call $dup.1"),
    ("global.set", 0, NAMES, "global.set $g"),
    ("br_table", ((0, 1), 2), None, "br_table 0 1 2"),
    ("br_if", 3, NAMES, "br_if 3"),
    ("i32.load", MemArg(0, 4), None, "i32.load offset=4 align=1"),
    ("i32.load", MemArg(2, 0), None, "i32.load"),
    ("i64.store32", MemArg(2, 8), None, "i64.store32 offset=8"),
    ("v128.const", 4 << 96 | 3 << 64 | 2 << 32 | 1, None,
     "v128.const i32x4 0x00000001 0x00000002 0x00000003 0x00000004"),
    ("memory.init", (1, 0), None, "memory.init 1"),
    ("memory.init", (1, 0), NAMES, "memory.init $d"),
    ("data.drop", 0, NAMES, "data.drop 0"),
    ("memory.size", 0, None, "memory.size"),
    ("memory.copy", (0, 0), None, "memory.copy"),
    ("table.init", (2, 1), None, "table.init 1 2"),
    ("table.copy", (0, 1), None, "table.copy 0 1"),
    ("table.get", 0, None, "table.get 0"),
    ("call_indirect", (1, 0), None, "call_indirect (type 1)"),
    ("call_indirect", (1, 2), NAMES, "call_indirect 2 (type $t)"),
    ("block", None, None, "block"),
    ("loop", I64, None, "loop (result i64)"),
    ("if", 1, NAMES, "if (type $t)"),
    ("ref.null", HeapKind.EXTERN, None, "ref.null extern"),
    ("ref.func", 3, NAMES, "ref.func $fib"),
    ("i8x16.extract_lane_s", 15, None, "i8x16.extract_lane_s 15"),
    ("i8x16.shuffle", tuple(range(16)), None, "i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"),
    ("v128.load16_lane", (MemArg(0, 2), 7), None, "v128.load16_lane offset=2 align=1 7"),
    ("v128.store64_lane", (MemArg(3, 0), 1), None, "v128.store64_lane 1"),
    ("v128.store64_lane", (MemArg(3, 0, 1), 1), None, "v128.store64_lane 1 1"),
    ("i64.load32_u", MemArg(1, 2**64 - 1, 2), None, "i64.load32_u 2 offset=18446744073709551615 align=2"),
    ("i32.add", None, NAMES, "i32.add"),
])
def test_format_instruction(name: str, imm: object, names: Names | None, expected: str) -> None:
    assert format_instruction(Instruction(op(name), imm), names) == expected


def test_format_instruction_typed_select_and_locals_of_a_function() -> None:
    assert format_instruction(Instruction(SELECT_TYPED, (I64,))) == "select (result i64)"
    assert format_instruction(Instruction(SELECT_TYPED, ())) == "select (result)"
    assert format_instruction(Instruction(op("select"))) == "select"
    assert format_instruction(Instruction(op("local.tee"), 1), NAMES, func_index=0) == "local.tee $y"
    assert format_instruction(Instruction(op("local.tee"), 1), NAMES, func_index=1) == "local.tee 1"


def test_largest_f32_values_print_as_literals_that_read_back() -> None:
    for bits in (0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F7F_FFFE, 0x0000_0001, 0x8000_0000):
        text = format_instruction(Instruction(op("f32.const"), bits)).split()[1]
        assert parse_float(text, F32_FORMAT) == bits, text


def test_strings_are_escaped_byte_by_byte() -> None:
    assert format_string(b'a "b" \\ \n\x00\x7f\xff~') == r'"a \"b\" \\ \0a\00\7f\ff~"'
    every_byte = format_string(bytes(range(256)))
    assert every_byte.count("\\") == (256 - 95) + 1 + 2  # unprintable bytes, \" and \\\\
    assert every_byte.isascii() and every_byte.isprintable()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_strings_read_back_as_the_same_bytes(data: bytes) -> None:
    (kind, value, _), _eof = tokenize(format_string(data))
    assert (kind, value) == (STRING, data)


def test_identifiers_are_what_the_lexer_accepts() -> None:
    assert is_identifier("fib") and is_identifier("a.b/c:d") and is_identifier("$")
    for bad in ("", "has space", "paren(", "semi;", 'quote"', "é", "x;;"):
        assert not is_identifier(bad), bad


finite_f32 = st.integers(0, 0xFFFF_FFFF).filter(lambda b: b & 0x7F80_0000 != 0x7F80_0000 or b & 0x7F_FFFF)
finite_f64 = st.integers(0, (1 << 64) - 1).filter(
    lambda b: b & 0x7FF0_0000_0000_0000 != 0x7FF0_0000_0000_0000 or b & 0xF_FFFF_FFFF_FFFF)


@settings(max_examples=150, deadline=None)
@given(i32=st.integers(0, (1 << 32) - 1), i64=st.integers(0, (1 << 64) - 1), f32=finite_f32, f64=finite_f64,
       v128=st.integers(0, (1 << 128) - 1))
def test_constants_read_back_bit_for_bit(i32: int, i64: int, f32: int, f64: int, v128: int) -> None:
    body = tuple(Instruction(op(name), value) for name, value in
                 (("i32.const", i32), ("i64.const", i64), ("f32.const", f32), ("f64.const", f64),
                  ("v128.const", v128))) + (Instruction(END),)
    module = Module(types=(FuncType((), ()),), funcs=(Func(0, (), body),))
    assert_round_trip(module)


# -- every instruction of the opcode table --------------------------------------------------------

SAMPLE_IMMEDIATES = {
    Imm.NONE: None, Imm.LABEL: 0, Imm.BR_TABLE: ((0, 1), 2), Imm.FUNC: 1, Imm.CALL_INDIRECT: (1, 1),
    Imm.LOCAL: 1, Imm.GLOBAL: 0, Imm.TABLE: 1, Imm.ELEM: 1, Imm.DATA: 1, Imm.TABLE_INIT: (1, 1),
    Imm.TABLE_COPY: (1, 0), Imm.MEMARG: MemArg(0, 4, 1), Imm.MEMORY: 1, Imm.MEMORY_INIT: (1, 1),
    Imm.MEMORY_COPY: (0, 0), Imm.I32: 0xFFFF_FFFF, Imm.I64: 1 << 63, Imm.F32: 0x7FC0_0001,
    Imm.F64: 1 << 63, Imm.V128: 1 << 127 | 5, Imm.HEAPTYPE: HeapKind.EXTERN, Imm.SELECT_TYPES: (I64,),
    Imm.LANE: 1, Imm.SHUFFLE: tuple(range(31, 15, -1)), Imm.MEMARG_LANE: (MemArg(0, 8, 1), 1), Imm.TAG: 0,
    Imm.TYPE: 0, Imm.FIELD: (0, 1), Imm.ARRAY_FIXED: (0, 3), Imm.ARRAY_DATA: (0, 1), Imm.ARRAY_ELEM: (0, 1),
    Imm.ARRAY_COPY: (0, 0), Imm.CAST: ref_type(False, 0), Imm.CAST_NULL: ref_type(True, HeapKind.EQ),
    Imm.BR_ON_CAST: (0, ref_type(True, HeapKind.ANY), ref_type(False, 0)),
}
LEGACY_TRY_PARTS = {op("catch"), op("catch_all"), op("delegate")}


def every_instruction_module() -> Module:
    """A module whose one function uses every instruction of the table (not
    a valid one: the printer and the parser do not care about types)."""
    body: list[Instruction] = []
    blocktypes = [None, I32, 1]
    for row in OPS:
        if row is END or row is ELSE or row in LEGACY_TRY_PARTS:
            continue
        if row.imm is Imm.BLOCKTYPE:
            for blocktype in blocktypes:
                body.append(Instruction(row, blocktype))
                if row.name == "if":
                    body += [Instruction(op("nop")), Instruction(ELSE), Instruction(op("nop"))]
                if row.name == "try":
                    body += [Instruction(op("nop")), Instruction(op("catch"), 0), Instruction(op("drop")),
                             Instruction(op("catch_all")), Instruction(op("rethrow"), 0)]
                body.append(Instruction(END))
            body += [Instruction(op("try"), I32), Instruction(op("delegate"), 0)]
            continue
        if row.imm is Imm.TRY_TABLE:
            for blocktype in blocktypes:
                catches = (Catch(CatchKind.CATCH, 0, 0), Catch(CatchKind.CATCH_REF, 0, 1),
                           Catch(CatchKind.CATCH_ALL, None, 0), Catch(CatchKind.CATCH_ALL_REF, None, 0))
                body += [Instruction(row, (blocktype, catches)), Instruction(op("nop")), Instruction(END)]
            continue
        body.append(Instruction(row, SAMPLE_IMMEDIATES[row.imm]))
    body.append(Instruction(END))
    zero = (Instruction(op("i32.const"), 0), Instruction(END))
    return Module(
        types=(FuncType((), ()), FuncType((I32,), (I32,))),
        funcs=(Func(0, (I32, V128), tuple(body)), Func(1, (), (Instruction(END),))),
        tables=(TableType(Limits(1), FUNCREF), TableType(Limits(1, 5), EXTERNREF)),
        memories=(MemoryType(Limits(1)), MemoryType(Limits(0, 1), I64, 1)),
        globals=(Global(GlobalType(I32, True), zero),),
        elems=(Elem(FUNCREF, (), SegmentMode.PASSIVE), Elem(EXTERNREF, ((Instruction(op("ref.null"), HeapKind.EXTERN),
                                                                         Instruction(END)),), SegmentMode.PASSIVE)),
        datas=(Data(b"x", SegmentMode.ACTIVE, 0, zero), Data(b"y", SegmentMode.PASSIVE)),
        data_count=2,
        tags=(TagType(0),),
    )


def test_every_instruction_of_the_table_reads_back() -> None:
    module = every_instruction_module()
    assert_round_trip(module)
    text = print_module(module)
    assert len(module.funcs[0].body) > len(OPS)
    assert "v128.load32_lane 1 offset=8 align=1 1" in text and "select (result i64)" in text
    assert "(memory (;1;) i64 0 1 (pagesize 1))" in text


def test_every_open_signature_has_a_stack_effect_for_folding() -> None:
    from interp.text.printer import _CONTEXT_EFFECTS

    open_signatures = {row.name for row in OPS if row.params is None and row not in STRUCTURED_OPS}
    assert open_signatures == set(_CONTEXT_EFFECTS)


# -- names -------------------------------------------------------------------------------------


def test_names_from_a_name_section_are_kept_exactly() -> None:
    """Names that are no identifiers are quoted ones; a name taken by a lower
    index gets a suffix, and where the text can say it (functions, tags,
    tables, memories, globals) the exact name in a ``(@name ...)``."""
    text = """(module (func $a) (func $b) (func $c) (func $d) (func $e (param $p i32) (local $q i32)))"""
    base = parse_module(text)
    names = Names(module="not an id", funcs={0: "f", 1: "f", 2: "bad name", 3: "f.1", 4: "g", 99: "gone"},
                  locals={4: {0: "v", 1: "v", 7: "gone"}, 42: {0: "x"}}, globals={0: "nothing"})
    module = decode_module(encode_module(dataclasses.replace(base, names=names)))
    assert module.names == names
    printed = print_module(module)
    assert '(module $"not an id"\n' in printed and "(func $f (type 0)" in printed
    assert '(func $f.1 (@name "f") (type 0)' in printed and '(func $"bad name" (type 0)' in printed
    assert '(func $f.1.1 (@name "f.1") (type 0)' in printed
    assert "(param $v i32)" in printed and "(local $v.1 i32)" in printed
    back = parse_module(printed)
    assert back.names == Names(module="not an id", funcs={0: "f", 1: "f", 2: "bad name", 3: "f.1", 4: "g"},
                               locals={4: {0: "v", 1: "v.1"}})
    assert comparable(back, False) == comparable(module, False)


def test_text_names_round_trip_exactly() -> None:
    module = parse_module(SMALL)
    assert module.names.funcs == {0: "log", 1: "add", 2: "start"}
    assert_round_trip(module, keep_names=True)


def test_local_names_of_a_function_whose_type_is_unknown() -> None:
    module = parse_module("(module (func (type 7) (local $x i32) (local.get $x)))")
    assert module.names.locals == {0: {0: "x"}}
    assert "(func (;0;) (type 7)\n    (local $x i32)\n    local.get $x)" in print_module(module)
    assert_round_trip(module)


# -- custom sections, odd and extreme modules -----------------------------------------------------


def test_custom_sections_are_custom_annotations_where_they_were() -> None:
    module = Module(types=(FuncType((), ()),), funcs=(Func(0, (), (Instruction(END),)),),
                    customs=(CustomSection("first\n", b"abc", 0), CustomSection("producers", b"", 10)))
    text = print_module(module)
    assert text == ('(module\n  (@custom "first\\0a" (before first) "abc")\n  (type (;0;) (func))\n'
                    '  (func (;0;) (type 0))\n  (@custom "producers" (after code) ""))\n')
    assert parse_module(text).customs == module.customs
    assert encode_module(parse_module(text)) == encode_module(module)


def test_deep_nesting_prints_without_recursion_and_with_bounded_indentation() -> None:
    depth = 3000
    body = ([Instruction(op("block"), None)] * depth + [Instruction(op("i32.const"), 1)]
            + [Instruction(op("i32.eqz"))] * depth + [Instruction(op("drop"))] + [Instruction(END)] * (depth + 1))
    module = Module(types=(FuncType((), ()),), funcs=(Func(0, (), tuple(body)),))
    for folded in (False, True):
        text = print_module(module, folded=folded)
        widest_indent = max(len(line) - len(line.lstrip(" ")) for line in text.splitlines())
        assert widest_indent <= 2 * MAX_INDENT_LEVELS
        assert len(text) < 2_000_000
    assert_round_trip(module)


def test_invalid_modules_print_too() -> None:
    """Indices out of range, unknown types: printed as numbers, still parsing."""
    body = (Instruction(op("call"), 9), Instruction(op("block"), 5), Instruction(END),
            Instruction(op("call_indirect"), (8, 3)), Instruction(op("global.get"), 4), Instruction(END))
    module = Module(types=(FuncType((), ()),), imports=(),
                    funcs=(Func(0, (), body), Func(6, (I32,), (Instruction(END),))),
                    elems=(Elem(FUNCREF, ((Instruction(op("ref.func"), 12), Instruction(END)),),
                                SegmentMode.ACTIVE, 4, (Instruction(END),)),),
                    names=Names(funcs={9: "missing"}))
    text = print_module(module, folded=True)
    assert "    call 9\n    (block (type 5))\n    call_indirect 3 (type 8)\n    (global.get 4))" in text
    assert "(elem (;0;) (table 4) (offset) funcref (item (ref.func 12)))" in text
    assert_round_trip(module, keep_names=False)


# -- offsets as wasm-objdump shows them ---------------------------------------------------------------

OBJDUMP_LINE = re.compile(r"^ ([0-9a-f]{6}): [0-9a-f ]+\| *(\S+)", re.MULTILINE)
PRINTED_OFFSET = re.compile(r"\(;@([0-9a-f]+);\) \(?([^\s)]+)")


def functions(text: str) -> str:
    """The part of a printed module with the function definitions."""
    start = text.index("\n  (func ")
    return text[start:text.index("\n  (global", start)]


def test_offsets_are_those_wasm_objdump_shows(tmp_path: Path, wat2wasm) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("wasm-objdump") is None:
        pytest.skip("wabt is not installed")
    source = SMALL.replace("(start $start)", "(start $start) (func (loop (br_if 0 (i32.const 0))) "
                                              "(v128.const i64x2 1 2) (i8x16.extract_lane_u 3) (drop))")
    binary = wat2wasm(source, tmp_path)
    (tmp_path / "module.wasm").write_bytes(binary)
    dump = subprocess.run(["wasm-objdump", "-d", str(tmp_path / "module.wasm")], capture_output=True,
                          text=True, check=True).stdout
    shown = {int(offset, 16): name for offset, name in OBJDUMP_LINE.findall(dump) if not name.startswith("local[")}
    module = decode_module(binary)
    function_ends = {func.body[-1].offset for func in module.funcs}
    expected = {offset: name for offset, name in shown.items() if offset not in function_ends}
    assert len(expected) == 30
    flat = {int(offset, 16): name for offset, name in PRINTED_OFFSET.findall(functions(print_module(module, offsets=True)))}
    assert flat == expected
    folded = functions(print_module(module, folded=True, offsets=True))
    printed = {int(offset, 16): name for offset, name in PRINTED_OFFSET.findall(folded)}
    block_ends = {offset for offset, name in expected.items() if name == "end"}
    assert printed == {offset: name for offset, name in expected.items() if offset not in block_ends}


# -- the official testsuite ----------------------------------------------------------------------------

SUITE = configured_testsuite()
SCRIPTS = sorted(SUITE.glob("*.wast")) if SUITE is not None else []


def script_modules(path: Path, features: frozenset[Feature] = WASM_2_0_FEATURES) -> list[tuple[Module, bool]]:
    """Every module of a script that decodes or parses (by the rules of
    ``features``), with whether it came from text (whose names must survive
    too); quoted modules and those expected malformed are left out."""
    found = []
    for command in parse_script(path.read_text(encoding="utf-8"), features):
        if isinstance(command, AssertMalformed):
            continue
        script_module = getattr(command, "module", None)
        if isinstance(command, AssertTrap) and isinstance(command.target, ScriptModule):
            script_module = command.target
        if script_module is None:
            continue
        if script_module.source is ModuleSource.TEXT:
            if script_module.module is not None:  # None: invalid as written
                found.append((script_module.module, True))
        elif script_module.source is ModuleSource.BINARY:
            try:
                found.append((decode_module(script_module.binary, features), False))
            except MalformedError:
                continue
    return found


def assert_testsuite_modules_read_back(path: Path, features: frozenset[Feature]) -> None:
    """Every module of the script at ``path``, printed flat and folded, parses
    back into the same module, which encodes to the same bytes."""
    failures = []
    for index, (module, from_text) in enumerate(script_modules(path, features)):
        expected = comparable(module, from_text)
        for folded in (False, True):
            text = print_module(module, folded=folded, offsets=not from_text)
            try:
                back = comparable(parse_module(text, features), from_text)
            except MalformedError as error:
                failures.append(f"module {index} ({'folded' if folded else 'flat'}): {error}")
                continue
            if back != expected:
                failures.append(f"module {index} ({'folded' if folded else 'flat'}) differs")
            elif encode_module(back) != encode_module(expected):
                failures.append(f"module {index} ({'folded' if folded else 'flat'}) encodes differently")
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(SUITE is None, reason="WASM_TESTSUITE is not set")
@pytest.mark.parametrize("name", [path.name for path in SCRIPTS])
def test_testsuite_modules_read_back_from_their_printed_text(name: str) -> None:
    assert_testsuite_modules_read_back(SUITE / name, features_of_testsuite(SUITE))  # type: ignore[operator]


THREE = next((folder for folder in configured_testsuites() if folder.is_dir() and recognise(folder) is WASM_3_0), None)
THREE_SCRIPTS = [path for path in files_of_testsuite(THREE, WASM_3_0)
                 if not place_of(path).missing] if THREE is not None else []  # type: ignore[union-attr]


@pytest.mark.skipif(THREE is None, reason="WASM_TESTSUITE names no 3.0 testsuite")
@pytest.mark.parametrize("path", THREE_SCRIPTS, ids=[str(path.relative_to(THREE)) for path in THREE_SCRIPTS])
def test_3_0_testsuite_modules_read_back_from_their_printed_text(path: Path) -> None:
    """Every 3.0 file the engine runs (memory64, multi-memory, relaxed SIMD,
    the proposals among them), each by its own features."""
    assert_testsuite_modules_read_back(path, place_of(path).features)  # type: ignore[union-attr]


@pytest.mark.skipif(SUITE is None, reason="WASM_TESTSUITE is not set")
def test_the_testsuite_has_modules_to_print() -> None:
    assert len(SCRIPTS) >= 140
    total = sum(len(script_modules(SUITE / name)) for name in ("i32.wast", "simd_lane.wast", "binary.wast"))  # type: ignore[operator]
    assert total > 50


# -- WebAssembly 3.0: tail calls, exceptions, annotations, quoted identifiers ---------------------

SUITE_3_0 = next((suite for suite in configured_testsuites() if suite.is_dir() and recognise(suite) is WASM_3_0), None)
CONTROL_FEATURES = {feature.value for feature in (
    Feature.TAIL_CALL, Feature.EXCEPTION_HANDLING, Feature.LEGACY_EXCEPTIONS, Feature.ANNOTATIONS,
    Feature.QUOTED_IDENTIFIERS, Feature.MODULE_DEFINITIONS)}


def control_scripts() -> list[str]:
    """The 3.0 files that run here and need one of those features."""
    if SUITE_3_0 is None:
        return []
    names = []
    for path in files_of_testsuite(SUITE_3_0, WASM_3_0):
        relative = path.relative_to(SUITE_3_0).as_posix()
        place = place_of(path)
        if place is not None and not place.missing and CONTROL_FEATURES & set(WASM_3_0.features_needed(relative)):
            names.append(relative)
    return names


def customs_by_place(module: Module) -> list[CustomSection]:
    """The custom sections but the name section, in the order a binary has them."""
    return sorted((custom for custom in module.customs if custom.name != "name"),
                  key=lambda custom: SECTION_ORDER.index(custom.after) + 1 if custom.after else 0)


@pytest.mark.skipif(SUITE_3_0 is None, reason="WASM_TESTSUITE names no WebAssembly 3.0 testsuite")
@pytest.mark.parametrize("name", control_scripts())
def test_3_0_modules_read_back_from_their_printed_text(name: str) -> None:
    """Printed and parsed again, a text module encodes to the same bytes, and
    a binary one is the same module with the same custom sections."""
    failures = []
    features = WASM_3_0.features_of(name)
    for index, (module, from_text) in enumerate(script_modules(SUITE_3_0 / name, features)):  # type: ignore[operator]
        for folded in (False, True):
            back = parse_module(print_module(module, folded=folded, offsets=not from_text), features)
            if from_text:
                same = encode_module(back) == encode_module(module)
            else:
                same = comparable(back, False) == comparable(module, False) and \
                    customs_by_place(back) == customs_by_place(module)
            if not same:
                failures.append(f"module {index} ({'folded' if folded else 'flat'}) differs")
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(SUITE_3_0 is None, reason="WASM_TESTSUITE names no WebAssembly 3.0 testsuite")
def test_the_3_0_testsuite_has_control_modules_to_print() -> None:
    assert {"return_call.wast", "throw_ref.wast", "legacy/try_delegate.wast", "custom/branch_hint.wast",
            "id.wast"} <= set(control_scripts())


GC_TEXT = """(module
  (rec
    (type $node (sub (struct (field $value i32) (field $next (mut (ref null $node))))))
    (type $labelled (sub final $node (struct (field $value i32) (field $next (mut (ref null $node)))
                                               (field $label (ref $bytes))))))
  (type $bytes (array (mut i8)))
  (rec)
  (table $nodes 2 (ref null $node) (ref.null none))
  (func $read (param $n (ref null $node)) (result i32)
    (struct.get $node $value (local.get $n)))
  (func $label (param $l (ref $labelled)) (result i32)
    (array.get_u $bytes (struct.get $labelled $label (local.get $l)) (i32.const 0)))
  (func $kinds (param $a anyref) (result i32)
    (block $other (result anyref)
      (drop (br_on_cast $other anyref (ref $labelled) (local.get $a)))
      (ref.null any))
    (ref.test (ref null i31))))"""


def test_types_fields_and_gc_instructions_print_with_their_names() -> None:
    module = parse_module(GC_TEXT)
    assert module.names.fields == {0: {0: "value", 1: "next"}, 1: {0: "value", 1: "next", 2: "label"}}
    assert module.rec_groups == ((0, 2), (3, 0))
    decoded = decode_module(encode_module(module))
    assert decoded.names.fields == module.names.fields and decoded.rec_groups == module.rec_groups
    text = print_module(decoded)
    assert "(type $labelled (sub final $node (struct (field $value i32) (field $next (mut (ref null $node)))" in text
    assert "  (rec)\n" in text and "(table $nodes 2 (ref null $node) ref.null none)" in text
    assert "struct.get $labelled $label" in text and "br_on_cast 0 anyref (ref $labelled)" in text
    assert_round_trip(module)
    assert_round_trip(decoded)
