"""A real C program built with wasi-libc (``programs/hello_wasi.c``, built by
``programs/build.sh``; the .wasm is committed): arguments, environment,
clocks, a sleep, random bytes, stdin, both output streams, exit status."""

from __future__ import annotations

import random

import pytest

from interp.loader import read_module
from interp.exec.store import Store
from interp.wasi import OutputSink, WasiConfig, WasiProcess, run_command
from tests.wasi.conftest import PROGRAMS_FOLDER

PROGRAM = PROGRAMS_FOLDER / "hello_wasi.wasm"


@pytest.fixture(scope="module")
def program():
    return read_module(PROGRAM)


def run(program, **config) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    process = WasiProcess(WasiConfig(stdout=OutputSink.lines(out.append), stderr=OutputSink.lines(err.append),
                                     **config))
    store = Store()
    store.set_fuel(5_000_000)
    instance = store.instantiate(program, process.imports())
    return run_command(store, instance, process), out, err


def test_the_program_sees_exactly_what_it_was_given(program) -> None:
    status, out, err = run(program, argv=("hello", "one", "two words"), environment={"LANG": "C", "X": "=y"},
                           stdin=b"piped input", start_time_ns=1_000_000_000, clock_tick_ns=10, random_seed=3)
    assert status == 0
    assert out == [
        "argc=3", "argv[0]=hello", "argv[1]=one", "argv[2]=two words",
        "env LANG=C", "env X==y",
        "realtime_ns=1000000000",
        "slept_ns=2500010",  # the 2.5 ms nanosleep plus one clock tick
        f"random={random.Random(3).randbytes(8).hex()}",
        "stdin=11:piped input",
        "done",  # the unfinished last line, flushed at the end
    ]
    assert err == ["to stderr"]


def test_same_configuration_same_output(program) -> None:
    first = run(program, argv=("p",), random_seed=99)
    assert run(program, argv=("p",), random_seed=99) == first
    other_seed = run(program, argv=("p",), random_seed=100)
    assert other_seed != first
    assert [line for line in other_seed[1] if not line.startswith("random=")] == \
        [line for line in first[1] if not line.startswith("random=")]


def test_exit_status_from_exit(program) -> None:
    status, out, _ = run(program, argv=("p",), environment={"EXIT_CODE": "7"})
    assert status == 7
    assert out[-1] == "done"  # exit() flushed libc's buffer, proc_exit flushed the host's line
