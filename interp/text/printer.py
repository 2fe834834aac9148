"""Printing modules in the text format: the disassembler behind ``glasswasm dump``.

``print_module`` writes a whole module, flat (one instruction per line,
``end``/``else`` on their own lines, indented by block depth) or folded
(S-expressions whose operand structure comes from the opcode table's
signatures and from call and label types).  Whatever it prints parses back
with ``interp.text.parser.parse_module`` into the same module, up to what the
text format cannot say (byte offsets, custom sections, and the encodings the
parser normalises, see its docstring): that is the contract the tests check
on every module of the testsuite.

``format_instruction`` gives one instruction as text (``local.get 0``,
``call $fib``, ``i32.load offset=4 align=1``); the tracer and the debugger
show instructions with it, so it is kept cheap: instructions without
immediates cost one dictionary lookup, and the identifiers made from a
``Names`` are computed once per ``Names`` object.

Names from the ``name`` section (or the ``$identifiers`` of a text module)
are used only where they are valid text-format identifiers, and made unique
per index space (``$f``, ``$f.1``, ...) so that the output still parses.
Labels are printed as relative depths, which mean the same in both forms.

Nothing here recurses on the input's nesting: block structure and folded
expression trees are built and written with explicit stacks, folded trees are
capped in height, and indentation stops growing past ``MAX_INDENT_LEVELS``, so
a pathological module costs output proportional to its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from interp.binary.encode import instruction_offsets
from interp.binary.names import SECTION_NAME
from interp.binary.reader import ByteReader
from interp.errors import MalformedError, UsageError
from interp.syntax.module import (
    CustomSection,
    Data,
    Elem,
    Expr,
    Func,
    Instruction,
    Module,
    Names,
    SegmentMode,
)
from interp.syntax.opcodes import OPS, OPS_BY_NAME, Imm, MemArg, Op
from interp.syntax.types import (
    PAGE_SIZE,
    CompType,
    DefType,
    ExternKind,
    ExternType,
    FieldType,
    FuncType,
    GlobalType,
    HeapKind,
    HeapType,
    Limits,
    MemoryType,
    PackedType,
    RefType,
    StructType,
    SubType,
    TableType,
    TagType,
    ValType,
    composite,
    ref_type,
)
from interp.syntax.values import signed32, signed64
from interp.text.annotations import BRANCH_HINT, placement_text
from interp.text.lexer import EOF, ID, tokenize
from interp.text.numbers import F32_FORMAT, F64_FORMAT
from interp.text.values import format_float_bits

INDENT = "  "
MAX_INDENT_LEVELS = 64
"""Deeper nesting is printed at this indentation, so that output stays
proportional to the input however deeply blocks nest."""

INLINE_WIDTH = 80
"""A folded expression without blocks is written on one line when it fits."""

MAX_FOLD_HEIGHT = 32
"""An operand tree this tall is not folded into its consumer: deeper trees
would be unreadable (and their indentation quadratic in size)."""

_END = OPS_BY_NAME["end"]
_ELSE = OPS_BY_NAME["else"]
_IF = OPS_BY_NAME["if"]
_LOOP = OPS_BY_NAME["loop"]
_TRY = OPS_BY_NAME["try"]
_CATCH = OPS_BY_NAME["catch"]
_CATCH_ALL = OPS_BY_NAME["catch_all"]
_DELEGATE = OPS_BY_NAME["delegate"]
_REF_FUNC = OPS_BY_NAME["ref.func"]
_OPENS_BLOCK = frozenset(op for op in OPS if op.imm is Imm.BLOCKTYPE or op.imm is Imm.TRY_TABLE)
_BLOCK_PARTS = frozenset({_ELSE, _CATCH, _CATCH_ALL})
_HINTABLE = frozenset({_IF, OPS_BY_NAME["br_if"]})
_TRY_PARTS = frozenset({_CATCH, _CATCH_ALL, _DELEGATE})
_FUNC_INDEX_ELEM_TYPE = ref_type(False, HeapKind.FUNC)

# Section ids of the binary format, for placing custom sections (see
# ``interp.binary.decode``): the printed group each section's content is in.
_GROUP_OF_SECTION = {0: "top", 1: "types", 2: "imports", 3: "funcs", 4: "tables", 5: "memories",
                     13: "tags", 6: "globals", 7: "exports", 8: "start", 9: "elems", 12: "elems", 10: "funcs",
                     11: "datas"}
_SPACE_OF_KIND = {ExternKind.FUNC: "funcs", ExternKind.TABLE: "tables", ExternKind.MEMORY: "memories",
                  ExternKind.GLOBAL: "globals", ExternKind.TAG: "tags"}
_GROUPS = ("top", "types", "imports", "funcs", "tables", "memories", "tags", "globals", "exports", "start",
           "elems", "datas")


# -- identifiers -----------------------------------------------------------------------------


def identifier_text(name: str) -> str | None:
    """How a name is written as an identifier: ``$name``, or quoted
    (``$"a name"``) when it is no plain one; ``None`` for the empty name or
    one that is not Unicode text."""
    if is_identifier(name):
        return "$" + name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return "$" + name_literal(name) if name else None



def is_identifier(name: str) -> bool:
    """Whether ``$name`` is one text-format identifier (the lexer decides)."""
    if not name:
        return False
    try:
        tokens = tokenize("$" + name)
    except MalformedError:
        return False
    return len(tokens) == 2 and tokens[0][0] == ID and tokens[0][1] == "$" + name and tokens[1][0] == EOF


@dataclass(frozen=True, slots=True)
class _Identifiers:
    """``$identifiers`` to print, per index space: index -> ``"$name"`` (or
    ``$"name"``), unique ones.  ``locals`` is function index -> local
    index -> ``"$name"``."""

    module: str | None
    funcs: dict[int, str]
    locals: dict[int, dict[int, str]]
    types: dict[int, str]
    tables: dict[int, str]
    memories: dict[int, str]
    globals: dict[int, str]
    elems: dict[int, str]
    datas: dict[int, str]
    tags: dict[int, str]
    fields: dict[int, dict[int, str]]
    """Type index -> field index -> ``"$name"``."""


_SPACES = ("funcs", "types", "tables", "memories", "globals", "elems", "datas", "tags")


def _unique_identifiers(names: dict[int, str], count: int | None) -> dict[int, str]:
    """The names of ``names`` (indices below ``count`` when given), as
    identifiers, quoted where they are no plain ones; a name already taken by
    a lower index gets a suffix."""
    result: dict[int, str] = {}
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for index in sorted(names):
        if count is not None and not 0 <= index < count:
            continue
        name = names[index]
        if not isinstance(name, str) or identifier_text(name) is None:
            continue
        candidate = name
        while candidate in taken:
            suffix = next_suffix.get(name, 1)
            next_suffix[name] = suffix + 1
            candidate = f"{name}.{suffix}"
        taken.add(candidate)
        result[index] = identifier_text(candidate)  # type: ignore[assignment]
    return result


def _identifiers(names: Names, counts: dict[str, int] | None = None,
                 local_counts: dict[int, int] | None = None) -> _Identifiers:
    """Identifiers for ``names``; with ``counts`` (per space) and
    ``local_counts`` (per defined function), only for items that exist."""
    spaces = {space: _unique_identifiers(getattr(names, space), None if counts is None else counts[space])
              for space in _SPACES}
    locals_: dict[int, dict[int, str]] = {}
    for func_index in sorted(names.locals):
        if local_counts is not None and func_index not in local_counts:
            continue
        count = None if local_counts is None else local_counts[func_index]
        ids = _unique_identifiers(names.locals[func_index], count)
        if ids:
            locals_[func_index] = ids
    fields: dict[int, dict[int, str]] = {}
    for type_index in sorted(names.fields):
        if counts is not None and not 0 <= type_index < counts["types"]:
            continue
        ids = _unique_identifiers(names.fields[type_index], None)
        if ids:
            fields[type_index] = ids
    module = identifier_text(names.module) if names.module is not None else None
    return _Identifiers(module, locals=locals_, fields=fields, **spaces)


_NO_IDENTIFIERS = _identifiers(Names())
"""No names: types written as what they are (messages about closed types)."""


class _Scope(NamedTuple):
    """What instruction formatting needs to know around an instruction: the
    module's identifiers, the current function's local identifiers, and the
    type section (to spell out type uses), when known."""

    ids: _Identifiers
    locals: dict[int, str]
    types: tuple[FuncType, ...] | None


_NO_SCOPE = _Scope(_NO_IDENTIFIERS, {}, None)


class _ScopeCache:
    """The scope of the last ``Names`` given to ``format_instruction``, per
    function: a tracer formats many instructions of the same module."""

    def __init__(self) -> None:
        self.names: Names | None = None
        self.ids = _NO_IDENTIFIERS
        self.scopes: dict[int | None, _Scope] = {}

    def scope(self, names: Names, func_index: int | None) -> _Scope:
        if names is not self.names:
            self.ids = _identifiers(names)
            self.names = names
            self.scopes = {}
        scope = self.scopes.get(func_index)
        if scope is None:
            local_ids = self.ids.locals.get(func_index, {}) if func_index is not None else {}
            scope = self.scopes[func_index] = _Scope(self.ids, local_ids, None)
        return scope


_SCOPE_CACHE = _ScopeCache()


# -- values and strings ------------------------------------------------------------------------


def _byte_text(byte: int) -> str:
    if byte == 0x22:
        return '\\"'
    if byte == 0x5C:
        return "\\\\"
    if 0x20 <= byte < 0x7F:
        return chr(byte)
    return f"\\{byte:02x}"


_BYTE_TEXT = {byte: _byte_text(byte) for byte in range(256)}


def format_string(data: bytes) -> str:
    """A string literal for ``data``: printable ASCII as is, ``\\\\`` and
    ``\\"`` escaped, every other byte as ``\\hh``."""
    return '"' + data.decode("latin-1").translate(_BYTE_TEXT) + '"'


