"""The text format's modules (spec 6.6): ``parse_module(text) -> Module``.

A module is read in two passes over its fields, because identifiers may be
used before the field that defines them:

1. *declare*: walk the fields, give every function, table, memory, global,
   element and data segment its index (imports first, which the text format
   guarantees by rejecting imports after definitions), bind ``$identifiers``,
   and read the explicit ``(type ...)`` definitions;
2. *define*: parse every field in order with all names known.  Inline function
   types (a type use without ``(type x)``) that match no existing type are
   appended to the type section in this order, after all explicit types, which
   is the spec's rule and what ``wat2wasm`` does.

Where the spec leaves the encoding open, the choices follow ``wat2wasm`` so
that decoding its output gives the same ``Module``: ``data_count`` is set only
when ``memory.init`` or ``data.drop`` occur, a block type use whose type has
no parameters and at most one result becomes the short value-type form, and an
empty ``else`` branch is left out.  (One deliberate difference: ``select
(result)`` with no types stays the typed ``select``, which the spec then
rejects as "invalid result arity"; ``wat2wasm`` writes an untyped one.)
"""

from __future__ import annotations

from dataclasses import dataclass

from interp.errors import FieldKind, ModuleField
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import (
    CustomSection,
    Data,
    Elem,
    Export,
    Expr,
    Func,
    Global,
    Import,
    ImportDesc,
    Instruction,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS_BY_NAME
from interp.syntax.types import (
    I32,
    I64,
    PAGE_SIZE,
    ArrayType,
    CompType,
    DefType,
    ExternKind,
    FieldType,
    FuncType,
    GlobalType,
    HeapKind,
    HeapType,
    Limits,
    MemoryType,
    PackedType,
    StorageType,
    StructType,
    SubType,
    TableType,
    TagType,
    ValType,
    ref_type,
)
from interp.text.instructions import END_INSTRUCTION, ExpressionParser
from interp.text.annotations import BRANCH_HINT, annotated_name, branch_hint_section, custom_section
from interp.text.lexer import ATOM, EOF, ID, LPAR, RPAR, Annotation, TokenReader
from interp.text.positions import TextPositions

_CATEGORY = {
    "type": "type",
    "func": "function",
    "table": "table",
    "memory": "memory",
    "global": "global",
    "elem": "elem segment",
    "data": "data segment",
    "tag": "tag",
}
_EXTERN_KINDS = {
    "func": ExternKind.FUNC,
    "table": ExternKind.TABLE,
    "memory": ExternKind.MEMORY,
    "global": ExternKind.GLOBAL,
    "tag": ExternKind.TAG,
}
_DEFINITIONS = ("func", "table", "memory", "global", "tag")
"""The fields that define an item of an index space, which imports must precede."""
_ADDRESS_TYPES = {"i32": I32, "i64": I64}
_ZERO_OFFSETS = {address: OPS_BY_NAME[f"{address.text}.const"] for address in _ADDRESS_TYPES.values()}
_REF_FUNC = OPS_BY_NAME["ref.func"]
FUNC_INDEX_ELEM_TYPE = ref_type(False, HeapKind.FUNC)
"""The type of an element segment written as function indices (``func $f $g``)."""


def parse_module(text: str, features: frozenset[Feature] = SUPPORTED_FEATURES) -> Module:
    """Parse a module written in the text format (of ``features``), with or
    without the ``(module $name? ...)`` wrapper.  Raises ``TextSyntaxError``."""
    return parse_module_with_positions(text, features)[0]


def parse_module_with_positions(text: str,
                                features: frozenset[Feature] = SUPPORTED_FEATURES) -> tuple[Module, TextPositions]:
    """``parse_module``, and where in ``text`` the module's instructions and
    fields are written."""
    reader = TokenReader.of(text)
    parsed = read_module(reader, features)
    if reader.peek_kind() != EOF:
        raise reader.unexpected()
    return parsed


def read_module(reader: TokenReader,
                features: frozenset[Feature] = SUPPORTED_FEATURES) -> tuple[Module, TextPositions]:
    """Read one module at the reader's position: ``(module $name? field*)``,
    or bare fields up to the end of input or an unmatched ``)``; and where
    its parts are written."""
    wrapped = reader.lpar_keyword() == "module"
    name = None
    if wrapped:
        reader.pos += 2
        name = reader.optional_id()
    parser = _ModuleParser(reader, name, features)
    module = parser.parse_fields()
    if wrapped:
        reader.expect_rpar()
    return module, parser.text_positions()


def read_module_fields(reader: TokenReader, name: str | None,
                       features: frozenset[Feature] = SUPPORTED_FEATURES) -> Module:
    """Read module fields up to the first token that is not ``(`` (the
    caller consumes what follows); ``name`` is the module's ``$id``, if any."""
    return _ModuleParser(reader, name, features).parse_fields()


@dataclass(frozen=True, slots=True)
class TypeUse:
    """A type use as written: ``(type x)?`` then ``(param ...)*`` and
    ``(result ...)*``.  ``position`` is the token index where it starts, for
    error messages."""

    index: int | None
    params: tuple[ValType, ...]
    param_names: tuple[str | None, ...]
    results: tuple[ValType, ...]
    position: int


class ModuleContext:
    """What instruction parsing needs from the module: the index spaces with
    their ``$identifiers``, the type section (which inline function types
    extend), and the features whose syntax applies."""

    def __init__(self, features: frozenset[Feature] = SUPPORTED_FEATURES) -> None:
        self.features = features
        self.ids: dict[str, dict[str, int]] = {space: {} for space in _CATEGORY}
        self.counts: dict[str, int] = dict.fromkeys(_CATEGORY, 0)
        self.types: list[DefType] = []
        self.rec_groups: list[tuple[int, int]] = []
        self.field_ids: dict[int, dict[str, int]] = {}
        """Per type index, its fields' ``$identifiers``."""
        self._first_type_index: dict[FuncType, int] = {}
        self.uses_data_count = False

    # -- index spaces ----------------------------------------------------------

    def bind(self, space: str, name: str | None, reader: TokenReader, position: int) -> int:
        """Allocate the next index of ``space``, named ``name`` if given."""
        index = self.counts[space]
        self.counts[space] = index + 1
        if name is not None:
            ids = self.ids[space]
            if name in ids:
                raise reader.error(f"duplicate {_CATEGORY[space]} {name}", position)
            ids[name] = index
        return index

    def index(self, space: str, reader: TokenReader) -> int:
        """Consume an index into ``space``: a number or a bound ``$id``."""
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ID:
            index = self.ids[space].get(value)  # type: ignore[arg-type]
            if index is None:
                raise reader.error(f"unknown {_CATEGORY[space]} {value}")
            reader.pos += 1
            return index
        return reader.nat32()

    # -- types -----------------------------------------------------------------

    def value_type(self, reader: TokenReader) -> ValType:
        """A value type: a keyword (``i32``, ``anyref`` ...) or ``(ref null? HEAPTYPE)``."""
        if reader.accept_lpar_keyword("ref"):
            nullable = reader.accept_keyword("null")
            heap = self.heap_type(reader)
            reader.expect_rpar()
            return ref_type(nullable, heap)
        word = reader.atom()
        valtype = ValType.from_text(word) if word is not None else None
        if valtype is None:
            raise reader.unexpected()
        reader.pos += 1
        return valtype

    def ref_type(self, reader: TokenReader) -> ValType:
        """A reference type: a shorthand (``funcref``) or ``(ref null? HEAPTYPE)``."""
        position = reader.pos
        valtype = self.value_type(reader)
        if not valtype.is_ref:
            raise reader.unexpected(position)
        return valtype

    def heap_type(self, reader: TokenReader) -> HeapType:
        """An abstract heap type (``func``, ``any`` ...) or a type index."""
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ATOM:
            heap = HeapKind.from_text(value)  # type: ignore[arg-type]
            if heap is not None:
                reader.pos += 1
                return heap
        if kind == ID or (kind == ATOM and "0" <= value[0] <= "9"):  # type: ignore[index]
            return self.index("type", reader)
        raise reader.unexpected()

    def storage_type(self, reader: TokenReader) -> StorageType:
        word = reader.atom()
        packed = PackedType.from_text(word) if word is not None else None
        if packed is not None:
            reader.pos += 1
            return packed
        return self.value_type(reader)

    def field_type(self, reader: TokenReader) -> FieldType:
        """``t`` or ``(mut t)``, ``t`` a value type or a packed type."""
        if reader.accept_lpar_keyword("mut"):
            storage = self.storage_type(reader)
            reader.expect_rpar()
            return FieldType(storage, True)
        return FieldType(self.storage_type(reader), False)

    def value_types(self, reader: TokenReader) -> list[ValType]:
        """Value types up to (and including) the closing ``)``."""
        types = []
        while reader.peek_kind() != RPAR:
            types.append(self.value_type(reader))
        reader.pos += 1
        return types

    def type_use(self, reader: TokenReader, allow_param_names: bool) -> TypeUse:
        position = reader.pos
        index = None
        if reader.accept_lpar_keyword("type"):
            index = self.index("type", reader)
            reader.expect_rpar()
        params: list[ValType] = []
        names: list[str | None] = []
        while reader.accept_lpar_keyword("param"):
            if reader.peek_kind() == ID:
                if not allow_param_names:
                    raise reader.unexpected()
                names.append(reader.optional_id())
                params.append(self.value_type(reader))
                reader.expect_rpar()
            else:
                types = self.value_types(reader)
                params += types
                names += [None] * len(types)
        results: list[ValType] = []
        while reader.accept_lpar_keyword("result"):
            results += self.value_types(reader)
        if reader.lpar_keyword() in ("type", "param"):
            raise reader.unexpected(reader.pos + 1)  # out of order
        return TypeUse(index, tuple(params), tuple(names), tuple(results), position)

    def define_type(self, definition: DefType, alone: bool = True) -> int:
        """Append a type definition; ``alone`` when it is a group of its own
        (outside ``rec``), so that an inline type use of the same function
        type may refer to it."""
        index = len(self.types)
        self.types.append(definition)
        if alone:
            self.define_type_alias(index)
        return index

    def define_type_alias(self, index: int) -> None:
        """Let inline type uses refer to the type at ``index``, which is a
        group of its own, when it is a final function type without
        supertypes (what an inline type use stands for)."""
        definition = self.types[index]
        if isinstance(definition, FuncType):
            self._first_type_index.setdefault(definition, index)
        elif isinstance(definition, SubType) and definition.final and not definition.supertypes \
                and isinstance(definition.comp, FuncType):
            self._first_type_index.setdefault(definition.comp, index)

    def type_at(self, index: int) -> FuncType | None:
        """The function type at ``index``, if it is one."""
        if not 0 <= index < len(self.types):
            return None
        definition = self.types[index]
        comp = definition.comp if isinstance(definition, SubType) else definition
        return comp if isinstance(comp, FuncType) else None

    def field_index(self, type_index: int, reader: TokenReader) -> int:
        """A field of the struct type at ``type_index``: a number or its ``$identifier``."""
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ID:
            index = self.field_ids.get(type_index, {}).get(value)  # type: ignore[arg-type]
            if index is None:
                raise reader.error(f"unknown field {value}")
            reader.pos += 1
            return index
        return reader.nat32()

    def func_type_index(self, use: TypeUse, reader: TokenReader) -> int:
        """The type index a type use denotes; an inline type with no explicit
        index reuses the first equal type or is appended."""
        if use.index is None:
            functype = FuncType(use.params, use.results)
            index = self._first_type_index.get(functype)
            return self.define_type(functype) if index is None else index
        if use.params or use.results:
            functype = self.type_at(use.index)
            if functype is None:
                raise reader.error(f"unknown type {use.index}", use.position)
            if functype != FuncType(use.params, use.results):
                raise reader.error("inline function type does not match explicit type", use.position)
        return use.index

    def block_type(self, use: TypeUse, reader: TokenReader) -> None | ValType | int:
        """A block type: empty, one result type, or a type index."""
        if use.index is None and not use.params and len(use.results) <= 1:
            return use.results[0] if use.results else None
        index = self.func_type_index(use, reader)
        functype = self.type_at(index)
        if functype is not None and not functype.params and len(functype.results) <= 1:
            return functype.results[0] if functype.results else None
        return index


@dataclass(frozen=True, slots=True)
class _Field:
    """A module field found by the declare pass: its keyword, the token index
    of its ``(``, and the index it defines in its space (if any)."""

    keyword: str
    position: int
    index: int
    end: int  # the token index after its ``)``


class _ModuleParser:
    """One module's two passes; see the module docstring."""

    def __init__(self, reader: TokenReader, name: str | None, features: frozenset[Feature]) -> None:
        self.reader = reader
        self.module_name = name[1:] if name is not None else None
        self.features = features
        self.context = ModuleContext(features)
        self.expressions = ExpressionParser(self.context)
        self.names: dict[str, dict[int, str]] = {space: {} for space in _CATEGORY}
        self.local_names: dict[int, dict[int, str]] = {}
        self.imports: list[Import] = []
        self.funcs: list[Func] = []
        self.tables: list[TableType] = []
        self.memories: list[MemoryType] = []
        self.tags: list[TagType] = []
        self.globals: list[Global] = []
        self.exports: list[Export] = []
        self.elems: list[Elem] = []
        self.datas: list[Data] = []
        self.table_inits: list[Expr | None] = []
        self.start: int | None = None
        self.bodies: list[tuple[int, ...]] = []
        self.global_inits: list[tuple[int, ...]] = []
        self.fields: dict[ModuleField, int] = {}
        self.annotations: list[Annotation] = []  # the known ones in this module
        self.read: set[int] = set()  # the ids of those read where they stand
        self.branch_hints: dict[int, Annotation] = {}  # by position
        self.hinted: dict[int, list[tuple[int, int]]] = {}  # function index -> (instruction, hint value)
        self.type_ranges: list[tuple[int, int]] = []  # where the type and rec fields are: (start, end)
        self.type_fields: list[tuple[str, int]] = []
        """``(type ...)`` and ``(rec ...)`` fields by keyword and position, in order."""
        self.field_names: dict[int, dict[int, str]] = {}

    def parse_fields(self) -> Module:
        reader = self.reader
        first = reader.pos
        fields = self._declare()
        end = reader.pos
        if reader.annotations:
            self._find_annotations(first, end)
        handlers = {
            "func": self._func,
            "table": self._table,
            "memory": self._memory,
            "global": self._global,
            "tag": self._tag,
            "import": self._import,
            "export": self._export,
            "start": self._start,
            "elem": self._elem,
            "data": self._data,
        }
        for field in fields:
            reader.pos = field.position + 2
            handlers[field.keyword](field)
            reader.expect_rpar()
        reader.pos = end
        customs = self._read_annotations(first, fields) if self.annotations else ()
        context = self.context
        names = Names(
            module=self.module_name,
            funcs=self.names["func"],
            locals=self.local_names,
            types=self.names["type"],
            tables=self.names["table"],
            memories=self.names["memory"],
            globals=self.names["global"],
            elems=self.names["elem"],
            datas=self.names["data"],
            tags=self.names["tag"],
            fields=self.field_names,
        )
        return Module(
            types=tuple(context.types),
            imports=tuple(self.imports),
            funcs=tuple(self.funcs),
            tables=tuple(self.tables),
            memories=tuple(self.memories),
            tags=tuple(self.tags),
            globals=tuple(self.globals),
            exports=tuple(self.exports),
            start=self.start,
            elems=tuple(self.elems),
            datas=tuple(self.datas),
            data_count=len(self.datas) if context.uses_data_count else None,
            customs=customs,
            names=names,
            rec_groups=tuple(context.rec_groups),
            table_inits=tuple(self.table_inits) if any(init is not None for init in self.table_inits) else (),
        )

    def text_positions(self) -> TextPositions:
        """Where the parsed module's instructions and fields are written."""
        return TextPositions(tuple(self.bodies), tuple(self.global_inits), self.fields)

    def _place(self, kind: FieldKind, index: int, token: int) -> None:
        """Record that the field ``kind`` ``index`` is written at ``token``."""
        self.fields[ModuleField(kind, index)] = self.reader.tokens[token][2]

    def _add_import(self, imported: Import, token: int) -> None:
        self._place(FieldKind.IMPORT, len(self.imports), token)
        self.imports.append(imported)

    # -- annotations ------------------------------------------------------------

    def _find_annotations(self, first: int, end: int) -> None:
        """The known annotations from the module's start (after its name) to
        its end; branch hints by the instruction they precede."""
        reader = self.reader
        self.annotations = [a for a in reader.annotations if first <= a.position <= end]
        for annotation in self.annotations:
            if annotation.name == BRANCH_HINT:
                if annotation.position in self.branch_hints:
                    raise reader.error_at(annotation.offset, f"@{BRANCH_HINT} annotation: duplicate annotation")
                self.branch_hints[annotation.position] = annotation
        names = self._annotations_at(first, "name")
        if len(names) > 1:
            raise reader.error_at(names[1].offset, "@name annotation: multiple module names")
        if names:
            self.module_name = annotated_name(reader, names[0])
            self.read.add(id(names[0]))

    def _annotations_at(self, position: int, name: str) -> list[Annotation]:
        return [a for a in self.annotations if a.position == position and a.name == name]

    def _name_annotation(self, space: str, index: int) -> None:
        """A ``(@name "...")`` here (after an item's ``$id``) names the item."""
        if not self.annotations:
            return
        for annotation in self._annotations_at(self.reader.pos, "name"):
            self.names[space][index] = annotated_name(self.reader, annotation)
            self.read.add(id(annotation))

    def _read_annotations(self, first: int, fields: list[_Field]) -> tuple[CustomSection, ...]:
        """The custom sections of the module's ``@custom`` annotations (and of
        its branch hints); an annotation of another kind left unread, or a
        ``@custom`` one inside a field, is misplaced."""
        reader = self.reader
        customs = []
        for annotation in self.annotations:
            if id(annotation) in self.read:
                continue
            if annotation.name == BRANCH_HINT:
                raise reader.error_at(annotation.offset, f"@{BRANCH_HINT} annotation: not in a function")
            ranges = [(field.position, field.end) for field in fields] + self.type_ranges
            if annotation.name == "name" or any(start < annotation.position < end for start, end in ranges):
                raise reader.error_at(annotation.offset, f"misplaced @{annotation.name} annotation")
            customs.append(custom_section(reader, annotation))
        if self.hinted:
            first_defined = self.context.counts["func"] - len(self.funcs)
            customs.append(branch_hint_section(self.hinted, tuple(self.funcs), first_defined))
        return tuple(customs)

    # -- pass 1: declare -------------------------------------------------------

    def _declare(self) -> list[_Field]:
        reader = self.reader
        tokens = reader.tokens
        fields: list[_Field] = []
        last_definition: str | None = None
        while reader.peek_kind() == LPAR:
            start = reader.pos
            reader.skip_sexpr()
            end = reader.pos
            reader.pos = start
            keyword = reader.lpar_keyword()
            if keyword == "type" or keyword == "rec":
                self._declare_types(keyword, start)
                self.type_ranges.append((start, end))
                reader.pos = end
                continue
            index = -1
            if keyword in _DEFINITIONS:
                reader.pos = start + 2
                name = reader.optional_id()
                while reader.lpar_keyword() == "export":
                    reader.skip_sexpr()
                is_import = reader.lpar_keyword() == "import"
                if is_import and last_definition is not None:
                    raise reader.error(f"import after {_CATEGORY[last_definition]}", reader.pos)
                index = self._bind(keyword, name, start + 2)
                if not is_import:
                    last_definition = keyword
                    self._declare_abbreviated_segment(keyword)
            elif keyword == "import":
                desc = start + 4
                desc_keyword = reader.lpar_keyword(desc) if desc + 2 < end else None
                if desc_keyword in _DEFINITIONS:
                    if last_definition is not None:
                        raise reader.error(f"import after {_CATEGORY[last_definition]}", start)
                    name = tokens[desc + 2][1] if tokens[desc + 2][0] == ID else None
                    index = self._bind(desc_keyword, name, desc + 2)  # type: ignore[arg-type]
            elif keyword in ("elem", "data"):
                name = tokens[start + 2][1] if tokens[start + 2][0] == ID else None
                index = self._bind(keyword, name, start + 2)  # type: ignore[arg-type]
            elif keyword not in ("export", "start"):
                raise reader.unexpected(start + 1)
            fields.append(_Field(keyword, start, index, end))
            reader.pos = end
        end = reader.pos
        for keyword, position in self.type_fields:
            reader.pos = position
            if keyword == "type":
                self._type_definition(alone=True)
            else:
                self._rec_group()
        reader.pos = end
        return fields

    def _bind(self, space: str, name: str | None, position: int) -> int:
        index = self.context.bind(space, name, self.reader, position)
        if name is not None:
            self.names[space][index] = name[1:]
        return index

    def _declare_abbreviated_segment(self, keyword: str) -> None:
        """A table with inline elements or a memory with inline data also
        defines a segment, which takes the next segment index."""
        reader = self.reader
        start = reader.pos
        self._address_type()
        if keyword == "table":
            after = self._after_ref_type(reader.pos)
            if after is not None and reader.lpar_keyword(after) == "elem":
                self._bind("elem", None, reader.pos)
        elif keyword == "memory":
            if reader.lpar_keyword() == "pagesize":
                reader.skip_sexpr()
            if reader.lpar_keyword() == "data":
                self._bind("data", None, reader.pos)
        reader.pos = start

    def _declare_types(self, keyword: str, start: int) -> None:
        """Give the types of a ``(type ...)`` or ``(rec (type ...)*)`` field
        their indices and bind their ``$identifiers``, so that type
        definitions (read after all are declared) may refer to any of them."""
        reader = self.reader
        self.type_fields.append((keyword, start))
        positions = [start]
        if keyword == "rec":
            reader.pos = start + 2
            positions = []
            while reader.lpar_keyword() == "type":
                positions.append(reader.pos)
                reader.skip_sexpr()
            if reader.peek_kind() != RPAR:
                raise reader.unexpected(reader.pos + (reader.peek_kind() == LPAR))
        for position in positions:
            kind, value, _ = reader.tokens[position + 2]
            self._bind("type", value if kind == ID else None, position + 2)  # type: ignore[arg-type]

    def _rec_group(self) -> None:
        """``(rec (type ...)*)``: a recursive group."""
        reader = self.reader
        reader.pos += 2
        first = len(self.context.types)
        while reader.lpar_keyword() == "type":
            self._type_definition(alone=False)
        reader.expect_rpar()
        count = len(self.context.types) - first
        self.context.rec_groups.append((first, count))
        if count == 1:
            self.context.define_type_alias(first)

    def _type_definition(self, alone: bool) -> None:
        """``(type $id? DEFTYPE)``: ``(sub final? $super* COMPTYPE)`` or a bare
        composite type, ``(func ...)``, ``(struct (field ...)*)`` or ``(array FIELDTYPE)``."""
        reader = self.reader
        reader.pos += 2
        reader.optional_id()
        index = len(self.context.types)
        definition: DefType
        if reader.accept_lpar_keyword("sub"):
            final = reader.accept_keyword("final")
            supertypes = []
            while reader.peek_kind() != LPAR:
                supertypes.append(self.context.index("type", reader))
            definition = SubType(self._comp_type(index), final, tuple(supertypes))
            reader.expect_rpar()
        else:
            definition = self._comp_type(index)
        reader.expect_rpar()
        self.context.define_type(definition, alone)

    def _comp_type(self, index: int) -> CompType:
        reader = self.reader
        reader.expect_lpar()
        keyword = reader.atom()
        reader.pos += 1
        comp: CompType
        if keyword == "func":
            use = self.context.type_use(reader, allow_param_names=True)
            if use.index is not None:
                raise reader.unexpected(use.position + 1)
            comp = FuncType(use.params, use.results)
        elif keyword == "struct":
            comp = StructType(self._fields(index))
        elif keyword == "array":
            comp = ArrayType(self.context.field_type(reader))
        else:
            raise reader.unexpected(reader.pos - 1)
        reader.expect_rpar()
        return comp

    def _fields(self, type_index: int) -> tuple[FieldType, ...]:
        """``(field $id FIELDTYPE)`` or ``(field FIELDTYPE*)``, any number."""
        reader = self.reader
        fields: list[FieldType] = []
        names: dict[int, str] = {}
        ids = self.context.field_ids.setdefault(type_index, {})
        while reader.accept_lpar_keyword("field"):
            name_position = reader.pos
            name = reader.optional_id()
            if name is not None:
                if name in ids:
                    raise reader.error(f"duplicate field {name}", name_position)
                ids[name] = len(fields)
                names[len(fields)] = name[1:]
                fields.append(self.context.field_type(reader))
            else:
                while reader.peek_kind() != RPAR:
                    fields.append(self.context.field_type(reader))
            reader.expect_rpar()
        if names:
            self.field_names[type_index] = names
        return tuple(fields)

    # -- pass 2: define --------------------------------------------------------

    def _inline_exports(self, kind: str, index: int) -> None:
        reader = self.reader
        while reader.accept_lpar_keyword("export"):
            self._place(FieldKind.EXPORT, len(self.exports), reader.pos - 1)
            self.exports.append(Export(reader.name(), _EXTERN_KINDS[kind], index))
            reader.expect_rpar()

    def _inline_import(self) -> tuple[str, str] | None:
        reader = self.reader
        if not reader.accept_lpar_keyword("import"):
            return None
        module = reader.name()
        name = reader.name()
        reader.expect_rpar()
        return module, name

    def _func(self, field: _Field) -> None:
        reader = self.reader
        reader.optional_id()
        self._name_annotation("func", field.index)
        self._inline_exports("func", field.index)
        imported = self._inline_import()
        use = self.context.type_use(reader, allow_param_names=True)
        type_index = self.context.func_type_index(use, reader)
        if imported is not None:
            self._add_import(Import(imported[0], imported[1], type_index), field.position + 1)
            return
        local_names: dict[str, int] = {}
        if use.params or use.index is None:
            param_names: tuple[str | None, ...] = use.param_names
        else:
            functype = self.context.type_at(use.index)
            param_names = (None,) * (len(functype.params) if functype is not None else 0)
        readable: dict[int, str] = {}
        for local_index, name in enumerate(param_names):
            self._bind_local(local_names, readable, name, local_index)
        locals_: list[ValType] = []
        next_index = len(param_names)
        while reader.accept_lpar_keyword("local"):
            if reader.peek_kind() == ID:
                name_position = reader.pos
                name = reader.optional_id()
                self._bind_local(local_names, readable, name, next_index, name_position)
                locals_.append(self.context.value_type(reader))
                reader.expect_rpar()
                next_index += 1
            else:
                types = self.context.value_types(reader)
                locals_ += types
                next_index += len(types)
        body = self._expression(local_names, hinted=field.index)
        self.bodies.append(self._positions_of_last_expression())
        self._place(FieldKind.FUNC, len(self.funcs), field.position + 1)
        self.funcs.append(Func(type_index, tuple(locals_), body))
        if readable:
            self.local_names[field.index] = readable

    def _bind_local(self, local_names: dict[str, int], readable: dict[int, str], name: str | None,
                    index: int, position: int | None = None) -> None:
        if name is None:
            return
        if name in local_names:
            raise self.reader.error(f"duplicate local {name}", position)
        local_names[name] = index
        readable[index] = name[1:]

    def _expression(self, local_names: dict[str, int] | None = None, hinted: int | None = None) -> Expr:
        """Instructions up to the closing ``)``, plus the final ``end``; with
        ``hinted`` (a function's index), its branch hints are read too."""
        hints = self.branch_hints if hinted is not None else None
        instructions = self.expressions.parse(self.reader, local_names, hints=hints)
        if hinted is not None and self.expressions.hinted:
            self.hinted[hinted] = self.expressions.hinted
            self.read.update(id(hint) for hint in self.expressions.hints_read)
        instructions.append(END_INSTRUCTION)
        return tuple(instructions)

    def _positions_of_last_expression(self) -> tuple[int, ...]:
        """Where the instructions of the expression ``_expression`` just read
        are written; its final ``end`` is the ``)`` after it."""
        return (*self.expressions.positions, self.reader.tokens[self.reader.pos][2])

    def _folded_expression(self) -> Expr:
        """One folded instruction, the abbreviation for ``(offset ...)`` and
        ``(item ...)``."""
        instructions = self.expressions.parse(self.reader, None, single=True)
        instructions.append(END_INSTRUCTION)
        return tuple(instructions)

    def _address_type(self) -> ValType:
        """The address type of a memory or table: ``i64`` (memory64) or
        ``i32``, which is also the default."""
        reader = self.reader
        if Feature.MEMORY64 in self.features:
            address = _ADDRESS_TYPES.get(reader.atom())  # type: ignore[arg-type]
            if address is not None:
                reader.pos += 1
                return address
        return I32

    def _limits(self) -> Limits:
        """Limits: u32s in WebAssembly 2.0; with memory64 u64s whatever the
        address type, so that too large a limit is a validation error (as
        the spec's grammar has it)."""
        reader = self.reader
        read = reader.nat64 if Feature.MEMORY64 in self.features else reader.nat32
        minimum = read()
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ATOM and "0" <= value[0] <= "9":  # type: ignore[index]
            return Limits(minimum, read())
        return Limits(minimum)

    def _page_size(self) -> int:
        """``(pagesize N)`` (custom-page-sizes), else the default 64 KiB.
        A size that is no power of two is malformed; which powers of two a
        memory may have is a validation rule."""
        reader = self.reader
        if Feature.CUSTOM_PAGE_SIZES not in self.features or not reader.accept_lpar_keyword("pagesize"):
            return PAGE_SIZE
        position = reader.pos
        size = reader.nat64()
        if size == 0 or size & (size - 1):
            raise reader.error("invalid custom page size", position)
        reader.expect_rpar()
        return size

    def _memory_type(self) -> MemoryType:
        address = self._address_type()
        limits = self._limits()
        return MemoryType(limits, address, self._page_size())

    def _table_type(self) -> TableType:
        address = self._address_type()
        limits = self._limits()
        return TableType(limits, self._ref_type(), address)

    def _after_ref_type(self, position: int) -> int | None:
        """Where the reference type at token ``position`` ends, or ``None``
        when none starts there."""
        reader = self.reader
        kind, value, _ = reader.tokens[position]
        if kind == ATOM:
            valtype = ValType.from_text(value)  # type: ignore[arg-type]
            return position + 1 if valtype is not None and valtype.is_ref else None
        if reader.lpar_keyword(position) != "ref":
            return None
        saved = reader.pos
        reader.pos = position
        reader.skip_sexpr()
        after, reader.pos = reader.pos, saved
        return after

    def _ref_type(self) -> ValType:
        return self.context.ref_type(self.reader)

    def _global_type(self) -> GlobalType:
        reader = self.reader
        if reader.accept_lpar_keyword("mut"):
            valtype = self.context.value_type(reader)
            reader.expect_rpar()
            return GlobalType(valtype, True)
        return GlobalType(self.context.value_type(reader), False)

    def _table(self, field: _Field) -> None:
        reader = self.reader
        reader.optional_id()
        self._name_annotation("table", field.index)
        self._inline_exports("table", field.index)
        imported = self._inline_import()
        start = reader.pos
        address = self._address_type()
        if imported is None and self._after_ref_type(reader.pos) is not None:
            elem_type = self._ref_type()
            reader.expect_lpar()
            reader.expect_keyword("elem")
            if reader.peek_kind() == LPAR:
                init = self._element_expressions()
            else:
                init = self._function_elements()
            reader.expect_rpar()
            size = len(init)
            self._place(FieldKind.TABLE, len(self.tables), field.position + 1)
            self.tables.append(TableType(Limits(size, size), elem_type, address))
            self.table_inits.append(None)
            self._place(FieldKind.ELEM, len(self.elems), field.position + 1)
            self.elems.append(Elem(elem_type, init, SegmentMode.ACTIVE, field.index, _zero_offset(address)))
            return
        reader.pos = start
        table_type = self._table_type()
        if imported is not None:
            self._add_import(Import(imported[0], imported[1], table_type), field.position + 1)
        else:
            self._place(FieldKind.TABLE, len(self.tables), field.position + 1)
            self.tables.append(table_type)
            self.table_inits.append(self._expression() if reader.peek_kind() != RPAR else None)

    def _memory(self, field: _Field) -> None:
        reader = self.reader
        reader.optional_id()
        self._name_annotation("memory", field.index)
        self._inline_exports("memory", field.index)
        imported = self._inline_import()
        start = reader.pos
        address = self._address_type()
        page_size = self._page_size()
        if imported is None and reader.accept_lpar_keyword("data"):
            data = reader.strings()
            reader.expect_rpar()
            pages = -(-len(data) // page_size)
            self._place(FieldKind.MEMORY, len(self.memories), field.position + 1)
            self.memories.append(MemoryType(Limits(pages, pages), address, page_size))
            self._place(FieldKind.DATA, len(self.datas), field.position + 1)
            self.datas.append(Data(data, SegmentMode.ACTIVE, field.index, _zero_offset(address)))
            return
        reader.pos = start
        memory_type = self._memory_type()
        if imported is not None:
            self._add_import(Import(imported[0], imported[1], memory_type), field.position + 1)
        else:
            self._place(FieldKind.MEMORY, len(self.memories), field.position + 1)
            self.memories.append(memory_type)

    def _global(self, field: _Field) -> None:
        reader = self.reader
        reader.optional_id()
        self._name_annotation("global", field.index)
        self._inline_exports("global", field.index)
        imported = self._inline_import()
        global_type = self._global_type()
        if imported is not None:
            self._add_import(Import(imported[0], imported[1], global_type), field.position + 1)
        else:
            init = self._expression()
            self.global_inits.append(self._positions_of_last_expression())
            self._place(FieldKind.GLOBAL, len(self.globals), field.position + 1)
            self.globals.append(Global(global_type, init))

    def _tag(self, field: _Field) -> None:
        """``(tag $id? (export ...)* (import ...)? typeuse)``."""
        reader = self.reader
        reader.optional_id()
        self._name_annotation("tag", field.index)
        self._inline_exports("tag", field.index)
        imported = self._inline_import()
        tag_type = TagType(self.context.func_type_index(self.context.type_use(reader, allow_param_names=True), reader))
        if imported is not None:
            self.imports.append(Import(imported[0], imported[1], tag_type))
        else:
            self.tags.append(tag_type)

    def _import(self, field: _Field) -> None:
        reader = self.reader
        module = reader.name()
        name = reader.name()
        reader.expect_lpar()
        keyword = reader.atom()
        if keyword not in _EXTERN_KINDS:
            raise reader.unexpected()
        reader.pos += 1
        reader.optional_id()
        self._name_annotation(keyword, field.index)  # type: ignore[arg-type]
        desc: ImportDesc
        if keyword == "func":
            desc = self.context.func_type_index(self.context.type_use(reader, allow_param_names=True), reader)
        elif keyword == "table":
            desc = self._table_type()
        elif keyword == "memory":
            desc = self._memory_type()
        elif keyword == "tag":
            desc = TagType(self.context.func_type_index(self.context.type_use(reader, allow_param_names=True), reader))
        else:
            desc = self._global_type()
        reader.expect_rpar()
        self._add_import(Import(module, name, desc), field.position + 1)

    def _export(self, field: _Field) -> None:
        reader = self.reader
        name = reader.name()
        reader.expect_lpar()
        keyword = reader.atom()
        if keyword not in _EXTERN_KINDS:
            raise reader.unexpected()
        reader.pos += 1
        index = self.context.index(keyword, reader)  # type: ignore[arg-type]
        reader.expect_rpar()
        self._place(FieldKind.EXPORT, len(self.exports), field.position + 1)
        self.exports.append(Export(name, _EXTERN_KINDS[keyword], index))  # type: ignore[index]

    def _start(self, field: _Field) -> None:
        reader = self.reader
        position = reader.pos - 2
        index = self.context.index("func", reader)
        if self.start is not None:
            raise reader.error("multiple start sections", position)
        self._place(FieldKind.START, 0, field.position + 1)
        self.start = index

    def _offset(self) -> Expr:
        reader = self.reader
        if reader.accept_lpar_keyword("offset"):
            offset = self._expression()
            reader.expect_rpar()
            return offset
        return self._folded_expression()

    def _function_elements(self) -> tuple[Expr, ...]:
        """Function indices, each becoming a ``ref.func`` expression."""
        reader = self.reader
        init = []
        while reader.peek_kind() in (ATOM, ID):
            index = self.context.index("func", reader)
            init.append((Instruction(_REF_FUNC, index), END_INSTRUCTION))
        return tuple(init)

    def _element_expressions(self) -> tuple[Expr, ...]:
        """``(item instr*)`` or single folded expressions."""
        reader = self.reader
        init = []
        while reader.peek_kind() == LPAR:
            if reader.accept_lpar_keyword("item"):
                init.append(self._expression())
                reader.expect_rpar()
            else:
                init.append(self._folded_expression())
        return tuple(init)

    def _element_list(self, allow_bare_indices: bool) -> tuple[ValType, tuple[Expr, ...]]:
        """``func funcidx*`` or ``reftype elemexpr*`` (or, in the oldest
        abbreviation, bare function indices)."""
        reader = self.reader
        if reader.accept_keyword("func"):
            return FUNC_INDEX_ELEM_TYPE, self._function_elements()
        if self._after_ref_type(reader.pos) is not None:
            return self._ref_type(), self._element_expressions()
        if allow_bare_indices:
            return FUNC_INDEX_ELEM_TYPE, self._function_elements()
        raise reader.unexpected()

    def _elem(self, field: _Field) -> None:
        self._place(FieldKind.ELEM, len(self.elems), field.position + 1)
        reader = self.reader
        reader.optional_id()
        if reader.accept_keyword("declare"):
            elem_type, init = self._element_list(allow_bare_indices=False)
            self.elems.append(Elem(elem_type, init, SegmentMode.DECLARATIVE))
            return
        if reader.peek_kind() != LPAR or reader.lpar_keyword() == "ref":
            elem_type, init = self._element_list(allow_bare_indices=False)
            self.elems.append(Elem(elem_type, init, SegmentMode.PASSIVE))
            return
        table = 0
        if reader.accept_lpar_keyword("table"):
            table = self.context.index("table", reader)
            reader.expect_rpar()
        offset = self._offset()
        elem_type, init = self._element_list(allow_bare_indices=True)
        self.elems.append(Elem(elem_type, init, SegmentMode.ACTIVE, table, offset))

    def _data(self, field: _Field) -> None:
        self._place(FieldKind.DATA, len(self.datas), field.position + 1)
        reader = self.reader
        reader.optional_id()
        if reader.peek_kind() != LPAR:
            self.datas.append(Data(reader.strings(), SegmentMode.PASSIVE))
            return
        memory = 0
        if reader.accept_lpar_keyword("memory"):
            memory = self.context.index("memory", reader)
            reader.expect_rpar()
        offset = self._offset()
        self.datas.append(Data(reader.strings(), SegmentMode.ACTIVE, memory, offset))


def _zero_offset(address: ValType) -> Expr:
    """The offset of an inline segment: 0, of its memory's or table's address type."""
    return (Instruction(_ZERO_OFFSETS[address], 0), END_INSTRUCTION)

