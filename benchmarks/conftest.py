"""Shared material for the benchmarks: the engines to measure, and the peers
measured in the same run when they are installed, so that every figure can
be given as a ratio: pywasm 2.2.3 (the existing pure-Python interpreter) and
wasm3 (the ``pywasm3`` package: the fastest interpreter written in C)."""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Callable

import pytest

from interp.exec.engines import available_engines

PROGRAMS = Path(__file__).with_name("programs")
LARGE_MODULE = PROGRAMS / "go" / "large.wasm.gz"
GO_FILTER = PROGRAMS / "go" / "filter" / "filter.wasm.gz"
GO_FILTER_SCENARIO = PROGRAMS / "go" / "filter" / "two_requests.yaml"
ENGINES = available_engines()


def best_time(run: Callable[[], object], rounds: int) -> float:
    """The best of ``rounds`` runs, in CPU time: the benchmarks' own timer
    (pyproject.toml: ``--benchmark-timer=time.process_time``), which on a
    machine shared with other work measures the work, not the waiting."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


class Pywasm:
    """Times pywasm on the same work, once per thing measured, when installed."""

    def __init__(self) -> None:
        try:
            import pywasm
        except ImportError:
            self.module = None
        else:
            self.module = pywasm
        self.times: dict[str, float] = {}

    @property
    def installed(self) -> bool:
        return self.module is not None

    def program_time(self, program: str, export: str, args: tuple) -> float | None:
        if self.module is None:
            return None
        key = f"{program}:{export}{args}"
        if key not in self.times:
            runtime = self.module.core.Runtime()
            instance = runtime.instance_from_file(str(PROGRAMS / f"{program}.wasm"))
            self.times[key] = best_time(lambda: runtime.invocate(instance, export, list(args)), rounds=1)
        return self.times[key]

    def decode_time(self, data: bytes) -> float | None:
        """pywasm decodes recursively, deeper than Python's default limit for
        Go-built code: give it a deep stack in a thread of its own."""
        if self.module is None:
            return None
        if "decode" not in self.times:
            import io
            import sys
            import threading

            def decode() -> None:
                self.times["decode"] = best_time(
                    lambda: self.module.core.ModuleDesc.from_reader(io.BytesIO(data)), rounds=1)

            limit = sys.getrecursionlimit()
            threading.stack_size(1 << 29)
            sys.setrecursionlimit(200_000)
            try:
                thread = threading.Thread(target=decode)
                thread.start()
                thread.join()
            finally:
                sys.setrecursionlimit(limit)
                threading.stack_size(0)
        return self.times.get("decode")


class Wasm3:
    """Times wasm3 (``pip install pywasm3``) on the same work, when installed."""

    def __init__(self) -> None:
        try:
            import wasm3
        except ImportError:
            self.module = None
        else:
            self.module = wasm3
        self.times: dict[str, float] = {}

    def program_time(self, program: str, export: str, args: tuple) -> float | None:
        if self.module is None:
            return None
        key = f"{program}:{export}{args}"
        if key not in self.times:
            environment = self.module.Environment()
            runtime = environment.new_runtime(1 << 20)
            runtime.load(environment.parse_module((PROGRAMS / f"{program}.wasm").read_bytes()))
            function = runtime.find_function(export)
            function(*args)
            self.times[key] = best_time(lambda: function(*args), rounds=5)
        return self.times[key]

    def load_time(self, binary: bytes) -> float | None:
        """Parsing and loading a module (wasm3 compiles each function when it
        is first called, and links imports then too)."""
        if self.module is None:
            return None
        if "load" not in self.times:
            environment = self.module.Environment()

            def load() -> None:
                environment.new_runtime(1 << 20).load(environment.parse_module(binary))

            self.times["load"] = best_time(load, rounds=3)
        return self.times["load"]


@pytest.fixture(scope="session")
def pywasm_peer() -> Pywasm:
    return Pywasm()


@pytest.fixture(scope="session")
def wasm3_peer() -> Wasm3:
    return Wasm3()


@pytest.fixture(scope="session")
def large_module() -> bytes:
    return gzip.decompress(LARGE_MODULE.read_bytes())
