"""The abstract module (spec section 2.5): what the binary decoder and the text
parser both produce, and what the validator, the encoder, the printer and the
runtime consume."""

from __future__ import annotations

import enum
from abc import abstractmethod
from dataclasses import dataclass, field
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from interp.syntax.opcodes import Op
from interp.syntax.types import (
    DefType,
    ExternKind,
    GlobalType,
    MemoryType,
    TableType,
    TagType,
    ValType,
)


class Instruction(NamedTuple):
    """One instruction.  ``imm`` has the shape its ``op.imm`` kind documents
    (see ``interp.syntax.opcodes.Imm``); ``offset`` is the byte offset of the
    opcode in the module binary, the one ``wasm-objdump -d`` prints, or -1 when
    the instruction did not come from a binary."""

    op: Op
    imm: Any = None
    offset: int = -1

    def __repr__(self) -> str:
        imm = "" if self.imm is None else f" {self.imm!r}"
        at = f" @{self.offset:#x}" if self.offset >= 0 else ""
        return f"<{self.op.name}{imm}{at}>"


Expr = tuple[Instruction, ...]
"""An instruction sequence; function bodies and constant expressions end with ``end``."""


class CatchKind(enum.Enum):
    """The four catch clauses of ``try_table``; the value is the binary encoding."""

    CATCH = 0
    CATCH_REF = 1
    CATCH_ALL = 2
    CATCH_ALL_REF = 3

    @property
    def text(self) -> str:
        return self.name.lower()

    @property
    def has_tag(self) -> bool:
        return self is CatchKind.CATCH or self is CatchKind.CATCH_REF

    @property
    def with_reference(self) -> bool:
        """Whether the handler also receives the caught exception as an ``exnref``."""
        return self is CatchKind.CATCH_REF or self is CatchKind.CATCH_ALL_REF


class Catch(NamedTuple):
    """One catch clause of ``try_table``: its kind, the tag index it catches
    (``None`` for the ``catch_all`` kinds) and the label it branches to."""

    kind: CatchKind
    tag: int | None
    label: int


ImportDesc = int | TableType | MemoryType | GlobalType | TagType
"""What an import provides: a type index for a function, else the extern type."""


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    name: str
    desc: ImportDesc

    @property
    def kind(self) -> ExternKind:
        if isinstance(self.desc, int):
            return ExternKind.FUNC
        if isinstance(self.desc, TableType):
            return ExternKind.TABLE
        if isinstance(self.desc, MemoryType):
            return ExternKind.MEMORY
        if isinstance(self.desc, TagType):
            return ExternKind.TAG
        return ExternKind.GLOBAL


@dataclass(frozen=True, slots=True)
class Export:
    name: str
    kind: ExternKind
    index: int


@dataclass(frozen=True, slots=True)
class Func:
    """A function defined by the module.  ``locals`` lists the declared locals
    one entry per local (parameters not included); ``offset`` is the byte offset
    of the function's entry in the code section (-1 when not from a binary).
    ``body`` is a tuple, or for a decoded module its bytes, decoded when read
    (``interp.binary.decode.LazyBody``)."""

    type_index: int
    locals: tuple[ValType, ...]
    body: Sequence[Instruction]
    offset: int = -1


@dataclass(frozen=True, slots=True)
class Global:
    type: GlobalType
    init: Expr


class SegmentMode(enum.Enum):
    PASSIVE = "passive"
    ACTIVE = "active"
    DECLARATIVE = "declarative"


@dataclass(frozen=True, slots=True)
class Elem:
    """An element segment.  ``init`` holds one constant expression per element
    (the compact binary forms that list function indices decode to
    ``ref.func`` expressions).  ``table`` and ``offset`` apply to active segments."""

    type: ValType
    init: tuple[Expr, ...]
    mode: SegmentMode
    table: int = 0
    offset: Expr | None = None


@dataclass(frozen=True, slots=True)
class Data:
    init: bytes
    mode: SegmentMode
    memory: int = 0
    offset: Expr | None = None


DataEntry = tuple[SegmentMode, int, bytes, "Expr | int | None", "ValType | None"]
"""One data segment as its consumers read it: ``(mode, memory, init, offset,
address)``.  When ``address`` is ``i32``/``i64`` the offset is the plain
``i32.const``/``i64.const`` expression it names and ``offset`` is that
constant's value; otherwise ``offset`` is the segment's expression (or
``None``)."""


class CompactDatas(Sequence[Data]):
    """The data segments of a module held compactly (the binary decoder's
    ``DataSegments``): reading one makes its ``Data``; ``entries`` reads them
    all without making any, for the consumers that walk every segment
    (validation, instantiation)."""

    __slots__ = ()

    @abstractmethod
    def entries(self) -> Iterator[DataEntry]:
        """Every segment in order, as a ``DataEntry``."""