def name_literal(name: str) -> str:
    """A string literal for a name: its characters as they are, but for
    ``"``, ``\\`` and control characters (escaped)."""
    return '"' + name.translate(_NAME_ESCAPES) + '"'


_NAME_ESCAPES = {code: _byte_text(code) for code in (*range(0x20), 0x22, 0x5C, 0x7F)}


def _name_string(name: str) -> str:
    return format_string(name.encode("utf-8", "surrogatepass"))


def _heap_text(heap: HeapType, ids: _Identifiers) -> str:
    """An abstract heap type's keyword, or a type index as ``$name`` or the number."""
    if heap.__class__ is HeapKind:
        return heap.text
    return str(ids.types.get(heap, heap))


def _valtype_text(valtype: ValType | PackedType, ids: _Identifiers) -> str:
    """A value (or packed) type, with the names of the types it refers to."""
    if valtype.__class__ is RefType and not valtype.heap.__class__ is HeapKind:  # type: ignore[union-attr]
        return f"(ref {'null ' if valtype.nullable else ''}{_heap_text(valtype.heap, ids)})"  # type: ignore[union-attr]
    return valtype.text


def _types_text(keyword: str, types: tuple[ValType, ...], ids: _Identifiers) -> str:
    return f" ({keyword} {' '.join(_valtype_text(t, ids) for t in types)})" if types else ""


def _signature_text(functype: FuncType, ids: _Identifiers) -> str:
    return _types_text("param", functype.params, ids) + _types_text("result", functype.results, ids)


def _type_use(index: int, scope: _Scope) -> str:
    """``(type $t)`` or ``(type N)``, plus the type's parameters and results
    when the type section is known (the parser checks they agree)."""
    text = f"(type {scope.ids.types.get(index, index)})"
    types = scope.types
    if types is not None and 0 <= index < len(types):
        comp = composite(types[index])
        if isinstance(comp, FuncType):
            text += _signature_text(comp, scope.ids)
    return text


def _limits_text(limits: Limits) -> str:
    return f"{limits.min}" if limits.max is None else f"{limits.min} {limits.max}"


def _table_type_text(table: TableType, ids: _Identifiers) -> str:
    """``i64 1 10 funcref``: the address type when it is not i32, the limits, the element type."""
    return f"{_address_text(table.address)}{_limits_text(table.limits)} {_valtype_text(table.elem, ids)}"


def _memory_type_text(memory: MemoryType) -> str:
    """``i64 1 2 (pagesize 1)``: the address type when it is not i32, the
    limits, the page size when it is not 64 KiB."""
    page_size = "" if memory.page_size == PAGE_SIZE else f" (pagesize {memory.page_size})"
    return f"{_address_text(memory.address)}{_limits_text(memory.limits)}{page_size}"


def _address_text(address: ValType) -> str:
    return "i64 " if address is ValType.I64 else ""


def _global_type_text(global_type: GlobalType, ids: _Identifiers) -> str:
    text = _valtype_text(global_type.valtype, ids)
    return f"(mut {text})" if global_type.mutable else text


def _field_text(field: FieldType, ids: _Identifiers) -> str:
    text = _valtype_text(field.storage, ids)
    return f"(mut {text})" if field.mutable else text


def _comp_text(comp: CompType, type_index: int, ids: _Identifiers) -> str:
    if isinstance(comp, FuncType):
        return f"(func{_signature_text(comp, ids)})"
    if isinstance(comp, StructType):
        names = ids.fields.get(type_index, {})
        fields = []
        for position, field in enumerate(comp.fields):
            name = names.get(position)
            fields.append(f" (field{' ' + name if name else ''} {_field_text(field, ids)})")
        return "(struct" + "".join(fields) + ")"
    return f"(array {_field_text(comp.field, ids)})"


def _def_type_text(definition: DefType, type_index: int, ids: _Identifiers) -> str:
    if isinstance(definition, SubType):
        supertypes = "".join(f" {ids.types.get(index, index)}" for index in definition.supertypes)
        return (f"(sub{' final' if definition.final else ''}{supertypes} "
                f"{_comp_text(definition.comp, type_index, ids)})")
    return _comp_text(definition, type_index, ids)


def _extern_type_words(extern: ExternType, ids: _Identifiers) -> tuple[str, str]:
    """The keyword of an import's description and what follows it (after a
    space), as ``format_extern_type`` writes them."""
    if isinstance(extern, FuncType):
        return "func", _signature_text(extern, ids)
    if isinstance(extern, TableType):
        return "table", f" {_table_type_text(extern, ids)}"
    if isinstance(extern, MemoryType):
        return "memory", f" {_memory_type_text(extern)}"
    return "global", f" {_global_type_text(extern, ids)}"


