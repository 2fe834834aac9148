"""Superinstructions for the step machine: hot functions' basic blocks compiled
to Python source.

A basic block — a straight run of instructions entered only at its first one
and left only after its last — becomes one Python function ``block(R, A)``
(called as a handler is, ``A`` unused) that does all its instructions and
returns the next ``pc`` (or ``RETURN``), so the machine's loop dispatches once
per block instead of once per instruction.  All of a function's blocks are
compiled in one ``compile`` call: it costs much more per call than per line.
Inside a block, operand-stack values live in Python local variables; only the
values still on the stack when the block is left are stored into the frame's
slots, and locals are read and written in the slots directly.  Calls, and the
rare instructions without a translation here, stay single-instruction dispatches
of the bound handlers (bind.py), which remain the executable form of every
single instruction: the machine uses them to pause between instructions, and
when less fuel is left than a block would take.

Where a block traps, the line of the generated source that was executing names
the instruction (``BlockCode.lines``), so backtraces are as exact as with the
handlers.

Semantics: a ``Compute`` instruction is its table expression rendered as
Python (python_semantics.py, the same code as its handler), an ``Access`` its
``struct`` format; the vector instructions call their function.
"""

from __future__ import annotations

from types import CodeType
from typing import Any

from interp.exec.bind import BEYOND_MEMORY, RETURN, BoundFunction, bound_handler
from interp.exec.instance_ops import vector_function
from interp.exec.python_semantics import NAMESPACE, access_format, python_code
from interp.syntax.opcodes import PREFIX_SIMD, Imm, MemArg, Op
from interp.syntax.semantics import RUNTIME, Access, Compute
from interp.syntax.types import I64
from interp.translate.lower import Branch, Return

HOT_CALLS = 32
"""Calls after which a small function is compiled."""

HOT_BACK_EDGES = 256
"""Branches back to a loop after which a small function is compiled, even
during its first call.  Neither at once nor at a second call: compiling costs
about 10 microseconds an instruction, and a module's start-up runs hundreds of
functions a few times each, whose loops barely turn (a Go-built module wraps
every function in a loop that it branches back to only to resume a
goroutine): compiling them all made the Go filter's start 4 s slower."""

CALLS_PER_INSTRUCTION = 0.5
BACK_EDGES_PER_INSTRUCTION = 1
"""A larger function waits for more: ``CALLS_PER_INSTRUCTION`` calls or
``BACK_EDGES_PER_INSTRUCTION`` back edges per instruction it has, as
compiling it costs in proportion to its size while what it gains is in
proportion to what runs.  Measured on the Go filter's start: 141 functions
(70,000 instructions) compiled at 32 calls or 256 back edges, 63 (14,000
instructions) with these, and 0.3–0.5 s less.  More back edges per
instruction (4) kept the SHA-256 benchmark's 410-instruction loop on the
handlers (60× pywasm instead of 110×)."""

MAX_COMPILED_INSTRUCTIONS = 4000
"""Larger functions stay on the handlers: compiling Python source costs about
10 microseconds a line, more than a once-run function's execution gains."""

_NOTHING = frozenset({"nop", "block", "loop", "drop", "try_table", "try", "delegate"})
_JUMPS = frozenset({"else", "catch", "catch_all"})  # to their immediate: the end of an if's then, a try's part
_ENDS_BLOCK = frozenset({"if", "br", "br_if", "br_table", "return"}) | _JUMPS
_MACHINE = _NOTHING | _ENDS_BLOCK | {"end", "local.get", "local.set", "local.tee", "global.get", "global.set",
                                    "select", "memory.size", "ref.null", "ref.is_null",
                                    "i32.const", "i64.const", "f32.const", "f64.const"}
"""The ``MACHINE`` instructions a block writes itself (calls and the rest stay handlers)."""


class BlockCode:
    """A function's compiled blocks: ``entries[pc]`` runs from ``pc`` (the
    block starting there, or the single instruction's handler), executing
    ``costs[pc]`` instructions; ``lines`` maps each block's code object to the
    instruction of every line of its source."""

    __slots__ = ("entries", "costs", "lines")

    def __init__(self, entries: list, costs: list[int], lines: dict[CodeType, list[int]]) -> None:
        self.entries = entries
        self.costs = costs
        self.lines = lines

    def pc_of(self, code: CodeType, line: int) -> int | None:
        table = self.lines.get(code)
        return table[line] if table is not None and 0 <= line < len(table) else None


