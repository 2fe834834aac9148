"""The step machine: runs bound functions with an explicit frame stack.

Wasm calls never recurse in Python.  A call pushes a ``Frame`` on the
machine's own stack and the loop carries on in the callee; a return pops it.
So guest recursion is limited only by ``max_call_depth`` (ending in the spec's
"call stack exhausted"), and every frame's state — its function, ``pc`` and
slots — is plain data that a debugger can read between instructions.

Host functions are called from the loop.  They may call back into the guest
through ``Caller.invoke`` (the proxy-wasm host does, to allocate guest memory
in the middle of a host call); that nested run uses the same frame stack, on top
of the frames already there, and returns when its own entry frame returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from interp.errors import (
    BacktraceEntry,
    ExecutionError,
    ExhaustionError,
    FuelExhaustedError,
    HostFunctionError,
    Trap,
    UsageError,
)
from interp.exec.bind import CALL, CALL_INDIRECT, RETURN, BoundFunction, IndirectCall, bind_function
from interp.runtime.function import HostFunction, WasmFunction
from interp.syntax.types import FuncType
from interp.syntax.values import to_wasm_value

if TYPE_CHECKING:
    from interp.runtime.instance import ModuleInstance
    from interp.runtime.memory import MemoryInstance

EXHAUSTED = "call stack exhausted"
MAX_HOST_REENTRY = 100
UNLIMITED_FUEL = 1 << 62


class Frame:
    """One activation of a wasm function.  ``regs`` are its slots (locals,
    then the operand stack); ``pc`` is the instruction being executed (for
    callers: the call instruction); ``return_slot`` is where in the caller's
    slots the results go (``-1`` for a frame entered from Python)."""

    __slots__ = ("func", "bound", "regs", "pc", "return_slot")

    def __init__(self, func: WasmFunction, bound: BoundFunction, regs: list, return_slot: int) -> None:
        self.func = func
        self.bound = bound
        self.regs = regs
        self.pc = 0
        self.return_slot = return_slot

    @property
    def offset(self) -> int:
        return self.bound.lowered.offsets[self.pc]

    def backtrace_entry(self) -> BacktraceEntry:
        offset = self.offset
        return BacktraceEntry(self.func.index, self.func.name, offset if offset >= 0 else None,
                              self.func.instance.name)


class Caller:
    """What a host function called with ``takes_caller=True`` gets first: the
    instance whose code called it, and a way to call back into the guest."""

    __slots__ = ("machine", "instance")

    def __init__(self, machine: Machine, instance: ModuleInstance) -> None:
        self.machine = machine
        self.instance = instance

    @property
    def memory(self) -> MemoryInstance | None:
        memories = self.instance.memories
        return memories[0] if memories else None

    def export(self, name: str) -> object | None:
        return self.instance.exports.get(name)

    def invoke(self, func: WasmFunction | HostFunction | str, *args: Any) -> list:
        if isinstance(func, str):
            target = self.instance.exports.get(func)
            if not isinstance(target, (WasmFunction, HostFunction)):
                raise UsageError(f"no exported function {func!r}")
            func = target
        return self.machine.invoke(func, args)


class Machine:
    """Executes functions of the instances of one store."""

    def __init__(self, max_call_depth: int = 10_000) -> None:
        self.frames: list[Frame] = []
        self.max_call_depth = max_call_depth
        self.fuel = UNLIMITED_FUEL
        self.fuel_limited = False
        self.host_depth = 0
        self._results: list = []

    # --- fuel ------------------------------------------------------------------

    def set_fuel(self, fuel: int | None) -> None:
        """Limit execution to ``fuel`` more instructions (``None``: no limit)."""
        self.fuel_limited = fuel is not None
        self.fuel = UNLIMITED_FUEL if fuel is None else max(0, fuel)

    @property
    def remaining_fuel(self) -> int | None:
        return self.fuel if self.fuel_limited else None

    # --- entry -----------------------------------------------------------------

    def invoke(self, func: WasmFunction | HostFunction, args: Sequence[Any]) -> list:
        """Call ``func`` with ``args`` (already checked) and return its results."""
        if isinstance(func, HostFunction):
            return self.call_host(func, list(args), None)
        bound = func.bound or self.bind(func)
        if len(self.frames) >= self.max_call_depth:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        frame = Frame(func, bound, list(args) + bound.tail, -1)
        stop = len(self.frames)
        self.frames.append(frame)
        self._run(stop)
        results = self._results
        self._results = []
        return results

    def bind(self, func: WasmFunction) -> BoundFunction:
        lowered = func.instance.compiled.lowered(func.index)
        func.bound = bind_function(func, lowered)
        return func.bound

    def backtrace(self) -> tuple[BacktraceEntry, ...]:
        """The wasm frames, innermost first."""
        return tuple(frame.backtrace_entry() for frame in reversed(self.frames))

    # --- host calls --------------------------------------------------------------

    def call_host(self, func: HostFunction, args: list, caller: ModuleInstance | None) -> list:
        if self.host_depth >= MAX_HOST_REENTRY:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        self.host_depth += 1
        try:
            if func.takes_caller:
                if caller is None:
                    raise UsageError(f"{func.describe()} needs a calling instance")
                result = func.callable(Caller(self, caller), *args)
            else:
                result = func.callable(*args)
        except ExecutionError:
            raise
        except (RecursionError, MemoryError) as error:
            raise ExhaustionError(EXHAUSTED, self.backtrace()) from error
        except Exception as error:
            raise HostFunctionError(
                f"host function {func.describe()} failed: {type(error).__name__}: {error}",
                self.backtrace()) from error
        finally:
            self.host_depth -= 1
        return _host_results(func, result)

    # --- the loop ----------------------------------------------------------------

    def _run(self, stop: int) -> None:
        """Run until the frame stack is back to ``stop`` frames; the results of
        the frame that returned there are left in ``self._results``."""
        frames = self.frames
        frame = frames[-1]
        bound = frame.bound
        code, sites, R, pc = bound.code, bound.sites, frame.regs, frame.pc
        fuel = self.fuel
        max_depth = self.max_call_depth
        try:
            while True:
                if not fuel:
                    frame.pc = pc
                    raise FuelExhaustedError("fuel exhausted", self.backtrace())
                fuel -= 1
                nxt = code[pc](R)
                if nxt >= 0:
                    pc = nxt
                    continue
                if nxt == RETURN:
                    results = R[:bound.num_results]
                    frames.pop()
                    if len(frames) == stop:
                        self._results = results
                        return
                    return_slot = frame.return_slot
                    frame = frames[-1]
                    bound = frame.bound
                    code, sites, R = bound.code, bound.sites, frame.regs
                    R[return_slot:return_slot + len(results)] = results
                    pc = frame.pc + 1
                    continue
                callee = sites[pc]
                base = bound.arg_slots[pc]
                if nxt == CALL_INDIRECT:
                    callee = _resolve_indirect(callee, R)
                frame.pc = pc
                if type(callee) is WasmFunction:
                    callee_bound = callee.bound or self.bind(callee)
                    if len(frames) >= max_depth:
                        raise ExhaustionError(EXHAUSTED, self.backtrace())
                    R = R[base:base + callee_bound.num_params] + callee_bound.tail
                    frame = Frame(callee, callee_bound, R, base)
                    frames.append(frame)
                    bound = callee_bound
                    code, sites, pc = bound.code, bound.sites, 0
                else:
                    self.fuel = fuel
                    results = self.call_host(callee, R[base:base + len(callee.type.params)],
                                             frame.func.instance)
                    fuel = self.fuel
                    R[base:base + len(results)] = results
                    pc += 1
        except BaseException as error:
            frame.pc = pc
            if isinstance(error, ExecutionError) and not error.backtrace:
                error.backtrace = self.backtrace()
            del frames[stop:]
            raise
        finally:
            self.fuel = fuel


def _resolve_indirect(site: IndirectCall, R: list) -> WasmFunction | HostFunction:
    index = R[site.index_slot]
    elements = site.table.elements
    if index >= len(elements):
        raise Trap(f"undefined element {index}")
    callee = elements[index]
    if callee is None:
        raise Trap(f"uninitialized element {index}")
    if callee.type != site.type:
        raise Trap("indirect call type mismatch")
    return callee


def _host_results(func: HostFunction, result: Any) -> list:
    """Check what a host function returned against its type."""
    expected = func.type.results
    if result is None:
        values: list = []
    elif isinstance(result, (tuple, list)):
        values = list(result)
    else:
        values = [result]
    if len(values) != len(expected):
        raise HostFunctionError(
            f"host function {func.describe()} returned {len(values)} values, its type {func.type} "
            f"says {len(expected)}")
    try:
        return [to_wasm_value(value, valtype) for value, valtype in zip(values, expected)]
    except ValueError as error:
        raise HostFunctionError(f"host function {func.describe()} returned a bad value: {error}") from None


def check_arguments(func_type: FuncType, args: Sequence[Any]) -> list:
    """Check a call's arguments from Python against the function type and return
    them in canonical form; a clear ``UsageError`` when they do not fit."""
    if len(args) != len(func_type.params):
        raise UsageError(f"expected {len(func_type.params)} arguments {func_type}, got {len(args)}")
    values = []
    for position, (value, valtype) in enumerate(zip(args, func_type.params)):
        try:
            values.append(to_wasm_value(value, valtype))
        except ValueError as error:
            raise UsageError(f"argument {position}: {error}") from None
    return values
