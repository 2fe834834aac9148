"""Which plugins a run has and what functions their modules hold, so that a
name given on the command line (a plugin to trace, a function to break at)
is checked before anything runs: an unknown name is an error, never an
empty trace or a breakpoint that never hits."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from abi.errors import UsageError
from abi.proxy.host import ProxyHost
from abi.vm.module import PluginModule

CALLBACK_PREFIX = "proxy_"


@dataclass(frozen=True)
class PluginCatalog:
    """Plugin names, in load order, with their modules."""

    modules: Mapping[str, PluginModule]

    @staticmethod
    def of_host(host: ProxyHost) -> PluginCatalog:
        """The plugins loaded in ``host``, in load order."""
        return PluginCatalog({link.name: link.current.record.module for link in host.plugin_set.links})

    @property
    def names(self) -> list[str]:
        return list(self.modules)

    def module(self, plugin: str) -> PluginModule:
        """The module of ``plugin``; an unknown name is a ``UsageError``
        naming the plugins there are."""
        module = self.modules.get(plugin)
        if module is None:
            raise UsageError(f"no plugin named {plugin!r}{_suggestion(plugin, self.names)} "
                             f"(plugins: {', '.join(self.names) or 'none'})")
        return module

    def function(self, plugin: str, name: str) -> str:
        """The name of the function ``name`` names in ``plugin``'s module (a
        callback may be named without its ``proxy_`` prefix:
        ``on_request_headers``); unknown is a ``UsageError``."""
        names = function_names(self.module(plugin))
        for candidate in (name, CALLBACK_PREFIX + name):
            if candidate in names:
                return candidate
        raise UsageError(f"plugin {plugin!r} has no function {name!r}{_suggestion(name, sorted(names))}")

    def plugins_with_function(self, name: str) -> list[tuple[str, str]]:
        """Every plugin whose module has a function ``name`` (or
        ``proxy_NAME``), with the function's full name."""
        found = []
        for plugin, module in self.modules.items():
            names = function_names(module)
            for candidate in (name, CALLBACK_PREFIX + name):
                if candidate in names:
                    found.append((plugin, candidate))
                    break
        return found


def function_names(module: PluginModule) -> set[str]:
    """The names functions are known by: the name section's, else their
    export's (as backtraces and breakpoints name them), and their index."""
    names = set(module.compiled.func_names.values())
    names.update(str(index) for index in range(module.compiled.num_imported_funcs, len(module.compiled.context.funcs)))
    return names


def search_paths(wasm_paths: Iterable[object], *folders: str) -> tuple[str, ...]:
    """Folders where a module's source files may be found: the folders given
    and each module file's own."""
    paths = list(folders)
    for wasm in wasm_paths:
        if isinstance(wasm, (str, os.PathLike)):
            folder = os.path.dirname(os.path.abspath(os.fspath(wasm)))
            if folder not in paths:
                paths.append(folder)
    return tuple(paths)


def _suggestion(word: str, candidates: list[str]) -> str:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
