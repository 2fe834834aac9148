"""Decoding and validating a large module (a 3.1 MB Go-built module, see
programs/go/), against pywasm decoding the same bytes (it does not validate)."""

from __future__ import annotations

from interp.binary.decode import decode_module
from interp.valid.module import validate_module


def test_decode_and_validate_large_module(benchmark, pywasm_peer, large_module: bytes) -> None:
    def decode_and_validate() -> object:
        return validate_module(decode_module(large_module))

    context = benchmark.pedantic(decode_and_validate, rounds=3, iterations=1)
    assert len(context.funcs) > 1000
    benchmark.extra_info["module_bytes"] = len(large_module)
    if benchmark.stats is not None:
        peer = pywasm_peer.decode_time(large_module)
        if peer is not None:
            benchmark.extra_info["pywasm_decode_seconds"] = round(peer, 3)
            benchmark.extra_info["fraction_of_pywasm_decode"] = round(benchmark.stats.stats.mean / peer, 3)
