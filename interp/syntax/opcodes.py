"""The instruction table: the one definition of every instruction.

Each row gives an instruction's text-format name, its binary encoding, the kind
of immediates it carries, (where the type does not depend on context) its
operand and result types, and its semantics.  The binary decoder and encoder,
the text parser and printer, the validator and both engines read this table
instead of repeating it: the engines' code for an instruction is generated
from its semantics (see interp/syntax/semantics.py for the forms).

Where the types depend on the immediates or the validation context but the
number of operands and results does not (``select``, variables, ``table.get``
...), the signature names them by type variables (``t t i32 -> t``): the
validator types those itself, and the row gives only their arity.  A signature
of ``None`` marks the instructions whose arity too depends on context (control
flow, calls, ``struct.new`` ...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from interp.errors import TrapKind
from interp.features import Feature
from interp.syntax.semantics import (
    LOAD,
    LOAD_SIGNED,
    MACHINE,
    RUNTIME,
    STORE,
    Compute,
    Semantics,
)
from interp.syntax.types import HeapKind, ValType, ref_type


class Imm(enum.Enum):
    """Kinds of immediate operands, and the shape of ``Instruction.imm`` for each."""

    NONE = "none"                    # None
    BLOCKTYPE = "blocktype"          # None | ValType | int (type index)
    LABEL = "label"                  # int (relative depth)
    BR_TABLE = "br_table"            # (tuple[int, ...] labels, int default)
    FUNC = "func"                    # int
    CALL_INDIRECT = "call_indirect"  # (int type index, int table index)
    LOCAL = "local"                  # int
    GLOBAL = "global"                # int
    TABLE = "table"                  # int
    ELEM = "elem"                    # int
    DATA = "data"                    # int
    TABLE_INIT = "table_init"        # (int elem, int table)
    TABLE_COPY = "table_copy"        # (int destination table, int source table)
    MEMARG = "memarg"                # MemArg
    MEMORY = "memory"                # int memory index (a reserved 0x00 byte in 2.0)
    MEMORY_INIT = "memory_init"      # (int data, int memory)
    MEMORY_COPY = "memory_copy"      # (int destination memory, int source memory)
    I32 = "i32"                      # int, canonical unsigned 0 <= v < 2**32
    I64 = "i64"                      # int, canonical unsigned 0 <= v < 2**64
    F32 = "f32"                      # int, the IEEE 754 bit pattern
    F64 = "f64"                      # int, the IEEE 754 bit pattern
    V128 = "v128"                    # int, 0 <= v < 2**128, lane 0 in the low bits
    HEAPTYPE = "heaptype"            # HeapKind | int (type index): ref.null's
    TYPE = "type"                    # int type index (struct.new, array.get, call_ref ...)
    FIELD = "field"                  # (int type index, int field index)
    ARRAY_FIXED = "array_fixed"      # (int type index, int element count)
    ARRAY_DATA = "array_data"        # (int type index, int data index)
    ARRAY_ELEM = "array_elem"        # (int type index, int elem index)
    ARRAY_COPY = "array_copy"        # (int destination type index, int source type index)
    CAST = "cast"                    # RefType: a non-null reference type (the opcode says "not null")
    CAST_NULL = "cast_null"          # RefType: a nullable reference type (the opcode says "null")
    BR_ON_CAST = "br_on_cast"        # (int label, RefType from, RefType to)
    SELECT_TYPES = "select_types"    # tuple[ValType, ...]
    LANE = "lane"                    # int lane index
    SHUFFLE = "shuffle"              # tuple of 16 lane indices
    MEMARG_LANE = "memarg_lane"      # (MemArg, int lane)
    TAG = "tag"                      # int tag index
    TRY_TABLE = "try_table"          # (block type as BLOCKTYPE, tuple[module.Catch, ...])


class MemArg(NamedTuple):
    """The immediate of a load or store: the alignment exponent, the static
    offset (up to 2**64 - 1; below 2**32 for a 32-bit memory) and the memory
    index (multi-memory; 0 for the only memory of a 2.0 module)."""

    align: int
    offset: int
    memory: int = 0


PREFIX_GC = 0xFB
PREFIX_MISC = 0xFC
PREFIX_SIMD = 0xFD


@dataclass(frozen=True, eq=False, slots=True)
class Op:
    """One instruction of the table.

    ``prefix`` is ``None`` for single-byte opcodes, else 0xFC or 0xFD with
    ``code`` the LEB128 sub-opcode.  ``semantics`` says what it does (see
    semantics.py; a plain string in the table is a ``Compute`` expression).
    ``width`` is the number of bytes a memory
    instruction accesses (its natural alignment is ``log2(width)``).  ``lanes``
    is, for an instruction with a lane index (``LANE``, ``MEMARG_LANE``), the
    number of lanes that index selects among (``i16x8.extract_lane_s``: 8,
    ``v128.load32_lane``: 4), else 0.  ``id`` is the row number, dense from 0,
    for dispatch tables.  Ops compare by identity.
    """

    id: int
    name: str
    prefix: int | None
    code: int
    imm: Imm
    params: tuple[ValType, ...] | None
    results: tuple[ValType, ...] | None
    semantics: Semantics
    width: int = 0
    lanes: int = 0
    arity: tuple[int, int] | None = None
    """How many operands it pops and results it pushes, when that does not
    depend on context: ``(len(params), len(results))`` when it has a
    signature, and for the rows whose signature has type variables."""

    @property
    def natural_alignment(self) -> int:
        return self.width.bit_length() - 1

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


G = PREFIX_GC
M = PREFIX_MISC
S = PREFIX_SIMD
N = Imm.NONE
R = RUNTIME

_DIVISOR_ZERO = ("b == 0", TrapKind.INTEGER_DIVIDE_BY_ZERO)
_OVERFLOW = TrapKind.INTEGER_OVERFLOW


def _truncation(expression: str, in_range: str) -> Compute:
    """A float-to-integer truncation: it traps on NaN, and when the truncated
    value (not the float) is outside the integer range, i.e. outside the
    open interval ``in_range`` states (so ``-0.999`` truncates to an unsigned 0)."""
    return Compute(expression, (("a != a", TrapKind.INVALID_CONVERSION), (f"not {in_range}", _OVERFLOW)))


# The saturating truncations: NaN gives 0, values beyond the range its ends.
_I32_SATURATED_S = ("0 if a != a else -2147483648 if a < -2147483648.0 "
                    "else 2147483647 if a >= 2147483647.0 else s32(a)")
_I32_SATURATED_U = "0 if a != a or a <= -1.0 else 4294967295 if a >= 4294967295.0 else i32(a)"
_I64_SATURATED_S = ("0 if a != a else -9223372036854775808 if a < -9223372036854775808.0 "
                    "else 9223372036854775807 if a >= 9223372036854775808.0 else s64(a)")
_I64_SATURATED_U = ("0 if a != a or a <= -1.0 else 18446744073709551615 if a >= 18446744073709551616.0 "
                    "else i64(a)")

# The frequent signatures of the vector instructions.
V_V = "v128 -> v128"
VV_V = "v128 v128 -> v128"
VI_V = "v128 i32 -> v128"  # shifts
V_I = "v128 -> i32"        # tests and bitmask

VVV_V = "v128 v128 v128 -> v128"  # relaxed fused multiply-adds, lane selects

# (name, encoding, immediates, signature "params -> results" or None, semantics, access width)
_ROWS: tuple[tuple, ...] = (
    # Control instructions (spec 5.4.1)
    ("unreachable", 0x00, N, None, MACHINE),
    ("nop", 0x01, N, "->", MACHINE),
    ("block", 0x02, Imm.BLOCKTYPE, None, MACHINE),
    ("loop", 0x03, Imm.BLOCKTYPE, None, MACHINE),
    ("if", 0x04, Imm.BLOCKTYPE, None, MACHINE),
    ("else", 0x05, N, None, MACHINE),
    ("end", 0x0B, N, None, MACHINE),
    ("br", 0x0C, Imm.LABEL, None, MACHINE),
    ("br_if", 0x0D, Imm.LABEL, None, MACHINE),
    ("br_table", 0x0E, Imm.BR_TABLE, None, MACHINE),
    ("return", 0x0F, N, None, MACHINE),
    ("call", 0x10, Imm.FUNC, None, MACHINE),
    ("call_indirect", 0x11, Imm.CALL_INDIRECT, None, MACHINE),
    # Tail calls (3.0): the callee replaces the caller's frame
    ("return_call", 0x12, Imm.FUNC, None, MACHINE),
    ("return_call_indirect", 0x13, Imm.CALL_INDIRECT, None, MACHINE),
    ("return_call_ref", 0x15, Imm.TYPE, None, MACHINE),
    # Exception handling (3.0): throwing is run once, in Python, by both
    # engines; where an exception is caught is found from the handler table
    # the lowering builds for try_table (and the legacy try) blocks.
    ("throw", 0x08, Imm.TAG, None, R),
    ("throw_ref", 0x0A, N, None, R),
    ("try_table", 0x1F, Imm.TRY_TABLE, None, MACHINE),
    # Legacy exception handling (the legacy/ tests): try ... catch ...
    # catch_all ... end, try ... delegate, rethrow
    ("try", 0x06, Imm.BLOCKTYPE, None, MACHINE),
    ("catch", 0x07, Imm.TAG, None, MACHINE),
    ("catch_all", 0x19, N, None, MACHINE),
    ("delegate", 0x18, Imm.LABEL, None, MACHINE),
    ("rethrow", 0x09, Imm.LABEL, None, MACHINE),
    # Typed function references and GC branches (3.0)
    ("call_ref", 0x14, Imm.TYPE, None, MACHINE),
    ("br_on_null", 0xD5, Imm.LABEL, None, MACHINE),
    ("br_on_non_null", 0xD6, Imm.LABEL, None, MACHINE),
    ("br_on_cast", (G, 24), Imm.BR_ON_CAST, None, MACHINE),
    ("br_on_cast_fail", (G, 25), Imm.BR_ON_CAST, None, MACHINE),
    # Reference instructions (5.4.2); ref.test and ref.cast have a form per
    # nullability of their type, told apart by the immediate kind
    ("ref.null", 0xD0, Imm.HEAPTYPE, "-> ref", MACHINE),
    ("ref.is_null", 0xD1, N, "ref -> i32", MACHINE),
    ("ref.func", 0xD2, Imm.FUNC, "-> ref", MACHINE),
    ("ref.eq", 0xD3, N, "eqref eqref -> i32", R),
    ("ref.as_non_null", 0xD4, N, "ref -> ref", R),
    ("ref.test", (G, 20), Imm.CAST, "ref -> i32", R),
    ("ref.test", (G, 21), Imm.CAST_NULL, "ref -> i32", R),
    ("ref.cast", (G, 22), Imm.CAST, "ref -> ref", R),
    ("ref.cast", (G, 23), Imm.CAST_NULL, "ref -> ref", R),
    ("any.convert_extern", (G, 26), N, "ref -> ref", R),
    ("extern.convert_any", (G, 27), N, "ref -> ref", R),
    ("ref.i31", (G, 28), N, "i32 -> (ref i31)", R),
    ("i31.get_s", (G, 29), N, "i31ref -> i32", R),
    ("i31.get_u", (G, 30), N, "i31ref -> i32", R),
    # Aggregate instructions (struct and array): typed by their type immediate
    ("struct.new", (G, 0), Imm.TYPE, None, R),
    ("struct.new_default", (G, 1), Imm.TYPE, "-> ref", R),
    ("struct.get", (G, 2), Imm.FIELD, "ref -> t", R),
    ("struct.get_s", (G, 3), Imm.FIELD, "ref -> t", R),
    ("struct.get_u", (G, 4), Imm.FIELD, "ref -> t", R),
    ("struct.set", (G, 5), Imm.FIELD, "ref t ->", R),
    ("array.new", (G, 6), Imm.TYPE, "t i32 -> ref", R),
    ("array.new_default", (G, 7), Imm.TYPE, "i32 -> ref", R),
    ("array.new_fixed", (G, 8), Imm.ARRAY_FIXED, None, R),
    ("array.new_data", (G, 9), Imm.ARRAY_DATA, "i32 i32 -> ref", R),
    ("array.new_elem", (G, 10), Imm.ARRAY_ELEM, "i32 i32 -> ref", R),
    ("array.get", (G, 11), Imm.TYPE, "ref i32 -> t", R),
    ("array.get_s", (G, 12), Imm.TYPE, "ref i32 -> t", R),
    ("array.get_u", (G, 13), Imm.TYPE, "ref i32 -> t", R),
    ("array.set", (G, 14), Imm.TYPE, "ref i32 t ->", R),
    ("array.len", (G, 15), N, "arrayref -> i32", R),
    ("array.fill", (G, 16), Imm.TYPE, "ref i32 t i32 ->", R),
    ("array.copy", (G, 17), Imm.ARRAY_COPY, "ref i32 ref i32 i32 ->", R),
    ("array.init_data", (G, 18), Imm.ARRAY_DATA, "ref i32 i32 i32 ->", R),
    ("array.init_elem", (G, 19), Imm.ARRAY_ELEM, "ref i32 i32 i32 ->", R),
    # Parametric instructions (5.4.3); both encodings of select print as "select"
    ("drop", 0x1A, N, "t ->", MACHINE),
    ("select", 0x1B, N, "t t i32 -> t", MACHINE),
    ("select", 0x1C, Imm.SELECT_TYPES, "t t i32 -> t", MACHINE),
    # Variable instructions (5.4.4)
    ("local.get", 0x20, Imm.LOCAL, "-> t", MACHINE),
    ("local.set", 0x21, Imm.LOCAL, "t ->", MACHINE),
    ("local.tee", 0x22, Imm.LOCAL, "t -> t", MACHINE),
    ("global.get", 0x23, Imm.GLOBAL, "-> t", MACHINE),
    ("global.set", 0x24, Imm.GLOBAL, "t ->", MACHINE),
    # Table instructions (5.4.5)
    ("table.get", 0x25, Imm.TABLE, "addr -> ref", R),
    ("table.set", 0x26, Imm.TABLE, "addr ref ->", R),
    ("table.init", (M, 12), Imm.TABLE_INIT, "i32 i32 i32 ->", R),
    ("elem.drop", (M, 13), Imm.ELEM, "->", R),
    ("table.copy", (M, 14), Imm.TABLE_COPY, "i32 i32 i32 ->", R),
    ("table.grow", (M, 15), Imm.TABLE, "ref addr -> addr", R),
    ("table.size", (M, 16), Imm.TABLE, "-> i32", R),
    ("table.fill", (M, 17), Imm.TABLE, "addr ref addr ->", R),
    # Memory instructions (5.4.6)
    ("i32.load", 0x28, Imm.MEMARG, "i32 -> i32", LOAD, 4),
    ("i64.load", 0x29, Imm.MEMARG, "i32 -> i64", LOAD, 8),
    ("f32.load", 0x2A, Imm.MEMARG, "i32 -> f32", LOAD, 4),
    ("f64.load", 0x2B, Imm.MEMARG, "i32 -> f64", LOAD, 8),
    ("i32.load8_s", 0x2C, Imm.MEMARG, "i32 -> i32", LOAD_SIGNED, 1),
    ("i32.load8_u", 0x2D, Imm.MEMARG, "i32 -> i32", LOAD, 1),
    ("i32.load16_s", 0x2E, Imm.MEMARG, "i32 -> i32", LOAD_SIGNED, 2),
    ("i32.load16_u", 0x2F, Imm.MEMARG, "i32 -> i32", LOAD, 2),
    ("i64.load8_s", 0x30, Imm.MEMARG, "i32 -> i64", LOAD_SIGNED, 1),
    ("i64.load8_u", 0x31, Imm.MEMARG, "i32 -> i64", LOAD, 1),
    ("i64.load16_s", 0x32, Imm.MEMARG, "i32 -> i64", LOAD_SIGNED, 2),
    ("i64.load16_u", 0x33, Imm.MEMARG, "i32 -> i64", LOAD, 2),
    ("i64.load32_s", 0x34, Imm.MEMARG, "i32 -> i64", LOAD_SIGNED, 4),
    ("i64.load32_u", 0x35, Imm.MEMARG, "i32 -> i64", LOAD, 4),
    ("i32.store", 0x36, Imm.MEMARG, "i32 i32 ->", STORE, 4),
    ("i64.store", 0x37, Imm.MEMARG, "i32 i64 ->", STORE, 8),
    ("f32.store", 0x38, Imm.MEMARG, "i32 f32 ->", STORE, 4),
    ("f64.store", 0x39, Imm.MEMARG, "i32 f64 ->", STORE, 8),
    ("i32.store8", 0x3A, Imm.MEMARG, "i32 i32 ->", STORE, 1),
    ("i32.store16", 0x3B, Imm.MEMARG, "i32 i32 ->", STORE, 2),
    ("i64.store8", 0x3C, Imm.MEMARG, "i32 i64 ->", STORE, 1),
    ("i64.store16", 0x3D, Imm.MEMARG, "i32 i64 ->", STORE, 2),
    ("i64.store32", 0x3E, Imm.MEMARG, "i32 i64 ->", STORE, 4),
    ("memory.size", 0x3F, Imm.MEMORY, "-> i32", MACHINE),
    ("memory.grow", 0x40, Imm.MEMORY, "i32 -> i32", MACHINE),
    ("memory.init", (M, 8), Imm.MEMORY_INIT, "i32 i32 i32 ->", R),
    ("data.drop", (M, 9), Imm.DATA, "->", R),
    ("memory.copy", (M, 10), Imm.MEMORY_COPY, "i32 i32 i32 ->", MACHINE),
    ("memory.fill", (M, 11), Imm.MEMORY, "i32 i32 i32 ->", MACHINE),
    # Numeric instructions (5.4.7).  Semantics: the expressions of the
    # semantics language (interp/exec/semantics.py): operands are a, b (stack
    # order); s32(x) reads x signed, i32(x) wraps or truncates to an i32 ...
    ("i32.const", 0x41, Imm.I32, "-> i32", MACHINE),
    ("i64.const", 0x42, Imm.I64, "-> i64", MACHINE),
    ("f32.const", 0x43, Imm.F32, "-> f32", MACHINE),
    ("f64.const", 0x44, Imm.F64, "-> f64", MACHINE),
    ("i32.eqz", 0x45, N, "i32 -> i32", "a == 0"),
    ("i32.eq", 0x46, N, "i32 i32 -> i32", "a == b"),
    ("i32.ne", 0x47, N, "i32 i32 -> i32", "a != b"),
    ("i32.lt_s", 0x48, N, "i32 i32 -> i32", "s32(a) < s32(b)"),
    ("i32.lt_u", 0x49, N, "i32 i32 -> i32", "a < b"),
    ("i32.gt_s", 0x4A, N, "i32 i32 -> i32", "s32(a) > s32(b)"),
    ("i32.gt_u", 0x4B, N, "i32 i32 -> i32", "a > b"),
    ("i32.le_s", 0x4C, N, "i32 i32 -> i32", "s32(a) <= s32(b)"),
    ("i32.le_u", 0x4D, N, "i32 i32 -> i32", "a <= b"),
    ("i32.ge_s", 0x4E, N, "i32 i32 -> i32", "s32(a) >= s32(b)"),
    ("i32.ge_u", 0x4F, N, "i32 i32 -> i32", "a >= b"),
    ("i64.eqz", 0x50, N, "i64 -> i32", "a == 0"),
    ("i64.eq", 0x51, N, "i64 i64 -> i32", "a == b"),
    ("i64.ne", 0x52, N, "i64 i64 -> i32", "a != b"),
    ("i64.lt_s", 0x53, N, "i64 i64 -> i32", "s64(a) < s64(b)"),
    ("i64.lt_u", 0x54, N, "i64 i64 -> i32", "a < b"),
    ("i64.gt_s", 0x55, N, "i64 i64 -> i32", "s64(a) > s64(b)"),
    ("i64.gt_u", 0x56, N, "i64 i64 -> i32", "a > b"),
    ("i64.le_s", 0x57, N, "i64 i64 -> i32", "s64(a) <= s64(b)"),
    ("i64.le_u", 0x58, N, "i64 i64 -> i32", "a <= b"),
    ("i64.ge_s", 0x59, N, "i64 i64 -> i32", "s64(a) >= s64(b)"),
    ("i64.ge_u", 0x5A, N, "i64 i64 -> i32", "a >= b"),
    ("f32.eq", 0x5B, N, "f32 f32 -> i32", "a == b"),
    ("f32.ne", 0x5C, N, "f32 f32 -> i32", "a != b"),
    ("f32.lt", 0x5D, N, "f32 f32 -> i32", "a < b"),
    ("f32.gt", 0x5E, N, "f32 f32 -> i32", "a > b"),
    ("f32.le", 0x5F, N, "f32 f32 -> i32", "a <= b"),
    ("f32.ge", 0x60, N, "f32 f32 -> i32", "a >= b"),
    ("f64.eq", 0x61, N, "f64 f64 -> i32", "a == b"),
    ("f64.ne", 0x62, N, "f64 f64 -> i32", "a != b"),
    ("f64.lt", 0x63, N, "f64 f64 -> i32", "a < b"),
    ("f64.gt", 0x64, N, "f64 f64 -> i32", "a > b"),
    ("f64.le", 0x65, N, "f64 f64 -> i32", "a <= b"),
    ("f64.ge", 0x66, N, "f64 f64 -> i32", "a >= b"),
    ("i32.clz", 0x67, N, "i32 -> i32", "clz(a)"),
    ("i32.ctz", 0x68, N, "i32 -> i32", "ctz(a)"),
    ("i32.popcnt", 0x69, N, "i32 -> i32", "popcnt(a)"),
    ("i32.add", 0x6A, N, "i32 i32 -> i32", "a + b"),
    ("i32.sub", 0x6B, N, "i32 i32 -> i32", "a - b"),
    ("i32.mul", 0x6C, N, "i32 i32 -> i32", "a * b"),
    ("i32.div_s", 0x6D, N, "i32 i32 -> i32",
     Compute("s32(a) / s32(b)", (_DIVISOR_ZERO, ("a == 0x80000000 and b == 0xFFFFFFFF", _OVERFLOW)))),
    ("i32.div_u", 0x6E, N, "i32 i32 -> i32", Compute("a / b", (_DIVISOR_ZERO,))),
    ("i32.rem_s", 0x6F, N, "i32 i32 -> i32", Compute("s32(a) % s32(b)", (_DIVISOR_ZERO,))),
    ("i32.rem_u", 0x70, N, "i32 i32 -> i32", Compute("a % b", (_DIVISOR_ZERO,))),
    ("i32.and", 0x71, N, "i32 i32 -> i32", "a & b"),
    ("i32.or", 0x72, N, "i32 i32 -> i32", "a | b"),
    ("i32.xor", 0x73, N, "i32 i32 -> i32", "a ^ b"),
    ("i32.shl", 0x74, N, "i32 i32 -> i32", "a << (b & 31)"),
    ("i32.shr_s", 0x75, N, "i32 i32 -> i32", "s32(a) >> (b & 31)"),
    ("i32.shr_u", 0x76, N, "i32 i32 -> i32", "a >> (b & 31)"),
    ("i32.rotl", 0x77, N, "i32 i32 -> i32", "rotl(a, b)"),
    ("i32.rotr", 0x78, N, "i32 i32 -> i32", "rotr(a, b)"),
    ("i64.clz", 0x79, N, "i64 -> i64", "clz(a)"),
    ("i64.ctz", 0x7A, N, "i64 -> i64", "ctz(a)"),
    ("i64.popcnt", 0x7B, N, "i64 -> i64", "popcnt(a)"),
    ("i64.add", 0x7C, N, "i64 i64 -> i64", "a + b"),
    ("i64.sub", 0x7D, N, "i64 i64 -> i64", "a - b"),
    ("i64.mul", 0x7E, N, "i64 i64 -> i64", "a * b"),
    ("i64.div_s", 0x7F, N, "i64 i64 -> i64",
     Compute("s64(a) / s64(b)",
             (_DIVISOR_ZERO, ("a == 0x8000000000000000 and b == 0xFFFFFFFFFFFFFFFF", _OVERFLOW)))),
    ("i64.div_u", 0x80, N, "i64 i64 -> i64", Compute("a / b", (_DIVISOR_ZERO,))),
    ("i64.rem_s", 0x81, N, "i64 i64 -> i64", Compute("s64(a) % s64(b)", (_DIVISOR_ZERO,))),
    ("i64.rem_u", 0x82, N, "i64 i64 -> i64", Compute("a % b", (_DIVISOR_ZERO,))),
    ("i64.and", 0x83, N, "i64 i64 -> i64", "a & b"),
    ("i64.or", 0x84, N, "i64 i64 -> i64", "a | b"),
    ("i64.xor", 0x85, N, "i64 i64 -> i64", "a ^ b"),
    ("i64.shl", 0x86, N, "i64 i64 -> i64", "a << (b & 63)"),
    ("i64.shr_s", 0x87, N, "i64 i64 -> i64", "s64(a) >> (b & 63)"),
    ("i64.shr_u", 0x88, N, "i64 i64 -> i64", "a >> (b & 63)"),
    ("i64.rotl", 0x89, N, "i64 i64 -> i64", "rotl(a, b)"),
    ("i64.rotr", 0x8A, N, "i64 i64 -> i64", "rotr(a, b)"),
    ("f32.abs", 0x8B, N, "f32 -> f32", "abs(a)"),
    ("f32.neg", 0x8C, N, "f32 -> f32", "-a"),
    ("f32.ceil", 0x8D, N, "f32 -> f32", "ceil(a)"),
    ("f32.floor", 0x8E, N, "f32 -> f32", "floor(a)"),
    ("f32.trunc", 0x8F, N, "f32 -> f32", "trunc(a)"),
    ("f32.nearest", 0x90, N, "f32 -> f32", "nearest(a)"),
    ("f32.sqrt", 0x91, N, "f32 -> f32", "sqrt(a)"),
    ("f32.add", 0x92, N, "f32 f32 -> f32", "a + b"),
    ("f32.sub", 0x93, N, "f32 f32 -> f32", "a - b"),
    ("f32.mul", 0x94, N, "f32 f32 -> f32", "a * b"),
    ("f32.div", 0x95, N, "f32 f32 -> f32", "a / b"),
    ("f32.min", 0x96, N, "f32 f32 -> f32", "min(a, b)"),
    ("f32.max", 0x97, N, "f32 f32 -> f32", "max(a, b)"),
    ("f32.copysign", 0x98, N, "f32 f32 -> f32", "copysign(a, b)"),
    ("f64.abs", 0x99, N, "f64 -> f64", "abs(a)"),
    ("f64.neg", 0x9A, N, "f64 -> f64", "-a"),
    ("f64.ceil", 0x9B, N, "f64 -> f64", "ceil(a)"),
    ("f64.floor", 0x9C, N, "f64 -> f64", "floor(a)"),
    ("f64.trunc", 0x9D, N, "f64 -> f64", "trunc(a)"),
    ("f64.nearest", 0x9E, N, "f64 -> f64", "nearest(a)"),
    ("f64.sqrt", 0x9F, N, "f64 -> f64", "sqrt(a)"),
    ("f64.add", 0xA0, N, "f64 f64 -> f64", "a + b"),
    ("f64.sub", 0xA1, N, "f64 f64 -> f64", "a - b"),
    ("f64.mul", 0xA2, N, "f64 f64 -> f64", "a * b"),
    ("f64.div", 0xA3, N, "f64 f64 -> f64", "a / b"),
    ("f64.min", 0xA4, N, "f64 f64 -> f64", "min(a, b)"),
    ("f64.max", 0xA5, N, "f64 f64 -> f64", "max(a, b)"),
    ("f64.copysign", 0xA6, N, "f64 f64 -> f64", "copysign(a, b)"),
    ("i32.wrap_i64", 0xA7, N, "i64 -> i32", "i32(a)"),
    ("i32.trunc_f32_s", 0xA8, N, "f32 -> i32", _truncation("s32(a)", "-2147483649.0 < a < 2147483648.0")),
    ("i32.trunc_f32_u", 0xA9, N, "f32 -> i32", _truncation("i32(a)", "-1.0 < a < 4294967296.0")),
    ("i32.trunc_f64_s", 0xAA, N, "f64 -> i32", _truncation("s32(a)", "-2147483649.0 < a < 2147483648.0")),
    ("i32.trunc_f64_u", 0xAB, N, "f64 -> i32", _truncation("i32(a)", "-1.0 < a < 4294967296.0")),
    ("i64.extend_i32_s", 0xAC, N, "i32 -> i64", "i64(s32(a))"),
    ("i64.extend_i32_u", 0xAD, N, "i32 -> i64", "i64(a)"),
    ("i64.trunc_f32_s", 0xAE, N, "f32 -> i64",
     _truncation("s64(a)", "-9223372036854775808.0 <= a < 9223372036854775808.0")),
    ("i64.trunc_f32_u", 0xAF, N, "f32 -> i64", _truncation("i64(a)", "-1.0 < a < 18446744073709551616.0")),
    ("i64.trunc_f64_s", 0xB0, N, "f64 -> i64",
     _truncation("s64(a)", "-9223372036854775808.0 <= a < 9223372036854775808.0")),
    ("i64.trunc_f64_u", 0xB1, N, "f64 -> i64", _truncation("i64(a)", "-1.0 < a < 18446744073709551616.0")),
    ("f32.convert_i32_s", 0xB2, N, "i32 -> f32", "f32(s32(a))"),
    ("f32.convert_i32_u", 0xB3, N, "i32 -> f32", "f32(a)"),
    ("f32.convert_i64_s", 0xB4, N, "i64 -> f32", "f32(s64(a))"),
    ("f32.convert_i64_u", 0xB5, N, "i64 -> f32", "f32(a)"),
    ("f32.demote_f64", 0xB6, N, "f64 -> f32", "f32(a)"),
    ("f64.convert_i32_s", 0xB7, N, "i32 -> f64", "f64(s32(a))"),
    ("f64.convert_i32_u", 0xB8, N, "i32 -> f64", "f64(a)"),
    ("f64.convert_i64_s", 0xB9, N, "i64 -> f64", "f64(s64(a))"),
    ("f64.convert_i64_u", 0xBA, N, "i64 -> f64", "f64(a)"),
    ("f64.promote_f32", 0xBB, N, "f32 -> f64", "f64(a)"),
    ("i32.reinterpret_f32", 0xBC, N, "f32 -> i32", "bits(a)"),
    ("i64.reinterpret_f64", 0xBD, N, "f64 -> i64", "bits(a)"),
    ("f32.reinterpret_i32", 0xBE, N, "i32 -> f32", "from_bits(a)"),
    ("f64.reinterpret_i64", 0xBF, N, "i64 -> f64", "from_bits(a)"),
    ("i32.extend8_s", 0xC0, N, "i32 -> i32", "i32(s8(a))"),
    ("i32.extend16_s", 0xC1, N, "i32 -> i32", "i32(s16(a))"),
    ("i64.extend8_s", 0xC2, N, "i64 -> i64", "i64(s8(a))"),
    ("i64.extend16_s", 0xC3, N, "i64 -> i64", "i64(s16(a))"),
    ("i64.extend32_s", 0xC4, N, "i64 -> i64", "i64(s32(a))"),
    ("i32.trunc_sat_f32_s", (M, 0), N, "f32 -> i32", _I32_SATURATED_S),
    ("i32.trunc_sat_f32_u", (M, 1), N, "f32 -> i32", _I32_SATURATED_U),
    ("i32.trunc_sat_f64_s", (M, 2), N, "f64 -> i32", _I32_SATURATED_S),
    ("i32.trunc_sat_f64_u", (M, 3), N, "f64 -> i32", _I32_SATURATED_U),
    ("i64.trunc_sat_f32_s", (M, 4), N, "f32 -> i64", _I64_SATURATED_S),
    ("i64.trunc_sat_f32_u", (M, 5), N, "f32 -> i64", _I64_SATURATED_U),
    ("i64.trunc_sat_f64_s", (M, 6), N, "f64 -> i64", _I64_SATURATED_S),
    ("i64.trunc_sat_f64_u", (M, 7), N, "f64 -> i64", _I64_SATURATED_U),
    # 128-bit integer arithmetic on pairs of i64 (low, high): the wide-arithmetic proposal
    ("i64.add128", (M, 19), N, "i64 i64 i64 i64 -> i64 i64", R),
    ("i64.sub128", (M, 20), N, "i64 i64 i64 i64 -> i64 i64", R),
    ("i64.mul_wide_s", (M, 21), N, "i64 i64 -> i64 i64", R),
    ("i64.mul_wide_u", (M, 22), N, "i64 i64 -> i64 i64", R),
    # Vector instructions (5.4.8), in the order of their sub-opcodes.
    # Memory
    ("v128.load", (S, 0x00), Imm.MEMARG, "i32 -> v128", R, 16),
    ("v128.load8x8_s", (S, 0x01), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load8x8_u", (S, 0x02), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load16x4_s", (S, 0x03), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load16x4_u", (S, 0x04), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load32x2_s", (S, 0x05), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load32x2_u", (S, 0x06), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.load8_splat", (S, 0x07), Imm.MEMARG, "i32 -> v128", R, 1),
    ("v128.load16_splat", (S, 0x08), Imm.MEMARG, "i32 -> v128", R, 2),
    ("v128.load32_splat", (S, 0x09), Imm.MEMARG, "i32 -> v128", R, 4),
    ("v128.load64_splat", (S, 0x0A), Imm.MEMARG, "i32 -> v128", R, 8),
    ("v128.store", (S, 0x0B), Imm.MEMARG, "i32 v128 ->", R, 16),
    # Constant, shuffles and splats
    ("v128.const", (S, 0x0C), Imm.V128, "-> v128", MACHINE),
    ("i8x16.shuffle", (S, 0x0D), Imm.SHUFFLE, VV_V, R),
    ("i8x16.swizzle", (S, 0x0E), N, VV_V, R),
    ("i8x16.splat", (S, 0x0F), N, "i32 -> v128", R),
    ("i16x8.splat", (S, 0x10), N, "i32 -> v128", R),
    ("i32x4.splat", (S, 0x11), N, "i32 -> v128", R),
    ("i64x2.splat", (S, 0x12), N, "i64 -> v128", R),
    ("f32x4.splat", (S, 0x13), N, "f32 -> v128", R),
    ("f64x2.splat", (S, 0x14), N, "f64 -> v128", R),
    # Lane access
    ("i8x16.extract_lane_s", (S, 0x15), Imm.LANE, "v128 -> i32", R),
    ("i8x16.extract_lane_u", (S, 0x16), Imm.LANE, "v128 -> i32", R),
    ("i8x16.replace_lane", (S, 0x17), Imm.LANE, "v128 i32 -> v128", R),
    ("i16x8.extract_lane_s", (S, 0x18), Imm.LANE, "v128 -> i32", R),
    ("i16x8.extract_lane_u", (S, 0x19), Imm.LANE, "v128 -> i32", R),
    ("i16x8.replace_lane", (S, 0x1A), Imm.LANE, "v128 i32 -> v128", R),
    ("i32x4.extract_lane", (S, 0x1B), Imm.LANE, "v128 -> i32", R),
    ("i32x4.replace_lane", (S, 0x1C), Imm.LANE, "v128 i32 -> v128", R),
    ("i64x2.extract_lane", (S, 0x1D), Imm.LANE, "v128 -> i64", R),
    ("i64x2.replace_lane", (S, 0x1E), Imm.LANE, "v128 i64 -> v128", R),
    ("f32x4.extract_lane", (S, 0x1F), Imm.LANE, "v128 -> f32", R),
    ("f32x4.replace_lane", (S, 0x20), Imm.LANE, "v128 f32 -> v128", R),
    ("f64x2.extract_lane", (S, 0x21), Imm.LANE, "v128 -> f64", R),
    ("f64x2.replace_lane", (S, 0x22), Imm.LANE, "v128 f64 -> v128", R),
    # Comparisons
    ("i8x16.eq", (S, 0x23), N, VV_V, R),
    ("i8x16.ne", (S, 0x24), N, VV_V, R),
    ("i8x16.lt_s", (S, 0x25), N, VV_V, R),
    ("i8x16.lt_u", (S, 0x26), N, VV_V, R),
    ("i8x16.gt_s", (S, 0x27), N, VV_V, R),
    ("i8x16.gt_u", (S, 0x28), N, VV_V, R),
    ("i8x16.le_s", (S, 0x29), N, VV_V, R),
    ("i8x16.le_u", (S, 0x2A), N, VV_V, R),
    ("i8x16.ge_s", (S, 0x2B), N, VV_V, R),
    ("i8x16.ge_u", (S, 0x2C), N, VV_V, R),
    ("i16x8.eq", (S, 0x2D), N, VV_V, R),
    ("i16x8.ne", (S, 0x2E), N, VV_V, R),
    ("i16x8.lt_s", (S, 0x2F), N, VV_V, R),
    ("i16x8.lt_u", (S, 0x30), N, VV_V, R),
    ("i16x8.gt_s", (S, 0x31), N, VV_V, R),
    ("i16x8.gt_u", (S, 0x32), N, VV_V, R),
    ("i16x8.le_s", (S, 0x33), N, VV_V, R),
    ("i16x8.le_u", (S, 0x34), N, VV_V, R),
    ("i16x8.ge_s", (S, 0x35), N, VV_V, R),
    ("i16x8.ge_u", (S, 0x36), N, VV_V, R),
    ("i32x4.eq", (S, 0x37), N, VV_V, R),
    ("i32x4.ne", (S, 0x38), N, VV_V, R),
    ("i32x4.lt_s", (S, 0x39), N, VV_V, R),
    ("i32x4.lt_u", (S, 0x3A), N, VV_V, R),
    ("i32x4.gt_s", (S, 0x3B), N, VV_V, R),
    ("i32x4.gt_u", (S, 0x3C), N, VV_V, R),
    ("i32x4.le_s", (S, 0x3D), N, VV_V, R),
    ("i32x4.le_u", (S, 0x3E), N, VV_V, R),
    ("i32x4.ge_s", (S, 0x3F), N, VV_V, R),
    ("i32x4.ge_u", (S, 0x40), N, VV_V, R),
    ("f32x4.eq", (S, 0x41), N, VV_V, R),
    ("f32x4.ne", (S, 0x42), N, VV_V, R),
    ("f32x4.lt", (S, 0x43), N, VV_V, R),
    ("f32x4.gt", (S, 0x44), N, VV_V, R),
    ("f32x4.le", (S, 0x45), N, VV_V, R),
    ("f32x4.ge", (S, 0x46), N, VV_V, R),
    ("f64x2.eq", (S, 0x47), N, VV_V, R),
    ("f64x2.ne", (S, 0x48), N, VV_V, R),
    ("f64x2.lt", (S, 0x49), N, VV_V, R),
    ("f64x2.gt", (S, 0x4A), N, VV_V, R),
    ("f64x2.le", (S, 0x4B), N, VV_V, R),
    ("f64x2.ge", (S, 0x4C), N, VV_V, R),
    # Bitwise
    ("v128.not", (S, 0x4D), N, V_V, R),
    ("v128.and", (S, 0x4E), N, VV_V, R),
    ("v128.andnot", (S, 0x4F), N, VV_V, R),
    ("v128.or", (S, 0x50), N, VV_V, R),
    ("v128.xor", (S, 0x51), N, VV_V, R),
    ("v128.bitselect", (S, 0x52), N, "v128 v128 v128 -> v128", R),
    ("v128.any_true", (S, 0x53), N, V_I, R),
    # Lane loads and stores, zero-extending loads
    ("v128.load8_lane", (S, 0x54), Imm.MEMARG_LANE, "i32 v128 -> v128", R, 1),
    ("v128.load16_lane", (S, 0x55), Imm.MEMARG_LANE, "i32 v128 -> v128", R, 2),
    ("v128.load32_lane", (S, 0x56), Imm.MEMARG_LANE, "i32 v128 -> v128", R, 4),
    ("v128.load64_lane", (S, 0x57), Imm.MEMARG_LANE, "i32 v128 -> v128", R, 8),
    ("v128.store8_lane", (S, 0x58), Imm.MEMARG_LANE, "i32 v128 ->", R, 1),
    ("v128.store16_lane", (S, 0x59), Imm.MEMARG_LANE, "i32 v128 ->", R, 2),
    ("v128.store32_lane", (S, 0x5A), Imm.MEMARG_LANE, "i32 v128 ->", R, 4),
    ("v128.store64_lane", (S, 0x5B), Imm.MEMARG_LANE, "i32 v128 ->", R, 8),
    ("v128.load32_zero", (S, 0x5C), Imm.MEMARG, "i32 -> v128", R, 4),
    ("v128.load64_zero", (S, 0x5D), Imm.MEMARG, "i32 -> v128", R, 8),
    ("f32x4.demote_f64x2_zero", (S, 0x5E), N, V_V, R),
    ("f64x2.promote_low_f32x4", (S, 0x5F), N, V_V, R),
    # i8x16 arithmetic (with the f32x4/f64x2 rounding interleaved by opcode)
    ("i8x16.abs", (S, 0x60), N, V_V, R),
    ("i8x16.neg", (S, 0x61), N, V_V, R),
    ("i8x16.popcnt", (S, 0x62), N, V_V, R),
    ("i8x16.all_true", (S, 0x63), N, V_I, R),
    ("i8x16.bitmask", (S, 0x64), N, V_I, R),
    ("i8x16.narrow_i16x8_s", (S, 0x65), N, VV_V, R),
    ("i8x16.narrow_i16x8_u", (S, 0x66), N, VV_V, R),
    ("f32x4.ceil", (S, 0x67), N, V_V, R),
    ("f32x4.floor", (S, 0x68), N, V_V, R),
    ("f32x4.trunc", (S, 0x69), N, V_V, R),
    ("f32x4.nearest", (S, 0x6A), N, V_V, R),
    ("i8x16.shl", (S, 0x6B), N, VI_V, R),
    ("i8x16.shr_s", (S, 0x6C), N, VI_V, R),
    ("i8x16.shr_u", (S, 0x6D), N, VI_V, R),
    ("i8x16.add", (S, 0x6E), N, VV_V, R),
    ("i8x16.add_sat_s", (S, 0x6F), N, VV_V, R),
    ("i8x16.add_sat_u", (S, 0x70), N, VV_V, R),
    ("i8x16.sub", (S, 0x71), N, VV_V, R),
    ("i8x16.sub_sat_s", (S, 0x72), N, VV_V, R),
    ("i8x16.sub_sat_u", (S, 0x73), N, VV_V, R),
    ("f64x2.ceil", (S, 0x74), N, V_V, R),
    ("f64x2.floor", (S, 0x75), N, V_V, R),
    ("i8x16.min_s", (S, 0x76), N, VV_V, R),
    ("i8x16.min_u", (S, 0x77), N, VV_V, R),
    ("i8x16.max_s", (S, 0x78), N, VV_V, R),
    ("i8x16.max_u", (S, 0x79), N, VV_V, R),
    ("f64x2.trunc", (S, 0x7A), N, V_V, R),
    ("i8x16.avgr_u", (S, 0x7B), N, VV_V, R),
    ("i16x8.extadd_pairwise_i8x16_s", (S, 0x7C), N, V_V, R),
    ("i16x8.extadd_pairwise_i8x16_u", (S, 0x7D), N, V_V, R),
    ("i32x4.extadd_pairwise_i16x8_s", (S, 0x7E), N, V_V, R),
    ("i32x4.extadd_pairwise_i16x8_u", (S, 0x7F), N, V_V, R),
    # i16x8 arithmetic
    ("i16x8.abs", (S, 0x80), N, V_V, R),
    ("i16x8.neg", (S, 0x81), N, V_V, R),
    ("i16x8.q15mulr_sat_s", (S, 0x82), N, VV_V, R),
    ("i16x8.all_true", (S, 0x83), N, V_I, R),
    ("i16x8.bitmask", (S, 0x84), N, V_I, R),
    ("i16x8.narrow_i32x4_s", (S, 0x85), N, VV_V, R),
    ("i16x8.narrow_i32x4_u", (S, 0x86), N, VV_V, R),
    ("i16x8.extend_low_i8x16_s", (S, 0x87), N, V_V, R),
    ("i16x8.extend_high_i8x16_s", (S, 0x88), N, V_V, R),
    ("i16x8.extend_low_i8x16_u", (S, 0x89), N, V_V, R),
    ("i16x8.extend_high_i8x16_u", (S, 0x8A), N, V_V, R),
    ("i16x8.shl", (S, 0x8B), N, VI_V, R),
    ("i16x8.shr_s", (S, 0x8C), N, VI_V, R),
    ("i16x8.shr_u", (S, 0x8D), N, VI_V, R),
    ("i16x8.add", (S, 0x8E), N, VV_V, R),
    ("i16x8.add_sat_s", (S, 0x8F), N, VV_V, R),
    ("i16x8.add_sat_u", (S, 0x90), N, VV_V, R),
    ("i16x8.sub", (S, 0x91), N, VV_V, R),
    ("i16x8.sub_sat_s", (S, 0x92), N, VV_V, R),
    ("i16x8.sub_sat_u", (S, 0x93), N, VV_V, R),
    ("f64x2.nearest", (S, 0x94), N, V_V, R),
    ("i16x8.mul", (S, 0x95), N, VV_V, R),
    ("i16x8.min_s", (S, 0x96), N, VV_V, R),
    ("i16x8.min_u", (S, 0x97), N, VV_V, R),
    ("i16x8.max_s", (S, 0x98), N, VV_V, R),
    ("i16x8.max_u", (S, 0x99), N, VV_V, R),
    ("i16x8.avgr_u", (S, 0x9B), N, VV_V, R),
    ("i16x8.extmul_low_i8x16_s", (S, 0x9C), N, VV_V, R),
    ("i16x8.extmul_high_i8x16_s", (S, 0x9D), N, VV_V, R),
    ("i16x8.extmul_low_i8x16_u", (S, 0x9E), N, VV_V, R),
    ("i16x8.extmul_high_i8x16_u", (S, 0x9F), N, VV_V, R),
    # i32x4 arithmetic
    ("i32x4.abs", (S, 0xA0), N, V_V, R),
    ("i32x4.neg", (S, 0xA1), N, V_V, R),
    ("i32x4.all_true", (S, 0xA3), N, V_I, R),
    ("i32x4.bitmask", (S, 0xA4), N, V_I, R),
    ("i32x4.extend_low_i16x8_s", (S, 0xA7), N, V_V, R),
    ("i32x4.extend_high_i16x8_s", (S, 0xA8), N, V_V, R),
    ("i32x4.extend_low_i16x8_u", (S, 0xA9), N, V_V, R),
    ("i32x4.extend_high_i16x8_u", (S, 0xAA), N, V_V, R),
    ("i32x4.shl", (S, 0xAB), N, VI_V, R),
    ("i32x4.shr_s", (S, 0xAC), N, VI_V, R),
    ("i32x4.shr_u", (S, 0xAD), N, VI_V, R),
    ("i32x4.add", (S, 0xAE), N, VV_V, R),
    ("i32x4.sub", (S, 0xB1), N, VV_V, R),
    ("i32x4.mul", (S, 0xB5), N, VV_V, R),
    ("i32x4.min_s", (S, 0xB6), N, VV_V, R),
    ("i32x4.min_u", (S, 0xB7), N, VV_V, R),
    ("i32x4.max_s", (S, 0xB8), N, VV_V, R),
    ("i32x4.max_u", (S, 0xB9), N, VV_V, R),
    ("i32x4.dot_i16x8_s", (S, 0xBA), N, VV_V, R),
    ("i32x4.extmul_low_i16x8_s", (S, 0xBC), N, VV_V, R),
    ("i32x4.extmul_high_i16x8_s", (S, 0xBD), N, VV_V, R),
    ("i32x4.extmul_low_i16x8_u", (S, 0xBE), N, VV_V, R),
    ("i32x4.extmul_high_i16x8_u", (S, 0xBF), N, VV_V, R),
    # i64x2 arithmetic and comparisons
    ("i64x2.abs", (S, 0xC0), N, V_V, R),
    ("i64x2.neg", (S, 0xC1), N, V_V, R),
    ("i64x2.all_true", (S, 0xC3), N, V_I, R),
    ("i64x2.bitmask", (S, 0xC4), N, V_I, R),
    ("i64x2.extend_low_i32x4_s", (S, 0xC7), N, V_V, R),
    ("i64x2.extend_high_i32x4_s", (S, 0xC8), N, V_V, R),
    ("i64x2.extend_low_i32x4_u", (S, 0xC9), N, V_V, R),
    ("i64x2.extend_high_i32x4_u", (S, 0xCA), N, V_V, R),
    ("i64x2.shl", (S, 0xCB), N, VI_V, R),
    ("i64x2.shr_s", (S, 0xCC), N, VI_V, R),
    ("i64x2.shr_u", (S, 0xCD), N, VI_V, R),
    ("i64x2.add", (S, 0xCE), N, VV_V, R),
    ("i64x2.sub", (S, 0xD1), N, VV_V, R),
    ("i64x2.mul", (S, 0xD5), N, VV_V, R),
    ("i64x2.eq", (S, 0xD6), N, VV_V, R),
    ("i64x2.ne", (S, 0xD7), N, VV_V, R),
    ("i64x2.lt_s", (S, 0xD8), N, VV_V, R),
    ("i64x2.gt_s", (S, 0xD9), N, VV_V, R),
    ("i64x2.le_s", (S, 0xDA), N, VV_V, R),
    ("i64x2.ge_s", (S, 0xDB), N, VV_V, R),
    ("i64x2.extmul_low_i32x4_s", (S, 0xDC), N, VV_V, R),
    ("i64x2.extmul_high_i32x4_s", (S, 0xDD), N, VV_V, R),
    ("i64x2.extmul_low_i32x4_u", (S, 0xDE), N, VV_V, R),
    ("i64x2.extmul_high_i32x4_u", (S, 0xDF), N, VV_V, R),
    # f32x4 arithmetic
    ("f32x4.abs", (S, 0xE0), N, V_V, R),
    ("f32x4.neg", (S, 0xE1), N, V_V, R),
    ("f32x4.sqrt", (S, 0xE3), N, V_V, R),
    ("f32x4.add", (S, 0xE4), N, VV_V, R),
    ("f32x4.sub", (S, 0xE5), N, VV_V, R),
    ("f32x4.mul", (S, 0xE6), N, VV_V, R),
    ("f32x4.div", (S, 0xE7), N, VV_V, R),
    ("f32x4.min", (S, 0xE8), N, VV_V, R),
    ("f32x4.max", (S, 0xE9), N, VV_V, R),
    ("f32x4.pmin", (S, 0xEA), N, VV_V, R),
    ("f32x4.pmax", (S, 0xEB), N, VV_V, R),
    # f64x2 arithmetic
    ("f64x2.abs", (S, 0xEC), N, V_V, R),
    ("f64x2.neg", (S, 0xED), N, V_V, R),
    ("f64x2.sqrt", (S, 0xEF), N, V_V, R),
    ("f64x2.add", (S, 0xF0), N, VV_V, R),
    ("f64x2.sub", (S, 0xF1), N, VV_V, R),
    ("f64x2.mul", (S, 0xF2), N, VV_V, R),
    ("f64x2.div", (S, 0xF3), N, VV_V, R),
    ("f64x2.min", (S, 0xF4), N, VV_V, R),
    ("f64x2.max", (S, 0xF5), N, VV_V, R),
    ("f64x2.pmin", (S, 0xF6), N, VV_V, R),
    ("f64x2.pmax", (S, 0xF7), N, VV_V, R),
    # Conversions
    ("i32x4.trunc_sat_f32x4_s", (S, 0xF8), N, V_V, R),
    ("i32x4.trunc_sat_f32x4_u", (S, 0xF9), N, V_V, R),
    ("f32x4.convert_i32x4_s", (S, 0xFA), N, V_V, R),
    ("f32x4.convert_i32x4_u", (S, 0xFB), N, V_V, R),
    ("i32x4.trunc_sat_f64x2_s_zero", (S, 0xFC), N, V_V, R),
    ("i32x4.trunc_sat_f64x2_u_zero", (S, 0xFD), N, V_V, R),
    ("f64x2.convert_low_i32x4_s", (S, 0xFE), N, V_V, R),
    ("f64x2.convert_low_i32x4_u", (S, 0xFF), N, V_V, R),
    # Relaxed SIMD: each has one deterministic choice among the results the
    # spec allows (see the functions of its shape's module)
    ("i8x16.relaxed_swizzle", (S, 0x100), N, VV_V, R),
    ("i32x4.relaxed_trunc_f32x4_s", (S, 0x101), N, V_V, R),
    ("i32x4.relaxed_trunc_f32x4_u", (S, 0x102), N, V_V, R),
    ("i32x4.relaxed_trunc_f64x2_s_zero", (S, 0x103), N, V_V, R),
    ("i32x4.relaxed_trunc_f64x2_u_zero", (S, 0x104), N, V_V, R),
    ("f32x4.relaxed_madd", (S, 0x105), N, VVV_V, R),
    ("f32x4.relaxed_nmadd", (S, 0x106), N, VVV_V, R),
    ("f64x2.relaxed_madd", (S, 0x107), N, VVV_V, R),
    ("f64x2.relaxed_nmadd", (S, 0x108), N, VVV_V, R),
    ("i8x16.relaxed_laneselect", (S, 0x109), N, VVV_V, R),
    ("i16x8.relaxed_laneselect", (S, 0x10A), N, VVV_V, R),
    ("i32x4.relaxed_laneselect", (S, 0x10B), N, VVV_V, R),
    ("i64x2.relaxed_laneselect", (S, 0x10C), N, VVV_V, R),
    ("f32x4.relaxed_min", (S, 0x10D), N, VV_V, R),
    ("f32x4.relaxed_max", (S, 0x10E), N, VV_V, R),
    ("f64x2.relaxed_min", (S, 0x10F), N, VV_V, R),
    ("f64x2.relaxed_max", (S, 0x110), N, VV_V, R),
    ("i16x8.relaxed_q15mulr_s", (S, 0x111), N, VV_V, R),
    ("i16x8.relaxed_dot_i8x16_i7x16_s", (S, 0x112), N, VV_V, R),
    ("i32x4.relaxed_dot_i8x16_i7x16_add_s", (S, 0x113), N, VVV_V, R),
)


_TYPE_VARIABLES = frozenset({"t", "ref", "addr"})
"""The words of a signature that stand for a type the context gives: any
value type, a reference type, a table's address type."""

