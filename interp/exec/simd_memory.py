"""The vector memory instructions (spec 4.4.7, the ``v128.load*`` and
``v128.store*`` forms), one function per instruction.

``v128.<name>`` is the function ``<name>`` here.  Each takes the memory's
bytes and the effective address (the operand plus the static offset, not
wrapped: an address past the end traps however large it is), then, for the
lane forms, the vector operand and the lane index.  A load returns the new
vector; a store returns nothing.  An access that does not fit in the memory
traps with "out of bounds memory access" before anything is written.

What a load does with the bytes it reads is the instruction of the matching
shape: ``load8x8_s`` is eight bytes extended like ``i16x8.extend_low_i8x16_s``,
``load32_splat`` is ``i32x4.splat`` of four bytes, ``load16_lane`` is
``i16x8.replace_lane``, so those rules exist once.
"""

from __future__ import annotations

from typing import Callable

from interp.errors import Trap, TrapKind
from interp.exec import lanes

_from_bytes = int.from_bytes


def _read(memory: bytearray, address: int, width: int) -> int:
    end = address + width
    if end > len(memory):
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
    return _from_bytes(memory[address:end], "little")


def _write(memory: bytearray, address: int, width: int, value: int) -> None:
    end = address + width
    if end > len(memory):
        raise Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
    memory[address:end] = value.to_bytes(width, "little")


def load(memory: bytearray, address: int) -> int:
    return _read(memory, address, 16)


def store(memory: bytearray, address: int, value: int) -> None:
    _write(memory, address, 16, value)


Load = Callable[[bytearray, int], int]


def _extending_load(source: lanes.Shape, target: lanes.Shape, signed: bool) -> Load:
    """Eight bytes read as half a vector of ``source`` lanes, each extended
    to a ``target`` lane."""
    extend = lanes.extend(source, target, signed=signed, high=False)

    def load_extended(memory: bytearray, address: int) -> int:
        return extend(_read(memory, address, 8))
    return load_extended


load8x8_s = _extending_load(lanes.I8X16, lanes.I16X8, signed=True)
load8x8_u = _extending_load(lanes.I8X16, lanes.I16X8, signed=False)
load16x4_s = _extending_load(lanes.I16X8, lanes.I32X4, signed=True)
load16x4_u = _extending_load(lanes.I16X8, lanes.I32X4, signed=False)
load32x2_s = _extending_load(lanes.I32X4, lanes.I64X2, signed=True)
load32x2_u = _extending_load(lanes.I32X4, lanes.I64X2, signed=False)


def _splatting_load(shape: lanes.Shape) -> Load:
    """One lane's bytes, repeated in every lane."""
    width, replicator = shape.bits // 8, shape.replicator

    def load_splat(memory: bytearray, address: int) -> int:
        return _read(memory, address, width) * replicator
    return load_splat


load8_splat = _splatting_load(lanes.I8X16)
load16_splat = _splatting_load(lanes.I16X8)
load32_splat = _splatting_load(lanes.I32X4)
load64_splat = _splatting_load(lanes.I64X2)


def load32_zero(memory: bytearray, address: int) -> int:
    """Four bytes into lane 0 of an i32x4, the other lanes zero."""
    return _read(memory, address, 4)


def load64_zero(memory: bytearray, address: int) -> int:
    return _read(memory, address, 8)


LaneLoad = Callable[[bytearray, int, int, int], int]
LaneStore = Callable[[bytearray, int, int, int], None]


def _lane_load(shape: lanes.Shape) -> LaneLoad:
    """One lane's bytes replacing lane ``lane`` of the vector operand."""
    width, replace = shape.bits // 8, lanes.replace_lane(shape)

    def load_lane(memory: bytearray, address: int, vector: int, lane: int) -> int:
        return replace(vector, _read(memory, address, width), lane)
    return load_lane


def _lane_store(shape: lanes.Shape) -> LaneStore:
    """Lane ``lane`` of the vector operand written to memory."""
    width, extract = shape.bits // 8, lanes.extract_lane(shape)

    def store_lane(memory: bytearray, address: int, vector: int, lane: int) -> None:
        _write(memory, address, width, extract(vector, lane))  # type: ignore[arg-type]
    return store_lane


load8_lane = _lane_load(lanes.I8X16)
load16_lane = _lane_load(lanes.I16X8)
load32_lane = _lane_load(lanes.I32X4)
load64_lane = _lane_load(lanes.I64X2)
store8_lane = _lane_store(lanes.I8X16)
store16_lane = _lane_store(lanes.I16X8)
store32_lane = _lane_store(lanes.I32X4)
store64_lane = _lane_store(lanes.I64X2)
