"""The WAST script language of the spec testsuite: ``parse_script(text)``.

A script is a sequence of commands: modules (text, ``binary`` or ``quote``),
``register``, actions (``invoke``, ``get``) and assertions.  Text modules are
parsed here, eagerly; ``binary`` and ``quote`` modules are kept as written
(bytes, text) because decoding or parsing them is part of what the assertions
around them test, so the runner does it.

Every command records the 1-based line of its opening parenthesis, which is
how test reports point back into the ``.wast`` file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from interp.errors import InvalidError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Module
from interp.syntax.opcodes import OPS_BY_NAME
from interp.syntax.types import HeapKind, ValType
from interp.text.instructions import (
    NUMBER_LITERALS,
    heap_type,
    lane_literal_positions,
    literal_value,
    read_number,
    read_v128_shape,
)
from interp.text.lexer import ATOM, EOF, LPAR, RPAR, TokenReader
from interp.text.parser import read_module_fields


class ModuleSource(enum.Enum):
    TEXT = "text"
    BINARY = "binary"
    QUOTE = "quote"


@dataclass(frozen=True)
class ScriptModule:
    """A module as written in a script.  ``name`` keeps the ``$`` (``"$M"``);
    exactly one of ``module`` (TEXT), ``binary`` (BINARY), ``quote`` (QUOTE)
    is set, unless ``invalid`` is: a text module whose text already says it
    is invalid (a branch hint on an instruction that is no branch).  A
    ``definition`` (``(module definition ...)``) is only compiled where it
    stands, and instantiated by ``(module instance ...)`` commands."""

    name: str | None
    source: ModuleSource
    module: Module | None
    binary: bytes | None
    quote: str | None
    line: int
    definition: bool = False
    invalid: InvalidError | None = None


# -- values ---------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A number: i32/i64 canonical unsigned, f32/f64 as bit patterns."""

    type: ValType
    value: int


@dataclass(frozen=True)
class RefNull:
    """``(ref.null HEAPTYPE)``; as a result pattern, ``(ref.null)`` (``type``
    ``None``) is any null reference."""

    type: HeapKind | None


@dataclass(frozen=True)
class RefExtern:
    """``(ref.extern N)``: the host value N; as a result pattern,
    ``(ref.extern)`` (``value`` ``None``) is any non-null external reference."""

    value: int | None


@dataclass(frozen=True)
class RefHost:
    """``(ref.host N)``: the host value N converted to ``anyref``."""

    value: int


@dataclass(frozen=True)
class RefFuncAny:
    """Result pattern ``(ref.func)``: any non-null function reference."""


@dataclass(frozen=True)
class RefOfKind:
    """Result patterns ``(ref.struct)``, ``(ref.array)``, ``(ref.i31)``,
    ``(ref.eq)``, ``(ref.any)``: any non-null reference of that abstract heap type."""

    kind: HeapKind


@dataclass(frozen=True)
class NanPattern:
    """Result pattern ``(f32.const nan:canonical)`` and the like; ``kind`` is
    ``"canonical"`` or ``"arithmetic"``."""

    type: ValType
    kind: str


@dataclass(frozen=True)
class V128Pattern:
    """Result pattern ``(v128.const f32x4 nan:canonical 1.0 nan:arithmetic 0)``:
    a vector of float lanes of which some are NaN patterns.  ``shape`` is
    ``"f32x4"`` or ``"f64x2"``; each of ``lanes`` (lane 0 first) is the exact
    bit pattern the lane must have, or the ``NanPattern`` it must match.  A
    ``v128.const`` without NaN patterns is a plain ``Const`` of type v128."""

    shape: str
    lanes: tuple[int | NanPattern, ...]


@dataclass(frozen=True)
class Either:
    """Result pattern ``(either r1 r2 ...)``: any one of the alternatives (the
    relaxed SIMD instructions' results, of which the spec allows several)."""

    alternatives: tuple[Expected, ...]