def make_tiered(bound: BoundFunction) -> None:
    """Say when ``bound`` is worth compiling: when called often enough, or
    when its loops have turned often enough, for its size; the largest
    functions never."""
    size = len(bound.lowered.ops)
    if size > MAX_COMPILED_INSTRUCTIONS:
        return
    bound.compile_at = max(HOT_CALLS, int(size * CALLS_PER_INSTRUCTION))
    bound.back_edges = max(HOT_BACK_EDGES, size * BACK_EDGES_PER_INSTRUCTION)
    bound.compile_hot = install_blocks


def install_blocks(bound: BoundFunction) -> None:
    """Compile ``bound``'s blocks and make them what the machine runs, in
    place: a machine running the function picks them up at its next dispatch."""
    if bound.blocks is not None:
        return
    bound.back_edges = 0
    bound.blocks = compile_blocks(bound)
    bound.fast = bound.blocks.entries
    bound.fast_costs = bound.blocks.costs


def compile_blocks(bound: BoundFunction) -> BlockCode:
    lowered = bound.lowered
    ops = lowered.ops
    count = len(ops)
    translated = [compilable(bound, pc) for pc in range(count)]
    block_starts = leaders(bound, translated)
    entries = list(bound.code)
    costs = [1] * count
    namespace: dict[str, Any] = {**NAMESPACE, "RETURN": RETURN}
    sources: list[tuple[int, list[str], list[int]]] = []
    starts = sorted(block_starts)
    for position, start in enumerate(starts):
        if not translated[start]:
            continue
        end = starts[position + 1] if position + 1 < len(starts) else count
        generator = BlockWriter(bound, namespace, start)
        last = start
        for pc in range(start, end):
            last = pc
            generator.instruction(pc)
            if ops[pc].name in _ENDS_BLOCK or _is_return(bound, pc):
                break
        else:
            generator.fall_through(end)
        costs[start] = last - start + 1
        sources.append((start, generator.lines, generator.line_pcs))
    source_lines: list[str] = []
    line_table: list[int] = [0]  # the instruction of every line of the source (lines count from 1)
    for start, body, line_pcs in sources:
        source_lines.append(f"def block_{start}(R, A):")
        source_lines.extend(body)
        line_table.append(start)
        line_table.extend(line_pcs)
    lines_by_code: dict[CodeType, list[int]] = {}
    if sources:
        code = compile("\n".join(source_lines) + "\n", f"<wasm {bound.func.describe()} blocks>", "exec")
        exec(code, namespace)
        for start, _, _ in sources:
            function = namespace.pop(f"block_{start}")
            entries[start] = function
            lines_by_code[function.__code__] = line_table
    return BlockCode(entries, costs, lines_by_code)


def _is_return(bound: BoundFunction, pc: int) -> bool:
    return bound.lowered.ops[pc].name == "end" and isinstance(bound.lowered.imms[pc], Return)


def compilable(bound: BoundFunction, pc: int) -> bool:
    """Whether the instruction at ``pc`` has a translation here; the others
    (calls above all) are dispatched on their own."""
    return translates(bound.lowered.ops[pc])


def translates(operation: Op) -> bool:
    """Whether the block writer translates ``operation``."""
    return isinstance(operation.semantics, (Compute, Access)) or operation.name in _MACHINE or \
        _is_vector_function(operation)


def _is_vector_function(operation: Op) -> bool:
    """A vector instruction that is a function of its operands alone."""
    return operation.semantics is RUNTIME and operation.prefix == PREFIX_SIMD and operation.imm is Imm.NONE \
        and len(operation.results or ()) == 1


def leaders(bound: BoundFunction, translated: list[bool]) -> set[int]:
    """First instructions of basic blocks: branch targets (exception
    handlers' too), instructions after control transfers, and each
    instruction dispatched on its own."""
    lowered = bound.lowered
    leaders = {0}
    leaders.update(clause.target for handler in lowered.handlers for clause in handler.clauses)
    for pc, operation in enumerate(lowered.ops):
        imm = lowered.imms[pc]
        name = operation.name
        if not translated[pc]:
            leaders.add(pc)
            leaders.add(pc + 1)
        if name == "if" or name in _JUMPS:
            leaders.add(imm)
        elif name in ("br", "br_if") and isinstance(imm, Branch):
            leaders.add(imm.target)
        elif name == "br_table":
            targets, default = imm
            leaders.update(t.target for t in (*targets, default) if isinstance(t, Branch))
        elif name in ("br_on_null", "br_on_non_null") and isinstance(imm, Branch):
            leaders.add(imm.target)
        elif name in ("br_on_cast", "br_on_cast_fail") and isinstance(imm[0], Branch):
            leaders.add(imm[0].target)
        if name in _ENDS_BLOCK or _is_return(bound, pc):
            leaders.add(pc + 1)
    leaders.discard(len(lowered.ops))
    return leaders