_Signature = tuple[tuple[ValType, ...] | None, tuple[ValType, ...] | None, tuple[int, int] | None]


def _parse_signature(signature: str | None) -> _Signature:
    """``(params, results, arity)``: the types, unless they depend on context
    (``None``), and how many there are, unless that does too."""
    if signature is None:
        return None, None, None
    params, results = (side.replace("(ref ", "(ref_").split() for side in signature.split("->"))
    arity = (len(params), len(results))
    if _TYPE_VARIABLES.intersection(params + results):
        return None, None, arity

    def types(words: list[str]) -> tuple[ValType, ...]:
        out = []
        for word in words:
            if word.startswith("(ref_"):  # a non-null abstract reference type: (ref i31)
                kind = HeapKind.from_text(word[5:-1])
                vt = ref_type(False, kind) if kind is not None else None
            else:
                vt = ValType.from_text(word)
            if vt is None:
                raise ValueError(f"opcode table: unknown type {word!r}")
            out.append(vt)
        return tuple(out)

    return types(params), types(results), arity


_LANE_SHAPES = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}


def _lane_count(name: str, imm: Imm, width: int) -> int:
    """The lanes a lane index selects among: the shape's lane count for the
    lane accesses (``i16x8.replace_lane``: 8), the lanes of the accessed width
    for the lane loads and stores (``v128.load16_lane``: 8)."""
    if imm is Imm.LANE:
        return _LANE_SHAPES[name.partition(".")[0]]
    if imm is Imm.MEMARG_LANE:
        return 16 // width
    return 0


