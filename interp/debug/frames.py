"""Looking at a paused machine: functions, frames, instructions and values as
people read them.

The step machine keeps a frame's values untyped in its slots (locals, then the
operand stack).  Their types are static, so they are recovered here once per
function by running the validator over its body (the same step-wise validator
the lowering uses) and recording the operand stack's types before every
instruction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from interp.exec.machine import Frame
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.references import TypeNames
from interp.syntax.defined import DefinedType
from interp.syntax.module import Instruction
from interp.syntax.types import ValType
from interp.text.printer import format_instruction
from interp.text.values import format_value
from interp.translate.compiled import CompiledModule
from interp.valid.function import FunctionValidator


def typed(value: Any, valtype: ValType | None, names: TypeNames | None = None) -> str:
    """``i32:5``, ``f64:1.5``, ``funcref:null``, ``(ref $point):struct $point
    {x 1, y 2}``: a value with its type, the way traces and the debugger show
    values (``names``: how the module names its types)."""
    if valtype is None:
        return repr(value)
    type_text = names.valtype_text(valtype) if names is not None else valtype.text
    return f"{type_text}:{format_value(value, valtype, names)}"


@lru_cache(maxsize=64)
def _type_names_of(compiled: CompiledModule, types: tuple[DefinedType, ...]) -> TypeNames:
    return TypeNames(types, compiled.module.names)


def type_names(func: WasmFunction | HostFunction | None) -> TypeNames | None:
    """How the module of a wasm function names its types (``None`` for a host function)."""
    if not isinstance(func, WasmFunction):
        return None
    return _type_names_of(func.instance.compiled, func.instance.types)


def function_label(func: WasmFunction | HostFunction) -> str:
    """A function's name for people: its name, ``func[N]``, or for host
    functions ``module.name`` of the import when known."""
    if isinstance(func, HostFunction):
        return func.name or "host function"
    return func.describe()


class FunctionInfo:
    """What a debugger or tracer wants to know about one wasm function."""

    __slots__ = ("func", "body", "param_count", "local_types", "local_names", "_stack_types", "type_names")

    def __init__(self, func: WasmFunction) -> None:
        module = func.instance.module
        compiled = func.instance.compiled
        definition = module.funcs[func.index - compiled.num_imported_funcs]
        self.func = func
        self.body: tuple[Instruction, ...] = definition.body
        self.param_count = len(func.type.params)
        self.local_types: tuple[ValType, ...] = func.type.params + compiled.lowered(func.index).local_types
        self.local_names: dict[int, str] = module.names.locals.get(func.index, {})
        self._stack_types: list[tuple[ValType | None, ...]] | None = None
        self.type_names = type_names(func)

    @property
    def name(self) -> str:
        return self.func.describe()

    def instruction_text(self, pc: int) -> str:
        return format_instruction(self.body[pc], self.func.instance.module.names, func_index=self.func.index)

    def stack_types(self, pc: int) -> tuple[ValType | None, ...]:
        """The operand stack's types before instruction ``pc``."""
        if self._stack_types is None:
            compiled = self.func.instance.compiled
            validator = FunctionValidator(compiled.context, self.func.index, self.func.type,
                                          self.local_types[self.param_count:])
            types: list[tuple[ValType | None, ...]] = []
            for instruction in self.body:
                types.append(tuple(validator.vals))
                validator.step(instruction)
            self._stack_types = types
        return self._stack_types[pc]

    def local_name(self, index: int) -> str:
        return self.local_names.get(index, f"param{index}" if index < self.param_count else f"local{index}")


class FunctionCatalog:
    """``FunctionInfo`` for every function met, computed once each."""

    def __init__(self) -> None:
        self._infos: dict[int, FunctionInfo] = {}

    def info(self, func: WasmFunction) -> FunctionInfo:
        key = id(func)
        info = self._infos.get(key)
        if info is None:
            info = self._infos[key] = FunctionInfo(func)
        return info


@dataclass(frozen=True)
class LocalValue:
    index: int
    name: str
    type: ValType
    value: Any
    names: TypeNames | None = None

    def __str__(self) -> str:
        return f"{self.name} = {typed(self.value, self.type, self.names)}"


class FrameView:
    """One frame of a paused machine, read-only."""

    def __init__(self, frame: Frame, info: FunctionInfo) -> None:
        self.frame = frame
        self.info = info

    @property
    def func(self) -> WasmFunction:
        return self.frame.func

    @property
    def pc(self) -> int:
        return self.frame.pc

    @property
    def offset(self) -> int | None:
        offset = self.frame.offset
        return offset if offset >= 0 else None

    @property
    def instruction(self) -> Instruction:
        return self.info.body[self.frame.pc]

    @property
    def instruction_text(self) -> str:
        return self.info.instruction_text(self.frame.pc)

    def locals(self) -> list[LocalValue]:
        regs = self.frame.regs
        return [LocalValue(index, self.info.local_name(index), valtype, regs[index], self.info.type_names)
                for index, valtype in enumerate(self.info.local_types)]

    def stack(self) -> list[tuple[ValType | None, Any]]:
        """The operand stack before the current instruction, bottom first."""
        types = self.info.stack_types(self.frame.pc)
        base = len(self.info.local_types)
        regs = self.frame.regs
        return [(valtype, regs[base + height]) for height, valtype in enumerate(types)]

    def typed_stack(self) -> list[str]:
        return [typed(value, valtype, self.info.type_names) for valtype, value in self.stack()]
