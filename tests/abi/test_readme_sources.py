"""The commands README.md shows under "Istio and Envoy configuration as
input" print what it shows (``...`` stands for lines left out)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def examples() -> list[tuple[str, list[str]]]:
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("### Istio and Envoy configuration as input", 1)[1].split("\n### ", 1)[0]
    found = []
    block: list[str] | None = None
    for line in section.splitlines():
        if line.startswith("```"):
            if block is not None and block and block[0].startswith("$ glasswasm "):
                found.append((block[0][2:], block[1:]))
            block = [] if block is None else None
        elif block is not None:
            block.append(line)
    return found


@pytest.mark.parametrize(("command", "shown"), examples(), ids=lambda value: str(value)[:60])
def test_readme_command_prints_what_it_shows(command: str, shown: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "interp", *shlex.split(command)[1:]], capture_output=True,
                            text=True, cwd=REPOSITORY, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = (result.stderr + result.stdout).splitlines()
    chunks: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    position = 0
    for index, chunk in enumerate(chunks):
        if index == 0:
            assert printed[:len(chunk)] == chunk
            position = len(chunk)
            continue
        if index == len(chunks) - 1 and chunk:
            assert printed[-len(chunk):] == chunk
            continue
        starts = [at for at in range(position, len(printed)) if printed[at:at + len(chunk)] == chunk]
        assert starts, f"not printed after line {position}: {chunk}"
        position = starts[0] + len(chunk)


def test_the_readme_shows_both_inputs() -> None:
    assert [command for command, _ in examples()] == ["glasswasm proxy examples/istio/scenario.yaml --explain",
                                                      "glasswasm proxy examples/envoy/scenario.yaml"]
