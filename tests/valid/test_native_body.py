"""The native body check (``interp/valid/native_body.pyx``) may only skip
work: where it says a body is valid, decoding the body and validating it in
Python must say so too (the same end, no data segment used).  Checked on
every body of every module of the configured testsuites, on the benchmark
programs (where it must also decide nearly every body), and on bodies of a
real program with random bytes changed."""

from __future__ import annotations

import dataclasses
import gzip
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.binary.decode import decode_expr, decode_module
from interp.errors import InvalidError, MalformedError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.syntax.module import Func, Module
from interp.syntax.opcodes import OPS, Imm, op
from interp.syntax.types import F32, I32, I64, ValType
from interp.text.parser import parse_module
from interp.translate.compiled import compile_binary
from interp.valid.context import ModuleContext
from interp.valid.function import validate_function
from interp.script.testsuites import files_of_testsuite, place_of, recognise
from spec_tests.expectations import configured_testsuites, suite_label
from tests.translate.test_one_pass_testsuite import binaries

if os.environ.get("GLASSWASM_REQUIRE_COMPILED_LOOP"):  # CI: the build must have made it
    from interp.valid import native_body
else:
    native_body = pytest.importorskip("interp.valid.native_body", reason="the native body check is not built")

PROGRAMS = Path(__file__).resolve().parents[2] / "benchmarks" / "programs"

def _runnable_files() -> list[tuple[Path, Path, frozenset[Feature]]]:
    """Every file of the configured testsuites the conformance harness runs,
    with the features it is read with."""
    found = []
    for suite in configured_testsuites():
        known = recognise(suite) if suite.is_dir() else None
        for path in files_of_testsuite(suite, known) if known is not None else sorted(suite.glob("*.wast")):
            place = place_of(path)
            if place is None:
                found.append((suite, path, SUPPORTED_FEATURES))
            elif not place.missing:
                found.append((suite, path, place.features))
    return found


WAST_FILES = _runnable_files()


class CrossCheck:
    """A body check for ``decode_module`` that asks the native check about
    every body and, whenever it accepts one, decodes and validates that body
    in Python, recording any disagreement.  It never accepts a body itself,
    so the decoder goes on as without a native check."""

    def __init__(self, features: frozenset[Feature]) -> None:
        self.features = features
        self.context: ModuleContext | None = None
        self.native: object = None
        self.module: Module | None = None
        self.bodies = 0
        self.accepted = 0
        self.disagreements: list[str] = []

    def start(self, module: Module) -> CrossCheck:
        try:
            context = ModuleContext.of_module(module, self.features)
        except InvalidError:
            return self
        self.context = dataclasses.replace(context, datas=module.data_count or 0)
        self.native = native_body.BodyChecker(self.context)
        self.module = module
        return self

    def accepts(self, position: int, data: bytes, start: int, end: int, local_types: tuple[ValType, ...]) -> bool:
        if self.context is None or self.module is None:
            return False
        self.bodies += 1
        index = len(self.context.funcs) - len(self.module.funcs) + position
        if not self.native.accepts(index, data, start, end, local_types):  # type: ignore[attr-defined]
            return False
        self.accepted += 1
        try:
            body, after, uses_data = decode_expr(data, start, self.features)
            if after != end or uses_data:
                raise MalformedError(f"ends at {after} (not {end}) or uses data ({uses_data})", start)
            validate_function(self.context, index, Func(self.module.funcs[position].type_index, local_types, body))
        except (MalformedError, InvalidError) as error:
            self.disagreements.append(f"function {index} at {start:#x}: {error}")
        return False

    def check(self, position: int, func: Func) -> None:
        pass


def cross_check(binary: bytes, features: frozenset[Feature] = SUPPORTED_FEATURES) -> CrossCheck:
    checks = CrossCheck(features)
    try:
        decode_module(binary, features, checks.start)
    except MalformedError:
        pass  # the bodies decoded before the error were checked
    return checks


@pytest.mark.skipif(not WAST_FILES, reason="WASM_TESTSUITE is not set")
@pytest.mark.parametrize("suite, path, features", WAST_FILES,
                         ids=[f"{suite_label(suite)}/{path.relative_to(suite)}" for suite, path, _ in WAST_FILES])
def test_native_acceptance_implies_python_validity_on_the_testsuite(
        suite: Path, path: Path, features: frozenset[Feature]) -> None:
    for line, binary in binaries(path):
        checks = cross_check(binary, features)
        assert checks.disagreements == [], f"{path.name}:{line}"


