"""Instructions of the text format (spec 6.5): plain, structured and folded.

Parsing is driven by the opcode table: a keyword is looked up in
``OPS_BY_NAME`` and its immediates are read by the reader registered for the
instruction's ``Imm`` kind (``ExpressionParser._readers``), the vector kinds
(``V128``, ``LANE``, ``SHUFFLE``, ``MEMARG_LANE``) included.  Nesting (folded
expressions, blocks) is handled with an explicit stack of open forms instead
of recursion, so arbitrarily deep input cannot exhaust Python's stack.

Module-level knowledge (index spaces, type uses, the type section that inline
function types are appended to) comes from a ``ModuleContext`` (see
``interp.text.parser``); function-level knowledge (local names) is passed in,
and label names are tracked here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from interp.syntax.module import Instruction
from interp.syntax.opcodes import CAST_FORMS, OPS, OPS_BY_NAME, SELECT_TYPED, Imm, Op
from interp.syntax.types import HeapKind, RefType, ValType
from interp.text.lexer import ATOM, ID, LPAR, RPAR, TokenReader
from interp.text.numbers import (
    F32_FORMAT,
    F64_FORMAT,
    MAX_U32,
    NumberRangeError,
    looks_numeric,
    parse_float,
    parse_int,
    parse_nat,
)

if TYPE_CHECKING:
    from interp.text.parser import ModuleContext

_END = OPS_BY_NAME["end"]
_ELSE = OPS_BY_NAME["else"]
_IF = OPS_BY_NAME["if"]
_SELECT = OPS_BY_NAME["select"]
END_INSTRUCTION = Instruction(_END)
_ELSE_INSTRUCTION = Instruction(_ELSE)

# Instructions without immediates are immutable and identical wherever they
# occur, so each is built once and shared.
_BARE: dict[str, Instruction] = {
    op.name: Instruction(op) for op in OPS
    if op.imm is Imm.NONE and op not in (_SELECT, _END, _ELSE)
}

# States of the open forms on the parser's stack.
_FOLDED_PLAIN = 0    # (op imm* <folded operands>)  -- op is emitted at ')'
_FOLDED_BLOCK = 1    # (block|loop label? bt instr*)
_PLAIN_BLOCK = 2     # block|loop label? bt instr* end
_PLAIN_IF = 3        # if label? bt instr* ...
_PLAIN_ELSE = 4      # ... else instr* end
_IF_CONDITION = 5    # (if label? bt <folded condition>* ...
_IF_THEN = 6         # ... (then instr*) ...
_IF_AFTER_THEN = 7   # ... (else ...)? )
_IF_ELSE = 8         # ... (else instr*) ...
_IF_DONE = 9         # ... )

_CLOSED_BY_END = (_PLAIN_BLOCK, _PLAIN_IF, _PLAIN_ELSE)
_NO_PLAIN_INSTRUCTIONS = (_FOLDED_PLAIN, _IF_CONDITION, _IF_AFTER_THEN, _IF_DONE)


def is_index_token(kind: int, value: object) -> bool:
    """Whether a token can be an index: a ``$id`` or an unsigned number."""
    return kind == ID or (kind == ATOM and "0" <= value[0] <= "9")  # type: ignore[index]


class ExpressionParser:
    """Parses instruction sequences for one module.

    ``parse`` reads instructions up to the ``)`` that closes the enclosing
    form (a function, a global, an ``(offset ...)``) or, with ``single``, one
    folded expression (the abbreviated offset and element-item forms).
    """

    def __init__(self, context: ModuleContext) -> None:
        self.context = context
        self.locals: dict[str, int] = {}
        self.labels: list[str | None] = []
        self._readers: dict[Imm, Callable[[TokenReader, Op], object]] = {
            Imm.LABEL: self._label_immediate,
            Imm.BR_TABLE: self._br_table,
            Imm.FUNC: lambda r, op: self.context.index("func", r),
            Imm.CALL_INDIRECT: self._call_indirect,
            Imm.LOCAL: self._local,
            Imm.GLOBAL: lambda r, op: self.context.index("global", r),
            Imm.TABLE: lambda r, op: self._optional_index("table", r),
            Imm.ELEM: lambda r, op: self.context.index("elem", r),
            Imm.DATA: self._data,
            Imm.TABLE_INIT: self._table_init,
            Imm.TABLE_COPY: lambda r, op: self._index_pair("table", "table", r),
            Imm.MEMARG: self._memarg,
            Imm.MEMORY: lambda r, op: self._optional_index("memory", r),
            Imm.MEMORY_INIT: self._memory_init,
            Imm.MEMORY_COPY: lambda r, op: self._index_pair("memory", "memory", r),
            Imm.I32: read_number,
            Imm.I64: read_number,
            Imm.F32: read_number,
            Imm.F64: read_number,
            Imm.HEAPTYPE: lambda r, op: self.context.heap_type(r),
            Imm.TYPE: lambda r, op: self.context.index("type", r),
            Imm.FIELD: self._field,
            Imm.ARRAY_FIXED: lambda r, op: (self.context.index("type", r), r.nat32()),
            Imm.ARRAY_DATA: self._array_data,
            Imm.ARRAY_ELEM: lambda r, op: (self.context.index("type", r), self.context.index("elem", r)),
            Imm.ARRAY_COPY: lambda r, op: (self.context.index("type", r), self.context.index("type", r)),
            Imm.BR_ON_CAST: self._br_on_cast,
            Imm.SELECT_TYPES: self._select_types,
            Imm.V128: read_v128,
            Imm.LANE: lambda r, op: read_lane_index(r),
            Imm.SHUFFLE: lambda r, op: read_shuffle_lanes(r),
            Imm.MEMARG_LANE: lambda r, op: (self._memarg(r, op), read_lane_index(r)),
        }

    # -- the instruction sequence --------------------------------------------

    def parse(self, reader: TokenReader, local_names: dict[str, int] | None = None,
              single: bool = False) -> list[Instruction]:
        """Instructions up to the closing ``)`` (not consumed), without the
        final ``end``; with ``single``, exactly one folded expression."""
        self.locals = local_names if local_names is not None else {}
        self.labels = []
        tokens = reader.tokens
        out: list[Instruction] = []
        emit = out.append
        labels = self.labels
        stack: list[list] = []
        bare = _BARE
        ops = OPS_BY_NAME
        if single and tokens[reader.pos][0] != LPAR:
            raise reader.unexpected()
        while True:
            pos = reader.pos
            kind, value, _ = tokens[pos]
            state = stack[-1][0] if stack else -1
            if kind == ATOM:
                instruction = bare.get(value)  # type: ignore[arg-type]
                if instruction is not None and state not in _NO_PLAIN_INSTRUCTIONS:
                    emit(instruction)
                    reader.pos = pos + 1
                    continue
                if state in _NO_PLAIN_INSTRUCTIONS:
                    raise reader.unexpected()
                if value == "end" or value == "else":
                    self._plain_end_or_else(reader, stack, out, value == "else")  # type: ignore[arg-type]
                    continue
                op = ops.get(value)  # type: ignore[arg-type]
                if op is None:
                    raise reader.unexpected()
                reader.pos = pos + 1
                if op.imm is Imm.BLOCKTYPE:
                    label, blocktype = self._block_header(reader)
                    emit(Instruction(op, blocktype))
                    labels.append(label)
                    stack.append([_PLAIN_IF if op is _IF else _PLAIN_BLOCK, label])
                else:
                    emit(self._with_immediates(reader, op))
            elif kind == LPAR:
                keyword = reader.lpar_keyword()
                if keyword is None:
                    raise reader.unexpected(pos + 1)
                if keyword == "then" or keyword == "else":
                    self._open_clause(reader, stack, out, keyword == "else")
                    continue
                if state in (_IF_AFTER_THEN, _IF_DONE):
                    raise reader.unexpected(pos + 1)
                op = ops.get(keyword)
                if op is None:
                    raise reader.unexpected(pos + 1)
                reader.pos = pos + 2
                if op.imm is Imm.BLOCKTYPE:
                    label, blocktype = self._block_header(reader)
                    if op is _IF:
                        stack.append([_IF_CONDITION, label, Instruction(op, blocktype)])
                    else:
                        emit(Instruction(op, blocktype))
                        labels.append(label)
                        stack.append([_FOLDED_BLOCK, label])
                else:
                    stack.append([_FOLDED_PLAIN, self._with_immediates(reader, op)])
            elif kind == RPAR:
                if not stack:
                    return out
                if state in _CLOSED_BY_END or state == _IF_CONDITION:
                    raise reader.unexpected()
                reader.pos = pos + 1
                frame = stack[-1]
                if state == _FOLDED_PLAIN:
                    emit(frame[1])
                    stack.pop()
                elif state == _IF_THEN:
                    frame[0] = _IF_AFTER_THEN
                elif state == _IF_ELSE:
                    frame[0] = _IF_DONE
                else:  # _FOLDED_BLOCK, _IF_AFTER_THEN, _IF_DONE
                    _close_block(out)
                    labels.pop()
                    stack.pop()
                if single and not stack:
                    return out
            else:
                raise reader.unexpected()

    def _plain_end_or_else(self, reader: TokenReader, stack: list[list], out: list[Instruction],
                           is_else: bool) -> None:
        state = stack[-1][0] if stack else -1
        if state not in ((_PLAIN_IF,) if is_else else _CLOSED_BY_END):
            raise reader.unexpected()
        reader.pos += 1
        frame = stack[-1]
        end_label = reader.optional_id()
        if end_label is not None and end_label != frame[1]:
            raise reader.error("mismatching label", reader.pos - 1)
        if is_else:
            out.append(_ELSE_INSTRUCTION)
            frame[0] = _PLAIN_ELSE
        else:
            _close_block(out)
            self.labels.pop()
            stack.pop()

    def _open_clause(self, reader: TokenReader, stack: list[list], out: list[Instruction], is_else: bool) -> None:
        """``(then`` or ``(else`` of a folded ``if``."""
        state = stack[-1][0] if stack else -1
        if state != (_IF_AFTER_THEN if is_else else _IF_CONDITION):
            raise reader.unexpected(reader.pos + 1)
        reader.pos += 2
        frame = stack[-1]
        if is_else:
            out.append(_ELSE_INSTRUCTION)
            frame[0] = _IF_ELSE
        else:
            out.append(frame[2])
            self.labels.append(frame[1])
            frame[0] = _IF_THEN

    def _block_header(self, reader: TokenReader) -> tuple[str | None, object]:
        label = reader.optional_id()
        use = self.context.type_use(reader, allow_param_names=False)
        return label, self.context.block_type(use, reader)

    def _with_immediates(self, reader: TokenReader, op: Op) -> Instruction:
        if op.imm is Imm.NONE:
            if op is _SELECT and reader.lpar_keyword() == "result":
                return Instruction(SELECT_TYPED, self._select_types(reader, SELECT_TYPED))
            return Instruction(op)
        if op.imm is Imm.CAST or op.imm is Imm.CAST_NULL:
            cast: RefType = self.context.ref_type(reader)  # type: ignore[assignment]
            return Instruction(CAST_FORMS[(op.name, cast.nullable)], cast)
        immediate_reader = self._readers.get(op.imm)
        if immediate_reader is None:
            raise reader.error(f"unsupported instruction {op.name}", reader.pos - 1)
        return Instruction(op, immediate_reader(reader, op))

    # -- immediates ------------------------------------------------------------

    def _optional_index(self, space: str, reader: TokenReader) -> int:
        kind, value, _ = reader.tokens[reader.pos]
        if is_index_token(kind, value):
            return self.context.index(space, reader)
        return 0

    def _index_pair(self, first: str, second: str, reader: TokenReader) -> tuple[int, int]:
        """Two indices, or none (both 0)."""
        kind, value, _ = reader.tokens[reader.pos]
        if not is_index_token(kind, value):
            return 0, 0
        a = self.context.index(first, reader)
        b = self.context.index(second, reader)
        return a, b

    def _table_init(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        """``table.init $table $elem`` or ``table.init $elem``; the immediate
        is ``(elem, table)``."""
        return self._segment_and_target("elem", "table", reader)

    def _memory_init(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        """``memory.init $data`` (or ``$memory $data`` with multiple
        memories); the immediate is ``(data, memory)``."""
        self.context.uses_data_count = True
        return self._segment_and_target("data", "memory", reader)

    def _segment_and_target(self, segment: str, target: str, reader: TokenReader) -> tuple[int, int]:
        """A segment index optionally preceded by the index of the table or
        memory it initialises (default 0): ``(segment, target)``."""
        tokens = reader.tokens
        pos = reader.pos
        target_index = 0
        if is_index_token(*tokens[pos][:2]) and is_index_token(*tokens[pos + 1][:2]):
            target_index = self.context.index(target, reader)
        return self.context.index(segment, reader), target_index

    def _data(self, reader: TokenReader, op: Op) -> int:
        self.context.uses_data_count = True
        return self.context.index("data", reader)

    def _local(self, reader: TokenReader, op: Op) -> int:
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ID:
            index = self.locals.get(value)  # type: ignore[arg-type]
            if index is None:
                raise reader.error(f"unknown local {value}")
            reader.pos += 1
            return index
        return reader.nat32()

    def _label(self, reader: TokenReader) -> int:
        kind, value, _ = reader.tokens[reader.pos]
        if kind == ID:
            labels = self.labels
            for depth in range(len(labels)):
                if labels[-1 - depth] == value:
                    reader.pos += 1
                    return depth
            raise reader.error(f"unknown label {value}")
        return reader.nat32()

    def _label_immediate(self, reader: TokenReader, op: Op) -> int:
        return self._label(reader)

    def _br_table(self, reader: TokenReader, op: Op) -> tuple[tuple[int, ...], int]:
        targets = [self._label(reader)]
        tokens = reader.tokens
        while True:
            kind, value, _ = tokens[reader.pos]
            if not is_index_token(kind, value):
                break
            targets.append(self._label(reader))
        return tuple(targets[:-1]), targets[-1]

    def _call_indirect(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        table = self._optional_index("table", reader)
        use = self.context.type_use(reader, allow_param_names=False)
        return self.context.func_type_index(use, reader), table

    def _memarg(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        offset = 0
        alignment = op.natural_alignment
        word = reader.atom()
        if word is not None and word.startswith("offset="):
            offset = parse_nat(word[7:])
            if offset is None:
                raise reader.error(f"unknown operator {word}")
            if offset > MAX_U32:
                raise reader.error("i32 constant out of range")
            reader.pos += 1
            word = reader.atom()
        if word is not None and word.startswith("align="):
            align = parse_nat(word[6:])
            if align is None:
                raise reader.error(f"unknown operator {word}")
            if align == 0 or align & (align - 1):
                raise reader.error("alignment must be a power of two")
            alignment = align.bit_length() - 1
            reader.pos += 1
        return alignment, offset

    def _field(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        type_index = self.context.index("type", reader)
        return type_index, self.context.field_index(type_index, reader)

    def _array_data(self, reader: TokenReader, op: Op) -> tuple[int, int]:
        self.context.uses_data_count = True
        return self.context.index("type", reader), self.context.index("data", reader)

    def _br_on_cast(self, reader: TokenReader, op: Op) -> tuple[int, ValType, ValType]:
        label = self._label(reader)
        return label, self.context.ref_type(reader), self.context.ref_type(reader)

    def _select_types(self, reader: TokenReader, op: Op) -> tuple[ValType, ...]:
        types: list[ValType] = []
        while reader.accept_lpar_keyword("result"):
            types += self.context.value_types(reader)
        return tuple(types)


def _close_block(out: list[Instruction]) -> None:
    """Emit the ``end`` of a block.  An ``else`` with nothing after it is
    dropped first: ``if ... else end`` and ``if ... end`` are the same
    instruction, and ``wat2wasm`` writes the shorter form."""
    if out and out[-1] is _ELSE_INSTRUCTION:
        out.pop()
    out.append(END_INSTRUCTION)


NUMBER_LITERALS: dict[Imm, tuple[Callable[[str, Any], int | None], Any]] = {
    Imm.I32: (parse_int, 32),
    Imm.I64: (parse_int, 64),
    Imm.F32: (parse_float, F32_FORMAT),
    Imm.F64: (parse_float, F64_FORMAT),
}
"""How to read the literal of each numeric immediate kind: parser and width."""


def read_number(reader: TokenReader, op: Op) -> int:
    """The literal operand of ``op`` (``i32.const`` ... ``f64.const``): a
    canonical unsigned integer or a float bit pattern."""
    parse, width = NUMBER_LITERALS[op.imm]
    value = literal_value(reader, reader.pos, parse, width)
    reader.pos += 1
    return value


def literal_value(reader: TokenReader, index: int, parse: Callable[[str, Any], int | None], width: Any) -> int:
    """The value of the literal at token ``index``, read by ``parse`` (see
    ``interp.text.numbers``) for ``width``; a literal that does not fit is
    "constant out of range", a word that is no literal at all an "unknown
    operator" or "unexpected token"."""
    kind, word, _ = reader.tokens[index]
    if kind != ATOM:
        raise reader.unexpected(index)
    try:
        value = parse(word, width)  # type: ignore[arg-type]
    except NumberRangeError:
        raise reader.error("constant out of range", index) from None
    if value is None:
        if looks_numeric(word):  # type: ignore[arg-type]
            raise reader.error("constant out of range", index)
        raise reader.unexpected(index)
    return value


class V128Shape(NamedTuple):
    """A lane shape of ``v128.const`` literals: ``count`` lanes of
    ``lane_bits`` bits, each literal read by ``parse`` for ``width``;
    ``float_type`` is the lane's float type (``None`` for integer lanes),
    which is what a NaN pattern of a script's expected result stands for."""

    name: str
    count: int
    lane_bits: int
    parse: Callable[[str, Any], int | None]
    width: Any
    float_type: ValType | None

    def join(self, lane_bits: list[int]) -> int:
        """The vector whose lanes have the bit patterns ``lane_bits``, lane 0 first."""
        value = 0
        for position, bits in enumerate(lane_bits):
            value |= bits << (position * self.lane_bits)
        return value


V128_SHAPES: dict[str, V128Shape] = {
    "i8x16": V128Shape("i8x16", 16, 8, parse_int, 8, None),
    "i16x8": V128Shape("i16x8", 8, 16, parse_int, 16, None),
    "i32x4": V128Shape("i32x4", 4, 32, parse_int, 32, None),
    "i64x2": V128Shape("i64x2", 2, 64, parse_int, 64, None),
    "f32x4": V128Shape("f32x4", 4, 32, parse_float, F32_FORMAT, ValType.F32),
    "f64x2": V128Shape("f64x2", 2, 64, parse_float, F64_FORMAT, ValType.F64),
}
"""The shapes a ``v128.const`` can be written in (spec 6.5.7), by keyword.
Integer lane literals may be signed or unsigned (``i8x16 -1`` and ``255`` are
the same lane); float literals are rounded exactly like scalar constants."""

MAX_LANE_INDEX = 255
SHUFFLE_LANES = 16


def read_v128_shape(reader: TokenReader) -> V128Shape:
    """The shape keyword that starts a ``v128.const`` literal."""
    word = reader.atom()
    shape = V128_SHAPES.get(word) if word is not None else None
    if shape is None:
        raise reader.unexpected()
    reader.pos += 1
    return shape


def lane_literal_positions(reader: TokenReader, shape: V128Shape,
                           also_literals: frozenset[str] = frozenset()) -> range:
    """The token positions of the lane literals of a ``v128.const`` of
    ``shape`` (consumed).  The literals are counted before any is converted,
    so a wrong count is "wrong number of lane literals" whatever the values;
    ``also_literals`` are further words that stand for a lane (the NaN
    patterns of a script's expected results)."""
    tokens = reader.tokens
    start = position = reader.pos
    while True:
        kind, word, _ = tokens[position]
        if kind != ATOM:
            break
        if not looks_numeric(word) and word not in also_literals:  # type: ignore[arg-type]
            if reader.is_known_word(word):  # type: ignore[arg-type]
                break  # the next instruction
            raise reader.unexpected(position)
        position += 1
    if position - start != shape.count:
        raise reader.error("wrong number of lane literals", position)
    reader.pos = position
    return range(start, position)


def read_v128(reader: TokenReader, op: Op | None = None) -> int:
    """The operand of ``v128.const``: a shape and one literal per lane."""
    shape = read_v128_shape(reader)
    parse, width = shape.parse, shape.width
    return shape.join([literal_value(reader, position, parse, width)
                       for position in lane_literal_positions(reader, shape)])


def read_lane_index(reader: TokenReader) -> int:
    """A lane index: an unsigned literal that fits a byte (whether it names
    a lane of the instruction's shape is for validation to say)."""
    word = reader.atom()
    value = parse_nat(word) if word is not None else None
    if value is None:
        raise reader.unexpected()
    if value > MAX_LANE_INDEX:
        raise reader.error("malformed lane index")
    reader.pos += 1
    return value


def read_shuffle_lanes(reader: TokenReader) -> tuple[int, ...]:
    """The 16 lane indices of ``i8x16.shuffle``.  Every numeric-looking word
    that follows counts as one, so a wrong count is reported as such
    ("invalid lane length") rather than as a stray token."""
    lanes: list[int] = []
    while True:
        word = reader.atom()
        if word is None or not looks_numeric(word):
            break
        value = parse_nat(word)
        if value is None or value > MAX_LANE_INDEX:
            raise reader.error("malformed lane index")
        lanes.append(value)
        reader.pos += 1
    if len(lanes) != SHUFFLE_LANES:
        raise reader.error("invalid lane length")
    return tuple(lanes)


def heap_type(reader: TokenReader) -> HeapKind:
    """An abstract heap type, ``func``, ``extern``, ``any`` ... (what a
    script's ``ref.null`` names)."""
    word = reader.atom()
    heap = HeapKind.from_text(word) if word is not None else None
    if heap is None:
        raise reader.unexpected()
    reader.pos += 1
    return heap

