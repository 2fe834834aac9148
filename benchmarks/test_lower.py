"""Lowering every function of a large module (the 3.1 MB Go-built module of
programs/go/): as compiled modules do, without typing the bodies again and
straight from their bytes (``lower_valid_function``), and, for comparison,
validating each body again as it is lowered (``lower_function``, for bodies
not known to be valid)."""

from __future__ import annotations

import time

from interp.translate.compiled import CompiledModule, compile_binary
from interp.translate.lower import lower_function


def validating_seconds(compiled: CompiledModule, indices: range) -> float:
    """One round of ``lower_function`` over ``indices``, in CPU time."""
    start = time.process_time()
    for index in indices:
        lower_function(compiled.context, index, compiled.module.funcs[index - compiled.num_imported_funcs])
    return time.process_time() - start


def test_lower_large_module(benchmark, large_module: bytes) -> None:
    compiled = compile_binary(large_module)
    indices = range(compiled.num_imported_funcs, len(compiled.context.funcs))

    def lower_all() -> int:
        return sum(len(compiled.lower(index).ops) for index in indices)

    instructions = benchmark.pedantic(lower_all, rounds=3, iterations=1)
    assert instructions > 900_000 and compiled.lowered_count == 0
    benchmark.extra_info["instructions"] = instructions
    if benchmark.stats is not None:
        benchmark.extra_info["validating_seconds"] = round(validating_seconds(compiled, indices), 3)
        benchmark.extra_info["microseconds_per_instruction"] = round(
            benchmark.stats.stats.mean / instructions * 1e6, 3)
