"""Decoding hand-built binaries: each test pins down one rule of the format."""

from __future__ import annotations

import gc

import leb128
import pytest

from interp.binary import decode_module
from interp.binary.decode import MAX_LOCALS, MAX_LOCALS_PER_MODULE
from interp.errors import MalformedError, UsageError
from interp.features import SUPPORTED_FEATURES, WASM_2_0_FEATURES, WASM_3_0_FEATURES, Feature
from interp.syntax.module import CustomSection, Instruction, Names, SegmentMode
from interp.syntax.opcodes import MemArg, op
from interp.syntax.types import (ExternKind, FuncType, GlobalType, HeapKind, Limits, MemoryType, TableType,
                                  ValType, ref_type)

HEADER = b"\x00asm\x01\x00\x00\x00"


def u32(value: int) -> bytes:
    return bytes(leb128.u.encode(value))


def vec(*items: bytes) -> bytes:
    return u32(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    raw = text.encode()
    return u32(len(raw)) + raw


def section(section_id: int, content: bytes) -> bytes:
    return bytes([section_id]) + u32(len(content)) + content


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


EMPTY_TYPE = section(1, vec(b"\x60\x00\x00"))


def with_body(code: bytes, locals_: bytes = b"\x00", *extra: bytes, data_count: bool = False) -> bytes:
    """A module with one function ``() -> ()`` whose body is ``locals_ + code``."""
    body = locals_ + code
    sections = [EMPTY_TYPE, section(3, vec(b"\x00")), *extra]
    if data_count:
        sections.append(section(12, u32(0)))
    sections.append(section(10, vec(u32(len(body)) + body)))
    return module(*sections)


def malformed(data: bytes, features: frozenset[Feature] = SUPPORTED_FEATURES) -> MalformedError:
    with pytest.raises(MalformedError) as raised:
        decode_module(data, features)
    return raised.value


def body_of(data: bytes) -> tuple[Instruction, ...]:
    return decode_module(data).funcs[0].body


def test_empty_module() -> None:
    decoded = decode_module(HEADER)
    assert decoded.types == () and decoded.funcs == () and decoded.names == Names()
    assert decoded.data_count is None and decoded.start is None


def test_accepts_any_bytes_like_but_not_text() -> None:
    assert decode_module(bytearray(HEADER)).types == ()
    assert decode_module(memoryview(HEADER)).types == ()
    with pytest.raises(UsageError):
        decode_module("\0asm\1\0\0\0")  # type: ignore[arg-type]


@pytest.mark.parametrize("data, message", [
    (b"\x00as", "unexpected end"),
    (b"\x00asm\x01\x00", "unexpected end"),
    (b"\x00ASM\x01\x00\x00\x00", "magic header not detected"),
    (b"\x00asm\x02\x00\x00\x00", "unknown binary version"),
])
def test_header(data: bytes, message: str) -> None:
    assert malformed(data).message == message


def test_types_imports_and_exports() -> None:
    data = module(
        section(1, vec(b"\x60" + vec(b"\x7f", b"\x7e") + vec(b"\x7d"), b"\x60" + vec(b"\x7b", b"\x70") + vec())),
        section(2, vec(
            name("m") + name("f") + b"\x00" + u32(1),
            name("m") + name("t") + b"\x01\x6f\x01" + u32(1) + u32(5),
            name("m") + name("mem") + b"\x02\x00" + u32(2),
            name("m") + name("g") + b"\x03\x7c\x01",
        )),
        section(7, vec(name("out") + b"\x00" + u32(0), name("tab") + b"\x01" + u32(0))),
    )
    decoded = decode_module(data)
    assert decoded.types == (FuncType((ValType.I32, ValType.I64), (ValType.F32,)),
                             FuncType((ValType.V128, ValType.FUNCREF), ()))
    assert [imp.desc for imp in decoded.imports] == [
        1, TableType(Limits(1, 5), ValType.EXTERNREF), MemoryType(Limits(2)), GlobalType(ValType.F64, True)]
    assert [(e.name, e.kind, e.index) for e in decoded.exports] == [
        ("out", ExternKind.FUNC, 0), ("tab", ExternKind.TABLE, 0)]


@pytest.mark.parametrize("content, message", [
    (vec(b"\x60" + vec(b"\x65") + vec()), "malformed reference type"),
    (vec(b"\x60" + vec(b"\x75") + vec()), "malformed vector type"),
    (vec(b"\x60" + vec(b"\x64\x7f") + vec()), "malformed heap type"),
    (vec(b"\x5f" + vec(b"\x78\x02")), "malformed mutability"),
    (vec(b"\x60" + vec(b"\xff\x00") + vec()), "integer representation too long"),
    (vec(b"\x61" + vec() + vec()), "malformed function type"),
])
def test_bad_types(content: bytes, message: str) -> None:
    assert malformed(module(section(1, content))).message == message


def test_bad_export_kind() -> None:
    assert malformed(module(section(7, vec(name("x") + b"\x05\x00")))).message == "malformed export kind"


def test_tables_memories_globals_start() -> None:
    data = module(
        EMPTY_TYPE,
        section(3, vec(b"\x00")),
        section(4, vec(b"\x70\x00\x00", b"\x6f\x01\x01\x02")),
        section(5, vec(b"\x00\x01", b"\x01\x00\x80\x80\x04")),
        section(6, vec(b"\x7f\x00\x41\x7f\x0b", b"\x7e\x01\x42\x80\x01\x0b")),
        section(8, u32(0)),
        section(10, vec(b"\x02\x00\x0b")),
    )
    decoded = decode_module(data)
    assert decoded.tables == (TableType(Limits(0), ValType.FUNCREF), TableType(Limits(1, 2), ValType.EXTERNREF))
    assert decoded.memories == (MemoryType(Limits(1)), MemoryType(Limits(0, 65536)))
    assert decoded.globals[0].type == GlobalType(ValType.I32, False)
    assert decoded.globals[0].init == (Instruction(op("i32.const"), 0xFFFF_FFFF, data.index(b"\x41\x7f\x0b")),
                                       Instruction(op("end"), None, data.index(b"\x41\x7f\x0b") + 2))
    assert decoded.globals[1].init[0].imm == 128
    assert decoded.start == 0


def test_function_offsets_and_locals() -> None:
    data = with_body(b"\x0b", vec(u32(2) + b"\x7f", u32(1) + b"\x7c", u32(0) + b"\x7e"))
    decoded = decode_module(data)
    func = decoded.funcs[0]
    size_at = data.index(b"\x0a") + 3  # section id, section size, count
    assert func.offset == size_at + 1
    assert func.locals == (ValType.I32, ValType.I32, ValType.F64)
    assert func.body == (Instruction(op("end"), None, len(data) - 1),)


def test_local_limits() -> None:
    assert len(decode_module(with_body(b"\x0b", vec(u32(MAX_LOCALS) + b"\x7f"))).funcs[0].locals) == MAX_LOCALS
    error = malformed(with_body(b"\x0b", vec(u32(MAX_LOCALS) + b"\x7f", u32(1) + b"\x7e")))
    assert error.message == "too many locals"
    assert malformed(with_body(b"\x0b", vec(u32(2**32 - 1) + b"\x7f"))).message == "too many locals"


def test_flat_bodies_keep_structure_instructions() -> None:
    code = bytes.fromhex("41 01 04 7e 42 00 05 42 01 0b 1a 02 40 03 7f 41 01 0b 1a 0b 0b")
    body = body_of(with_body(code))
    assert [i.op.name for i in body] == [
        "i32.const", "if", "i64.const", "else", "i64.const", "end", "drop",
        "block", "loop", "i32.const", "end", "drop", "end", "end"]
    assert body[1].imm is ValType.I64
    assert body[7].imm is None and body[8].imm is ValType.I32
    offsets = [i.offset for i in body]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)


