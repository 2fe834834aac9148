"""The types of source-level values, and how their bytes read to people.

DWARF describes a variable's type as a graph of DIEs (dwarf_variables.py
builds these objects from it); the debugger's expressions make values of the
same types, and wasm's own value types appear here too (``i32`` ... ``f64``,
shown the way the rest of glasswasm shows them, ``i32:5``), so one printer
serves C variables, wasm locals and arithmetic on both.

A value is a type and a ``Storage``: its bytes, which of them are known (a
variable the optimizer kept only in part has bytes nobody can tell), and the
address it lives at when it lives in linear memory.  Types may refer to
themselves (``struct node { struct node *next; }``), and DWARF from an
untrusted module may even make a type contain itself, so every walk over a
type is bounded.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass
from typing import Callable

from interp.syntax.types import ValType
from interp.syntax.values import f32_from_bits
from interp.text.values import format_value

MAX_TYPE_DEPTH = 32
"""Typedefs, qualifiers and nesting followed at most this deep (a cycle in corrupt DWARF ends here)."""
MAX_VALUE_BYTES = 1 << 20
"""The most bytes of one value read or made (DWARF can declare any size)."""
MAX_ELEMENTS = 200
MAX_STRING = 200
POINTER_SIZE = 4

MemoryReader = Callable[[int, int], "bytes | None"]
"""Reads ``length`` bytes at an address of linear memory; None when out of bounds."""


class Encoding(enum.Enum):
    SIGNED = "signed"
    UNSIGNED = "unsigned"
    FLOAT = "float"
    BOOL = "bool"
    SIGNED_CHAR = "signed char"
    UNSIGNED_CHAR = "unsigned char"


class CType:
    """A type: its name as C spells it and its size in bytes."""

    __slots__ = ("name", "size")

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size

    def __str__(self) -> str:
        return _spell(self)

    def byte_size(self) -> int:
        """The size of the type behind typedefs and qualifiers."""
        return self.resolved().size

    def resolved(self) -> CType:
        """The type behind typedefs and qualifiers."""
        current: CType = self
        for _ in range(MAX_TYPE_DEPTH):
            if not isinstance(current, (TypedefType, QualifiedType)) or current.target is None:
                return current
            current = current.target
        return UNKNOWN


class BaseType(CType):
    """An integer, floating-point, boolean or character type.  ``wasm``
    marks wasm's own value types, shown with their type (``i32:5``)."""

    __slots__ = ("encoding", "wasm")

    def __init__(self, name: str, size: int, encoding: Encoding, wasm: bool = False) -> None:
        super().__init__(name, size)
        self.encoding = encoding
        self.wasm = wasm

    @property
    def is_float(self) -> bool:
        return self.encoding is Encoding.FLOAT

    @property
    def is_signed(self) -> bool:
        return self.encoding in (Encoding.SIGNED, Encoding.SIGNED_CHAR)


class VoidType(CType):
    __slots__ = ()


class PointerType(CType):
    """A pointer (``target`` None: to void); ``reference`` for C++ ``&``."""

    __slots__ = ("target", "reference")

    def __init__(self, target: CType | None = None, reference: bool = False) -> None:
        super().__init__("", POINTER_SIZE)
        self.target = target
        self.reference = reference


class Member:
    __slots__ = ("name", "type", "offset", "bit_size", "bit_offset")

    def __init__(self, name: str, type: CType, offset: int, bit_size: int = 0, bit_offset: int = 0) -> None:
        self.name = name
        self.type = type
        self.offset = offset
        self.bit_size = bit_size        # 0: not a bit field
        self.bit_offset = bit_offset    # from the least significant bit of the bytes at ``offset``


class StructType(CType):
    """A struct, union or class; ``members`` are filled in after it is made
    (a member may point back to it)."""

    __slots__ = ("kind", "tag", "members")

    def __init__(self, kind: str, tag: str, size: int) -> None:
        super().__init__(f"{kind} {tag}" if tag else f"{kind} {{...}}", size)
        self.kind = kind
        self.tag = tag
        self.members: list[Member] = []

    def member(self, name: str) -> Member | None:
        for member in self.members:
            if member.name == name:
                return member
        for member in self.members:  # an anonymous struct or union inside
            inner = member.type.resolved()
            if not member.name and isinstance(inner, StructType) and inner is not self:
                found = inner.member(name)
                if found is not None:
                    return Member(found.name, found.type, member.offset + found.offset, found.bit_size,
                                  found.bit_offset)
        return None


class ArrayType(CType):
    """``count`` elements (None: unknown, as in ``extern int table[];``)."""

    __slots__ = ("element", "count")

    def __init__(self, element: CType, count: int | None) -> None:
        super().__init__("", element.byte_size() * count if count is not None else 0)
        self.element = element
        self.count = count