def format_tag_type(func_type: FuncType) -> str:
    """A tag as an import describes it, by its function type: ``(tag (param i32))``."""
    return f"(tag{_signature_text(func_type, _NO_IDENTIFIERS)})"


def format_extern_type(extern: ExternType) -> str:
    """An extern type as an import describes it in the text format:
    ``(func (param i32))``, ``(table 1 10 funcref)``, ``(memory 1)``,
    ``(global (mut i32))``."""
    keyword, rest = _extern_type_words(extern, _NO_IDENTIFIERS)
    return f"({keyword}{rest})"


# -- instructions ------------------------------------------------------------------------------


def _memarg_text(op: Op, memarg: MemArg, scope: _Scope) -> str:
    """`` $mem offset=N align=N``, each part only when it is not the default
    (memory 0, offset 0, natural alignment)."""
    alignment, offset, memory = memarg
    text = f" {scope.ids.memories.get(memory, memory)}" if memory else ""
    if offset:
        text += f" offset={offset}"
    if alignment != op.natural_alignment:
        text += f" align={1 << alignment}"
    return text


def _v128_text(value: int) -> str:
    lanes = " ".join(f"0x{(value >> (32 * lane)) & 0xFFFF_FFFF:08x}" for lane in range(4))
    return f"i32x4 {lanes}"


_Formatter = Callable[[Op, Any, _Scope], str]


def _blocktype_text(op: Op, imm: Any, scope: _Scope) -> str:
    if imm is None:
        return op.name
    if isinstance(imm, ValType):
        return f"{op.name} (result {_valtype_text(imm, scope.ids)})"
    return f"{op.name} {_type_use(imm, scope)}"


def _try_table_text(op: Op, imm: Any, scope: _Scope) -> str:
    """``try_table (result i32) (catch $e 0) (catch_all_ref 1)``: labels stay depths."""
    blocktype, catches = imm
    clauses = "".join(
        f" ({catch.kind.text} {scope.ids.tags.get(catch.tag, catch.tag)} {catch.label})" if catch.kind.has_tag
        else f" ({catch.kind.text} {catch.label})" for catch in catches)
    return _blocktype_text(op, blocktype, scope) + clauses


def _type_index_text(scope: _Scope, index: int) -> str:
    return str(scope.ids.types.get(index, index))


def _field_access_text(op: Op, imm: Any, scope: _Scope) -> str:
    type_index, field = imm
    return f"{op.name} {_type_index_text(scope, type_index)} {scope.ids.fields.get(type_index, {}).get(field, field)}"


def _br_on_cast_text(op: Op, imm: Any, scope: _Scope) -> str:
    label, source, target = imm
    return f"{op.name} {label} {_valtype_text(source, scope.ids)} {_valtype_text(target, scope.ids)}"


def _call_indirect_text(op: Op, imm: Any, scope: _Scope) -> str:
    type_index, table = imm
    table_text = f" {scope.ids.tables.get(table, table)}" if table else ""
    return f"{op.name}{table_text} {_type_use(type_index, scope)}"


def _index_pair_text(first: str, second: str) -> _Formatter:
    """Two indices, of the spaces named (a ``_Identifiers`` field each)."""

    def text(op: Op, imm: Any, scope: _Scope) -> str:
        a, b = imm
        return f"{op.name} {getattr(scope.ids, first).get(a, a)} {getattr(scope.ids, second).get(b, b)}"

    return text


def _index_text(space: str) -> _Formatter:
    def text(op: Op, imm: Any, scope: _Scope) -> str:
        return f"{op.name} {getattr(scope.ids, space).get(imm, imm)}"

    return text


def _memory_text(op: Op, imm: Any, scope: _Scope) -> str:
    return f"{op.name} {scope.ids.memories.get(imm, imm)}" if imm else op.name


def _memory_init_text(op: Op, imm: Any, scope: _Scope) -> str:
    data, memory = imm
    data_text = scope.ids.datas.get(data, data)
    if memory:
        return f"{op.name} {scope.ids.memories.get(memory, memory)} {data_text}"
    return f"{op.name} {data_text}"


_memory_pair_text = _index_pair_text("memories", "memories")


def _memory_copy_text(op: Op, imm: Any, scope: _Scope) -> str:
    return op.name if imm == (0, 0) else _memory_pair_text(op, imm, scope)


def _table_init_text(op: Op, imm: Any, scope: _Scope) -> str:
    elem, table = imm
    return f"{op.name} {scope.ids.tables.get(table, table)} {scope.ids.elems.get(elem, elem)}"


_FORMATTERS: dict[Imm, _Formatter] = {
    Imm.NONE: lambda op, imm, scope: op.name,
    Imm.BLOCKTYPE: _blocktype_text,
    Imm.LABEL: lambda op, imm, scope: f"{op.name} {imm}",
    Imm.BR_TABLE: lambda op, imm, scope: f"{op.name} {' '.join(map(str, (*imm[0], imm[1])))}",
    Imm.FUNC: _index_text("funcs"),
    Imm.CALL_INDIRECT: _call_indirect_text,
    Imm.LOCAL: lambda op, imm, scope: f"{op.name} {scope.locals.get(imm, imm)}",
    Imm.GLOBAL: _index_text("globals"),
    Imm.TABLE: _index_text("tables"),
    Imm.ELEM: _index_text("elems"),
    Imm.DATA: _index_text("datas"),
    Imm.TABLE_INIT: _table_init_text,
    Imm.TABLE_COPY: _index_pair_text("tables", "tables"),
    Imm.MEMARG: lambda op, imm, scope: op.name + _memarg_text(op, imm, scope),
    Imm.MEMORY: _memory_text,
    Imm.MEMORY_INIT: _memory_init_text,
    Imm.MEMORY_COPY: _memory_copy_text,
    Imm.I32: lambda op, imm, scope: f"{op.name} {signed32(imm)}",
    Imm.I64: lambda op, imm, scope: f"{op.name} {signed64(imm)}",
    Imm.F32: lambda op, imm, scope: f"{op.name} {format_float_bits(imm, F32_FORMAT)}",
    Imm.F64: lambda op, imm, scope: f"{op.name} {format_float_bits(imm, F64_FORMAT)}",
    Imm.V128: lambda op, imm, scope: f"{op.name} {_v128_text(imm)}",
    Imm.HEAPTYPE: lambda op, imm, scope: f"{op.name} {_heap_text(imm, scope.ids)}",
    Imm.TYPE: lambda op, imm, scope: f"{op.name} {_type_index_text(scope, imm)}",
    Imm.FIELD: _field_access_text,
    Imm.ARRAY_FIXED: lambda op, imm, scope: f"{op.name} {_type_index_text(scope, imm[0])} {imm[1]}",
    Imm.ARRAY_DATA: lambda op, imm, scope: f"{op.name} {_type_index_text(scope, imm[0])} "
                                           f"{scope.ids.datas.get(imm[1], imm[1])}",
    Imm.ARRAY_ELEM: lambda op, imm, scope: f"{op.name} {_type_index_text(scope, imm[0])} "
                                           f"{scope.ids.elems.get(imm[1], imm[1])}",
    Imm.ARRAY_COPY: lambda op, imm, scope: f"{op.name} {_type_index_text(scope, imm[0])} "
                                           f"{_type_index_text(scope, imm[1])}",
    Imm.CAST: lambda op, imm, scope: f"{op.name} {_valtype_text(imm, scope.ids)}",
    Imm.CAST_NULL: lambda op, imm, scope: f"{op.name} {_valtype_text(imm, scope.ids)}",
    Imm.BR_ON_CAST: _br_on_cast_text,
    Imm.SELECT_TYPES: lambda op, imm, scope: f"{op.name} (result{''.join(' ' + _valtype_text(t, scope.ids) for t in imm)})",
    Imm.LANE: lambda op, imm, scope: f"{op.name} {imm}",
    Imm.SHUFFLE: lambda op, imm, scope: f"{op.name} {' '.join(map(str, imm))}",
    Imm.MEMARG_LANE: lambda op, imm, scope: f"{op.name}{_memarg_text(op, imm[0], scope)} {imm[1]}",
    Imm.TAG: _index_text("tags"),
    Imm.TYPE: _index_text("types"),
    Imm.TRY_TABLE: _try_table_text,
}

