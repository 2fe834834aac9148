"""Whole functions for the step machine: a hot function compiled to one
Python function with structured control flow, its locals and operand stack
as Python locals, calling the compiled functions it calls directly.

The compiled function is ``whole(n, d, *arguments)``: ``n`` is the budget of
instructions (fuel, see machine.py), ``d`` how many more calls may nest
inside it.  It returns its result (a tuple for several, ``None`` for none)
and leaves the budget it did not spend in the fuel cell ``F[0]``.

Control flow follows the wasm blocks: a ``loop`` is a ``while True``, a
``block`` or ``if`` that a branch targets is wrapped in a ``while True`` left
by ``break``; a branch out of several of them sets ``b`` to the number of
its target and breaks out one level at a time.  Stack slot ``i`` and local
``i`` are the variable ``r{i}`` — the slot layout of the machine's frames
(interp/translate/lower.py), so that a frame can be rebuilt from the Python
frame's locals at any point.  Within a basic block the values are kept as
expressions and temporaries as blocks.py does (the same writer, the same
instruction semantics from the table); at every basic block boundary they are
in their variables.

Each basic block starts by charging its instruction count to ``n``.  When the
budget does not cover it, or a call would nest too deep, or a callee has no
compiled form, the function raises ``Deoptimize`` there: the machine then
rebuilds a frame for every compiled function on the way (``rebuilt_frames``,
from the traceback) and goes on with them on its own loop, one instruction at a
time if need be — so running out of fuel stops exactly where it would
without compilation.  A trap rebuilds the frames the same way, for the
backtrace.

Compiled are the functions whose every instruction has a translation here and
whose direct callees are all such functions (host calls, exceptions and the
rarer instructions stay on the machine, which runs them on its handlers and
blocks).
"""

from __future__ import annotations

from types import FrameType
from typing import Any, Callable

from interp.exec.bind import BoundFunction, IndirectCall, table_callee
from interp.exec.blocks import MAX_COMPILED_INSTRUCTIONS, BlockWriter, compilable, install_blocks, leaders, translates
from interp.exec.python_semantics import NAMESPACE, python_condition
from interp.runtime.function import WasmFunction
from interp.syntax.opcodes import Op
from interp.syntax.semantics import Compute
from interp.syntax.types import I64
from interp.syntax.values import MASK32, MASK64
from interp.translate.lower import Branch, LoweredFunction, Return

MAX_NESTED_CALLS = 120
"""How many compiled calls nest in Python before the machine takes over
(guest recursion then goes on in the machine's frames, which are bounded only
by the call depth limit, not by Python's recursion limit)."""

MAX_FRAME_SLOTS = 4096
"""The most slots (locals and operand stack) of a function compiled whole:
the machine lets compiled calls nest only as deep as such frames fit in what
is left of its bound on slots, so that exhaustion comes where it would
without compilation."""

MAX_CALL_GRAPH = 400
"""How many functions the check that a function's callees compile may visit."""

_OPENERS = frozenset({"block", "loop", "if"})
_CALLS = frozenset({"call", "call_indirect"})
_OWN = _OPENERS | _CALLS | {"else", "end", "br", "br_if", "br_table", "return", "unreachable",
                            "memory.grow", "memory.fill", "memory.copy", "ref.func"}
"""Instructions written here rather than by the block writer."""
_REFUSED = frozenset({"try_table", "try", "catch", "catch_all", "delegate", "rethrow", "v128.const"})

_COMPILED = "__compiled_function__"
"""The namespace entry naming the function its code belongs to (read back from a traceback)."""


class Deoptimize(Exception):
    """Raised by compiled code where the machine must take over, before the
    instruction at that line (``refund``: the instructions already charged)."""

    refund = 0


