"""Lowering a body known to be valid (``lower_valid_function``, what compiled
modules do) makes exactly what lowering while validating
(``lower_function``) makes, field by field, on every function of every module
of the configured testsuites, of the benchmark programs and of the Go
modules; and the operand-stack heights it computes from the instructions'
arities are the validator's, instruction by instruction and branch by
branch."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Iterator

import pytest

from interp.binary.encode import encode_module
from interp.errors import InvalidError, MalformedError
from interp.features import Feature
from interp.syntax.module import Func
from interp.syntax.opcodes import op
from interp.syntax.types import I32
from interp.text.parser import parse_module
from interp.text.script import ModuleCommand, ModuleSource, parse_script
from interp.translate.compiled import CompiledModule, compile_binary, compile_module
from interp.translate.lower import Branch, LoweredFunction, compact_heights, lower_function, lower_valid_function
from interp.valid.context import ModuleContext
from interp.valid.function import FunctionValidator
from spec_tests.expectations import configured_testsuites, features_of_testsuite, load_expectations, suite_label
from tests.valid.assemble import func_module

PROGRAMS = Path(__file__).resolve().parents[2] / "benchmarks" / "programs"
BINARIES = sorted(PROGRAMS.glob("*.wasm")) + sorted(PROGRAMS.glob("go/**/*.wasm.gz"))
EXPECTATIONS = load_expectations()
WAST_FILES = [(suite, path) for suite in configured_testsuites() for path in sorted(suite.rglob("*.wast"))
              if EXPECTATIONS.unsupported_reason(f"{suite_label(suite)}/{path.relative_to(suite)}") is None]
"""Every file the conformance harness runs."""
FIELDS = ("index", "type", "local_types", "num_locals", "max_height", "ops", "imms", "heights", "handlers")
_BRANCHES = {op(name): name for name in ("br", "br_if", "br_table", "br_on_null", "br_on_non_null", "br_on_cast",
                                         "br_on_cast_fail")}


def comparable(value: object) -> object:
    """``Branch`` compares by identity, a NaN unequal to itself; their fields
    and bits say what they are."""
    if isinstance(value, Branch):
        return ("Branch", value.target, value.arity, value.height, value.source)
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, tuple):
        return tuple(map(comparable, value))
    return value


def branch_targets(name: str, imm: object) -> tuple:
    """What the immediate of a branch instruction names as its targets (its
    depths; lowered, its ``Branch`` or ``Return`` objects), in order."""
    if name == "br_table":
        return (*imm[0], imm[1])  # type: ignore[index]
    if name.startswith("br_on_cast"):
        return (imm[0],)  # type: ignore[index]
    return (imm,)


def validator_heights(context: ModuleContext, index: int, func: Func) -> tuple[list[int], list[tuple[int, int]], int]:
    """What the validator has: the operand-stack height before each
    instruction, the (height, arity) of each label a branch targets, in
    order, and the height at the end."""
    validator = FunctionValidator(context, index, context.funcs[index], func.locals)
    heights: list[int] = []
    targets: list[tuple[int, int]] = []
    for instr in func.body:
        heights.append(len(validator.vals))
        name = _BRANCHES.get(instr.op)
        if name is not None:
            for depth in branch_targets(name, instr.imm):
                frame = validator.ctrls[-1 - depth]
                targets.append((frame.height, len(frame.label_types)))
        validator.step(instr)
    validator.finish()
    return heights, targets, len(validator.vals)


def lowered_branch_targets(lowered: LoweredFunction) -> list[tuple[int, int]]:
    """The (height, arity) of each branch's target label, in order, as lowered."""
    found = []
    for operation, imm in zip(lowered.ops, lowered.imms):
        name = _BRANCHES.get(operation)
        if name is None:
            continue
        branches = branch_targets(name, imm)
        found.extend((branch.height, branch.arity) if isinstance(branch, Branch) else (0, len(lowered.type.results))
                     for branch in branches)
    return found


def check_module(compiled: CompiledModule, where: str) -> int:
    """Lower every function both ways and compare; returns how many."""
    context = compiled.context
    for position, func in enumerate(compiled.module.funcs):
        index = compiled.num_imported_funcs + position
        validating = lower_function(context, index, func)
        trusting = lower_valid_function(context, index, func)
        for field in FIELDS:
            assert comparable(getattr(trusting, field)) == comparable(getattr(validating, field)), \
                f"{where}, function {index}: {field}"
        assert list(trusting.offsets) == list(validating.offsets), f"{where}, function {index}: offsets"
        heights, targets, final = validator_heights(context, index, func)
        assert list(trusting.heights) == heights, f"{where}, function {index}: heights"
        assert lowered_branch_targets(trusting) == targets, f"{where}, function {index}: branch targets"
        if not trusting.handlers:
            assert trusting.max_height == max(heights + [final]), f"{where}, function {index}: max height"
    return len(compiled.module.funcs)


