"""Text-format errors point at the source: ``FILE:LINE:COL: error: MESSAGE``,
the line, and carets under the token, from every command that reads a module
and from ``glasswasm spec`` for a malformed script; the exception carries the
same facts for tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.cli.diagnostics import describe_error
from interp.cli.main import main
from interp.errors import TextSyntaxError
from interp.loader import read_module
from interp.text.parser import parse_module

BAD = "(module\n  (func (result i32)\n    (i32.add (i32.const 1) oops)))\n"


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def bad_wat(tmp_path: Path) -> Path:
    path = tmp_path / "bad.wat"
    path.write_text(BAD)
    return path


@pytest.mark.parametrize("command", [["run"], ["validate"], ["dump"], ["trace"], ["inspect"], ["assemble"]])
def test_every_command_shows_file_line_column_and_the_token(capsys, bad_wat: Path, command: list[str]) -> None:
    status, out, err = run_cli(capsys, *command, bad_wat)
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{bad_wat}:3:28: error: unknown operator oops",
        "      (i32.add (i32.const 1) oops)))",
        "                             ^^^^",
    ]


def test_the_exception_carries_file_line_column_and_source(bad_wat: Path) -> None:
    with pytest.raises(TextSyntaxError) as info:
        read_module(bad_wat)
    error = info.value
    assert (error.file, error.line, error.column, error.length) == (str(bad_wat), 3, 28, 4)
    assert error.source_line == "    (i32.add (i32.const 1) oops)))"
    assert error.offset == BAD.index("oops")
    assert str(error) == f"{bad_wat}:3:28: unknown operator oops"  # one line


def test_without_a_file_the_message_keeps_its_position() -> None:
    with pytest.raises(TextSyntaxError) as info:
        parse_module(BAD)
    assert info.value.file is None
    assert str(info.value) == "unknown operator oops (at line 3, column 28)"
    assert describe_error(info.value)[0] == "3:28: error: unknown operator oops"


def render(source: str) -> list[str]:
    with pytest.raises(TextSyntaxError) as info:
        parse_module(source)
    return describe_error(info.value.in_file("m.wat"))


def test_tabs_stay_tabs_so_the_caret_lines_up() -> None:
    assert render("(module\n\t(func\tbogus))") == [
        "m.wat:2:8: error: unknown operator bogus",
        "  \t(func\tbogus))",
        "  \t     \t^^^^^",
    ]


def test_an_error_at_the_end_of_the_text_points_past_the_last_character() -> None:
    assert render("(module (func") == [
        "m.wat:1:14: error: unexpected end of input",
        "  (module (func",
        "               ^",
    ]


def test_escapes_and_wide_characters_keep_the_caret_under_the_token() -> None:
    lines = render('(module (func (export "\u732b") bogus))')
    assert lines[1:] == ['  (module (func (export "\u732b") bogus))', "  " + " " * 28 + "^^^^^"]


def test_long_lines_are_cut_to_a_window_around_the_token() -> None:
    source = "(module " + "(func) " * 100 + "bogus" + " (func)" * 100 + ")"
    header, shown, carets = render(source)
    assert header == f"m.wat:1:{source.index('bogus') + 1}: error: unknown operator bogus"
    assert shown.startswith("  ...") and shown.endswith("...") and len(shown) < 120
    assert shown[carets.index("^"):carets.index("^") + 5] == "bogus"


def test_control_characters_in_the_line_are_escaped_and_counted() -> None:
    lines = render("(module (func (; \x01 ;) bogus))")
    assert lines[1] == "  (module (func (; \\x01 ;) bogus))"
    assert lines[2].index("^") == lines[1].index("bogus")


def test_lexer_errors_point_inside_strings() -> None:
    assert render('(module (data "ab\\q"))')[1:] == ['  (module (data "ab\\q"))', "                   ^"]


def test_spec_shows_where_a_script_is_malformed(capsys, tmp_path: Path) -> None:
    script = tmp_path / "broken.wast"
    script.write_text('(module)\n(assert_return (invoke "f")\n  (i32.const 1) (what))\n')
    status, out, _ = run_cli(capsys, "spec", script)
    assert status == 1
    assert out.splitlines() == [
        f"{script}: 0 passed, 1 failed (cannot parse)",
        f"  {script}:3:18: error: unknown operator what",
        "      (i32.const 1) (what))",
        "                     ^^^^",
        "0 passed, 1 failed",
    ]