class CompiledFunction:
    """What a compiled function's frames are rebuilt from: the function,
    its binding, the instruction of every line of its source, and where the
    basic block of each instruction ends (the fuel charged in advance)."""

    __slots__ = ("func", "bound", "line_pcs", "block_ends", "code")

    def __init__(self, func: WasmFunction, bound: BoundFunction, line_pcs: list[int], block_ends: list[int],
                 code: Any) -> None:
        self.func = func
        self.bound = bound
        self.line_pcs = line_pcs
        self.block_ends = block_ends
        self.code = code

    def unspent(self, pc: int) -> int:
        """The fuel charged for the instructions after ``pc`` in its basic
        block, which did not run when ``pc`` trapped."""
        return self.block_ends[pc] - pc - 1


class WholeCompiler:
    """Compiles functions whole for one machine: ``fuel`` is the cell the
    compiled functions hand their remaining budget back in; ``bind`` gets a
    function's binding (binding it first if need be)."""

    def __init__(self, bind: Callable[[WasmFunction], BoundFunction]) -> None:
        self.fuel = [0]
        self.bind = bind
        self._eligible: dict[WasmFunction, bool] = {}

    def install(self, bound: BoundFunction) -> Callable[..., Any] | None:
        """Compile ``bound`` whole if it can be (once); its compiled form or ``None``."""
        if bound.whole is None and self.eligible(bound.func, bound.lowered):
            if bound.blocks is None:  # where the machine goes on after a deoptimization
                install_blocks(bound)
            try:
                bound.whole = _FunctionWriter(self, bound).compile()
            except (SyntaxError, RecursionError, MemoryError):  # beyond what Python compiles: stays on the machine
                self._eligible[bound.func] = False
        return bound.whole

    def eligible(self, func: WasmFunction, lowered: LoweredFunction) -> bool:
        """Whether ``func`` and every function it calls directly, and so on,
        compile whole (a cycle counts as compiling; a call graph too large to
        check does not)."""
        known = self._eligible.get(func)
        if known is None:
            known = self._check(func, lowered, set())
            self._eligible[func] = known
        return known

    def _check(self, func: WasmFunction, lowered: LoweredFunction, visiting: set[WasmFunction]) -> bool:
        known = self._eligible.get(func)
        if known is not None:
            return known
        if func in visiting:
            return True
        if len(visiting) >= MAX_CALL_GRAPH or not _compiles(lowered):
            return False
        visiting.add(func)
        for pc, operation in enumerate(lowered.ops):
            if operation.name == "call":
                callee = func.instance.funcs[lowered.imms[pc]]
                if type(callee) is not WasmFunction:
                    return False
                callee_lowered = callee.bound.lowered if callee.bound is not None else \
                    callee.instance.compiled.lowered(callee.index)
                if not self._check(callee, callee_lowered, visiting):
                    self._eligible[callee] = False
                    return False
        return True

    def first_call(self, callee: WasmFunction, namespace: dict[str, Any], key: str) -> Callable[..., Any]:
        """A stand-in for the compiled form of ``callee`` in ``namespace``
        under ``key``: on the first call it compiles ``callee`` and puts that
        in its place."""
        def compile_and_call(n: int, d: int, *arguments: Any) -> Any:
            whole = self.install(callee.bound or self.bind(callee))
            if whole is None:
                deoptimize = Deoptimize()
                deoptimize.refund = 1  # the call instruction, charged by the caller
                raise deoptimize
            namespace[key] = whole
            return whole(n, d, *arguments)
        return compile_and_call


def _compiles(lowered: LoweredFunction) -> bool:
    """Whether every instruction of ``lowered`` has a translation here or in
    blocks.py, and its nesting fits Python's."""
    if lowered.handlers or len(lowered.ops) > MAX_COMPILED_INSTRUCTIONS or \
            lowered.num_locals + lowered.max_height > MAX_FRAME_SLOTS:
        return False
    if not all(operation.name not in _REFUSED and (operation.name in _OWN or translates(operation))
               for operation in lowered.ops):
        return False
    return _nesting_fits(lowered)


MAX_LOOPS_NESTED = 18
"""Python compiles at most 20 nested loops in a function."""
MAX_NESTED = 80
"""Python parses at most 100 levels of indentation."""