def _build(rows: tuple[tuple, ...]) -> tuple[Op, ...]:
    ops = []
    for row in rows:
        name, encoding, imm, signature, semantics, *rest = row
        prefix, code = encoding if isinstance(encoding, tuple) else (None, encoding)
        params, results, arity = _parse_signature(signature)
        if isinstance(semantics, str):
            semantics = Compute(semantics)
        width = rest[0] if rest else 0
        lanes = _lane_count(name, imm, width)
        ops.append(Op(len(ops), name, prefix, code, imm, params, results, semantics, width, lanes, arity))
    return tuple(ops)


OPS: tuple[Op, ...] = _build(_ROWS)
"""Every instruction, in table order; ``OPS[op.id] is op``."""

OPS_BY_ENCODING: dict[tuple[int | None, int], Op] = {(op.prefix, op.code): op for op in OPS}
"""Lookup by ``(prefix, code)``; ``prefix`` is ``None`` for single-byte opcodes."""

OPS_BY_NAME: dict[str, Op] = {}
"""Lookup by text name.  ``select`` maps to the untyped form; the typed form is
``SELECT_TYPED`` (the text parser picks it when a ``(result ...)`` follows)."""
for _op in OPS:
    OPS_BY_NAME.setdefault(_op.name, _op)
del _op

