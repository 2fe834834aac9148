"""Function instances (spec 4.2.6): functions defined by a module, and host
functions written in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from interp.errors import BacktraceEntry
from interp.syntax.defined import DefinedType, define_func_type
from interp.syntax.types import FuncType

if TYPE_CHECKING:
    from interp.runtime.instance import ModuleInstance


class WasmFunction:
    """A function defined by a module instance.  ``index`` is its index in the
    defining module's function index space (imports count); ``type`` is its
    function type and ``deftype`` the defined type it was declared with
    (what casts and ``call_indirect`` compare)."""

    __slots__ = ("type", "instance", "index", "bound", "deftype")

    def __init__(self, type: FuncType, instance: ModuleInstance, index: int,
                 deftype: DefinedType | None = None) -> None:
        self.type = type
        self.instance = instance
        self.index = index
        self.bound: Any = None  # the executable form, built on first call by the engine
        self.deftype = deftype if deftype is not None else define_func_type(type)

    @property
    def name(self) -> str | None:
        return self.instance.compiled.func_names.get(self.index)

    def describe(self) -> str:
        return self.name or f"func[{self.index}]"

    def backtrace_entry(self, offset: int | None) -> BacktraceEntry:
        """This function's line of a backtrace, at byte ``offset`` (-1 or
        ``None`` when the code did not come from a binary)."""
        known = offset if offset is not None and offset >= 0 else None
        return BacktraceEntry(self.index, self.name, known, self.instance.name,
                              self.instance.compiled.source_location(known))

    def __repr__(self) -> str:
        return f"<wasm function {self.describe()} {self.type}>"


class HostFunction:
    """A function implemented in Python.

    ``callable`` receives the arguments as plain values (see values.py) and
    returns ``None`` for no result (or a null reference, for one reference
    result), the value for one result, or a tuple or list for several.  With ``takes_caller=True`` it also receives, first, a
    ``Caller`` that gives access to the calling instance (its memory, its
    exports) and lets the host call back into the guest.  Raising ``Trap`` traps
    the guest; any other exception becomes a ``HostFunctionError`` trap.
    """

    __slots__ = ("type", "callable", "name", "takes_caller", "_deftype")

    def __init__(self, type: FuncType, callable: Callable[..., Any], name: str | None = None,
                 takes_caller: bool = False) -> None:
        self.type = type
        self.callable = callable
        self.name = name or getattr(callable, "__name__", None)
        self.takes_caller = takes_caller
        self._deftype: DefinedType | None = None

    @property
    def deftype(self) -> DefinedType:
        """Its type as a defined type: a final function type of a group of its own."""
        if self._deftype is None:
            self._deftype = define_func_type(self.type)
        return self._deftype

    def describe(self) -> str:
        return f"host:{self.name}" if self.name else "host function"

    def __repr__(self) -> str:
        return f"<host function {self.name} {self.type}>"


FunctionInstance = WasmFunction | HostFunction
