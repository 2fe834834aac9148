"""Every command the README shows runs as shown.

A README block (fenced, without a language or as ``sh``/``console``) whose
lines start with ``$ `` is a transcript: each ``$ COMMAND`` (continued on
the next line after a trailing ``\\``) runs in a shell from the root of a
fresh copy of the checkout (its tracked files, and new ones not ignored),
the commands of a block one after another; what it prints,
standard output and error together as a terminal shows them, must be the
lines that follow it.  Lines of a debugger session that start with
``(glasswasm) `` are what was typed: they are given to the command on its
standard input (the debugger echoes piped commands).  A line ``...`` in the
shown output stands for lines left out (any number, none included); the
times pytest prints (``in 0.42s``) are the only other thing compared
loosely.

Blocks that use the official testsuite name it as ``../wasm-testsuite-2.0``
or ``../wasm-testsuite-3.0``, where the README's instructions clone it: they
run when ``WASM_TESTSUITE`` names that version, which is linked there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from interp.script.testsuites import TESTSUITES, recognise
from spec_tests.expectations import configured_testsuites

REPOSITORY = Path(__file__).resolve().parents[1]
PROMPT = "(glasswasm) "
PYTEST_TIME = re.compile(r" in \d+\.\d+s\b")
TESTSUITE_FOLDER = re.compile(r"\.\./wasm-testsuite-(\d\.\d)\b")
COMMAND_TIMEOUT = 300


@dataclass(frozen=True)
class Command:
    text: str
    output: tuple[str, ...]

    @property
    def typed(self) -> str:
        """What the session's ``(glasswasm)`` lines typed, for its standard input."""
        return "".join(line[len(PROMPT):] + "\n" for line in self.output if line.startswith(PROMPT))


@dataclass(frozen=True)
class Transcript:
    line: int
    commands: tuple[Command, ...]

    @property
    def testsuite(self) -> str | None:
        """The testsuite version the block uses, if any."""
        found = {match for command in self.commands for match in TESTSUITE_FOLDER.findall(command.text)}
        return found.pop() if found else None


def transcripts(readme: str) -> list[Transcript]:
    found: list[Transcript] = []
    lines = readme.splitlines()
    index = 0
    while index < len(lines):
        fence = lines[index].strip()
        index += 1
        if not fence.startswith("```") or fence[3:] not in ("", "sh", "console"):
            if fence.startswith("```"):
                while index < len(lines) and lines[index].strip() != "```":
                    index += 1
                index += 1
            continue
        start = index
        block: list[str] = []
        while index < len(lines) and lines[index].strip() != "```":
            block.append(lines[index])
            index += 1
        index += 1
        if block and block[0].startswith("$ "):
            found.append(Transcript(start + 1, tuple(_commands(block))))
    return found


def _commands(block: list[str]) -> list[Command]:
    commands: list[Command] = []
    position = 0
    while position < len(block):
        text = block[position][2:]
        position += 1
        while text.endswith("\\") and position < len(block):
            text = text[:-1] + " " + block[position].strip()
            position += 1
        output: list[str] = []
        while position < len(block) and not block[position].startswith("$ "):
            output.append(block[position])
            position += 1
        commands.append(Command(text, tuple(output)))
    return commands


README_TRANSCRIPTS = transcripts((REPOSITORY / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout's files (tracked, and new ones git does not
    ignore), made once per process: commands may write there without
    touching the repository.  The testsuite links go next to it."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=REPOSITORY, capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the README's commands are checked from a git checkout")
    root = tmp_path_factory.mktemp("readme") / "checkout"
    for name in listed.stdout.decode().split("\0"):
        source = REPOSITORY / name
        if name and source.is_file():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return root


def test_the_readme_has_transcripts() -> None:
    commands = [command.text for transcript in README_TRANSCRIPTS for command in transcript.commands]
    assert len(commands) >= 20
    assert any(text.startswith("glasswasm proxy examples/proxy/") for text in commands)


@pytest.mark.parametrize("transcript", README_TRANSCRIPTS, ids=lambda item: f"README.md:{item.line}")
def test_the_readme_commands_print_what_it_shows(transcript: Transcript, checkout: Path) -> None:
    if transcript.testsuite is not None:
        wanted = next(testsuite for testsuite in TESTSUITES if testsuite.version == transcript.testsuite)
        suite = next((folder for folder in configured_testsuites() if folder.is_dir() and recognise(folder) is wanted),
                     None)
        if suite is None:
            pytest.skip(f"uses the {wanted.name} testsuite; name it in WASM_TESTSUITE")
        link = checkout.parent / f"wasm-testsuite-{transcript.testsuite}"
        if not link.exists():
            link.symlink_to(suite.resolve())
    # pytest stops shortening its summary lines when CI or BUILD_NUMBER is set; the README shows a terminal.
    environment = {name: value for name, value in os.environ.items() if name not in ("CI", "BUILD_NUMBER")}
    environment.update(PYTHONUNBUFFERED="1", COLUMNS="80",
                       PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    for command in transcript.commands:
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command.text], cwd=checkout, input=command.typed,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
                                timeout=COMMAND_TIMEOUT)
        shown = PYTEST_TIME.sub(" in Ns", "\n".join(command.output))
        printed = PYTEST_TIME.sub(" in Ns", result.stdout.rstrip("\n"))
        if "..." in command.output:
            assert shows(printed.splitlines(), shown.splitlines()), \
                f"README.md:{transcript.line}: $ {command.text}\n--- printed:\n{printed}\n--- shown:\n{shown}"
        else:
            assert printed == shown, f"README.md:{transcript.line}: $ {command.text}"


def shows(printed: list[str], shown: list[str]) -> bool:
    """Whether ``printed`` is ``shown`` with each ``...`` line standing for
    any run of lines (the chunks between them appear in order, the first at
    the start, the last at the end)."""
    chunks: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    position = 0
    for index, chunk in enumerate(chunks):
        if index == 0:
            if printed[:len(chunk)] != chunk:
                return False
            position = len(chunk)
            continue
        last = index == len(chunks) - 1
        found = next((start for start in range(position, len(printed) - len(chunk) + 1)
                      if printed[start:start + len(chunk)] == chunk
                      and (not last or start + len(chunk) == len(printed))), None)
        if found is None:
            return False
        position = found + len(chunk)
    return True


def test_the_readme_shows_the_example_scenario_as_it_is() -> None:
    """The README's excerpt of examples/proxy/auth.scenario.yaml: its lines,
    but for the one saying what it leaves out, are the file's, in order."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("```yaml\nplugins:\n  - name: auth\n", 1)[1].split("```", 1)[0].splitlines()
    lines = iter((REPOSITORY / "examples" / "proxy" / "auth.scenario.yaml").read_text(encoding="utf-8").splitlines())
    shown = [line for line in excerpt if not line.strip().startswith("# ...")]
    assert shown and all(any(line == candidate for candidate in lines) for line in shown)