_INTRODUCED_BY_NAME: dict[str, Feature] = {name: feature for feature, names in (
    (Feature.TAIL_CALL, "return_call return_call_indirect return_call_ref"),
    (Feature.EXCEPTION_HANDLING, "throw throw_ref try_table"),
    (Feature.LEGACY_EXCEPTIONS, "try catch catch_all delegate rethrow"),
    (Feature.FUNCTION_REFERENCES, "call_ref ref.as_non_null br_on_null br_on_non_null"),
    (Feature.GC, "ref.eq"),
    (Feature.WIDE_ARITHMETIC, "i64.add128 i64.sub128 i64.mul_wide_s i64.mul_wide_u"),
) for name in names.split()}


def introduced_by(op: Op) -> Feature | None:
    """The feature past WebAssembly 2.0 that brought ``op`` (``None`` for
    2.0's own): a binary or text of a standard without that feature does not
    have the instruction (its opcode is illegal there)."""
    if op.prefix == PREFIX_GC:
        return Feature.GC
    if "relaxed" in op.name:
        return Feature.RELAXED_SIMD
    return _INTRODUCED_BY_NAME.get(op.name)


SELECT_TYPED: Op = OPS_BY_ENCODING[(None, 0x1C)]

CAST_FORMS: dict[tuple[str, bool], Op] = {
    (op.name, op.imm is Imm.CAST_NULL): op for op in OPS if op.imm in (Imm.CAST, Imm.CAST_NULL)}
"""``ref.test`` and ``ref.cast`` by name and nullability of their type: the
text format writes the type, the binary format the form."""


def op(name: str) -> Op:
    """The table row for ``name``; for code that refers to a specific instruction."""
    return OPS_BY_NAME[name]
