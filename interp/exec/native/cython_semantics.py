"""The instruction table's data semantics rendered as the compiled loop's C
cases, at build time: setup.py calls ``write_loop``, which fills the template
``loop.pyx.in`` into ``loop.pyx`` before Cython compiles it.

Generated are the loop's opcode enum (its own instructions for control,
calls, variables and the memory's size, then one per ``Compute`` and
``Access`` instruction of the table, in table order), the trap codes (from
``interp.errors.TrapKind``), and a case of the loop's dispatch for every
``Compute`` and ``Access`` instruction: a ``Compute`` expression
(interp/exec/semantics.py) becomes one assignment to the result's slot, its
trap conditions ``if`` lines before it; an ``Access`` a bounds check and a
byte copy.  Slots are ``Value`` unions, so an operand is read through the
field of its type (``R[a].i32`` is an i32 read signed) and numerics.h has the
primitives C lacks.  The ``RUNTIME`` instructions need no case: the loop runs
their Python function (``pyop``).

``SOURCE_DIGEST`` fingerprints the table the loop was generated from; the
engine refuses a compiled loop built from another table (engines.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable

from interp.errors import TrapKind
from interp.exec.semantics import (
    AccessShape,
    Binary,
    Call,
    Choice,
    Comparison,
    Convert,
    Literal,
    Logical,
    Negate,
    Node,
    Not,
    Operand,
    SemanticsError,
    Type,
    access_shape,
    typed_compute,
)
from interp.exec.native.fusion import (
    BR_IF, COMPUTE, CONST, GET, IF, LOAD, MAX_PARTS, SET, STORE, TEE, Fusion, fusions, stack_effect)
from interp.syntax.opcodes import OPS, Op
from interp.syntax.semantics import Access, Compute

LOOP_OPERATIONS = (
    "nop", "unreachable", "if", "jump", "br_move", "br_if", "br_if_entry", "br_table", "return", "call",
    "call_indirect", "select", "copy", "global.get", "global.set", "const", "const128", "ref.is_null", "pyop",
    "memory.size", "memory.grow", "memory.fill", "memory.copy",
    "return_call", "return_call_indirect", "return_call_ref", "rethrow",
    "call_ref", "br_on_null", "br_on_non_null", "br_on_test",
)
"""The loop's own instructions (written in the template, encoded by encode.py):
what the ``MACHINE`` instructions of the table become."""

TEMPLATE = Path(__file__).with_name("loop.pyx.in")
OUTPUT = Path(__file__).with_name("loop.pyx")
_MARKER = "# <<generated: "

_FIELDS = {Type.I32: "u32", Type.S32: "i32", Type.I64: "u64", Type.S64: "i64", Type.F32: "f32", Type.F64: "f64"}
_C_TYPES = {Type.I32: "uint32_t", Type.S32: "int32_t", Type.I64: "uint64_t", Type.S64: "int64_t",
            Type.S8: "int8_t", Type.S16: "int16_t", Type.F32: "float", Type.F64: "double", Type.BOOL: "bint"}
_SLOTS = ("a", "b", "c")
_SLOT_READ = re.compile(r"R\[[^\]]+\]\.\w+|\(<\w+>[abc]\)")
"""A read of one operand (a slot's field, or an operand word's bits): cheap to repeat."""
_PRIMITIVES = {"clz": "gw_clz", "ctz": "gw_ctz", "popcnt": "gw_popcnt", "rotl": "gw_rotl", "rotr": "gw_rotr",
               "abs": "gw_fabs", "copysign": "gw_copysign", "min": "gw_fmin", "max": "gw_fmax",
               "ceil": "gw_ceil", "floor": "gw_floor", "trunc": "gw_trunc", "nearest": "gw_nearest",
               "sqrt": "gw_sqrt",
               "bits": "gw_bits", "from_bits": "gw_from_bits"}


def data_semantics_ops() -> tuple[Op, ...]:
    """The table's instructions that get a generated case, in table order."""
    return tuple(op for op in OPS if isinstance(op.semantics, (Compute, Access)))


def indexed_name(op: Op) -> str:
    """The loop's opcode for a load or store on any memory (by its id) of
    either address type; the opcode named like the instruction accesses the
    running function's memory 0, when that is 32-bit."""
    return op.name + ".indexed"