class BlockWriter:
    """Writes one block's Python source.

    ``values`` maps the stack slots this block has pushed to the Python
    expression holding each value: a temporary, a literal, a namespace
    constant, or ``R[i]`` for a local read (made a temporary before anything
    writes that local)."""

    def __init__(self, bound: BoundFunction, namespace: dict[str, Any], start: int) -> None:
        self.bound = bound
        self.lowered = bound.lowered
        self.namespace = namespace
        self.locals = self.lowered.num_locals
        self.values: dict[int, str] = {}
        self.lines: list[str] = []
        self.line_pcs: list[int] = []
        self.pc = start
        self.temps = 0

    # --- output -------------------------------------------------------------------

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)
        self.line_pcs.append(self.pc)

    def name(self, value: object, prefix: str) -> str:
        """A namespace entry holding ``value`` (functions, globals, constants)."""
        key = f"{prefix}{id(value)}"
        self.namespace.setdefault(key, value)
        return key

    def temp(self, expression: str) -> str:
        self.temps += 1
        variable = f"t{self.temps}"
        self.emit(f"{variable} = {expression}")
        return variable

    # --- the operand stack -------------------------------------------------------------

    def slot(self, index: int) -> str:
        """The Python expression of the frame's slot ``index``."""
        return f"R[{index}]"

    def operand(self, slot: int) -> str:
        return self.values.get(slot, self.slot(slot))

    def push(self, slot: int, expression: str) -> None:
        self.values[slot] = expression

    def materialize_local(self, local: int) -> None:
        """Before writing local ``local``, turn pending reads of it into temporaries."""
        reference = self.slot(local)
        for slot, expression in self.values.items():
            if expression == reference:
                self.values[slot] = self.temp(reference)

    def store_live(self, height: int, indent: int = 1) -> None:
        """Store the values this block pushed below ``height`` into their slots."""
        limit = self.locals + height
        for slot in sorted(self.values):
            if slot < limit and self.values[slot] != self.slot(slot):
                self.emit(f"{self.slot(slot)} = {self.values[slot]}", indent)

    def leave(self, branch: Branch | Return, indent: int = 1) -> None:
        """Take ``branch``: store what stays live, move the carried values, go."""
        if isinstance(branch, Return):
            source = self.locals + branch.source
            arity = len(self.lowered.type.results)
            results = [self.operand(source + i) for i in range(arity)]
            if any(results[i] != f"R[{i}]" for i in range(arity)):
                # one assignment: every result is read before any slot is written
                self.emit(f"R[0:{arity}] = ({', '.join(results)},)", indent)
            self.emit("return RETURN", indent)
            return
        self.store_live(branch.height, indent)
        destination, source = self.locals + branch.height, self.locals + branch.source
        for i in range(branch.arity):
            if destination + i != source + i or (source + i) in self.values:
                self.emit(f"R[{destination + i}] = {self.operand(source + i)}", indent)
        self.emit(f"return {branch.target}", indent)

    def fall_through(self, next_pc: int) -> None:
        self.pc = next_pc - 1
        height = self.lowered.heights[next_pc] if next_pc < len(self.lowered.ops) else 0
        self.store_live(height)
        self.emit(f"return {next_pc}")

    # --- instructions ---------------------------------------------------------------

    def instruction(self, pc: int) -> None:
        self.pc = pc
        lowered = self.lowered
        operation: Op = lowered.ops[pc]
        name = operation.name
        imm = lowered.imms[pc]
        top = self.locals + lowered.heights[pc]
        if name in _NOTHING:
            return
        if name == "end":
            if isinstance(imm, Return):
                self.leave(imm)
            return
        if name == "local.get":
            self.push(top, self.slot(imm))
        elif name in ("local.set", "local.tee"):
            value = self.operand(top - 1)
            if value != self.slot(imm):
                self.materialize_local(imm)
                self.emit(f"{self.slot(imm)} = {value}")
        elif name == "global.get":
            cell = self.name(self.bound.func.instance.globals[imm], "g")
            self.push(top, self.temp(f"{cell}.value"))
        elif name == "global.set":
            cell = self.name(self.bound.func.instance.globals[imm], "g")
            self.emit(f"{cell}.value = {self.operand(top - 1)}")
        elif name == "select":
            a, b, c = self.operand(top - 3), self.operand(top - 2), self.operand(top - 1)
            self.push(top - 3, self.temp(f"{a} if {c} else {b}"))
        elif name == "memory.size":
            instance_memory = self.bound.func.instance.memories[imm]
            memory = self.name(instance_memory.data, "m")
            shift = instance_memory.page_size.bit_length() - 1
            self.push(top, self.temp(f"len({memory}) >> {shift}"))
        elif name == "ref.null":
            self.push(top, "None")
        elif name == "ref.is_null":
            self.push(top - 1, self.temp(f"1 if {self.operand(top - 1)} is None else 0"))
        elif operation.imm in (Imm.I32, Imm.I64):
            self.push(top, str(imm))
        elif operation.imm in (Imm.F32, Imm.F64):
            self.push(top, self.name(imm, "k"))
        elif isinstance(operation.semantics, Access):
            if operation.semantics.store:
                self.store(operation, imm, top)
            else:
                self.load(operation, imm, top)
        elif name == "if":
            condition = self.temp(self.operand(top - 1))
            self.store_live(lowered.heights[pc] - 1)
            self.emit(f"return {pc + 1} if {condition} else {imm}")
        elif name in _JUMPS:
            self.store_live(lowered.heights[pc])
            self.emit(f"return {imm}")
        elif name in ("br", "return"):
            self.leave(imm)
        elif name == "br_if":
            self.emit(f"if {self.operand(top - 1)}:")
            self.leave(imm, indent=2)
            self.store_live(lowered.heights[pc] - 1)
            self.emit(f"return {pc + 1}")
        elif name == "br_table":
            self.store_live(lowered.heights[pc])
            handler = self.name(bound_handler(self.bound, pc), "c")
            arguments = self.name(self.bound.args[pc], "a")
            self.emit(f"return {handler}(R, {arguments})")
        else:
            self.numeric(operation, top)

    def numeric(self, operation: Op, top: int) -> None:
        """A ``Compute`` instruction (its trap checks, then its value), or a
        vector function."""
        arity = len(operation.params or ())
        operands = [self.operand(top - arity + i) for i in range(arity)]
        if isinstance(operation.semantics, Compute):
            code = python_code(operation, operands)
            for condition, kind in code.checks:
                self.emit(f"if {condition}:")
                self.emit(f"raise Trap(TrapKind.{kind})", indent=2)
            expression = code.value
        else:
            function = self.name(vector_function(operation), "f")
            expression = f"{function}({', '.join(operands)})"
        self.push(top - arity, self.temp(expression))

    def address(self, memarg: MemArg, operand: str) -> tuple[str, str]:
        """The namespace name of the accessed memory's bytes, and the
        effective address (a 64-bit memory's clamped, see ``BEYOND_MEMORY``)."""
        memory = self.bound.func.instance.memories[memarg.memory]
        address = f"{operand} + {memarg.offset}" if memarg.offset else operand
        if memory.type.address is I64:
            address = f"min({address}, {BEYOND_MEMORY})"
        return self.name(memory.data, "m"), address

    def load(self, operation: Op, imm: MemArg, top: int) -> None:
        layout, convert = access_format(operation)
        unpack = self.name(layout.unpack_from, "u")
        memory, address = self.address(imm, self.operand(top - 1))
        expression = f"{unpack}({memory}, {address})[0]"
        if convert is not None:
            expression = f"{self.name(convert, 'f')}({expression})"
        self.push(top - 1, self.temp(expression))

    def store(self, operation: Op, imm: MemArg, top: int) -> None:
        layout, convert = access_format(operation)
        pack = self.name(layout.pack_into, "p")
        memory, address = self.address(imm, self.operand(top - 2))
        value = self.operand(top - 1)
        if convert is not None:
            value = f"{self.name(convert, 'f')}({value})"
        self.emit(f"{pack}({memory}, {address}, {value})")
