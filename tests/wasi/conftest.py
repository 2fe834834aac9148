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
from interp.wasi import WasiConfig, WasiProcess

try:
    from interp.exec.engines import available_engines

    ENGINES: tuple[str | None, ...] = available_engines()
except ImportError:  # an engine-less tree: the store's one machine
    ENGINES = (None,)

WAT_FOLDER = Path(__file__).parent / "wat"
PROGRAMS_FOLDER = Path(__file__).parent / "programs"


def wat_source(name: str, module_name: str = "wasi_snapshot_preview1") -> bytes:
    text = (WAT_FOLDER / name).read_text()
    return text.replace('"wasi_snapshot_preview1"', f'"{module_name}"').encode()


class Guest:
    """A process and an instance of ``calls.wat``: ``call(name, *args)`` runs
    one WASI function from wasm and returns its errno."""

    def __init__(self, config: WasiConfig | None = None, module_name: str = "wasi_snapshot_preview1",
                 engine: str | None = None) -> None:
        self.process = WasiProcess(config)
        self.store = Store(EngineConfig(engine=engine)) if engine else Store()
        self.instance: ModuleInstance = self.store.instantiate(
            module_from_bytes(wat_source("calls.wat", module_name)), self.process.imports())
        memory = self.instance.memory
        if memory is None:
            raise AssertionError("calls.wat exports a memory")
        self.memory = memory.data

    def call(self, name: str, *args: int) -> int:
        results = self.instance.invoke(name, *args)
        return results[0] if results else -1

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

    def make(config: WasiConfig | None = None, module_name: str = "wasi_snapshot_preview1") -> Guest:
        return Guest(config, module_name, request.param)

    return make
