"""A proxy-wasm module, read and checked once: decoded, validated and lowered
(``CompiledModule``), its ABI version known, its callbacks' types checked.

A module without a ``proxy_abi_version_0_2_1`` or ``proxy_abi_version_0_2_0``
export is refused (``PluginLoadError``), as is one exporting a callback with
a type the ABI does not give it.  VMs made from one ``PluginModule`` (shared
or reloaded) reuse its compiled form.
"""

from __future__ import annotations

import os

from abi.enums import AbiVersion
from abi.errors import PluginLoadError
from abi.vm.callbacks import CALLBACKS, error_line
from interp.errors import GlasswasmError
from interp.loader import compile_bytes, read_file
from interp.syntax.module import Module
from interp.translate.cache import ModuleCache
from interp.translate.compiled import CompiledModule, compile_module
from interp.syntax.types import I64, ExternKind, FuncType

WasmInput = str | os.PathLike[str] | bytes | Module | CompiledModule
"""What a plugin's code may be given as: a path (``.wasm`` or ``.wat``), the
module's bytes, a decoded ``Module`` or a ``CompiledModule``."""


class PluginModule:
    """A checked proxy-wasm module.  ``plugin`` names it in errors; a module
    given as a path or bytes is compiled through ``module_cache`` (none: not
    cached)."""

    def __init__(self, wasm: WasmInput, plugin: str, label: str, module_cache: ModuleCache | None = None) -> None:
        self.plugin = plugin
        self.label = label
        self.module_cache = module_cache
        self.compiled = self._compile(wasm)
        self.module = self.compiled.module
        self.abi_version = self._abi_version()
        self._check_callback_types()
        self._check_memory()

    def _compile(self, wasm: WasmInput) -> CompiledModule:
        try:
            if isinstance(wasm, CompiledModule):
                return wasm
            if isinstance(wasm, Module):
                return compile_module(wasm)
            if isinstance(wasm, (bytes, bytearray)):
                return compile_bytes(bytes(wasm), None, self.module_cache)
            return compile_bytes(read_file(wasm), os.fspath(wasm), self.module_cache)
        except GlasswasmError as error:
            raise PluginLoadError(self.plugin, f"{self.label}: {error_line(error)}") from None

    def exported_functions(self) -> set[str]:
        return {export.name for export in self.module.exports if export.kind is ExternKind.FUNC}

    def _abi_version(self) -> AbiVersion:
        exported = self.exported_functions()
        for version in sorted(AbiVersion, key=lambda v: v.value, reverse=True):
            if version.marker in exported:
                return version
        others = sorted(name for name in exported if name.startswith("proxy_abi_version_"))
        supported = " or ".join(v.marker for v in AbiVersion)
        if others:
            raise PluginLoadError(self.plugin, f"exports {', '.join(others)}; this host runs ABI 0.2.0 and "
                                               f"0.2.1 only ({supported})")
        raise PluginLoadError(self.plugin, f"not a proxy-wasm plugin: it exports no ABI version marker "
                                           f"({supported})")

    def _check_callback_types(self) -> None:
        func_types = self.function_types()
        for export in self.module.exports:
            signature = CALLBACKS.get(export.name)
            if export.kind is not ExternKind.FUNC or signature is None:
                continue
            actual = func_types[export.index]
            if actual != signature.func_type:
                raise PluginLoadError(self.plugin, f"export {export.name} has type {actual}, ABI "
                                                   f"{self.abi_version.value} gives it {signature.func_type}")

    def _check_memory(self) -> None:
        """The ABI passes 32-bit pointers into memory 0: a 64-bit one
        (memory64) cannot hold what host functions hand over."""
        memories = self.module.memory_types()
        if memories and memories[0].address is I64:
            raise PluginLoadError(self.plugin, f"{self.label}: memory 0 is 64-bit (memory64), but proxy-wasm "
                                               f"passes 32-bit pointers into it")

    def function_types(self) -> list[FuncType]:
        module = self.module
        types = [module.types[imp.desc] for imp in module.imports if isinstance(imp.desc, int)]
        types.extend(module.types[func.type_index] for func in module.funcs)
        return types
