"""The text format's annotations that mean something (custom sections,
names, branch hints), quoted identifiers, and the script format's module
definitions and instances and exception assertions."""

from __future__ import annotations

import pytest

from interp.binary.decode import decode_module
from interp.binary.encode import encode_module
from interp.errors import InvalidError, TextSyntaxError
from interp.script.run import ScriptRunner
from interp.syntax.module import CustomSection
from interp.text import parse_module, parse_script
from interp.text.printer import print_module


def test_custom_annotations_are_custom_sections_where_they_say() -> None:
    module = parse_module('''(module
      (@custom "a" "x" "y")
      (@custom "b" (before first) "z")
      (func)
      (@custom "c" (after func) "\\01")
      (@custom "d" (before global) ""))''')
    assert module.customs == (CustomSection("a", b"xy", 11), CustomSection("b", b"z", 0),
                              CustomSection("c", b"\x01", 3), CustomSection("d", b"", 13))
    decoded = decode_module(encode_module(module))
    assert [custom.name for custom in decoded.customs] == ["b", "c", "d", "a"]


@pytest.mark.parametrize("text, message", [
    ("(@custom)", "@custom annotation: missing section name"),
    ('(@custom "x" (after))', "@custom annotation: malformed section kind"),
    ('(@custom "x" (aft func))', "@custom annotation: malformed placement"),
    ('(@custom "x" (after func) oops)', "@custom annotation: unexpected token"),
    ('(func (@custom "x"))', "misplaced @custom annotation"),
    ('(type (@custom "x") (func))', "misplaced @custom annotation"),
    ('(module (@name "a") (@name "b"))', "@name annotation: multiple module names"),
    ('(module (func) (@name "m"))', "misplaced @name annotation"),
    ("(func (@name 1))", "@name annotation: string expected"),
    ('(@metadata.code.branch_hint "\\01") (func)', "@metadata.code.branch_hint annotation: not in a function"),
    ('(func (@metadata.code.branch_hint "\\02") (if (i32.const 0) (then)))',
     "@metadata.code.branch_hint annotation: invalid hint value"),
    ('(func (@metadata.code.branch_hint "\\01") (@metadata.code.branch_hint "\\01") (if (i32.const 0) (then)))',
     "@metadata.code.branch_hint annotation: duplicate annotation"),
])
def test_malformed_annotations(text: str, message: str) -> None:
    with pytest.raises(TextSyntaxError, match=message):
        parse_module(text)


def test_a_branch_hint_must_hint_a_branch() -> None:
    with pytest.raises(InvalidError, match="invalid target"):
        parse_module('(func (@metadata.code.branch_hint "\\01") (nop))')


def test_branch_hints_become_their_section_and_print_before_their_branches() -> None:
    text = '''(module (func (param i32)
      (@metadata.code.branch_hint "\\01") (if (local.get 0) (then))
      (block (@metadata.code.branch_hint "\\00") (br_if 0 (local.get 0)))))'''
    module = parse_module(text)
    (hints,) = module.customs
    # function 0, two hints: the if at byte 3 of its code entry (after the locals' 0x00 and a
    # local.get), likely; the br_if at 10, unlikely
    assert hints.name == "metadata.code.branch_hint" and hints.data == bytes([1, 0, 2, 3, 1, 1, 10, 1, 0])
    for folded in (False, True):
        printed = print_module(module, folded=folded)
        assert printed.count("(@metadata.code.branch_hint") == 2
        assert parse_module(printed).customs == module.customs


def test_names_annotations_name_what_identifiers_cannot() -> None:
    module = parse_module('''(module $m (@name "the module")
      (func $f (@name "fonction à deux") (param i32))
      (tag (@name "θ") (param i32))
      (global $g (@name "") i32 (i32.const 0)))''')
    names = module.names
    assert (names.module, names.funcs, names.tags, names.globals) == \
        ("the module", {0: "fonction à deux"}, {0: "θ"}, {0: ""})
    assert parse_module(print_module(module)).names == names


def test_quoted_identifiers_are_the_names_they_spell() -> None:
    module = parse_module('''(module (func $"f g" (call $"f g")) (func $h (call $"h")))''')
    assert module.names.funcs == {0: "f g", 1: "h"}
    assert [instr.imm for instr in module.funcs[0].body[:1] + module.funcs[1].body[:1]] == [0, 1]


def run(script: str) -> list[tuple[str, bool, str]]:
    return [(check.command, check.passed, check.detail) for check in ScriptRunner().run(parse_script(script))]


def test_module_definitions_are_instantiated_by_module_instance_commands() -> None:
    checks = run('''
      (module definition $M (global (export "g") (mut i32) (i32.const 0))
        (func (export "bump") (result i32) (global.set 0 (i32.add (global.get 0) (i32.const 1))) (global.get 0)))
      (module definition (import "nowhere" "f" (func)))
      (module instance $one $M)
      (module instance $two $M)
      (assert_return (invoke $one "bump") (i32.const 1))
      (assert_return (invoke $one "bump") (i32.const 2))
      (assert_return (invoke $two "bump") (i32.const 1))
      (assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import")
      (module instance $three $missing)''')
    assert [passed for _, passed, _ in checks] == [True] * 8 + [False]
    assert checks[-1][2] == "unknown module definition $missing"


def test_assert_exception_and_the_custom_assertions() -> None:
    checks = run('''
      (module (tag $e) (func (export "throw") (throw $e)) (func (export "nothing")))
      (assert_exception (invoke "throw"))
      (assert_exception (invoke "nothing"))
      (assert_malformed_custom (module quote "(func (@custom \\"x\\"))") "misplaced @custom annotation")
      (assert_invalid_custom (module (func (@metadata.code.branch_hint "\\01") (nop)))
        "@metadata.code.branch_hint annotation: invalid target")''')
    assert [(command, passed) for command, passed, _ in checks] == [
        ("module", True), ("assert_exception", True), ("assert_exception", False), ("assert_malformed", True),
        ("assert_invalid", True)]
    assert checks[2][2] == "expected an uncaught exception, but it succeeded"