def opcode_names() -> tuple[str, ...]:
    """Every opcode of the loop, by name, in the order of its enum (the
    superinstructions last, from ``FIRST_FUSED`` on)."""
    ops = data_semantics_ops()
    return LOOP_OPERATIONS + tuple(op.name for op in ops) + tuple(
        indexed_name(op) for op in ops if isinstance(op.semantics, Access)) + tuple(
        fusion.name for fusion in fusions())


def constant(name: str) -> str:
    """The enum constant of a loop opcode: ``i32.add`` is ``OP_I32_ADD``,
    ``local.get+compute:i32.add`` ``OP_LOCAL_GET__COMPUTE_I32_ADD``."""
    return "OP_" + name.upper().replace(".", "_").replace("+", "__").replace(":", "_")


class _Renderer:
    """Renders typed trees as Cython expressions over the slots of the
    instruction word's operands (``a``, ``b``, ``c``)."""

    def __init__(self, op: Op, read: Callable[[int, Type], str] | None = None) -> None:
        self.op = op
        self.read = read or self.slot_read

    @staticmethod
    def slot_read(index: int, kind: Type) -> str:
        """Operand ``index`` in its slot, as the instruction's own case reads it."""
        return f"R[{_SLOTS[index]}].{_FIELDS[kind]}"

    def fail(self, message: str) -> SemanticsError:
        return SemanticsError(f"{self.op.name}: {message}")

    def render(self, node: Node) -> str:
        if isinstance(node, Operand):
            return self.read(node.index, node.type)
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Negate):
            return f"gw_fneg{node.type.bits}({self.render(node.operand)})"
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Comparison):
            return f"({self.render(node.left)} {node.operator} {self.render(node.right)})"
        if isinstance(node, Logical):
            return "(" + f" {node.operator} ".join(self.render(operand) for operand in node.operands) + ")"
        if isinstance(node, Not):
            return f"(not {self.render(node.operand)})"
        if isinstance(node, Choice):
            return f"({self.render(node.then)} if {self.render(node.test)} else {self.render(node.otherwise)})"
        if isinstance(node, Convert):
            return self.convert(node.operand, node.type)
        if isinstance(node, Call):
            return self.call(node)
        raise self.fail(f"cannot render {node!r} in Cython")

    def literal(self, node: Literal) -> str:
        kind, value = node.type, node.value
        if kind.is_float:
            return f"({value!r})" if value < 0 else repr(value)
        if kind.signed and value == -(1 << (kind.bits - 1)):
            return f"(<{_C_TYPES[kind]}>(-{(1 << (kind.bits - 1)) - 1}LL - 1))"
        suffix = ("ULL" if kind.bits == 64 else "U") if kind.is_unsigned else ("LL" if kind.bits == 64 else "")
        return f"(<{_C_TYPES[kind]}>{value}{suffix})"

    def binary(self, node: Binary) -> str:
        kind, operator = node.type, node.operator
        left, right = self.render(node.left), self.render(node.right)
        if kind.is_unsigned and operator in ("+", "-", "*", "<<"):
            return f"(<{_C_TYPES[kind]}>({left} {operator} {right}))"
        if kind.signed and operator == "%":
            # C leaves MIN % -1 undefined (it traps on x86); its value is 0.
            if not _SLOT_READ.fullmatch(right):
                raise self.fail("a signed remainder by anything but an operand")
            return f"(0 if {right} == -1 else {left} % {right})"
        return f"({left} {operator} {right})"

    def convert(self, operand: Node, target: Type) -> str:
        source = operand.type
        if source is target:
            return self.render(operand)
        if isinstance(operand, Operand) and not source.is_float and target in _FIELDS \
                and not target.is_float and target.bits == source.bits:
            return self.read(operand.index, target)  # the operand read as the other type
        return f"(<{_C_TYPES[target]}>({self.render(operand)}))"

    def call(self, node: Call) -> str:
        name, bits = node.function, node.type.bits
        if name in ("bits", "from_bits") and isinstance(node.args[0], Operand):
            return self.read(node.args[0].index, node.type)  # the operand read as the other type
        args = ", ".join(self.render(arg) for arg in node.args)
        if name in ("bits", "from_bits"):
            bits = node.args[0].type.bits
        return f"{_PRIMITIVES[name]}{bits}({args})"


def _trap(kind: TrapKind) -> str:
    return f"TRAP_{kind.name}"