class EnumType(CType):
    __slots__ = ("enumerators", "signed")

    def __init__(self, tag: str, size: int, enumerators: list[tuple[str, int]], signed: bool) -> None:
        super().__init__(f"enum {tag}" if tag else "enum {...}", size)
        self.enumerators = enumerators
        self.signed = signed


class TypedefType(CType):
    __slots__ = ("target",)

    def __init__(self, name: str, target: CType | None) -> None:
        super().__init__(name, 0)
        self.target = target


class QualifiedType(CType):
    """``const``, ``volatile``, ``restrict`` or ``_Atomic`` on ``target``."""

    __slots__ = ("qualifier", "target")

    def __init__(self, qualifier: str, target: CType | None) -> None:
        super().__init__("", 0)
        self.qualifier = qualifier
        self.target = target


class FunctionType(CType):
    __slots__ = ("result", "params")

    def __init__(self, result: CType | None, params: list[CType]) -> None:
        super().__init__("", 0)
        self.result = result
        self.params = params


UNKNOWN = VoidType("<unknown type>", 0)
VOID = VoidType("void", 0)

INT = BaseType("int", 4, Encoding.SIGNED)
UNSIGNED_INT = BaseType("unsigned int", 4, Encoding.UNSIGNED)
LONG_LONG = BaseType("long long", 8, Encoding.SIGNED)
UNSIGNED_LONG_LONG = BaseType("unsigned long long", 8, Encoding.UNSIGNED)
DOUBLE = BaseType("double", 8, Encoding.FLOAT)
FLOAT = BaseType("float", 4, Encoding.FLOAT)
CHAR = BaseType("char", 1, Encoding.SIGNED_CHAR)

WASM_TYPES: dict[ValType, BaseType] = {
    ValType.I32: BaseType("i32", 4, Encoding.SIGNED, wasm=True),
    ValType.I64: BaseType("i64", 8, Encoding.SIGNED, wasm=True),
    ValType.F32: BaseType("f32", 4, Encoding.FLOAT, wasm=True),
    ValType.F64: BaseType("f64", 8, Encoding.FLOAT, wasm=True),
}

BUILTIN_TYPES: dict[str, CType] = {
    **{t.name: t for t in WASM_TYPES.values()},
    "i8": BaseType("i8", 1, Encoding.SIGNED), "u8": BaseType("u8", 1, Encoding.UNSIGNED),
    "i16": BaseType("i16", 2, Encoding.SIGNED), "u16": BaseType("u16", 2, Encoding.UNSIGNED),
    "u32": BaseType("u32", 4, Encoding.UNSIGNED), "u64": BaseType("u64", 8, Encoding.UNSIGNED),
    "char": CHAR, "signed char": BaseType("signed char", 1, Encoding.SIGNED_CHAR),
    "unsigned char": BaseType("unsigned char", 1, Encoding.UNSIGNED_CHAR),
    "short": BaseType("short", 2, Encoding.SIGNED), "unsigned short": BaseType("unsigned short", 2, Encoding.UNSIGNED),
    "int": INT, "unsigned int": UNSIGNED_INT, "unsigned": UNSIGNED_INT,
    "long": BaseType("long", 4, Encoding.SIGNED), "unsigned long": BaseType("unsigned long", 4, Encoding.UNSIGNED),
    "long long": LONG_LONG, "unsigned long long": UNSIGNED_LONG_LONG,
    "float": FLOAT, "double": DOUBLE, "_Bool": BaseType("_Bool", 1, Encoding.BOOL),
    "bool": BaseType("bool", 1, Encoding.BOOL), "void": VOID,
}
"""Types an expression can name without debug information: wasm's value
types, byte-sized views (``u8`` ...) and C's basic types for wasm32."""


def declaration(ctype: CType, name: str) -> str:
    """How C declares ``name`` of type ``ctype``: ``const char *name``, ``int values[3]``."""
    return _spell(ctype, name)


