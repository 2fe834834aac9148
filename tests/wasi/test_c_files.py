"""Real C programs built with wasi-libc using the filesystem
(``programs/files.c``) and trying every way out of it (``programs/escape.c``),
run by ``glasswasm run --dir``: what they print, what is left on the host,
and that nothing outside the preopened directory is touched."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interp.cli.main import main
from tests.wasi.conftest import PROGRAMS_FOLDER

pytestmark = pytest.mark.skipif(os.name != "posix", reason="preopened directories need a POSIX host")

FILES = PROGRAMS_FOLDER / "files.wasm"
ESCAPE = PROGRAMS_FOLDER / "escape.wasm"
HELLO = PROGRAMS_FOLDER / "hello_wasi.wasm"

FILES_OUTPUT = [
    'mkdir /sandbox/work: ok',
    'mkdir again: File exists',
    'read /sandbox/work/notes.txt: "first line',
    'appended',
    '"',
    'seek end: 20',
    'seek set 6: 6',
    'read at 6: line, now at 10',
    'pread at 11: appe, still at 10',
    'seek before start: -1 (Invalid argument)',
    'read /sandbox/work/notes.txt: "FIRST line"',
    'stat /sandbox/work/notes.txt: file, 10 bytes, 1 links, mtime 1704067200.000000000',
    'stat /sandbox/given.txt: file, 6 bytes, 1 links, mtime 1704067200.000000000',
    'stat /sandbox/work: directory, mtime 1704067200.000000000',
    'clock: 1704067200.000000000',
    'stat /sandbox/given.txt: file, 11 bytes, 1 links, mtime 1704067200.000001000',
    'utimensat: ok',
    'stat /sandbox/given.txt: file, 11 bytes, 1 links, mtime 1234567890.000000500',
    'rename: ok',
    'link: ok',
    'stat /sandbox/work/hard.txt: file, 10 bytes, 2 links, mtime 1704067200.000000000',
    'symlink: ok',
    'readlink: renamed.txt',
    'read /sandbox/work/soft.txt: "FIRST line"',
    'stat /sandbox/work/soft.txt: symlink, 11 bytes, 1 links, mtime 1704067200.000000000',
    'mkdir sub: ok',
    'list /sandbox/work: ./ ../ hard.txt renamed.txt soft.txt@ sub/',
    'rmdir non-empty: Directory not empty',
    'unlink a directory: Is a directory',
    'rmdir a file: Not a directory',
    'open missing: No such file or directory',
    'open a file as a directory: Not a directory',
    'exclusive create of an existing file: File exists',
    'write to a directory: Is a directory',
    'unlink soft: ok',
    'unlink hard: ok',
    'rmdir sub: ok',
    'list /sandbox/work: ./ ../ renamed.txt',
    'rename into place: ok',
    'rmdir work: ok',
    'list /sandbox: ./ ../ given.txt kept.txt',
    'stdout is a character device',
    'stdin: 10 bytes',
]

ESCAPE_OUTPUT = [
    'inside: ok, read "inside"',
    'dot-dot inside: ok, read "inside"',
    "dot-dot out: EPERM",
    "deeper dot-dot out: EPERM",
    "dot-dot: EPERM",
    "absolute: EPERM",
    "absolute into the sandbox: EPERM",
    'link inside: ok, read "inside"',
    'link inside through a directory: ok, read "inside"',
    "link out: EPERM",
    "absolute link: EPERM",
    "link out from a directory: EPERM",
    "through a link to the parent: EPERM",
    "link not followed: ELOOP",
    "link loop: ELOOP",
    "open sub: ok",
    "sub is a root of its own: EPERM",
    "symlink to an absolute path: EPERM",
    "symlink pointing out: ok",
    "the link made: EPERM",
    'readlink made_out: ok "../outside.txt"',
    "rename out: EPERM",
    "rename in: EPERM",
    "hard link out: EPERM",
    "mkdir out: EPERM",
    "unlink out: EPERM",
    "unlink through a link: EPERM",
    "rmdir out: EPERM",
    "stat out: EPERM",
    "stat through a link: EPERM",
    "stat the link itself: ok",
    "create through a link: EPERM",
]


def run_with_stdin(capsysbinary, monkeypatch, data: bytes, *args: object) -> tuple[int, bytes, bytes]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status = main([str(a) for a in args])
    captured = capsysbinary.readouterr()
    return status, captured.out, captured.err


def make_sandbox(root: Path) -> Path:
    sandbox = root / "sandbox"
    sandbox.mkdir()
    (sandbox / "given.txt").write_bytes(b"given\n")
    return sandbox


def test_a_c_program_uses_files_under_a_preopened_directory(capsysbinary, monkeypatch, tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    status, out, err = run_with_stdin(capsysbinary, monkeypatch, b"some input", "run",
                                      "--dir", f"{sandbox}::/sandbox", FILES)
    assert (status, err) == (0, b"")
    assert out.decode().splitlines() == FILES_OUTPUT
    assert sorted(path.name for path in sandbox.iterdir()) == ["given.txt", "kept.txt"]
    assert (sandbox / "given.txt").read_bytes() == b"given\nmore\n"
    assert (sandbox / "kept.txt").read_bytes() == b"FIRST line"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sandbox"]


def test_the_same_files_give_the_same_output(capsysbinary, monkeypatch, tmp_path: Path) -> None:
    outputs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        sandbox = make_sandbox(tmp_path / name)
        os.utime(sandbox / "given.txt", ns=(123, 456 if name == "first" else 789))  # host times do not show
        outputs.append(run_with_stdin(capsysbinary, monkeypatch, b"", "run", "--dir", f"{sandbox}::/sandbox",
                                      FILES))
    assert outputs[0] == outputs[1]


@pytest.fixture
def escape_sandbox(tmp_path: Path) -> Path:
    sandbox = tmp_path / "sandbox"
    (sandbox / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_bytes(b"secret")
    (sandbox / "inside.txt").write_bytes(b"inside")
    for link, target in [("link_in", "inside.txt"), ("sub/link_ok", "../inside.txt"), ("link_out", "../outside.txt"),
                         ("link_abs", str(tmp_path / "outside.txt")), ("sub/link_up", "../../outside.txt"),
                         ("parent", ".."), ("loop", "loop"), ("dangling", "../created_outside.txt")]:
        os.symlink(target, sandbox / link)
    return sandbox


def test_no_way_out_of_the_preopened_directory(capsysbinary, monkeypatch, escape_sandbox: Path) -> None:
    outside = escape_sandbox.parent
    before = sorted(str(path.relative_to(outside)) for path in outside.rglob("*"))
    status, out, err = run_with_stdin(capsysbinary, monkeypatch, b"", "run", "--dir",
                                      f"{escape_sandbox}::/sandbox", ESCAPE)
    assert (status, err) == (0, b"")
    assert out.decode().splitlines() == ESCAPE_OUTPUT
    after = sorted(str(path.relative_to(outside)) for path in outside.rglob("*"))
    assert after == sorted(before + ["sandbox/made_out"])  # the one link it may make, pointing nowhere it can go
    assert (outside / "outside.txt").read_bytes() == b"secret"
    assert (escape_sandbox / "inside.txt").read_bytes() == b"inside"


def test_standard_input_reaches_the_guest_through_a_pipe() -> None:
    completed = subprocess.run([sys.executable, "-m", "interp", "run", str(HELLO)], input=b"piped in",
                               capture_output=True, timeout=60)
    assert completed.returncode == 0
    assert b"\nstdin=8:piped in\n" in completed.stdout


def test_a_guest_that_never_reads_does_not_wait_for_standard_input(tmp_path: Path) -> None:
    module = tmp_path / "quiet.wat"
    module.write_text('(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'
                      ' (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 4))))')
    with subprocess.Popen([sys.executable, "-m", "interp", "run", str(module)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        # Standard input stays open and empty: a host reading it up front would wait for ever.
        status = process.wait(timeout=60)
        assert process.stdin is not None
        process.stdin.close()
    assert status == 4


def test_dir_errors_are_one_line(capsys, tmp_path: Path) -> None:
    status = main(["run", "--dir", str(tmp_path / "missing"), str(HELLO)])
    assert status == 1
    assert capsys.readouterr().err == f"error: cannot preopen {tmp_path / 'missing'}: No such file or directory\n"
    plain = tmp_path / "plain.wat"
    plain.write_text('(module (func (export "f")))')
    assert main(["run", "--dir", str(tmp_path), "--invoke", "f", str(plain)]) == 1
    assert capsys.readouterr().err == f"error: --dir is for WASI modules, and {plain} imports no WASI\n"
    assert main(["run", "--dir", "::x", str(HELLO)]) == 1
    assert capsys.readouterr().err == "error: --dir expects HOST or HOST::GUEST, got '::x'\n"


def test_the_debugger_keeps_standard_input_for_its_commands() -> None:
    completed = subprocess.run([sys.executable, "-m", "interp", "debug", str(HELLO)], input=b"continue\nquit\n",
                               capture_output=True, timeout=120)
    assert completed.returncode == 0
    assert b"\nstdin=0:\n" in completed.stdout  # the guest read nothing of it
    assert completed.stdout.endswith(b"(glasswasm) quit\n")  # the debugger read both commands
