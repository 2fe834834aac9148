"""``glasswasm cache`` and ``--no-cache``: what the module cache holds, where;
clearing it; commands that compile modules use it unless told not to."""

from __future__ import annotations

from pathlib import Path

import pytest

from abi.testing import HostConfig, PluginConfig, ProxyHost
from interp.cli.cache import readable_size
from interp.cli.main import main
from interp.exec.engines import default_engine
from interp.loader import binary_from_bytes
from interp.translate.cache import CACHE_DIR_VARIABLE, NO_CACHE_VARIABLE, ModuleCache

FIB_TEXT = Path(__file__).resolve().parents[2] / "examples" / "fib.wat"
PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "c" / "header_rewrite.wasm"


@pytest.fixture(scope="module")
def fib_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/fib.wat as a binary: binary modules are what the cache keeps."""
    path = tmp_path_factory.mktemp("fib") / "fib.wasm"
    path.write_bytes(binary_from_bytes(FIB_TEXT.read_bytes()))
    return path


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(directory))
    return directory


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cache_shows_its_location_and_entries(capsys, cache_dir: Path, fib_binary: Path) -> None:
    assert run_cli(capsys, "cache") == (0, f"module cache: {cache_dir}\nno entries (the directory does not exist "
                                            f"yet)\n", "")
    assert run_cli(capsys, "run", "--invoke", "fib", fib_binary, "10")[:2] == (0, "55\n")
    (entry,) = ModuleCache(cache_dir).entries()
    functions = "1 encoded function" if default_engine() == "cython" else "0 encoded functions"
    assert run_cli(capsys, "cache") == (0, f"module cache: {cache_dir}\n1 entry, {readable_size(entry.size)}\n"
                                           f"  {entry.name[:16]}  {readable_size(entry.size):>9}  {functions}\n", "")


def test_cache_clear(capsys, cache_dir: Path, fib_binary: Path) -> None:
    run_cli(capsys, "run", "--invoke", "fib", fib_binary, "10")
    assert run_cli(capsys, "cache", "--clear") == (0, f"removed 1 entry from {cache_dir}\n", "")
    assert ModuleCache(cache_dir).entries() == []


def test_no_cache_writes_nothing(capsys, cache_dir: Path, fib_binary: Path) -> None:
    assert run_cli(capsys, "run", "--no-cache", "--invoke", "fib", fib_binary, "10")[:2] == (0, "55\n")
    assert not (cache_dir / "modules").exists()


def test_the_environment_turns_it_off(capsys, cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                     fib_binary: Path) -> None:
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    assert run_cli(capsys, "run", "--invoke", "fib", fib_binary, "10")[:2] == (0, "55\n")
    assert not (cache_dir / "modules").exists()
    assert run_cli(capsys, "cache")[1].startswith(f"module cache: {cache_dir} (off: {NO_CACHE_VARIABLE} is set)\n")


def test_an_unusable_cache_is_one_line(capsys, cache_dir: Path, fib_binary: Path) -> None:
    cache_dir.mkdir()
    (cache_dir / "key").write_bytes(b"k" * 32)
    (cache_dir / "key").chmod(0o644)
    status, out, err = run_cli(capsys, "cache")
    assert status == 1 and err.count("\n") == 1 and "unusable" in err and "other users" in err
    assert run_cli(capsys, "run", "--invoke", "fib", fib_binary, "10")[:2] == (0, "55\n")  # runs, uncached


def test_text_modules_are_not_cached(capsys, cache_dir: Path) -> None:
    """A .wat is compiled afresh each time, so that its errors point into the text."""
    assert run_cli(capsys, "run", "--invoke", "fib", FIB_TEXT, "10")[:2] == (0, "55\n")
    assert ModuleCache(cache_dir).entries() == []


def test_plugins_are_compiled_through_the_cache(cache_dir: Path) -> None:
    for module_cache in (False, True):
        host = ProxyHost(HostConfig(module_cache=module_cache))
        host.load_plugin(PluginConfig("rewrite", PLUGIN, configuration="x-added=hello"))
        assert (cache_dir / "modules").exists() is module_cache