def test_block_type_index() -> None:
    body = body_of(with_body(bytes.fromhex("02 00 0b 02 80 01 0b 0b")))
    assert body[0].imm == 0 and body[2].imm == 128
    assert malformed(with_body(bytes.fromhex("02 ff 7f 0b 0b"))).message == "malformed type index"


@pytest.mark.parametrize("code, message", [
    (bytes.fromhex("05 0b"), "END opcode expected"),
    (bytes.fromhex("02 40 05 0b 0b"), "END opcode expected"),
    (bytes.fromhex("41 00 04 40 05 05 0b 0b"), "END opcode expected"),
    (bytes.fromhex("27 0b"), "illegal opcode 27"),
    (bytes.fromhex("fc 12 0b"), "illegal opcode fc 12"),
    (bytes.fromhex("fe 00 0b"), "illegal opcode fe"),
    (bytes.fromhex("41 00 28 80 01 00 1a 0b"), "malformed memop flags"),
    (bytes.fromhex("41 00 28 00 80 80 80 80 80 80 80 80 80 02 1a 0b"), "integer too large"),
    (bytes.fromhex("d0 7f 1a 0b"), "malformed heap type"),
    (bytes.fromhex("41 80 80 80 80 80 00 0b"), "integer representation too long"),
    (bytes.fromhex("41 80 80 80 80 70 0b"), "integer too large"),
    (bytes.fromhex("0e 05 00 0b"), "length out of bounds"),
])
def test_bad_instructions(code: bytes, message: str) -> None:
    assert malformed(with_body(code)).message == message


