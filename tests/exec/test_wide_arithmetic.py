"""Wide arithmetic: 128-bit sums, differences and 64x64 products on pairs of
i64 (low, high), the table's only instructions of two results, run by one
Python function on both engines: both must put the two results in the right
slots, wherever the operands sit on the stack and however hot the function."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig, Store
from interp.text import parse_module

MASK64 = (1 << 64) - 1

MODULE = """
(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "mul_wide_s") (param i64 i64) (result i64 i64)
    (i64.mul_wide_s (local.get 0) (local.get 1)))
  (func (export "mul_wide_u") (param i64 i64) (result i64 i64)
    (i64.mul_wide_u (local.get 0) (local.get 1)))
  ;; deep in the stack, in a loop (compiled blocks on the step machine), results consumed in order
  (func (export "square_sum") (param $n i64) (result i64 i64)
    (local $low i64) (local $high i64) (local $i i64)
    (loop $again
      (i64.const 7)
      (i64.mul_wide_u (local.get $i) (local.get $i))
      (local.get $low) (local.get $high)
      (i64.add128)
      (local.set $high) (local.set $low)
      (drop)
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $again (i64.lt_u (local.get $i) (local.get $n))))
    (local.get $low) (local.get $high))
)
"""


def split(value: int) -> list[int]:
    return [value & MASK64, (value >> 64) & MASK64]


def signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


@pytest.fixture(scope="module", params=available_engines())
def wide(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return Store(EngineConfig(engine=request.param)).instantiate(parse_module(MODULE))


i64 = st.one_of(st.integers(0, MASK64), st.sampled_from([0, 1, MASK64, 1 << 63, (1 << 63) - 1]))


@given(i64, i64, i64, i64)
def test_sums_and_differences_are_128_bit_and_wrap(wide, a_low: int, a_high: int, b_low: int,  # type: ignore[no-untyped-def]
                                                   b_high: int) -> None:
    a, b = a_high << 64 | a_low, b_high << 64 | b_low
    assert wide.invoke("add128", a_low, a_high, b_low, b_high) == split(a + b)
    assert wide.invoke("sub128", a_low, a_high, b_low, b_high) == split(a - b)


@given(i64, i64)
def test_wide_products(wide, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    assert wide.invoke("mul_wide_u", a, b) == split(a * b)
    assert wide.invoke("mul_wide_s", a, b) == split(signed(a) * signed(b))


def test_two_results_land_in_their_slots_in_a_hot_loop(wide) -> None:  # type: ignore[no-untyped-def]
    n = 3_000_000_000
    total = sum(i * i for i in range(1000))
    assert wide.invoke("square_sum", 1000) == split(total)
    assert wide.invoke("mul_wide_u", n, n) == split(n * n)


def test_the_sign_of_a_wide_product() -> None:
    instance = Store(EngineConfig(engine="python")).instantiate(parse_module(MODULE))
    assert instance.invoke("mul_wide_s", 1, MASK64 - 1) == [MASK64 - 1, MASK64]  # 1 * -2
    assert instance.invoke("mul_wide_u", 1, MASK64 - 1) == [MASK64 - 1, 0]
