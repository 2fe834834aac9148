"""The official testsuite read by the text format parser.

* every ``.wast`` script parses;
* every ``module quote`` inside ``assert_malformed`` is rejected, with the
  testsuite's message;
* literal values agree with what ``const.wast`` and ``float_literals.wast``
  expect them to be;
* every text module parses to the same ``Module`` as decoding the binary that
  wabt's ``wat2wasm`` makes of it (ignoring byte offsets, names and custom
  sections), once the binary decoder exists.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from interp.errors import GlasswasmError, MalformedError
from interp.loader import assemble_text
from interp.syntax.module import Module
from interp.syntax.opcodes import OPS_BY_NAME
from interp.text import parse_module, parse_script
from interp.text.lexer import ATOM, ID, LPAR, RPAR, tokenize
from interp.text.parser import parse_module_with_positions
from interp.text.script import (
    AssertMalformed,
    AssertReturn,
    AssertTrap,
    Const,
    Invoke,
    ModuleSource,
    ScriptModule,
)
from spec_tests.expectations import configured_testsuite, features_of_testsuite

TESTSUITE = configured_testsuite() or Path("testsuite-not-configured")
FEATURES = features_of_testsuite(configured_testsuite())
SCRIPTS = sorted(TESTSUITE.glob("*.wast"))

pytestmark = pytest.mark.skipif(not SCRIPTS, reason=f"no testsuite at {TESTSUITE}")


@lru_cache(maxsize=None)
def script_text(name: str) -> str:
    return (TESTSUITE / name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def commands_of(name: str) -> tuple:
    return parse_script(script_text(name), FEATURES)


def script_modules(commands: tuple) -> list[ScriptModule]:
    """Every module written in a script, whatever command holds it."""
    found = []
    for command in commands:
        module = getattr(command, "module", None)
        if isinstance(command, AssertTrap) and isinstance(command.target, ScriptModule):
            module = command.target
        if module is not None:
            found.append(module)
    return found


@pytest.mark.parametrize("name", [p.name for p in SCRIPTS])
def test_script_parses(name: str) -> None:
    commands = commands_of(name)
    assert commands
    assert all(command.line >= 1 for command in commands)


def test_quoted_malformed_modules_are_rejected_with_the_expected_message() -> None:
    total = 0
    wrong: list[str] = []
    for path in SCRIPTS:
        for command in commands_of(path.name):
            if not isinstance(command, AssertMalformed) or command.module.source is not ModuleSource.QUOTE:
                continue
            total += 1
            try:
                parse_module(command.module.quote, FEATURES)
            except MalformedError as error:
                if not error.message.startswith(command.message):
                    wrong.append(f"{path.name}:{command.line}: expected {command.message!r}, got {error}")
            else:
                wrong.append(f"{path.name}:{command.line}: accepted")
    assert total > 500
    assert not wrong, f"{len(wrong)} of {total} quoted modules:\n" + "\n".join(wrong)


# -- literal values against the testsuite's expectations ------------------------------------


def exported_constants(module: Module) -> dict[str, tuple[int, int]]:
    """Exports of functions whose body is one float constant, possibly
    reinterpreted: export name -> (bits, bit width)."""
    constants = {}
    reinterpret = {OPS_BY_NAME["i32.reinterpret_f32"], OPS_BY_NAME["i64.reinterpret_f64"]}
    widths = {OPS_BY_NAME["f32.const"]: 32, OPS_BY_NAME["f64.const"]: 64}
    for export in module.exports:
        index = export.index - len(module.imports_of(export.kind))
        if export.kind.name != "FUNC" or not 0 <= index < len(module.funcs):
            continue
        body = module.funcs[index].body
        ops = [instruction.op for instruction in body]
        if ops[0] in widths and (len(ops) == 2 or (len(ops) == 3 and ops[1] in reinterpret)):
            constants[export.name] = (body[0].imm, widths[ops[0]])
    return constants


@pytest.mark.parametrize("name", ["const.wast", "float_literals.wast"])
def test_float_literals_have_the_values_the_testsuite_expects(name: str) -> None:
    if not (TESTSUITE / name).exists():
        pytest.skip(f"{name} not in the testsuite")
    checked = 0
    constants: dict[str, tuple[int, int]] = {}
    for command in commands_of(name):
        module = getattr(command, "module", None)
        if module is not None and module.source is ModuleSource.TEXT and type(command).__name__ == "ModuleCommand":
            constants = exported_constants(module.module)
        if isinstance(command, AssertReturn) and isinstance(command.action, Invoke) and not command.action.args:
            literal = constants.get(command.action.export)
            if literal is None or len(command.expected) != 1 or not isinstance(command.expected[0], Const):
                continue
            bits, width = literal
            assert bits == command.expected[0].value, f"{name}:{command.line}"
            assert width == (32 if command.expected[0].type.text in ("f32", "i32") else 64)
            checked += 1
    assert checked > 50


# -- comparison with wat2wasm -----------------------------------------------------------------


def module_sources(text: str) -> dict[int, str]:
    """The source text of every text module of a script, by the line of its
    ``(module``; for the few scripts ``wast2json`` cannot read as a whole."""
    tokens = tokenize(text)
    sources = {}
    for index, (kind, value, offset) in enumerate(tokens):
        if kind != LPAR or tokens[index + 1][:2] != (ATOM, "module"):
            continue
        after = index + 2 + (tokens[index + 2][0] == ID)
        if tokens[after][0] == ATOM and tokens[after][1] in ("binary", "quote"):
            continue
        depth, end = 0, index
        while True:
            if tokens[end][0] == LPAR:
                depth += 1
            elif tokens[end][0] == RPAR:
                depth -= 1
                if depth == 0:
                    break
            end += 1
        sources[text.count("\n", 0, offset) + 1] = text[offset:tokens[end][2] + 1]
    return sources


def wabt_binaries(path: Path, workdir: Path, wat2wasm) -> dict[int, bytes]:  # type: ignore[no-untyped-def]
    """wabt's binary for each text module of a script, by module line.
    Modules wabt rejects are missing."""
    json_path = workdir / (path.stem + ".json")
    result = subprocess.run(["wast2json", "--no-check", str(path), "-o", str(json_path)],
                            capture_output=True, check=False)
    if result.returncode == 0:
        binaries = {}
        for command in json.loads(json_path.read_text())["commands"]:
            filename = command.get("filename", "")
            if filename.endswith(".wasm") and command.get("module_type", "binary") == "binary":
                binaries[command["line"]] = (workdir / filename).read_bytes()
        return binaries
    binaries = {}
    for line, source in module_sources(script_text(path.name)).items():
        binary = wat2wasm(source, workdir, f"{path.stem}.{line}")
        if binary is not None:
            binaries[line] = binary
    return binaries


@pytest.mark.parametrize("name", [p.name for p in SCRIPTS])
def test_text_modules_match_wat2wasm(name: str, tmp_path: Path, comparable, wat2wasm) -> None:  # type: ignore[no-untyped-def]
    decode = pytest.importorskip("interp.binary.decode")
    if shutil.which("wast2json") is None:
        pytest.skip("wabt is not installed")
    binaries = wabt_binaries(TESTSUITE / name, tmp_path, wat2wasm)
    compared = 0
    differences = []
    for module in script_modules(commands_of(name)):
        if module.source is not ModuleSource.TEXT or module.line not in binaries:
            continue
        try:
            expected = decode.decode_module(binaries[module.line], FEATURES)
        except MalformedError:
            # wabt leaves out the data count section when there are no data
            # segments at all, even if data.drop / memory.init need it.
            continue
        compared += 1
        if comparable(module.module) != comparable(expected):
            differences.append(f"{name}:{module.line}")
    assert not differences, "text and wat2wasm disagree at " + ", ".join(differences)
    text_modules = [m for m in script_modules(commands_of(name)) if m.source is ModuleSource.TEXT]
    assert compared >= len(text_modules) * 0.5 or not text_modules


_WRITTEN_AS = {"end": ("end", ")"), "else": ("else",)}
"""Words an instruction may be written as other than its name: an ``end``
left implicit by a folded form is the ``)`` that closes it."""


@pytest.mark.parametrize("name", [p.name for p in SCRIPTS])
def test_every_instruction_is_found_where_it_is_written(name: str) -> None:
    """The positions the parser records for errors (``TextPositions``) give,
    for every instruction of every function body and global initialiser of
    the script's text modules, the place of the word it was written as; and
    once the module is assembled, every instruction's byte offset maps back
    to it."""
    for line, source in module_sources(script_text(name)).items():
        try:
            module, positions = parse_module_with_positions(source)
        except MalformedError:
            continue  # written to be malformed, or beyond what the parser supports
        words = {offset: ")" if kind == RPAR else word for kind, word, offset in tokenize(source)}
        expressions = [func.body for func in module.funcs] + [global_.init for global_ in module.globals]
        places = list(positions.bodies) + list(positions.global_inits)
        assert [len(places_) for places_ in places] == [len(expr) for expr in expressions], f"line {line}"
        for expr, places_ in zip(expressions, places):
            for instr, place in zip(expr, places_):
                assert words.get(place) in _WRITTEN_AS.get(instr.op.name, (instr.op.name,)), \
                    f"line {line}: {instr.op.name} found as {words.get(place)!r}"
        try:
            decoded = assemble_text(source.encode())[1]
        except GlasswasmError:
            continue  # a module no binary can express (an index out of range)
        offsets = {instr.offset for func in decoded.module.funcs for instr in func.body}
        assert decoded.source is not None and offsets <= set(decoded.source.instructions), f"line {line}"