def compute_case(op: Op) -> list[str]:
    """The body of ``op``'s case: operand slots, trap checks, the result."""
    typed = typed_compute(op)
    renderer = _Renderer(op)
    lines = [f"{_SLOTS[i]} = ins[{i + 1}]" for i in range(1, len(typed.operands))]
    for condition, kind in typed.traps:
        lines += [f"if {renderer.render(condition)}:", f"    self._trap({_trap(kind)}, pc)"]
    value = typed.value
    field = "u32" if value.type is Type.BOOL else _FIELDS[value.type]
    lines += [f"R[a].{field} = {renderer.render(value)}", "pc += 1"]
    return lines


def access_case(op: Op) -> list[str]:
    """The body of a load's or store's case on the running function's memory
    0, a 32-bit one: ``[op, address slot, offset]``, the value in the next
    slot for a store.  (An address and an offset below 2**32 cannot
    overflow.)"""
    shape = access_shape(op)
    lines = [f"ea = <uint64_t>R[a].{_FIELDS[shape.address]} + <uint64_t>ins[2]",
             f"if ea + {shape.width} > mem_size:", f"    self._trap({_trap(TrapKind.MEMORY_OUT_OF_BOUNDS)}, pc)"]
    return lines + _transfer(shape, "mem") + ["pc += 1"]


def indexed_access_case(op: Op) -> list[str]:
    """The body of a load's or store's case on any memory: ``[op.indexed,
    address slot, offset, memory id << 1 | 64-bit]``.  The bounds check
    cannot overflow: a 64-bit address plus an offset may exceed 2**64."""
    shape = access_shape(op)
    return [
        "c = ins[3]",
        "memory_base = self.memory_bases[c >> 1]",
        "size = self.memory_sizes[c >> 1]",
        "ea = R[a].u64 if c & 1 else <uint64_t>R[a].u32",
        f"if ea > size or <uint64_t>ins[2] > size - ea or size - ea - <uint64_t>ins[2] < {shape.width}:",
        f"    self._trap({_trap(TrapKind.MEMORY_OUT_OF_BOUNDS)}, pc)",
        "ea += <uint64_t>ins[2]",
        *_transfer(shape, "memory_base"),
        "pc += 1",
    ]


def _transfer(shape: AccessShape, base: str) -> list[str]:
    """The access itself, at ``base + ea``: the value in the slot after the address's, or loaded into it."""
    return [_store(shape, base, f"R[a + 1].{_whole(shape)}")] if shape.store else [_load(shape, base, "R[a]")]


def _whole(shape: AccessShape) -> str:
    """The field of a slot holding the access's value as its bit pattern (floats too)."""
    return "u32" if shape.type.bits == 32 else "u64"


def _store(shape: AccessShape, base: str, bits: str) -> str:
    width = shape.width * 8
    return f"gw_store_{width}({base} + ea, <uint{width}_t>{bits})"


def _load(shape: AccessShape, base: str, slot: str) -> str:
    bits = shape.width * 8
    if shape.signed and bits < shape.type.bits:
        return f"{slot}.{_FIELDS[Type.S32 if shape.type is Type.I32 else Type.S64]} = gw_load_s{bits}({base} + ea)"
    return f"{slot}.{_whole(shape)} = gw_load_u{bits}({base} + ea)"


# --- superinstructions (fusion.py): a sequence's parts rendered as one case --------------

_BITS_READS = {Type.I32: "(<uint32_t>{})", Type.S32: "(<int32_t>{})", Type.I64: "(<uint64_t>{})",
               Type.S64: "(<int64_t>{})", Type.F32: "gw_from_bits32(<uint32_t>{})",
               Type.F64: "gw_from_bits64(<uint64_t>{})"}


@dataclass(frozen=True)
class _Source:
    """Where a value of the fused sequence's operand stack is: in slot
    ``text`` (``SLOT``), the bits in operand word ``text`` (``BITS``, a
    constant), or the C expression ``text`` of ``type`` (``VALUE``, not
    computed yet)."""

    kind: str
    text: str
    type: Type | None = None

    def read(self, kind: Type, renderer: "_Renderer") -> str:
        if self.kind == _SLOT:
            return f"R[{self.text}].{_FIELDS[kind]}"
        if self.kind == _BITS:
            return _BITS_READS[kind].format(self.text)
        if self.type is kind or (self.type is Type.BOOL and kind is Type.I32):
            return self.text
        raise renderer.fail(f"a computed {self.type} read as {kind}")


_SLOT, _BITS, _VALUE = "slot", "bits", "value"


