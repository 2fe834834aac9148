"""A validated module, its functions lowered as they are first needed: what
instances are made of.

Compiling is validating: every body is validated once, up front (a module is
rejected if any body is invalid, whether or not it would ever run), with the
checks, their order and their messages of ``glasswasm validate``.  Lowering is
lazy: ``CompiledModule.lowered`` lowers a function the first time an engine
asks for it, without typing it again (``lower_valid_function``: every body of
a compiled module is valid), so a large module keeps in memory, as lowered
code, only what runs.

From a binary (``compile_binary``), validation happens in the decoder's pass:
each body is validated as soon as it is decoded and its instructions dropped,
so the module stays its bytes (``LazyBody``) and memory follows what runs,
not the module's size.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from interp.binary.decode import BodyCheck, decode_module
from interp.errors import InvalidError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Func, Module
from interp.syntax.types import ExternKind, ValType
from interp.text.positions import TextSource
from interp.translate.lower import LoweredFunction, lower_valid_function
from interp.valid.context import ModuleContext
from interp.valid.function import validate_function
from interp.valid.module import validate_module

try:
    from interp.valid.native_body import BodyChecker
except ImportError:  # a pure-Python install: every body is decoded and validated in Python
    BodyChecker = None


class CodeStore(Protocol):
    """Where code an engine derives from a module's functions is kept between
    runs (the module cache, ``interp/translate/cache.py``): opaque bytes per
    engine and function index."""

    def load(self, engine: str, func_index: int) -> bytes | memoryview | None: ...

    def save(self, engine: str, func_index: int, data: bytes) -> None: ...

    def flush(self) -> None:
        """Write back what was saved."""


class CompiledModule:
    """A module that passed validation, ready to instantiate any number of
    times.  Its functions' lowered bodies are made on first use and shared by
    all its instances; ``engine_code`` keeps what an engine derives from them
    per function (the compiled loop's encoding), by engine, likewise shared,
    and ``code_store`` (when the module came through the cache) keeps it
    between runs.  ``source``, for a module read from text, locates its parts
    in the text (link errors use it)."""

    def __init__(self, module: Module, context: ModuleContext, source: TextSource | None = None) -> None:
        self.module = module
        self.context = context
        self.source = source
        self.num_imported_funcs = len(context.funcs) - len(module.funcs)
        self.func_names = _function_names(module)
        self.engine_code: dict[str, dict[int, Any]] = {}
        self.code_store: CodeStore | None = None
        self._lowered: dict[int, LoweredFunction] = {}
        self._source_map: Any = _NOT_READ

    def lowered(self, func_index: int) -> LoweredFunction:
        """The lowered body of the defined function at ``func_index`` (an index
        in the function index space, so imports count), lowered on first use."""
        found = self._lowered.get(func_index)
        if found is None:
            found = self._lowered[func_index] = self.lower(func_index)
        return found

    def lower(self, func_index: int) -> LoweredFunction:
        """The lowered body of a function, for an engine that derives its own
        code from it and keeps that instead: lowered again unless it is kept."""
        found = self._lowered.get(func_index)
        if found is None:
            found = lower_valid_function(self.context, func_index,
                                         self.module.funcs[func_index - self.num_imported_funcs])
        return found

    @property
    def lowered_count(self) -> int:
        """How many functions have been lowered so far."""
        return len(self._lowered)

    def source_location(self, offset: int | None) -> str | None:
        """``file:line`` of the instruction at byte ``offset``, when the module
        carries DWARF line information (read on first use, e.g. the first trap)."""
        if offset is None or offset < 0:
            return None
        if self._source_map is _NOT_READ:
            self._source_map = None
            if any(custom.name == ".debug_line" for custom in self.module.customs):
                # Imported here, not at the top: reading DWARF loads pyelftools,
                # which a run without a .debug_line section never needs.
                from interp.dwarf.source_map import SourceMap

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


def compile_module(module: Module, source: TextSource | None = None,
                   features: frozenset[Feature] = SUPPORTED_FEATURES) -> CompiledModule:
    """Validate ``module`` by the rules of ``features`` (raising
    ``InvalidError``, located in the text when the module's ``source`` is
    given) and prepare it to run."""
    return CompiledModule(module, validate_module(module, source=source, features=features), source)


def compile_binary(binary: bytes, trusted: bool = False,
                   features: frozenset[Feature] = SUPPORTED_FEATURES) -> CompiledModule:
    """Decode and validate a module binary in one pass (raising
    ``MalformedError`` or ``InvalidError``, exactly as ``decode_module`` then
    ``validate_module`` would) and prepare it to run.

    ``trusted``: the binary was compiled before and found valid (the module
    cache says so), so its bodies are neither decoded nor validated now (nor
    when they are lowered).  The binary
    format and the rules are those of ``features``."""
    if trusted:
        module = decode_module(binary, features, trusted=True)
        return CompiledModule(module, ModuleContext.of_module(module, features))
    bodies = _BodyValidation(features)
    module = decode_module(binary, features, bodies.start)
    return CompiledModule(module, validate_module(module, bodies.replay, features=features))


class _BodyValidation:
    """Validates each function body while the decoder holds its bytes.

    The native check (``interp/valid/native_body.pyx``, when built) reads
    the body's bytes first; a body it accepts is well-formed and valid and is
    not decoded at all.  Any other body is decoded, and validated by
    ``validate_function`` while the decoder holds its instructions, which
    gives every error its exact message and position.

    The context is built from the sections before the code section, which
    hold everything a body may refer to (data segments, which come after it,
    are counted by the data count section that a body using them requires).
    The first invalid body's error is kept, not raised: a malformed module
    must fail as malformed, and module-level checks that ``validate_module``
    makes before the bodies must win.  ``replay`` then takes the place of the
    body check in ``validate_module``, raising the kept error in its turn."""

    def __init__(self, features: frozenset[Feature]) -> None:
        self.features = features
        self.context: ModuleContext | None = None
        self.native: Any = None
        self.first_defined = 0
        self.error: tuple[int, InvalidError] | None = None

    def start(self, module: Module) -> BodyCheck:
        try:
            context = ModuleContext.of_module(module, self.features)
        except InvalidError:
            return self  # validate_module raises it before any body; no body is checked
        self.context = dataclasses.replace(context, datas=module.data_count or 0)
        self.first_defined = len(context.funcs) - len(module.funcs)
        if BodyChecker is not None:
            self.native = BodyChecker(self.context)
        return self

    def accepts(self, position: int, data: bytes, start: int, end: int, local_types: tuple[ValType, ...]) -> bool:
        native = self.native
        return native is not None and native.accepts(self.first_defined + position, data, start, end, local_types)

    def check(self, position: int, func: Func) -> None:
        if self.error is not None or self.context is None:
            return
        index = self.first_defined + position
        try:
            validate_function(self.context, index, func)
        except InvalidError as error:
            self.error = (index, error)

    def replay(self, context: ModuleContext, index: int, func: Func) -> None:
        if self.error is not None and self.error[0] == index:
            raise self.error[1]