@pytest.mark.skipif(not WAST_FILES, reason="WASM_TESTSUITE is not set")
def test_native_check_decides_most_testsuite_bodies() -> None:
    """Over the core files of the testsuites (the numeric, memory and control
    ones), the check decides a good share of the bodies: it is not a check
    that declines everything."""
    bodies = accepted = 0
    for _, path, features in WAST_FILES:
        if path.stem not in ("i32", "i64", "f32", "f64", "block", "loop", "br_table", "memory", "call_indirect"):
            continue
        for _, binary in binaries(path):
            checks = cross_check(binary, features)
            bodies += checks.bodies
            accepted += checks.accepted
    assert bodies > 0 and accepted > bodies // 2, (accepted, bodies)


REPOSITORY = PROGRAMS.parents[1]
PROGRAM_FOLDERS = ("benchmarks", "examples", "tests")
"""Where the repository keeps compiled programs: C, Go and AssemblyScript."""


def program_binaries() -> list[tuple[str, bytes]]:
    """Every program of the repository (the gzipped ones uncompressed)."""
    found = []
    for folder in PROGRAM_FOLDERS:
        for path in sorted((REPOSITORY / folder).rglob("*.wasm*")):
            if "node_modules" in path.parts or path.suffix not in (".wasm", ".gz"):
                continue
            binary = path.read_bytes()
            found.append((path.relative_to(REPOSITORY).as_posix(),
                          gzip.decompress(binary) if path.suffix == ".gz" else binary))
    return found


@pytest.mark.parametrize("name, binary", program_binaries(), ids=lambda value: value if isinstance(value, str) else "")
def test_native_check_decides_the_programs(name: str, binary: bytes) -> None:
    """Compiled C, Go and AssemblyScript programs are what the check is for:
    it decides every body of the repository's (with Python agreeing on each)."""
    checks = cross_check(binary)
    assert checks.disagreements == []
    assert checks.bodies > 0 and checks.accepted == checks.bodies, (checks.accepted, checks.bodies)


def test_compiling_with_the_native_check_keeps_bodies_lazy() -> None:
    """A body the check accepted is kept as its bytes and decodes as before."""
    binary = (PROGRAMS / "sha256.wasm").read_bytes()
    compiled = compile_binary(binary)
    reference = decode_module(binary)
    assert [tuple(func.body) for func in compiled.module.funcs] == [tuple(func.body) for func in reference.funcs]


# --- mutated bodies -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MutationSource:
    """A program whose bodies are mutated: its binary and compiled module."""

    binary: bytes
    module: Module
    context: ModuleContext

    @classmethod
    def of(cls, binary: bytes) -> MutationSource:
        compiled = compile_binary(binary)
        return cls(binary, compiled.module, compiled.context)


GO_FILTER = gzip.decompress((PROGRAMS / "go" / "filter" / "filter.wasm.gz").read_bytes())
SOURCES = {"sha256": MutationSource.of((PROGRAMS / "sha256.wasm").read_bytes()),
           "go filter": MutationSource.of(GO_FILTER)}
"""A small C program, and the Go filter (2,830 functions of every kind of control)."""


def agrees_on_mutation(source: MutationSource, function: int, changes: list[tuple[float, int]]) -> bool:
    """Replace bytes of a body at the given fractions of its length; whatever
    the native check accepts, Python decodes to the same end and validates.
    Returns whether the native check accepted it.  (The body is cut out of
    the module: the check reads nothing but the body and the context.)"""
    func = source.module.funcs[function]
    start, end = func.body.start, func.body.end  # type: ignore[attr-defined]
    data = bytearray(source.binary[start:end])
    for where, byte in changes:
        data[int(where * len(data))] = byte
    return agrees_on(source, function, bytes(data))


def agrees_on(source: MutationSource, function: int, mutated: bytes) -> bool:
    """Whatever the native check accepts as the body of ``function``, Python
    decodes to the same end and validates."""
    func = source.module.funcs[function]
    index = len(source.context.funcs) - len(source.module.funcs) + function
    if not native_body.BodyChecker(source.context).accepts(index, mutated, 0, len(mutated), func.locals):
        return False
    body, after, uses_data = decode_expr(mutated, 0)
    assert after == len(mutated) and not uses_data
    validate_function(source.context, index, Func(func.type_index, func.locals, body))
    return True


@settings(max_examples=1000, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(SOURCES)),
       changes=st.lists(st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True),
                                  st.integers(min_value=0, max_value=255)), min_size=1, max_size=4))