def _spell(ctype: CType | None, inner: str = "", depth: int = 0) -> str:
    """How C writes ``ctype`` around a declarator ``inner`` (``int *``, ``char [4]``, ``int (*)(int)``)."""
    if depth > MAX_TYPE_DEPTH:
        return f"<type nested too deeply>{inner}"
    if ctype is None:
        return f"void{' ' + inner if inner else ''}"
    if isinstance(ctype, PointerType):
        star = "&" if ctype.reference else "*"
        target = ctype.target
        needs_parentheses = isinstance(target, (ArrayType, FunctionType))
        return _spell(target, f"({star}{inner})" if needs_parentheses else f"{star}{inner}", depth + 1)
    if isinstance(ctype, ArrayType):
        count = "" if ctype.count is None else str(ctype.count)
        return _spell(ctype.element, f"{inner} [{count}]" if inner else f"[{count}]", depth + 1)
    if isinstance(ctype, QualifiedType):
        if isinstance(ctype.target, PointerType):
            return _spell(ctype.target, f"{ctype.qualifier} {inner}".rstrip(), depth + 1)
        return f"{ctype.qualifier} " + _spell(ctype.target, inner, depth + 1)
    if isinstance(ctype, FunctionType):
        params = ", ".join(_spell(param, "", depth + 1) for param in ctype.params)
        return _spell(ctype.result, f"{inner}({params})", depth + 1)
    return f"{ctype.name} {inner}" if inner else ctype.name


@dataclass(frozen=True)
class Storage:
    """A value's bytes; ``known[i]`` says whether byte ``i`` is known;
    ``address`` is where it lives in linear memory, if it does."""

    data: bytes
    known: bytes
    address: int | None = None

    @staticmethod
    def of(data: bytes, address: int | None = None) -> Storage:
        return Storage(data, b"\x01" * len(data), address)

    @staticmethod
    def unknown(size: int) -> Storage:
        size = max(0, min(size, MAX_VALUE_BYTES))
        return Storage(bytes(size), bytes(size))

    def part(self, offset: int, size: int) -> Storage:
        size = max(0, min(size, MAX_VALUE_BYTES))
        address = self.address + offset if self.address is not None else None
        data = self.data[offset:offset + size]
        known = self.known[offset:offset + size]
        if len(data) < size:  # past what is there: unknown
            data += bytes(size - len(data))
            known += bytes(size - len(known))
        return Storage(data, known, address)

    @property
    def complete(self) -> bool:
        return all(self.known)


@dataclass(frozen=True)
class Value:
    type: CType
    storage: Storage


class FormatMode(enum.Enum):
    NATURAL = ""
    HEX = "x"
    DECIMAL = "d"
    UNSIGNED = "u"
    OCTAL = "o"
    BINARY = "t"
    CHARACTER = "c"


def scalar(value: Value) -> int | float:
    """The number a scalar value holds (integers, floats, pointers, enums)."""
    ctype = value.type.resolved()
    data = value.storage.data
    if isinstance(ctype, BaseType) and ctype.is_float:
        return _float_of(data, ctype.size)
    signed = (isinstance(ctype, BaseType) and ctype.is_signed) or (isinstance(ctype, EnumType) and ctype.signed)
    return int.from_bytes(data[:max(ctype.size, 1)], "little", signed=signed)


def format_c_value(value: Value, read: MemoryReader, mode: FormatMode = FormatMode.NATURAL) -> str:
    """How ``value`` reads: ``3``, ``119 'w'``, ``0x434 "box"``, ``{x = 1, y = 2}``, ``<optimized out>``."""
    return _format(value.type, value.storage, read, mode, 0)


def _format(ctype: CType, storage: Storage, read: MemoryReader, mode: FormatMode, depth: int) -> str:
    if depth > MAX_TYPE_DEPTH:
        return "{...}"
    resolved = ctype.resolved()
    if isinstance(resolved, StructType):
        fields = []
        for member in resolved.members:
            text = _format_member(member, storage, read, mode, depth)
            fields.append(f"{member.name} = {text}" if member.name else text)
        return "{" + ", ".join(fields) + "}"
    if isinstance(resolved, ArrayType):
        return _format_array(resolved, storage, read, mode, depth)
    if isinstance(resolved, (VoidType, FunctionType)) or resolved.size == 0:
        return "<no value>" if isinstance(resolved, VoidType) else f"<{resolved}>"
    part = storage.part(0, resolved.size)
    if not part.complete:
        return "<optimized out>"
    value = Value(resolved, part)
    number = scalar(value)
    if mode is not FormatMode.NATURAL and not isinstance(number, float):
        return _format_integer(int(number), resolved.size, mode)
    if isinstance(resolved, PointerType):
        return _format_pointer(resolved, int(number), read)
    if isinstance(resolved, EnumType):
        names = [name for name, enumerator in resolved.enumerators if enumerator == number]
        return names[0] if names else str(number)
    if isinstance(resolved, BaseType):
        if resolved.wasm:
            valtype = next(valtype for valtype, base in WASM_TYPES.items() if base is resolved)
            raw = number if isinstance(number, float) else int(number) & ((1 << (8 * resolved.size)) - 1)
            return f"{valtype.text}:{format_value(raw, valtype)}"
        if resolved.encoding is Encoding.BOOL:
            return "true" if number else "false"
        if isinstance(number, float):
            return _format_float(number, resolved.size)
        if resolved.encoding in (Encoding.SIGNED_CHAR, Encoding.UNSIGNED_CHAR) and resolved.size == 1:
            return f"{number} {_char_literal(int(number) & 0xFF)}"
    return str(number)


