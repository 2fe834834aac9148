"""The WAST script runner: executes the commands of a ``.wast`` file and
checks every assertion exactly.

Every command counts as one check — a module definition must decode, validate
and instantiate; an action must not trap; an assertion must see exactly the
outcome it asserts.  Results are compared bit for bit (floats by their bit
patterns, NaNs by the spec's canonical / arithmetic patterns); failures must be
of the asserted kind (malformed, invalid, unlinkable, trap, exhaustion), and
whether the engine's message starts with the expected text is recorded too.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from interp.errors import (
    ExecutionError,
    ExhaustionError,
    FuelExhaustedError,
    GlasswasmError,
    InvalidError,
    MalformedError,
    TextSyntaxError,
    Trap,
    UncaughtException,
    UnlinkableError,
)
from interp.features import SUPPORTED_FEATURES, Feature
from interp.script.testsuites import place_of
from interp.translate.compiled import CompiledModule, compile_module
from interp.host.spectest import spectest_exports
from interp.loader import with_binary_offsets
from interp.binary.decode import decode_module
from interp.runtime.function import HostFunction, WasmFunction
from interp.runtime.globals import GlobalInstance
from interp.runtime.instance import ModuleInstance
from interp.exec.store import EngineConfig, Store
from interp.syntax.module import Module
from interp.runtime.references import GC_OBJECTS, HostRef, ref_matches
from interp.syntax.types import ValType, ref_type
from interp.syntax.values import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from interp.text.parser import parse_module
from interp.text.script import (
    ActionCommand,
    AssertException,
    AssertExhaustion,
    AssertInvalid,
    AssertMalformed,
    AssertReturn,
    AssertTrap,
    AssertUninstantiable,
    AssertUnlinkable,
    Command,
    Const,
    Either,
    Get,
    InstanceCommand,
    Invoke,
    ModuleCommand,
    ModuleSource,
    NanPattern,
    RefExtern,
    RefFuncAny,
    RefHost,
    RefNull,
    RefOfKind,
    Register,
    ScriptModule,
    V128Pattern,
    parse_script,
)

FUEL_PER_COMMAND = 200_000_000
"""Generous for any testsuite command; turns an engine bug that loops into a
failure instead of a hang."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one command.  ``message_matched`` is ``None`` when the
    command asserts no message, else whether the engine's error message starts
    with the expected text."""

    line: int
    command: str
    passed: bool
    detail: str = ""
    message_matched: bool | None = None


@dataclass
class ScriptResult:
    path: str
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # the script itself could not be read or parsed
    syntax_error: TextSyntaxError | None = None  # where it could not be parsed, located in its file

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.passed)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.checks if not c.passed) + (1 if self.error else 0)

    @property
    def message_mismatches(self) -> int:
        return sum(1 for c in self.checks if c.message_matched is False)


class _Failure(Exception):
    """A check did not hold; the message says how."""


class ScriptRunner:
    """Runs one script's commands against a fresh store, decoding, parsing
    and validating its modules by the rules of ``features``."""

    def __init__(self, config: EngineConfig | None = None,
                 features: frozenset[Feature] = SUPPORTED_FEATURES) -> None:
        self.features = features
        self.store = Store(config)
        self.registry: dict[str, Any] = {"spectest": spectest_exports()}
        self.instances: dict[str, ModuleInstance] = {}
        self.current: ModuleInstance | None = None
        self.definitions: dict[str, CompiledModule] = {}
        self.last_definition: CompiledModule | None = None

    def run(self, commands: tuple[Command, ...]) -> list[CheckResult]:
        return [self.run_command(command) for command in commands]

    def run_command(self, command: Command) -> CheckResult:
        name = _COMMAND_NAMES.get(type(command), type(command).__name__)
        handler = _HANDLERS[type(command)]
        self.store.set_fuel(FUEL_PER_COMMAND)
        try:
            matched = handler(self, command)
        except _Failure as failure:
            return CheckResult(command.line, name, False, str(failure))
        except GlasswasmError as error:
            detail = f"unexpected {error.label}: {error}"
            if isinstance(error, ExecutionError) and error.backtrace:
                detail += " [" + "; ".join(entry.describe() for entry in error.backtrace) + "]"
            return CheckResult(command.line, name, False, detail)
        except Exception as error:  # an engine bug: report it, keep going
            return CheckResult(command.line, name, False, f"internal error: {type(error).__name__}: {error}")
        finally:
            self.store.set_fuel(None)
        return CheckResult(command.line, name, True, "", matched)

    # --- modules -----------------------------------------------------------------

    def _load(self, script_module: ScriptModule) -> Module:
        if script_module.invalid is not None:
            raise script_module.invalid
        if script_module.source is ModuleSource.BINARY:
            return decode_module(script_module.binary or b"", self.features)
        if script_module.source is ModuleSource.QUOTE:
            return parse_module(script_module.quote or "", self.features)
        if script_module.module is None:
            raise _Failure("text module missing")
        return script_module.module

    def _compile(self, script_module: ScriptModule) -> CompiledModule:
        module = self._load(script_module)
        if script_module.source is not ModuleSource.BINARY:
            module = with_binary_offsets(module, self.features)  # so that traps point at byte offsets
        return compile_module(module, features=self.features)

    def _instantiate(self, script_module: ScriptModule) -> ModuleInstance:
        return self.store.instantiate(self._compile(script_module), self.registry, script_module.name)

    def _define(self, command: ModuleCommand) -> None:
        if command.module.definition:
            compiled = self._compile(command.module)
            self.last_definition = compiled
            if command.module.name is not None:
                self.definitions[command.module.name] = compiled
            return
        instance = self._instantiate(command.module)
        self.current = instance
        if command.module.name is not None:
            self.instances[command.module.name] = instance

    def _instantiate_definition(self, command: InstanceCommand) -> None:
        compiled = self.last_definition if command.definition is None else self.definitions.get(command.definition)
        if compiled is None:
            raise _Failure(f"unknown module definition {command.definition or ''}".rstrip())
        instance = self.store.instantiate(compiled, self.registry, command.name)
        self.current = instance
        if command.name is not None:
            self.instances[command.name] = instance

    def _register(self, command: Register) -> None:
        self.registry[command.as_name] = self._instance(command.module_name).exports

    def _instance(self, name: str | None) -> ModuleInstance:
        if name is None:
            if self.current is None:
                raise _Failure("no module defined yet")
            return self.current
        instance = self.instances.get(name)
        if instance is None:
            raise _Failure(f"unknown module {name}")
        return instance

    # --- actions -----------------------------------------------------------------

    def _perform(self, action: Invoke | Get) -> list:
        instance = self._instance(action.module_name)
        if isinstance(action, Get):
            value = instance.exports.get(action.export)
            if not isinstance(value, GlobalInstance):
                raise _Failure(f"no exported global {action.export!r}")
            return [value.value]
        func = instance.exports.get(action.export)
        if not isinstance(func, (WasmFunction, HostFunction)):
            raise _Failure(f"no exported function {action.export!r}")
        return self.store.invoke(func, *[_argument(value) for value in action.args])

    def _action(self, command: ActionCommand) -> None:
        self._perform(command.action)

    def _assert_return(self, command: AssertReturn) -> None:
        results = self._perform(command.action)
        if len(results) != len(command.expected):
            raise _Failure(f"expected {len(command.expected)} results, got {len(results)}")
        for position, (actual, expected) in enumerate(zip(results, command.expected)):
            if not _matches(actual, expected):
                raise _Failure(f"result {position}: expected {_show_expected(expected)}, got "
                               f"{_show_actual(actual, expected)}")

    # --- failure assertions ----------------------------------------------------------

    def _expect_failure(self, run: Callable[[], object], kind: type[GlasswasmError], message: str) -> bool:
        try:
            run()
        except kind as error:
            if kind is Trap and isinstance(error, (ExhaustionError, FuelExhaustedError)):
                raise _Failure(f"expected trap {message!r}, got {error.label}: {error}") from None
            return error.message.startswith(message)
        except GlasswasmError as error:
            raise _Failure(f"expected {kind.label} {message!r}, got {error.label}: {error}") from None
        raise _Failure(f"expected {kind.label} {message!r}, but it succeeded")

    def _assert_trap(self, command: AssertTrap) -> bool:
        target = command.target
        if isinstance(target, ScriptModule):
            return self._expect_failure(lambda: self._instantiate(target), Trap, command.message)
        return self._expect_failure(lambda: self._perform(target), Trap, command.message)

    def _assert_exhaustion(self, command: AssertExhaustion) -> bool:
        return self._expect_failure(lambda: self._perform(command.action), ExhaustionError, command.message)

    def _assert_exception(self, command: AssertException) -> None:
        try:
            self._perform(command.action)
        except UncaughtException:
            return
        raise _Failure("expected an uncaught exception, but it succeeded")

    def _assert_malformed(self, command: AssertMalformed) -> bool:
        return self._expect_failure(lambda: self._load(command.module), MalformedError, command.message)

    def _assert_invalid(self, command: AssertInvalid) -> bool:
        return self._expect_failure(lambda: compile_module(self._load(command.module), features=self.features),
                                    InvalidError, command.message)

    def _assert_unlinkable(self, command: AssertUnlinkable) -> bool:
        compiled = self._compile(command.module)
        return self._expect_failure(
            lambda: self.store.instantiate(compiled, self.registry), UnlinkableError, command.message)

    def _assert_uninstantiable(self, command: AssertUninstantiable) -> bool:
        compiled = self._compile(command.module)
        return self._expect_failure(
            lambda: self.store.instantiate(compiled, self.registry), Trap, command.message)


_HANDLERS: dict[type, Callable[[ScriptRunner, Any], Any]] = {
    ModuleCommand: ScriptRunner._define,
    InstanceCommand: ScriptRunner._instantiate_definition,
    Register: ScriptRunner._register,
    ActionCommand: ScriptRunner._action,
    AssertReturn: ScriptRunner._assert_return,
    AssertTrap: ScriptRunner._assert_trap,
    AssertExhaustion: ScriptRunner._assert_exhaustion,
    AssertException: ScriptRunner._assert_exception,
    AssertMalformed: ScriptRunner._assert_malformed,
    AssertInvalid: ScriptRunner._assert_invalid,
    AssertUnlinkable: ScriptRunner._assert_unlinkable,
    AssertUninstantiable: ScriptRunner._assert_uninstantiable,
}

_COMMAND_NAMES: dict[type, str] = {
    ModuleCommand: "module",
    InstanceCommand: "module instance",
    Register: "register",
    ActionCommand: "action",
    AssertReturn: "assert_return",
    AssertTrap: "assert_trap",
    AssertExhaustion: "assert_exhaustion",
    AssertException: "assert_exception",
    AssertMalformed: "assert_malformed",
    AssertInvalid: "assert_invalid",
    AssertUnlinkable: "assert_unlinkable",
    AssertUninstantiable: "assert_uninstantiable",
}

def _argument(value: Const | RefNull | RefExtern | RefHost) -> object:
    if isinstance(value, Const):
        if value.type is ValType.F32:
            return f32_from_bits(value.value)
        if value.type is ValType.F64:
            return f64_from_bits(value.value)
        return value.value
    if isinstance(value, RefNull):
        return None
    if isinstance(value, RefHost):
        return HostRef(value.value)
    return value.value  # ref.extern N: the host value N


_CANONICAL = {ValType.F32: (0x7FFF_FFFF, 0x7FC0_0000), ValType.F64: (0x7FFF_FFFF_FFFF_FFFF, 0x7FF8_0000_0000_0000)}
_ARITHMETIC = {ValType.F32: 0x7FC0_0000, ValType.F64: 0x7FF8_0000_0000_0000}


def _bits(value: object, valtype: ValType) -> int | None:
    if not isinstance(value, float):
        return None
    return f32_to_bits(value) if valtype is ValType.F32 else f64_to_bits(value)


def _nan_matches(bits: int, expected: NanPattern) -> bool:
    if expected.kind == "canonical":
        mask, pattern = _CANONICAL[expected.type]
        return bits & mask == pattern
    quiet = _ARITHMETIC[expected.type]
    return bits & quiet == quiet


def _lanes_match(actual: int, expected: V128Pattern) -> bool:
    """Lane by lane: exact bits, or the lane's NaN pattern."""
    lane_bits = 128 // len(expected.lanes)
    mask = (1 << lane_bits) - 1
    for position, lane in enumerate(expected.lanes):
        bits = (actual >> (position * lane_bits)) & mask
        if isinstance(lane, NanPattern):
            if not _nan_matches(bits, lane):
                return False
        elif bits != lane:
            return False
    return True


