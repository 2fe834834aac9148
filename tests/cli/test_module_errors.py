"""Validation and link errors point at the source: in a text module, the
instruction's (or the field's) line and column with the line and a caret,
the function by index and ``$name``, the instruction and its byte offset; in
a binary module, the same facts on one line, the byte offset being the one
``wasm-objdump -d`` shows; link errors name the import and both types.  The
exceptions carry it all as attributes."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from interp.cli.diagnostics import describe_error
from interp.cli.main import main
from interp.errors import FieldKind, FunctionRef, InvalidError, ModuleField, UnlinkableError
from interp.exec.store import Store
from interp.host.spectest import spectest_exports
from interp.loader import assemble_text, load_bytes, load_module
from interp.syntax.module import Instruction
from interp.syntax.opcodes import op
from interp.text.parser import parse_module
from interp.translate.compiled import compile_module

MISMATCH = """(module
  (func $total (export "total") (param $count i32) (param $sum i64) (result i64)
    local.get $count
    local.get $sum
    i64.add))
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def invalid(text: str, file: str = "m.wat") -> InvalidError:
    """The error of compiling ``text`` read as the file ``file``."""
    with pytest.raises(InvalidError) as info:
        load_bytes(text.encode(), file).compile()
    return info.value


def where(error: InvalidError | UnlinkableError) -> tuple[int | None, int | None, str | None]:
    """Line, column and the underlined text of a located error."""
    if error.source_line is None or error.column is None:
        return error.line, error.column, None
    start = error.column - 1
    return error.line, error.column, error.source_line[start:start + error.length]


# -- text modules -------------------------------------------------------------------------------------


def test_a_named_function_is_shown_at_the_instruction(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.wat"
    path.write_text(MISMATCH)
    status, out, err = run_cli(capsys, "validate", path)
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:5:5: error: type mismatch in i64.add: expected [i64 i64], got [i32 i64]",
        "      i64.add))",
        "      ^^^^^^^",
        "  in function 0 $total, at offset 0x29",
    ]


def test_the_exception_carries_the_same_facts(tmp_path: Path) -> None:
    path = tmp_path / "bad.wat"
    path.write_text(MISMATCH)
    with pytest.raises(InvalidError) as info:
        load_module(path).compile()
    error = info.value
    assert (error.file, error.line, error.column, error.length) == (str(path), 5, 5, 7)
    assert error.source_line == "    i64.add))"
    assert error.function == FunctionRef(0, "total")
    assert (error.instruction, error.offset, error.field) == ("i64.add", 0x29, None)
    assert error.message == "type mismatch: expected [i64 i64], got [i32 i64]"  # the spec's words first
    assert str(error) == (f"{path}:5:5: type mismatch in i64.add: expected [i64 i64], got [i32 i64] "
                          f"(in function 0 $total, at offset 0x29)")


def test_an_unnamed_function_is_named_by_its_index_counting_imports() -> None:
    error = invalid('(module (import "m" "f" (func)) (func) (func (result i32)\n  (i32.eqz (f32.const 1))))')
    assert error.function == FunctionRef(2)
    assert where(error) == (2, 4, "i32.eqz")
    assert describe_error(error) == [
        "m.wat:2:4: error: type mismatch in i32.eqz: expected [i32], got [f32]",
        "    (i32.eqz (f32.const 1))))",
        "     ^^^^^^^",
        "  in function 2, at offset 0x2d",  # wasm-objdump -d of wat2wasm's binary shows it there
    ]


def test_without_a_file_the_message_keeps_line_and_column() -> None:
    parsed = assemble_text(MISMATCH.encode())[1]
    with pytest.raises(InvalidError) as info:
        parsed.compile()
    assert info.value.file is None
    assert str(info.value) == ("type mismatch in i64.add: expected [i64 i64], got [i32 i64] "
                               "(at line 5, column 5, in function 0 $total, at offset 0x29)")
    assert describe_error(info.value)[0] == "5:5: error: type mismatch in i64.add: expected [i64 i64], got [i32 i64]"


