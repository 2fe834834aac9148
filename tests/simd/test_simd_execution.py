"""Vector instructions run end to end on the step machine: v128 parameters,
results, locals and globals, lane immediates, shuffles, the vector loads and
stores with their static offsets and traps, and a binary round trip."""

from __future__ import annotations

import pytest

from interp.binary import decode_module, encode_module
from interp.errors import Trap
from interp.exec.store import EngineConfig, Store
from interp.text import parse_module
from tests.simd.lanes_reference import lanes_of, vector_of

MODULE = """
(module
  (memory 1)
  (global $g (mut v128) (v128.const i32x4 10 20 30 40))
  (func (export "add_to_global") (param v128) (result v128)
    (global.set $g (i32x4.add (global.get $g) (local.get 0)))
    (global.get $g))
  (func (export "dot") (param v128 v128) (result i32)
    (local $products v128)
    (local.set $products (i32x4.dot_i16x8_s (local.get 0) (local.get 1)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $products)) (i32x4.extract_lane 1 (local.get $products)))
      (i32.add (i32x4.extract_lane 2 (local.get $products)) (i32x4.extract_lane 3 (local.get $products)))))
  (func (export "reverse") (param v128) (result v128)
    (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get 0) (local.get 0)))
  (func (export "store_lane") (param i32 v128)
    (v128.store32_lane offset=4 2 (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result v128)
    (v128.load offset=16 (local.get 0)))
  (func (export "splat_loaded") (param i32) (result v128)
    (v128.load16_splat offset=1 (local.get 0)))
  (func (export "select") (param v128 v128 i32) (result v128)
    (select (local.get 0) (local.get 1) (local.get 2)))
  (func (export "replace") (param v128 f64) (result v128)
    (f64x2.replace_lane 1 (local.get 0) (local.get 1)))
)
"""


@pytest.fixture
def instance():  # type: ignore[no-untyped-def]
    store = Store(EngineConfig(engine="python"))
    return store.instantiate(parse_module(MODULE))


def test_globals_and_arithmetic(instance) -> None:  # type: ignore[no-untyped-def]
    (result,) = instance.invoke("add_to_global", vector_of([1, 2, 3, -1], 32))
    assert lanes_of(result, 32) == [11, 22, 33, 39]
    (result,) = instance.invoke("add_to_global", 0)
    assert lanes_of(result, 32) == [11, 22, 33, 39]


def test_lanes_and_shuffles(instance) -> None:  # type: ignore[no-untyped-def]
    a = vector_of([1, -2, 3, -4, 5, -6, 7, -8], 16)
    b = vector_of([8, 7, 6, 5, 4, 3, 2, 1], 16)
    assert instance.invoke("dot", a, b) == [(8 - 14 + 18 - 20 + 20 - 18 + 14 - 8) & 0xFFFF_FFFF]
    (reversed_,) = instance.invoke("reverse", vector_of(list(range(16)), 8))
    assert lanes_of(reversed_, 8) == list(range(15, -1, -1))
    assert instance.invoke("select", 1, 2, 0) == [2]
    (replaced,) = instance.invoke("replace", 0, -0.0)
    assert replaced == 1 << 127


def test_memory_offsets_and_traps(instance) -> None:  # type: ignore[no-untyped-def]
    vector = vector_of([0x11111111, 0x22222222, 0x33333333, 0x44444444], 32)
    instance.invoke("store_lane", 12, vector)  # writes lane 2 at 12 + 4
    (loaded,) = instance.invoke("load", 0)
    assert lanes_of(loaded, 32) == [0x33333333, 0, 0, 0]
    (splat,) = instance.invoke("splat_loaded", 16)  # bytes 17 and 18: 0x33 0x33
    assert splat == vector_of([0x3333] * 8, 16)
    with pytest.raises(Trap, match="out of bounds memory access"):
        instance.invoke("load", 65536 - 16 - 15)
    instance.invoke("load", 65536 - 16 - 16)
    with pytest.raises(Trap, match="out of bounds memory access"):
        instance.invoke("store_lane", 0xFFFF_FFFF, vector)


def test_binary_round_trip() -> None:
    """Encoding the parsed module and decoding it again gives the same module
    (the encoder and decoder read the SIMD rows of the same table)."""
    module = parse_module(MODULE)
    decoded = decode_module(encode_module(module))
    original_bodies = [[(i.op, i.imm) for i in func.body] for func in module.funcs]
    decoded_bodies = [[(i.op, i.imm) for i in func.body] for func in decoded.funcs]
    assert decoded_bodies == original_bodies
    assert decoded.globals[0].init[0].imm == module.globals[0].init[0].imm