class _FusedCase:
    """Renders a fusion's parts in order over a model of the operand
    stack: locals and constants are read where they are, a computed value is
    written only where it goes (a local, a branch's test, the stack slot
    left at the end).  Traps report the pc of the part that traps, with the
    fuel of the parts before it charged."""

    def __init__(self, fusion: Fusion) -> None:
        self.fusion = fusion
        self.parts = fusion.shape.parts
        arities = tuple(len(op.params or ()) for op in fusion.ops)
        below, left = stack_effect(self.parts, arities)
        self.words = iter(_SLOTS)
        self.base = next(self.words) if below or left or TEE in self.parts else ""
        self.stack: list[tuple[_Source, int]] = []  # with each value's slot, relative to the base
        self.popped = 0
        self.lines = [f"fuel -= {len(self.parts) - 1}"]
        self.renderer = _Renderer(fusion.ops[0]) if fusion.ops else None

    def fail(self, message: str) -> SemanticsError:
        return SemanticsError(f"{self.fusion.name}: {message}")

    def word(self) -> str:
        name = next(self.words, None)
        if name is None:
            raise self.fail("needs more than three operand words")
        if name != "a":
            self.lines.append(f"{name} = ins[{_SLOTS.index(name) + 1}]")
        return name

    def slot(self, offset: int) -> str:
        if not self.base:
            raise self.fail("touches the operand stack without its base slot")
        return self.base if offset == 0 else f"{self.base} {'+' if offset > 0 else '-'} {abs(offset)}"

    def push(self, source: _Source) -> None:
        self.stack.append((source, len(self.stack) - self.popped))

    def pop(self) -> tuple[_Source, int]:
        if self.stack:
            return self.stack.pop()
        self.popped += 1
        return _Source(_SLOT, self.slot(-self.popped)), -self.popped

    def store_into(self, slot: str, source: _Source) -> None:
        """``slot`` := the value, as the unfused instructions would leave it."""
        if source.kind == _SLOT:
            if source.text != slot:
                self.lines.append(f"R[{slot}] = R[{source.text}]")
        elif source.kind == _BITS:
            self.lines.append(f"R[{slot}].u64 = <uint64_t>{source.text}")
        else:
            field = "u32" if source.type is Type.BOOL else _FIELDS[source.type]
            self.lines.append(f"R[{slot}].{field} = {source.text}")

    def settle(self) -> None:
        """Write every value still modelled on the stack to its slot."""
        for index, (source, offset) in enumerate(self.stack):
            slot = self.slot(offset)
            self.store_into(slot, source)
            self.stack[index] = (_Source(_SLOT, slot), offset)

    def trap_lines(self, condition: str, kind: TrapKind, part: int) -> list[str]:
        refund = len(self.parts) - 1 - part
        return [f"if {condition}:", *([f"    fuel += {refund}"] if refund else []),
                f"    self._trap({_trap(kind)}, {'pc' if part == 0 else f'pc + {part}'})"]

    def render(self) -> list[str]:
        ops = iter(self.fusion.ops)
        last = len(self.parts) - 1
        for index, part in enumerate(self.parts):
            if part == GET:
                self.push(_Source(_SLOT, self.word()))
            elif part == CONST:
                self.push(_Source(_BITS, self.word()))
            elif part == COMPUTE:
                self.compute(next(ops), index)
            elif part in (SET, TEE):
                local = self.word()
                source, offset = self.pop()
                if part == TEE:
                    self.push(source)
                    self.settle()
                    source = self.stack[-1][0]
                else:
                    self.settle()
                self.store_into(local, source)
            elif part in (BR_IF, IF):
                if index != last:
                    raise self.fail("a branch before the sequence's end")
                target = self.word()
                test, _ = self.pop()
                self.settle()
                condition = test.text if test.kind == _VALUE else test.read(Type.I32, self.renderer)
                taken, not_taken = f"pc = <int32_t>{target}", f"pc += {len(self.parts)}"
                first, second = (taken, not_taken) if part == BR_IF else (not_taken, taken)
                return self.lines + [f"if {condition}:", f"    {first}", "else:", f"    {second}"]
            elif part in (LOAD, STORE):
                self.access(next(ops), index)
        self.settle()
        return self.lines + [f"pc += {len(self.parts)}"]

    def compute(self, op: Op, part: int) -> None:
        typed = typed_compute(op)
        operands = [self.pop()[0] for _ in typed.operands][::-1]
        renderer = _Renderer(op, lambda index, kind: operands[index].read(kind, renderer))
        for condition, kind in typed.traps:
            self.lines += self.trap_lines(renderer.render(condition), kind, part)
        self.push(_Source(_VALUE, renderer.render(typed.value), typed.value.type))

    def access(self, op: Op, part: int) -> None:
        shape = access_shape(op)
        offset = self.word()
        value = self.pop()[0] if shape.store else None
        address, position = self.pop()
        self.settle()
        renderer = _Renderer(op)
        self.lines += [f"ea = <uint64_t>{address.read(shape.address, renderer)} + <uint64_t>{offset}",
                       *self.trap_lines(f"ea + {shape.width} > mem_size", TrapKind.MEMORY_OUT_OF_BOUNDS, part)]
        if value is not None:
            self.lines.append(_store(shape, "mem", value.read(Type.I32 if shape.type.bits == 32 else Type.I64,
                                                               renderer)))
        else:
            slot = self.slot(position)
            self.lines.append(_load(shape, "mem", f"R[{slot}]"))
            self.push(_Source(_SLOT, slot))