Value = Const | RefNull | RefExtern | RefHost
Expected = Const | RefNull | RefExtern | RefHost | RefFuncAny | RefOfKind | NanPattern | V128Pattern | Either
_KIND_PATTERNS = {"ref.struct": HeapKind.STRUCT, "ref.array": HeapKind.ARRAY, "ref.i31": HeapKind.I31,
                  "ref.eq": HeapKind.EQ, "ref.any": HeapKind.ANY}


# -- commands -------------------------------------------------------------


@dataclass(frozen=True)
class Invoke:
    line: int
    module_name: str | None
    export: str
    args: tuple[Value, ...]


@dataclass(frozen=True)
class Get:
    line: int
    module_name: str | None
    export: str


Action = Invoke | Get


@dataclass(frozen=True)
class ModuleCommand:
    line: int
    module: ScriptModule


@dataclass(frozen=True)
class InstanceCommand:
    """``(module instance $instance? $definition?)``: instantiate a module
    definition (the latest one when none is named)."""

    line: int
    name: str | None
    definition: str | None


@dataclass(frozen=True)
class Register:
    line: int
    as_name: str
    module_name: str | None


@dataclass(frozen=True)
class ActionCommand:
    line: int
    action: Action


@dataclass(frozen=True)
class AssertReturn:
    line: int
    action: Action
    expected: tuple[Expected, ...]


@dataclass(frozen=True)
class AssertTrap:
    line: int
    target: Action | ScriptModule
    message: str


@dataclass(frozen=True)
class AssertExhaustion:
    line: int
    action: Action
    message: str


@dataclass(frozen=True)
class AssertException:
    """The action throws a WebAssembly exception that nothing catches."""

    line: int
    action: Action


@dataclass(frozen=True)
class AssertMalformed:
    line: int
    module: ScriptModule
    message: str


@dataclass(frozen=True)
class AssertInvalid:
    line: int
    module: ScriptModule
    message: str


@dataclass(frozen=True)
class AssertUnlinkable:
    line: int
    module: ScriptModule
    message: str


@dataclass(frozen=True)
class AssertUninstantiable:
    line: int
    module: ScriptModule
    message: str


Command = (
    ModuleCommand | InstanceCommand | Register | ActionCommand | AssertReturn | AssertTrap | AssertExhaustion | AssertException
    | AssertMalformed | AssertInvalid | AssertUnlinkable | AssertUninstantiable
)

_MODULE_FIELDS = frozenset({"type", "func", "table", "memory", "global", "import", "export", "start", "elem", "data"})
_NUMBER_KEYWORDS = frozenset(op.name for op in OPS_BY_NAME.values() if op.imm in NUMBER_LITERALS)
_NAN_PATTERNS = {"nan:canonical": "canonical", "nan:arithmetic": "arithmetic"}
_NAN_PATTERN_WORDS = frozenset(_NAN_PATTERNS)
_MODULE_ASSERTIONS = {
    "assert_malformed": AssertMalformed,
    "assert_malformed_custom": AssertMalformed,  # about an annotation of a custom section: as malformed text
    "assert_invalid": AssertInvalid,
    "assert_invalid_custom": AssertInvalid,
    "assert_unlinkable": AssertUnlinkable,
    "assert_uninstantiable": AssertUninstantiable,
}


def parse_script(text: str, features: frozenset[Feature] = SUPPORTED_FEATURES) -> tuple[Command, ...]:
    """Parse a ``.wast`` script, its text modules in the text format of
    ``features``.  Raises ``TextSyntaxError`` when the script itself is
    malformed, including a text module in it that does not parse."""
    return _ScriptParser(text, features).commands()