def _format_member(member: Member, storage: Storage, read: MemoryReader, mode: FormatMode, depth: int) -> str:
    if not member.bit_size:
        return _format(member.type, storage.part(member.offset, member.type.byte_size()), read, mode, depth + 1)
    width = (member.bit_offset + member.bit_size + 7) // 8
    part = storage.part(member.offset, width)
    if not part.complete:
        return "<optimized out>"
    bits = int.from_bytes(part.data, "little") >> member.bit_offset & ((1 << member.bit_size) - 1)
    resolved = member.type.resolved()
    if isinstance(resolved, BaseType) and resolved.is_signed and bits >> (member.bit_size - 1):
        bits -= 1 << member.bit_size
    return _format_integer(bits, resolved.size, mode) if mode is not FormatMode.NATURAL else str(bits)


def _format_array(array: ArrayType, storage: Storage, read: MemoryReader, mode: FormatMode, depth: int) -> str:
    element = array.element.resolved()
    count = array.count if array.count is not None else 0
    if isinstance(element, BaseType) and element.size == 1 and mode is FormatMode.NATURAL and \
            element.encoding in (Encoding.SIGNED_CHAR, Encoding.UNSIGNED_CHAR):
        part = storage.part(0, min(count, MAX_STRING))
        if part.complete:
            text = part.data.split(b"\0", 1)[0]
            return _string_literal(text) + ("..." if count > MAX_STRING and len(text) == MAX_STRING else "")
    size = element.size
    items = [_format(array.element, storage.part(index * size, size), read, mode, depth + 1)
             for index in range(min(count, MAX_ELEMENTS))]
    if count > MAX_ELEMENTS:
        items.append("...")
    return "{" + ", ".join(items) + "}"


def _format_pointer(pointer: PointerType, address: int, read: MemoryReader) -> str:
    text = f"{address:#x}"
    target = pointer.target.resolved() if pointer.target is not None else None
    if address and isinstance(target, BaseType) and target.size == 1 and \
            target.encoding in (Encoding.SIGNED_CHAR, Encoding.UNSIGNED_CHAR):
        data = read(address, 1)
        if data is not None:
            text += " " + _string_literal(read_c_string(address, read))
    return text


def read_c_string(address: int, read: MemoryReader, limit: int = MAX_STRING) -> bytes:
    """The NUL-terminated bytes at ``address`` (at most ``limit``, fewer at the end of memory)."""
    collected = bytearray()
    while len(collected) < limit:
        byte = read(address + len(collected), 1)
        if byte is None or byte == b"\0":
            break
        collected += byte
    return bytes(collected)


def _format_integer(number: int, size: int, mode: FormatMode) -> str:
    bits = 8 * max(size, 1)
    unsigned = number & ((1 << bits) - 1)
    if mode is FormatMode.HEX:
        return f"{unsigned:#x}"
    if mode is FormatMode.OCTAL:
        return f"{unsigned:#o}"
    if mode is FormatMode.BINARY:
        return f"{unsigned:b}"
    if mode is FormatMode.UNSIGNED:
        return str(unsigned)
    if mode is FormatMode.CHARACTER:
        return f"{number} {_char_literal(unsigned & 0xFF)}"
    return str(unsigned - (1 << bits) if unsigned >> (bits - 1) else unsigned)


def _float_of(data: bytes, size: int) -> float:
    if size == 4:
        return f32_from_bits(int.from_bytes(data[:4], "little"))
    if size == 8:
        return struct.unpack("<d", data[:8])[0]
    return math.nan


def _format_float(number: float, size: int) -> str:
    if math.isnan(number):
        return "nan" if math.copysign(1, number) > 0 else "-nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    text = repr(number)
    if size == 4:  # the shortest text that reads back as the same float
        for digits in range(1, 10):
            candidate = f"{number:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(candidate)))[0] == number:
                text = candidate
                break
    return text if any(mark in text for mark in ".en") else text + ".0"


_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r",
            0x5C: "\\\\"}


def _escaped(byte: int, quote: str) -> str:
    if byte in _ESCAPES:
        return _ESCAPES[byte]
    if chr(byte) == quote:
        return "\\" + quote
    if 0x20 <= byte < 0x7F:
        return chr(byte)
    return f"\\{byte:03o}"


def _char_literal(byte: int) -> str:
    return "'" + _escaped(byte, "'") + "'"


def _string_literal(data: bytes) -> str:
    return '"' + "".join(_escaped(byte, '"') for byte in data) + '"'
