"""A validated module with every function lowered: what instances are made of.

Compiling is validating: ``validate_module`` runs the module-level checks and
hands every function body to ``lower_function``, which validates the body as
it lowers it.  So each body is walked once, and the checks (and their order
and messages) are those of ``glasswasm validate``.
"""

from __future__ import annotations

from typing import Any

from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Func, Module
from interp.syntax.types import ExternKind
from interp.translate.lower import LoweredFunction, lower_function
from interp.valid.context import ModuleContext
from interp.valid.module import validate_module


class CompiledModule:
    """A module that passed validation, ready to instantiate any number of
    times.  ``functions`` are the lowered bodies of the functions it defines,
    shared by all its instances."""

    def __init__(self, module: Module, context: ModuleContext, functions: tuple[LoweredFunction, ...]) -> None:
        self.module = module
        self.context = context
        self.functions = functions
        self.num_imported_funcs = len(context.funcs) - len(module.funcs)
        self.func_names = _function_names(module)
        self._source_map: Any = _NOT_READ

    def lowered(self, func_index: int) -> LoweredFunction:
        """The lowered body of the defined function at ``func_index`` (an index
        in the function index space, so imports count)."""
        return self.functions[func_index - self.num_imported_funcs]

    def source_location(self, offset: int | None) -> str | None:
        """``file:line`` of the instruction at byte ``offset``, when the module
        carries DWARF line information (read on first use, e.g. the first trap)."""
        if offset is None or offset < 0:
            return None
        if self._source_map is _NOT_READ:
            self._source_map = None
            if any(custom.name == ".debug_line" for custom in self.module.customs):
                from interp.debug.source_map import SourceMap

                self._source_map = SourceMap.for_module(self.module)
        if self._source_map is None:
            return None
        location = self._source_map.location(offset)
        return str(location) if location is not None else None


_NOT_READ = object()


def _function_names(module: Module) -> dict[int, str]:
    """Names to show for functions: the name section's, else the first export
    name (as ``wasm-objdump`` does)."""
    names: dict[int, str] = {}
    for export in module.exports:
        if export.kind is ExternKind.FUNC:
            names.setdefault(export.index, export.name)
    names.update(module.names.funcs)
    return names


def compile_module(module: Module, features: frozenset[Feature] = SUPPORTED_FEATURES) -> CompiledModule:
    """Validate ``module`` (raising ``InvalidError``) by the rules of
    ``features`` (see ``validate_module``) and prepare it to run."""
    functions: list[LoweredFunction] = []

    def lower(context: ModuleContext, index: int, func: Func) -> None:
        functions.append(lower_function(context, index, func))

    context = validate_module(module, lower, features)
    return CompiledModule(module, context, tuple(functions))
