"""Shared material for the binary-format tests.

* A tiny extractor for the ``(module binary "...")`` forms of the official
  testsuite and the assertions around them (the real WAST reader lives in
  ``interp.text`` and is not used here, so these tests stand alone).
  Tests that take a ``wast_binary_case`` argument run once per form.
* Session fixtures (test modules cannot import this file): valid module
  binaries to mutate, the testsuite turned into binaries by wabt's
  ``wast2json`` (skipped when wabt is missing), a comparison that ignores
  byte offsets.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from interp.syntax.module import Instruction, Module
from spec_tests.expectations import configured_testsuite

TESTSUITE = configured_testsuite() or Path("testsuite-not-configured")

class BinaryCase(NamedTuple):
    """One ``(module binary ...)`` of the testsuite and what it should do:
    ``expect`` is "valid" (decodes; ``module`` and ``assert_invalid`` and
    friends, since validation is not the decoder's job) or "malformed"."""

    file: str
    line: int
    expect: str
    data: bytes
    message: str | None

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<line_comment>;;[^\n]*)
  | (?P<block_comment>\(;)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<atom>[^\s()";]+)
""", re.VERBOSE | re.DOTALL)

_ESCAPES = {"t": b"\t", "n": b"\n", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}


def wast_string(literal: str) -> bytes:
    """The bytes of a WAST string literal (without its quotes)."""
    out = bytearray()
    index = 0
    while index < len(literal):
        char = literal[index]
        if char != "\\":
            out += char.encode("utf-8")
            index += 1
            continue
        following = literal[index + 1]
        if following in _ESCAPES:
            out += _ESCAPES[following]
            index += 2
        elif following == "u":
            close = literal.index("}", index)
            out += chr(int(literal[index + 3:close], 16)).encode("utf-8")
            index = close + 1
        else:
            out.append(int(literal[index + 1:index + 3], 16))
            index += 3
    return bytes(out)


class _Str(NamedTuple):
    value: bytes


def _skip_block_comment(text: str, pos: int) -> int:
    depth = 1
    while depth:
        if text.startswith("(;", pos):
            depth += 1
            pos += 2
        elif text.startswith(";)", pos):
            depth -= 1
            pos += 2
        else:
            pos += 1
    return pos


def parse_wast(text: str) -> list[tuple[int, list]]:
    """Top-level forms as nested lists of atoms (str) and strings (_Str),
    each with its line number."""
    forms: list[tuple[int, list]] = []
    stack: list[list] = []
    pos = 0
    start_line = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot tokenize at {pos}: {text[pos:pos + 20]!r}")
        kind = match.lastgroup
        pos = match.end()
        if kind == "block_comment":
            pos = _skip_block_comment(text, pos)
        elif kind == "open":
            if not stack:
                start_line = text.count("\n", 0, match.start()) + 1
            stack.append([])
        elif kind == "close":
            done = stack.pop()
            if stack:
                stack[-1].append(done)
            else:
                forms.append((start_line, done))
        elif kind == "string" and stack:
            stack[-1].append(_Str(wast_string(match.group()[1:-1])))
        elif kind == "atom" and stack:
            stack[-1].append(match.group())
    return forms


def _binary_module(form: object) -> bytes | None:
    """The bytes of ``(module $id? binary "..."*)``, else ``None``."""
    if not isinstance(form, list) or not form or form[0] != "module":
        return None
    rest = form[1:]
    if rest and isinstance(rest[0], str) and rest[0].startswith("$"):
        rest = rest[1:]
    if not rest or rest[0] != "binary":
        return None
    return b"".join(part.value for part in rest[1:])


def binary_cases_of(file: str, text: str) -> list[BinaryCase]:
    cases = []
    for line, form in parse_wast(text):
        data = _binary_module(form)
        if data is not None:
            cases.append(BinaryCase(file, line, "valid", data, None))
            continue
        if len(form) < 2 or (data := _binary_module(form[1])) is None:
            continue
        message = form[2].value.decode() if len(form) > 2 and isinstance(form[2], _Str) else None
        if form[0] == "assert_malformed":
            cases.append(BinaryCase(file, line, "malformed", data, message))
        elif form[0] in ("assert_invalid", "assert_unlinkable", "assert_uninstantiable", "assert_trap"):
            cases.append(BinaryCase(file, line, "valid", data, None))
    return cases


@lru_cache(maxsize=None)
def testsuite_binary_cases() -> tuple[BinaryCase, ...]:
    cases: list[BinaryCase] = []
    if not TESTSUITE.is_dir():
        return ()
    for path in sorted(TESTSUITE.glob("*.wast")):
        text = path.read_text(encoding="utf-8")
        if "binary" in text:
            cases.extend(binary_cases_of(path.name, text))
    return tuple(cases)


@pytest.fixture(scope="session")
def all_wast_binary_cases() -> tuple[BinaryCase, ...]:
    if not TESTSUITE.is_dir():
        pytest.skip("the testsuite is not available")
    return testsuite_binary_cases()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "wast_binary_case" in metafunc.fixturenames:
        cases = testsuite_binary_cases()
        metafunc.parametrize("wast_binary_case", cases, ids=[case.id for case in cases])


# --------------------------------------------------------------------------
# Comparing modules without their byte offsets.

def _strip_expr(expr: tuple[Instruction, ...]) -> tuple[Instruction, ...]:
    return tuple(instr._replace(offset=-1) for instr in expr)


def strip_offsets(module: Module) -> Module:
    """``module`` with every instruction and function offset set to -1, for
    comparing modules whose binaries lay out the same content differently."""
    return dataclasses.replace(
        module,
        funcs=tuple(dataclasses.replace(f, body=_strip_expr(f.body), offset=-1) for f in module.funcs),
        globals=tuple(dataclasses.replace(g, init=_strip_expr(g.init)) for g in module.globals),
        elems=tuple(dataclasses.replace(
            e, init=tuple(_strip_expr(x) for x in e.init),
            offset=None if e.offset is None else _strip_expr(e.offset)) for e in module.elems),
        datas=tuple(dataclasses.replace(d, offset=None if d.offset is None else _strip_expr(d.offset))
                    for d in module.datas),
    )


@pytest.fixture(scope="session")
def without_offsets() -> Callable[[Module], Module]:
    return strip_offsets


# --------------------------------------------------------------------------
# Binaries.

WAT_SAMPLES: dict[str, str] = {
    "kitchen_sink": """
(module $sink
  (type $binop (func (param i32 i32) (result i32)))
  (type $multi (func (param i64) (result i64 f32)))
  (import "env" "imported" (func $imported (type $binop)))
  (import "env" "table" (table $itab 1 10 funcref))
  (import "env" "mem" (memory $imem 1))
  (import "env" "g" (global $ig (mut i64)))
  (table $t2 3 externref)
  (global $g32 i32 (i32.const -7))
  (global $gf f32 (f32.const nan:0x200000))
  (global $gd f64 (f64.const -0x1.fffffffffffffp+1023))
  (global $gref funcref (ref.func $add))
  (export "add" (func $add))
  (export "t2" (table $t2))
  (export "mem" (memory $imem))
  (export "g32" (global $g32))
  (start $start)
  (func $start)
  (func $add (type $binop) (local $l0 i64) (local $l1 i64) (local $l2 f64) (local v128)
    (block $out (result i32)
      (loop $again
        local.get 0
        br_if $again)
      (if (result i32) (local.get 1)
        (then (i32.const 1))
        (else (i32.const 2)))
      (br_table $out $out (i32.const 0)))
    drop
    (call_indirect $itab (type $binop) (i32.const 1) (i32.const 2) (i32.const 0))
    drop
    (select (result i64) (i64.const 1) (i64.const 2) (i32.const 0))
    drop
    (i64.const -9223372036854775808)
    i64.popcnt
    drop
    (memory.grow (i32.const 0))
    (i32.load8_s offset=65535 align=1 (i32.const 3))
    (i64.store32 offset=4 (i32.const 0) (i64.const 5))
    i32.add
    (memory.init $passive (i32.const 0) (i32.const 0) (i32.const 0))
    (data.drop $passive)
    (memory.copy (i32.const 0) (i32.const 0) (i32.const 0))
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))
    (table.init $t2 $exprs (i32.const 0) (i32.const 0) (i32.const 0))
    (elem.drop $exprs)
    (table.copy $itab $itab (i32.const 0) (i32.const 0) (i32.const 0))
    (drop (table.grow $t2 (ref.null extern) (i32.const 1)))
    (drop (table.size $t2))
    (table.fill $t2 (i32.const 0) (ref.null extern) (i32.const 0))
    (table.set $t2 (i32.const 0) (table.get $t2 (i32.const 0)))
    (drop (ref.is_null (ref.func $add)))
    (drop (i32.trunc_sat_f64_u (f64.const 1e300)))
    (drop (i64.extend32_s (i64.const -1)))
    (local.tee 0 (local.get 1))
    i32.add
    (global.set $ig (i64.const 0))
    (global.get $g32)
    i32.add)
  (func $many (type $multi)
    (local.get 0) (f32.const -0.0)
    (return))
  (elem $active (i32.const 0) func $add $start)
  (elem $declared declare func $many)
  (elem $exprs externref (ref.null extern) (ref.null extern))
  (elem $active_exprs (table $itab) (offset (i32.const 0)) funcref (ref.null func) (ref.func $add))
  (elem $on_t2 (table $t2) (i32.const 1) externref (ref.null extern))
  (elem $passive_funcs func $add)
  (data $active (i32.const 16) "hello")
  (data $passive "\\00\\01\\ff")
  (data $on_mem0 (memory $imem) (offset (i32.const 32)) "x")
)
""",
    "deep_blocks": "(module (func " + "(block " * 300 + "(nop)" + ")" * 300 + "))",
    "no_names": """
