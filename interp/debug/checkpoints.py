"""Snapshots of a paused execution, for reverse execution.

The engine is deterministic, so going back to instruction ``p`` is: restore
the latest snapshot taken at or before ``p``, and run forward to ``p``.  A
snapshot holds what the guest can change — the frames of the invocation
(function, ``pc``, slots), every memory, table, global and segment of the
store's instances — but not the host's own state, so re-execution must never
run a host function again: the debugger takes a snapshot right after every
host call, and only ever re-executes from the latest snapshot before the
target.

Memory is copied whole; a memory that did not change since the previous
snapshot shares its copy.  ``CheckpointLog`` keeps the snapshots within a byte
budget by thinning the ordinary ones, and when even the ones taken after host
calls do not fit, it forgets the oldest: reverse execution then stops there
(its ``horizon``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from interp.errors import UsageError
from interp.exec.machine import Frame, HostFrame, Machine
from interp.runtime.instance import ModuleInstance

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FrameState:
    func: object
    bound: object
    regs: tuple
    pc: int
    return_slot: int

    def restore(self) -> Frame:
        frame = Frame(self.func, self.bound, list(self.regs), self.return_slot)  # type: ignore[arg-type]
        frame.pc = self.pc
        return frame


@dataclass(frozen=True)
class Snapshot:
    position: int                    # instructions executed when it was taken
    after_host_call: bool
    frames: tuple[FrameState, ...]   # the invocation's frames, outermost first
    memories: tuple[bytes, ...]      # in the order of ``StoreState.memories``
    tables: tuple[tuple, ...]
    globals: tuple[object, ...]
    elems: tuple[tuple[tuple, ...], ...]
    datas: tuple[tuple[bytes, ...], ...]
    finished: bool
    results: tuple

    @property
    def size(self) -> int:
        return sum(len(memory) for memory in self.memories)


class StoreState:
    """Takes and restores snapshots of one invocation on one store."""

    def __init__(self, machine: Machine, base: int, instances: list[ModuleInstance]) -> None:
        self.machine = machine
        self.base = base
        self.instances = instances

    def _unique(self, attribute: str) -> list:
        seen: dict[int, object] = {}
        for instance in self.instances:
            for item in getattr(instance, attribute):
                seen.setdefault(id(item), item)
        return list(seen.values())

    def take(self, position: int, after_host_call: bool, finished: bool, results: list,
             previous: Snapshot | None) -> Snapshot:
        frames = []
        for frame in self.machine.frames[self.base:]:
            if type(frame) is HostFrame:
                raise UsageError("cannot take a snapshot while a generator host function is running")
            frames.append(FrameState(frame.func, frame.bound, tuple(frame.regs), frame.pc, frame.return_slot))
        memories = []
        for index, memory in enumerate(self._unique("memories")):
            data = bytes(memory.data)
            if previous is not None and index < len(previous.memories) and previous.memories[index] == data:
                data = previous.memories[index]  # unchanged: share the copy
            memories.append(data)
        return Snapshot(
            position=position,
            after_host_call=after_host_call,
            frames=tuple(frames),
            memories=tuple(memories),
            tables=tuple(tuple(table.elements) for table in self._unique("tables")),
            globals=tuple(cell.value for cell in self._unique("globals")),
            elems=tuple(tuple(tuple(segment) for segment in instance.elems) for instance in self.instances),
            datas=tuple(tuple(instance.datas) for instance in self.instances),
            finished=finished,
            results=tuple(results),
        )

    def restore(self, snapshot: Snapshot) -> None:
        frames = self.machine.frames
        del frames[self.base:]
        frames.extend(state.restore() for state in snapshot.frames)
        for memory, data in zip(self._unique("memories"), snapshot.memories):
            memory.data[:] = data  # in place: compiled code holds on to the bytearray
        for table, elements in zip(self._unique("tables"), snapshot.tables):
            table.elements[:] = elements
        for cell, value in zip(self._unique("globals"), snapshot.globals):
            cell.value = value
        for instance, elems, datas in zip(self.instances, snapshot.elems, snapshot.datas):
            instance.elems[:] = [list(segment) for segment in elems]
            instance.datas[:] = list(datas)


class CheckpointLog:
    """Snapshots by position, within a byte budget."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self.snapshots: list[Snapshot] = []

    @property
    def horizon(self) -> int:
        """The earliest position reverse execution can reach."""
        return self.snapshots[0].position if self.snapshots else 0

    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def add(self, snapshot: Snapshot) -> None:
        positions = [s.position for s in self.snapshots]
        index = bisect.bisect_right(positions, snapshot.position)
        if index and self.snapshots[index - 1].position == snapshot.position:
            self.snapshots[index - 1] = snapshot
        else:
            self.snapshots.insert(index, snapshot)
        self._fit()

    def at_or_before(self, position: int) -> Snapshot | None:
        positions = [s.position for s in self.snapshots]
        index = bisect.bisect_right(positions, position)
        return self.snapshots[index - 1] if index else None

    def after(self, position: int) -> Snapshot | None:
        positions = [s.position for s in self.snapshots]
        index = bisect.bisect_right(positions, position)
        return self.snapshots[index] if index < len(self.snapshots) else None

    def forget_after(self, position: int) -> None:
        """Drop snapshots beyond ``position`` (history is being rewritten)."""
        self.snapshots = [s for s in self.snapshots if s.position <= position]

    def _size(self) -> int:
        distinct: dict[int, int] = {}
        for snapshot in self.snapshots:
            for memory in snapshot.memories:
                distinct[id(memory)] = len(memory)
        return sum(distinct.values())

    def _fit(self) -> None:
        """Over budget: drop the ordinary snapshot whose neighbours are
        closest (keeping the rest evenly spread), else the oldest."""
        snapshots = self.snapshots
        while self._size() > self.budget and len(snapshots) > 2:
            ordinary = [i for i in range(1, len(snapshots) - 1) if not snapshots[i].after_host_call]
            if ordinary:
                del snapshots[min(ordinary, key=lambda i: snapshots[i + 1].position - snapshots[i - 1].position)]
            else:
                del snapshots[0]
