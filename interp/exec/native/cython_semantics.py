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

``SOURCE_DIGEST`` fingerprints what was generated; the engine refuses a
compiled loop built from another table (engines.py).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

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
_SLOT_READ = re.compile(r"R\[[abc]\]\.\w+")
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
    """Every opcode of the loop, by name, in the order of its enum."""
    ops = data_semantics_ops()
    return LOOP_OPERATIONS + tuple(op.name for op in ops) + tuple(
        indexed_name(op) for op in ops if isinstance(op.semantics, Access))


def constant(name: str) -> str:
    """The enum constant of a loop opcode: ``i32.add`` is ``OP_I32_ADD``."""
    return "OP_" + name.upper().replace(".", "_")


class _Renderer:
    """Renders typed trees as Cython expressions over the slots of the
    instruction word's operands (``a``, ``b``, ``c``)."""

    def __init__(self, op: Op) -> None:
        self.op = op

    def fail(self, message: str) -> SemanticsError:
        return SemanticsError(f"{self.op.name}: {message}")

    def render(self, node: Node) -> str:
        if isinstance(node, Operand):
            return f"R[{_SLOTS[node.index]}].{_FIELDS[node.type]}"
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
            return f"R[{_SLOTS[operand.index]}].{_FIELDS[target]}"  # the slot read as the other type
        return f"(<{_C_TYPES[target]}>({self.render(operand)}))"

    def call(self, node: Call) -> str:
        name, bits = node.function, node.type.bits
        if name in ("bits", "from_bits") and isinstance(node.args[0], Operand):
            return f"R[{_SLOTS[node.args[0].index]}].{_FIELDS[node.type]}"  # the slot read as the other type
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
    """The access itself, at ``base + ea``."""
    bits = shape.width * 8
    whole = "u32" if shape.type.bits == 32 else "u64"  # the bit pattern, floats too
    if shape.store:
        return [f"gw_store_{bits}({base} + ea, <uint{bits}_t>R[a + 1].{whole})"]
    if shape.signed and bits < shape.type.bits:
        return [f"R[a].{_FIELDS[Type.S32 if shape.type is Type.I32 else Type.S64]} = gw_load_s{bits}({base} + ea)"]
    return [f"R[a].{whole} = gw_load_u{bits}({base} + ea)"]


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
    parts = {"opcodes": opcodes, "trap codes": traps, "cases": cases}
    digest = hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()
    parts["digest"] = [f"SOURCE_DIGEST = {digest!r}"]
    return parts


def source_digest() -> str:
    """The fingerprint of what this table generates (``SOURCE_DIGEST`` of a
    loop built from it)."""
    return generated_parts()["digest"][0].split("'")[1]


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
