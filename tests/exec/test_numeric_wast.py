"""The numeric instructions against the official testsuite's single-instruction
scripts, before any engine exists to run them.

In the files read here, each exported function consists of exactly one numeric
instruction applied to its parameters, so an ``(invoke "name" consts...)`` is a
direct call of that instruction's implementation.  The mapping from export to
instruction is read from the module text itself, and a module whose functions
are not of that shape is refused rather than guessed at.  The implementation
called is the Python generated from the instruction's table semantics.  Also
here: the walk over the table checking that every numeric instruction has one.
"""

from __future__ import annotations

import inspect
import re
from fractions import Fraction
from typing import Callable, NamedTuple

import pytest
from hypothesis import given, settings, strategies as st

from interp.errors import Trap
from interp.exec.python_semantics import python_function
from interp.syntax.opcodes import OPS, Imm, Op, op as op_named
from interp.syntax.semantics import Compute
from interp.syntax.types import ValType
from interp.syntax.values import f32_from_bits, f32_round, f32_to_bits, f64_from_bits, f64_to_bits
from spec_tests.expectations import configured_testsuite

SUITE = configured_testsuite()
FILES = ("i32", "i64", "f32", "f64", "f32_bitwise", "f64_bitwise", "f32_cmp", "f64_cmp",
         "conversions", "float_misc")
NUMERIC_TYPES = ("i32", "i64", "f32", "f64")


def implementation(instruction: str) -> Callable:
    """The function implementing ``<type>.<name>``: its table semantics in Python."""
    return python_function(op_named(instruction))


def numeric_ops() -> list[Op]:
    """The scalar instructions computed from their operands by table
    semantics (the 128-bit ones of wide-arithmetic are run by Python
    functions, see tests/exec/test_wide_arithmetic.py)."""
    return [op for op in OPS
            if op.imm is Imm.NONE and isinstance(op.semantics, Compute)
            and op.name.partition(".")[0] in NUMERIC_TYPES]


@pytest.mark.parametrize("op", numeric_ops(), ids=lambda op: op.name)
def test_every_numeric_instruction_has_its_function(op: Op) -> None:
    function = implementation(op.name)
    assert callable(function)
    parameters = inspect.signature(function).parameters.values()
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    assert len(positional) == len(op.params)
    assert len(op.results) == 1


def test_the_table_walk_finds_all_numeric_instructions() -> None:
    # The 123 rows from i32.eqz (0x45) to f64.reinterpret_i64 (0xBF), the 5 sign
    # extensions and the 8 saturating truncations; consts and memory excluded.
    names = {op.name for op in numeric_ops()}
    assert len(names) == 123 + 5 + 8
    assert {"i32.and", "i64.extend_i32_u", "f32.demote_f64", "i64.trunc_sat_f64_u"} <= names
    assert not {"i32.const", "i32.load", "f64.store"} & names


def operand(valtype: ValType) -> st.SearchStrategy[object]:
    """Any value of ``valtype``, from its bit pattern, with the edges favoured."""
    bits = 32 if valtype in (ValType.I32, ValType.F32) else 64
    top = (1 << bits) - 1
    edges = [0, 1, top, top >> 1, (top >> 1) + 1, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7FA0_0001,
             0x7FF0_0000_0000_0000, 0x7FF4_0000_0000_0001, 0x4F00_0000, 0x43E0_0000_0000_0000]
    pattern = st.one_of(st.integers(0, top), st.sampled_from([e & top for e in edges]))
    if valtype is ValType.F32:
        return pattern.map(f32_from_bits)
    if valtype is ValType.F64:
        return pattern.map(f64_from_bits)
    return pattern


def is_value(result: object, valtype: ValType) -> bool:
    if valtype in (ValType.I32, ValType.I64):
        return type(result) is int and 0 <= result < 1 << (32 if valtype is ValType.I32 else 64)
    if type(result) is not float:
        return False
    if valtype is ValType.F32:
        return f32_from_bits(f32_to_bits(result)) == result or (
            result != result and f64_to_bits(result) & ((1 << 29) - 1) == 0)
    return True


_TRAP_MESSAGES = {"integer divide by zero", "integer overflow", "invalid conversion to integer"}