def _nesting_fits(lowered: LoweredFunction) -> bool:
    """Whether the ``while`` loops (``loop``s and labels branched to) and the
    indentation of ``lowered``'s Python nest within what Python compiles."""
    targets = branch_targets(lowered)
    ends = _matching_ends(lowered)
    open_labels: list[tuple[int, bool]] = []  # (end pc, whether a ``while`` stands for it)
    loops = 0
    for pc, operation in enumerate(lowered.ops):
        while open_labels and open_labels[-1][0] < pc:
            loops -= open_labels.pop()[1]
        end = ends.get(pc)
        if end is None:
            continue
        wrapped = (pc + 1 if operation.name == "loop" else end + 1) in targets
        open_labels.append((end, wrapped))
        loops += wrapped
        if loops > MAX_LOOPS_NESTED or 2 * len(open_labels) > MAX_NESTED:
            return False
    return True


def _matching_ends(lowered: LoweredFunction) -> dict[int, int]:
    """The ``end`` of every ``block``, ``loop`` and ``if``, by its pc."""
    opened: list[int] = []
    ends: dict[int, int] = {}
    for pc, operation in enumerate(lowered.ops):
        if operation.name in _OPENERS:
            opened.append(pc)
        elif operation.name == "end" and opened:
            ends[opened.pop()] = pc
    return ends


def branch_targets(lowered: LoweredFunction) -> set[int]:
    """The pcs that branches go to."""
    targets: set[int] = set()
    for pc, operation in enumerate(lowered.ops):
        imm = lowered.imms[pc]
        if operation.name in ("br", "br_if") and isinstance(imm, Branch):
            targets.add(imm.target)
        elif operation.name == "br_table":
            targets.update(t.target for t in (*imm[0], imm[1]) if isinstance(t, Branch))
    return targets


def rebuilt_frames(traceback: Any) -> list[tuple[CompiledFunction, FrameType, int]]:
    """The compiled functions a traceback went through, outermost first:
    each with its Python frame and the instruction its line was running."""
    found = []
    while traceback is not None:
        python_frame = traceback.tb_frame
        compiled = python_frame.f_globals.get(_COMPILED)
        if compiled is not None and compiled.code is python_frame.f_code:
            line_pcs = compiled.line_pcs
            line = traceback.tb_lineno
            found.append((compiled, python_frame, line_pcs[line] if 0 <= line < len(line_pcs) else 0))
        traceback = traceback.tb_next
    return found


def frame_slots(compiled: CompiledFunction, python_frame: FrameType) -> list:
    """The slots of a machine frame for a compiled function's Python frame."""
    bound = compiled.bound
    values = python_frame.f_locals
    defaults = [0] * bound.num_params + bound.tail
    return [values.get(f"r{i}", default) for i, default in enumerate(defaults)]


class _Wrapper:
    """A ``while True`` standing for a label: ``target`` is the pc its
    branches go to, ``number`` its value of ``b``; ``crossed`` whether a
    branch leaves it for a label further out."""

    __slots__ = ("target", "is_loop", "number", "crossed")

    def __init__(self, target: int, is_loop: bool, number: int) -> None:
        self.target = target
        self.is_loop = is_loop
        self.number = number
        self.crossed = False