# The formatter of every op, by ``op.id``, and the whole text of the ops
# without immediates.
_FORMATTER_BY_OP: list[_Formatter] = [_FORMATTERS[op.imm] for op in OPS]
_BARE_TEXT: dict[Op, str] = {op: op.name for op in OPS if op.imm is Imm.NONE}


def format_instruction(instr: Instruction, names: Names | None = None, *,
                       func_index: int | None = None) -> str:
    """One instruction as text, as it would appear in a flat function body:
    ``local.get 0``, ``i32.const -1``, ``call $fib``, ``br_table 0 1 2``,
    ``i32.load offset=4 align=1``, ``memory.init 1``.

    With ``names``, functions, globals, tables, types, segments (and, given
    ``func_index``, the locals of that function) are written as
    ``$identifiers`` where the name is a valid one; labels stay relative
    depths."""
    bare = _BARE_TEXT.get(instr.op)
    if bare is not None:
        return bare
    scope = _NO_SCOPE if names is None else _SCOPE_CACHE.scope(names, func_index)
    return _FORMATTER_BY_OP[instr.op.id](instr.op, instr.imm, scope)


# -- stack effects, for folding ----------------------------------------------------------------

_Effect = tuple[int | None, int | None]
"""(values popped, values pushed) of an instruction; ``None`` when unknown
or, for pushed values, when the stack is polymorphic afterwards."""

_FIXED_EFFECT: list[_Effect | None] = [
    (len(op.params), len(op.results)) if op.params is not None and op.results is not None else None
    for op in OPS
]


class _Frame:
    """An open block while folding: the nodes of its body so far (and of its
    ``else`` branch), and what a branch to its label carries."""

    __slots__ = ("instr", "text", "label_arity", "pushes", "condition", "items", "then_items", "else_instr",
                 "sections")

    def __init__(self, instr: Instruction | None, text: str, label_arity: int | None, pushes: int | None,
                 condition: list[_Node]) -> None:
        self.instr = instr
        self.text = text
        self.sections: list[tuple[Instruction, str, list[_Node]]] = []  # a legacy try's catch clauses
        self.label_arity = label_arity
        self.pushes = pushes
        self.condition = condition
        self.items: list[_Node] = []
        self.then_items: list[_Node] | None = None
        self.else_instr: Instruction | None = None


def _label_arity(frames: list[_Frame], depth: int) -> int | None:
    return frames[-1 - depth].label_arity if 0 <= depth < len(frames) else None


def _branch_if_effect(arity: int | None) -> _Effect:
    return (None, None) if arity is None else (arity + 1, arity)


def _branch_effect(arity: int | None) -> _Effect:
    return (None, None) if arity is None else (arity, None)


def _table_branch_effect(arity: int | None) -> _Effect:
    return (None, None) if arity is None else (arity + 1, None)


def _tail(effect: _Effect) -> _Effect:
    """A call's effect made that of an instruction after which the stack is
    polymorphic (a tail call, a throw)."""
    return effect[0], None


def _reference_branch_effect(arity: int | None, popped: int, pushed: int) -> _Effect:
    """``br_on_null`` and the like: a label's values plus ``popped`` more
    in, ``pushed`` more back when the branch is not taken."""
    return (None, None) if arity is None or arity + pushed < 0 else (arity + popped, arity + pushed)


_ContextEffect = Callable[["_FoldedBuilder", Any, list[_Frame]], _Effect]

_CONTEXT_EFFECTS: dict[str, _ContextEffect] = {
    # The instructions whose signature the opcode table leaves open (block
    # structure aside): their stack effect depends on immediates or context.
    "unreachable": lambda b, imm, frames: (0, None),
    "br": lambda b, imm, frames: _branch_effect(_label_arity(frames, imm)),
    "br_if": lambda b, imm, frames: _branch_if_effect(_label_arity(frames, imm)),
    "br_table": lambda b, imm, frames: _table_branch_effect(_label_arity(frames, imm[1])),
    "return": lambda b, imm, frames: _branch_effect(frames[0].label_arity),
    "br_on_null": lambda b, imm, frames: _reference_branch_effect(_label_arity(frames, imm), 1, 1),
    "br_on_non_null": lambda b, imm, frames: _reference_branch_effect(_label_arity(frames, imm), 0, -1),
    "br_on_cast": lambda b, imm, frames: _reference_branch_effect(_label_arity(frames, imm[0]), 0, 0),
    "br_on_cast_fail": lambda b, imm, frames: _reference_branch_effect(_label_arity(frames, imm[0]), 0, 0),
    "call": lambda b, imm, frames: b.call_effect(b.func_type(imm), 0),
    "call_indirect": lambda b, imm, frames: b.call_effect(b.type_at(imm[0]), 1),
    "return_call": lambda b, imm, frames: _tail(b.call_effect(b.func_type(imm), 0)),
    "return_call_indirect": lambda b, imm, frames: _tail(b.call_effect(b.type_at(imm[0]), 1)),
    "return_call_ref": lambda b, imm, frames: _tail(b.call_effect(b.type_at(imm), 1)),
    "throw": lambda b, imm, frames: _tail(b.call_effect(b.tag_type(imm), 0)),
    "throw_ref": lambda b, imm, frames: (1, None),
    "rethrow": lambda b, imm, frames: (0, None),
    "call_ref": lambda b, imm, frames: b.call_effect(b.type_at(imm), 1),
    "ref.null": lambda b, imm, frames: (0, 1),
    "ref.is_null": lambda b, imm, frames: (1, 1),
    "ref.func": lambda b, imm, frames: (0, 1),
    "ref.as_non_null": lambda b, imm, frames: (1, 1),
    "ref.test": lambda b, imm, frames: (1, 1),
    "ref.cast": lambda b, imm, frames: (1, 1),
    "any.convert_extern": lambda b, imm, frames: (1, 1),
    "extern.convert_any": lambda b, imm, frames: (1, 1),
    "struct.new": lambda b, imm, frames: b.struct_effect(imm),
    "struct.new_default": lambda b, imm, frames: (0, 1),
    "struct.get": lambda b, imm, frames: (1, 1),
    "struct.get_s": lambda b, imm, frames: (1, 1),
    "struct.get_u": lambda b, imm, frames: (1, 1),
    "struct.set": lambda b, imm, frames: (2, 0),
    "array.new": lambda b, imm, frames: (2, 1),
    "array.new_default": lambda b, imm, frames: (1, 1),
    "array.new_fixed": lambda b, imm, frames: (imm[1], 1),
    "array.new_data": lambda b, imm, frames: (2, 1),
    "array.new_elem": lambda b, imm, frames: (2, 1),
    "array.get": lambda b, imm, frames: (2, 1),
    "array.get_s": lambda b, imm, frames: (2, 1),
    "array.get_u": lambda b, imm, frames: (2, 1),
    "array.set": lambda b, imm, frames: (3, 0),
    "array.fill": lambda b, imm, frames: (4, 0),
    "array.copy": lambda b, imm, frames: (5, 0),
    "array.init_data": lambda b, imm, frames: (4, 0),
    "array.init_elem": lambda b, imm, frames: (4, 0),
    "drop": lambda b, imm, frames: (1, 0),
    "select": lambda b, imm, frames: (3, 1 if imm is None else len(imm)),
    "local.get": lambda b, imm, frames: (0, 1),
    "local.set": lambda b, imm, frames: (1, 0),
    "local.tee": lambda b, imm, frames: (1, 1),
    "global.get": lambda b, imm, frames: (0, 1),
    "global.set": lambda b, imm, frames: (1, 0),
    "table.get": lambda b, imm, frames: (1, 1),
    "table.set": lambda b, imm, frames: (2, 0),
    "table.grow": lambda b, imm, frames: (2, 1),
    "table.fill": lambda b, imm, frames: (3, 0),
}
_CONTEXT_EFFECT_BY_OP: list[_ContextEffect | None] = [_CONTEXT_EFFECTS.get(op.name) for op in OPS]
STRUCTURED_OPS = _OPENS_BLOCK | _TRY_PARTS | {_ELSE, _END}
"""Block structure, folded as blocks rather than by stack effect."""


