"""The compiled loop's code format: a lowered function encoded as 64-bit words.

Every instruction becomes four words ``[opcode, a, b, c]`` in an ``array('q')``
(so instruction ``pc`` starts at word ``4 * pc`` and the pc↔instruction
correspondence of the lowered form is kept, for fuel, traps and backtraces).
Operands are slot numbers within the frame (locals first, then the operand
stack at fixed positions, see interp/translate/lower.py) or immediates; branch
tables and other wide operands live in a second array, ``side``.

How an instruction is encoded follows from its semantics in the table
(interp/syntax/semantics.py): a ``Compute`` instruction is its own opcode over
the slots of its operands (the result replaces the first), an ``Access`` its
opcode, the address slot and the static offset, a ``RUNTIME`` instruction
``pyop`` — its Python function (instance_ops.py), called from C — and only
the ``MACHINE`` instructions have encoders here, in terms of the loop's own
instructions (``cython_semantics.LOOP_OPERATIONS``).  The opcode numbers are
the built loop's (``loop.OPCODES``).

Encoding is per module, as in wasmtime: a function is encoded once for all
the instances of its module (and kept in the module cache, see
``serialize``).  The words that name an instance's functions, globals,
memories, tables, types or Python operations hold the module's index of what
they name, and ``relocations`` lists them; ``bind`` puts the machine's ids in
those words of an instance's copy.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from interp.exec.instance_ops import InstanceOperation, instance_operation
from interp.errors import UsageError
from interp.exec.native.cython_semantics import indexed_name
from interp.exec.native.fusion import (
    BR_IF, COMPUTE, CONST, GET, IF, LOAD, SET, STORE, TEE, WORD_PARTS, fusions, stack_effect)
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import ref_matches
from interp.syntax.opcodes import OPS, Imm, MemArg, Op
from interp.syntax.semantics import RUNTIME, Access, Compute
from interp.syntax.types import MemoryType, ValType
from interp.syntax.values import f32_to_bits, f64_to_bits
from interp.translate.compiled import CompiledModule
from interp.translate.lower import OFFSET_CODE, Branch, LoweredFunction, Return
from interp.valid.context import ModuleContext

try:
    from interp.exec.native import encode_words
except ImportError:  # a pure-Python install: there is no compiled loop to encode for
    encode_words = None

_TYPE_CODES = {ValType.I32: 0, ValType.I64: 1, ValType.F32: 2, ValType.F64: 3, ValType.V128: 4}
REFERENCE = 5
"""The type code of every reference type: a reference is a handle (see the loop's ``ref_handle``)."""
NO_RESULT = -1
RETURN_TARGET = -1  # in a branch table entry: leave the function
ENGINE = "cython"
"""The key of this engine's code in ``CompiledModule.engine_code`` and the cache."""


def type_code(valtype: ValType) -> int:
    """How the loop holds a value of ``valtype`` in a slot (the ``T_*`` codes of loop.pyx.in)."""
    return _TYPE_CODES.get(valtype, REFERENCE)


class Registry(Protocol):
    """What the compiled loop keeps for bound code: ids for the runtime objects
    that instructions refer to."""

    def function_id(self, func: object) -> int: ...

    def global_id(self, cell: object) -> int: ...

    def memory_id(self, memory: object) -> int: ...

    def table_id(self, table: object) -> int: ...

    def type_id(self, func_type: object) -> int: ...

    def ref_handle(self, value: object) -> int: ...

    def python_op(self, op: PythonOp) -> int: ...


@dataclass(frozen=True)
class PythonOp:
    """An instruction run by a Python function: its operands are the top
    ``len(params)`` stack values, its result (if any) replaces the first."""

    function: Callable[..., Any]
    params: tuple[int, ...]  # type codes
    result: int              # type code, or NO_RESULT
    name: str
    more_results: tuple[int, ...] = ()  # type codes of the results after the first (a tuple is returned)


# What a relocated word names (its value before binding is the module's index of it).
FUNCTION, FUNCTION_REF, GLOBAL, MEMORY, TABLE, TYPE, PYTHON_OP, MEMORY_ABOVE_1_BIT, MEMORY_ABOVE_8_BITS, \
    BRANCH_TEST = range(10)
_FLAG_BITS = {MEMORY_ABOVE_1_BIT: 1, MEMORY_ABOVE_8_BITS: 8}
"""Relocated words that hold a memory's index shifted above that many bits of flags."""
_A, _B, _C = 1, 2, 3  # the operand words of an instruction, after its opcode


@dataclass(frozen=True, eq=False)
class EncodedFunction:
    """One function in the loop's code format, for any instance of its module.
    ``relocations`` holds ``(word, kind)`` pairs: ``code[word]`` names the
    thing of that kind (``FUNCTION`` ...) with that index in the module; a
    ``PYTHON_OP`` word holds the instruction's pc, and the word after it the
    operand-stack top, from which its operands' count is taken at binding.
    ``offsets`` are the instructions' byte offsets (for backtraces).
    ``unfused`` holds ``[pc, four words]`` records, in pc order: the
    instructions whose words a superinstruction replaced (``_encoding_table`` says which)."""

    code: array
    side: array
    offsets: array
    relocations: array
    unfused: array
    num_locals: int
    frame_size: int


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class _Encoder:
    def __init__(self, lowered: LoweredFunction, context: ModuleContext, opcodes: dict[str, int]) -> None:
        self.lowered = lowered
        self.context = context
        self.opcodes = opcodes
        self.code = array("q")
        self.side = array("q")
        self.relocations = array("q")
        self.locals = lowered.num_locals
        self.pc = 0

    def emit(self, name: str, a: int = 0, b: int = 0, c: int = 0) -> None:
        """The words of instruction ``pc`` (the code is sized for every instruction up front)."""
        head = 4 * self.pc
        self.code[head:head + 4] = array("q", (self.opcodes[name], a, b, c))

    def relocate(self, operand: int, kind: int) -> None:
        """Operand ``operand`` (``_A``, ``_B``, ``_C``) of the instruction just
        emitted names the module's thing of ``kind`` at the index it holds."""
        self.relocations.extend((4 * self.pc + operand, kind))

    def slot(self, height: int) -> int:
        return self.locals + height

    def branch_entry(self, target: Branch | Return) -> int:
        """Append a branch to the side array: ``[target, dst, src, arity]``."""
        index = len(self.side)
        if isinstance(target, Return):
            self.side.extend((RETURN_TARGET, 0, self.slot(target.source), len(self.lowered.type.results)))
        else:
            arity = target.arity if target.moves_values else 0
            self.side.extend((target.target, self.slot(target.height), self.slot(target.source), arity))
        return index



def encode_function(lowered: LoweredFunction, context: ModuleContext, opcodes: dict[str, int]) -> EncodedFunction:
    """The encoding of a lowered function of the module of ``context``: the
    words of every instruction, then the superinstructions chosen over
    them, both in C types (encode_words.pyx) as ``_encoding_table`` says."""
    if encode_words is None:
        raise UsageError("the compiled loop's encoder is not built (pip install -e . with Cython)")
    encoder = _Encoder(lowered, context, opcodes)
    encoder.code = array("q", bytes(32 * len(lowered.ops)))
    memory0_is_32 = bool(context.memories) and context.memories[0].address is ValType.I32
    unfused = _encoding_table(opcodes).encode(encoder, lowered, memory0_is_32)
    if len(encoder.side) == 0:
        encoder.side.append(0)  # the loop takes the address of its first word
    if not unfused:
        unfused.extend((-1, 0, 0, 0, 0))  # the loop takes the address of its first word
    return EncodedFunction(encoder.code, encoder.side, array(OFFSET_CODE, lowered.offsets), encoder.relocations,
                           unfused, lowered.num_locals, lowered.frame_size)


# --- superinstructions (fusion.py) ------------------------------------------------------

_UNFUSED_RECORD = 5
_CONSTS = ("i32.const", "i64.const", "f32.const", "f64.const")


@dataclass(frozen=True)
class _FusionPlan:
    """Superinstructions by ``Op.id``: ``plain`` gives the opcode an
    instruction's own encoding must have to be part of one (memory 0, a
    branch without moves ...), and ``trie`` the superinstructions by the ids
    of their instructions in order; a node's ``None`` key holds the opcode
    of the sequence ending there, whether its first operand word is its
    first stack slot, and where its other words come from: ``(instruction,
    word)`` pairs, relative to the sequence's first instruction."""

    plain: list
    trie: dict


_fusion_plans: dict[int, tuple[dict[str, int], _FusionPlan]] = {}


def _fusion_plan(opcodes: dict[str, int]) -> _FusionPlan:
    found = _fusion_plans.get(id(opcodes))
    if found is not None and found[0] is opcodes:
        return found[1]
    plain = [-1] * len(OPS)
    word_of: dict[str, int] = {GET: _B, SET: _A, TEE: _A, CONST: _B, BR_IF: _B, IF: _B, LOAD: _B, STORE: _B}
    ids_of = {part: [op.id for op in OPS if op.name == part] for part in (GET, SET, TEE, BR_IF, IF)}
    ids_of[CONST] = [op.id for op in OPS if op.name in _CONSTS]
    for operation in OPS:
        name, semantics = operation.name, operation.semantics
        if name in (GET, SET, TEE):
            plain[operation.id] = opcodes["copy"]
        elif name in _CONSTS:
            plain[operation.id] = opcodes["const"]
        elif name in (BR_IF, IF) or isinstance(semantics, (Compute, Access)):
            plain[operation.id] = opcodes[name]
    trie: dict = {}
    for fusion in fusions():
        parts = fusion.shape.parts
        ops = iter(fusion.ops)
        choices = [[next(ops).id] if part in (COMPUTE, LOAD, STORE) else ids_of[part] for part in parts]
        below, left = stack_effect(parts, tuple(len(op.params or ()) for op in fusion.ops))
        words = tuple((index, word_of[part]) for index, part in enumerate(parts) if part in WORD_PARTS)
        nodes = [trie]
        for options in choices:
            nodes = [node.setdefault(option, {}) for node in nodes for option in options]
        for node in nodes:
            node[None] = (opcodes[fusion.name], bool(below or left or TEE in parts), words)
    plan = _FusionPlan(plain, trie)
    _fusion_plans[id(opcodes)] = (opcodes, plan)
    return plan


_encoding_tables: dict[int, tuple[dict[str, int], Any]] = {}


def _encoding_table(opcodes: dict[str, int]) -> Any:
    """How each instruction is encoded, by ``Op.id``, for the typed encoder
    (``encode_words.EncodingTable``), made once per opcode numbering: its
    kind (as its semantics say; the machine instructions whose words follow
    from their immediate alone have kinds of their own), its opcode in
    ``opcodes``, its operands' count, and the encoder of the instructions
    encoded here.

    The superinstructions are chosen so that as few instructions as possible
    are dispatched (a shortest path over the function, on the automaton made
    from ``_fusion_plan``); the first instruction of each chosen sequence is
    replaced by it.  A sequence never contains a branch target but as its
    first instruction: every target follows a control instruction (a
    label's ``end``, a ``loop``, ``else`` ...), and those are in none."""
    found = _encoding_tables.get(id(opcodes))
    if found is not None and found[0] is opcodes:
        return found[1]
    kinds, numbers, arities, machine = [], [], [], []
    for operation in OPS:
        semantics = operation.semantics
        arity = len(operation.params or ())
        number, encoder = 0, _MACHINE_ENCODERS.get(operation.name)
        if isinstance(semantics, Compute):
            kind, number = encode_words.COMPUTE, opcodes[operation.name]
        elif isinstance(semantics, Access):
            kind, number, encoder = encode_words.ACCESS, opcodes[operation.name], _indexed_access
        elif semantics is RUNTIME:
            kind, encoder = encode_words.RUNTIME, _python_op
        else:
            kind = getattr(encode_words, _PLAIN_MACHINE_KINDS.get(operation.name, "MACHINE"))
        kinds.append(kind)
        numbers.append(number)
        arities.append(arity)
        machine.append(encoder)
    plan = _fusion_plan(opcodes)
    table = encode_words.EncodingTable(kinds, numbers, arities, machine, opcodes["copy"], opcodes["const"],
                                       opcodes["nop"], encode_words.FusionAutomaton(plan.plain, plan.trie))
    _encoding_tables[id(opcodes)] = (opcodes, table)
    return table


def module_function(compiled: CompiledModule, func_index: int, opcodes: dict[str, int]) -> EncodedFunction:
    """A fresh copy of the encoding of the module's function ``func_index``,
    for ``bind`` to bind in place.  The module keeps each encoding as its
    packed record (about a fifth of the words' size), which the module cache
    stores too: from there, from the cache, or else by lowering and
    encoding the function (once per module)."""
    kept: dict[int, bytes] = compiled.engine_code.setdefault(ENGINE, {})
    record = kept.get(func_index)
    store = compiled.code_store
    if record is None and store is not None:
        record = store.load(ENGINE, func_index)
    if record is not None:
        found = deserialize(record)
        if found is not None:
            kept[func_index] = record
            return found
    encoded = encode_function(compiled.lower(func_index), compiled.context, opcodes)
    record = kept[func_index] = serialize(encoded)
    if store is not None:
        store.save(ENGINE, func_index, record)
    return encoded


def bind(encoded: EncodedFunction, func_index: int, instance: ModuleInstance, registry: Registry) -> None:
    """Make every relocated word of ``encoded`` (a copy of its own, from
    ``module_function``) name the registry's id for ``instance``'s thing."""
    code = encoded.code
    relocations = encoded.relocations
    resolved: dict[tuple[int, int], int] = {}
    for position in range(0, len(relocations), 2):
        word, kind = relocations[position], relocations[position + 1]
        index = code[word]
        if kind == PYTHON_OP:
            found, name = _python_operation(instance, func_index, index)
            code[word] = registry.python_op(PythonOp(
                found.function, tuple(type_code(t) for t in found.params),
                NO_RESULT if found.result is None else type_code(found.result), name,
                tuple(type_code(t) for t in found.more_results)))
            code[word + 1] -= len(found.params)
            continue
        if kind == BRANCH_TEST:
            code[word] = registry.python_op(branch_test(instance, func_index, index))
            continue
        bits = _FLAG_BITS.get(kind)
        if bits is not None:
            flags = index & ((1 << bits) - 1)
            code[word] = _resolve(resolved, registry, instance, MEMORY, index >> bits) << bits | flags
        else:
            code[word] = _resolve(resolved, registry, instance, kind, index)


def _resolve(resolved: dict[tuple[int, int], int], registry: Registry, instance: ModuleInstance, kind: int,
             index: int) -> int:
    key = (kind, index)
    value = resolved.get(key)
    if value is None:
        value = resolved[key] = _RESOLVERS[kind](registry, instance, index)
    return value


def _python_operation(instance: ModuleInstance, func_index: int, pc: int) -> tuple[InstanceOperation, str]:
    """The Python function running the ``RUNTIME`` instruction ``pc`` of the function."""
    position = func_index - instance.compiled.num_imported_funcs
    operation, imm, _ = instance.module.funcs[position].body[pc]
    return instance_operation(instance, operation, imm), operation.name


def branch_test(instance: ModuleInstance, func_index: int, pc: int) -> PythonOp:
    """The test of the ``br_on_cast`` or ``br_on_cast_fail`` at ``pc`` of the
    function: 1 when the branch is taken for the reference it is given."""
    lowered = instance.compiled.lowered(func_index)
    operation, (_, target) = lowered.ops[pc], lowered.imms[pc]
    taken = 1 if operation.name == "br_on_cast" else 0

    def test(value: object) -> int:
        return taken if ref_matches(value, target) else 1 - taken
    return PythonOp(test, (REFERENCE,), type_code(ValType.I32), operation.name)


_RESOLVERS: dict[int, Callable[[Registry, ModuleInstance, int], int]] = {
    FUNCTION: lambda registry, instance, index: registry.function_id(instance.funcs[index]),
    FUNCTION_REF: lambda registry, instance, index: registry.ref_handle(instance.funcs[index]),
    GLOBAL: lambda registry, instance, index: registry.global_id(instance.globals[index]),
    MEMORY: lambda registry, instance, index: registry.memory_id(instance.memories[index]),
    TABLE: lambda registry, instance, index: registry.table_id(instance.tables[index]),
    TYPE: lambda registry, instance, index: registry.type_id(instance.types[index]),
}


# --- the kept form: plain numbers, no objects, packed -----------------------------------

_HEADER = struct.Struct("<7q")  # num_locals, frame_size, and the five arrays' lengths
_OFFSETS = 2  # the offsets' place among them


def serialize(encoded: EncodedFunction) -> bytes:
    """The record of an encoding: its header, then every word of its arrays
    as a zigzag LEB128 number (encode_words.pyx; the byte offsets as their
    differences), about a byte and a half a word."""
    arrays = (encoded.code, encoded.side, encoded.offsets, encoded.relocations, encoded.unfused)
    out = bytearray(_HEADER.pack(encoded.num_locals, encoded.frame_size, *map(len, arrays)))
    for index, part in enumerate(arrays):
        encode_words.pack_words(part, out, index == _OFFSETS)
    return bytes(out)


def deserialize(record: bytes | memoryview) -> EncodedFunction | None:
    """An encoded function from ``serialize``'s bytes, or ``None`` when they
    do not have its shape (the cache checked they are what it wrote)."""
    if encode_words is None or len(record) < _HEADER.size:
        return None
    num_locals, frame_size, *lengths = _HEADER.unpack_from(record)
    if min(num_locals, frame_size, *lengths) < 0 or sum(lengths) > len(record) - _HEADER.size:
        return None  # every word takes a byte at least
    parts = [array(code, [0]) * length for code, length in zip("qq" + OFFSET_CODE + "qq", lengths)]
    position = _HEADER.size
    for index, part in enumerate(parts):
        position = encode_words.unpack_words(record, position, part, index == _OFFSETS)
        if position < 0:
            return None
    code, side, offsets, relocations, unfused = parts
    if position != len(record) or len(code) != 4 * len(offsets) or len(relocations) % 2 or not side or \
            not unfused or len(unfused) % _UNFUSED_RECORD:
        return None
    return EncodedFunction(code, side, offsets, relocations, unfused, num_locals, frame_size)


def _indexed_access(e: _Encoder, operation: Op, imm: MemArg, top: int) -> None:
    """A load or store other than on a 32-bit memory 0 (which the loop keeps
    a pointer to, ``[op, address slot, offset]``, encode_words.pyx): ``[op.indexed,
    address slot, offset, memory id << 1 | 64-bit]``."""
    e.emit(indexed_name(operation), top - len(operation.params or ()), _signed64(imm.offset), imm.memory << 1 | _is64_memory(e, imm.memory))
    e.relocate(_C, MEMORY_ABOVE_1_BIT)


def _is64_memory(e: _Encoder, index: int) -> int:
    return 1 if e.context.memories[index].address is ValType.I64 else 0


def _page_shift(memory: MemoryType) -> int:
    """The page size's exponent of two."""
    return memory.page_size.bit_length() - 1


# --- the MACHINE instructions, in the loop's own instructions -------------------------

def _python_op(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    """A ``RUNTIME`` instruction, run by its Python function (chosen when bound)."""
    e.emit("pyop", e.pc, top)
    e.relocate(_A, PYTHON_OP)


def _unreachable(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("unreachable")


def _if(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("if", top - 1, imm)


def _else(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("jump", imm)


def _return(e: _Encoder, result: Return) -> None:
    e.emit("return", e.slot(result.source), len(e.lowered.type.results))


def _br(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    if isinstance(imm, Return):
        _return(e, imm)
    elif imm.moves_values:
        e.emit("br_move", imm.target, e.branch_entry(imm))
    else:
        e.emit("jump", imm.target)


def _br_if(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    if isinstance(imm, Branch) and not imm.moves_values:
        e.emit("br_if", top - 1, imm.target)
    else:
        e.emit("br_if_entry", top - 1, e.branch_entry(imm))


def _br_table(e: _Encoder, operation: Op, imm: tuple, top: int) -> None:
    targets, default = imm
    first = len(e.side)
    for target in (*targets, default):
        e.branch_entry(target)
    e.emit("br_table", top - 1, first, len(targets))


def _end(e: _Encoder, operation: Op, imm: Return | None, top: int) -> None:
    if isinstance(imm, Return):
        _return(e, imm)
    else:
        e.emit("nop")


def _return_instr(e: _Encoder, operation: Op, imm: Return, top: int) -> None:
    _return(e, imm)


def _call(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    """``call`` and ``return_call``: ``[op, callee id, first argument slot]``."""
    e.emit(operation.name, imm, top - len(e.context.funcs[imm].params))
    e.relocate(_A, FUNCTION)


def _call_indirect(e: _Encoder, operation: Op, imm: tuple[int, int], top: int) -> None:
    """``call_indirect`` and ``return_call_indirect``: ``[op, table id, type id,
    index slot << 32 | first argument slot]``."""
    type_index, table_index = imm
    defined = e.context.types[type_index]
    index_slot = top - 1
    e.emit(operation.name, table_index, type_index, (index_slot << 32) | (index_slot - len(defined.comp.params)))
    e.relocate(_A, TABLE)
    e.relocate(_B, TYPE)


def _call_ref(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    """``call_ref`` and ``return_call_ref``: ``[op, reference slot, first argument slot]``."""
    reference_slot = top - 1
    e.emit(operation.name, reference_slot, reference_slot - len(e.context.types[imm].comp.params))


def _rethrow(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("rethrow", e.slot(imm))


def _br_on_null(e: _Encoder, operation: Op, imm: Branch | Return, top: int) -> None:
    """``[br_on_null | br_on_non_null, reference slot, branch entry]``."""
    e.emit(operation.name, top - 1, e.branch_entry(imm))


def _br_on_cast(e: _Encoder, operation: Op, imm: tuple, top: int) -> None:
    """``[br_on_test, reference slot, branch entry, test]``: the test (bound
    per instance, ``branch_test``) is a Python function of the reference,
    true when the branch is taken."""
    e.emit("br_on_test", top - 1, e.branch_entry(imm[0]), e.pc)
    e.relocate(_C, BRANCH_TEST)


def _select(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("select", top - 3, top - 2, top - 1)


def _global_get(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("global.get", top, imm)
    e.relocate(_B, GLOBAL)


def _global_set(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("global.set", top - 1, imm)
    e.relocate(_B, GLOBAL)


def _const(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    """A float or vector constant (an integer one is encode_words.pyx's)."""
    if operation.imm is Imm.V128:
        e.emit("const128", top, _signed64(imm & 0xFFFF_FFFF_FFFF_FFFF), _signed64(imm >> 64))
    else:
        e.emit("const", top, _signed64(f32_to_bits(imm) if operation.imm is Imm.F32 else f64_to_bits(imm)))


def _ref_null(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("const", top, 0)


def _ref_func(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    e.emit("const", top, imm)
    e.relocate(_B, FUNCTION_REF)


def _ref_is_null(e: _Encoder, operation: Op, imm: Any, top: int) -> None:
    e.emit("ref.is_null", top - 1)


def _memory_op(e: _Encoder, operation: Op, imm: int, top: int) -> None:
    """``memory.size`` / ``grow`` / ``fill``: ``[op, first operand slot,
    memory id, page size exponent << 2 | 64-bit]``."""
    operands = len(operation.params or ())
    e.emit(operation.name, top - operands, imm, _page_shift(e.context.memories[imm]) << 2 | _is64_memory(e, imm))
    e.relocate(_B, MEMORY)


def _memory_copy(e: _Encoder, operation: Op, imm: tuple[int, int], top: int) -> None:
    """``[op, first operand slot, destination memory id, source memory id <<
    8 | source 64-bit << 1 | destination 64-bit]``."""
    destination, source = imm
    e.emit("memory.copy", top - 3, destination, source << 8 | _is64_memory(e, source) << 1 | _is64_memory(e, destination))
    e.relocate(_B, MEMORY)
    e.relocate(_C, MEMORY_ABOVE_8_BITS)


_MACHINE_ENCODERS: dict[str, Callable[[_Encoder, Op, Any, int], None]] = {
    "end": _end,
    "unreachable": _unreachable, "if": _if, "else": _else, "br": _br, "br_if": _br_if,
    "br_table": _br_table, "return": _return_instr, "call": _call, "call_indirect": _call_indirect,
    "return_call": _call, "return_call_indirect": _call_indirect, "return_call_ref": _call_ref,
    "catch": _else, "catch_all": _else, "rethrow": _rethrow,
    "call_ref": _call_ref, "br_on_null": _br_on_null, "br_on_non_null": _br_on_null, "br_on_cast": _br_on_cast,
    "br_on_cast_fail": _br_on_cast,
    "select": _select,
    "global.get": _global_get, "global.set": _global_set,
    "f32.const": _const, "f64.const": _const, "v128.const": _const,
    "ref.null": _ref_null, "ref.func": _ref_func, "ref.is_null": _ref_is_null,
    "memory.size": _memory_op, "memory.grow": _memory_op, "memory.fill": _memory_op,
    "memory.copy": _memory_copy,
}
_PLAIN_MACHINE_KINDS: dict[str, str] = {
    "nop": "NOP", "block": "NOP", "loop": "NOP", "drop": "NOP", "try_table": "NOP", "try": "NOP", "delegate": "NOP",
    "end": "END", "local.get": "GET", "local.set": "SET", "local.tee": "SET", "i32.const": "INT_CONST",
    "i64.const": "INT_CONST",
}
"""The machine instructions whose words encode_words.pyx writes itself (by
the name of their kind there): ``nop``, ``copy`` between a local and the
stack, an integer ``const``; an ``end`` that returns is ``_end``'s."""
