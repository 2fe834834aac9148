"""Snapshots of a paused execution, for reverse execution.

The engine is deterministic, so going back to instruction ``p`` is: restore
the latest snapshot taken at or before ``p``, and run forward to ``p``.  A
snapshot holds what the guest can change — the frames of the invocation
(function, ``pc``, slots), the invocations running, every memory, table,
global and segment of the store's instances, and the fields of every struct
and array reachable from them — but not the host's own state,
so re-execution must never run host code again: the debugger takes a
snapshot right after every step that ran host code (a host call, a generator
host function resumed, a host function going on after guest code it called
back), only ever re-executes from the latest snapshot before the target, and
going forward through recorded history restores those snapshots instead of
running the host code.

Memory is copied whole; a memory that did not change since the previous
snapshot shares its copy.  ``CheckpointLog`` keeps the snapshots within a byte
budget by thinning the ordinary ones, and when even the ones taken after host
calls do not fit, it forgets the oldest: reverse execution then stops there
(its ``horizon``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

from interp.exec.machine import Frame, HostFrame, Invocation, Machine
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import GcArray, GcStruct

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class FrameState:
    """A wasm frame as it was: the frame object itself (one activation) and
    its slots and ``pc`` then.  Restoring writes them back into the same
    object, so whatever holds on to the frame (a host call waiting on its own
    thread, see session.py) finds it as it left it."""

    frame: Frame
    regs: tuple
    pc: int

    def restore(self) -> Frame:
        frame = self.frame
        frame.regs[:] = self.regs
        frame.pc = self.pc
        return frame


@dataclass(frozen=True)
class InvocationState:
    """An invocation still running then (the debugged call, or guest code a
    host function called back): it is made runnable again on restore."""

    invocation: Invocation

    def restore(self) -> Invocation:
        self.invocation.finished = False
        self.invocation.abandoned = False
        self.invocation.error = None
        return self.invocation


@dataclass(frozen=True)
class Snapshot:
    position: int                    # instructions executed when it was taken
    after_host_call: bool            # taken right after host code ran (never run again: restored instead)
    frames: tuple[FrameState | HostFrame, ...]  # the machine's frames from the session's base, outermost first
    invocations: tuple[InvocationState, ...]   # the running invocations from the debugged one on
    memories: tuple[bytes, ...]      # in the order of ``StoreState.memories``
    tables: tuple[tuple, ...]
    globals: tuple[object, ...]
    elems: tuple[tuple[tuple, ...], ...]
    datas: tuple[tuple[bytes, ...], ...]
    finished: bool
    results: tuple
    objects: tuple[tuple[GcStruct | GcArray, tuple], ...] = ()
    """Every struct and array reachable from the frames, tables, globals and
    segments, with its fields or elements then."""

    @property
    def size(self) -> int:
        return sum(len(memory) for memory in self.memories) + _SLOT_BYTES * sum(len(v) for _, v in self.objects)


_SLOT_BYTES = 8
"""What a field or element is counted as against the snapshots' budget."""


def reachable_objects(roots: Iterable[object]) -> list[GcStruct | GcArray]:
    """The structs and arrays among ``roots`` and reachable from them
    through fields and elements, each once (no recursion: heaps nest deeply)."""
    found: dict[int, GcStruct | GcArray] = {}
    pending = [value for value in roots if value.__class__ is GcStruct or value.__class__ is GcArray]
    while pending:
        value = pending.pop()
        if id(value) in found:
            continue
        found[id(value)] = value  # type: ignore[assignment]
        contents = value.fields if value.__class__ is GcStruct else value.elements  # type: ignore[union-attr]
        pending.extend(item for item in contents if item.__class__ is GcStruct or item.__class__ is GcArray)
    return list(found.values())