# -- folded expression trees -------------------------------------------------------------------


class _Node:
    """A folded item of a body.

    A plain node is one instruction with its operand subtrees (``children``,
    in execution order); it is ``bare`` when it consumes values it could not
    take as children, and is then written without parentheses.  A block node
    (``kind`` "block" or "if") carries its body items; an ``if`` also its
    condition subtrees and else branch.  ``pushes`` is the number of values
    a closed node leaves (``None`` when unknown or not closed), ``height``
    the tree height, ``inline`` its one-line text when it has one."""

    __slots__ = ("instr", "text", "kind", "children", "bare", "pushes", "height", "inline",
                 "items", "else_instr", "else_items", "sections", "delegate")

    def __init__(self, instr: Instruction, text: str, kind: str, children: list[_Node], bare: bool,
                 pushes: int | None, height: int, inline: str | None) -> None:
        self.instr = instr
        self.text = text
        self.kind = kind
        self.children = children
        self.bare = bare
        self.pushes = pushes
        self.height = height
        self.inline = inline
        self.items: list[_Node] = []
        self.else_instr: Instruction | None = None
        self.else_items: list[_Node] | None = None
        self.sections: list[tuple[Instruction, str, list[_Node]]] = []  # a legacy try's catch clauses
        self.delegate: tuple[Instruction, str] | None = None  # a legacy try's delegate


def _foldable(items: list[_Node], count: int) -> bool:
    """Whether the last ``count`` items are closed trees of one value each,
    low enough to become operands."""
    for position in range(len(items) - count, len(items)):
        item = items[position]
        if item.pushes != 1 or item.height >= MAX_FOLD_HEIGHT:
            return False
    return True


class _FoldedBuilder:
    """Turns a flat instruction sequence into folded nodes, one pass, with
    an explicit stack of open blocks."""

    def __init__(self, types: tuple[DefType, ...], func_types: tuple[int, ...], inline: bool,
                 tag_types: tuple[int, ...] = ()) -> None:
        self.types = types
        self.func_types = func_types
        self.tag_types = tag_types
        self.inline = inline
        self.scope = _NO_SCOPE

    def type_at(self, index: int) -> FuncType | None:
        """The function type at type index ``index``, if it is one."""
        if not 0 <= index < len(self.types):
            return None
        comp = composite(self.types[index])
        return comp if isinstance(comp, FuncType) else None

    def struct_effect(self, index: int) -> _Effect:
        comp = composite(self.types[index]) if 0 <= index < len(self.types) else None
        return (len(comp.fields), 1) if isinstance(comp, StructType) else (None, None)

    def func_type(self, func_index: int) -> FuncType | None:
        if 0 <= func_index < len(self.func_types):
            return self.type_at(self.func_types[func_index])
        return None

    def tag_type(self, tag_index: int) -> FuncType | None:
        if 0 <= tag_index < len(self.tag_types):
            return self.type_at(self.tag_types[tag_index])
        return None

    @staticmethod
    def call_effect(functype: FuncType | None, extra: int) -> _Effect:
        if functype is None:
            return None, None
        return len(functype.params) + extra, len(functype.results)

    def block_signature(self, blocktype: Any) -> tuple[int | None, int | None]:
        """(parameter count, result count) of a block type."""
        if blocktype is None:
            return 0, 0
        if isinstance(blocktype, ValType):
            return 0, 1
        functype = self.type_at(blocktype)
        if functype is None:
            return None, None
        return len(functype.params), len(functype.results)

    def build(self, instrs: Expr, scope: _Scope, result_arity: int | None) -> list[_Node]:
        """The top-level nodes of ``instrs`` (a body or a constant
        expression, its final ``end`` left out); ``result_arity`` is what
        ``return`` and a branch to the outermost label carry."""
        self.scope = scope
        inline = self.inline
        formatters = _FORMATTER_BY_OP
        fixed_effects = _FIXED_EFFECT
        context_effects = _CONTEXT_EFFECT_BY_OP
        frames = [_Frame(None, "", result_arity, None, [])]
        for instr in instrs:
            op = instr.op
            if op is _END:
                if len(frames) == 1:
                    break
                self._close(frames, instr)
                continue
            if op is _ELSE and frames[-1].instr is not None and frames[-1].instr.op is _IF \
                    and frames[-1].then_items is None:
                frame = frames[-1]
                frame.then_items, frame.items, frame.else_instr = frame.items, [], instr
                continue
            text = formatters[op.id](op, instr.imm, scope)
            if op in _TRY_PARTS and frames[-1].instr is not None and frames[-1].instr.op is _TRY:
                frame = frames[-1]
                if op is _DELEGATE:
                    self._close(frames, instr, text)
                    continue
                if not frame.sections:
                    frame.then_items = frame.items  # the try's (do ...)
                frame.items = []
                frame.sections.append((instr, text, frame.items))
                continue
            items = frames[-1].items
            if op in _OPENS_BLOCK:
                params, results = self.block_signature(instr.imm if op.imm is Imm.BLOCKTYPE else instr.imm[0])
                condition: list[_Node] = []
                if op is _IF and params == 0 and items and items[-1].pushes == 1 \
                        and items[-1].height < MAX_FOLD_HEIGHT:
                    condition.append(items.pop())
                arity = params if op is _LOOP else results
                frames.append(_Frame(instr, text, arity, results if params == 0 else None, condition))
                continue
            effect = fixed_effects[op.id]
            if effect is None:
                rule = context_effects[op.id]
                effect = rule(self, instr.imm, frames) if rule is not None else (None, None)
            pops, pushes = effect
            if pops == 0:
                items.append(_Node(instr, text, "plain", [], False, pushes, 1,
                                   "(" + text + ")" if inline else None))
            elif pops is not None and len(items) >= pops and _foldable(items, pops):
                children = items[-pops:]
                del items[-pops:]
                items.append(self._plain(instr, text, children, pushes))
            else:
                items.append(_Node(instr, text, "plain", [], True, None, 1, text))
        while len(frames) > 1:  # an unterminated body (not from the decoder or parser)
            self._close(frames, None)
        return frames[0].items

    def _plain(self, instr: Instruction, text: str, children: list[_Node], pushes: int | None) -> _Node:
        """A node that took ``children`` as its operands."""
        height = 0
        parts = [text] if self.inline else None
        for child in children:
            if child.height > height:
                height = child.height
            if parts is not None:
                if child.inline is None:
                    parts = None
                else:
                    parts.append(child.inline)
        inline = None
        if parts is not None:
            candidate = "(" + " ".join(parts) + ")"
            if len(candidate) <= INLINE_WIDTH:
                inline = candidate
        return _Node(instr, text, "plain", children, False, pushes, height + 1, inline)

    def _close(self, frames: list[_Frame], end: Instruction | None, delegate: str | None = None) -> None:
        """Close the block on top, at its ``end`` (or a try's ``delegate``, written ``delegate``)."""
        frame = frames.pop()
        header = frame.instr
        if header is None:  # never: the function frame is not closed here
            return
        text = frame.text
        if header.op is _TRY:
            node = _Node(header, text, "try", [], False, frame.pushes, 1, None)
            node.items = frame.then_items if frame.sections else frame.items
            node.sections = frame.sections
            if delegate is not None and end is not None:
                node.delegate = (end, delegate)
        elif header.op is _IF:
            node = _Node(header, text, "if", frame.condition, False, frame.pushes, 1, None)
            if frame.then_items is None:
                node.items = frame.items
            else:
                node.items, node.else_instr, node.else_items = frame.then_items, frame.else_instr, frame.items
        else:
            node = _Node(header, text, "block", [], False, frame.pushes, 1, None)
            node.items = frame.items
        frames[-1].items.append(node)


