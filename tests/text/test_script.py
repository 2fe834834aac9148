"""WAST scripts: commands, values, result patterns, line numbers."""

from __future__ import annotations

import pytest

from interp.errors import TextSyntaxError
from interp.exec.store import EngineConfig
from interp.script.run import ScriptRunner
from interp.syntax.types import F32, F64, I32, I64, HeapKind
from interp.text import parse_module, parse_script
from interp.text.script import (
    ActionCommand,
    AssertExhaustion,
    AssertInvalid,
    AssertMalformed,
    AssertReturn,
    AssertTrap,
    AssertUninstantiable,
    AssertUnlinkable,
    Const,
    Get,
    Invoke,
    ModuleCommand,
    ModuleSource,
    NanPattern,
    RefExtern,
    RefFuncAny,
    RefNull,
    Register,
    ScriptModule,
)

SCRIPT = r"""
;; a comment
(module $M
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
(register "m" $M)
(module binary "\00asm" "\01\00\00\00")
(module $Q quote "(func" " nop)")
(invoke "add" (i32.const 1) (i32.const -1))
(get $M "g")
(assert_return (invoke $M "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return
  (invoke "f" (f32.const 1.5) (f64.const -0x1p-1) (i64.const -1) (ref.null extern) (ref.extern 7))
  (f32.const nan:canonical) (f64.const nan:arithmetic) (ref.func) (ref.null func) (ref.extern 2)
  (f64.const -nan:0x1))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_exhaustion (invoke "loop") "call stack exhausted")
(assert_malformed (module quote "(func") "unexpected token")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
(assert_uninstantiable (module binary "") "out of bounds")
"""


@pytest.fixture(scope="module")
def commands() -> tuple:
    return parse_script(SCRIPT)


def test_command_kinds_and_lines(commands: tuple) -> None:
    assert [(type(c), c.line) for c in commands] == [
        (ModuleCommand, 3), (Register, 5), (ModuleCommand, 6), (ModuleCommand, 7), (ActionCommand, 8),
        (ActionCommand, 9), (AssertReturn, 10), (AssertReturn, 11), (AssertTrap, 15), (AssertTrap, 16),
        (AssertExhaustion, 17), (AssertMalformed, 18), (AssertInvalid, 19), (AssertUnlinkable, 20),
        (AssertUninstantiable, 21),
    ]


def test_modules(commands: tuple) -> None:
    text = commands[0].module
    assert (text.name, text.source, text.line, text.binary, text.quote) == ("$M", ModuleSource.TEXT, 3, None, None)
    assert text.module.exports[0].name == "add"
    assert text.module.names.module == "M"
    binary = commands[2].module
    assert (binary.name, binary.source, binary.module, binary.binary) == (None, ModuleSource.BINARY, None,
                                                                          b"\x00asm\x01\x00\x00\x00")
    quote = commands[3].module
    assert (quote.name, quote.source, quote.quote, quote.module) == ("$Q", ModuleSource.QUOTE, "(func nop)", None)


def test_register_and_actions(commands: tuple) -> None:
    assert commands[1] == Register(5, "m", "$M")
    assert commands[4].action == Invoke(8, None, "add", (Const(I32, 1), Const(I32, 0xFFFF_FFFF)))
    assert commands[5].action == Get(9, "$M", "g")


def test_values_and_result_patterns(commands: tuple) -> None:
    assert commands[6].action.module_name == "$M"
    assert commands[6].expected == (Const(I32, 3),)
    invoke = commands[7].action
    assert invoke.args == (
        Const(F32, 0x3FC0_0000), Const(F64, 0xBFE0_0000_0000_0000), Const(I64, 2**64 - 1),
        RefNull(HeapKind.EXTERN), RefExtern(7),
    )
    assert commands[7].expected == (
        NanPattern(F32, "canonical"), NanPattern(F64, "arithmetic"), RefFuncAny(), RefNull(HeapKind.FUNC),
        RefExtern(2), Const(F64, 0xFFF0_0000_0000_0001),
    )