class _LineCounter:
    """Line numbers of increasing offsets, counted incrementally so that a
    script with many commands is not rescanned from the start each time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def line_of(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


class _ScriptParser:
    def __init__(self, text: str, features: frozenset[Feature]) -> None:
        self.reader = TokenReader.of(text)
        self.lines = _LineCounter(text)
        self.features = features

    def _line(self, position: int | None = None) -> int:
        reader = self.reader
        return self.lines.line_of(reader.tokens[reader.pos if position is None else position][2])

    def commands(self) -> tuple[Command, ...]:
        reader = self.reader
        if reader.lpar_keyword() in _MODULE_FIELDS:
            line = self._line()
            module = read_module_fields(reader, None, self.features)
            if reader.peek_kind() != EOF:
                raise reader.unexpected()
            return (ModuleCommand(line, ScriptModule(None, ModuleSource.TEXT, module, None, None, line)),)
        commands: list[Command] = []
        while reader.peek_kind() != EOF:
            commands.append(self._command())
        return tuple(commands)

    def _command(self) -> Command:
        reader = self.reader
        keyword = reader.lpar_keyword()
        line = self._line()
        if keyword == "module":
            if reader.tokens[reader.pos + 2][:2] == (ATOM, "instance"):
                return self._instance(line)
            return ModuleCommand(line, self._module())
        if keyword in ("invoke", "get"):
            return ActionCommand(line, self._action())
        if keyword is None:
            raise reader.unexpected()
        start = reader.pos
        reader.pos += 2
        command: Command
        if keyword == "register":
            as_name = reader.name()
            command = Register(line, as_name, reader.optional_id())
        elif keyword == "assert_return":
            action = self._action()
            expected = []
            while reader.peek_kind() == LPAR:
                expected.append(self._value(expected=True))
            command = AssertReturn(line, action, tuple(expected))
        elif keyword == "assert_trap":
            target = self._module() if reader.lpar_keyword() == "module" else self._action()
            command = AssertTrap(line, target, self._message())
        elif keyword == "assert_exhaustion":
            command = AssertExhaustion(line, self._action(), self._message())
        elif keyword == "assert_exception":
            command = AssertException(line, self._action())
        elif keyword in _MODULE_ASSERTIONS:
            module = self._module()
            command = _MODULE_ASSERTIONS[keyword](line, module, self._message())
        elif keyword in ("script", "input", "output"):
            raise reader.error(f"unsupported command {keyword}", start + 1)
        else:
            raise reader.unexpected(start + 1)
        reader.expect_rpar()
        return command

    def _message(self) -> str:
        return self.reader.name()

    def _instance(self, line: int) -> InstanceCommand:
        reader = self.reader
        reader.pos += 3
        name = reader.optional_id()
        definition = reader.optional_id()
        reader.expect_rpar()
        return InstanceCommand(line, name, definition)

    def _module(self) -> ScriptModule:
        reader = self.reader
        line = self._line()
        if reader.lpar_keyword() != "module":
            raise reader.unexpected()
        start = reader.pos
        reader.pos += 2
        definition = reader.accept_keyword("definition")
        name = reader.optional_id()
        source_word = reader.atom()
        if source_word == "binary" or source_word == "quote":
            reader.pos += 1
            data = reader.strings()
            reader.expect_rpar()
            if source_word == "binary":
                return ScriptModule(name, ModuleSource.BINARY, None, data, None, line, definition)
            quote = data.decode("utf-8", "surrogateescape")
            return ScriptModule(name, ModuleSource.QUOTE, None, None, quote, line, definition)
        try:
            module = read_module_fields(reader, name, self.features)
        except InvalidError as error:
            reader.pos = start
            reader.skip_sexpr()
            return ScriptModule(name, ModuleSource.TEXT, None, None, None, line, definition, error)
        reader.expect_rpar()
        return ScriptModule(name, ModuleSource.TEXT, module, None, None, line, definition)

    def _action(self) -> Action:
        reader = self.reader
        line = self._line()
        keyword = reader.lpar_keyword()
        if keyword not in ("invoke", "get"):
            raise reader.unexpected(reader.pos + (reader.peek_kind() == LPAR))
        reader.pos += 2
        module_name = reader.optional_id()
        export = reader.name()
        action: Action
        if keyword == "invoke":
            args = []
            while reader.peek_kind() == LPAR:
                args.append(self._value(expected=False))
            action = Invoke(line, module_name, export, tuple(args))
        else:
            action = Get(line, module_name, export)
        reader.expect_rpar()
        return action

    def _value(self, expected: bool) -> Expected:
        """``(i32.const 1)``, ``(v128.const i32x4 1 2 3 4)``, ``(ref.null func)``,
        ``(ref.extern 1)``; with ``expected``, also the result patterns
        ``nan:canonical``, ``nan:arithmetic`` (as a scalar or as lanes of a
        ``v128.const``), ``(ref.func)`` and ``(either ...)`` of such."""
        reader = self.reader
        keyword = reader.lpar_keyword()
        if keyword is None:
            raise reader.unexpected(reader.pos + (reader.peek_kind() == LPAR))
        reader.pos += 2
        value: Expected
        if keyword == "either" and expected:
            alternatives = []
            while reader.peek_kind() == LPAR:
                alternatives.append(self._value(expected=True))
            if not alternatives:
                raise reader.unexpected()
            value = Either(tuple(alternatives))
        elif keyword in _NUMBER_KEYWORDS:
            value = self._number(keyword, expected)
        elif keyword == "ref.null":
            value = RefNull(None if expected and reader.peek_kind() == RPAR else heap_type(reader))
        elif keyword == "ref.extern":
            value = RefExtern(None if expected and reader.peek_kind() == RPAR else reader.nat32())
        elif keyword == "ref.host":
            value = RefHost(reader.nat32())
        elif keyword == "ref.func" and expected:
            value = RefFuncAny()
        elif keyword in _KIND_PATTERNS and expected:
            value = RefOfKind(_KIND_PATTERNS[keyword])
        elif keyword == "v128.const":
            value = self._vector(expected)
        else:
            raise reader.unexpected(reader.pos - 1)
        reader.expect_rpar()
        return value

    def _number(self, keyword: str, expected: bool) -> Expected:
        reader = self.reader
        op = OPS_BY_NAME[keyword]
        valtype = op.results[0]  # type: ignore[index]
        if expected and reader.atom() in _NAN_PATTERNS and valtype in (ValType.F32, ValType.F64):
            kind = _NAN_PATTERNS[reader.atom()]  # type: ignore[index]
            reader.pos += 1
            return NanPattern(valtype, kind)
        return Const(valtype, read_number(reader, op))

    def _vector(self, expected: bool) -> Const | V128Pattern:
        """The operand of ``v128.const``; with ``expected``, float lanes may
        be NaN patterns."""
        reader = self.reader
        shape = read_v128_shape(reader)
        patterns = _NAN_PATTERN_WORDS if expected and shape.float_type is not None else frozenset()
        lanes: list[int | NanPattern] = []
        for position in lane_literal_positions(reader, shape, patterns):
            word = reader.tokens[position][1]
            if word in patterns:
                lanes.append(NanPattern(shape.float_type, _NAN_PATTERNS[word]))  # type: ignore[arg-type,index]
            else:
                lanes.append(literal_value(reader, position, shape.parse, shape.width))
        if all(isinstance(lane, int) for lane in lanes):
            return Const(ValType.V128, shape.join(lanes))  # type: ignore[arg-type]
        return V128Pattern(shape.name, tuple(lanes))


__all__ = [
    "Action", "ActionCommand", "AssertException", "AssertExhaustion", "AssertInvalid", "AssertMalformed",
    "AssertReturn", "AssertTrap", "AssertUninstantiable", "AssertUnlinkable", "Command", "Const", "Either",
    "Expected", "Get", "InstanceCommand",
    "Invoke", "ModuleCommand", "ModuleSource", "NanPattern", "RefExtern", "RefFuncAny", "RefHost", "RefNull",
    "RefOfKind",
    "Register", "ScriptModule", "V128Pattern", "Value", "parse_script",
]
