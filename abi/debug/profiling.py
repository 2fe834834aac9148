"""The profiler over a whole run (``glasswasm proxy SCENARIO --profile
FILE``): exact instruction counts per plugin, per function (self and
total), per source line where the module has DWARF, the call stacks in the
collapsed format, and a flame graph.

Each VM runs on the step machine under the engine's ``Profiler``
(interp/debug/profiler.py), which counts every instruction it executes in
the call path it ran in; before each call into plugin code the profiler's
root is set to the node of the plugin the call is for, so the call paths
read ``plugin;callback export;function...`` and a VM several plugins share
is split between them.  Source lines are counted per VM (plugins sharing a
VM share its line counts).  A plugin whose VM was reloaded has the counts
of all its VMs, merged by function name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from abi.vm.instruments import ExportCall, VmInstrument
from abi.vm.vm import PluginVm
from interp.debug.flame_graph import flame_graph_svg
from interp.debug.profile import Profile, ProfileNode
from interp.debug.profiler import Profiler
from interp.dwarf.source_map import SourceMap

DEFAULT_ROWS = 20


@dataclass
class _VmProfile:
    vm: PluginVm
    profiler: Profiler
    plugins: list[str] = field(default_factory=list)


class ScenarioProfiler(VmInstrument):
    """Profiles every VM of a host (``ProxyHost(..., instruments=[profiler])``);
    ``finish()`` gives the ``RunProfile``.  ``search_paths``: folders where
    the modules' source files may be found."""

    def __init__(self, search_paths: tuple[str, ...] = ()) -> None:
        self.search_paths = search_paths
        self._vms: dict[PluginVm, _VmProfile] = {}

    def vm_created(self, vm: PluginVm) -> None:
        profile = Profile()
        source_map = SourceMap.for_module(vm.module.module, self.search_paths)
        profiler = Profiler(vm.store, profile, profile.root.child(vm.label), source_map)
        self._vms[vm] = _VmProfile(vm, profiler, [vm.label])

    def invoke(self, call: ExportCall, proceed: Callable[[], list]) -> list:
        entry = self._vms[call.vm]
        if call.plugin not in entry.plugins:
            entry.plugins.append(call.plugin)
        entry.profiler.root = entry.profiler.profile.root.child(call.plugin)
        return proceed()

    def finish(self) -> RunProfile:
        """Stop profiling; the counts of the whole run."""
        run = RunProfile()
        for entry in self._vms.values():
            profile = entry.profiler.finish()
            for plugin in entry.plugins:
                node = profile.root.children.get(plugin)
                if node is None:
                    continue
                view = run.plugin(plugin)
                _merge(view.root, node)
                view.line_counts.update(profile.line_counts)
                view.line_text.update(profile.line_text)
                view.without_line += profile.without_line
                _merge(run.combined.root.child(plugin), node)
        return run


class RunProfile:
    """Per plugin, a ``Profile`` of its code (functions at the top: the
    callbacks it exports and its start functions); ``combined`` has every
    plugin as the outermost frame of its paths, for the collapsed stacks and
    the flame graph."""

    def __init__(self) -> None:
        self.plugins: dict[str, Profile] = {}
        self.combined = Profile()

    def plugin(self, name: str) -> Profile:
        profile = self.plugins.get(name)
        if profile is None:
            profile = self.plugins[name] = Profile()
        return profile

    @property
    def total(self) -> int:
        return self.combined.total

    def report(self, title: str, top: int = DEFAULT_ROWS) -> str:
        """The tables: per plugin, its hottest functions and source lines."""
        total = self.total
        out = [f"profile of {title}: {total:,} instructions executed by plugin code "
               f"(exact counts from the step machine)"]
        for name, profile in sorted(self.plugins.items(), key=lambda item: (-item[1].total, item[0])):
            share = f"{100 * profile.total / total:.1f}%" if total else "-"
            tables = profile.report(top, top).split("\n", 2)[2]  # past its own total, said here
            out += ["", f"plugin {name}: {profile.total:,} instructions ({share})", tables.rstrip()]
        return "\n".join(out) + "\n"

    def collapsed(self) -> str:
        return self.combined.collapsed()

    def flame_graph(self, title: str) -> str:
        return flame_graph_svg(self.combined, title, f"{self.total:,} instructions executed by plugin code, "
                                                     f"exact counts from the step machine")


def _merge(target: ProfileNode, source: ProfileNode) -> None:
    """Add ``source``'s counts below ``target``, node by node, children
    matched by name (iteratively: call paths are as deep as the guest's
    recursion)."""
    pending = [(target, source)]
    while pending:
        into, node = pending.pop()
        into.self_count += node.self_count
        into.calls += node.calls
        for child in node.children.values():
            pending.append((into.child(child.name), child))
