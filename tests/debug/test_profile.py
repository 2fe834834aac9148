"""The profiler: exact counts (checked against the fuel counter and against
what the programs are known to do), call paths through host functions, the
reports, the collapsed stacks and the flame graph, and the CLI."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from interp.cli.main import main
from interp.debug.flame_graph import flame_graph_svg
from interp.debug.profile import Profile
from interp.debug.profiler import Profiler
from interp.dwarf.source_map import SourceMap
from interp.errors import FuelExhaustedError, Trap, UsageError
from interp.loader import module_from_bytes, read_module
from interp.runtime.function import HostFunction
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import I32, FuncType

from tests.debug.modules import FIB, PROGRAMS, REPOSITORY

FIB_WASM = REPOSITORY / "benchmarks" / "programs" / "fib.wasm"
HELLO_WASI = REPOSITORY / "tests" / "wasi" / "programs" / "hello_wasi.wasm"

CALLBACKS = """(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "thrice" (func $thrice (param i32) (result i32)))
  (func $double (export "double") (param i32) (result i32)
    (i32.add (local.get 0) (local.get 0)))
  (func $run (export "run") (param i32) (result i32)
    (i32.add (call $twice (local.get 0)) (call $thrice (local.get 0))))
  (func $crash (export "crash") (param i32) (result i32)
    (i32.div_u (call $twice (local.get 0)) (i32.const 0))))"""

DEEP = """(module
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (call $down (i32.sub (local.get 0) (i32.const 1))))
      (else (i32.const 7)))))"""


def instructions_without_profiling(module, export: str, *args: int) -> tuple[list, int]:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module)
    store.set_fuel(1 << 40)
    results = store.invoke(instance.exports[export], *args)
    return results, (1 << 40) - store.fuel


def profiled(module, export: str, *args: int, imports=None, source_map=None) -> tuple[list, Profile]:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module, imports)
    profiler = Profiler(store, source_map=source_map)
    try:
        results = store.invoke(instance.exports[export], *args)
    finally:
        profile = profiler.finish()
    return results, profile


def callback_imports() -> dict:
    def twice(caller, value: int) -> int:  # calls back at once (a nested invocation)
        return caller.invoke("double", value)[0]

    def thrice(caller, value: int):  # a generator host function: the machine runs its request
        doubled = yield caller.call("double", value)
        return doubled[0] + value

    return {"env": {"twice": HostFunction(FuncType((I32,), (I32,)), twice, takes_caller=True),
                    "thrice": HostFunction(FuncType((I32,), (I32,)), thrice, takes_caller=True)}}


def test_counts_are_exact() -> None:
    for module in (read_module(FIB_WASM), module_from_bytes(FIB.encode())):
        expected_results, instructions = instructions_without_profiling(module, "fib", 15)
        results, profile = profiled(module, "fib", 15)
        assert results == expected_results == [610]
        assert profile.total == instructions
        (fib,) = profile.functions()
        assert (fib.name, fib.self_count, fib.total) == ("fib", instructions, instructions)
    assert fib.calls == 1973  # the naive fib(15) calls fib 2 * fib(16) - 1 times
    collapsed = profile.collapsed().splitlines()
    assert sum(int(line.rpartition(" ")[2]) for line in collapsed) == instructions
    assert collapsed[0].startswith("fib ") and collapsed[1].startswith("fib;fib ")


def test_functions_and_source_lines_of_a_c_program() -> None:
    module = read_module(PROGRAMS / "collatz.wasm")
    source_map = SourceMap.for_module(module, search_paths=[PROGRAMS])
    _, instructions = instructions_without_profiling(module, "longest_below", 30)
    results, profile = profiled(module, "longest_below", 30, source_map=source_map)
    assert results == [27] and profile.total == instructions
    costs = {cost.name: cost for cost in profile.functions()}
    assert [cost.name for cost in profile.functions()] == ["collatz_length", "collatz_step", "longest_below"]
    assert costs["longest_below"].total == instructions and costs["longest_below"].calls == 1
    assert costs["collatz_length"].total == costs["collatz_length"].self_count + costs["collatz_step"].total
    assert costs["collatz_length"].calls == 58  # twice per start from 1 to 29
    lines = profile.lines()
    assert sum(line.count for line in lines) + profile.without_line == instructions
    assert 0 < profile.without_line < instructions / 100  # code the compiler gave line 0
    hottest = lines[0]
    assert (Path(hottest.file).name, hottest.line, hottest.text.strip()) == ("collatz.c", 10, "while (n != 1) {")
    report = profile.report(top=2, top_lines=3)
    assert report.splitlines()[0] == f"{instructions:,} instructions executed (exact counts from the step machine)"
    assert "... 1 more functions" in report and "collatz.c:10  while (n != 1) {" in report


def test_guest_code_called_back_by_host_functions_is_counted_under_them() -> None:
    results, profile = profiled(module_from_bytes(CALLBACKS.encode()), "run", 5, imports=callback_imports())
    assert results == [25]
    assert profile.collapsed().splitlines() == [
        "run 6",                         # local.get, call, local.get, call, i32.add, end
        "run;host thrice;double 4",  # local.get, local.get, i32.add, end
        "run;host twice;double 4",
    ]
    costs = {cost.name: cost for cost in profile.functions()}
    assert costs["double"].calls == 2 and costs["host twice"].total == 4 and costs["run"].total == 14


def test_counts_stay_exact_under_fuel_after_guest_code_a_host_function_called_back() -> None:
    """Fuel the called-back code used leaves less than the run's steps: the
    machine keeps pausing between instructions, so the profiler counts on."""
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(CALLBACKS.encode()), callback_imports())
    profiler = Profiler(store)
    store.set_fuel(1_000)
    try:
        assert store.invoke(instance.exports["run"], 5) == [25]
    finally:
        profile = profiler.finish()
    assert profile.total == 14 and store.fuel == 1_000 - 14


def test_a_trap_or_running_out_of_fuel_keeps_what_ran() -> None:
    with pytest.raises(Trap):
        profiled(module_from_bytes(CALLBACKS.encode()), "crash", 5, imports=callback_imports())
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(CALLBACKS.encode()), callback_imports())
    profiler = Profiler(store)
    with pytest.raises(Trap, match="integer divide by zero"):
        store.invoke(instance.exports["crash"], 5)
    profile = profiler.finish()
    assert profile.collapsed().splitlines() == ["crash 4", "crash;host twice;double 4"]
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(read_module(FIB_WASM))
    store.set_fuel(1000)
    profiler = Profiler(store)
    with pytest.raises(FuelExhaustedError):
        store.invoke(instance.exports["fib"], 20)
    assert profiler.finish().total == 1000
    assert store.observer is None  # finished: the store runs on its engine again


def test_deep_recursion_profiles_without_python_recursion() -> None:
    store = Store(EngineConfig(engine="python", max_call_depth=20_000))
    instance = store.instantiate(module_from_bytes(DEEP.encode()))
    profiler = Profiler(store)
    assert store.invoke(instance.exports["down"], 5000) == [7]
    profile = profiler.finish()
    (down,) = profile.functions()
    assert down.calls == 5001 and down.total == down.self_count == profile.total
    svg = flame_graph_svg(profile)
    assert ElementTree.fromstring(svg.encode()).tag.endswith("svg")


def test_a_store_is_profiled_by_one_profiler_at_a_time() -> None:
    store = Store(EngineConfig(engine="python"))
    Profiler(store)
    with pytest.raises(UsageError, match="already observed"):
        Profiler(store)
    with pytest.raises(UsageError):
        Profile().report(top=-1)


def test_flame_graph_layout_and_determinism() -> None:
    _, profile = profiled(module_from_bytes(CALLBACKS.encode()), "run", 5, imports=callback_imports())
    svg = flame_graph_svg(profile, "run(5)", "exact")
    assert svg == flame_graph_svg(profile, "run(5)", "exact")
    root = ElementTree.fromstring(svg.encode())
    namespace = "{http://www.w3.org/2000/svg}"
    boxes = {}
    for group in root.iter(f"{namespace}g"):
        title = group.find(f"{namespace}title")
        rect = group.find(f"{namespace}rect")
        if title is not None and rect is not None:
            boxes[title.text.split(" (")[0]] = (float(rect.get("x")), float(rect.get("y")),
                                                float(rect.get("width")), title.text)
    assert set(boxes) == {"all", "run", "host thrice", "host twice", "double"}
    assert boxes["run"][2] == boxes["all"][2] and boxes["run"][3] == "run (14 instructions, 100.00%)"
    assert boxes["host thrice"][0] < boxes["host twice"][0]  # siblings in name order
    assert boxes["host thrice"][1] < boxes["run"][1]  # callees above their callers
    assert boxes["host twice"][2] == pytest.approx(boxes["all"][2] * 4 / 14, abs=0.01)


def test_profile_command(tmp_path: Path, capsys) -> None:
    svg, collapsed, report = tmp_path / "fib.svg", tmp_path / "fib.folded", tmp_path / "report.txt"
    arguments = ["profile", "--invoke", "fib", "--svg", str(svg), "--collapsed", str(collapsed),
                 str(FIB_WASM), "12"]
    assert main(arguments) == 0
    out = capsys.readouterr().out
    _, instructions = instructions_without_profiling(read_module(FIB_WASM), "fib", 12)
    assert out.splitlines()[:2] == ["profile of fib(i32:12) = i32:144 (fib.wasm)",
                                    f"{instructions:,} instructions executed (exact counts from the step machine)"]
    assert "  fib" in out.splitlines()[4]
    first = (svg.read_bytes(), collapsed.read_bytes())
    assert main(arguments + ["-o", str(report)]) == 0
    assert (svg.read_bytes(), collapsed.read_bytes()) == first  # byte-identical every time
    assert report.read_text() == out and capsys.readouterr().out == ""
    assert main(["profile", "--top", "-1", "--invoke", "fib", str(FIB_WASM), "1"]) == 1
    assert capsys.readouterr().err == "error: --top must not be negative\n"


def test_profile_command_on_a_wasi_program_and_on_a_trap() -> None:
    completed = subprocess.run([sys.executable, "-m", "interp", "profile", str(HELLO_WASI), "one"],
                               capture_output=True, text=True, cwd=REPOSITORY, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "argv[1]=one" in completed.stderr and "argv[1]=one" not in completed.stdout
    assert completed.stdout.startswith("profile of _start() = () (hello_wasi.wasm)\n")
    assert "host wasi_snapshot_preview1.fd_write" not in completed.stdout  # no instructions of its own
    completed = subprocess.run([sys.executable, "-m", "interp", "profile", "--invoke", "divide",
                                str(PROGRAMS / "collatz.wasm"), "7", "0"],
                               capture_output=True, text=True, cwd=REPOSITORY, timeout=300)
    assert completed.returncode == 1
    assert completed.stdout.startswith("profile of divide(i32:7, i32:0) (collatz.wasm)\n")
    assert completed.stderr.startswith("trap: integer divide by zero\n")
