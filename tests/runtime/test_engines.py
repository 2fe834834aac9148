"""The engine interface: both machines are ``Engine``s, and say how deep
their call stack is, which is 0 between calls from Python."""

from __future__ import annotations

import pytest

from interp.exec.engines import Engine, available_engines
from interp.exec.store import EngineConfig, Store
from interp.loader import module_from_bytes
from interp.runtime.function import HostFunction
from interp.syntax.types import I32, FuncType

CALLS_OUT = """(module
  (import "host" "depth" (func $depth (result i32)))
  (func $inner (result i32) (call $depth))
  (func (export "outer") (result i32) (call $inner)))"""


@pytest.mark.parametrize("engine", available_engines())
def test_every_engine_is_an_engine(engine: str) -> None:
    store = Store(EngineConfig(engine=engine))
    assert isinstance(store.machine, Engine)
    assert isinstance(store.stepper, Engine)


@pytest.mark.parametrize("engine", available_engines())
def test_call_depth_counts_the_frames_of_a_running_call(engine: str) -> None:
    store = Store(EngineConfig(engine=engine))
    seen: list[int] = []

    def depth() -> int:
        seen.append(store.machine.call_depth)
        return len(seen)

    host = HostFunction(FuncType((), (I32,)), depth)
    instance = store.instantiate(module_from_bytes(CALLS_OUT.encode()), {"host": {"depth": host}})
    assert instance.invoke("outer") == [1]
    assert seen == [2] and store.machine.call_depth == 0