def test_assertions(commands: tuple) -> None:
    trap_action, trap_module = commands[8], commands[9]
    assert isinstance(trap_action.target, Invoke) and trap_action.message == "integer divide by zero"
    assert isinstance(trap_module.target, ScriptModule) and trap_module.target.module.start == 0
    assert commands[10].message == "call stack exhausted"
    assert commands[11].module.quote == "(func" and commands[11].message == "unexpected token"
    assert commands[12].module.module.funcs[0].body[-1].op.name == "end"
    assert commands[13].message == "unknown import"
    assert commands[14].module.binary == b""


def test_quote_modules_keep_raw_bytes_for_the_runner() -> None:
    (command,) = parse_script(r'(assert_malformed (module quote "\ff") "x")')
    quote = command.module.quote
    assert quote.encode("utf-8", "surrogateescape") == b"\xff"
    with pytest.raises(TextSyntaxError) as info:
        parse_module(quote)
    assert info.value.message == "malformed UTF-8 encoding"


def test_a_script_may_be_a_bare_module() -> None:
    (command,) = parse_script("(func (export \"f\")) (memory 1)")
    assert isinstance(command, ModuleCommand)
    assert command.module.module.memories


@pytest.mark.parametrize(("text", "message"), [
    ("(module (func (call $missing)))", "unknown function $missing"),
    ('(assert_return (invoke "f" (i32.const 0x1_0000_0000)))', "constant out of range"),
    ('(assert_return (invoke "f") (i32.const nan:canonical))', "unexpected token"),
    ('(invoke "f" (f32.const nan:canonical))', "unexpected token"),
    ('(invoke "f" (ref.func))', "unexpected token"),
    ('(assert_return (invoke "f") (v128.const f32x4 0 0 nan:canonical))', "wrong number of lane literals"),
    ('(assert_return (invoke "f") (v128.const i32x4 0 0 nan:canonical 0))', "wrong number of lane literals"),
    ('(script $s (module))', "unsupported command script"),
    ('(input "x.wast")', "unsupported command input"),
    ('(output "x.wasm")', "unsupported command output"),
    ('(assert_weird (module) "x")', "unknown operator assert_weird"),
    ('(assert_trap (module) 42)', "unexpected token"),
    ("(register $M)", "unexpected token"),
    ("nop", "unexpected token"),
])
def test_malformed_scripts(text: str, message: str) -> None:
    with pytest.raises(TextSyntaxError) as info:
        parse_script(text)
    assert info.value.message == message


def test_line_numbers_after_long_comments_and_many_commands() -> None:
    text = "(; \n\n ;)\n" + "".join(f'(invoke "f{i}")\n' for i in range(200))
    commands = parse_script(text)
    assert [c.line for c in commands] == list(range(4, 204))


EITHER = '(module (func (export "two") (result i32 f32) (i32.const 2) (f32.const nan:0x400001)))\n'


@pytest.mark.parametrize("expected, passes", [
    ("(either (i32.const 1) (i32.const 2)) (f32.const nan:arithmetic)", True),
    ("(either (i32.const 1) (i32.const 3)) (f32.const nan:arithmetic)", False),
    ("(i32.const 2) (either (f32.const 0) (f32.const nan:canonical))", False),
    ("(i32.const 2) (either (f32.const 0) (f32.const nan:arithmetic) (f32.const 1))", True),
])
def test_either_accepts_any_of_its_results(expected: str, passes: bool) -> None:
    """``(either r1 r2 ...)`` stands for one result that may be any of them
    (relaxed SIMD's allowed results)."""
    commands = parse_script(EITHER + f'(assert_return (invoke "two") {expected})')
    results = ScriptRunner(EngineConfig(engine="python")).run(commands)
    assert results[1].passed is passes, results[1].detail
    if not passes:
        assert "expected either " in results[1].detail


def test_either_is_only_a_result_pattern() -> None:
    with pytest.raises(TextSyntaxError) as info:
        parse_script(EITHER + '(invoke "two" (either (i32.const 1)))')
    assert info.value.message == "unknown operator either"
    with pytest.raises(TextSyntaxError):
        parse_script(EITHER + '(assert_return (invoke "two") (either))')