(module
  (func (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call 0 (i64.sub (local.get 0) (i64.const 1))))))))
""",
}


def _wat2wasm(source: str, tmp_dir: Path, name: str, *flags: str) -> bytes:
    wat = tmp_dir / f"{name}.wat"
    wasm = tmp_dir / f"{name}.wasm"
    wat.write_text(source, encoding="utf-8")
    subprocess.run(["wat2wasm", *flags, str(wat), "-o", str(wasm)], check=True, capture_output=True)
    return wasm.read_bytes()


@pytest.fixture(scope="session")
def wat_binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """``WAT_SAMPLES`` compiled by wat2wasm, with names (skips without wabt)."""
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    tmp_dir = tmp_path_factory.mktemp("wat")
    return {name: _wat2wasm(source, tmp_dir, name, "--debug-names")
            for name, source in WAT_SAMPLES.items()}


@pytest.fixture(scope="session")
def seed_binaries() -> list[bytes]:
    """Small valid binaries from the testsuite, as material to mutate."""
    seeds = [case.data for case in testsuite_binary_cases()
             if case.expect == "valid" and len(case.data) > 8]
    if not seeds:
        pytest.skip("the testsuite is not available")
    return seeds


class Wast2JsonModule(NamedTuple):
    """One module binary wast2json wrote for a testsuite command."""

    file: str
    command: dict
    path: Path


@pytest.fixture(scope="session")
def testsuite_as_binaries(tmp_path_factory: pytest.TempPathFactory) -> list[Wast2JsonModule]:
    """Every binary module of the testsuite, as wast2json writes them
    (text modules compiled by wabt).  Files wabt 1.0.32 cannot read are left out."""
    if shutil.which("wast2json") is None:
        pytest.skip("wast2json is not installed")
    if not TESTSUITE.is_dir():
        pytest.skip("the testsuite is not available")
    out_dir = tmp_path_factory.mktemp("wast2json")

    def convert(wast: Path) -> list[Wast2JsonModule]:
        spec = out_dir / f"{wast.stem}.json"
        done = subprocess.run(["wast2json", str(wast), "-o", str(spec)], capture_output=True)
        if done.returncode != 0:
            return []
        return [Wast2JsonModule(wast.name, command, out_dir / command["filename"])
                for command in json.loads(spec.read_text())["commands"]
                if command.get("filename", "").endswith(".wasm")]

    with ThreadPoolExecutor(max_workers=4) as pool:
        converted = pool.map(convert, sorted(TESTSUITE.glob("*.wast")))
    modules = [module for per_file in converted for module in per_file]
    return modules