class _FunctionWriter(BlockWriter):
    """Writes one whole function's Python source (see the module's docstring)."""

    def __init__(self, compiler: WholeCompiler, bound: BoundFunction) -> None:
        namespace: dict[str, Any] = {**NAMESPACE, "F": compiler.fuel, "Deoptimize": Deoptimize,
                                     "table_callee": table_callee, "WasmFunction": WasmFunction}
        super().__init__(bound, namespace, 0)
        self.compiler = compiler
        lowered = bound.lowered
        ops = lowered.ops
        count = len(ops)
        # A call ends its basic block (its callee may stop where fuel runs out), as in blocks.py,
        # but belongs to the block before it.
        translated = [compilable(bound, pc) or ops[pc].name in _OWN for pc in range(count)]
        self.leaders = leaders(bound, translated) | {pc + 1 for pc in range(count - 1) if ops[pc].name in _CALLS}
        starts = sorted(self.leaders) + [count]
        self.costs = {start: starts[i + 1] - start for i, start in enumerate(starts[:-1])}
        self.ends = _matching_ends(lowered)
        self.elses: dict[int, int] = {}  # the ``else`` of each ``if`` that has one
        open_pcs: list[int] = []
        for pc, operation in enumerate(ops):
            if operation.name in _OPENERS:
                open_pcs.append(pc)
            elif operation.name == "else":
                self.elses[open_pcs[-1]] = pc
            elif operation.name == "end" and open_pcs:
                open_pcs.pop()
        self.targets = branch_targets(lowered)
        self.depth = 1
        self.wrappers: list[_Wrapper] = []
        self.numbers = 0

    # --- output ---------------------------------------------------------------------------

    def slot(self, index: int) -> str:
        return f"r{index}" if index >= 0 else f"unreachable{-index}"  # below the frame: in unreachable code

    def emit(self, line: str, indent: int = 1) -> None:
        super().emit(line, indent + self.depth - 1)

    def flush(self, height: int) -> None:
        """Put the values pending below ``height`` in their variables."""
        self.store_live(height)
        self.values.clear()

    def compile(self) -> Callable[..., Any]:
        bound = self.bound
        lowered = self.lowered
        params = [self.slot(i) for i in range(bound.num_params)]
        self.pc = 0
        for i, default in enumerate(bound.tail[:len(lowered.local_types)]):
            local = bound.num_params + i
            self.emit(f"{self.slot(local)} = {default!r}" if type(default) is int else
                      f"{self.slot(local)} = {self.name(default, 'k')}")
        self.emit("b = 0")
        self.sequence(0, len(lowered.ops))
        name = f"whole_{lowered.index}"
        source = f"def {name}(n, d, {', '.join(params)}):\n" + "\n".join(self.lines) + "\n"
        code = compile(source, f"<wasm {bound.func.describe()} compiled>", "exec")
        exec(code, self.namespace)
        function = self.namespace.pop(name)
        block_ends = [0] * len(lowered.ops)
        for start, cost in self.costs.items():
            block_ends[start:start + cost] = [start + cost] * cost
        self.namespace[_COMPILED] = CompiledFunction(bound.func, bound, [0, 0, *self.line_pcs], block_ends,
                                                     function.__code__)
        return function

    # --- structure ------------------------------------------------------------------------

    def sequence(self, start: int, stop: int) -> None:
        """Write the instructions ``start`` to ``stop`` (exclusive) at the current depth."""
        lowered = self.lowered
        pc = start
        while pc < stop:
            if pc in self.leaders:
                self.charge(pc)
            name = lowered.ops[pc].name
            if name in _OPENERS:
                self.pc = pc
                end = self.ends[pc]
                if name == "if":
                    self.conditional(pc, end)
                else:
                    self.label(pc, end, name == "loop")
                pc = end + 1
                continue
            self.instruction(pc)
            pc += 1

    def charge(self, pc: int) -> None:
        """A basic block starts: its values in their variables, its cost charged."""
        self.flush(self.lowered.heights[pc])
        self.pc = pc
        cost = self.costs[pc]
        self.emit(f"if n < {cost}:")
        self.emit("raise Deoptimize", 2)
        self.emit(f"n -= {cost}")

    def label(self, pc: int, end: int, is_loop: bool) -> None:
        """A ``block`` or ``loop`` and its body, up to and with its ``end``."""
        target = pc + 1 if is_loop else end + 1
        if target not in self.targets:
            self.sequence(pc + 1, end + 1)
            return
        self.flush(self.lowered.heights[pc])
        self.pc = pc
        self.emit("while True:")
        self.enclosed(target, is_loop, pc + 1, end + 1)

    def conditional(self, pc: int, end: int) -> None:
        """An ``if``, its arms, and its ``end``."""
        lowered = self.lowered
        top = self.locals + lowered.heights[pc]
        condition = self.operand(top - 1)
        self.flush(lowered.heights[pc] - 1)
        wrapped = end + 1 in self.targets
        if wrapped:
            self.emit("while True:")
            self.depth += 1
            wrapper = self.open_wrapper(end + 1, False)
        otherwise = self.elses.get(pc)
        self.emit(f"if {condition}:")
        self.arm(pc + 1, (otherwise if otherwise is not None else end) + 1)
        if otherwise is not None:
            self.pc = otherwise
            self.emit("else:")
            self.arm(otherwise + 1, end + 1)
        if wrapped:
            self.pc = end
            self.emit("break")
            self.close_wrapper(wrapper)

    def arm(self, start: int, stop: int) -> None:
        self.depth += 1
        self.emit("pass")
        self.sequence(start, stop)
        self.flush(self.lowered.heights[stop - 1])
        self.depth -= 1

    def enclosed(self, target: int, is_loop: bool, start: int, stop: int) -> None:
        """The body of a ``while True`` that stands for a label."""
        self.depth += 1
        wrapper = self.open_wrapper(target, is_loop)
        self.sequence(start, stop)
        self.flush(self.lowered.heights[stop - 1])
        self.pc = stop - 1
        self.emit("break")
        self.close_wrapper(wrapper)

    def open_wrapper(self, target: int, is_loop: bool) -> _Wrapper:
        self.numbers += 1
        wrapper = _Wrapper(target, is_loop, self.numbers)
        self.wrappers.append(wrapper)
        return wrapper

    def close_wrapper(self, wrapper: _Wrapper) -> None:
        """Leave the ``while``; a branch passing through goes on outwards."""
        self.wrappers.pop()
        self.depth -= 1
        if not wrapper.crossed:
            return
        outer = self.wrappers[-1]
        self.emit("if b:")
        self.emit(f"if b == {outer.number}:", 2)
        self.emit("b = 0", 3)
        if outer.is_loop:
            self.emit("continue", 3)
        self.emit("break", 2)

    def go(self, branch: Branch | Return, indent: int = 1) -> None:
        """Take ``branch`` (the values are in their variables)."""
        if isinstance(branch, Return):
            self.leave(branch, indent)
            return
        destination, source = self.locals + branch.height, self.locals + branch.source
        if destination != source:
            for i in range(branch.arity):
                self.emit(f"{self.slot(destination + i)} = {self.slot(source + i)}", indent)
        index = next(i for i in range(len(self.wrappers) - 1, -1, -1) if self.wrappers[i].target == branch.target)
        wrapper = self.wrappers[index]
        if index != len(self.wrappers) - 1:
            for inner in self.wrappers[index + 1:]:
                inner.crossed = True
            self.emit(f"b = {wrapper.number}", indent)
            self.emit("break", indent)
        else:
            self.emit("continue" if wrapper.is_loop else "break", indent)

    def leave(self, branch: Branch | Return, indent: int = 1) -> None:
        """Return from the function (any ``Branch`` goes through ``go``)."""
        if isinstance(branch, Branch):
            self.go(branch, indent)
            return
        source = self.locals + branch.source
        results = [self.operand(source + i) for i in range(self.bound.num_results)]
        self.emit("F[0] = n", indent)
        if not results:
            self.emit("return None", indent)
        elif len(results) == 1:
            self.emit(f"return {results[0]}", indent)
        else:
            self.emit(f"return ({', '.join(results)},)", indent)

    # --- instructions ---------------------------------------------------------------------

    def instruction(self, pc: int) -> None:
        self.pc = pc
        lowered = self.lowered
        name = lowered.ops[pc].name
        imm = lowered.imms[pc]
        top = self.locals + lowered.heights[pc]
        if name == "else" or (name == "end" and not isinstance(imm, Return)):
            return
        if name in ("br", "return") or name == "end":
            self.flush(lowered.heights[pc])
            self.leave(imm)
        elif name == "br_if":
            condition = self.operand(top - 1)
            self.flush(lowered.heights[pc] - 1)
            self.emit(f"if {condition}:")
            self.leave(imm, 2)
        elif name == "br_table":
            self.flush(lowered.heights[pc])
            self.table(imm, self.slot(top - 1))
        elif name == "unreachable":
            self.emit("raise Trap(TrapKind.UNREACHABLE)")
        elif name == "call":
            self.flush(lowered.heights[pc])
            self.emit("if d < 1:")
            self.deoptimize_before(2)
            callee = self.bound.sites[pc]
            if callee.bound is not None and callee.bound.whole is not None:
                self.call(pc, self.name(callee.bound.whole, "w"))
            else:
                key = f"first_call_{pc}"
                self.namespace[key] = self.compiler.first_call(callee, self.namespace, key)
                self.call(pc, key)
        elif name == "call_indirect":
            self.flush(lowered.heights[pc])
            site: IndirectCall = self.bound.sites[pc]
            self.emit(f"w = table_callee({self.name(site, 's')}, {self.slot(site.index_slot)})")
            self.emit("if d < 1 or type(w) is not WasmFunction or w.bound is None or w.bound.whole is None:")
            self.deoptimize_before(2)
            self.call(pc, "w.bound.whole")
        elif name == "memory.grow":
            memory = self.bound.func.instance.memories[imm]
            mask = MASK64 if memory.type.address is I64 else MASK32
            value = self.operand(top - 1)
            self.push(top - 1, self.temp(f"{self.name(memory, 'M')}.grow({value}) & {mask}"))
        elif name in ("memory.fill", "memory.copy"):
            operands = ", ".join(self.operand(top - 3 + i) for i in range(3))
            if name == "memory.fill":
                self.emit(f"{self.name(self.bound.func.instance.memories[imm], 'M')}.fill({operands})")
            else:
                destination, source = (self.bound.func.instance.memories[i] for i in imm)
                self.emit(f"{self.name(destination, 'M')}.copy_from({self.name(source, 'M')}, {operands})")
        elif name == "ref.func":
            self.push(top, self.name(self.bound.func.instance.funcs[imm], "k"))
        else:
            super().instruction(pc)

    def deoptimize_before(self, indent: int) -> None:
        """Leave to the machine before the instruction, charged already."""
        self.emit("n += 1", indent)
        self.emit("raise Deoptimize", indent)

    def numeric(self, operation: Op, top: int) -> None:
        """A comparison that an ``if`` or ``br_if`` tests at once is that test's
        expression; everything else as in blocks.py."""
        following = self.pc + 1
        if following not in self.leaders and self.lowered.ops[following].name in ("if", "br_if") \
                and isinstance(operation.semantics, Compute):
            arity = len(operation.params or ())
            condition = python_condition(operation, [self.operand(top - arity + i) for i in range(arity)])
            if condition is not None:
                self.push(top - arity, condition)
                return
        super().numeric(operation, top)

    def table(self, imm: tuple, index: str) -> None:
        """``br_table``: the branches by index, equal ones taken together."""
        targets, default = imm
        cases: dict[Any, list[int]] = {}
        branches: dict[Any, Branch | Return] = {}
        for i, branch in enumerate(targets):
            key = branch if isinstance(branch, Return) else (branch.target, branch.arity, branch.height,
                                                            branch.source)
            cases.setdefault(key, []).append(i)
            branches[key] = branch
        keyword = "if"
        for key, indices in cases.items():
            test = f"{index} == {indices[0]}" if len(indices) == 1 else f"{index} in {tuple(indices)}"
            self.emit(f"{keyword} {test}:")
            self.leave(branches[key], 2)
            keyword = "elif"
        if keyword == "elif":
            self.emit("else:")
            self.leave(default, 2)
        else:
            self.leave(default)

    def call(self, pc: int, callee: str) -> None:
        """A call of a compiled function (its arguments are in their variables)."""
        site = self.bound.sites[pc]
        first = self.bound.arg_slots[pc]
        func_type = site.type.comp if isinstance(site, IndirectCall) else site.type
        arguments = ", ".join(self.slot(first + i) for i in range(len(func_type.params)))
        results = [self.slot(first + i) for i in range(len(func_type.results))]
        call = f"{callee}(n, d - 1{', ' if arguments else ''}{arguments})"
        self.emit(f"{', '.join(results)} = {call}" if len(results) > 1 else
                  f"{results[0]} = {call}" if results else call)
        self.emit("n = F[0]")
