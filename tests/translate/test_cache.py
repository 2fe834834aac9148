"""The module cache: a warm start skips decoding and validating the bodies and
encoding what ran before; an entry that is corrupt, truncated, tampered with,
signed with another key, stale or of another module is never trusted; a key
other users could read makes the cache unusable; concurrent writers leave a
whole entry."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

from interp.binary.encode import encode_module
from interp.exec import engines
from interp.exec.native import encode
from interp.exec.store import EngineConfig, Store
from interp.loader import binary_from_bytes
from interp.translate import cache as cache_module
from interp.translate.compiled import _BodyValidation, compile_binary
from interp.translate.cache import (
    CACHE_DIR_VARIABLE,
    NO_CACHE_VARIABLE,
    CacheEntry,
    CacheUnusable,
    ModuleCache,
    default_cache,
    use_cache,
)
from interp.valid.function import FunctionValidator

FIB = b"""(module
  (global $calls (mut i32) (i32.const 0))
  (func $fib (export "fib") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "calls") (result i32) (global.get $calls))
  (func (export "never_runs") (result i32) (i32.const 7)))"""

ENGINES = engines.available_engines()
needs_compiled_loop = pytest.mark.skipif("cython" not in ENGINES, reason="the compiled loop is not built")


@pytest.fixture
def binary() -> bytes:
    return binary_from_bytes(FIB)


NEVER_RUNS = 2
"""The index of the function ``never_runs``: validated only when the whole
module is."""


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> set[int | None]:
    """The functions the validator was stepped through (``None``: constant
    expressions), or that the native body check found valid; clear it to
    start counting again."""
    seen: set[int | None] = set()
    step = FunctionValidator.step
    accepts = _BodyValidation.accepts

    def recording(self: FunctionValidator, instr: object) -> None:
        seen.add(self.func_index)
        step(self, instr)

    def recording_native(self: _BodyValidation, position: int, *body: object) -> bool:
        accepted = accepts(self, position, *body)  # type: ignore[arg-type]
        if accepted:
            seen.add(self.first_defined + position)
        return accepted

    monkeypatch.setattr(FunctionValidator, "step", recording)
    monkeypatch.setattr(_BodyValidation, "accepts", recording_native)
    return seen


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts functions the compiled loop encodes (``[0]``)."""
    counted = [0]
    encode_function = encode.encode_function

    def counting(*args: object) -> encode.EncodedFunction:
        counted[0] += 1
        return encode_function(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(encode, "encode_function", counting)
    return counted


def run_fib(cache: ModuleCache, binary: bytes, engine: str = "auto") -> list:
    compiled = cache.compile(binary)
    instance = Store(EngineConfig(engine=engine)).instantiate(compiled)
    results = instance.invoke("fib", 10) + instance.invoke("calls")
    written = compiled.code_store
    assert isinstance(written, CacheEntry)
    written.flush()  # as when the module is let go, or at exit
    return results


def entry_file(cache: ModuleCache, binary: bytes) -> Path:
    return cache.entry_path(cache.entry_name(binary))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_warm_start_validates_nothing_up_front(tmp_path: Path, binary: bytes, validated: set[int | None],
                                                 engine: str) -> None:
    assert run_fib(ModuleCache(tmp_path), binary, engine) == [55, 177]
    assert NEVER_RUNS in validated
    validated.clear()
    assert run_fib(ModuleCache(tmp_path), binary, engine) == [55, 177]
    assert validated == set()  # what runs is lowered without typing it again (or was encoded before)


@needs_compiled_loop
def test_the_compiled_loop_reuses_the_encoded_functions(tmp_path: Path, binary: bytes,
                                                        encodings: list[int]) -> None:
    assert run_fib(ModuleCache(tmp_path), binary, "cython") == [55, 177]
    assert encodings[0] == 2  # fib and calls, not never_runs
    assert run_fib(ModuleCache(tmp_path), binary, "cython") == [55, 177]
    assert encodings[0] == 2
    listed = ModuleCache(tmp_path).entries()
    assert [(entry.records, entry.current) for entry in listed] == [(2, True)]


def test_one_process_compiles_a_module_once(tmp_path: Path, binary: bytes, validated: set[int | None]) -> None:
    cache = ModuleCache(tmp_path)
    assert cache.compile(binary) is cache.compile(binary)


def test_the_key_and_the_directory_are_the_users_alone(tmp_path: Path, binary: bytes) -> None:
    directory = tmp_path / "cache"
    run_fib(ModuleCache(directory), binary)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "key").stat().st_mode) == 0o600
    assert len((directory / "key").read_bytes()) == 32
    assert stat.S_IMODE(entry_file(ModuleCache(directory), binary).stat().st_mode) == 0o600


def damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[:len(data) // 2]
    if how == "empty":
        return b""
    if how == "a flipped byte":
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]
    if how == "another magic":
        return b"x" + data[1:]
    raise ValueError(how)


@pytest.mark.parametrize("how", ["truncated", "empty", "a flipped byte", "another magic"])
def test_a_damaged_entry_is_ignored_and_replaced(tmp_path: Path, binary: bytes, validated: set[int | None], how: str) -> None:
    run_fib(ModuleCache(tmp_path), binary)
    path = entry_file(ModuleCache(tmp_path), binary)
    path.write_bytes(damaged(path.read_bytes(), how))
    validated.clear()
    cache = ModuleCache(tmp_path)
    assert run_fib(cache, binary) == [55, 177]
    assert NEVER_RUNS in validated  # validated afresh, as a whole
    assert [entry.records is not None for entry in cache.entries()] == [True]  # written anew


def test_an_entry_signed_with_another_key_is_not_trusted(tmp_path: Path, binary: bytes, validated: set[int | None]) -> None:
    """Tampering: whoever writes an entry without the user's key cannot make
    it verify, even with a well-formed entry of their own making."""
    elsewhere = tmp_path / "elsewhere"
    run_fib(ModuleCache(elsewhere), binary)
    mine = tmp_path / "mine"
    ModuleCache(mine).key()
    forged = entry_file(ModuleCache(mine), binary)
    forged.parent.mkdir(parents=True)
    forged.write_bytes(entry_file(ModuleCache(elsewhere), binary).read_bytes())
    validated.clear()
    assert run_fib(ModuleCache(mine), binary) == [55, 177]
    assert NEVER_RUNS in validated


def test_an_entry_of_another_module_is_not_used(tmp_path: Path, binary: bytes, validated: set[int | None]) -> None:
    other = binary_from_bytes(FIB.replace(b"(i32.const 7)", b"(i32.const 8)"))
    cache = ModuleCache(tmp_path)
    run_fib(cache, binary)
    entry_file(cache, binary).rename(_placed(entry_file(cache, other)))
    validated.clear()
    assert run_fib(ModuleCache(tmp_path), other) == [55, 177]
    assert NEVER_RUNS in validated