def _matches(actual: object, expected: Any) -> bool:
    if isinstance(expected, Either):
        return any(_matches(actual, alternative) for alternative in expected.alternatives)
    if isinstance(expected, Const):
        if expected.type is ValType.F32 or expected.type is ValType.F64:
            return _bits(actual, expected.type) == expected.value
        return type(actual) is int and actual == expected.value
    if isinstance(expected, NanPattern):
        bits = _bits(actual, expected.type)
        return bits is not None and _nan_matches(bits, expected)
    if isinstance(expected, V128Pattern):
        return type(actual) is int and _lanes_match(actual, expected)
    if isinstance(expected, RefNull):
        return actual is None
    if isinstance(expected, RefExtern):
        if actual is None or isinstance(actual, (WasmFunction, HostFunction, HostRef)):
            return False
        return expected.value is None or (not isinstance(actual, GC_OBJECTS) and actual == expected.value)
    if isinstance(expected, RefHost):
        return isinstance(actual, HostRef) and actual.value == expected.value
    if isinstance(expected, RefFuncAny):
        return isinstance(actual, (WasmFunction, HostFunction))
    if isinstance(expected, RefOfKind):
        return actual is not None and ref_matches(actual, ref_type(False, expected.kind))
    return False


def _show_expected(expected: Any) -> str:
    if isinstance(expected, Either):
        return "either " + " or ".join(_show_expected(alternative) for alternative in expected.alternatives)
    if isinstance(expected, Const):
        return f"{expected.type}:{expected.value:#x}"
    if isinstance(expected, NanPattern):
        return f"{expected.type}:nan:{expected.kind}"
    if isinstance(expected, V128Pattern):
        lanes = " ".join(f"nan:{lane.kind}" if isinstance(lane, NanPattern) else f"{lane:#x}"
                         for lane in expected.lanes)
        return f"v128:{expected.shape} {lanes}"
    return repr(expected)


