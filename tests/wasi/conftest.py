"""Fixtures for the WASI tests: a guest instance whose WASI functions can be
called one at a time (through ``wat/calls.wat``), with its memory at hand,
on every execution engine this installation has."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from interp.loader import module_from_bytes
from interp.runtime.instance import ModuleInstance
from interp.exec.store import EngineConfig, Store
from interp.wasi import PREVIEW1_SIGNATURES, UNSTABLE_SIGNATURES, WasiConfig, WasiProcess

try:
    from interp.exec.engines import available_engines

    ENGINES: tuple[str | None, ...] = available_engines()
except ImportError:  # an engine-less tree: the store's one machine
    ENGINES = (None,)

WAT_FOLDER = Path(__file__).parent / "wat"
PROGRAMS_FOLDER = Path(__file__).parent / "programs"


def wat_source(name: str, module_name: str = "wasi_snapshot_preview1") -> bytes:
    if name == EVERY_CALL:
        return every_call_wat(module_name).encode()
    text = (WAT_FOLDER / name).read_text()
    return text.replace('"wasi_snapshot_preview1"', f'"{module_name}"').encode()


EVERY_CALL = "every call"
"""A module generated from the signature table: every WASI function of one
module name imported and exported again under its own name."""


def every_call_wat(module_name: str) -> str:
    signatures = UNSTABLE_SIGNATURES if module_name == "wasi_unstable" else PREVIEW1_SIGNATURES
    imports, exports = [], []
    for name, func_type in signatures.items():
        params = " ".join(t.text for t in func_type.params)
        results = " ".join(t.text for t in func_type.results)
        signature = f"(param {params}) (result {results})".replace("(param ) ", "").replace(" (result )", "")
        arguments = " ".join(f"(local.get {i})" for i in range(len(func_type.params)))
        imports.append(f'  (import "{module_name}" "{name}" (func ${name} {signature}))')
        exports.append(f'  (func (export "{name}") {signature} (call ${name} {arguments}))')
    return "\n".join(["(module", *imports, *exports, '  (memory (export "memory") 1))'])


class Guest:
    """A process and an instance of ``calls.wat``: ``call(name, *args)`` runs
    one WASI function from wasm and returns its errno."""

    def __init__(self, config: WasiConfig | None = None, module_name: str = "wasi_snapshot_preview1",
                 engine: str | None = None, module: str = "calls.wat") -> None:
        self.process = WasiProcess(config)
        self.store = Store(EngineConfig(engine=engine)) if engine else Store()
        self.instance: ModuleInstance = self.store.instantiate(
            module_from_bytes(wat_source(module, module_name)), self.process.imports())
        memory = self.instance.memory
        if memory is None:
            raise AssertionError("calls.wat exports a memory")
        self.memory = memory.data

    def call(self, name: str, *args: int) -> int:
        results = self.instance.invoke(name, *args)
        return results[0] if results else -1

    def put_string(self, address: int, text: str) -> tuple[int, int]:
        """Write ``text`` (UTF-8) at ``address``: the pointer and length to pass."""
        data = text.encode()
        self.write(address, data)
        return address, len(data)

    def write(self, address: int, data: bytes) -> None:
        self.memory[address:address + len(data)] = data

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.memory[address:address + length])

    def u16(self, address: int) -> int:
        return struct.unpack_from("<H", self.memory, address)[0]

    def u32(self, address: int) -> int:
        return struct.unpack_from("<I", self.memory, address)[0]

    def u64(self, address: int) -> int:
        return struct.unpack_from("<Q", self.memory, address)[0]

    def put_u32s(self, address: int, *values: int) -> None:
        self.write(address, struct.pack(f"<{len(values)}I", *values))

    @property
    def size(self) -> int:
        return len(self.memory)


@pytest.fixture(params=ENGINES)
def make_guest(request: pytest.FixtureRequest) -> Callable[..., Guest]:
    """Guests on each execution engine: host functions see the calling
    instance through whichever machine runs it."""

    def make(config: WasiConfig | None = None, module_name: str = "wasi_snapshot_preview1",
             module: str = "calls.wat") -> Guest:
        guest = Guest(config, module_name, request.param, module)
        request.addfinalizer(guest.process.close)
        return guest

    return make
