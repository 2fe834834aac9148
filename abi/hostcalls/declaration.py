"""How host functions are declared, bound to a plugin VM, decoded and traced.

Each ``env`` function is declared once with ``@host_call(name, *params)``:
the parameter kinds give both its wasm signature and how its raw i32/i64
arguments become Python values (an enum by name, bytes read from guest
memory, a decoded pairs map...).  The table of declarations drives import
resolution; binding a declaration to a VM makes the ``HostFunction`` the
module imports.

Every call goes through one wrapper, which

1. decodes the parameters in order — an out-of-range enum answers
   BAD_ARGUMENT, a pointer outside memory INVALID_MEMORY_ACCESS, malformed
   pairs BAD_ARGUMENT — before the implementation runs;
2. runs the implementation with a ``HostCall`` (the effective context's
   interfaces, the guest memory with the plugin's allocator) and the decoded
   values; it returns a ``Status`` or raises ``StatusError`` (from
   ``abi.context_interface``, so the proxy side can raise it too); a
   ``GuestMemoryError`` anywhere (writing a result to a bad pointer, an
   allocator answering 0) becomes INVALID_MEMORY_ACCESS; ``LimitExceeded``
   fails the plugin (``PluginResourceLimit``, with the wasm backtrace); any
   other exception is the host's own failure, ``HostError``, which is never
   reported as the plugin's;
3. charges the bytes it copied between guest and host against the
   callback's fuel (``host_work_per_byte`` per byte, see
   ``abi.proxy.limits``), so host work is not free;
4. records a trace entry with the decoded arguments, the status and what
   the implementation reported with ``call.result(...)``.

Traps of the guest's allocator (called back during the host call) are not
caught: they are the plugin's failure and unwind like any trap.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from abi.context_interface import ContextInterface, LimitExceeded, StatusError
from abi.enums import Status
from abi.errors import HostError, PluginResourceLimit
from abi.hostcalls.guest_memory import GuestMemory, GuestMemoryError
from abi.trace import Trace
from abi.wire.pairs import PairsFormatError, decode_pairs
from abi.wire.text import readable
from interp.errors import ExecutionError, GlasswasmError
from interp.exec.host_calls import Caller
from interp.runtime.function import HostFunction
from interp.syntax.types import I32, I64, FuncType, ValType

__all__ = ["Bytes", "CallSite", "Enum", "HostCall", "HostCallSpec", "HOST_CALLS", "Out", "Pairs", "Path",
           "Signed64", "StatusError", "U32", "Unsigned64", "host_call"]


class CallSite(Protocol):
    """What a host call needs from the plugin VM that made it (implemented by
    ``abi.vm.PluginVm``)."""

    trace: Trace
    host_work_per_byte: int

    def guest_memory(self, caller: Caller) -> GuestMemory: ...

    @property
    def effective_context(self) -> ContextInterface: ...

    def switch_effective_context(self, context_id: int) -> ContextInterface | None: ...


class HostCall:
    """What an implementation works with: the effective context (its
    interfaces), the guest memory (with the plugin's allocator), the VM (for
    switching contexts) and the trace entry."""

    __slots__ = ("site", "context", "memory", "entry")

    def __init__(self, site: CallSite, context: ContextInterface, memory: GuestMemory,
                 entry: dict[str, Any]) -> None:
        self.site = site
        self.context = context
        self.memory = memory
        self.entry = entry

    def result(self, **values: Any) -> None:
        """Add decoded results to the trace entry."""
        self.entry["result"].update(values)

    def hand_over(self, data: bytes, address_out: int, size_out: int) -> None:
        """Give ``data`` to the guest through its allocator (see
        ``GuestMemory.hand_over``)."""
        self.memory.hand_over(data, address_out, size_out)


# --- parameter kinds -----------------------------------------------------------------


class Param:
    """One parameter of a host function as the guest passes it."""

    wasm_types: tuple[ValType, ...] = (I32,)

    def __init__(self, name: str) -> None:
        self.name = name

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> Any:
        return raw[0]

    def traced(self, value: Any) -> Any:
        """The value as the trace shows it; ``None`` leaves it out."""
        return value


class U32(Param):
    """A plain 32-bit number (sizes, ids, status codes, timeouts)."""


class Signed64(Param):
    """A signed 64-bit number (metric deltas)."""

    wasm_types = (I64,)

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> int:
        value = raw[0]
        return value - (1 << 64) if value >= (1 << 63) else value


class Unsigned64(Param):
    """An unsigned 64-bit number (metric values to record)."""

    wasm_types = (I64,)


class Enum(Param):
    """An ABI enum; a number it does not define answers BAD_ARGUMENT."""

    def __init__(self, name: str, kind: type[enum.IntEnum]) -> None:
        super().__init__(name)
        self.kind = kind

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> enum.IntEnum:
        try:
            return self.kind(raw[0])
        except ValueError:
            raise StatusError(Status.BAD_ARGUMENT, f"{raw[0]} is not a {self.kind.__name__}") from None

    def traced(self, value: enum.IntEnum) -> str:
        return value.name


class Bytes(Param):
    """A (pointer, size) pair read from guest memory."""

    wasm_types = (I32, I32)

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> bytes:
        return memory.read(raw[0], raw[1])

    def traced(self, value: bytes) -> str:
        return readable(value)


class Pairs(Bytes):
    """A (pointer, size) pairs-encoded map; malformed is BAD_ARGUMENT."""

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> list[tuple[bytes, bytes]]:  # type: ignore[override]
        data = super().decode(memory, raw)
        try:
            return decode_pairs(data)
        except PairsFormatError as error:
            raise StatusError(Status.BAD_ARGUMENT, f"malformed pairs: {error}") from None

    def traced(self, value: list[tuple[bytes, bytes]]) -> list[list[str]]:  # type: ignore[override]
        return [[readable(key), readable(item)] for key, item in value]


class Path(Bytes):
    """A (pointer, size) property path, segments separated by NUL (a
    trailing NUL is optional: the Go SDK adds one, the Rust SDK does not)."""

    def decode(self, memory: GuestMemory, raw: Sequence[int]) -> tuple[bytes, ...]:  # type: ignore[override]
        segments = super().decode(memory, raw).split(b"\0")
        if segments and segments[-1] == b"":
            segments.pop()
        return tuple(segments)

    def traced(self, value: tuple[bytes, ...]) -> str:  # type: ignore[override]
        return ".".join(readable(segment) for segment in value)


class Out(Param):
    """A pointer the host writes a result to (checked when written)."""

    def traced(self, value: int) -> None:
        return None


# --- declarations ------------------------------------------------------------------------

Implementation = Callable[..., Status]


@dataclass(frozen=True)
class HostCallSpec:
    name: str
    params: tuple[Param, ...]
    implementation: Implementation

    @property
    def func_type(self) -> FuncType:
        return FuncType(tuple(t for param in self.params for t in param.wasm_types), (I32,))

    def bind(self, site: CallSite) -> HostFunction:
        """The ``HostFunction`` this declaration is for the VM ``site``."""
        spec = self

        def host_function(caller: Caller, *raw: int) -> int:
            return int(spec.run(site, caller, raw))

        host_function.__name__ = self.name
        return HostFunction(self.func_type, host_function, self.name, takes_caller=True)

    def run(self, site: CallSite, caller: Caller, raw: Sequence[int]) -> Status:
        context = site.effective_context
        entry = site.trace.begin_hostcall(context.plugin_name, context.id, self.name, {})
        memory = site.guest_memory(caller)
        call = HostCall(site, context, memory, entry)
        position = 0
        values = []
        try:
            for param in self.params:
                width = len(param.wasm_types)
                arguments = raw[position:position + width]
                position += width
                try:
                    value = param.decode(memory, arguments)
                except (StatusError, GuestMemoryError):
                    entry["args"][param.name] = list(arguments)
                    raise
                values.append(value)
                shown = param.traced(value)
                if shown is not None:
                    entry["args"][param.name] = shown
            status = self.implementation(call, *values)
        except StatusError as error:
            status = error.status
            if error.reason:
                entry["result"]["reason"] = error.reason
        except GuestMemoryError as error:
            status = Status.INVALID_MEMORY_ACCESS
            entry["result"]["reason"] = str(error)
        except LimitExceeded as error:
            entry["result"]["reason"] = str(error)
            site.trace.end_hostcall(entry, "RESOURCE_LIMIT")
            raise PluginResourceLimit(str(error), caller.machine.backtrace()) from None
        except GlasswasmError:
            raise  # the guest's own failure (its allocator trapped) or a usage error
        except Exception as error:
            site.trace.end_hostcall(entry, "HOST_ERROR")
            raise HostError(f"{self.name} failed in the host: {type(error).__name__}: {error}") from error
        try:
            caller.charge_fuel(memory.copied * site.host_work_per_byte)
        except ExecutionError:
            site.trace.end_hostcall(entry, "FUEL_EXHAUSTED")
            raise
        site.trace.end_hostcall(entry, status.name)
        return status


HOST_CALLS: dict[str, HostCallSpec] = {}
"""Every ``env`` function of ABI 0.2.1 (and 0.1.0's that Envoy still
serves), by import name."""


def host_call(name: str, *params: Param) -> Callable[[Implementation], Implementation]:
    """Declare the implementation of ``env.<name>`` (see the module docstring)."""

    def register(implementation: Implementation) -> Implementation:
        HOST_CALLS[name] = HostCallSpec(name, params, implementation)
        return implementation

    return register