@pytest.mark.parametrize("body,column,message", [
    # folded: the keyword after the parenthesis
    ("(drop (i32.add (i32.const 1) (i64.const 2)))", 10, "type mismatch in i32.add: expected [i32 i32], "
                                                         "got [i32 i64]"),
    # an implicit end is the parenthesis that closes the block
    ("(drop (block (result i32) (nop)))", 34, "type mismatch in end: expected [i32] at the end of the block, got []"),
    # an explicit end is the word itself
    ("block (result i32) nop end drop", 26, "type mismatch in end: expected [i32] at the end of the block, got []"),
    # the end of the then branch is the else that follows it
    ("(drop (if (result i32) (i32.const 0) (then (i64.const 1)) (else (i32.const 2))))", 62,
     "type mismatch in else: expected [i32] at the end of the then branch, got [i64]"),
    ("(drop (local.get 7))", 10, "unknown local 7 in local.get"),
    ("(call 9)", 4, "unknown function 9 in call"),
    ("(br 3)", 4, "unknown label 3 in br"),
    # the function's end is the parenthesis that closes it
    ("(i32.const 1)", 16, "type mismatch in end: expected [] at the end of the function, got [i32]"),
])
def test_each_instruction_is_found_where_it_is_written(body: str, column: int, message: str) -> None:
    error = invalid(f"(module (func $f\n  {body}))")
    assert (error.headline, error.line, error.column) == (message, 2, column)
    assert error.source_line == f"  {body}))"
    assert error.function == FunctionRef(0, "f")


def test_errors_in_constant_expressions_name_the_global() -> None:
    error = invalid("(module\n  (global $g i32 (i64.const 0)))")
    assert error.function is None and error.field == ModuleField(FieldKind.GLOBAL, 0)
    assert error.headline == "type mismatch in end: expected [i32] at the end of the constant expression, got [i64]"
    assert where(error) == (2, 31, ")")
    error = invalid('(module (global i32 (i32.const 0))\n  (global i32 (i32.div_s (i32.const 1) (i32.const 2))))')
    assert (error.message, error.instruction, error.field) == \
        ("constant expression required", "i32.div_s", ModuleField(FieldKind.GLOBAL, 1))
    assert where(error) == (2, 16, "i32.div_s")
    assert str(error) == ("m.wat:2:16: constant expression required in i32.div_s (in global 1, at offset "
                          f"{error.offset:#x})")


@pytest.mark.parametrize("fields,field,column,message", [
    ('(func $f (export "a"))\n  (export "a" (func $f))', ModuleField(FieldKind.EXPORT, 1), 4,
     "duplicate export name 'a'"),
    ('(func (export "a") (export "a"))', ModuleField(FieldKind.EXPORT, 1), 29, "duplicate export name 'a'"),
    ('(func)\n  (export "x" (func 4))', ModuleField(FieldKind.EXPORT, 0), 4, "unknown function 4"),
    ("(memory 1)\n  (memory $two 2 1)", ModuleField(FieldKind.MEMORY, 1), 4,
     "size minimum must not be greater than maximum"),
    ('(import "m" "t" (table 3 2 funcref))', ModuleField(FieldKind.IMPORT, 0), 10,
     "size minimum must not be greater than maximum"),
    ("(func (param i32))\n  (start 0)", ModuleField(FieldKind.START, 0), 4,
     "start function must not have parameters or results"),
    ("(func)\n  (elem (i32.const 0) func 0)", ModuleField(FieldKind.ELEM, 0), 4, "unknown table 0"),
    ('(data (i32.const 0) "x")', ModuleField(FieldKind.DATA, 0), 10, "unknown memory 0"),
])
def test_errors_outside_functions_point_at_the_field(fields: str, field: ModuleField, column: int,
                                                     message: str) -> None:
    error = invalid(f"(module {fields})")
    assert (error.message, error.field, error.function, error.instruction) == (message, field, None, None)
    assert (error.line, error.column) == (fields.count("\n") + 1, column)
    keyword = "import" if field.kind is FieldKind.IMPORT else field.kind.value.split()[0][:6]
    assert where(error)[2] == {"functi": "func", "start ": "start"}.get(keyword, keyword)
    assert str(error).endswith(f" (in {field})")


def test_the_duplicate_export_message_starts_with_the_spec_words() -> None:
    error = invalid('(module (func $f)\n  (export "a" (func $f))\n  (export "a" (func $f)))')
    assert error.message.startswith("duplicate export name")
    assert describe_error(error) == [
        "m.wat:3:4: error: duplicate export name 'a'",
        '    (export "a" (func $f)))',
        "     ^^^^^^",
        "  in export 1",
    ]