def _show_actual(actual: object, expected: Any) -> str:
    if isinstance(expected, Either):
        expected = expected.alternatives[0]
    valtype = getattr(expected, "type", None)
    if isinstance(actual, float) and valtype in (ValType.F32, ValType.F64):
        return f"{valtype}:{_bits(actual, valtype):#x} ({actual!r})"
    if isinstance(actual, int):
        return f"{actual:#x}"
    return repr(actual)


def run_script_file(path: str | os.PathLike[str], config: EngineConfig | None = None,
                    features: frozenset[Feature] | None = None) -> ScriptResult:
    """Parse and run one ``.wast`` file, by the rules of ``features``: by
    default, for a file of a testsuite glasswasm knows, the features of its
    standard and those the file needs (a 2.0 file as WebAssembly 2.0); for
    any other file, every feature the engine supports."""
    if features is None:
        place = place_of(Path(path))
        features = place.features if place is not None else SUPPORTED_FEATURES
    config = dataclasses.replace(config or EngineConfig(), features=features)
    result = ScriptResult(str(path))
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        result.error = f"cannot read: {error}"
        return result
    try:
        commands = parse_script(text, features)
    except TextSyntaxError as error:
        result.syntax_error = error.in_file(os.fspath(path))
        result.error = f"cannot parse: {error}"
        return result
    result.checks = ScriptRunner(config, features).run(commands)
    return result
