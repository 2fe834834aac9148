"""Compiling a module is validating it: every body is lowered in the one walk
that validates it, and an invalid module fails exactly as ``validate_module``
says."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.errors import InvalidError
from interp.loader import read_module
from interp.translate.compiled import compile_module
from interp.valid.function import FunctionValidator
from interp.valid.module import validate_module
from interp.syntax.types import I32
from tests.valid.assemble import code, environment_module, func_module

PROGRAMS = [Path(__file__).resolve().parents[2] / "benchmarks" / "programs" / f"{name}.wasm"
            for name in ("sha256", "mandelbrot")]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_each_body_is_walked_once(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling steps the validator exactly as often as validating does: once
    per instruction of the bodies (and of the constant expressions)."""
    module = read_module(path)
    steps = 0
    step = FunctionValidator.step

    def counting(self: FunctionValidator, instr: object) -> None:
        nonlocal steps
        steps += 1
        step(self, instr)

    monkeypatch.setattr(FunctionValidator, "step", counting)
    validate_module(module)
    validating, steps = steps, 0
    compiled = compile_module(module)
    assert steps == validating >= sum(len(func.body) for func in module.funcs)
    assert len(compiled.functions) == len(module.funcs)


INVALID_BODIES = [
    ("i64.const 1", "br 0"),                   # wrong result type of a branch
    ("block", "br 2", "end"),                  # unknown label
    ("i32.const 0", "end", "nop"),            # an instruction after the end
    ("i32.const 0", "end", "end"),            # an end after the end
    ("else",),                                 # else without if
    ("i32.const 0", "if", "i32.const 1", "end"),  # a value left in a block
    ("local.get 7",),                          # unknown local
    ("global.set 0",),                         # an immutable global
]


@pytest.mark.parametrize("body", INVALID_BODIES, ids=lambda body: " ".join(body))
def test_compiling_fails_where_validation_does(body: tuple[str, ...]) -> None:
    module = environment_module(*body, results=(I32,))
    with pytest.raises(InvalidError) as validated:
        validate_module(module)
    with pytest.raises(InvalidError) as compiled:
        compile_module(module)
    assert str(compiled.value) == str(validated.value)
    assert (compiled.value.message, compiled.value.function, compiled.value.instruction, compiled.value.offset) == \
        (validated.value.message, validated.value.function, validated.value.instruction, validated.value.offset)


def test_a_valid_module_compiles_with_the_context_of_validation() -> None:
    module = func_module("local.get 0", "i32.const 1", "i32.add", params=(I32,), results=(I32,))
    compiled = compile_module(module)
    assert compiled.context == validate_module(module)
    assert compiled.lowered(0).ops == tuple(instr.op for instr in code("local.get 0", "i32.const 1", "i32.add",
                                                                        "end"))
