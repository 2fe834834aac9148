"""Several memories, 32- and 64-bit, of 64 KiB or one-byte pages: every
load and store, bulk operation and size change behaves the same on the step
machine's closures, its compiled blocks and the compiled loop, and as the
spec says: an access is in bounds exactly when its effective address (the
operand plus the static offset, never wrapped) plus its width is within the
memory, whatever 64-bit values the address and the offset take."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from interp.errors import Trap
from interp.exec.blocks import HOT_CALLS
from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig, Store
from interp.text import parse_module

MASK64 = (1 << 64) - 1
SMALL = 100  # bytes of memory $tiny (one-byte pages)

MEMORIES = {"$m32": (64 * 1024, "i32"), "$m64": (64 * 1024, "i64"), "$tiny": (SMALL, "i32")}
ACCESSES = [("i32.load", 4), ("i64.load8_s", 1), ("f64.load", 8), ("i64.load32_u", 4), ("v128.load", 16)]
OFFSETS = {"i32": [0, 1, 65532, 0xFFFF_FFFF], "i64": [0, 7, 65535, 2**32, 2**63, MASK64]}


def _functions() -> str:
    lines = []
    for memory, (_, address) in MEMORIES.items():
        for op, width in ACCESSES:
            for offset in OFFSETS[address]:
                name = f"{memory[1:]} {op} {offset}"
                result = {"i32.load": "i32", "f64.load": "i64", "v128.load": "i64"}.get(op, "i64")
                value = f"({op} {memory} offset={offset} (local.get 0))"
                if op == "f64.load":
                    value = f"(i64.reinterpret_f64 {value})"
                if op == "v128.load":
                    value = f"(i64x2.extract_lane 1 {value})"
                lines.append(f'(func (export "{name}") (param {address}) (result {result}) {value})')
                lines.append(f'(func (export "store {name}") (param {address} i64) '
                             f'(i64.store8 {memory} offset={offset} (local.get 0) (local.get 1)))')
    return "\n".join(lines)


MODULE = f"""(module
  (memory $m32 1)
  (memory $m64 i64 1)
  (memory $tiny {SMALL} (pagesize 1))
  (data (memory $m32) (i32.const 65520) "0123456789abcdef")
  (data (memory $m64) (i64.const 65520) "0123456789abcdef")
  (data (memory $tiny) (i32.const 84) "0123456789abcdef")
  {_functions()}
  (func (export "fill64") (param i64 i32 i64) (memory.fill $m64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i32 i32) (memory.copy $m64 $tiny (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sizes") (result i32 i64 i32) (memory.size $m32) (memory.size $m64) (memory.size $tiny))
  (func (export "grow tiny") (param i32) (result i32) (memory.grow $tiny (local.get 0)))
  (func (export "grow m64") (param i64) (result i64) (memory.grow $m64 (local.get 0)))
)"""

RENDERINGS = [("python", 1), ("python", HOT_CALLS + 1)] + ([("cython", 1)] if "cython" in available_engines() else [])
"""The step machine's closures, its compiled blocks (from the HOT_CALLS+1-th
call), and the compiled loop."""


def outcome(engine: str, calls: int, export: str, *args: int) -> object:
    """The results (a tuple) of the ``calls``-th call, or the trap's message."""
    instance = Store(EngineConfig(engine=engine)).instantiate(parse_module(MODULE))
    try:
        for _ in range(calls):
            results = instance.invoke(export, *args)
    except Trap as trap:
        return trap.message
    return tuple(results)


def addresses(kind: str) -> st.SearchStrategy[int]:
    top = MASK64 if kind == "i64" else 0xFFFF_FFFF
    near_ends = [0, 1, SMALL - 16, SMALL - 1, 65520, 65528, 65535, 65536, top - 8, top]
    return st.one_of(st.sampled_from(near_ends), st.integers(0, top))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), memory=st.sampled_from(sorted(MEMORIES)), access=st.sampled_from(ACCESSES))
def test_loads_and_stores_are_in_bounds_exactly_when_the_spec_says(data, memory: str, access) -> None:  # type: ignore[no-untyped-def]
    size, kind = MEMORIES[memory]
    op, width = access
    offset = data.draw(st.sampled_from(OFFSETS[kind]))
    address = data.draw(addresses(kind))
    name = f"{memory[1:]} {op} {offset}"
    outcomes = {outcome(engine, calls, name, address) for engine, calls in RENDERINGS}
    assert len(outcomes) == 1, outcomes
    in_bounds = address + offset + width <= size
    assert (outcomes.pop() != "out of bounds memory access") == in_bounds
    stores = {outcome(engine, calls, f"store {name}", address, 0x5A) for engine, calls in RENDERINGS}
    assert stores == ({"out of bounds memory access"} if address + offset + 1 > size else {()})


@pytest.mark.parametrize("engine, calls", RENDERINGS)
def test_bulk_operations_check_64_bit_lengths_and_mixed_address_types(engine: str, calls: int) -> None:
    assert outcome(engine, calls, "fill64", 65535, 1, 1) == ()
    assert outcome(engine, calls, "fill64", 65535, 1, 2) == "out of bounds memory access"
    assert outcome(engine, calls, "fill64", 1, 1, MASK64) == "out of bounds memory access"
    assert outcome(engine, calls, "fill64", MASK64, 1, 1) == "out of bounds memory access"
    assert outcome(engine, calls, "copy", 65536 - 16, 84, 16) == ()
    assert outcome(engine, calls, "copy", 65536 - 16, 85, 16) == "out of bounds memory access"
    assert outcome(engine, calls, "copy", MASK64, 0, 0) == "out of bounds memory access"


@pytest.mark.parametrize("engine, calls", RENDERINGS)
def test_sizes_count_pages_of_each_memory(engine: str, calls: int) -> None:
    instance = Store(EngineConfig(engine=engine)).instantiate(parse_module(MODULE))
    for _ in range(calls):
        assert instance.invoke("sizes") == [1, 1, SMALL]
    assert instance.invoke("grow tiny", 28) == [SMALL]
    assert instance.invoke("sizes") == [1, 1, SMALL + 28]
    assert instance.invoke("grow m64", MASK64) == [MASK64]  # -1: far beyond any limit
    assert instance.invoke("grow m64", 1) == [1]
    assert instance.invoke("sizes") == [1, 2, SMALL + 28]
    assert instance.invoke("m64 i64.load8_s 65535", 65536) == [0]  # the new page reads as zeros


def test_a_grown_memory_is_seen_by_the_compiled_loop_after_python_grew_it() -> None:
    """Memories grown by Python code between calls (a host, the step machine
    of a debugger) are where the compiled loop reads them next."""
    store = Store()
    instance = store.instantiate(parse_module(MODULE))
    with pytest.raises(Trap, match="out of bounds"):
        instance.invoke("m32 i32.load 0", 65536)
    instance.memories[0].grow(1)
    instance.memories[0].data[65536:65540] = b"\x01\x02\x03\x04"
    assert instance.invoke("m32 i32.load 0", 65536) == [0x04030201]
