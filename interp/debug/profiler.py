"""The profiler: exact instruction counts from the step machine, by call path
and by instruction (hence by source line).

``Profiler(store)`` makes the store run on its step machine through the
profiler (it is the machine's observer) until ``finish()``, which returns the
``Profile``.  Nothing is sampled: every executed instruction is counted once,
in the call path it ran in.

How: each instruction's handler in the copy the machine runs while pausing
(``BoundFunction.stepping``, the copy the debugger patches too) is wrapped in
one that adds 1 to its instruction's count in the current call path's tally,
and the invocation runs in one go in pausing mode.  The call path changes
exactly when the running frame does, and every frame has its own slot list,
so a wrapper compares the slots it is given with the current path's and only
when they differ works out the path again from the machine's frames (a call
pushes one node, a return pops one; anything else, such as a generator host
function's request or guest code a host function calls back, is read off the
whole frame stack).  Host functions appear in paths as ``host NAME`` nodes
when guest code they call back runs under them; they execute no
instructions of their own.
"""

from __future__ import annotations

from typing import Any, Callable

from interp.debug.frames import function_label
from interp.debug.profile import Profile, ProfileNode
from interp.errors import ExecutionError, UsageError
from interp.exec.bind import BoundFunction, IndirectCall
from interp.exec.machine import Frame, HostFrame, Invocation, Machine, resolve_indirect
from interp.runtime.function import HostFunction, WasmFunction
from interp.exec.store import Store

RUN_STEPS = 1 << 60
"""Steps per run when fuel is unlimited: enough to run to the end, and few
enough that the machine pauses between instructions (runs the patched copy)."""


class _Cursor:
    """Where counting goes now: the slot list of the running frame, the
    tally of its call path, and the path itself (frame, node) from the
    outermost frame."""

    __slots__ = ("regs", "counts", "path")

    def __init__(self) -> None:
        self.regs: list | None = None
        self.counts: list[int] = []
        self.path: list[tuple[Frame | HostFrame, ProfileNode]] = []


class Profiler:
    """Counts every instruction ``store`` executes from now until ``finish``.

    ``root`` is the node the store's calls are counted under (the profile's
    root by default; a caller combining several runs passes a node of its
    own).  ``source_map`` (interp.dwarf.source_map), when given, turns the
    counts per instruction into counts per source line."""

    def __init__(self, store: Store, profile: Profile | None = None, root: ProfileNode | None = None,
                 source_map: Any = None) -> None:
        if store.observer is not None:
            raise UsageError("the store is already observed (traced, profiled or debugged)")
        self.store = store
        self.machine: Machine = store.stepper
        self.profile = profile or Profile()
        self.root = root or self.profile.root
        self.source_map = source_map
        self._cursor = _Cursor()
        self._nodes: list[ProfileNode] = []  # every node that has a tally
        self._patched: list[BoundFunction] = []
        self._finished = False
        for instance in store.instances:
            for func in instance.funcs:
                if isinstance(func, WasmFunction) and func.bound is not None:
                    self._patch(func.bound)
        self.machine.bind_hooks.append(self._patch)
        store.observe(self)

    # --- running -------------------------------------------------------------------

    def run(self, invocation: Invocation) -> None:
        """Run ``invocation`` to its end (the machine's observer protocol)."""
        machine = self.machine
        while True:
            if machine.fuel_limited:
                if machine.fuel == 0:
                    invocation.run()  # raises the machine's own "fuel exhausted"
                if invocation.run(machine.fuel):
                    return
            elif invocation.run(RUN_STEPS):
                return

    def finish(self) -> Profile:
        """Stop profiling and return the profile (counts folded into the
        tree, source lines attributed)."""
        if not self._finished:
            self._finished = True
            self.store.observe(None)
            if self._patch in self.machine.bind_hooks:
                self.machine.bind_hooks.remove(self._patch)
            for bound in self._patched:
                bound.stepping = bound.code
            self._fold()
        return self.profile

    # --- counting ------------------------------------------------------------------

    def _patch(self, bound: BoundFunction) -> None:
        cursor = self._cursor
        resync = self._resync
        code = bound.code  # read at each run: an instruction gets its handler when it first runs (bind.py)

        def counting(pc: int) -> Callable[[list, object], int]:
            def counted(R: list, A: object) -> int:
                if R is not cursor.regs:
                    resync(R)
                cursor.counts[pc] += 1
                return code[pc](R, A)
            return counted

        bound.stepping = [counting(pc) for pc in range(len(code))]
        self._patched.append(bound)

    def _resync(self, regs: list) -> None:
        """The running frame changed: find the call path of the new one."""
        frames = self.machine.frames
        cursor = self._cursor
        path = cursor.path
        depth = len(frames)
        if depth == len(path) + 1 and path and frames[-2] is path[-1][0] and \
                self.machine.invocations[-1].base != depth - 1:
            self._enter(frames[-1], path[-1][1])  # a call
        elif depth == len(path) - 1 and depth and frames[-1] is path[-2][0]:
            path.pop()  # a return
        else:
            self._rebuild(frames)
        node = path[-1][1]
        cursor.regs = regs
        cursor.counts = node.pc_counts  # type: ignore[assignment]

    def _rebuild(self, frames: list) -> None:
        """The path from the machine's whole frame stack: the part still the
        same (the same frame objects) is kept, the rest entered anew."""
        path = self._cursor.path
        kept = 0
        while kept < len(path) and kept < len(frames) and path[kept][0] is frames[kept]:
            kept += 1
        del path[kept:]
        bases = {invocation.base for invocation in self.machine.invocations}
        for index in range(kept, len(frames)):
            frame = frames[index]
            parent = path[-1][1] if path else self.root
            if type(frame) is HostFrame:
                host = parent.child(f"host {function_label(frame.func)}", frame.func)
                host.calls += 1
                path.append((frame, host))
                continue
            if index in bases and index and type(frames[index - 1]) is Frame:
                caller = frames[index - 1]
                callee = _host_callee(caller)
                if callee is not None:  # guest code called back by a plain host function
                    parent = parent.child(f"host {function_label(callee)}", callee)
                    parent.calls += 1
            self._enter(frame, parent)

    def _enter(self, frame: Frame, parent: ProfileNode) -> None:
        func = frame.func
        node = parent.child(function_label(func), func, func)
        node.calls += 1
        if node.pc_counts is None:
            node.pc_counts = [0] * len(frame.bound.code)
            self._nodes.append(node)
        self._cursor.path.append((frame, node))

    def _fold(self) -> None:
        """Counts per instruction into ``self_count`` per node, and into
        counts per source line."""
        profile = self.profile
        source_map = self.source_map
        for node in self._nodes:
            counts = node.pc_counts or []
            node.self_count += sum(counts)
            if source_map is None:
                continue
            offsets = node.func.bound.lowered.offsets
            for pc, count in enumerate(counts):
                if not count:
                    continue
                location = source_map.location(offsets[pc]) if offsets[pc] >= 0 else None
                if location is None:
                    profile.without_line += count
                    continue
                key = (location.file, location.line)
                profile.line_counts[key] += count
                if key not in profile.line_text:
                    profile.line_text[key] = source_map.source_line(location)
            node.pc_counts = None


def _host_callee(frame: Frame) -> HostFunction | None:
    """The host function ``frame`` is calling (it stands at a call instruction)."""
    site = frame.bound.sites.get(frame.pc)
    if isinstance(site, IndirectCall):
        try:
            site = resolve_indirect(site, frame.regs)
        except ExecutionError:
            return None
    return site if isinstance(site, HostFunction) else None