_CLOSE = 0
_NODE = 1
_CLAUSE = 2


_INDENTS = tuple(INDENT * level for level in range(MAX_INDENT_LEVELS + 1))


class _Lines:
    """Output lines, with indentation and offset comments."""

    def __init__(self, offsets: bool) -> None:
        self.lines: list[str] = []
        self.offsets = offsets

    def add(self, level: int, text: str, instr: Instruction | None = None) -> None:
        indent = _INDENTS[level] if level <= MAX_INDENT_LEVELS else _INDENTS[MAX_INDENT_LEVELS]
        if self.offsets and instr is not None and instr.offset >= 0:
            self.lines.append(f"{indent}(;@{instr.offset:x};) {text}")
        else:
            self.lines.append(indent + text)

    def close(self) -> None:
        """A ``)`` at the end of the last line."""
        self.lines[-1] += ")"


def _write_folded(nodes: list[_Node], level: int, out: _Lines, hints: dict[int, int] | None = None) -> None:
    """Write folded nodes, each at ``level``; an explicit stack of work
    items stands in for recursion.  ``hints`` are branch hints, by the
    ``id`` of the instruction they are written before."""
    work: list[tuple] = [(_NODE, node, level) for node in reversed(nodes)]
    while work:
        item = work.pop()
        tag = item[0]
        if tag == _CLOSE:
            out.close()
            continue
        if tag == _CLAUSE:
            _, keyword, clause_level, instr = item
            out.add(clause_level, "(" + keyword, instr)
            continue
        _, node, node_level = item
        if hints and id(node.instr) in hints:
            out.add(node_level, _branch_hint_text(hints[id(node.instr)]))
        if node.kind == "plain":
            if node.bare:
                out.add(node_level, node.text, node.instr)
            elif node.inline is not None and not out.offsets:
                out.add(node_level, node.inline, node.instr)
            else:
                out.add(node_level, "(" + node.text, node.instr)
                work.append((_CLOSE,))
                work.extend((_NODE, child, node_level + 1) for child in reversed(node.children))
            continue
        out.add(node_level, "(" + node.text, node.instr)
        work.append((_CLOSE,))
        if node.kind == "try":
            if node.delegate is not None:
                work.append((_CLOSE,))
                work.append((_CLAUSE, node.delegate[1], node_level + 1, node.delegate[0]))
            for section_instr, section_text, section_items in reversed(node.sections):
                work.append((_CLOSE,))
                work.extend((_NODE, child, node_level + 2) for child in reversed(section_items))
                work.append((_CLAUSE, section_text, node_level + 1, section_instr))
            work.append((_CLOSE,))
            work.extend((_NODE, child, node_level + 2) for child in reversed(node.items))
            work.append((_CLAUSE, "do", node_level + 1, None))
            continue
        if node.kind == "block":
            work.extend((_NODE, child, node_level + 1) for child in reversed(node.items))
            continue
        if node.else_items is not None:
            work.append((_CLOSE,))
            work.extend((_NODE, child, node_level + 2) for child in reversed(node.else_items))
            work.append((_CLAUSE, "else", node_level + 1, node.else_instr))
        work.append((_CLOSE,))
        work.extend((_NODE, child, node_level + 2) for child in reversed(node.items))
        work.append((_CLAUSE, "then", node_level + 1, None))
        work.extend((_NODE, child, node_level + 1) for child in reversed(node.children))


def _write_flat(instrs: Expr, level: int, scope: _Scope, out: _Lines, hints: dict[int, int] | None = None) -> None:
    """One instruction per line, indented by block depth; the ``end`` that
    closes the sequence is left out.  ``hints`` as for ``_write_folded``."""
    formatters = _FORMATTER_BY_OP
    bare = _BARE_TEXT
    depth = 0
    last = len(instrs) - 1
    for position, instr in enumerate(instrs):
        op = instr.op
        if hints and id(instr) in hints:
            out.add(level + depth, _branch_hint_text(hints[id(instr)]))
        if op is _END:
            if depth == 0 and position == last:
                break
            depth = max(depth - 1, 0)
            out.add(level + depth, "end", instr)
        elif op in _BLOCK_PARTS:  # else, catch, catch_all: at the depth of the block's start
            out.add(level + max(depth - 1, 0), formatters[op.id](op, instr.imm, scope), instr)
        elif op is _DELEGATE:  # ends the try
            depth = max(depth - 1, 0)
            out.add(level + depth, formatters[op.id](op, instr.imm, scope), instr)
        else:
            text = bare.get(op)
            out.add(level + depth, formatters[op.id](op, instr.imm, scope) if text is None else text, instr)
            if op in _OPENS_BLOCK:
                depth += 1


