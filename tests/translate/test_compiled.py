"""Compiling a module is validating it: every body is validated once, up front,
and lowered only when an engine first asks for it; from a binary, validation
happens in the decoder's pass.  An invalid module fails exactly as
``validate_module`` says, whichever way it is compiled."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from interp.binary.decode import LazyBody, decode_module
from interp.binary.encode import encode_module
from interp.errors import InvalidError, MalformedError
from interp.loader import read_file, read_module
from interp.syntax.module import Data, SegmentMode
from interp.translate.compiled import _BodyValidation, compile_binary, compile_module
from interp.valid.function import FunctionValidator
from interp.valid.module import validate_module
from interp.syntax.types import I32
from tests.valid.assemble import code, environment_module, func_module

PROGRAMS = [Path(__file__).resolve().parents[2] / "benchmarks" / "programs" / f"{name}.wasm"
            for name in ("sha256", "mandelbrot")]


@pytest.fixture
def validator_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the instructions the validator is stepped through (``[0]``)."""
    steps = [0]
    step = FunctionValidator.step

    def counting(self: FunctionValidator, instr: object) -> None:
        steps[0] += 1
        step(self, instr)

    monkeypatch.setattr(FunctionValidator, "step", counting)
    return steps


@pytest.fixture
def natively_accepted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The positions of the bodies the native body check accepted (which the
    Python validator then does not see)."""
    accepted: list[int] = []
    accepts = _BodyValidation.accepts

    def recording(self: _BodyValidation, position: int, *body: object) -> bool:
        found = accepts(self, position, *body)  # type: ignore[arg-type]
        if found:
            accepted.append(position)
        return found

    monkeypatch.setattr(_BodyValidation, "accepts", recording)
    return accepted


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_each_body_is_validated_once_and_lowered_when_asked_without_validating(path: Path, validator_steps: list[int],
                                                                               natively_accepted: list[int]) -> None:
    module = read_module(path)
    validate_module(module)
    validating, validator_steps[0] = validator_steps[0], 0
    assert validating >= sum(len(func.body) for func in module.funcs)

    for compile in (lambda: compile_module(module), lambda: compile_binary(read_file(path))):
        natively_accepted.clear()
        compiled = compile()
        assert validator_steps[0] + sum(len(module.funcs[position].body) for position in natively_accepted) \
            == validating
        assert compiled.lowered_count == 0
        validator_steps[0] = 0
        first = compiled.num_imported_funcs
        lowered = compiled.lowered(first)
        assert validator_steps[0] == 0  # lowering does not type the body again
        assert compiled.lowered(first) is lowered and compiled.lowered_count == 1
        validator_steps[0] = 0


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_a_binary_keeps_its_bodies_as_bytes(path: Path) -> None:
    binary = read_file(path)
    compiled = compile_binary(binary)
    bodies = [func.body for func in compiled.module.funcs]
    assert all(isinstance(body, LazyBody) for body in bodies)
    assert [tuple(body) for body in bodies] == [tuple(func.body) for func in decode_module(binary).funcs]
    assert encode_module(compiled.module) == binary
    fresh = compile_binary(binary)
    fresh.lower(fresh.num_imported_funcs)
    assert fresh.module.funcs[0].body._instructions is None  # lowering kept no instructions
    assert [func.body[-1] for func in fresh.module.funcs] == [func.body[-1] for func in decode_module(binary).funcs]
    assert all(func.body and func.body._instructions is None for func in fresh.module.funcs)  # nor did that
    assert bodies[0][-1].op.name == "end" and bodies[0][len(bodies[0]) - 1] == bodies[0][-1]
    assert bodies[0]._instructions is not None  # indexing keeps them (the printer, the debugger)


def test_a_trusted_binary_is_not_decoded_nor_validated(validator_steps: list[int]) -> None:
    module = func_module("local.get 0", "i32.const 1", "i32.add", params=(I32,), results=(I32,))
    compiled = compile_binary(encode_module(module), trusted=True)
    assert validator_steps[0] == 0
    assert compiled.lowered(0).ops == tuple(instr.op for instr in code("local.get 0", "i32.const 1", "i32.add",
                                                                        "end"))


def test_a_body_that_never_runs_is_validated_all_the_same() -> None:
    module = environment_module("i64.const 1", results=(I32,))
    with pytest.raises(InvalidError, match="type mismatch"):
        compile_binary(encode_module(module))


def test_malformed_wins_over_an_invalid_body() -> None:
    """A body is validated as soon as it is decoded, but a malformed module
    later on must still fail as malformed."""
    binary = encode_module(environment_module("i64.const 1", results=(I32,)))
    with pytest.raises(MalformedError):
        compile_binary(binary + b"\x0b\x01")  # a data section (id 11) cut short


def test_a_module_level_check_before_the_bodies_wins_over_an_invalid_body() -> None:
    """``validate_module`` checks data segments' offsets before the bodies,
    though the data section comes after the code section."""
    module = environment_module("f32.const 1", results=(I32,))
    bad_offset = Data(b"x", SegmentMode.ACTIVE, 0, code("i64.const 0", "end"))
    module = dataclasses.replace(module, datas=(bad_offset,))
    with pytest.raises(InvalidError) as validated:
        validate_module(module)
    with pytest.raises(InvalidError) as compiled:
        compile_binary(encode_module(module))
    assert compiled.value.message == validated.value.message == \
        "type mismatch: expected [i32] at the end of the constant expression, got [i64]"


INVALID_BODIES = [
    ("i64.const 1", "br 0"),                   # wrong result type of a branch
    ("block", "br 2", "end"),                  # unknown label
    ("i32.const 0", "end", "nop"),            # an instruction after the end (malformed as a binary)
    ("i32.const 0", "end", "end"),            # an end after the end (likewise)
    ("else",),                                 # else without if (likewise)
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
    binary = encode_module(module)
    try:
        decode_module(binary)
    except MalformedError:
        return  # no well-formed binary has this body
    with pytest.raises(InvalidError) as from_binary:
        compile_binary(binary)
    assert (from_binary.value.message, from_binary.value.function) == \
        (validated.value.message, validated.value.function)


def test_a_valid_module_compiles_with_the_context_of_validation() -> None:
    module = func_module("local.get 0", "i32.const 1", "i32.add", params=(I32,), results=(I32,))
    compiled = compile_module(module)
    assert compiled.context == validate_module(module)
    assert compiled.lowered(0).ops == tuple(instr.op for instr in code("local.get 0", "i32.const 1", "i32.add",
                                                                        "end"))