def fused_case(fusion: Fusion) -> list[str]:
    """The body of a superinstruction's case."""
    return _FusedCase(fusion).render()


@cache
def generated_parts() -> dict[str, list[str]]:
    """The generated code, by the template marker it replaces."""
    names = opcode_names()
    opcodes = ["cdef enum Opcode:", *(f"    {constant(name)}" for name in names), "",
               "OPCODES = {", *(f"    {name!r}: {constant(name)}," for name in names), "}"]
    traps = ["cdef enum TrapCode:", *(f"    {_trap(kind)} = {kind.code}" for kind in TrapKind)]
    cases = []
    for op in data_semantics_ops():
        body = access_case(op) if isinstance(op.semantics, Access) else compute_case(op)
        cases += [f"elif op == {constant(op.name)}:", *(f"    {line}" for line in body)]
    for op in data_semantics_ops():
        if isinstance(op.semantics, Access):
            cases += [f"elif op == {constant(indexed_name(op))}:", *(f"    {line}" for line in indexed_access_case(op))]
    for fusion in fusions():
        cases += [f"elif op == {constant(fusion.name)}:", *(f"    {line}" for line in fused_case(fusion))]
    opcodes += ["", f"DEF MAX_PARTS = {MAX_PARTS}", "cdef enum:", f"    FIRST_FUSED = {constant(fusions()[0].name)}"]
    parts = {"opcodes": opcodes, "trap codes": traps, "cases": cases}
    rendered = hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()
    parts["digest"] = [f"SOURCE_DIGEST = {source_digest()!r}", f"RENDERED_DIGEST = {rendered!r}"]
    return parts


@cache
def source_digest() -> str:
    """The fingerprint of the table a loop is generated from (``SOURCE_DIGEST``
    of a loop built from it): the opcodes in enum order (the superinstructions
    among them), the rows with a generated case (names, types, semantics) and
    the trap codes.  The engine checks it on start-up, so it is made from the
    table without rendering the loop (``RENDERED_DIGEST``, the fingerprint of
    the generated code itself, is checked by the tests)."""
    rows = [(op.name, op.params, op.results, op.semantics) for op in data_semantics_ops()]
    inputs = (opcode_names(), MAX_PARTS, rows, [(kind.name, kind.code) for kind in TrapKind])
    return hashlib.sha256(repr(inputs).encode()).hexdigest()


def rendered_digest() -> str:
    """The fingerprint of the generated code (``RENDERED_DIGEST`` of a loop built from this generator)."""
    return generated_parts()["digest"][1].split("'")[1]


def render_loop(template: str) -> str:
    """``template`` with every ``# <<generated: NAME>>`` line replaced by the
    generated code of that name, at that line's indentation."""
    parts = generated_parts()
    out = []
    for line in template.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(_MARKER) and stripped.endswith(">>"):
            indent = line[:len(line) - len(stripped)]
            name = stripped[len(_MARKER):-2]
            if name not in parts:
                raise SemanticsError(f"{TEMPLATE.name}: no generated code named {name!r}")
            out += [f"{indent}{generated}" if generated else "" for generated in parts[name]]
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def write_loop(template: Path = TEMPLATE, output: Path = OUTPUT) -> None:
    """Write the compiled loop's source from its template (run by setup.py).
    The file is only rewritten when it changes, so Cython does not rebuild
    for nothing."""
    source = "# Generated from loop.pyx.in by interp/exec/native/cython_semantics.py: do not edit.\n" + \
        render_loop(template.read_text())
    if not output.exists() or output.read_text() != source:
        output.write_text(source)
