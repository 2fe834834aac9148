"""The commands people reach for: ``--version``, ``assemble`` (wat2wasm),
``inspect``, ``run`` with nothing to run, options after the module, typed
commands and options that are nearly right, and ``spec`` naming its failed
checks."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from interp.binary.encode import encode_module
from interp.binary.sections import Producer, decode_producers, section_layout
from interp.cli.main import main
from interp.syntax.module import CustomSection, Export
from interp.syntax.types import ExternKind
from interp.text.parser import parse_module

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugins" / "c" / "auth_call.wasm"
DWARF_PROGRAM = ROOT / "tests" / "debug" / "programs" / "collatz.wasm"
REACTOR = ROOT / "tests" / "wasi" / "wat" / "reactor.wat"

FIB = """(module
  (memory (export "memory") 1 2)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def fib_wat(tmp_path: Path) -> Path:
    path = tmp_path / "fib.wat"
    path.write_text(FIB)
    return path


# -- --version and mistyped commands ----------------------------------------------------


def test_version_comes_from_the_package_metadata(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"glasswasm {importlib.metadata.version('glasswasm')}\n"


@pytest.mark.parametrize("typed, message", [
    ("rnu", "unknown command 'rnu'; did you mean 'run'?"),
    ("valdiate", "unknown command 'valdiate'; did you mean 'validate'?"),
    ("inpsect", "unknown command 'inpsect'; did you mean 'inspect'?"),
    ("compile", "unknown command 'compile'; did you mean 'assemble'?"),
    ("wasm2wat", "unknown command 'wasm2wat'; did you mean 'dump'?"),
    ("frobnicate", "unknown command 'frobnicate' (commands: run, validate, assemble, inspect, dump, spec, "
                   "proxy, trace, debug, profile, engines, cache)"),
])
def test_a_mistyped_command_gets_the_nearest_one(capsys, typed: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([typed, "x.wat"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == f"glasswasm: error: {message}\n"


# -- options after the module ----------------------------------------------------------------


def test_options_after_the_module_are_accepted(capsys, fib_wat: Path) -> None:
    assert run_cli(capsys, "run", fib_wat, "--invoke", "fib", "10") == (0, "55\n", "")
    assert run_cli(capsys, "run", fib_wat, "--invoke", "fib", "--fuel", "10000", "7") == (0, "13\n", "")
    status, out, _ = run_cli(capsys, "trace", fib_wat, "--format", "calls", "--invoke", "fib", "1")
    assert (status, out) == (0, "fib(i32:1) = i32:1\n")


@pytest.mark.parametrize("args, message", [
    (["run", "{fib}", "--invokee", "fib", "1"], "glasswasm run: error: unrecognized option '--invokee'; "
                                                 "did you mean '--invoke'?"),
    (["run", "{fib}", "--verbose"], "glasswasm run: error: unrecognized option '--verbose'; an argument for the "
                                    "module that starts with a dash goes after --: glasswasm run MODULE -- --verbose"),
    (["validate", "{fib}", "extra"], "glasswasm validate: error: unexpected argument 'extra'"),
    (["dump", "{fib}", "--folder"], "glasswasm dump: error: unrecognized option '--folder'; did you mean '--folded'?"),
    (["inspect", "{fib}", "--jsn=1"], "glasswasm inspect: error: unrecognized option '--jsn'; "
                                      "did you mean '--json'?"),
])
def test_unknown_options_get_a_one_line_hint(capsys, fib_wat: Path, args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([arg.replace("{fib}", str(fib_wat)) for arg in args])
    assert exited.value.code == 1
    assert capsys.readouterr().err == message + "\n"


def test_dash_arguments_for_the_module_go_after_a_double_dash(capsys, tmp_path: Path) -> None:
    module = tmp_path / "neg.wat"
    module.write_text('(module (func (export "neg") (param f64) (result f64) (f64.neg (local.get 0))))')
    assert run_cli(capsys, "run", module, "--invoke", "neg", "--", "-inf") == (0, "inf\n", "")
    assert run_cli(capsys, "run", module, "--invoke", "neg", "-1.5") == (0, "1.5\n", "")


# -- run with nothing to run ----------------------------------------------------------------------


def test_run_without_start_or_invoke_lists_the_exports(capsys, fib_wat: Path) -> None:
    status, out, err = run_cli(capsys, "run", fib_wat)
    assert (status, out) == (1, "")
    assert err == (f"error: nothing to run: {fib_wat} has no start function; call an export with --invoke NAME "
                   "(exported functions: fib [i32] -> [i32])\n")


def test_run_with_nothing_exported(capsys, tmp_path: Path) -> None:
    module = tmp_path / "empty.wat"
    module.write_text("(module (memory 1))")
    assert run_cli(capsys, "run", module) == (
        1, "", f"error: nothing to run: {module} has no start function and exports no functions\n")


def test_a_start_function_is_enough_to_run(capsys, tmp_path: Path) -> None:
    module = tmp_path / "start.wat"
    module.write_text('(module (import "spectest" "print_i32" (func $print (param i32)))'
                      ' (func $main (call $print (i32.const 7))) (start $main) (func (export "other")))')
    assert run_cli(capsys, "run", module) == (0, "7\n", "")


# -- spec names its failures ----------------------------------------------------------------------------


def test_spec_lists_the_first_failed_checks_and_how_many_there_are(capsys, tmp_path: Path) -> None:
    script = tmp_path / "many.wast"
    script.write_text('(module (func (export "one") (result i32) (i32.const 1)))\n'
                      + "".join(f'(assert_return (invoke "one") (i32.const {n}))\n' for n in range(2, 14)))
    status, out, _ = run_cli(capsys, "spec", script)
    lines = out.splitlines()
    assert status == 1
    assert lines[:2] == [f"{script}: 1 passed, 12 failed",
                         "failed checks (the first 10 of 12; -v lists them all):"]
    assert lines[2:12] == [f"  {script}:{n}: assert_return: result 0: expected i32:{n:#x}, got 0x1"
                           for n in range(2, 12)]
    assert lines[12:] == ["1 passed, 12 failed"]
    status, verbose, _ = run_cli(capsys, "spec", "-v", script)
    assert verbose.splitlines()[1:13] == [f"  {script}:{n}: assert_return: result 0: expected i32:{n:#x}, got 0x1"
                                          for n in range(2, 14)]
    assert "failed checks" not in verbose


# -- assemble ----------------------------------------------------------------------------------------------


def test_assemble_writes_the_binary_next_to_the_text(capsys, fib_wat: Path) -> None:
    assert run_cli(capsys, "assemble", fib_wat) == (0, "", "")
    binary = fib_wat.with_suffix(".wasm").read_bytes()
    assert binary == encode_module(parse_module(FIB))
    assert run_cli(capsys, "run", "--invoke", "fib", fib_wat.with_suffix(".wasm"), "7") == (0, "13\n", "")


def test_assemble_output_options(capsysbinary, fib_wat: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "named.wasm"
    target.parent.mkdir()
    assert main(["assemble", str(fib_wat), "-o", str(target)]) == 0
    assert main(["assemble", str(fib_wat), "-o", "-"]) == 0
    assert capsysbinary.readouterr().out == target.read_bytes()
    assert main(["assemble", "--no-names", str(fib_wat), "-o", "-"]) == 0
    without_names = capsysbinary.readouterr().out
    assert not any(span.custom_name == "name" for span in section_layout(without_names))
    assert len(without_names) < target.stat().st_size


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wat2wasm is not installed")
@pytest.mark.parametrize("flags, theirs", [([], ["--debug-names"]), (["--no-names"], [])])
def test_assemble_writes_what_wat2wasm_writes(fib_wat: Path, tmp_path: Path, flags: list[str],
                                              theirs: list[str]) -> None:
    ours, reference = tmp_path / "ours.wasm", tmp_path / "theirs.wasm"
    assert main(["assemble", *flags, str(fib_wat), "-o", str(ours)]) == 0
    subprocess.run(["wat2wasm", *theirs, str(fib_wat), "-o", str(reference)], check=True)
    assert ours.read_bytes() == reference.read_bytes()


def test_assemble_validates_unless_told_not_to(capsys, tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.wat"
    invalid.write_text("(module (func (result i32) (i64.const 1)))")
    status, _, err = run_cli(capsys, "assemble", invalid)
    assert status == 1 and err.startswith(f"{invalid}:1:41: error: type mismatch in end:")
    assert not invalid.with_suffix(".wasm").exists()
    assert run_cli(capsys, "assemble", "--no-check", invalid) == (0, "", "")
    assert invalid.with_suffix(".wasm").exists()


def test_assemble_refuses_a_binary_and_reports_unwritable_output(capsys, fib_wat: Path, tmp_path: Path) -> None:
    binary = tmp_path / "fib.wasm"
    binary.write_bytes(encode_module(parse_module(FIB)))
    assert run_cli(capsys, "assemble", binary) == (
        1, "", f"error: {binary} is a binary module already (glasswasm dump prints its text)\n")
    status, _, err = run_cli(capsys, "assemble", fib_wat, "-o", tmp_path / "no" / "dir" / "x.wasm")
    assert status == 1 and err.startswith("error: cannot write ") and err.count("\n") == 1


# -- inspect -------------------------------------------------------------------------------------------------


def test_inspect_lists_a_text_module(capsys, fib_wat: Path) -> None:
    status, out, err = run_cli(capsys, "inspect", fib_wat)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        f"{fib_wat}: text module, 99 bytes when assembled",
        "sections (contents' start and size, as wasm-objdump -h shows them):",
        "  type       start 0x0000000a  size 6       1 type",
        "  function   start 0x00000012  size 2       1 function",
        "  memory     start 0x00000016  size 4       1 memory",
        "  export     start 0x0000001c  size 16      2 exports",
        "  code       start 0x0000002e  size 30      1 body",
        "  custom     start 0x0000004e  size 21      \"name\"",
        "types:",
        "  0: [i32] -> [i32]",
        "imports: none",
        "functions: 1 defined, 0 imported",
        "tables: none",
        "memories:",
        "  0: memory {min 1, max 2}",
        "globals: none",
        "exports:",
        '  memory "memory": memory 0, {min 1, max 2}',
        '  func "fib": func 0 $fib, [i32] -> [i32]',
        "start function: none",
        "custom sections:",
        "  name: names of 1 function, local names in 1 function",
        "  DWARF debug information: none",
    ]


@pytest.mark.skipif(shutil.which("wasm-objdump") is None, reason="wabt is not installed")
def test_inspect_offsets_are_those_of_wasm_objdump(capsys, tmp_path: Path) -> None:
    status, out, _ = run_cli(capsys, "inspect", "--json", PLUGIN)
    ours = [(section["name"], section["offset"], section["size"]) for section in json.loads(out)["sections"]]
    listing = subprocess.run(["wasm-objdump", "-h", str(PLUGIN)], capture_output=True, text=True, check=True).stdout
    theirs = []
    for line in listing.splitlines():
        if "start=" in line:
            name, start, _, size = line.split()[:4]
            theirs.append((name.lower(), int(start.split("=")[1], 16), int(size.strip("(size=)"), 16)))
    assert [(offset, size) for _, offset, size in ours] == [(offset, size) for _, offset, size in theirs]
    assert [name for name, _, _ in ours] == [name for name, _, _ in theirs]


def test_inspect_recognises_a_proxy_wasm_plugin(capsys) -> None:
    status, out, _ = run_cli(capsys, "inspect", PLUGIN)
    assert status == 0
    lines = out.splitlines()
    plugin = lines.index("proxy-wasm plugin: ABI 0.2.1, exports 5 callbacks")
    assert lines[plugin + 1:] == ["  proxy_on_configure", "  proxy_on_delete", "  proxy_on_http_call_response",
                                  "  proxy_on_memory_allocate", "  proxy_on_request_headers"]
    document = json.loads(run_cli(capsys, "inspect", "--json", PLUGIN)[1])
    assert document["proxy_wasm"]["abi_versions"] == ["0.2.1"]
    assert document["wasi"] is None
    assert document["producers"] == {"processed-by": [{"name": "Debian clang", "version": "14.0.6"}]}
    assert {"module": "env", "name": "proxy_log", "kind": "func", "type": "func [i32 i32 i32] -> [i32]"} \
        in document["imports"]


def test_inspect_reports_dwarf_producers_and_wasi(capsys) -> None:
    out = run_cli(capsys, "inspect", DWARF_PROGRAM)[1]
    assert "  DWARF debug information: .debug_info, .debug_ranges, .debug_abbrev, .debug_line, .debug_str" \
        in out.splitlines()
    assert "  producers: language C99; processed-by Debian clang 14.0.6" in out.splitlines()
    out = run_cli(capsys, "inspect", REACTOR)[1]
    assert out.splitlines()[-1] == "WASI: a reactor, importing 2 functions of wasi_unstable"


def test_inspect_json_is_one_document_of_every_part(capsys, fib_wat: Path) -> None:
    status, out, _ = run_cli(capsys, "inspect", "--json", fib_wat)
    document = json.loads(out)
    assert status == 0
    assert list(document) == ["module", "format", "size", "sections", "types", "imports", "functions", "tables",
                              "memories", "globals", "tags", "exports", "start", "custom_sections", "names", "producers",
                              "dwarf", "wasi", "proxy_wasm"]
    assert document["exports"][1] == {"name": "fib", "kind": "func", "index": 0, "internal_name": "fib",
                                      "type": "func [i32] -> [i32]"}
    assert document["memories"] == [{"index": 0, "name": None, "imported": False, "type": "memory {min 1, max 2}"}]
    assert document["names"] == {"module": None, "functions": 1, "functions_with_local_names": 1}
    assert run_cli(capsys, "inspect", "--json", fib_wat)[1] == out  # deterministic


def test_inspect_shows_other_custom_sections_and_survives_invalid_modules(capsys, tmp_path: Path) -> None:
    module = parse_module("(module (func))")
    odd = replace(module, exports=(Export("ghost", ExternKind.FUNC, 9), Export("t", ExternKind.TABLE, 0)),
                  customs=(CustomSection("sourceMappingURL", b"\x07x.map"),
                           CustomSection("producers", b"\x01\x08language\x05")))  # cut short
    path = tmp_path / "odd.wasm"
    path.write_bytes(encode_module(odd))
    status, out, _ = run_cli(capsys, "inspect", path)
    assert status == 0
    lines = out.splitlines()
    assert '  func "ghost": func 9' in lines and '  table "t": table 0' in lines
    assert '  other: "sourceMappingURL" (23 bytes)' in lines
    assert "  producers: empty" in lines
    assert decode_producers(b"\x01\x08language\x01\x01C\x0211") == {"language": (Producer("C", "11"),)}


def test_inspect_a_malformed_binary_is_one_line(capsys, tmp_path: Path) -> None:
    path = tmp_path / "cut.wasm"
    path.write_bytes(encode_module(parse_module(FIB))[:30])
    status, out, err = run_cli(capsys, "inspect", path)
    assert (status, out) == (1, "")
    assert err.startswith("malformed: ") and err.count("\n") == 1


def test_inspect_runs_as_a_program() -> None:
    completed = subprocess.run([sys.executable, "-m", "interp", "inspect", str(REACTOR)], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0 and "export" in completed.stdout


def test_inspect_columns_widen_for_large_sections(capsys, tmp_path: Path) -> None:
    path = tmp_path / "big.wasm"
    module = parse_module('(module (memory 20) (data (i32.const 0) "a"))')
    path.write_bytes(encode_module(replace(module, datas=(replace(module.datas[0], init=b"a" * 1_234_567),))))
    lines = run_cli(capsys, "inspect", path)[1].splitlines()
    assert lines[2:4] == ["  memory     start 0x0000000a  size 3        1 memory",
                          "  data       start 0x00000011  size 1234575  1 segment"]  # as wasm-objdump -h: 0x12d68f
