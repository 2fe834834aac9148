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

from interp.errors import InvalidError
from interp.features import Feature
from interp.syntax.module import Catch, CatchKind, Instruction
from interp.syntax.opcodes import CAST_FORMS, OPS, OPS_BY_NAME, SELECT_TYPED, Imm, MemArg, Op
from interp.syntax.types import HeapKind, RefType, ValType
from interp.text.annotations import BRANCH_HINT, branch_hint_value
from interp.text.lexer import ATOM, ID, LPAR, RPAR, Annotation, TokenReader
from interp.text.numbers import (
    F32_FORMAT,
    F64_FORMAT,
    MAX_U32,
    MAX_U64,
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
_TRY = OPS_BY_NAME["try"]
_CATCH = OPS_BY_NAME["catch"]
_CATCH_ALL = OPS_BY_NAME["catch_all"]
_DELEGATE = OPS_BY_NAME["delegate"]
END_INSTRUCTION = Instruction(_END)
_ELSE_INSTRUCTION = Instruction(_ELSE)
_CATCH_ALL_INSTRUCTION = Instruction(_CATCH_ALL)

# Instructions without immediates are immutable and identical wherever they
# occur, so each is built once and shared.
_BARE: dict[str, Instruction] = {
    op.name: Instruction(op) for op in OPS
    if op.imm is Imm.NONE and op not in (_SELECT, _END, _ELSE, _CATCH_ALL)
}

_HINTABLE = frozenset({_IF, OPS_BY_NAME["br_if"]})
_EMITTED_AT_ONCE = frozenset({Imm.BLOCKTYPE, Imm.TRY_TABLE})
"""Folded instructions written when their ``(`` is read (blocks), not at their ``)``."""
_CATCH_CLAUSES = {kind.text: kind for kind in CatchKind}
"""``try_table``'s clause keywords: ``catch``, ``catch_ref``, ``catch_all``, ``catch_all_ref``."""
_TRY_CLAUSES = ("catch", "catch_all", "delegate")

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
# The legacy try, plain: try label? bt instr* (catch x instr*)* (catch_all instr*)? end, or ... delegate l
_PLAIN_TRY = 10      # try label? bt instr* ...
_PLAIN_CATCH = 11    # ... catch x instr* ...
_PLAIN_CATCH_ALL = 12  # ... catch_all instr* end
# and folded: (try label? bt (do instr*) (catch x instr*)* (catch_all instr*)?) or (do ...) (delegate l))
_TRY_HEADER = 13     # (try label? bt ...
_TRY_DO = 14         # ... (do instr*) ...
_TRY_AFTER_DO = 15   # ... (catch ...)* (catch_all ...)? | (delegate l) ...
_TRY_CATCH = 16      # ... (catch x instr*) ...
_TRY_AFTER_CATCH = 17  # ... (catch ...)* (catch_all ...)? )
_TRY_CATCH_ALL = 18  # ... (catch_all instr*) ...
_TRY_DONE = 19       # ... )
_TRY_DELEGATED = 20  # ... (delegate l) )

_CLOSED_BY_END = (_PLAIN_BLOCK, _PLAIN_IF, _PLAIN_ELSE, _PLAIN_TRY, _PLAIN_CATCH, _PLAIN_CATCH_ALL)
_NO_PLAIN_INSTRUCTIONS = (_FOLDED_PLAIN, _IF_CONDITION, _IF_AFTER_THEN, _IF_DONE, _TRY_HEADER, _TRY_AFTER_DO,
                          _TRY_AFTER_CATCH, _TRY_DONE, _TRY_DELEGATED)
_NO_FOLDED_INSTRUCTIONS = (_IF_AFTER_THEN, _IF_DONE, _TRY_HEADER, _TRY_AFTER_DO, _TRY_AFTER_CATCH, _TRY_DONE,
                           _TRY_DELEGATED)
_FOLDED_TRY_CLAUSES = {  # state -> the clauses that may open there
    _TRY_HEADER: ("do",), _TRY_AFTER_DO: ("catch", "catch_all", "delegate"),
    _TRY_AFTER_CATCH: ("catch", "catch_all"),
}
_CLOSE_FOLDED_CLAUSE = {_TRY_DO: _TRY_AFTER_DO, _TRY_CATCH: _TRY_AFTER_CATCH, _TRY_CATCH_ALL: _TRY_DONE}


def is_index_token(kind: int, value: object) -> bool:
    """Whether a token can be an index: a ``$id`` or an unsigned number."""
    return kind == ID or (kind == ATOM and "0" <= value[0] <= "9")  # type: ignore[index]


class ExpressionParser:
    """Parses instruction sequences for one module.

    ``parse`` reads instructions up to the ``)`` that closes the enclosing
    form (a function, a global, an ``(offset ...)``) or, with ``single``, one
    folded expression (the abbreviated offset and element-item forms).
    ``positions`` then lists, for each instruction read, the character offset
    of the word it was written as (its keyword; an ``end`` left implicit by
    a folded form is the ``)`` closing it), so that errors found later, in
    validation, can point at the text.
    """

    def __init__(self, context: ModuleContext) -> None:
        self.context = context
        self.locals: dict[str, int] = {}
        self.labels: list[str | None] = []
        self.positions: list[int] = []
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
            Imm.MEMARG_LANE: self._memarg_lane,
            Imm.TAG: lambda r, op: self.context.index("tag", r),
            Imm.TYPE: lambda r, op: self.context.index("type", r),
        }

    # -- the instruction sequence --------------------------------------------

    def parse(self, reader: TokenReader, local_names: dict[str, int] | None = None,
              single: bool = False, hints: dict[int, Annotation] | None = None) -> list[Instruction]:
        """Instructions up to the closing ``)`` (not consumed), without the
        final ``end``; with ``single``, exactly one folded expression.

        ``hints`` are the branch hint annotations by the position of the
        token they precede: those before an instruction here are read, into
        ``hinted`` (the instruction's index and the hint value; the
        annotations read in ``hints_read``)."""
        self.locals = local_names if local_names is not None else {}
        self.labels = []
        self.positions = positions = []
        self.hinted: list[tuple[int, int]] = []
        self.hints_read: list[Annotation] = []
        tokens = reader.tokens
        out: list[Instruction] = []
        emit = out.append
        place = positions.append
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
            hint = None
            if hints and pos in hints:
                hint = self._hint(reader, hints[pos])
                if kind == ATOM:
                    self.hinted.append((len(out), hint))
            if kind == ATOM:
                instruction = bare.get(value)  # type: ignore[arg-type]
                if instruction is not None and state not in _NO_PLAIN_INSTRUCTIONS:
                    emit(instruction)
                    place(tokens[pos][2])
                    reader.pos = pos + 1
                    continue
                if state in _NO_PLAIN_INSTRUCTIONS:
                    raise reader.unexpected()
                if value == "end" or value == "else":
                    self._plain_end_or_else(reader, stack, out, value == "else")  # type: ignore[arg-type]
                    continue
                if value in _TRY_CLAUSES:
                    self._plain_try_clause(reader, stack, out, value)  # type: ignore[arg-type]
                    continue
                op = ops.get(value)  # type: ignore[arg-type]
                if op is None:
                    raise reader.unexpected()
                reader.pos = pos + 1
                if op.imm is Imm.BLOCKTYPE:
                    label, blocktype = self._block_header(reader)
                    emit(Instruction(op, blocktype))
                    labels.append(label)
                    stack.append([_PLAIN_IF if op is _IF else _PLAIN_TRY if op is _TRY else _PLAIN_BLOCK, label])
                elif op.imm is Imm.TRY_TABLE:
                    label, immediate = self._try_table_header(reader)
                    emit(Instruction(op, immediate))
                    labels.append(label)
                    stack.append([_PLAIN_BLOCK, label])
                else:
                    emit(self._with_immediates(reader, op))
                place(tokens[pos][2])
            elif kind == LPAR:
                keyword = reader.lpar_keyword()
                if keyword is None:
                    raise reader.unexpected(pos + 1)
                if keyword == "then" or keyword == "else":
                    self._open_clause(reader, stack, out, keyword == "else")
                    continue
                if keyword in _FOLDED_TRY_CLAUSES.get(state, ()):
                    self._open_try_clause(reader, stack, out, keyword)
                    continue
                if state in _NO_FOLDED_INSTRUCTIONS or keyword in _TRY_CLAUSES:
                    raise reader.unexpected(pos + 1)
                op = ops.get(keyword)
                if op is None:
                    raise reader.unexpected(pos + 1)
                reader.pos = pos + 2
                keyword_position = tokens[pos + 1][2]
                if hint is not None and op is not _IF and op.imm in _EMITTED_AT_ONCE:
                    self.hinted.append((len(out), hint))
                if op.imm is Imm.BLOCKTYPE:
                    label, blocktype = self._block_header(reader)
                    if op is _IF:
                        stack.append([_IF_CONDITION, label, Instruction(op, blocktype), keyword_position, hint])
                    else:
                        emit(Instruction(op, blocktype))
                        place(keyword_position)
                        labels.append(label)
                        stack.append([_TRY_HEADER if op is _TRY else _FOLDED_BLOCK, label])
                elif op.imm is Imm.TRY_TABLE:
                    label, immediate = self._try_table_header(reader)
                    emit(Instruction(op, immediate))
                    place(keyword_position)
                    labels.append(label)
                    stack.append([_FOLDED_BLOCK, label])
                else:
                    stack.append([_FOLDED_PLAIN, self._with_immediates(reader, op), keyword_position, hint])
            elif kind == RPAR:
                if not stack:
                    if self.hinted:
                        self._check_hints(out)
                    return out
                if state in _CLOSED_BY_END or state == _IF_CONDITION or state == _TRY_HEADER:
                    raise reader.unexpected()
                reader.pos = pos + 1
                frame = stack[-1]
                if state == _FOLDED_PLAIN:
                    if frame[3] is not None:
                        self.hinted.append((len(out), frame[3]))
                    emit(frame[1])
                    place(frame[2])
                    stack.pop()
                elif state == _IF_THEN:
                    frame[0] = _IF_AFTER_THEN
                elif state == _IF_ELSE:
                    frame[0] = _IF_DONE
                elif state in _CLOSE_FOLDED_CLAUSE:
                    frame[0] = _CLOSE_FOLDED_CLAUSE[state]
                elif state == _TRY_DELEGATED:  # delegate was the try's end
                    stack.pop()
                else:  # _FOLDED_BLOCK, _IF_AFTER_THEN, _IF_DONE, _TRY_AFTER_DO, _TRY_AFTER_CATCH, _TRY_DONE
                    _close_block(out, positions, tokens[pos][2])
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
        position = reader.tokens[reader.pos][2]
        reader.pos += 1
        frame = stack[-1]
        end_label = reader.optional_id()
        if end_label is not None and end_label != frame[1]:
            raise reader.error("mismatching label", reader.pos - 1)
        if is_else:
            out.append(_ELSE_INSTRUCTION)
            self.positions.append(position)
            frame[0] = _PLAIN_ELSE
        else:
            _close_block(out, self.positions, position)
            self.labels.pop()
            stack.pop()

    def _open_clause(self, reader: TokenReader, stack: list[list], out: list[Instruction], is_else: bool) -> None:
        """``(then`` or ``(else`` of a folded ``if``."""
        state = stack[-1][0] if stack else -1
        if state != (_IF_AFTER_THEN if is_else else _IF_CONDITION):
            raise reader.unexpected(reader.pos + 1)
        keyword_position = reader.tokens[reader.pos + 1][2]
        reader.pos += 2
        frame = stack[-1]
        if is_else:
            out.append(_ELSE_INSTRUCTION)
            self.positions.append(keyword_position)
            frame[0] = _IF_ELSE
        else:
            if frame[4] is not None:
                self.hinted.append((len(out), frame[4]))
            out.append(frame[2])
            self.positions.append(frame[3])
            self.labels.append(frame[1])
            frame[0] = _IF_THEN

    def _hint(self, reader: TokenReader, annotation: Annotation) -> int:
        self.hints_read.append(annotation)
        return branch_hint_value(reader, annotation)

    def _check_hints(self, out: list[Instruction]) -> None:
        """Branch hints describe branches: ``if`` and ``br_if``."""
        for (position, _), annotation in zip(self.hinted, self.hints_read):
            if out[position].op not in _HINTABLE:
                raise InvalidError(f"@{BRANCH_HINT} annotation: invalid target")

    def _plain_try_clause(self, reader: TokenReader, stack: list[list], out: list[Instruction], word: str) -> None:
        """``catch x``, ``catch_all`` or ``delegate l`` in a plain ``try``."""
        state = stack[-1][0] if stack else -1
        allowed = (_PLAIN_TRY,) if word == "delegate" else (_PLAIN_TRY, _PLAIN_CATCH)
        if state not in allowed:
            raise reader.unexpected()
        position = reader.tokens[reader.pos][2]
        reader.pos += 1
        if word == "catch":
            out.append(Instruction(_CATCH, self.context.index("tag", reader)))
            self.positions.append(position)
            stack[-1][0] = _PLAIN_CATCH
        elif word == "catch_all":
            out.append(_CATCH_ALL_INSTRUCTION)
            self.positions.append(position)
            stack[-1][0] = _PLAIN_CATCH_ALL
        else:
            self._delegate(reader, out, position)
            stack.pop()

    def _open_try_clause(self, reader: TokenReader, stack: list[list], out: list[Instruction], keyword: str) -> None:
        """``(do``, ``(catch x``, ``(catch_all`` or ``(delegate l)`` of a folded ``try``."""
        position = reader.tokens[reader.pos + 1][2]
        reader.pos += 2
        frame = stack[-1]
        if keyword == "do":
            frame[0] = _TRY_DO
        elif keyword == "catch":
            out.append(Instruction(_CATCH, self.context.index("tag", reader)))
            self.positions.append(position)
            frame[0] = _TRY_CATCH
        elif keyword == "catch_all":
            out.append(_CATCH_ALL_INSTRUCTION)
            self.positions.append(position)
            frame[0] = _TRY_CATCH_ALL
        else:
            self._delegate(reader, out, position)
            reader.expect_rpar()
            frame[0] = _TRY_DELEGATED

    def _delegate(self, reader: TokenReader, out: list[Instruction], position: int) -> None:
        """``delegate l``, written at ``position``, ends the try: its label is
        counted from outside the try."""
        self.labels.pop()
        out.append(Instruction(_DELEGATE, self._label(reader)))
        self.positions.append(position)

    def _try_table_header(self, reader: TokenReader) -> tuple[str | None, tuple[object, tuple[Catch, ...]]]:
        """``try_table``'s label, block type and catch clauses, whose labels
        are counted from outside the ``try_table``."""
        label, blocktype = self._block_header(reader)
        catches = []
        while True:
            kind = _CATCH_CLAUSES.get(reader.lpar_keyword())  # type: ignore[arg-type]
            if kind is None:
                break
            reader.pos += 2
            tag = self.context.index("tag", reader) if kind.has_tag else None
            catches.append(Catch(kind, tag, self._label(reader)))
            reader.expect_rpar()
        return label, (blocktype, tuple(catches))

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

    def _memarg(self, reader: TokenReader, op: Op) -> MemArg:
        """``memidx? offset=N? align=N?``: a memory index with multi-memory;
        an offset up to 2**64 - 1 with memory64 (whether it fits the memory's
        address type is for validation to say), else up to 2**32 - 1."""
        features = self.context.features
        memory = 0
        if Feature.MULTI_MEMORY in features and self._memory_index_follows(reader, op):
            memory = self.context.index("memory", reader)
        offset = 0
        alignment = op.natural_alignment
        word = reader.atom()
        if word is not None and word.startswith("offset="):
            offset = parse_nat(word[7:])
            if offset is None:
                raise reader.error(f"unknown operator {word}")
            if Feature.MEMORY64 not in features and offset > MAX_U32:
                raise reader.error("i32 constant out of range")
            if offset > MAX_U64:
                raise reader.error("i64 constant out of range")
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
        return MemArg(alignment, offset, memory)

    @staticmethod
    def _memory_index_follows(reader: TokenReader, op: Op) -> bool:
        """Whether a memory index starts the memarg.  A lane instruction
        ends with a lane index, so a number there is its memory index only
        when more follows: ``v128.load8_lane 1 0`` is memory 1, lane 0;
        ``v128.load8_lane 1`` lane 1 of memory 0."""
        tokens = reader.tokens
        kind, value, _ = tokens[reader.pos]
        if not is_index_token(kind, value):
            return False
        if op.imm is not Imm.MEMARG_LANE or kind == ID:
            return True
        kind, value, _ = tokens[reader.pos + 1]
        return kind == ATOM and (is_index_token(kind, value) or value.startswith(("offset=", "align=")))  # type: ignore[union-attr]

    def _memarg_lane(self, reader: TokenReader, op: Op) -> tuple[MemArg, int]:
        return self._memarg(reader, op), read_lane_index(reader)

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


def _close_block(out: list[Instruction], positions: list[int], position: int) -> None:
    """Emit the ``end`` of a block, written at ``position``.  An ``else``
    with nothing after it is dropped first: ``if ... else end`` and ``if ...
    end`` are the same instruction, and ``wat2wasm`` writes the shorter form."""
    if out and out[-1] is _ELSE_INSTRUCTION:
        out.pop()
        positions.pop()
    out.append(END_INSTRUCTION)
    positions.append(position)


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