def data_entries(datas: Sequence[Data]) -> Iterator[DataEntry]:
    """Every segment of ``datas`` as a ``DataEntry``: a compact form's own
    entries, or each ``Data`` with its offset expression as it is."""
    if isinstance(datas, CompactDatas):
        return datas.entries()
    return ((data.mode, data.memory, data.init, data.offset, None) for data in datas)


@dataclass(frozen=True, slots=True)
class CustomSection:
    """A custom section kept verbatim.  ``after`` is the id of the last
    non-custom section before it (0 when it comes first), so an encoder can put
    it back where it was."""

    name: str
    data: bytes
    after: int = 0


@dataclass(frozen=True)
class Names:
    """Names from the ``name`` custom section (or from ``$identifiers`` in the
    text format).  Every map is index -> name; ``locals`` is function index ->
    local index -> name."""

    module: str | None = None
    funcs: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)
    types: dict[int, str] = field(default_factory=dict)
    tables: dict[int, str] = field(default_factory=dict)
    memories: dict[int, str] = field(default_factory=dict)
    globals: dict[int, str] = field(default_factory=dict)
    elems: dict[int, str] = field(default_factory=dict)
    datas: dict[int, str] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    fields: dict[int, dict[int, str]] = field(default_factory=dict)
    """Type index -> field index -> name, for struct types."""


@dataclass(frozen=True)
class Module:
    """A module.  ``types`` is the type index space: one entry per type, a
    composite type or a ``SubType``; ``rec_groups`` lists the explicit
    recursive groups (``rec``) as ``(first type index, count)``, in order
    (a type outside them is a group of its own; an empty group is kept, as
    it encodes).  ``table_inits`` holds, per defined table, the expression
    that initialises its elements, or ``None`` (all null); it may be shorter
    than ``tables``."""

    types: tuple[DefType, ...] = ()
    imports: tuple[Import, ...] = ()
    funcs: tuple[Func, ...] = ()
    tables: tuple[TableType, ...] = ()
    memories: tuple[MemoryType, ...] = ()
    tags: tuple[TagType, ...] = ()
    globals: tuple[Global, ...] = ()
    exports: tuple[Export, ...] = ()
    start: int | None = None
    elems: tuple[Elem, ...] = ()
    datas: Sequence[Data] = ()
    data_count: int | None = None
    customs: tuple[CustomSection, ...] = ()
    names: Names = field(default_factory=Names)
    rec_groups: tuple[tuple[int, int], ...] = ()
    table_inits: tuple[Expr | None, ...] = ()

    def type_groups(self) -> list[tuple[int, int, bool]]:
        """Every recursive group of the type section in order, as ``(first
        type index, count, explicit)``: the ``rec`` groups and a group of its
        own for every other type."""
        groups: list[tuple[int, int, bool]] = []
        position = 0
        for first, count in self.rec_groups:
            groups.extend((index, 1, False) for index in range(position, first))
            groups.append((first, count, True))
            position = first + count
        groups.extend((index, 1, False) for index in range(position, len(self.types)))
        return groups

    def table_init(self, position: int) -> Expr | None:
        """The initialiser of the defined table at ``position`` (imports not counted)."""
        return self.table_inits[position] if position < len(self.table_inits) else None

    def imports_of(self, kind: ExternKind) -> tuple[Import, ...]:
        return tuple(imp for imp in self.imports if imp.kind is kind)

    def func_type_indices(self) -> tuple[int, ...]:
        """The type index of every function in the function index space:
        imported functions first, then defined ones."""
        imported = tuple(imp.desc for imp in self.imports if isinstance(imp.desc, int))
        return imported + tuple(f.type_index for f in self.funcs)

    def table_types(self) -> tuple[TableType, ...]:
        """Every table in the table index space, imports first."""
        imported = tuple(imp.desc for imp in self.imports if isinstance(imp.desc, TableType))
        return imported + self.tables

    def memory_types(self) -> tuple[MemoryType, ...]:
        imported = tuple(imp.desc for imp in self.imports if isinstance(imp.desc, MemoryType))
        return imported + self.memories

    def tag_types(self) -> tuple[TagType, ...]:
        """Every tag in the tag index space, imports first."""
        imported = tuple(imp.desc for imp in self.imports if isinstance(imp.desc, TagType))
        return imported + self.tags

    def global_types(self) -> tuple[GlobalType, ...]:
        imported = tuple(imp.desc for imp in self.imports if isinstance(imp.desc, GlobalType))
        return imported + tuple(g.type for g in self.globals)

    def func_name(self, index: int) -> str | None:
        return self.names.funcs.get(index)