def script_modules(path: Path, features: frozenset[Feature]) -> Iterator[tuple[int, CompiledModule]]:
    """Every valid module a script defines, compiled from its binary (text
    modules encoded) and, for text modules, from the text too."""
    for command in parse_script(path.read_text()):
        if not isinstance(command, ModuleCommand):
            continue
        module = command.module
        compiles = []
        if module.source is ModuleSource.BINARY:
            binary = module.binary or b""
            compiles.append(lambda: compile_binary(binary, features=features))
        elif module.source is not ModuleSource.QUOTE and module.module is not None:
            text_module = module.module
            compiles.append(lambda: compile_module(text_module, features=features))
            compiles.append(lambda: compile_binary(encode_module(text_module), features=features))
        for compile in compiles:
            try:
                yield command.line, compile()
            except (InvalidError, MalformedError):
                pass


@pytest.mark.skipif(not WAST_FILES, reason="WASM_TESTSUITE is not set")
@pytest.mark.parametrize("suite, path", WAST_FILES, ids=lambda value: value.name if isinstance(value, Path) else "")
def test_every_function_of_the_testsuite_lowers_alike(suite: Path, path: Path) -> None:
    features = features_of_testsuite(suite)
    for line, compiled in script_modules(path, features):
        check_module(compiled, f"{path.name}:{line}")


@pytest.mark.parametrize("path", BINARIES, ids=lambda path: path.name)
def test_every_function_of_the_programs_lowers_alike(path: Path) -> None:
    binary = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    assert check_module(compile_binary(binary), path.name) > 0


def test_unreachable_code_pops_nothing_below_its_block() -> None:
    """After ``unreachable`` an instruction pops what its block has and no
    more (the validator's polymorphic stack): heights are never below the block's."""
    module = func_module("i32.const 1", "block i32", "unreachable", "i32.add", "i32.const 2", "select",
                         "br_if 0", "end", "i32.add", results=(I32,))
    compiled = compile_module(module)
    lowered = compiled.lowered(0)
    assert list(lowered.heights) == [0, 1, 1, 1, 2, 3, 2, 2, 2, 1]
    assert check_module(compiled, "unreachable") == 1


SHARING = """(module (memory 1)
  (func $first (param i32) (result i32)
    (block (br_if 0 (local.get 0)) (drop (i32.load offset=8 (local.get 0))))
    (i32.load offset=8 (local.get 0)))
  (func $second (param i32) (result i32)
    (block (br_if 0 (local.get 0)) (drop (i32.load offset=8 (local.get 0))))
    (i32.load offset=16 (local.get 0))))"""


def test_equal_immediates_of_lowered_functions_are_one_object() -> None:
    """A body lowered from its bytes keeps one object per distinct
    ``MemArg`` and resolved ``Branch``, in a function and across functions
    (a large module has a few hundred distinct ones among tens of thousands);
    unequal ones stay apart, and heights are an array of bytes."""
    compiled = compile_binary(encode_module(parse_module(SHARING)))
    first, second = compiled.lowered(0), compiled.lowered(1)
    load = op("i32.load")
    first_loads = [imm for operation, imm in zip(first.ops, first.imms) if operation is load]
    second_loads = [imm for operation, imm in zip(second.ops, second.imms) if operation is load]
    assert first_loads[0] is first_loads[1] is second_loads[0]
    assert second_loads[1] is not first_loads[0] and second_loads[1].offset == 16
    br_if = op("br_if")
    first_branch, second_branch = (next(imm for operation, imm in zip(lowered.ops, lowered.imms)
                                        if operation is br_if) for lowered in (first, second))
    assert isinstance(first_branch, Branch) and first_branch is second_branch
    assert first.heights.typecode == "B" and list(first.heights) == list(second.heights)


def test_heights_take_the_smallest_array_type_that_holds_them() -> None:
    assert compact_heights([0, 1, 255]).typecode == "B"
    assert compact_heights([0, 256]).typecode == "H"
    assert list(compact_heights([0, 70000, 3])) == [0, 70000, 3]
    assert compact_heights([]).typecode == "B"