# -- modules -----------------------------------------------------------------------------------


def print_module(module: Module, *, folded: bool = False, offsets: bool = False) -> str:
    """The module in the text format, ending with a newline.  ``folded``
    writes S-expressions; ``offsets`` starts every instruction's line with
    its byte offset in the module binary, as an inline comment ``(;@2c;)``
    (the offsets ``wasm-objdump -d`` shows)."""
    return _ModulePrinter(module, folded, offsets).text()


def print_function(module: Module, func_index: int, *, folded: bool = False, offsets: bool = False) -> str:
    """One defined function of ``module`` (by function index, imports
    counted) as the module would print it."""
    printer = _ModulePrinter(module, folded, offsets)
    defined = func_index - printer.imported_funcs
    if not 0 <= defined < len(module.funcs):
        raise UsageError(f"function {func_index} is not defined by the module")
    out = _Lines(offsets)
    printer.write_func(out, defined, 0)
    return "\n".join(out.lines) + "\n"


class _ModulePrinter:
    def __init__(self, module: Module, folded: bool, offsets: bool) -> None:
        self.module = module
        self.folded = folded
        self.offsets = offsets
        self.func_types = module.func_type_indices()
        self.imported_funcs = len(self.func_types) - len(module.funcs)
        counts = {
            "funcs": len(self.func_types), "types": len(module.types), "tables": len(module.table_types()),
            "memories": len(module.memory_types()), "globals": len(module.global_types()),
            "elems": len(module.elems), "datas": len(module.datas), "tags": len(module.tag_types()),
        }
        self.builder = _FoldedBuilder(module.types, self.func_types, inline=not offsets,
                                      tag_types=tuple(tag.type_index for tag in module.tag_types()))
        local_counts = {self.imported_funcs + i: len(self.params_of(func.type_index)) + len(func.locals)
                        for i, func in enumerate(module.funcs)}
        self.ids = _identifiers(module.names, counts, local_counts)
        self.scope = _Scope(self.ids, {}, module.types)
        self.inlined_hints, self.hints = _branch_hints(module, self.imported_funcs)

    def params_of(self, type_index: int) -> tuple[ValType, ...]:
        """The parameters of a function of this type; none when the type
        does not exist (or is no function type), which is how the parser
        counts locals then."""
        functype = self.builder.type_at(type_index)
        return functype.params if functype is not None else ()

    def text(self) -> str:
        module = self.module
        out = _Lines(self.offsets)
        module_name = module.names.module
        name_note = ""
        if module_name is not None and self.ids.module != identifier_text(module_name):
            name_note = f" (@name {name_literal(module_name)})"
        out.add(0, "(module" + (f" {self.ids.module}" if self.ids.module else "") + name_note)
        customs: dict[str, list[CustomSection]] = {group: [] for group in _GROUPS}
        for custom in module.customs:
            customs[_GROUP_OF_SECTION.get(custom.after, "datas")].append(custom)
        writers: dict[str, Callable[[_Lines], None]] = {
            "top": lambda out: None,
            "types": self.write_types,
            "imports": self.write_imports,
            "funcs": self.write_funcs,
            "tables": self.write_tables,
            "memories": self.write_memories,
            "tags": self.write_tags,
            "globals": self.write_globals,
            "exports": self.write_exports,
            "start": self.write_start,
            "elems": self.write_elems,
            "datas": self.write_datas,
        }
        for group in _GROUPS:
            writers[group](out)
            for custom in customs[group]:
                if custom.name == SECTION_NAME or custom is self.inlined_hints:
                    continue  # the names are the $identifiers, the hints written before their branches
                out.add(1, f"(@custom {_name_string(custom.name)} {placement_text(custom.after)} "
                           f"{format_string(custom.data)})")
        out.close()
        return "\n".join(out.lines) + "\n"

    # -- pieces ----------------------------------------------------------------------------

    def _name_annotation(self, space: str, index: int) -> str:
        """`` (@name "...")`` when the item's name is not the one its
        identifier spells (it was taken, or is not text an identifier can
        hold): the name section keeps exactly what it says."""
        name = getattr(self.module.names, space).get(index)
        written = getattr(self.ids, space).get(index)
        if name is None or written is not None and written == identifier_text(name):
            return ""
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            return ""
        return f" (@name {name_literal(name)})"

    @staticmethod
    def _id_or_index(ids: dict[int, str], index: int) -> str:
        """`` $name`` or `` (;N;)`` after a field keyword."""
        name = ids.get(index)
        return f" {name}" if name is not None else f" (;{index};)"

    def _type_use(self, type_index: int) -> str:
        return _type_use(type_index, self.scope)

    def _func_ref(self, index: int) -> str:
        return str(self.ids.funcs.get(index, index))

    def _expression(self, expr: Expr) -> str:
        """A constant expression (or any instruction sequence) on one line,
        in the chosen form, without its final ``end``."""
        out = _Lines(self.offsets)
        self._write_body(out, expr, 0, self.scope, None)
        return " ".join(line.strip() for line in out.lines)

    def _write_body(self, out: _Lines, expr: Expr, level: int, scope: _Scope, result_arity: int | None,
                    hints: dict[int, int] | None = None) -> None:
        if self.folded:
            nodes = self.builder.build(expr, scope, result_arity)
            _write_folded(nodes, level, out, hints)
        else:
            _write_flat(expr, level, scope, out, hints)

    # -- fields ----------------------------------------------------------------------------

    def write_types(self, out: _Lines) -> None:
        """Each type, and each explicit recursive group as ``(rec ...)``."""
        types = self.module.types
        for first, count, explicit in self.module.type_groups():
            level = 1
            if explicit:
                out.add(1, "(rec")
                level = 2
            for index in range(first, first + count):
                label = self._id_or_index(self.ids.types, index)
                out.add(level, f"(type{label} {_def_type_text(types[index], index, self.ids)})")
            if explicit:
                if count:
                    out.close()
                else:
                    out.lines[-1] += ")"

    def write_imports(self, out: _Lines) -> None:
        counters = {"funcs": 0, "tables": 0, "memories": 0, "globals": 0, "tags": 0}
        for imp in self.module.imports:
            desc = imp.desc
            space = _SPACE_OF_KIND[imp.kind]
            if isinstance(desc, int):
                keyword, rest = "func", " " + self._type_use(desc)
            elif isinstance(desc, TagType):
                keyword, rest = "tag", " " + self._type_use(desc.type_index)
            else:
                keyword, rest = _extern_type_words(desc, self.ids)
            index = counters[space]
            counters[space] = index + 1
            label = self._id_or_index(getattr(self.ids, space), index) + self._name_annotation(space, index)
            out.add(1, f"(import {_name_string(imp.module)} {_name_string(imp.name)} ({keyword}{label}{rest}))")

    def write_funcs(self, out: _Lines) -> None:
        for defined in range(len(self.module.funcs)):
            self.write_func(out, defined, 1)

    def write_func(self, out: _Lines, defined: int, level: int) -> None:
        func: Func = self.module.funcs[defined]
        index = self.imported_funcs + defined
        local_ids = self.ids.locals.get(index, {})
        functype = self.builder.type_at(func.type_index)
        header = (f"(func{self._id_or_index(self.ids.funcs, index)}{self._name_annotation('funcs', index)}"
                  f" (type {self.ids.types.get(func.type_index, func.type_index)})")
        if functype is not None:
            header += _declarations("param", functype.params, 0, local_ids, self.ids)
            header += _types_text("result", functype.results, self.ids)
        out.add(level, header)
        if func.locals:
            out.add(level + 1, _declarations("local", func.locals, len(self.params_of(func.type_index)),
                                             local_ids, self.ids).lstrip())
        scope = _Scope(self.ids, local_ids, self.module.types)
        self._write_body(out, func.body, level + 1, scope, len(functype.results) if functype is not None else None,
                         self.hints.get(index))
        out.close()

    def write_tables(self, out: _Lines) -> None:
        first = len(self.module.table_types()) - len(self.module.tables)
        for position, table in enumerate(self.module.tables):
            label = self._id_or_index(self.ids.tables, first + position) + self._name_annotation("tables", first + position)
            init = self.module.table_init(position)
            init_text = ""
            if init is not None:
                expression = self._expression(init)
                init_text = f" {expression}" if expression else ""
            out.add(1, f"(table{label} {_table_type_text(table, self.ids)}{init_text})")

    def write_memories(self, out: _Lines) -> None:
        first = len(self.module.memory_types()) - len(self.module.memories)
        for position, memory in enumerate(self.module.memories):
            label = self._id_or_index(self.ids.memories, first + position) + \
                self._name_annotation("memories", first + position)
            out.add(1, f"(memory{label} {_memory_type_text(memory)})")

    def write_tags(self, out: _Lines) -> None:
        first = len(self.module.tag_types()) - len(self.module.tags)
        for position, tag in enumerate(self.module.tags):
            label = self._id_or_index(self.ids.tags, first + position) + self._name_annotation("tags", first + position)
            out.add(1, f"(tag{label} {self._type_use(tag.type_index)})")

    def write_globals(self, out: _Lines) -> None:
        first = len(self.module.global_types()) - len(self.module.globals)
        for position, global_ in enumerate(self.module.globals):
            label = self._id_or_index(self.ids.globals, first + position) + \
                self._name_annotation("globals", first + position)
            init = self._expression(global_.init)
            out.add(1, f"(global{label} {_global_type_text(global_.type, self.ids)}{' ' + init if init else ''})")

    def write_exports(self, out: _Lines) -> None:
        for export in self.module.exports:
            space = _SPACE_OF_KIND[export.kind]
            target = getattr(self.ids, space).get(export.index, export.index)
            out.add(1, f"(export {_name_string(export.name)} ({export.kind.text} {target}))")

    def write_start(self, out: _Lines) -> None:
        if self.module.start is not None:
            out.add(1, f"(start {self._func_ref(self.module.start)})")

    def write_elems(self, out: _Lines) -> None:
        for index, elem in enumerate(self.module.elems):
            out.add(1, f"(elem{self._id_or_index(self.ids.elems, index)}{self._segment_place(elem)} {self._elem_list(elem)})")

    def _segment_place(self, segment: Elem | Data) -> str:
        """What comes between ``(elem``/``(data`` and the contents: the
        mode, the table or memory, the offset."""
        if segment.mode is SegmentMode.DECLARATIVE:
            return " declare"
        if segment.mode is SegmentMode.PASSIVE:
            return ""
        if isinstance(segment, Elem):
            target = f" (table {self.ids.tables.get(segment.table, segment.table)})" if segment.table else ""
        else:
            target = f" (memory {self.ids.memories.get(segment.memory, segment.memory)})" if segment.memory else ""
        offset = self._expression(segment.offset) if segment.offset is not None else ""
        return f"{target} (offset{' ' + offset if offset else ''})"

    def _elem_list(self, elem: Elem) -> str:
        """``func $f $g`` when every item is a plain ``ref.func`` (and no
        offsets would be lost), else the type and ``(item ...)`` expressions."""
        if elem.type is _FUNC_INDEX_ELEM_TYPE and all(
                len(item) == 2 and item[0].op is _REF_FUNC and item[1].op is _END
                and not (self.offsets and item[0].offset >= 0) for item in elem.init):
            return " ".join(["func", *(self._func_ref(item[0].imm) for item in elem.init)])
        items = []
        for item in elem.init:
            text = self._expression(item)
            items.append(f"(item{' ' + text if text else ''})")
        return " ".join([_valtype_text(elem.type, self.ids), *items])

    def write_datas(self, out: _Lines) -> None:
        for index, data in enumerate(self.module.datas):
            out.add(1, f"(data{self._id_or_index(self.ids.datas, index)}{self._segment_place(data)} {format_string(data.init)})")


