"""Errors of the proxy-wasm host.  They are ``GlasswasmError``s, so the
``glasswasm`` command prints them as one line with exit status 1.

What a plugin does wrong while running (traps, fuel, bad returns, a false
``proxy_on_configure``) is not an exception: it is a recorded ``Failure``
that the failure policy acts on, as in Envoy.  Exceptions are for inputs that
cannot run at all: a scenario file that does not validate, a module that is
not a proxy-wasm plugin, or the API used the wrong way.
"""

from __future__ import annotations

from interp.errors import ExecutionError, GlasswasmError, InternalError, UsageError


class ProxyWasmError(GlasswasmError):
    """Root of the host's own errors."""


class ScenarioError(ProxyWasmError):
    """A scenario file is unreadable or invalid.  ``key_path`` names the
    offending key (``streams[1].request.headers``), ``source`` the file."""

    def __init__(self, problem: str, key_path: str = "", source: str | None = None) -> None:
        self.problem = problem
        self.key_path = key_path
        self.source = source
        where = ": ".join(part for part in (source, key_path) if part)
        super().__init__(_one_line(f"{where}: {problem}" if where else problem))


def _one_line(text: str) -> str:
    """The message with line breaks and other control characters escaped:
    keys and values quoted from a file may hold any of them, and the error
    is one line."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


class ManifestError(ScenarioError):
    """An Istio resource or an Envoy configuration cannot be turned into
    plugins.  ``resource`` names it (``WasmPlugin bookinfo/stamp``,
    ``listener ingress_http``), ``key_path`` the field in it, ``source`` the
    file: one line says what is wrong and where."""

    def __init__(self, problem: str, key_path: str = "", source: str | None = None, resource: str = "") -> None:
        self.resource = resource
        super().__init__(problem, ": ".join(part for part in (resource, key_path) if part), source)
        self.key_path = key_path


class PluginLoadError(ProxyWasmError):
    """A module cannot be loaded as a proxy-wasm plugin: unreadable,
    malformed, invalid, without a supported ``proxy_abi_version_*`` export,
    with imports this host does not provide, or with callbacks of the wrong
    type."""

    def __init__(self, plugin: str, problem: str) -> None:
        self.plugin = plugin
        self.problem = problem
        super().__init__(f"plugin {plugin}: {problem}")


class PluginResourceLimit(ExecutionError):
    """A plugin made the host cross one of its limits (``abi.proxy.limits``):
    the plugin fails, like a trap, with the limit named."""

    label = "resource limit"


class HostError(InternalError):
    """The simulated proxy itself failed while serving a plugin (a bug in the
    host, or in a function the Python API registered, such as a foreign
    function that raised).  It is reported as the host's error, never as the
    plugin's failure."""


__all__ = ["HostError", "ManifestError", "PluginLoadError", "PluginResourceLimit", "ProxyWasmError", "ScenarioError",
           "UsageError"]
