"""Encoding: round trips through wabt's output, the element encodings, the
name section, custom section placement, and what cannot be encoded."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.binary import decode_module, decode_names, encode_module, encode_names
from interp.binary.encode import encode_signed, encode_unsigned
from interp.errors import UsageError
from interp.syntax.module import (
    Catch,
    CatchKind,
    CustomSection,
    Data,
    Elem,
    Func,
    Global,
    Instruction,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS, Imm, MemArg, op
from interp.syntax.types import FuncType, GlobalType, HeapKind, ValType, ref_type

END = Instruction(op("end"))


def ref_func(index: int) -> tuple[Instruction, ...]:
    return (Instruction(op("ref.func"), index), END)


def i32_const(value: int) -> tuple[Instruction, ...]:
    return (Instruction(op("i32.const"), value), END)


def test_wat2wasm_output_comes_back_byte_for_byte(wat_binaries, without_offsets) -> None:
    for label, data in wat_binaries.items():
        decoded = decode_module(data)
        assert encode_module(decoded) == data, label
        assert without_offsets(decode_module(encode_module(decoded))) == without_offsets(decoded)


def test_kitchen_sink_decodes_to_what_the_text_says(wat_binaries) -> None:
    sink = decode_module(wat_binaries["kitchen_sink"])
    assert sink.names.module == "sink"
    assert sink.names.funcs[2] == "add"
    assert sink.names.locals[2] == {2: "l0", 3: "l1", 4: "l2"}
    assert sink.names.elems[3] == "active_exprs" and sink.names.datas[1] == "passive"
    assert sink.funcs[1].locals == (ValType.I64, ValType.I64, ValType.F64, ValType.V128)
    assert sink.start == 1 and sink.data_count == 3
    assert [e.mode for e in sink.elems] == [SegmentMode.ACTIVE, SegmentMode.DECLARATIVE, SegmentMode.PASSIVE,
                                           SegmentMode.ACTIVE, SegmentMode.ACTIVE, SegmentMode.PASSIVE]
    assert sink.globals[1].init[0].imm == 0x7FA00000  # f32 nan:0x200000, bit for bit
    used = {i.op.imm for f in sink.funcs for i in f.body}
    assert used >= {Imm.BLOCKTYPE, Imm.BR_TABLE, Imm.CALL_INDIRECT, Imm.SELECT_TYPES, Imm.MEMARG, Imm.MEMORY,
                    Imm.MEMORY_INIT, Imm.MEMORY_COPY, Imm.TABLE_INIT, Imm.TABLE_COPY, Imm.ELEM, Imm.DATA,
                    Imm.TABLE, Imm.HEAPTYPE, Imm.I64, Imm.GLOBAL, Imm.LOCAL, Imm.FUNC, Imm.LABEL}


def test_offsets_of_wat2wasm_output_match_wasm_objdump(wat_binaries, tmp_path: Path) -> None:
    if shutil.which("wasm-objdump") is None:
        pytest.skip("wasm-objdump is not installed")
    for label, data in wat_binaries.items():
        path = tmp_path / f"{label}.wasm"
        path.write_bytes(data)
        listing = subprocess.run(["wasm-objdump", "-d", str(path)], capture_output=True, text=True,
                                 check=True).stdout
        lines = [line for line in listing.splitlines()
                 if line.startswith(" ") and "|" in line
                 and line.split("|", 1)[1].strip() and not line.split("|", 1)[1].strip().startswith("local[")]
        expected = [int(line.split(":", 1)[0], 16) for line in lines]
        decoded = decode_module(data)
        assert [i.offset for f in decoded.funcs for i in f.body] == expected, label


def _elem_flags(elem: Elem) -> int:
    """The flags byte encode_module picks for ``elem`` (the section's third byte)."""
    encoded = encode_module(Module(elems=(elem,)))
    return encoded[8 + 3]


FUNC_INDICES = ref_type(False, HeapKind.FUNC)
"""The type of the function-index forms of element segments."""


@pytest.mark.parametrize("elem, flags", [
    (Elem(FUNC_INDICES, (ref_func(0),), SegmentMode.ACTIVE, 0, i32_const(0)), 0),
    (Elem(FUNC_INDICES, (ref_func(0),), SegmentMode.PASSIVE), 1),
    (Elem(FUNC_INDICES, (ref_func(0),), SegmentMode.ACTIVE, 2, i32_const(0)), 2),
    (Elem(FUNC_INDICES, (ref_func(0),), SegmentMode.DECLARATIVE), 3),
    (Elem(ValType.FUNCREF, ((Instruction(op("ref.null"), HeapKind.FUNC), END),), SegmentMode.ACTIVE, 0,
          i32_const(0)), 4),
    (Elem(ValType.FUNCREF, (ref_func(0),), SegmentMode.ACTIVE, 0, i32_const(0)), 4),
    (Elem(ValType.EXTERNREF, (), SegmentMode.PASSIVE), 5),
    (Elem(ValType.FUNCREF, (ref_func(0),), SegmentMode.PASSIVE), 5),
    (Elem(ValType.EXTERNREF, (), SegmentMode.ACTIVE, 0, i32_const(0)), 6),
    (Elem(FUNC_INDICES, ((Instruction(op("ref.null"), HeapKind.FUNC), END),), SegmentMode.ACTIVE, 0,
          i32_const(0)), 6),
    (Elem(ValType.FUNCREF, ((Instruction(op("global.get"), 0), END),), SegmentMode.DECLARATIVE), 7),
    (Elem(FUNC_INDICES, (), SegmentMode.PASSIVE), 1),
])
def test_element_segments_use_the_most_compact_encoding(elem: Elem, flags: int, without_offsets) -> None:
    assert _elem_flags(elem) == flags
    decoded = decode_module(encode_module(Module(elems=(elem,)))).elems[0]
    assert without_offsets(Module(elems=(decoded,))) == without_offsets(Module(elems=(elem,)))


def test_data_segments_and_data_count() -> None:
    module = Module(datas=(Data(b"ab", SegmentMode.ACTIVE, 0, i32_const(1)), Data(b"", SegmentMode.PASSIVE),
                           Data(b"c", SegmentMode.ACTIVE, 1, i32_const(2))),
                    data_count=3)
    encoded = encode_module(module)
    decoded = decode_module(encoded)
    assert [(d.init, d.mode, d.memory) for d in decoded.datas] == [(d.init, d.mode, d.memory) for d in module.datas]
    assert decoded.data_count == 3
    assert decode_module(encode_module(dataclasses.replace(module, data_count=None))).data_count is None


def test_names_are_written_and_rewritten() -> None:
    names = Names(module="m", funcs={0: "main"}, locals={0: {0: "x"}}, globals={0: "g"})
    module = Module(types=(FuncType((), ()),),
                    funcs=(Func(0, (ValType.I32,), (END,)),),
                    globals=(Global(GlobalType(ValType.I32, False), i32_const(7)),),
                    names=names)
    decoded = decode_module(encode_module(module))
    assert decoded.names == names
    assert [c.name for c in decoded.customs] == ["name"]
    renamed = dataclasses.replace(decoded, names=Names(funcs={0: "renamed"}))
    again = decode_module(encode_module(renamed))
    assert again.names == Names(funcs={0: "renamed"})
    assert [c.name for c in again.customs] == ["name"]
    unnamed = decode_module(encode_module(dataclasses.replace(decoded, names=Names())))
    assert unnamed.customs == () and unnamed.names == Names()


def test_an_unchanged_name_section_is_kept_byte_for_byte() -> None:
    # A label-names subsection (id 3), which Names does not model, survives.
    payload = encode_names(Names(funcs={0: "f"})) + b"\x03\x01\x00"
    module = Module(customs=(CustomSection("name", payload, 0), CustomSection("name", b"\x01\x00", 0)))
    decoded = decode_module(encode_module(dataclasses.replace(module, names=decode_names(payload))))
    assert decoded.customs == module.customs
    assert decoded.names == Names(funcs={0: "f"})


def test_custom_sections_go_back_in_place() -> None:
    module = Module(
        types=(FuncType((), ()),),
        data_count=0,
        customs=(CustomSection("a", b"1", 0), CustomSection("b", b"2", 1), CustomSection("c", b"3", 3),
                 CustomSection("d", b"4", 12), CustomSection("e", b"5", 11)),
    )
    decoded = decode_module(encode_module(module))
    assert decoded.customs == module.customs
    assert decoded.funcs == () and decoded.datas == ()


@given(st.builds(
    Names,
    module=st.none() | st.text(max_size=5),
    funcs=st.dictionaries(st.integers(0, 2**32 - 1), st.text(max_size=5), max_size=4),
    locals=st.dictionaries(st.integers(0, 100), st.dictionaries(st.integers(0, 100), st.text(max_size=3),
                                                                max_size=3), max_size=3),
    types=st.dictionaries(st.integers(0, 300), st.text(max_size=5), max_size=3),
    tables=st.dictionaries(st.integers(0, 3), st.text(max_size=5), max_size=3),
    memories=st.dictionaries(st.integers(0, 3), st.text(max_size=5), max_size=3),
    globals=st.dictionaries(st.integers(0, 3), st.text(max_size=5), max_size=3),
    elems=st.dictionaries(st.integers(0, 3), st.text(max_size=5), max_size=3),
    datas=st.dictionaries(st.integers(0, 3), st.text(max_size=5), max_size=3),
))
@settings(max_examples=150, deadline=None)
def test_names_round_trip(names: Names) -> None:
    assert decode_names(encode_names(names)) == names


def test_leb128_encodings_are_minimal_and_checked() -> None:
    assert encode_unsigned(0) == b"\x00"
    assert encode_unsigned(624485) == b"\xe5\x8e\x26"
    assert encode_unsigned(2**32 - 1) == b"\xff\xff\xff\xff\x0f"
    assert encode_signed(-1, 32) == b"\x7f"
    assert encode_signed(63, 32) == b"\x3f"
    assert encode_signed(64, 32) == b"\xc0\x00"
    assert encode_signed(-123456, 32) == b"\xc0\xbb\x78"
    for bad in (-1, 2**32):
        with pytest.raises(UsageError):
            encode_unsigned(bad)
    with pytest.raises(UsageError):
        encode_signed(2**31, 32)


@pytest.mark.parametrize("instruction", [
    Instruction(op("local.get"), -1),
    Instruction(op("call"), 2**32),
    Instruction(op("i32.const"), 2**32),
    Instruction(op("i64.const"), -1),
    Instruction(op("f32.const"), 2**32),
    Instruction(op("br_table"), None),
    Instruction(op("i32.load"), (2,)),
    Instruction(op("i32.load"), MemArg(2, 2**64)),
    Instruction(op("block"), -1),
])
def test_unencodable_instructions_are_usage_errors(instruction: Instruction) -> None:
    module = Module(types=(FuncType((), ()),), funcs=(Func(0, (), (instruction, END)),))
    with pytest.raises(UsageError):
        encode_module(module)


def test_every_opcode_of_the_table_encodes_and_decodes() -> None:
    sample_immediates = {
        Imm.NONE: None, Imm.BLOCKTYPE: 3, Imm.LABEL: 1, Imm.BR_TABLE: ((1, 2), 0), Imm.FUNC: 5,
        Imm.CALL_INDIRECT: (1, 2), Imm.LOCAL: 300, Imm.GLOBAL: 2, Imm.TABLE: 1, Imm.ELEM: 4, Imm.DATA: 0,
        Imm.TABLE_INIT: (1, 2), Imm.TABLE_COPY: (2, 1), Imm.MEMARG: MemArg(3, 2**64 - 1, 2), Imm.MEMORY: 1,
        Imm.MEMORY_INIT: (0, 3), Imm.MEMORY_COPY: (2, 0), Imm.I32: 0x8000_0000,
        Imm.I64: 0xFFFF_FFFF_FFFF_FFFE, Imm.F32: 0x7F80_0001, Imm.F64: 0xFFF8_0000_0000_0001,
        Imm.V128: 2**127 + 5, Imm.HEAPTYPE: HeapKind.EXTERN, Imm.SELECT_TYPES: (ValType.F64,), Imm.LANE: 7,
        Imm.SHUFFLE: tuple(range(16)), Imm.MEMARG_LANE: (MemArg(0, 8, 1), 1), Imm.TYPE: 300, Imm.FIELD: (1, 200),
        Imm.ARRAY_FIXED: (2, 5), Imm.ARRAY_DATA: (1, 0), Imm.ARRAY_ELEM: (1, 3), Imm.ARRAY_COPY: (4, 5),
        Imm.CAST: ref_type(False, 70), Imm.CAST_NULL: ref_type(True, HeapKind.I31),
        Imm.BR_ON_CAST: (2, ref_type(True, HeapKind.ANY), ref_type(False, 3)), Imm.TAG: 3,
        Imm.TRY_TABLE: (ValType.I64, (Catch(CatchKind.CATCH, 1, 2), Catch(CatchKind.CATCH_ALL_REF, None, 0))),
    }
    structure = {op(name) for name in ("block", "loop", "if", "else", "end", "try", "catch", "catch_all", "delegate",
                                       "try_table")}
    legacy_try = (Instruction(op("try"), None), Instruction(op("catch"), 1), Instruction(op("catch"), 0),
                  Instruction(op("catch_all")), END, Instruction(op("try"), 4), Instruction(op("delegate"), 1))
    try_table = (Instruction(op("try_table"), sample_immediates[Imm.TRY_TABLE]), END)
    body = tuple(Instruction(o, sample_immediates[o.imm]) for o in OPS if o not in structure) + legacy_try + \
        try_table + (END,)
    module = Module(types=(FuncType((), ()),), funcs=(Func(0, (), body),), data_count=1,
                    datas=(Data(b"", SegmentMode.PASSIVE),))
    decoded = decode_module(encode_module(module)).funcs[0].body
    assert [(i.op, i.imm) for i in decoded] == [(i.op, i.imm) for i in body]


@pytest.mark.parametrize("module", [
    Module(types=(FuncType((), ()),), funcs=(Func(None, (), (END,)),)),  # type: ignore[arg-type]
    Module(customs=(CustomSection("\ud800", b"", 0),)),
    Module(datas=(Data(b"", SegmentMode.ACTIVE, 0, None),)),
    Module(elems=(Elem(ValType.FUNCREF, (), SegmentMode.ACTIVE, 0, None),)),
    Module(start=-1),
])
def test_unencodable_modules_are_usage_errors(module: Module) -> None:
    with pytest.raises(UsageError):
        encode_module(module)