def _placed(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_stale_entry_is_not_used(tmp_path: Path, binary: bytes, validated: set[int | None],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version, instruction table or engine build gives another key."""
    run_fib(ModuleCache(tmp_path), binary)
    monkeypatch.setattr(cache_module, "build_fingerprint", lambda: "another build")
    validated.clear()
    cache = ModuleCache(tmp_path)
    assert run_fib(cache, binary) == [55, 177]
    assert NEVER_RUNS in validated
    monkeypatch.undo()
    assert sorted(entry.current for entry in cache.entries()) == [False, True]


def test_the_build_fingerprint_covers_the_instruction_table(monkeypatch: pytest.MonkeyPatch) -> None:
    table = cache_module.table_digest()
    assert len(table) == 64
    cache_module.build_fingerprint.cache_clear()
    first = cache_module.build_fingerprint()
    cache_module.table_digest.cache_clear()
    monkeypatch.setattr(cache_module, "OPS", cache_module.OPS[:-1])
    cache_module.build_fingerprint.cache_clear()
    try:
        assert cache_module.table_digest() != table and cache_module.build_fingerprint() != first
    finally:
        monkeypatch.undo()
        cache_module.table_digest.cache_clear()
        cache_module.build_fingerprint.cache_clear()
    assert cache_module.build_fingerprint() == first


@needs_compiled_loop
def test_a_signed_record_of_the_wrong_shape_is_encoded_again(tmp_path: Path, binary: bytes,
                                                             encodings: list[int]) -> None:
    """Records are checked for shape as they are read, signature or not."""
    cache = ModuleCache(tmp_path)
    compiled = cache.compile(binary)
    entry = compiled.code_store
    assert isinstance(entry, CacheEntry)
    first = compiled.num_imported_funcs
    entry.save(encode.ENGINE, first, b"\x01\x02\x03")
    entry.flush()
    assert run_fib(ModuleCache(tmp_path), binary, "cython") == [55, 177]
    assert encodings[0] == 2


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o604])
def test_a_key_others_can_read_or_write_makes_the_cache_unusable(tmp_path: Path, binary: bytes, mode: int) -> None:
    cache = ModuleCache(tmp_path)
    cache.key()
    (tmp_path / "key").chmod(mode)
    cache = ModuleCache(tmp_path)
    with pytest.raises(CacheUnusable, match="other users"):
        cache.key()
    assert cache.compile(binary).code_store is None  # compiled all the same, nothing written
    assert not (tmp_path / "modules").exists()


def test_a_key_that_is_no_key_makes_the_cache_unusable(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(b"short")
    (tmp_path / "key").chmod(0o600)
    with pytest.raises(CacheUnusable, match="not a cache key"):
        ModuleCache(tmp_path).key()
    (tmp_path / "key").unlink()
    (tmp_path / "key").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CacheUnusable):
        ModuleCache(tmp_path).key()


def test_concurrent_writers_leave_a_whole_entry(tmp_path: Path, binary: bytes) -> None:
    """Each writer writes a temporary file and renames it: a reader sees one
    whole entry or another, and records written by others are kept."""
    cache = ModuleCache(tmp_path)
    name = cache.entry_name(binary)
    failures: list[str] = []

    def writer(engine: str) -> None:
        entry = CacheEntry(ModuleCache(tmp_path), name)
        for index in range(20):
            entry.save(engine, index, os.urandom(4096))
            entry.flush()
            reader = CacheEntry(ModuleCache(tmp_path), name)
            if not reader.found:
                failures.append(f"{engine}: entry {index} did not verify")

    threads = [threading.Thread(target=writer, args=(f"engine{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    final = CacheEntry(ModuleCache(tmp_path), name)
    assert final.found and {engine for engine, _ in final.records} <= {f"engine{n}" for n in range(4)}
    assert len(final.records) >= 20
    assert [path.name for path in entry_file(cache, binary).parent.iterdir()] == [f"{name}.entry"]


def test_clear_removes_the_entries_and_keeps_the_key(tmp_path: Path, binary: bytes) -> None:
    cache = ModuleCache(tmp_path)
    run_fib(cache, binary)
    key = (tmp_path / "key").read_bytes()
    assert cache.clear() == 1
    assert cache.entries() == [] and (tmp_path / "key").read_bytes() == key


def test_the_environment_and_use_cache_turn_it_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    found = default_cache()
    assert found is not None and found.directory == tmp_path
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    assert default_cache() is None
    monkeypatch.setenv(NO_CACHE_VARIABLE, "0")
    assert default_cache() is not None
    use_cache(False)
    try:
        assert default_cache() is None
    finally:
        use_cache(True)


def test_the_default_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_DIR_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_module.default_directory() == tmp_path / "glasswasm"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_module.default_directory() == tmp_path / ".cache" / "glasswasm"


def test_the_test_suite_never_uses_the_users_cache() -> None:
    directory = cache_module.default_directory()
    assert os.environ[CACHE_DIR_VARIABLE] == str(directory)
    assert not directory.is_relative_to(Path.home() / ".cache")


def test_a_module_without_a_binary_form_compiles_as_ever(tmp_path: Path) -> None:
    """Only binaries go through the cache: a text module is encoded first."""
    binary = binary_from_bytes(FIB)
    assert binary == encode_module(ModuleCache(tmp_path).compile(binary).module)


@pytest.mark.parametrize("data", [b"", b"\x00" * 47, b"\xff" * 48, b"\x00" * 40 + b"\x01" + b"\x00" * 7])
def test_encoded_records_of_the_wrong_shape_are_refused(data: bytes) -> None:
    assert encode.deserialize(data) is None
    assert encode.deserialize(zlib.compress(data)) is None


@needs_compiled_loop
def test_an_encoded_function_keeps_its_words_through_its_record(binary: bytes) -> None:
    compiled = compile_binary(binary)
    lowered = compiled.lower(0)
    encoded = encode.encode_function(lowered, compiled.context, engines._compiled_loop().OPCODES)
    again = encode.deserialize(encode.serialize(encoded))
    assert again is not None and again.relocations  # fib calls itself and reads a global
    assert (again.code, again.side, again.offsets, again.relocations, again.num_locals, again.frame_size) == \
        (encoded.code, encoded.side, encoded.offsets, encoded.relocations, encoded.num_locals, encoded.frame_size)
    assert list(again.offsets) == list(lowered.offsets)


def test_an_entry_that_is_no_regular_file_is_not_read(tmp_path: Path, binary: bytes,
                                                       validated: set[int | None]) -> None:
    """A pipe would block a reader and a device never end: neither is opened
    for reading, nor is a link followed."""
    cache = ModuleCache(tmp_path)
    cache.key()
    path = _placed(entry_file(cache, binary))
    os.mkfifo(path)
    assert run_fib(ModuleCache(tmp_path), binary) == [55, 177]  # no hang; the pipe is replaced
    assert NEVER_RUNS in validated
    path.unlink()
    path.symlink_to("/dev/zero")
    validated.clear()
    assert run_fib(ModuleCache(tmp_path), binary) == [55, 177]
    assert NEVER_RUNS in validated


def test_a_cache_that_cannot_be_made_is_no_cache(tmp_path: Path, binary: bytes) -> None:
    (tmp_path / "file").write_text("not a directory")
    cache = ModuleCache(tmp_path / "file" / "cache")
    compiled = cache.compile(binary)
    assert compiled.code_store is None
    assert Store().instantiate(compiled).invoke("fib", 10) == [55]


def test_without_a_home_there_is_no_default_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_VARIABLE)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    assert default_cache() is None


def test_the_readme_example_runs_as_shown(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    repository = Path(__file__).resolve().parents[2]
    section = (repository / "README.md").read_text().split("### The module cache", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(repository)
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out == "[6765]\n"
    assert len(ModuleCache(tmp_path).entries()) == 1


_WRITER = """
import sys
from interp.exec.store import Store
from interp.loader import binary_from_bytes
from interp.translate.cache import ModuleCache
binary = binary_from_bytes(sys.stdin.buffer.read())
for round in range(5):
    cache = ModuleCache(sys.argv[1])
    compiled = cache.compile(binary)
    if Store().instantiate(compiled).invoke("fib", 10) != [55]:
        sys.exit("fib(10) is not 55")
    compiled.code_store.flush()
    if round == 2 and sys.argv[2] == "0":
        cache.clear()
"""


def test_concurrent_processes_leave_a_whole_entry(tmp_path: Path, binary: bytes) -> None:
    """Several processes compile, run and write the same module's entry at
    once (one also clears the cache meanwhile): every one runs, and what is
    left verifies."""
    repository = Path(__file__).resolve().parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(number)], cwd=repository,
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE) for number in range(3)]
    for writer in writers:
        _, errors = writer.communicate(FIB, timeout=120)
        assert writer.returncode == 0, errors.decode()
    cache = ModuleCache(tmp_path)
    assert [entry.records is not None for entry in cache.entries()] in ([True], [])
    assert not [path for path in (tmp_path / "modules").rglob(".tmp-*")]
