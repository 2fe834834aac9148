"""Decoding and validating a large module (a 3.1 MB Go-built module, see
programs/go/), against pywasm decoding the same bytes (it does not validate);
and compiling it, which validates every body in the decoder's pass (what
instantiating it needs first): with the native body check (the bodies it
accepts are neither decoded nor validated in Python), and without it.

Two measurements: as installed (with the compiled loop, the decoder's and
validator's hot modules are compiled too, see setup.py), and pure Python (the
same code from its .py files, in a subprocess that does not load compiled
modules of glasswasm)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interp.binary.decode import decode_module
from interp.translate import compiled as compiled_module
from interp.translate.compiled import compile_binary
from interp.valid.module import validate_module

from .conftest import LARGE_MODULE

REPOSITORY = Path(__file__).resolve().parents[1]

# Runs in a subprocess: glasswasm's own folders are imported from .py files only.
_PURE_PYTHON_TIMING = """
import gzip, importlib.machinery, json, sys, time
root = sys.argv[1]
def pure_finder(path):
    if not path.startswith(root):
        raise ImportError(path)
    return importlib.machinery.FileFinder(path, (importlib.machinery.SourceFileLoader, [".py"]))
sys.path_hooks.insert(0, pure_finder)
sys.path_importer_cache.clear()
sys.path.insert(0, root)
from interp.binary.decode import decode_module
from interp.valid.module import validate_module
import interp.binary.decode, interp.valid.function
assert interp.binary.decode.__file__.endswith(".py") and interp.valid.function.__file__.endswith(".py")
data = gzip.decompress(open(sys.argv[2], "rb").read())
best = float("inf")
for _ in range(int(sys.argv[3])):
    start = time.process_time()
    validate_module(decode_module(data))
    best = min(best, time.process_time() - start)
print(json.dumps(best))
"""


def pure_python_seconds(rounds: int) -> float:
    completed = subprocess.run([sys.executable, "-c", _PURE_PYTHON_TIMING, str(REPOSITORY), str(LARGE_MODULE),
                                str(rounds)], capture_output=True, text=True, timeout=600, check=True)
    return json.loads(completed.stdout)


def test_decode_and_validate_large_module(benchmark, pywasm_peer, large_module: bytes) -> None:
    def decode_and_validate() -> object:
        return validate_module(decode_module(large_module))

    context = benchmark.pedantic(decode_and_validate, rounds=3, iterations=1)
    assert len(context.funcs) > 1000
    benchmark.extra_info["module_bytes"] = len(large_module)
    benchmark.extra_info["compiled_modules"] = not decode_module.__module__ or \
        not sys.modules[decode_module.__module__].__file__.endswith(".py")
    if benchmark.stats is not None:
        pure = pure_python_seconds(rounds=3)
        benchmark.extra_info["pure_python_seconds"] = round(pure, 3)
        peer = pywasm_peer.decode_time(large_module)
        if peer is not None:
            benchmark.extra_info["pywasm_decode_seconds"] = round(peer, 3)
            benchmark.extra_info["fraction_of_pywasm_decode"] = round(benchmark.stats.stats.mean / peer, 3)
            benchmark.extra_info["pure_python_fraction_of_pywasm_decode"] = round(pure / peer, 3)


@pytest.mark.parametrize("native", [True, False], ids=["native body check", "python bodies"])
def test_compile_large_module(benchmark, large_module: bytes, monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """``compile_binary``: decoding and validating in one pass, each body
    dropped once validated (functions are lowered when they first run); with
    the native body check when it is built, and with every body decoded and
    validated in Python."""
    if native and compiled_module.BodyChecker is None:
        pytest.skip("the native body check is not built")
    if not native:
        monkeypatch.setattr(compiled_module, "BodyChecker", None)
    compiled = benchmark.pedantic(compile_binary, (large_module,), rounds=3, iterations=1)
    assert len(compiled.module.funcs) > 1000 and compiled.lowered_count == 0
