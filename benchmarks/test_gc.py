"""What garbage-collected data costs: a program that builds a binary tree of
structs, sums it through casts, and copies arrays, on each engine.

The aggregate instructions run as Python functions on both engines (the
compiled loop calls out to them), so the figure to watch is how many
instructions per second a GC-heavy program gets next to the numeric programs
of test_programs.py.  Run:

    python -m pytest benchmarks --benchmark-enable -k gc
"""

from __future__ import annotations

import pytest

from interp.exec.store import EngineConfig, Store
from interp.text import parse_module
from interp.translate.compiled import compile_module

from .conftest import ENGINES

COUNTING_FUEL = 1 << 60

TREES = """(module
  (type $tree (struct (field $left (ref null $tree)) (field $right (ref null $tree)) (field $value i32)))
  (type $leaf (sub final (struct)))
  (type $numbers (array (mut i32)))

  (func $build (param $depth i32) (param $value i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.eqz (local.get $depth))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree) (local.get $value)))
      (else
        (struct.new $tree
          (call $build (i32.sub (local.get $depth) (i32.const 1)) (i32.mul (local.get $value) (i32.const 2)))
          (call $build (i32.sub (local.get $depth) (i32.const 1))
                       (i32.add (i32.mul (local.get $value) (i32.const 2)) (i32.const 1)))
          (local.get $value)))))

  (func $sum (param $node anyref) (result i32)
    (local $tree (ref $tree))
    (drop (block $not-a-tree (result anyref)
      (local.set $tree (br_on_cast_fail $not-a-tree anyref (ref $tree) (local.get $node)))
      (return (i32.add (struct.get $tree $value (local.get $tree))
        (i32.add (call $sum (struct.get $tree $left (local.get $tree)))
                 (call $sum (struct.get $tree $right (local.get $tree))))))))
    (i32.const 0))

  (func (export "trees") (param $depth i32) (param $rounds i32) (result i32)
    (local $total i32) (local $a (ref $numbers)) (local $b (ref $numbers))
    (local.set $a (array.new $numbers (i32.const 1) (i32.const 256)))
    (local.set $b (array.new_default $numbers (i32.const 256)))
    (loop $round
      (local.set $total (i32.add (local.get $total) (call $sum (call $build (local.get $depth) (i32.const 1)))))
      (array.copy $numbers $numbers (local.get $b) (i32.const 0) (local.get $a) (i32.const 0) (i32.const 256))
      (br_if $round (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (i32.add (local.get $total) (array.get $numbers (local.get $b) (i32.const 255))))
)"""


@pytest.mark.parametrize("engine", ENGINES)
def test_trees_of_structs(benchmark, engine: str) -> None:
    compiled = compile_module(parse_module(TREES))
    store = Store(EngineConfig(engine=engine))
    instance = store.instantiate(compiled)
    func = instance.exported_function("trees")

    def run() -> list:
        store.set_fuel(COUNTING_FUEL)
        return store.invoke(func, 10, 4)

    rounds = 3 if engine == "python" else 5
    results = benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
    # each tree holds 1 .. 2047 in heap order (node k's children are 2k and 2k + 1): their sum, four times
    assert results == [4 * (2047 * 2048 // 2) + 1]
    instructions = COUNTING_FUEL - store.fuel
    benchmark.extra_info["instructions"] = instructions
    if benchmark.stats is not None:
        benchmark.extra_info["instructions_per_second"] = round(instructions / benchmark.stats.stats.mean)