@pytest.mark.parametrize("code, message", [
    (bytes.fromhex("3f 01 0b"), "zero byte expected"),
    (bytes.fromhex("41 00 28 20 00 1a 0b"), "malformed memop flags"),
    (bytes.fromhex("41 00 28 40 00 00 1a 0b"), "malformed memop flags"),
    (bytes.fromhex("41 00 28 00 80 80 80 80 10 1a 0b"), "integer too large"),
    (bytes.fromhex("fc 0a 00 01 0b"), "zero byte expected"),
])
def test_webassembly_2_0_reserves_memory_index_bytes(code: bytes, message: str) -> None:
    """Without multi-memory and memory64 (the 2.0 testsuite's rules), the
    bytes later standards give a memory index or a 64-bit offset are malformed."""
    assert malformed(with_body(code), WASM_2_0_FEATURES).message == message


def test_memory_instructions_name_their_memory() -> None:
    """Multi-memory: a memarg's flag bit 6 says a memory index follows the
    alignment, and memory.size/grow/fill/copy/init take indices where 2.0 has
    zero bytes; memory64: offsets are u64."""
    code = bytes.fromhex(
        "41 00 28 42 03 10 1a"               # i32.load memory 3 align=4 offset=16
        "41 00 28 02 ff ff ff ff ff ff ff ff ff 01 1a"  # i32.load offset=2**64-1
        "3f 02 1a"                           # memory.size 2
        "fc 0a 01 02"                        # memory.copy 1 2 (three operands, unchecked here)
        "0b")
    body = body_of(with_body(code))
    assert [i.imm for i in body if i.op.name not in ("i32.const", "drop", "end")] == [
        MemArg(2, 16, 3), MemArg(2, 2**64 - 1, 0), 2, (1, 2)]


@pytest.mark.parametrize("limits, expected", [
    ("00 01", MemoryType(Limits(1))),
    ("01 01 02", MemoryType(Limits(1, 2))),
    ("04 80 80 80 80 80 80 40", MemoryType(Limits(2**48), ValType.I64)),
    ("05 00 ff ff ff ff ff ff ff ff ff 01", MemoryType(Limits(0, 2**64 - 1), ValType.I64)),
    ("08 01 00", MemoryType(Limits(1), page_size=1)),
    ("09 01 02 10", MemoryType(Limits(1, 2), page_size=65536)),
])
def test_memory_limits_flags(limits: str, expected: MemoryType) -> None:
    """Bit 0: a maximum; bit 2: i64 addresses (memory64); bit 3: a page
    size exponent follows (custom-page-sizes)."""
    assert decode_module(module(section(5, vec(bytes.fromhex(limits))))).memories == (expected,)


@pytest.mark.parametrize("limits, features, message", [
    ("02 00", SUPPORTED_FEATURES, "malformed limits flags"),
    ("10 00", SUPPORTED_FEATURES, "malformed limits flags"),
    ("81 00 00", SUPPORTED_FEATURES, "malformed limits flags"),
    ("08 00 00", WASM_3_0_FEATURES, "malformed limits flags"),
    ("08 00 40", SUPPORTED_FEATURES, "invalid custom page size"),
    ("04 00", WASM_2_0_FEATURES, "integer too large"),
])
def test_malformed_memory_limits(limits: str, features: frozenset[Feature], message: str) -> None:
    assert malformed(module(section(5, vec(bytes.fromhex(limits)))), features).message == message


def test_tables_have_an_address_type_but_no_page_size() -> None:
    assert decode_module(module(section(4, vec(bytes.fromhex("70 05 00 0a"))))).tables == (
        TableType(Limits(0, 10), ValType.FUNCREF, ValType.I64),)
    assert malformed(module(section(4, vec(bytes.fromhex("70 08 00 00"))))).message == "malformed limits flags"


