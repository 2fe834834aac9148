"""The ``spectest`` host module that the official testsuite imports (as the
reference interpreter's interpreter/host/spectest.ml defines it)."""

from __future__ import annotations

from typing import Callable

from interp.runtime.function import HostFunction
from interp.runtime.globals import GlobalInstance
from interp.runtime.instance import ExternValue
from interp.runtime.memory import MemoryInstance
from interp.runtime.table import TableInstance
from interp.syntax.types import (
    F32,
    F64,
    FUNCREF,
    I32,
    I64,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
    ValType,
)
from interp.syntax.values import f32_round

_PRINT_SIGNATURES: dict[str, tuple[ValType, ...]] = {
    "print": (),
    "print_i32": (I32,),
    "print_i64": (I64,),
    "print_f32": (F32,),
    "print_f64": (F64,),
    "print_i32_f32": (I32, F32),
    "print_f64_f64": (F64, F64),
}


def spectest_exports(output: Callable[[str], None] | None = None) -> dict[str, ExternValue]:
    """A fresh ``spectest`` module's exports.  The print functions send one
    line per call to ``output`` (default: discard)."""

    def printer(name: str) -> Callable[..., None]:
        def print_values(*args: object) -> None:
            if output is not None:
                output(" ".join(repr(a) for a in args))
        print_values.__name__ = name
        return print_values

    exports: dict[str, ExternValue] = {
        name: HostFunction(FuncType(params, ()), printer(name), name)
        for name, params in _PRINT_SIGNATURES.items()
    }
    exports["global_i32"] = GlobalInstance(GlobalType(I32, False), 666)
    exports["global_i64"] = GlobalInstance(GlobalType(I64, False), 666)
    exports["global_f32"] = GlobalInstance(GlobalType(F32, False), f32_round(666.6))
    exports["global_f64"] = GlobalInstance(GlobalType(F64, False), 666.6)
    exports["table"] = TableInstance(TableType(Limits(10, 20), FUNCREF))
    exports["table64"] = TableInstance(TableType(Limits(10, 20), FUNCREF, I64))  # WebAssembly 3.0's
    exports["memory"] = MemoryInstance(MemoryType(Limits(1, 2)))
    return exports