def _branch_hint_text(value: int) -> str:
    return f"(@{BRANCH_HINT} {format_string(bytes([value]))})"


def _branch_hints(module: Module, imported_funcs: int) -> tuple[CustomSection | None, dict[int, dict[int, int]]]:
    """The module's branch hint section and its hints, by function index and
    the ``id`` of the hinted instruction, when every hint is a likely or
    unlikely of a branch of a defined function: then they are written before
    those branches.  Otherwise ``(None, {})``, and the section is written as
    any other custom section."""
    section = next((custom for custom in module.customs if custom.name == BRANCH_HINT), None)
    if section is None:
        return None, {}
    hints: dict[int, dict[int, int]] = {}
    reader = ByteReader(section.data)
    try:
        for _ in range(reader.length()):
            func_index = reader.u32()
            defined = func_index - imported_funcs
            if not 0 <= defined < len(module.funcs) or func_index in hints:
                return None, {}
            func = module.funcs[defined]
            by_offset = dict(zip(_offsets_in_entry(func), func.body))
            found: dict[int, int] = {}
            for _ in range(reader.length()):
                offset, size = reader.u32(), reader.u32()
                instr = by_offset.get(offset)
                if size != 1 or instr is None or instr.op not in _HINTABLE or id(instr) in found:
                    return None, {}
                value = reader.byte()
                if value > 1:
                    return None, {}
                found[id(instr)] = value
            hints[func_index] = found
    except MalformedError:
        return None, {}
    return (section, hints) if reader.at_end() else (None, {})


def _offsets_in_entry(func: Func) -> list[int]:
    """Where each instruction of ``func`` is in its code entry: as decoded,
    or as its encoding puts it."""
    if func.offset >= 0 and all(instr.offset >= 0 for instr in func.body):
        return [instr.offset - func.offset for instr in func.body]
    return instruction_offsets(func)


def _declarations(keyword: str, types: tuple[ValType, ...], first_index: int, ids: dict[int, str],
                  module_ids: _Identifiers) -> str:
    """``(param $x i32) (param i32 i64)``: named entries one by one, runs of
    unnamed ones together."""
    parts: list[str] = []
    run: list[str] = []
    for position, valtype in enumerate(types):
        name = ids.get(first_index + position)
        if name is None:
            run.append(_valtype_text(valtype, module_ids))
            continue
        if run:
            parts.append(f"({keyword} {' '.join(run)})")
            run = []
        parts.append(f"({keyword} {name} {_valtype_text(valtype, module_ids)})")
    if run:
        parts.append(f"({keyword} {' '.join(run)})")
    return "".join(" " + part for part in parts)
