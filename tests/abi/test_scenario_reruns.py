"""Every scenario in ``tests/abi/scenarios``, run twice by ``glasswasm proxy``
in fresh processes with different hash seeds: the ``--json`` report and the
``--trace`` file must be byte-identical (no wall clock, no unseeded
randomness, no set or dict order leaking into the output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.abi.scenario_runs import SCENARIOS

REPOSITORY = Path(__file__).resolve().parents[2]
SCENARIO_FILES = sorted(path.name for path in SCENARIOS.glob("*.yaml"))


def run(scenario: str, trace: Path, hash_seed: str) -> tuple[str, bytes]:
    result = subprocess.run(
        [sys.executable, "-m", "interp", "proxy", str(SCENARIOS / scenario), "--json", "--trace", str(trace),
         "--allow-failures"],
        capture_output=True, text=True, cwd=REPOSITORY, env={**os.environ, "PYTHONHASHSEED": hash_seed},
        timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr in ("", "glasswasm proxy: all 2 expectations met\n")  # the failures they expect
    return result.stdout, trace.read_bytes()


@pytest.mark.parametrize("scenario", SCENARIO_FILES)
def test_two_runs_give_byte_identical_report_and_trace(scenario: str, tmp_path: Path) -> None:
    first = run(scenario, tmp_path / "first.jsonl", "1")
    second = run(scenario, tmp_path / "second.jsonl", "2")
    assert first[0] == second[0]
    assert first[1] == second[1]
    report = json.loads(first[0])
    assert report["streams"] or report["connections"]  # the scenario ran traffic
    assert first[1].count(b"\n") >= 5  # and the trace recorded it
