"""Starting a big plugin: the two-request scenario on a Go-built proxy-wasm
filter (programs/go/filter: 5.3 MB, of which 3.4 MB of code in 2,830
functions, and 48,465 data segments), from reading the module to the second
response, on each engine, with the module cache warm and without it (cold);
the peak memory of each, measured in a subprocess; and — when ``pywasm3`` is
installed — the time wasm3 takes to parse and load the same module.

The in-process figures leave out importing glasswasm (about 0.3 s, the same
for every run); the subprocess reports both."""

from __future__ import annotations

import gc
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from abi.frontends.expectations import check_expectations
from abi.frontends.runner import run_scenario
from abi.frontends.scenario import load_scenario
from interp.translate.cache import CACHE_DIR_VARIABLE, NO_CACHE_VARIABLE, use_cache

from .conftest import ENGINES, GO_FILTER, GO_FILTER_SCENARIO

REPOSITORY = Path(__file__).resolve().parents[1]
STEP_MACHINE_SKIPPED = ("the step machine takes three to four seconds here: measured when benchmarks are enabled "
                        "(--benchmark-enable), not in every test run")


@pytest.fixture(scope="module")
def scenario_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario next to the filter, uncompressed (it is committed gzipped)."""
    directory = tmp_path_factory.mktemp("go-filter")
    (directory / "filter.wasm").write_bytes(gzip.decompress(GO_FILTER.read_bytes()))
    shutil.copy(GO_FILTER_SCENARIO, directory)
    return directory / GO_FILTER_SCENARIO.name


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(NO_CACHE_VARIABLE, raising=False)
    return tmp_path / "cache"


def run_two_requests(path: Path, engine: str) -> int:
    """Run the scenario; every expectation must be met.  Returns the number
    of functions that ran (were bound by the engine)."""
    scenario = load_scenario(path)
    host = run_scenario(scenario, engine)
    assert not host.failures
    assert not check_expectations(scenario.expectations, host).unmet
    (record,) = host.plugin_set.records.values()
    compiled = record.module.compiled
    return compiled.lowered_count if engine == "python" else len(compiled.engine_code.get("cython", {}))


def collect_garbage() -> None:
    gc.collect()


@pytest.mark.parametrize("start", ["warm", "cold"])
@pytest.mark.parametrize("engine", ENGINES)
def test_go_filter_two_requests(benchmark, wasm3_peer, scenario_path: Path, cache_dir: Path, engine: str,
                                start: str) -> None:
    if benchmark.disabled and engine == "python":
        pytest.skip(STEP_MACHINE_SKIPPED)
    if start == "warm":
        run_two_requests(scenario_path, engine)  # fills the cache

    def one_run() -> int:
        use_cache(start == "warm")  # a new process's view: modules compiled here are forgotten
        return run_two_requests(scenario_path, engine)

    rounds = 3 if engine == "cython" else 1
    try:  # collected before each round: no round pays for the garbage of earlier tests
        functions_run = benchmark.pedantic(one_run, setup=collect_garbage, rounds=rounds, iterations=1)
    finally:
        use_cache(True)
    binary = (scenario_path.parent / "filter.wasm").read_bytes()
    assert 500 < functions_run < 2830  # the Go runtime starting, and the filter's own: not the whole module
    benchmark.extra_info["functions_run"] = functions_run
    loaded = wasm3_peer.load_time(binary)
    if loaded is not None and benchmark.stats is not None:
        benchmark.extra_info["wasm3_load_seconds"] = round(loaded, 3)


# Runs in a subprocess: the scenario (argv[1]) on an engine (argv[2]), warm or cold (argv[3]).
# The peak is the process's own high-water mark (VmHWM, Linux): ru_maxrss would
# start from the forking parent's, which a benchmark session makes large.
_PEAK_MEMORY = """
import json, resource, sys, time
def peak_megabytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
cpu_started = time.process_time()
from abi.frontends.runner import run_scenario
from abi.frontends.scenario import load_scenario
from interp.translate.cache import flush_default_cache, use_cache
use_cache(sys.argv[3] == "warm")
imported = time.perf_counter()
cpu_imported = time.process_time()
host = run_scenario(load_scenario(sys.argv[1]), sys.argv[2])
finished = time.perf_counter()
cpu_finished = time.process_time()
flush_default_cache()
print(json.dumps({"seconds": finished - imported, "seconds_with_imports": finished - started,
                  "cpu_seconds": cpu_finished - cpu_imported, "cpu_seconds_with_imports": cpu_finished - cpu_started,
                  "peak_megabytes": peak_megabytes(),
                  "failures": len(host.failures)}))
"""


def run_in_subprocess(path: Path, engine: str, start: str, cache_dir: Path) -> dict:
    environment = {**os.environ, CACHE_DIR_VARIABLE: str(cache_dir)}
    completed = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, str(path), engine, start], cwd=REPOSITORY,
                               env=environment, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(completed.stdout)


@pytest.mark.parametrize("start", ["warm", "cold"])
@pytest.mark.parametrize("engine", ENGINES)
def test_go_filter_peak_memory(benchmark, scenario_path: Path, cache_dir: Path, engine: str, start: str) -> None:
    """The peak resident memory of a process that runs the scenario once."""
    if benchmark.disabled and engine == "python":
        pytest.skip(STEP_MACHINE_SKIPPED)
    if start == "warm":
        run_in_subprocess(scenario_path, engine, start, cache_dir)
    measured = benchmark.pedantic(run_in_subprocess, (scenario_path, engine, start, cache_dir), rounds=1,
                                  iterations=1)
    assert measured["failures"] == 0
    benchmark.extra_info.update({key: round(value, 3) for key, value in measured.items()})
