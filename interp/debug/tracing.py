"""Tracing: every executed instruction, call, return, host call, trap, memory
access and global write, reported to a ``Tracer``.

Tracing runs on the step machine, one instruction at a time: a
``TracingObserver`` set as the machine's observer runs every invocation (the
ones a host function makes from inside a host call included) and, around each
step, works out from the lowered code and the frame what that instruction
does.  Nothing of this is on the machine's path when no tracer is attached: the
machine only checks, once per invocation, whether it has an observer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection

from interp.debug.frames import FunctionCatalog, FunctionInfo, function_label, type_names, typed
from interp.runtime.references import TypeNames
from interp.errors import ExecutionError
from interp.errors import UncaughtException
from interp.exec.bind import IndirectCall, ReferenceCall
from interp.translate.lower import Return
from interp.exec.machine import Frame, HostFrame, Invocation, resolve_indirect, resolve_reference
from interp.runtime.function import HostFunction, WasmFunction
from interp.syntax.opcodes import Imm
from interp.syntax.types import ValType


@dataclass(frozen=True)
class InstructionEvent:
    """An instruction about to execute.  ``stack`` is the operand stack before
    it (typed values, top last); ``depth`` the number of frames below it."""

    func: str
    func_index: int
    offset: int | None
    op: str
    stack: tuple[str, ...]
    depth: int


class Tracer:
    """Receives trace events; every method does nothing unless overridden.

    ``step`` says when the event happened, in instructions executed since
    tracing began: for an instruction, memory access or global write, the
    step number of the instruction (0 for the first one); for a call,
    return, host call or trap, the instructions executed by then (a call
    starts at its call instruction's step, a return is one past its last
    instruction, a host call's return comes after the guest code it called
    back).  The observer sets it before each event.
    """

    step: int = 0

    def instruction(self, event: InstructionEvent) -> None: ...

    def call(self, func: str, args: list[str], depth: int) -> None: ...

    def return_(self, func: str, results: list[str], depth: int) -> None: ...

    def host_call(self, func: str, args: list[str], depth: int) -> None: ...

    def host_return(self, func: str, results: list[str], depth: int) -> None: ...

    def trap(self, func: str | None, error: ExecutionError, depth: int) -> None: ...

    def tail_call(self, func: str, callee: str, args: list[str], depth: int) -> None:
        """``func`` tail-calls ``callee`` (``return_call``): the callee's
        frame replaces ``func``'s, at the same depth, and its return is
        ``func``'s."""

    def throw(self, func: str | None, exception: str, depth: int) -> None:
        """An exception is thrown in ``func`` (by an instruction, or by a
        host function it called)."""

    def unwind(self, func: str, exception: str, depth: int) -> None:
        """``func`` (a host function's name starts with ``host ``) is left
        because of the exception going through it: it does not return."""

    def catch(self, func: str, offset: int | None, exception: str, depth: int) -> None:
        """``func`` catches the exception: its handler goes on at ``offset``."""

    def memory_read(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        """``size`` bytes read at ``address`` of memory ``memory`` (multi-memory; 0 by default)."""

    def memory_write(self, address: int, size: int, value: str, depth: int, memory: int = 0) -> None:
        """``size`` bytes written at ``address`` of memory ``memory``."""

    def global_write(self, index: int, name: str, value: str, depth: int) -> None: ...

    def stopped(self, steps: int) -> None:
        """Tracing stopped after ``steps`` instructions (the step limit)."""

    def finish(self) -> None:
        """The traced run is over, however it ended: write what is still due."""


class StepLimitReached(Exception):
    """Raised out of a traced run when the step limit is reached."""


_VECTOR_BYTES = 16


class TracingObserver:
    """Runs invocations one instruction at a time and tells ``tracer``.

    ``functions``, when given, limits instruction, memory and global events to
    those functions (by name, or index as text), and call and return events to
    calls of them.  ``max_steps`` stops tracing (raising ``StepLimitReached``)
    after that many instructions.
    """

    def __init__(self, tracer: Tracer, functions: Collection[str] = (), max_steps: int | None = None) -> None:
        self.tracer = tracer
        self.functions = frozenset(functions)
        self.max_steps = max_steps
        self.steps = 0
        self.catalog = FunctionCatalog()
        self._reported: ExecutionError | None = None  # the trap already told (it passes every level)
        self._thrown: UncaughtException | None = None  # the exception whose throw was told
        self._frames: list = []  # the machine's frames, while running
        self._host_call: tuple[str, int] | None = None  # the host function the step calls: name, depth
        self._caught = False  # an exception was caught during the step


    def _selected(self, func: WasmFunction | HostFunction) -> bool:
        if not self.functions:
            return True
        if isinstance(func, WasmFunction) and str(func.index) in self.functions:
            return True
        return function_label(func) in self.functions

    def run(self, invocation: Invocation) -> None:
        machine = invocation.machine
        if machine.exception_listener is None:  # the outermost invocation: the others run inside it
            machine.exception_listener = self._exception
            try:
                self._run(invocation)
            finally:
                machine.exception_listener = None
        else:
            self._run(invocation)

    def _run(self, invocation: Invocation) -> None:
        machine = invocation.machine
        frames = self._frames = machine.frames
        tracer = self.tracer
        if self._selected(invocation.func):
            info = self.catalog.info(invocation.func)
            args = invocation.frames[0].regs[:info.param_count]
            tracer.step = self.steps
            tracer.call(info.name, _typed_all(args, invocation.func.type.params, info.type_names), len(frames) - 1)
        while not invocation.finished:
            if self.max_steps is not None and self.steps >= self.max_steps:
                tracer.step = self.steps
                tracer.stopped(self.steps)
                raise StepLimitReached(f"stopped after {self.steps} instructions")
            frame = frames[-1]
            if type(frame) is not Frame:  # a generator host function's turn: no instruction of ours
                invocation.run(1)
                continue
            depth = len(frames)
            func = frame.func
            info = self.catalog.info(func)
            pc = frame.pc
            selected = self._selected(func)
            step = tracer.step = self.steps
            if selected:
                tracer.instruction(InstructionEvent(
                    info.name, func.index, frame.offset if frame.offset >= 0 else None,
                    info.instruction_text(pc), tuple(_frame_stack(frame, info)), depth - 1))
            before = self._before(frame, info, pc, selected, depth - 1)
            self.steps += 1
            self._caught = False
            try:
                invocation.run(1)
            except ExecutionError as error:
                if isinstance(error, UncaughtException) and invocation.base > 0:
                    raise  # it may be caught further out: told where it goes (_exception)
                if error is not self._reported:
                    self._reported = error
                    self.steps = step  # the instruction that trapped did not complete
                    tracer.step = step
                    tracer.trap(info.name, error, depth - 1)
                raise
            self._after(frame, info, pc, step, before, selected, depth - 1, len(frames))

    # --- what an instruction does ---------------------------------------------------

    def _before(self, frame: Frame, info: FunctionInfo, pc: int, selected: bool, depth: int) -> Any:
        """Events due before the step, and what ``_after`` needs to know."""
        bound = frame.bound
        operation = bound.lowered.ops[pc]
        name = operation.name
        tracer = self.tracer
        top = bound.lowered.num_locals + bound.lowered.heights[pc]
        regs = frame.regs
        self._host_call = None
        if name in _CALLS:
            try:
                callee = _callee(bound.sites[pc], regs)
            except ExecutionError:
                return None  # the step will trap
            base = bound.arg_slots[pc]
            args = _typed_all(regs[base:base + len(callee.type.params)], callee.type.params, type_names(callee))
            tail = name not in _NON_TAIL_CALLS
            if isinstance(callee, HostFunction):
                if selected:
                    self._host_call = (function_label(callee), depth)
                    tracer.host_call(function_label(callee), args, depth)
            elif tail:
                if selected or self._selected(callee):
                    tracer.tail_call(info.name, function_label(callee), args, depth)
            elif self._selected(callee):
                tracer.call(function_label(callee), args, depth + 1)
            return ("tail" if tail else "call"), callee, base
        if not selected:
            return None
        imm = info.body[pc].imm
        if operation.imm is Imm.MEMARG or operation.imm is Imm.MEMARG_LANE:
            memarg = imm[0] if operation.imm is Imm.MEMARG_LANE else imm
            operands = len(operation.params)
            address = regs[top - operands] + memarg.offset
            if not operation.results:  # a store: the value is the operand above the address
                value_type = operation.params[1]
                width = operation.width or _VECTOR_BYTES
                tracer.memory_write(address, width, typed(regs[top - operands + 1], value_type), depth,
                                    memarg.memory)
                return None
            return ("load", address, operation.width or _VECTOR_BYTES, operation.results[0], top - operands,
                    memarg.memory)
        if name in ("memory.fill", "memory.copy", "memory.init"):
            destination, source_or_value, length = regs[top - 3], regs[top - 2], regs[top - 1]
            if name == "memory.copy":
                destination_memory, source_memory = imm
                tracer.memory_read(source_or_value, length, f"{length} bytes", depth, source_memory)
            else:
                destination_memory = imm if name == "memory.fill" else imm[1]
            description = f"byte {source_or_value:#04x}" if name == "memory.fill" else f"{length} bytes"
            return "bulk", destination, length, description, destination_memory
        if name == "global.set":
            cell_index = imm
            valtype = frame.func.instance.globals[cell_index].type.valtype
            tracer.global_write(cell_index, _global_name(frame, cell_index),
                                typed(regs[top - 1], valtype, info.type_names), depth)
        return None

    def _after(self, frame: Frame, info: FunctionInfo, pc: int, step: int, before: Any, selected: bool,
               depth: int, depth_now: int) -> None:
        tracer = self.tracer
        tracer.step = self.steps
        self._host_call = None
        if before is not None and before[0] == "call":
            _, callee, base = before
            if isinstance(callee, HostFunction) and selected and depth_now == depth + 1 and not self._caught:
                results = frame.regs[base:base + len(callee.type.results)]
                tracer.host_return(function_label(callee), _typed_all(results, callee.type.results, None), depth)
            return
        if before is not None and before[0] == "tail":
            _, callee, base = before
            if isinstance(callee, HostFunction) and depth_now <= depth and not self._caught:
                results = _typed_all(frame.regs[:len(callee.type.results)], callee.type.results, type_names(callee))
                if selected:
                    tracer.host_return(function_label(callee), results, depth)
                    tracer.return_(info.name, results, depth)
            return
        if depth_now <= depth and _returns(frame, pc):
            if self._selected(frame.func):
                results = frame.regs[:len(frame.func.type.results)]
                tracer.return_(info.name, _typed_all(results, frame.func.type.results, info.type_names), depth)
            return
        if before is None:
            return
        tracer.step = step
        if before[0] == "load":
            _, address, width, result_type, slot, memory = before
            tracer.memory_read(address, width, typed(frame.regs[slot], result_type), depth, memory)
        elif before[0] == "bulk":
            _, address, length, description, memory = before
            tracer.memory_write(address, length, description, depth, memory)


    # --- exceptions -------------------------------------------------------------------

    def _exception(self, thrown: UncaughtException, unwound: list[Frame | HostFrame], catcher: Frame | HostFrame | None,
                   target: int) -> None:
        """The machine tells where a thrown exception goes (``exception_listener``)."""
        tracer = self.tracer
        tracer.step = self.steps
        text = thrown.exception.describe()
        first = len(self._frames) - len(unwound)
        if thrown is not self._thrown:
            self._thrown = thrown
            top = unwound[-1] if unwound else catcher
            thrower = function_label(top.func) if top is not None else None
            tracer.throw(thrower, text, len(self._frames) - 1)
        if self._host_call is not None:
            label, depth = self._host_call
            self._host_call = None
            tracer.unwind(f"host {label}", text, depth + 1)
        for depth in range(len(self._frames) - 1, first - 1, -1):
            frame = self._frames[depth]
            if type(frame) is Frame and self._selected(frame.func):
                tracer.unwind(function_label(frame.func), text, depth)
        if type(catcher) is Frame:
            self._caught = True
            offset = catcher.bound.lowered.offsets[target]
            tracer.catch(function_label(catcher.func), offset if offset >= 0 else None, text, first - 1)


_NON_TAIL_CALLS = frozenset({"call", "call_indirect", "call_ref"})
_CALLS = _NON_TAIL_CALLS | {"return_call", "return_call_indirect", "return_call_ref"}


def _callee(site: object, regs: list) -> WasmFunction | HostFunction:
    """The function a call site calls, given the frame's slots."""
    if isinstance(site, IndirectCall):
        return resolve_indirect(site, regs)
    if isinstance(site, ReferenceCall):
        return resolve_reference(site, regs)
    return site  # type: ignore[return-value]


def _returns(frame: Frame, pc: int) -> bool:
    """Whether executing ``pc`` left the function (a ``return``, the final
    ``end``, a branch to the function's label)."""
    imm = frame.bound.lowered.imms[pc]
    if isinstance(imm, Return):
        return True
    if isinstance(imm, tuple) and imm and isinstance(imm[0], tuple):  # br_table
        return True  # the frame is gone, whichever entry it took
    return False


def _frame_stack(frame: Frame, info: FunctionInfo) -> list[str]:
    base = len(info.local_types)
    regs = frame.regs
    return [typed(regs[base + height], valtype, info.type_names)
            for height, valtype in enumerate(info.stack_types(frame.pc))]


def _typed_all(values: list, types: tuple[ValType, ...], names: TypeNames | None) -> list[str]:
    return [typed(value, valtype, names) for value, valtype in zip(values, types)]


def _global_name(frame: Frame, index: int) -> str:
    name = frame.func.instance.module.names.globals.get(index)
    return name if name is not None else f"global[{index}]"