@pytest.mark.parametrize("op", numeric_ops(), ids=lambda op: op.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_only_values_or_traps_come_out(op: Op, data: st.DataObject) -> None:
    arguments = [data.draw(operand(t)) for t in op.params]
    try:
        result = implementation(op.name)(*arguments)
    except Trap as trap:
        assert trap.message in _TRAP_MESSAGES
        return
    assert is_value(result, op.results[0])


# --- literals --------------------------------------------------------------

_WIDTH = {"f32": (f32_from_bits, f32_to_bits, 32, 8, 23), "f64": (f64_from_bits, f64_to_bits, 64, 11, 52)}


def parse_int(text: str, bits: int) -> int:
    return int(text.replace("_", ""), 0) & ((1 << bits) - 1)


def exact_value(text: str) -> Fraction:
    """The exact rational a float literal without sign denotes."""
    text = text.replace("_", "")
    if not text.lower().startswith("0x"):
        return Fraction(text)
    mantissa, _, exponent = text[2:].lower().partition("p")
    whole, _, fraction = mantissa.partition(".")
    digits = int(whole + fraction or "0", 16)
    return Fraction(digits, 16 ** len(fraction)) * Fraction(2) ** int(exponent or "0")


def float_bits(text: str, type_name: str) -> int:
    """The bit pattern of a float literal, rounded to nearest-even exactly
    (float() followed by an f32 rounding could round twice)."""
    from_bits, to_bits, bits, exp_bits, frac_bits = _WIDTH[type_name]
    sign = 1 << (bits - 1) if text.startswith("-") else 0
    text = text.lstrip("+-")
    infinity = ((1 << exp_bits) - 1) << frac_bits
    if text == "inf":
        return sign | infinity
    if text.startswith("nan"):
        payload = int(text[4:], 16) if text.startswith("nan:") else 1 << (frac_bits - 1)
        return sign | infinity | payload
    exact = exact_value(text)
    try:
        nearby = float(exact)
        approximate = to_bits(f32_round(nearby) if type_name == "f32" else nearby)
    except OverflowError:
        approximate = infinity

    def value_of(candidate: int) -> Fraction:
        if candidate == infinity:  # the value the next float would have without an exponent limit
            return Fraction(2) ** (1 << (exp_bits - 1))
        return Fraction(from_bits(candidate))

    candidates = [c for c in (approximate - 1, approximate, approximate + 1) if 0 <= c <= infinity]
    best = min(candidates, key=lambda c: (abs(value_of(c) - exact), c & 1))
    return sign | best


class Expected(NamedTuple):
    type_name: str
    text: str


def argument(type_name: str, text: str) -> object:
    if type_name in ("i32", "i64"):
        return parse_int(text, int(type_name[1:]))
    from_bits = _WIDTH[type_name][0]
    return from_bits(float_bits(text, type_name))


def check_result(result: object, expected: Expected) -> str | None:
    """``None`` when ``result`` is exactly what the script expects, else why not."""
    type_name, text = expected
    if type_name in ("i32", "i64"):
        want = parse_int(text, int(type_name[1:]))
        if type(result) is not int or result != want:
            return f"got {result!r}, want {want}"
        return None
    if type(result) is not float:
        return f"got {result!r}, not a float"
    to_bits, bits, exp_bits, frac_bits = _WIDTH[type_name][1:]
    if type_name == "f32" and result != result and f64_to_bits(result) & ((1 << 29) - 1):
        return "an f32 NaN outside the value mapping"
    got = to_bits(result)
    quiet = 1 << (frac_bits - 1)
    exponent = ((1 << exp_bits) - 1) << frac_bits
    magnitude = got & ((1 << (bits - 1)) - 1)
    if text.lstrip("+-") == "nan:canonical":
        ok = magnitude == exponent | quiet
    elif text.lstrip("+-") == "nan:arithmetic":
        ok = magnitude & (exponent | quiet) == exponent | quiet
    else:
        ok = got == float_bits(text, type_name)
    return None if ok else f"got bits {got:#x}, want {text}"


# --- the scripts -----------------------------------------------------------

_EXPORT = re.compile(
    r'^\s*\(func \(export "([^"]+)"\) (?:\(param \$\w+ \w+\) )*\(result \w+\) '
    r'\((\w+\.\w+)(?: \(local\.get \$\w+\))+\)\)$', re.M)
_CONST = re.compile(r"\((i32|i64|f32|f64)\.const\s+([^)\s]+)\s*\)")
_ASSERT = re.compile(r'^\(assert_(return|trap) \(invoke "([^"]+)"((?:\s*\(\w+\.const\s[^)]+\))*)\s*\)(.*)\)$')


class Case(NamedTuple):
    line: int
    arguments: tuple[tuple[str, str], ...]
    expected: Expected | None
    trap: str | None


def load_cases(file: str) -> dict[str, list[Case]]:
    """The assertions of ``file`` grouped by instruction name."""
    text = (SUITE / f"{file}.wast").read_text()
    instructions = dict(_EXPORT.findall(text))
    if text.count("(func (export") != len(instructions):
        raise AssertionError(f"{file}.wast has functions that are not a single instruction")
    cases: dict[str, list[Case]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.partition(";;")[0].rstrip()
        match = _ASSERT.match(line)
        if match is None:
            if line.startswith(("(assert_return", "(assert_trap")):
                raise AssertionError(f"{file}.wast:{number}: assertion not understood")
            continue
        kind, export, arguments, rest = match.groups()
        expected = _CONST.findall(rest)
        trap = re.fullmatch(r'\s*"([^"]*)"', rest)
        case = Case(number, tuple(_CONST.findall(arguments)),
                    Expected(*expected[0]) if expected else None,
                    trap.group(1) if kind == "trap" and trap else None)
        if kind == "trap" and case.trap is None or kind == "return" and len(expected) != 1:
            raise AssertionError(f"{file}.wast:{number}: unexpected assertion shape")
        cases.setdefault(instructions[export], []).append(case)
    return cases


_GROUPS = [(file, instruction, cases)
           for file in (FILES if SUITE is not None else ())
           for instruction, cases in sorted(load_cases(file).items())]


@pytest.mark.skipif(SUITE is None, reason="WASM_TESTSUITE is not set")
def test_the_scripts_give_many_cases() -> None:
    all_cases = [case for _, _, cases in _GROUPS for case in cases]
    assert len(all_cases) == 12_254 + 87
    assert sum(case.trap is not None for case in all_cases) == 87


@pytest.mark.parametrize("file,instruction,cases", _GROUPS,
                         ids=[f"{file}:{instruction}" for file, instruction, _ in _GROUPS])
def test_script_assertions(file: str, instruction: str, cases: list[Case]) -> None:
    function = implementation(instruction)
    failures = []
    for case in cases:
        arguments = [argument(t, v) for t, v in case.arguments]
        try:
            result = function(*arguments)
        except Trap as trap:
            if case.trap != trap.message:
                failures.append(f"line {case.line}: trapped {trap.message!r}")
            continue
        if case.trap is not None:
            failures.append(f"line {case.line}: returned {result!r}, want trap {case.trap!r}")
            continue
        problem = check_result(result, case.expected)
        if problem:
            failures.append(f"line {case.line}: {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} failed:\n" + "\n".join(failures[:30])