def test_native_acceptance_implies_python_validity_on_mutated_bodies(
        data: st.DataObject, name: str, changes: list[tuple[float, int]]) -> None:
    """Random bytes of a real body replaced (hypothesis's choice)."""
    source = SOURCES[name]
    function = data.draw(st.integers(min_value=0, max_value=len(source.module.funcs) - 1))
    agrees_on_mutation(source, function, changes)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_native_acceptance_implies_python_validity_on_many_mutated_bodies(name: str) -> None:
    """Thousands of random replacements (seeded): a few percent of them
    leave a body the native check accepts, each of which Python must accept."""
    source = SOURCES[name]
    generator = random.Random(14)
    accepted = 0
    for _ in range(5000):
        function = generator.randrange(len(source.module.funcs))
        changes = [(generator.random(), generator.randrange(256)) for _ in range(generator.randint(1, 4))]
        accepted += agrees_on_mutation(source, function, changes)
    assert accepted > 50, accepted


_PLAIN_OPCODES = sorted(row.code for row in OPS if row.prefix is None and row.imm is Imm.NONE)
"""The one-byte instructions without immediates: any of them can take another's place."""


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_native_acceptance_implies_python_validity_with_instructions_swapped(name: str) -> None:
    """Instructions without immediates replaced by others (seeded): the body
    stays mostly well-formed, so this tries the typing (operand types,
    stack heights, unreachable code, block structure) rather than the
    decoding."""
    source = SOURCES[name]
    generator = random.Random(14)
    accepted = 0
    for _ in range(3000):
        function = generator.randrange(len(source.module.funcs))
        func = source.module.funcs[function]
        start = func.body.start  # type: ignore[attr-defined]
        places = [instr.offset - start for instr in func.body if instr.op.prefix is None and instr.op.imm is Imm.NONE]
        data = bytearray(source.binary[start:func.body.end])  # type: ignore[attr-defined]
        for place in generator.sample(places, min(len(places), generator.randint(1, 3))):
            data[place] = generator.choice(_PLAIN_OPCODES)
        accepted += agrees_on(source, function, bytes(data))
    assert accepted > 50, accepted


# --- the rules, one by one ----------------------------------------------------------

_RULES_CONTEXT = ModuleContext.of_module(parse_module("""
  (module (type $unary (func (param i32) (result i32)))
    (memory 1) (table 1 funcref)
    (global (mut i32) (i32.const 0)) (global i64 (i64.const 0))
    (func (type $unary) (local i64 f32) (local.get 0)))
"""))
"""Function 0 has type ``[i32] -> [i32]`` and locals ``i64 f32``."""


