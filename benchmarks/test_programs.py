"""Real programs (C compiled to wasm32, see programs/build.sh) on each engine.

Each benchmark counts the wasm instructions it executes (with the fuel
counter) and reports instructions per second, and — when pywasm and wasm3
(``pywasm3``) are installed — how many times faster than pywasm, and what
fraction of wasm3's speed, on the same program in the same run.  Run:

    python -m pytest benchmarks --benchmark-enable
"""

from __future__ import annotations

import pytest

from interp.translate.compiled import compile_module
from interp.loader import read_module
from interp.exec.store import EngineConfig, Store

from .conftest import ENGINES, PROGRAMS

COUNTING_FUEL = 1 << 60

# (program, export, arguments, expected result: checked against the same C compiled natively)
CASES = [
    ("fib", "fib", (22,), 17711),
    ("sieve", "count_primes", (50_000,), 5133),
    ("mandelbrot", "mandelbrot", (32, 100), 404),
    ("sha256", "sha256_pattern", (2048,), 2087875273),  # checked against hashlib
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("program, export, args, expected", CASES, ids=[c[0] for c in CASES])
def test_program(benchmark, pywasm_peer, wasm3_peer, engine: str, program: str, export: str, args: tuple,
                 expected: int) -> None:
    compiled = compile_module(read_module(PROGRAMS / f"{program}.wasm"))
    store = Store(EngineConfig(engine=engine))
    instance = store.instantiate(compiled)
    func = instance.exported_function(export)

    def run() -> list:
        store.set_fuel(COUNTING_FUEL)
        return store.invoke(func, *args)

    rounds = 3 if engine == "python" else 20
    results = benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
    assert results == [expected]
    instructions = COUNTING_FUEL - store.fuel
    benchmark.extra_info["instructions"] = instructions
    if benchmark.stats is not None:
        mean = benchmark.stats.stats.mean
        benchmark.extra_info["instructions_per_second"] = round(instructions / mean)
        peer = pywasm_peer.program_time(program, export, args)
        if peer is not None:
            benchmark.extra_info["times_faster_than_pywasm"] = round(peer / mean, 1)
        fastest = wasm3_peer.program_time(program, export, args)
        if fastest is not None:
            benchmark.extra_info["fraction_of_wasm3"] = round(fastest / mean, 4)
