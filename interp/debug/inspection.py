"""A paused frame at source level: the variables in scope with their values,
and names resolved the way a debugger's expressions resolve them.

``FrameScope`` stands between a frame of the step machine (frames.py) and the
module's DWARF variables (dwarf_variables.py): it is the context their
location expressions read wasm locals, globals, operand-stack entries, the
frame base and memory from, and the scope expressions (expressions.py) look
names up in.  A name is, in this order: a source variable in scope (the
innermost block first), a source global, a wasm local of the frame (by its
name in the ``name`` section, or ``param0`` / ``local3``), a wasm global (by
its name).  ``$name`` skips the source level: it names a wasm local or global
even when a C variable has the same name.
"""

from __future__ import annotations

from dataclasses import dataclass

from interp.debug.c_types import WASM_TYPES, CType, MemoryReader, Storage, Value, format_c_value
from interp.debug.dwarf_variables import DebugVariables, FunctionScope, Variable
from interp.debug.frames import FrameView
from interp.runtime.instance import ModuleInstance
from interp.syntax.types import ValType
from interp.syntax.values import f32_to_bits, f64_to_bits

_SIZES = {ValType.I32: 4, ValType.I64: 8, ValType.F32: 4, ValType.F64: 8, ValType.V128: 16}


@dataclass(frozen=True)
class SourceVariable:
    name: str
    value: Value
    parameter: bool

    def describe(self, read: MemoryReader) -> str:
        """``count = 3 (int)``: the name, the value, the type."""
        return f"{self.name} = {format_c_value(self.value, read)} ({self.value.type})"


def wasm_bits(value: object, valtype: ValType) -> tuple[int, int] | None:
    """A wasm value as the bits it is stored as and their size in bytes; None for references."""
    size = _SIZES.get(valtype)
    if size is None:
        return None
    if valtype is ValType.F32:
        return f32_to_bits(value), 4  # type: ignore[arg-type]
    if valtype is ValType.F64:
        return f64_to_bits(value), 8  # type: ignore[arg-type]
    return int(value), size  # type: ignore[call-overload]


def wasm_value(value: object, valtype: ValType) -> Value | None:
    """A wasm number as a value of the debugger's expressions; None for vectors and references."""
    ctype = WASM_TYPES.get(valtype)
    bits = wasm_bits(value, valtype)
    if ctype is None or bits is None:
        return None
    return Value(ctype, Storage.of(bits[0].to_bytes(bits[1], "little")))


def read_memory(instance: ModuleInstance, index: int = 0) -> MemoryReader:
    """Reads ``instance``'s memory ``index`` (memory 0, where DWARF variables
    live, by default); None past its end (or without one)."""
    memory = instance.memories[index] if 0 <= index < len(instance.memories) else None

    def read(address: int, length: int) -> bytes | None:
        if memory is None or address < 0 or length < 0 or address + length > len(memory.data):
            return None
        return bytes(memory.data[address:address + length])

    return read


class FrameScope:
    """One frame's variables and names (``view`` is the frame; ``variables``
    the module's DWARF variables, or None without them)."""

    def __init__(self, view: FrameView, variables: DebugVariables | None) -> None:
        self.view = view
        self.debug_variables = variables
        self.instance = view.func.instance
        self.read = read_memory(self.instance)
        offset = view.offset
        self.address: int | None = None
        self.function: FunctionScope | None = None
        if variables is not None and offset is not None:
            self.address = offset - variables.code_start
            self.function = variables.function_at(self.address)
        self._frame_base_busy = False

    @property
    def has_source(self) -> bool:
        """Whether the frame's function has source-level variables."""
        return self.function is not None

    # --- the context of location expressions ----------------------------------------------

    def local(self, index: int) -> tuple[int, int] | None:
        types = self.view.info.local_types
        if index >= len(types):
            return None
        return wasm_bits(self.view.frame.regs[index], types[index])

    def global_(self, index: int) -> tuple[int, int] | None:
        cells = self.instance.globals
        if index >= len(cells):
            return None
        return wasm_bits(cells[index].value, cells[index].type.valtype)

    def operand(self, index: int) -> tuple[int, int] | None:
        stack = self.view.stack()
        if index >= len(stack) or stack[index][0] is None:
            return None
        valtype, value = stack[index]
        return wasm_bits(value, valtype)  # type: ignore[arg-type]

    def frame_base(self) -> int | None:
        if self.function is None or self.address is None or self._frame_base_busy:
            return None  # a frame base defined by itself is no frame base
        self._frame_base_busy = True
        try:
            return self.debug_variables.frame_base(self.function, self.address, self)  # type: ignore[union-attr]
        finally:
            self._frame_base_busy = False

    # --- source level ---------------------------------------------------------------------

    def source_variables(self) -> list[SourceVariable]:
        """The variables in scope: the parameters, then the locals from the
        outermost block in."""
        if self.debug_variables is None or self.address is None:
            return []
        found = [self._source_variable(variable) for scope in self.debug_variables.scopes_at(self.address)
                 for variable in scope.variables]
        return [variable for variable in found if variable.parameter] + \
            [variable for variable in found if not variable.parameter]

    def _source_variable(self, variable: Variable) -> SourceVariable:
        storage = self.debug_variables.storage(variable, self.address or 0, self)  # type: ignore[union-attr]
        return SourceVariable(variable.name, Value(variable.type, storage), variable.parameter)

    def lookup(self, name: str) -> Value | None:
        """The value ``name`` stands for here, or None."""
        if name.startswith("$"):
            return self._wasm_lookup(name[1:])
        variables = self.debug_variables
        if variables is not None:
            if self.address is not None:
                for scope in reversed(variables.scopes_at(self.address)):
                    for variable in reversed(scope.variables):
                        if variable.name == name:
                            return self._source_variable(variable).value
            global_variable = variables.global_variable(name)
            if global_variable is not None:
                return Value(global_variable.type, variables.storage(global_variable, self.address or 0, self))
        return self._wasm_lookup(name)

    def _wasm_lookup(self, name: str) -> Value | None:
        info = self.view.info
        regs = self.view.frame.regs
        for index, valtype in enumerate(info.local_types):
            if name == info.local_name(index):
                return wasm_value(regs[index], valtype)
        names = self.instance.module.names.globals
        for index, cell in enumerate(self.instance.globals):
            if names.get(index) == name:
                return wasm_value(cell.value, cell.type.valtype)
        return None

    def type_named(self, name: str) -> CType | None:
        if self.debug_variables is None:
            return None
        return self.debug_variables.type_named(name)