def test_a_function_that_does_not_end_points_at_the_function() -> None:
    """A body that leaves a block open cannot come from text (the parser
    closes every form), so such a module is made by hand: the position of
    its function is all there is."""
    loaded = assemble_text(b"(module\n  (func $f nop))", "m.wat")[1]
    func = loaded.module.funcs[0]
    unclosed = replace(func, body=(Instruction(op("block")), *func.body))
    with pytest.raises(InvalidError) as info:
        compile_module(replace(loaded.module, funcs=(unclosed,)), loaded.source)
    assert info.value.message.startswith("unexpected end of function body")
    assert (info.value.function, where(info.value)) == (FunctionRef(0, "f"), (2, 4, "func"))


# -- binary modules -----------------------------------------------------------------------------------

OBJDUMP_INSTRUCTION = re.compile(r"^ ([0-9a-f]{6}): [0-9a-f ]+\| *(\S+)", re.MULTILINE)

BINARY_CASES = """(module
  (import "m" "g" (func $imported))
  (func $total (param i32 i64) (result i64) local.get 0 local.get 1 i64.add)
  (func (result i32) (block (result i32) (nop)))
  (func $caller (call 7))
  (func (param f32) (result f32) (f32.neg (local.get 0)) (i64.const 1) (br_if 0))
)
"""


def wabt_binary(tmp_path: Path, text: str, names: bool) -> bytes:
    if shutil.which("wat2wasm") is None:
        pytest.skip("wabt is not installed")
    source, binary = tmp_path / "module.wat", tmp_path / "module.wasm"
    source.write_text(text)
    subprocess.run(["wat2wasm", "--no-check", *(["--debug-names"] if names else []), str(source), "-o", str(binary)],
                   check=True, capture_output=True)
    return binary.read_bytes()


def objdump(tmp_path: Path) -> dict[int, str]:
    """What ``wasm-objdump -d`` shows of ``module.wasm``: instruction by offset."""
    if shutil.which("wasm-objdump") is None:
        pytest.skip("wabt is not installed")
    shown = subprocess.run(["wasm-objdump", "-d", str(tmp_path / "module.wasm")], capture_output=True, text=True,
                           check=True).stdout
    return {int(offset, 16): name for offset, name in OBJDUMP_INSTRUCTION.findall(shown)}


def without_function(text: str, keep: str) -> str:
    """``BINARY_CASES`` with only the defined function whose line contains
    ``keep`` (the import stays, so indices count it)."""
    lines = text.splitlines()
    return "\n".join([*lines[:2], *(line for line in lines[2:-1] if keep in line), ")"])