def test_immediates_of_every_shape() -> None:
    code = bytes.fromhex(
        "0e 02 00 01 02"          # br_table 0 1 2 (needs no validity here)
        "11 03 01"                # call_indirect type 3 table 1
        "1c 02 7f 6f"             # select (result i32 externref)
        "28 02 90 03"             # i32.load align=2 offset=400
        "43 00 00 c0 7f"          # f32.const nan
        "44 00 00 00 00 00 00 f0 bf"  # f64.const -1
        "42 80 80 80 80 80 80 80 80 80 7f"  # i64.const min
        "fc 0c 01 02"             # table.init elem 1 table 2
        "fc 0e 03 04"             # table.copy 3 4
        "fc 08 05 00"             # memory.init 5
        "fc 0a 00 00"             # memory.copy
        "fc 0b 00"                # memory.fill
        "d0 70"                   # ref.null func
        "fc 80 00"                # i32.trunc_sat_f32_s, sub-opcode in long form
        "0b")
    body = body_of(with_body(code, data_count=True))
    assert [i.imm for i in body] == [
        ((0, 1), 2), (3, 1), (ValType.I32, ValType.EXTERNREF), MemArg(2, 400), 0x7FC00000,
        0xBFF0000000000000, 0x8000000000000000, (1, 2), (3, 4), (5, 0), (0, 0), 0,
        HeapKind.FUNC, None, None]
    assert body[-2].op is op("i32.trunc_sat_f32_s")


def test_data_count_rules() -> None:
    data_drop = bytes.fromhex("fc 09 00 0b")
    assert malformed(with_body(data_drop)).message == "data count section required"
    passive = section(11, vec(b"\x01" + vec(b"x")))
    decoded = decode_module(module(section(12, u32(1)), passive))
    assert decoded.data_count == 1 and decoded.datas[0].init == b"x"
    error = malformed(module(section(12, u32(2)), passive))
    assert error.message == "data count and data section have inconsistent lengths"


def test_element_segments_all_eight_forms() -> None:
    const0 = b"\x41\x00\x0b"
    ref_func = b"\xd2\x01\x0b"
    ref_null = b"\xd0\x70\x0b"
    elems = section(9, vec(
        b"\x00" + const0 + vec(u32(0), u32(1)),
        b"\x01\x00" + vec(u32(1)),
        b"\x02" + u32(1) + const0 + b"\x00" + vec(u32(0)),
        b"\x03\x00" + vec(u32(1)),
        b"\x04" + const0 + vec(ref_func, ref_null),
        b"\x05\x6f" + vec(b"\xd0\x6f\x0b"),
        b"\x06" + u32(1) + const0 + b"\x70" + vec(ref_func),
        b"\x07\x70" + vec(ref_null),
    ))
    decoded = decode_module(module(elems))
    modes = [e.mode for e in decoded.elems]
    assert modes == [SegmentMode.ACTIVE, SegmentMode.PASSIVE, SegmentMode.ACTIVE, SegmentMode.DECLARATIVE,
                     SegmentMode.ACTIVE, SegmentMode.PASSIVE, SegmentMode.ACTIVE, SegmentMode.DECLARATIVE]
    assert [e.table for e in decoded.elems] == [0, 0, 1, 0, 0, 0, 1, 0]
    func_indices = ref_type(False, HeapKind.FUNC)  # what function indices are
    assert [e.type for e in decoded.elems] == [func_indices] * 4 + [ValType.FUNCREF, ValType.EXTERNREF] + \
        [ValType.FUNCREF] * 2
    ref_func_op, end_op = op("ref.func"), op("end")
    assert decoded.elems[0].init == ((Instruction(ref_func_op, 0), Instruction(end_op)),
                                    (Instruction(ref_func_op, 1), Instruction(end_op)))
    assert [i.op.name for i in decoded.elems[4].init[1]] == ["ref.null", "end"]
    assert decoded.elems[4].init[0][0].offset > 0
    assert decoded.elems[1].offset is None and decoded.elems[2].offset[0].op is op("i32.const")


@pytest.mark.parametrize("segment, message", [
    (b"\x08", "malformed elements segment kind"),
    (b"\x01\x01" + vec(), "malformed element kind"),
    (b"\x05\x7f" + vec(), "malformed reference type"),
])
def test_bad_element_segments(segment: bytes, message: str) -> None:
    assert malformed(module(section(9, vec(segment)))).message == message


def test_data_segments() -> None:
    data = module(section(11, vec(
        b"\x00\x41\x08\x0b" + vec(b"a", b"b"),
        b"\x01" + vec(b"c"),
        b"\x02" + u32(3) + b"\x41\x00\x0b" + vec(),
    )))
    datas = decode_module(data).datas
    assert [(d.mode, d.memory, d.init) for d in datas] == [
        (SegmentMode.ACTIVE, 0, b"ab"), (SegmentMode.PASSIVE, 0, b"c"), (SegmentMode.ACTIVE, 3, b"")]
    assert datas[0].offset[0].imm == 8 and datas[1].offset is None
    assert malformed(module(section(11, vec(b"\x03")))).message == "malformed data segment kind"


