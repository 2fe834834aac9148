"""``glasswasm dump``: the module in the text format, flat or folded, with
offsets, to standard output or a file; errors as one line and status 1."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from interp.binary.encode import encode_module
from interp.cli.main import main
from interp.loader import read_module
from interp.syntax.module import Names
from interp.text.parser import parse_module

SOURCE = """(module
  (memory 1)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (data (i32.const 8) "ok\\00"))"""

FLAT = """(module
  (type (;0;) (func (param i32) (result i32)))
  (func $fib (type 0) (param $n i32) (result i32)
    local.get $n
    i32.const 2
    i32.lt_u
    if (result i32)
      local.get $n
    else
      local.get $n
      i32.const 1
      i32.sub
      call $fib
      local.get $n
      i32.const 2
      i32.sub
      call $fib
      i32.add
    end)
  (memory (;0;) 1)
  (export "fib" (func $fib))
  (data (;0;) (offset i32.const 8) "ok\\00"))
"""

FOLDED_WITH_OFFSETS_BODY = """\
  (func $fib (type 0) (param $n i32) (result i32)
    (;@2c;) (if (result i32)
      (;@2b;) (i32.lt_u
        (;@27;) (local.get $n)
        (;@29;) (i32.const 2))
      (then
        (;@2e;) (local.get $n))
      (;@30;) (else
        (;@3f;) (i32.add
          (;@36;) (call $fib
            (;@35;) (i32.sub
              (;@31;) (local.get $n)
              (;@33;) (i32.const 1)))
          (;@3d;) (call $fib
            (;@3c;) (i32.sub
              (;@38;) (local.get $n)
              (;@3a;) (i32.const 2)))))))
"""


@pytest.fixture
def wat_file(tmp_path: Path) -> Path:
    path = tmp_path / "fib.wat"
    path.write_text(SOURCE)
    return path


@pytest.fixture
def wasm_file(tmp_path: Path) -> Path:
    path = tmp_path / "fib.wasm"
    path.write_bytes(encode_module(parse_module(SOURCE)))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_dump_prints_the_module_flat(capsys, wat_file: Path, wasm_file: Path) -> None:
    assert run_cli(capsys, "dump", wat_file) == (0, FLAT, "")
    assert run_cli(capsys, "dump", wasm_file) == (0, FLAT, "")


def test_dump_folded_with_offsets(capsys, wasm_file: Path) -> None:
    status, out, err = run_cli(capsys, "dump", "--folded", "--offsets", wasm_file)
    assert (status, err) == (0, "")
    assert FOLDED_WITH_OFFSETS_BODY in out
    status, folded, _ = run_cli(capsys, "dump", "--folded", wasm_file)
    assert "(if (result i32)\n      (i32.lt_u (local.get $n) (i32.const 2))\n" in folded
    assert "(;@" not in folded


def test_dump_output_parses_back_to_the_same_module(capsys, wasm_file: Path) -> None:
    original = read_module(wasm_file)
    for options in ([], ["--folded"], ["--offsets"], ["--folded", "--offsets"]):
        _, out, _ = run_cli(capsys, "dump", *options, wasm_file)
        back = parse_module(out)
        assert back.names == original.names
        assert len(back.funcs) == 1
        assert [i.op for i in back.funcs[0].body] == [i.op for i in original.funcs[0].body]
        assert [i.imm for i in back.funcs[0].body] == [i.imm for i in original.funcs[0].body]
        assert back.datas == tuple(dataclasses.replace(d, offset=tuple(i._replace(offset=-1) for i in d.offset))
                                   for d in original.datas)


def test_dump_to_a_file(capsys, wat_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.wat"
    assert run_cli(capsys, "dump", "-o", target, wat_file) == (0, "", "")
    assert target.read_text() == FLAT
    assert run_cli(capsys, "dump", "--output", target, "--folded", wat_file)[0] == 0
    assert target.read_text().startswith("(module\n  (type (;0;) (func (param i32) (result i32)))\n")
    assert "(call $fib (i32.sub (local.get $n) (i32.const 1)))" in target.read_text()


def test_invalid_modules_are_printed_not_rejected(capsys, tmp_path: Path) -> None:
    path = tmp_path / "invalid.wat"
    path.write_text("(module (func (result i32) (i64.const 1)))")
    assert main(["validate", str(path)]) == 1
    capsys.readouterr()
    status, out, _ = run_cli(capsys, "dump", path)
    assert status == 0 and "    i64.const 1)" in out


def test_names_that_are_not_identifiers_print_as_quoted_identifiers(capsys, tmp_path: Path) -> None:
    module = parse_module(SOURCE)
    module = dataclasses.replace(module, names=Names(funcs={0: "not an identifier"}))
    path = tmp_path / "odd.wasm"
    path.write_bytes(encode_module(module))
    status, out, _ = run_cli(capsys, "dump", path)
    assert status == 0 and '(func $"not an identifier" (type 0) (param i32) (result i32)' in out
    assert 'call $"not an identifier"\n' in out
    assert parse_module(out).names.funcs == {0: "not an identifier"}


@pytest.mark.parametrize("content, message", [
    (b"\0asm\x01\0\0\0\x01", "malformed: unexpected end of section or function"),
    (b"\xff\xfe", "malformed: neither a wasm binary"),
])
def test_bad_modules_are_one_line_errors(capsys, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wasm"
    path.write_bytes(content)
    status, out, err = run_cli(capsys, "dump", path)
    assert (status, out) == (1, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_malformed_text_points_at_the_source(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.wat"
    path.write_bytes(b"(module (func $f) (func $f))")
    status, out, err = run_cli(capsys, "dump", path)
    assert (status, out) == (1, "")
    assert err.splitlines() == [f"{path}:1:25: error: duplicate function $f",
                                "  (module (func $f) (func $f))",
                                "                          ^^"]


def test_unreadable_input_and_unwritable_output(capsys, wat_file: Path, tmp_path: Path) -> None:
    status, _, err = run_cli(capsys, "dump", tmp_path / "missing.wasm")
    assert status == 1 and err.startswith("error: cannot read ") and err.count("\n") == 1
    status, out, err = run_cli(capsys, "dump", "-o", tmp_path / "no" / "such" / "dir.wat", wat_file)
    assert (status, out) == (1, "") and err.startswith("error: cannot write ") and err.count("\n") == 1


def test_usage_errors(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["dump"])
    assert stop.value.code == 1
    assert "the following arguments are required: MODULE" in capsys.readouterr().err


def test_the_installed_command_runs_dump(wat_file: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "interp", "dump", "--folded", str(wat_file)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("(module\n") and result.stderr == ""