@pytest.mark.parametrize("body, native, valid", [
    ("20 00 0b", True, True),                            # local.get 0
    ("20 80 00 0b", True, True),                         # an index in two bytes is well-formed
    ("20 80 80 80 80 00 0b", True, True),                # ... and in five
    ("20 80 80 80 80 80 00 0b", False, False),           # not in six
    ("20 80 80 80 80 10 0b", False, False),              # bits beyond 32
    ("41 80 80 80 80 78 0b", True, True),                # i32.const -2**31, bits beyond 32 copies of the sign
    ("41 80 80 80 80 70 0b", False, False),              # ... else too large
    ("20 03 0b", False, False),                          # local 3 does not exist
    ("20 01 1a 20 00 0b", True, True),                   # local.get 1 (i64); drop
    ("20 01 0b", False, False),                          # an i64 result where i32 is due
    ("00 6a 0b", True, True),                            # unreachable; i32.add: operands Unknown
    ("00 1a 1a 1a 41 00 0b", True, True),                # drops from a polymorphic stack
    ("00 42 00 0b", False, False),                       # ... which holds what was pushed after it
    ("0f 0b", False, False),                             # return without the result
    ("20 00 0f 0b", True, True),                         # return with it; what follows is unreachable
    ("20 00 28 02 00 0b", True, True),                   # i32.load, natural alignment
    ("20 00 28 03 00 0b", False, False),                 # above natural
    ("20 00 28 02 ff ff ff ff 0f 0b", True, True),       # offset 2**32 - 1
    ("20 00 28 02 80 80 80 80 10 0b", False, False),     # offset 2**32: not a u32
    ("3f 00 0b", True, True),                            # memory.size
    ("3f 01 0b", False, False),                          # memory 1
    ("20 00 20 00 20 00 fc 0a 00 00 41 00 0b", True, True),   # memory.copy
    ("20 00 20 00 20 00 fc 0b 00 41 00 0b", True, True),      # memory.fill
    ("20 00 20 00 20 00 fc 08 00 00 41 00 0b", False, False),  # memory.init: no data segment (declined anyway)
    ("20 00 23 00 6a 24 00 23 00 0b", True, True),       # globals
    ("42 00 24 01 20 00 0b", False, False),              # global 1 is immutable
    ("20 00 20 00 11 00 00 0b", True, True),             # call_indirect type 0, table 0
    ("20 00 20 00 11 00 01 0b", False, False),           # table 1 does not exist
    ("20 00 10 00 0b", True, True),                      # call 0
    ("02 7f 20 00 0b 0b", True, True),                   # block (result i32)
    ("20 00 02 00 0b 0b", True, True),                   # block (type 0): [i32] -> [i32], i32 popped and pushed again
    ("02 00 20 00 0b 0b", False, False),                 # ... which needs its parameter
    ("02 7f 0b 0b", False, False),                       # the block's result missing
    ("20 00 04 7f 41 01 05 41 02 0b 0b", True, True),    # if (result i32) ... else ... end
    ("20 00 04 7f 41 01 0b 0b", False, False),           # if (result i32) without else
    ("05 0b", False, False),                             # else without if
    ("20 00 0b 01", False, False),                       # something after the final end
    ("20 00 02 40 0b", False, False),                    # no end for the body
    ("02 7f 41 00 20 00 0d 00 0b 0b", True, True),       # br_if keeps the label's result
    ("02 7f 02 40 20 00 0e 01 00 01 0b 41 00 0b 0b", False, False),  # br_table targets of arity 0 and 1
    ("02 7f 41 07 20 00 0e 01 00 00 0b 0b", True, True),  # br_table with the result on the stack
    ("03 7f 41 00 0c 00 0b 0b", True, True),             # a branch to a loop carries its parameters (none)
    ("20 00 41 00 20 00 1b 0b", True, True),             # select
    ("20 00 42 00 20 00 1b 0b", False, False),           # select of two types
    ("20 00 20 00 20 00 1c 01 7f 0b", False, True),      # typed select: left to Python
    ("d0 70 d1 0b", False, True),                        # references: left to Python
])
def test_the_native_check_follows_the_rules(body: str, native: bool, valid: bool) -> None:
    """Each body as function 0's: what the native check answers, and what
    decoding and validating it in Python answers."""
    data = bytes.fromhex(body)
    locals_ = (I64, F32)
    assert native_body.BodyChecker(_RULES_CONTEXT).accepts(0, data, 0, len(data), locals_) is native
    try:
        instrs, after, _ = decode_expr(data, 0)
        if after != len(data):
            raise MalformedError("section size mismatch", after)
        validate_function(_RULES_CONTEXT, 0, Func(0, locals_, instrs))
    except (MalformedError, InvalidError):
        assert not valid
    else:
        assert valid


def agrees_on_rules_body(data: bytes) -> bool:
    """Whatever the native check accepts as function 0's body in the rules'
    context, Python decodes to the same end and validates."""
    if not native_body.BodyChecker(_RULES_CONTEXT).accepts(0, data, 0, len(data), (I64, F32)):
        return False
    instrs, after, uses_data = decode_expr(data, 0)
    assert after == len(data) and not uses_data
    validate_function(_RULES_CONTEXT, 0, Func(0, (I64, F32), instrs))
    return True


_BODY_BYTES = tuple(sorted({op("unreachable").code, op("nop").code, op("block").code, op("loop").code, op("if").code,
                            op("else").code, op("end").code, op("br").code, op("br_if").code, op("br_table").code,
                            op("return").code, op("drop").code, op("select").code, op("local.get").code,
                            op("local.set").code, op("local.tee").code, op("i32.const").code, op("i64.const").code,
                            op("i32.eqz").code, op("i32.add").code, op("i64.eqz").code, op("i32.wrap_i64").code,
                            0x40, I32.code, I64.code}))  # type: ignore[attr-defined]
"""Bytes bodies are made of here: control, a few instructions of both integer
types, and the empty and value block types; 0, 1 and 2 (unreachable, nop,
block) double as local indices, labels and constants."""


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_BODY_BYTES), max_size=24))
def test_native_acceptance_implies_python_validity_on_made_up_bodies(body: list[int]) -> None:
    """Short bodies of control and plain instructions: unreachable code,
    branches and blocks in every arrangement."""
    agrees_on_rules_body(bytes(body) + b"\x0b")


def test_native_acceptance_implies_python_validity_on_many_made_up_bodies() -> None:
    generator = random.Random(14)
    accepted = 0
    for _ in range(50_000):
        body = bytes(generator.choice(_BODY_BYTES) for _ in range(generator.randint(0, 12))) + b"\x0b"
        accepted += agrees_on_rules_body(body)
    assert accepted > 200, accepted