class StoreState:
    """Takes and restores snapshots of one invocation on one store.

    A generator host function waiting for guest code it asked for is a
    ``HostFrame``; it is kept as it is (the generator cannot be copied): the
    debugger never resumes one in recorded history, where it restores the
    snapshot taken after the host code ran instead."""

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

    def _running(self) -> list[Invocation]:
        return [invocation for invocation in self.machine.invocations if invocation.base >= self.base]

    def take(self, position: int, after_host_call: bool, finished: bool, results: list,
             previous: Snapshot | None) -> Snapshot:
        frames: list[FrameState | HostFrame] = []
        for frame in self.machine.frames[self.base:]:
            if type(frame) is HostFrame:
                frames.append(frame)
            else:
                frames.append(FrameState(frame, tuple(frame.regs), frame.pc))  # type: ignore[arg-type]
        memories = []
        for index, memory in enumerate(self._unique("memories")):
            data = bytes(memory.data)
            if previous is not None and index < len(previous.memories) and previous.memories[index] == data:
                data = previous.memories[index]  # unchanged: share the copy
            memories.append(data)
        tables = tuple(tuple(table.elements) for table in self._unique("tables"))
        globals_ = tuple(cell.value for cell in self._unique("globals"))
        elems = tuple(tuple(tuple(segment) for segment in instance.elems) for instance in self.instances)
        roots = [*(value for state in frames if type(state) is FrameState for value in state.regs),  # type: ignore[union-attr]
                 *(value for table in tables for value in table), *globals_,
                 *(value for segments in elems for segment in segments for value in segment), *results]
        objects = tuple((value, tuple(value.fields if value.__class__ is GcStruct else value.elements))  # type: ignore[union-attr]
                        for value in reachable_objects(roots))
        return Snapshot(
            position=position,
            after_host_call=after_host_call,
            frames=tuple(frames),
            invocations=tuple(InvocationState(invocation) for invocation in self._running()),
            memories=tuple(memories),
            tables=tables,
            globals=globals_,
            elems=elems,
            datas=tuple(tuple(instance.datas) for instance in self.instances),
            finished=finished,
            results=tuple(results),
            objects=objects,
        )

    def restore(self, snapshot: Snapshot) -> None:
        frames = self.machine.frames
        del frames[self.base:]
        frames.extend(state if type(state) is HostFrame else state.restore()  # type: ignore[union-attr]
                      for state in snapshot.frames)
        self.machine.recount_slots()
        invocations = self.machine.invocations
        invocations[:] = [invocation for invocation in invocations if invocation.base < self.base]
        invocations.extend(state.restore() for state in snapshot.invocations)
        for memory, data in zip(self._unique("memories"), snapshot.memories):
            memory.data[:] = data  # in place: compiled code holds on to the bytearray
        for table, elements in zip(self._unique("tables"), snapshot.tables):
            table.elements[:] = elements
        for cell, value in zip(self._unique("globals"), snapshot.globals):
            cell.value = value
        for instance, elems, datas in zip(self.instances, snapshot.elems, snapshot.datas):
            instance.elems[:] = [list(segment) for segment in elems]
            instance.datas[:] = list(datas)
        for value, contents in snapshot.objects:
            if value.__class__ is GcStruct:
                value.fields[:] = contents  # type: ignore[union-attr]
            else:
                value.elements[:] = contents  # type: ignore[union-attr]


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
        """Record ``snapshot``; one at the same position is replaced, but
        whether host code ran there is never forgotten."""
        positions = [s.position for s in self.snapshots]
        index = bisect.bisect_right(positions, snapshot.position)
        if index and self.snapshots[index - 1].position == snapshot.position:
            if self.snapshots[index - 1].after_host_call and not snapshot.after_host_call:
                return
            self.snapshots[index - 1] = snapshot
        else:
            self.snapshots.insert(index, snapshot)
        self._fit()

    def at_or_before(self, position: int) -> Snapshot | None:
        positions = [s.position for s in self.snapshots]
        index = bisect.bisect_right(positions, position)
        return self.snapshots[index - 1] if index else None

    def host_step_after(self, position: int) -> Snapshot | None:
        """The first snapshot taken after host code ran, beyond ``position``."""
        positions = [s.position for s in self.snapshots]
        for snapshot in self.snapshots[bisect.bisect_right(positions, position):]:
            if snapshot.after_host_call:
                return snapshot
        return None

    def _size(self) -> int:
        distinct: dict[int, int] = {}
        for snapshot in self.snapshots:
            for memory in snapshot.memories:
                distinct[id(memory)] = len(memory)
        objects = sum(len(contents) for snapshot in self.snapshots for _, contents in snapshot.objects)
        return sum(distinct.values()) + _SLOT_BYTES * objects

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
