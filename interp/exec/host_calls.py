"""Calls between the guest and host functions, shared by every engine.

A machine (the step machine, or the compiled loop) calls host functions through
``call_host``; host functions see a ``Caller`` and may call back into the guest,
either at once (``Caller.invoke``, a nested invocation) or, from a generator host
function, by yielding ``Caller.call`` requests that the machine runs on its own
frame stack.  Everything a host function returns is checked against its type
here, and every way it can fail becomes an engine error here.

A machine passed to these functions provides ``host_depth`` (an int),
``backtrace()`` and ``invoke(func, args)``.
"""

from __future__ import annotations

from types import GeneratorType
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from interp.errors import (
    BacktraceEntry,
    ExecutionError,
    ExhaustionError,
    FuelExhaustedError,
    HostFunctionError,
    InternalError,
    UncaughtException,
    UsageError,
)
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.references import GcArray, GcStruct, HostRef, I31, ref_matches
from interp.syntax.defined import top_heap
from interp.syntax.types import FuncType, HeapKind, RefType, ValType
from interp.syntax.values import f32_round

if TYPE_CHECKING:
    from interp.runtime.instance import ModuleInstance
    from interp.runtime.memory import MemoryInstance

EXHAUSTED = "call stack exhausted"
MAX_HOST_REENTRY = 100
"""How deeply host functions and guest code may call each other in turn
(each level is a nested invocation on the Python stack)."""


class HostCallingMachine(Protocol):
    """What calls between guest and host need of a machine."""

    host_depth: int

    @property
    def remaining_fuel(self) -> int | None: ...

    def set_fuel(self, fuel: int | None) -> None: ...

    def backtrace(self) -> tuple[BacktraceEntry, ...]: ...

    def invoke(self, func: WasmFunction | HostFunction, args: Sequence[object]) -> list: ...


class GuestCall:
    """A request, yielded by a generator host function, to call ``func``."""

    __slots__ = ("func", "args")

    def __init__(self, func: WasmFunction | HostFunction, args: list) -> None:
        self.func = func
        self.args = args


class Caller:
    """What a host function called with ``takes_caller=True`` gets first: the
    instance whose code called it, and ways to call back into the guest."""

    __slots__ = ("machine", "instance")

    def __init__(self, machine: HostCallingMachine, instance: ModuleInstance) -> None:
        self.machine = machine
        self.instance = instance

    @property
    def memory(self) -> MemoryInstance | None:
        memories = self.instance.memories
        return memories[0] if memories else None

    def export(self, name: str) -> object | None:
        return self.instance.exports.get(name)

    def _function(self, func: WasmFunction | HostFunction | str) -> WasmFunction | HostFunction:
        if isinstance(func, str):
            return self.instance.exported_function(func)
        return func

    def invoke(self, func: WasmFunction | HostFunction | str, *args: Any) -> list:
        """Call into the guest now and return the results (plain host functions)."""
        target = self._function(func)
        return self.machine.invoke(target, check_arguments(target.type, args))

    def charge_fuel(self, amount: int) -> None:
        """Count ``amount`` units of host work against the invocation's fuel,
        as if the guest had executed that many instructions (no limit: no
        effect); ``FuelExhaustedError`` when it runs out."""
        remaining = self.machine.remaining_fuel
        if remaining is None or amount <= 0:
            return
        if amount > remaining:
            self.machine.set_fuel(0)
            raise FuelExhaustedError("fuel exhausted", self.machine.backtrace())
        self.machine.set_fuel(remaining - amount)

    def call(self, func: WasmFunction | HostFunction | str, *args: Any) -> GuestCall:
        """A request for a generator host function to ``yield``; the yield
        evaluates to the results."""
        target = self._function(func)
        return GuestCall(target, check_arguments(target.type, args))


def call_host(machine: HostCallingMachine, func: HostFunction, args: list,
              caller: ModuleInstance | None) -> list | GeneratorType:
    """Call a host function: its checked results, or the generator of a
    generator host function (not started yet)."""
    if machine.host_depth >= MAX_HOST_REENTRY:
        raise ExhaustionError(EXHAUSTED, machine.backtrace())
    machine.host_depth += 1
    try:
        if func.takes_caller:
            if caller is None:
                raise UsageError(f"{func.describe()} needs a calling instance")
            result = func.callable(Caller(machine, caller), *args)
        else:
            result = func.callable(*args)
    except BaseException as error:
        raise host_failure(machine, func, error) from error
    finally:
        machine.host_depth -= 1
    if isinstance(result, GeneratorType):
        return result
    return host_results(func, result)