@pytest.mark.parametrize("names", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize("keep,instruction,name", [
    ("i64.add", "i64.add", "total"),
    ("block", "end", None),
    ("call 7", "call", "caller"),
    ("br_if", "br_if", None),
])
def test_binary_errors_give_the_offset_wasm_objdump_shows(tmp_path: Path, names: bool, keep: str,
                                                          instruction: str, name: str | None) -> None:
    binary = wabt_binary(tmp_path, without_function(BINARY_CASES, keep), names)
    with pytest.raises(InvalidError) as info:
        load_bytes(binary).compile()
    error = info.value
    assert error.line is None and error.file is None
    assert error.function == FunctionRef(1, name if names else None)
    assert error.instruction == instruction
    assert objdump(tmp_path)[error.offset] == instruction
    named = f" ${name}" if names and name else ""
    assert str(error).endswith(f" (in function 1{named}, at offset {error.offset:#x})")
    assert describe_error(error) == [f"invalid: {error}"]


def test_the_command_line_shows_a_binary_error_on_one_line(capsys, tmp_path: Path) -> None:
    wasm = tmp_path / "bad.wasm"
    wasm.write_bytes(assemble_text(MISMATCH.encode())[0])
    status, _, err = run_cli(capsys, "validate", wasm)
    assert status == 1
    assert err == ("invalid: type mismatch in i64.add: expected [i64 i64], got [i32 i64] "
                   "(in function 0 $total, at offset 0x29)\n")


# -- link errors --------------------------------------------------------------------------------------

PROVIDER = """(module
  (func (export "f") (param i64))
  (table (export "t") 3 funcref)
  (memory (export "m") 1 2)
  (global (export "g") (mut f64) (f64.const 0)))"""


@pytest.mark.parametrize("import_,expected,given", [
    ('(func (param i32))', "(func (param i32))", "(func (param i64))"),
    ('(func (param i64) (result i32))', "(func (param i64) (result i32))", "(func (param i64))"),
    ("(table 1 2 funcref)", "(table 1 2 funcref)", "(table 3 funcref)"),
    ("(table 4 externref)", "(table 4 externref)", "(table 3 funcref)"),
    ("(memory 2)", "(memory 2)", "(memory 1 2)"),
    ("(memory 1 1)", "(memory 1 1)", "(memory 1 2)"),
    ("(global f64)", "(global f64)", "(global (mut f64))"),
    ("(global (mut i32))", "(global (mut i32))", "(global (mut f64))"),
])
def test_link_errors_name_the_import_and_both_types(import_: str, expected: str, given: str) -> None:
    store = Store()
    provider = store.instantiate(parse_module(PROVIDER))
    kind = import_[1:].split()[0].rstrip(")")
    name = {"func": "f", "table": "t", "memory": "m", "global": "g"}[kind]
    loaded = load_bytes(f'(module\n  (import "p" "{name}" {import_}))'.encode(), "m.wat")
    with pytest.raises(UnlinkableError) as info:
        store.instantiate(loaded.compile(), {"p": provider.exports})
    error = info.value
    assert error.message == f'incompatible import type for "p"."{name}": expected {expected}, got {given}'
    assert (error.import_module, error.import_name, error.expected, error.given) == ("p", name, expected, given)
    assert error.field == ModuleField(FieldKind.IMPORT, 0)
    assert error.function == (FunctionRef(0) if kind == "func" else None)
    assert (error.instruction, error.offset) == (None, None)
    assert where(error) == (2, 4, "import")
    assert describe_error(error) == [
        f"m.wat:2:4: error: {error.message}",
        f'    (import "p" "{name}" {import_}))',
        "     ^^^^^^",
    ]


def test_an_inline_import_is_found_at_the_field_that_holds_it() -> None:
    loaded = load_bytes(b'(module\n  (memory (import "spectest" "memory") 3) (func))', "m.wat")
    with pytest.raises(UnlinkableError) as info:
        Store().instantiate(loaded.compile(), {"spectest": spectest_exports()})
    assert where(info.value) == (2, 4, "memory")
    assert info.value.expected == "(memory 3)" and info.value.given == "(memory 1 2)"


def test_unknown_imports_name_the_import_and_its_type() -> None:
    loaded = load_bytes(b'(module\n  (import "spectest" "print_i32" (func (param i32)))\n'
                        b'  (import "env" "log" (func (param i32))))', "m.wat")
    with pytest.raises(UnlinkableError) as info:
        Store().instantiate(loaded.compile(), {"spectest": spectest_exports()})
    error = info.value
    assert error.message == 'unknown import "env"."log": no module "env" is provided (provided: "spectest")'
    assert (error.import_module, error.import_name, error.expected, error.given) == \
        ("env", "log", "(func (param i32))", None)
    assert (error.field, where(error)) == (ModuleField(FieldKind.IMPORT, 1), (3, 4, "import"))
    assert error.function == FunctionRef(1)


def test_a_function_import_is_named_by_its_identifier() -> None:
    loaded = load_bytes(b'(module (import "spectest" "print_i32" (func $print (param i64))))')
    with pytest.raises(UnlinkableError) as info:
        Store().instantiate(loaded.compile(), {"spectest": spectest_exports()})
    assert info.value.function == FunctionRef(0, "print")


def test_a_binary_module_s_link_error_is_one_line(capsys, tmp_path: Path) -> None:
    wasm = tmp_path / "link.wasm"
    wasm.write_bytes(assemble_text(b'(module (import "spectest" "print_i32" (func (param i64))))')[0])
    status, _, err = run_cli(capsys, "run", wasm)
    assert status == 1
    assert err == ('unlinkable: incompatible import type for "spectest"."print_i32": expected (func (param i64)), '
                   'got (func (param i32))\n')


def test_a_module_without_source_is_not_located() -> None:
    module = parse_module(MISMATCH)
    with pytest.raises(InvalidError) as info:
        compile_module(module)
    assert (info.value.line, info.value.file, info.value.offset) == (None, None, None)  # parsed text: no offsets
    assert info.value.function == FunctionRef(0, "total") and info.value.instruction == "i64.add"
    assert str(info.value) == "type mismatch in i64.add: expected [i64 i64], got [i32 i64] (in function 0 $total)"