def test_custom_sections_remember_their_place() -> None:
    data = module(
        section(0, name("first") + b"\x01\x02"),
        EMPTY_TYPE,
        section(0, name("after type") + b""),
        section(12, u32(0)),
        section(0, name("after data count")),
        section(0, name("twice")),
    )
    assert decode_module(data).customs == (
        CustomSection("first", b"\x01\x02", 0),
        CustomSection("after type", b"", 1),
        CustomSection("after data count", b"", 12),
        CustomSection("twice", b"", 12),
    )
    assert malformed(module(b"\x00\x01\x05hello")).message.startswith("unexpected end")


@pytest.mark.parametrize("sections, message", [
    ((section(3, vec()), section(1, vec())), "unexpected content after last section"),
    ((section(10, vec()), section(12, u32(0))), "unexpected content after last section"),
    ((section(1, vec()), section(1, vec())), "unexpected content after last section"),
    ((b"\x0e\x00",), "malformed section id"),
    ((section(1, vec() + b"\x00"),), "section size mismatch"),
    ((b"\x01\x02\x01\x60\x00\x00",), "section size mismatch"),
    ((section(3, vec(u32(0))),), "function and code section have inconsistent lengths"),
])
def test_section_structure(sections: tuple[bytes, ...], message: str) -> None:
    error = malformed(module(*sections))
    assert error.message.startswith(message)


def test_body_size_must_match() -> None:
    body = b"\x00\x0b"
    data = module(EMPTY_TYPE, section(3, vec(b"\x00")), section(10, vec(u32(3) + body + b"\x01")))
    assert malformed(data).message == "section size mismatch"


def test_names_are_decoded_and_broken_names_ignored() -> None:
    names = (b"\x00" + u32(len(name("mod"))) + name("mod")
             + b"\x01" + u32(len(vec(u32(0) + name("f")))) + vec(u32(0) + name("f"))
             + b"\x02" + u32(len(vec(u32(0) + vec(u32(1) + name("x"))))) + vec(u32(0) + vec(u32(1) + name("x")))
             + b"\x07\x03\x01\x00\xff"          # global names: broken UTF-8, dropped
             + b"\x09" + u32(len(vec(u32(2) + name("d")))) + vec(u32(2) + name("d"))
             + b"\x05\x7f")                     # a subsection running past the end: stop
    decoded = decode_module(with_body(b"\x0b", b"\x00", section(0, name("name") + names)))
    assert decoded.names == Names(module="mod", funcs={0: "f"}, locals={0: {1: "x"}}, datas={2: "d"})
    assert decoded.customs[0].name == "name"


def test_decoding_restores_the_garbage_collector() -> None:
    assert gc.isenabled()
    decode_module(with_body(b"\x0b"))
    assert gc.isenabled()
    with pytest.raises(MalformedError):
        decode_module(with_body(b"\x06\x0b"))
    assert gc.isenabled()
    gc.disable()
    try:
        decode_module(with_body(b"\x0b"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_error_offsets_point_into_the_module() -> None:
    data = with_body(bytes.fromhex("41 00 27 0b"))
    error = malformed(data)
    assert error.offset == len(data) - 2
    assert data[error.offset] == 0x27


def _many_functions(local_declarations: list[bytes]) -> bytes:
    bodies = [decl + b"\x0b" for decl in local_declarations]
    return module(EMPTY_TYPE, section(3, vec(*[b"\x00"] * len(bodies))),
                  section(10, vec(*[u32(len(body)) + body for body in bodies])))


def test_identical_local_declarations_share_one_tuple() -> None:
    decl = vec(u32(MAX_LOCALS) + b"\x7f")
    funcs = decode_module(_many_functions([decl] * 200)).funcs
    assert len(funcs) == 200 and all(f.locals is funcs[0].locals for f in funcs)


def test_locals_are_budgeted_per_module() -> None:
    # Each function on its own is fine; together they would make us
    # allocate more than MAX_LOCALS_PER_MODULE entries.
    declarations = [vec(u32(MAX_LOCALS - index) + b"\x7f") for index in range(MAX_LOCALS_PER_MODULE // MAX_LOCALS + 1)]
    assert malformed(_many_functions(declarations)).message == "too many locals"
    assert len(decode_module(_many_functions(declarations[:10])).funcs) == 10