def resume_generator(machine: HostCallingMachine, func: HostFunction, generator: GeneratorType,
                     results: list | None, thrown: UncaughtException | None = None) -> GuestCall | list:
    """Send ``results`` (``None`` to start) into a generator host function, or
    raise ``thrown`` (a wasm exception its guest call threw) at its ``yield``:
    its next request, or its own checked results when it has finished."""
    machine.host_depth += 1
    try:
        request = generator.send(results) if thrown is None else generator.throw(thrown)
    except StopIteration as stop:
        return host_results(func, stop.value)
    except BaseException as error:
        raise host_failure(machine, func, error) from error
    finally:
        machine.host_depth -= 1
    if not isinstance(request, GuestCall):
        raise HostFunctionError(f"host function {func.describe()} yielded {request!r}, "
                                f"not a caller.call(...) request", machine.backtrace())
    return request


def run_generator(machine: HostCallingMachine, func: HostFunction, generator: GeneratorType) -> list:
    """Run a generator host function to its end, each of its requests as a
    nested invocation (for engines that do not run them on their own stack)."""
    step = resume_generator(machine, func, generator, None)
    while isinstance(step, GuestCall):
        try:
            results = machine.invoke(step.func, step.args)
        except UncaughtException as thrown:
            step = resume_generator(machine, func, generator, None, thrown)
        else:
            step = resume_generator(machine, func, generator, results)
    return step


def host_failure(machine: HostCallingMachine, func: HostFunction, error: BaseException) -> BaseException:
    """What a host function's exception becomes for the guest: a wasm
    exception it throws is thrown into the guest (its payload checked
    against its tag's type)."""
    if isinstance(error, UncaughtException):
        return _checked_exception(machine, func, error)
    if isinstance(error, (ExecutionError, UsageError, InternalError, KeyboardInterrupt, SystemExit)):
        return error
    if isinstance(error, (RecursionError, MemoryError)):
        return ExhaustionError(EXHAUSTED, machine.backtrace())
    return HostFunctionError(
        f"host function {func.describe()} failed: {type(error).__name__}: {error}", machine.backtrace())


def _checked_exception(machine: HostCallingMachine, func: HostFunction, error: UncaughtException) -> BaseException:
    """A wasm exception raised by a host function, its payload in canonical
    form; a payload that does not fit its tag fails the host function."""
    exception = error.exception
    if error.backtrace:  # thrown by guest code the host function called: already checked
        return error
    try:
        values = check_arguments(exception.tag.type, exception.values)
    except UsageError as mismatch:
        return HostFunctionError(f"host function {func.describe()} threw {exception.tag.describe()} with a bad "
                                 f"payload: {mismatch}", machine.backtrace())
    exception.values = tuple(values)
    return error


def host_results(func: HostFunction, result: Any) -> list:
    """Check what a host function returned against its type."""
    expected = func.type.results
    if result is None:
        values: list = [None] if len(expected) == 1 and expected[0].is_ref else []  # one reference: null
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


_INT_RANGES = {ValType.I32: 32, ValType.I64: 64, ValType.V128: 128}


def to_wasm_value(value: object, valtype: ValType) -> object:
    """The canonical representation of a Python value given for ``valtype``.

    Integers may be given signed or unsigned; floats are rounded to f32 when
    needed.  Raises ``ValueError`` with a readable reason when the value cannot
    be of that type.
    """
    bits = _INT_RANGES.get(valtype)
    if bits is not None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not an {valtype}")
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ValueError(f"{value} does not fit in {valtype}")
        return value & ((1 << bits) - 1)
    if valtype is ValType.F32 or valtype is ValType.F64:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not an {valtype}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{value} is too large for {valtype}") from None
        return f32_round(number) if valtype is ValType.F32 else number
    if valtype.is_ref:
        return _to_reference(value, valtype)  # type: ignore[arg-type]
    raise ValueError(f"{valtype} has no values")


_REFERENCE_KINDS = {HeapKind.FUNC: "a function reference", HeapKind.EXN: "an exception reference"}
"""How argument errors name what a reference of these hierarchies must be."""


def _to_reference(value: object, reftype: RefType) -> object:
    """A reference given for ``reftype``: null only for a nullable type;
    an external reference any host object; for the ``any`` hierarchy a
    struct, array, i31 or ``HostRef`` (any other host object is wrapped in a
    ``HostRef``, as ``any.convert_extern`` would); for functions a function
    instance; each of the type's heap type."""
    if value is None:
        if not reftype.nullable:
            raise ValueError(f"null is not a {reftype.text}")
        return None
    reference = value
    if top_heap(reftype.heap) is HeapKind.ANY and not isinstance(value, (GcStruct, GcArray, I31, HostRef)):
        reference = HostRef(value)
    if not ref_matches(reference, reftype):
        kind = _REFERENCE_KINDS.get(top_heap(reftype.heap), f"a {reftype.text}")
        raise ValueError(f"{value!r} is not {kind}")
    return reference

