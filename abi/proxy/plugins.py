"""Plugins and the VMs they run in, as Envoy keeps them.

**Plugins.**  A plugin is configured code in a chain position: an HTTP
filter, a network (TCP) filter, or a *service* (Envoy's bootstrap Wasm
service: only a root context, outside any chain, started with the host).
Each chain position (``PluginLink``) has a current ``Plugin``; new streams
and connections use the current one, and streams already open keep the one
they started with.  A link gets a new ``Plugin`` when its VM is reloaded
(``fail_reload``) or it is reconfigured.

**VMs.**  Plugins with the same ``vm_id``, code, VM configuration and
environment share one VM (``VmRecord``), as Envoy keys its VMs: one
instance, one root context per plugin (picked by ``root_id``), context ids
numbered across the VM.  A trap in a shared VM fails every plugin in it;
other VMs are untouched.

**Starting a plugin** (``proxy_on_context_create(root, 0)``,
``proxy_on_vm_start(root, vm_configuration_size)``,
``proxy_on_configure(root, plugin_configuration_size)``, as
proxy-wasm-cpp-host's ``WasmBase::start`` and ``configure`` run them for
each plugin): a trap fails the VM; a false answer from
``proxy_on_vm_start`` or ``proxy_on_configure`` fails that plugin alone.
The plugin configuration buffer is readable during these three.

**Failure policies.**  ``fail_close`` and ``fail_open`` keep a failed plugin
failed (Envoy keeps a failed VM failed); under ``fail_reload`` the next
stream or connection that needs the plugin gets a fresh VM: the module
started again, every plugin of the VM with a new root context, created and
configured again.

**Reconfiguration.**  A new configuration (and VM configuration) for a link
makes a new ``Plugin``: in the same VM when the VM key is unchanged (a new
root context), else in the VM of the new key.  If the new root context's
``proxy_on_configure`` answers false (or it fails), the update is rejected
and the old plugin keeps serving; either way it is recorded (in
``reconfigurations``: a rejected update is Envoy refusing the new filter
configuration — its canary root context answered false — not a failure of
the plugin, which serves on; a trap is the VM's failure).  A superseded
plugin's root context is finished (``proxy_on_done``, ``proxy_on_delete``)
once no open stream uses it.

**Finishing a root context**: ``proxy_on_done``, then ``proxy_on_delete``
unless ``proxy_on_done`` answered false, in which case the plugin must call
``proxy_done`` (from any of its callbacks) for ``proxy_on_delete`` to follow.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from abi.context_interface import StatusError
from abi.enums import BufferType, FailurePolicy, Status
from abi.proxy.callbacks import CalloutDelivery
from abi.proxy.contexts import BufferAccess, HeaderMapAccess, NoStreamControl, NotInRoot, PluginCallouts, ProxyContext
from abi.proxy.metrics import MetricIds, VmMetrics
from abi.proxy.properties import PropertyPath
from abi.proxy.services import ProxyServices
from abi.proxy.shared_queues import VmQueues
from abi.proxy.timers import RootTimer
from abi.vm.callbacks import Failure
from abi.vm.module import PluginModule, WasmInput
from abi.vm.vm import PluginVm, VmSettings
from abi.wire.text import as_bytes
from interp.translate.cache import default_cache

DEFAULT_FUEL_PER_CALLBACK = 100_000_000


class PluginKind(enum.Enum):
    HTTP = "http"
    NETWORK = "network"
    SERVICE = "service"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a plugin's configuration came from, when it was translated from
    other configuration (an Istio ``WasmPlugin``, an Envoy filter): reports
    name it.  ``source`` is ``istio`` or ``envoy``, ``resource`` what in it
    (``WasmPlugin bookinfo/stamp``), ``file`` the file as it was named,
    ``details`` more facts as (name, value) pairs, ``notes`` what the
    simulation does differently from the real proxy for this plugin."""

    source: str
    resource: str
    file: str
    details: tuple[tuple[str, Any], ...] = ()
    notes: tuple[str, ...] = ()

    def to_report(self) -> dict[str, Any]:
        return {"source": self.source, "resource": self.resource, "file": self.file, **dict(self.details),
                "notes": list(self.notes)}


@dataclass(frozen=True)
class PluginConfig:
    """How to run one plugin.

    ``wasm`` is a path (``.wasm`` or ``.wat``), the module's bytes or a decoded
    ``Module``.  ``configuration`` and ``vm_configuration`` are given as text or
    bytes, or as a mapping or list sent as compact JSON text (keys in the
    given order), as Envoy hands a plugin its configuration.  ``environment``
    is what WASI's ``environ_get`` shows.  ``fuel_per_callback`` of ``None``
    means unlimited.  ``label`` names the module in reports (scenarios give
    the path as written in the file, so reports do not depend on where the
    files are).  ``origin`` says what configuration it was translated from.
    """

    name: str
    wasm: WasmInput
    root_id: str = ""
    vm_id: str = ""
    configuration: Any = b""
    vm_configuration: Any = b""
    environment: Mapping[str, str] = field(default_factory=dict)
    failure_policy: FailurePolicy = FailurePolicy.FAIL_CLOSE
    fuel_per_callback: int | None = DEFAULT_FUEL_PER_CALLBACK
    label: str = ""
    origin: PluginOrigin | None = None

    @property
    def configuration_bytes(self) -> bytes:
        return configuration_bytes(self.configuration)

    @property
    def vm_configuration_bytes(self) -> bytes:
        return configuration_bytes(self.vm_configuration)

    @property
    def wasm_label(self) -> str:
        """How reports name the module: ``label``, else the path."""
        if self.label:
            return self.label
        if isinstance(self.wasm, (str, os.PathLike)):
            return os.fspath(self.wasm)
        return f"<{type(self.wasm).__name__}>"

    @property
    def vm_key(self) -> tuple[Any, ...]:
        """Plugins with equal keys share a VM."""
        return (self.vm_id, wasm_identity(self.wasm), self.vm_configuration_bytes,
                tuple(sorted(self.environment.items())))


def configuration_bytes(value: Any) -> bytes:
    """A configuration as the plugin reads it from its buffer."""
    if value is None:
        return b""
    if isinstance(value, (str, bytes, bytearray)):
        return as_bytes(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def wasm_identity(wasm: WasmInput) -> Any:
    """What makes two ``wasm`` inputs the same code: the resolved path, the
    bytes' hash, or the very object."""
    if isinstance(wasm, (str, os.PathLike)):
        return ("path", os.path.realpath(os.fspath(wasm)))
    if isinstance(wasm, (bytes, bytearray)):
        return ("bytes", hashlib.sha256(bytes(wasm)).hexdigest())
    return ("object", id(wasm))


# --- contexts without a stream ----------------------------------------------------------------------


class StartContext(ProxyContext):
    """The context host calls act on while a VM starts (no root context yet)."""

    def __init__(self, record: VmRecord, services: ProxyServices) -> None:
        super().__init__(0, record.label, None, services, record.metrics, record.vm_id,
                         {("plugin_vm_id",): record.vm_id}, None)
        refuse = NotInRoot()
        self.headers = HeaderMapAccess(None)
        self.buffers = BufferAccess(None, record.vm_configuration)
        self.stream = NoStreamControl()
        self.lifecycle = refuse
        self.timers = refuse
        self.shared_queues = refuse
        self.http_calls = refuse
        self.grpc_calls = refuse
        self.callout_status = refuse


class RootBuffers(BufferAccess):
    """Root contexts also read the plugin configuration while they are set
    up, and 0.1.0's ``proxy_get_configuration`` gives it then."""

    def __init__(self, root: RootContext) -> None:
        super().__init__(root, root.plugin.config.vm_configuration_bytes)
        self.root = root

    def buffer(self, buffer_type: BufferType) -> tuple[bytes | bytearray, bool] | None:
        if buffer_type is BufferType.PLUGIN_CONFIGURATION:
            return (self.root.plugin.config.configuration_bytes, False) if self.root.configuring else None
        return super().buffer(buffer_type)

    def configuration(self) -> bytes:
        if self.root.configuring:
            return self.root.plugin.config.configuration_bytes
        return super().configuration()


class RootLifecycle:
    """``proxy_done`` for a root context that answered false to
    ``proxy_on_done``: ``proxy_on_delete`` follows when the callback returns."""

    def __init__(self, root: RootContext) -> None:
        self.root = root

    def done(self) -> None:
        root = self.root
        if not root.waiting_for_done:
            raise StatusError(Status.NOT_FOUND, "the context is not waiting to be finished")
        root.waiting_for_done = False
        root.services.runner.when_callback_returns(
            lambda: root.services.scheduler.soon(root.delete, f"delete root context of {root.plugin.name}"))


class RootContext(ProxyContext):
    """The root context of one plugin (see the module docstring)."""

    def __init__(self, plugin: Plugin, services: ProxyServices) -> None:
        record = plugin.record
        super().__init__(plugin.vm.new_context_id(), plugin.name, None, services, record.metrics, record.vm_id,
                         plugin.property_values(), None)
        self.plugin = plugin
        self.delivery: CalloutDelivery | None = None
        self.configuring = False
        self.waiting_for_done = False
        self.finished = False
        self.headers = HeaderMapAccess(self)
        self.buffers = RootBuffers(self)
        self.stream = NoStreamControl()
        self.lifecycle = RootLifecycle(self)
        self.timer = RootTimer(services.scheduler, services.runner, self)
        self.timers = self.timer
        self.queues = VmQueues(services.shared_queues, record.vm_id.encode("utf-8"), self.current_self,
                               plugin.name)
        self.shared_queues = self.queues
        self.callouts = PluginCallouts(services, self, self)
        self.http_calls = self.callouts
        self.grpc_calls = self.callouts
        self.callout_status = self.callouts

    def current_self(self) -> RootContext | None:
        """The root context a queue this one registered notifies: this one,
        or after a reload the new generation's root of the same link."""
        current = self.plugin.link.current.root
        return current if current is not None and not current.finished else None

    def finish(self) -> None:
        """``proxy_on_done``, then ``proxy_on_delete`` unless it answered false."""
        if self.finished or self.waiting_for_done:
            return
        plugin = self.plugin
        runner = self.services.runner
        outcome = runner.run(plugin, self, "proxy_on_done", [self.id])
        if outcome.called and not outcome.failed and outcome.result == 0:
            self.waiting_for_done = True
            self.services.trace.event("root_done_pending", None, plugin=plugin.name)
            return
        self.delete()

    def delete(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.timer.disarm()
        self.services.runner.run(self.plugin, self, "proxy_on_delete", [self.id])
        self.plugin.vm.remove_context(self)


# --- plugins and VMs ----------------------------------------------------------------------------------


class VmRecord:
    """A VM key's VM, across reloads, and what is per VM: metric ids."""

    def __init__(self, key: tuple[Any, ...], index: int, module: PluginModule, config: PluginConfig) -> None:
        self.key = key
        self.index = index
        self.module = module
        self.vm_id = config.vm_id
        self.vm_configuration = config.vm_configuration_bytes
        self.environment = tuple(config.environment.items())
        self.label = config.name
        self.metrics: VmMetrics
        self.vm: PluginVm
        self.generation = 0


class Plugin:
    """One configured plugin in one VM (see the module docstring)."""

    def __init__(self, link: PluginLink, config: PluginConfig, record: VmRecord, generation: int) -> None:
        self.link = link
        self.config = config
        self.name = config.name
        self.record = record
        self.vm = record.vm
        self.generation = generation
        self.root: RootContext | None = None
        self.own_failure: Failure | None = None
        self.open_streams = 0
        self.superseded = False

    @property
    def kind(self) -> PluginKind:
        return self.link.kind

    @property
    def fuel_per_callback(self) -> int | None:
        return self.config.fuel_per_callback

    @property
    def failure(self) -> Failure | None:
        return self.own_failure or self.vm.failure

    @property
    def failed(self) -> bool:
        return self.own_failure is not None or self.vm.failed

    @property
    def abi_version(self) -> Any:
        return self.record.module.abi_version

    @property
    def instance(self) -> Any:
        """The VM's module instance (its memory, exports...)."""
        return self.vm.instance

    def property_values(self) -> dict[PropertyPath, str]:
        return {("plugin_name",): self.name, ("plugin_root_id",): self.config.root_id,
                ("plugin_vm_id",): self.config.vm_id}

    def start(self, services: ProxyServices, rejection_is_failure: bool = True) -> None:
        """Create and configure the root context (module docstring).  A
        false ``proxy_on_vm_start`` or ``proxy_on_configure`` always sets
        ``own_failure``; it is reported as a plugin failure unless
        ``rejection_is_failure`` is false (a reconfiguration)."""
        if self.vm.failed:
            return
        root = RootContext(self, services)
        self.root = root
        self.vm.add_context(root)
        runner = services.runner
        root.configuring = True
        try:
            runner.run(self, root, "proxy_on_context_create", [root.id, 0])
            for callback, size in (("proxy_on_vm_start", len(self.config.vm_configuration_bytes)),
                                   ("proxy_on_configure", len(self.config.configuration_bytes))):
                if self.failed:
                    return
                outcome = runner.run(self, root, callback, [root.id, size])
                if outcome.called and not outcome.failed and outcome.result == 0:
                    failure = Failure(self.name, callback, "returned false: the plugin rejected its configuration")
                    self.own_failure = failure
                    if rejection_is_failure:
                        services.runner.record_failure(failure)
                    return
        finally:
            root.configuring = False


@dataclass(eq=False)
class Reconfiguration:
    """One attempt to change a plugin's configuration, for the report."""

    plugin: str
    at_ns: int
    accepted: bool
    same_vm: bool
    error: str | None = None

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "at_ns": self.at_ns, "accepted": self.accepted, "same_vm": self.same_vm,
                "error": self.error}


class PluginLink:
    """A chain position (or a service): its current plugin and its past
    ones."""

    def __init__(self, kind: PluginKind, config: PluginConfig) -> None:
        self.kind = kind
        self.name = config.name
        self.config = config
        self.plugins: list[Plugin] = []
        self.reloads = 0

    @property
    def current(self) -> Plugin:
        return self.plugins[-1]


class PluginSet:
    """Every plugin link and VM of the proxy; loads, reloads and
    reconfigures (module docstring)."""

    def __init__(self, services: ProxyServices) -> None:
        self.services = services
        self.links: list[PluginLink] = []
        self.records: dict[tuple[Any, ...], VmRecord] = {}
        self._modules: dict[Any, PluginModule] = {}
        self.reconfigurations: list[Reconfiguration] = []

    def link(self, name: str) -> PluginLink | None:
        return next((link for link in self.links if link.name == name), None)

    def links_of(self, kind: PluginKind) -> list[PluginLink]:
        return [link for link in self.links if link.kind is kind]

    # --- VMs -------------------------------------------------------------------------------------

    def _module(self, config: PluginConfig) -> PluginModule:
        identity = wasm_identity(config.wasm)
        module = self._modules.get(identity)
        if module is None:
            module_cache = default_cache() if self.services.config.module_cache else None
            module = PluginModule(config.wasm, config.name, config.wasm_label, module_cache)
            self._modules[identity] = module
        return module

    def _record(self, config: PluginConfig) -> VmRecord:
        key = config.vm_key
        record = self.records.get(key)
        if record is None:
            record = VmRecord(key, len(self.records), self._module(config), config)
            record.metrics = VmMetrics(MetricIds(self.services.metrics))
            self._start_vm(record, config.fuel_per_callback)
            self.records[key] = record
        return record

    def _start_vm(self, record: VmRecord, fuel: int | None) -> None:
        services = self.services
        settings = VmSettings(engine=services.config.engine, environment=record.environment,
                              random_seed=services.config.random_seed + record.index,
                              host_work_per_byte=services.config.limits.host_work_per_byte)
        start = StartContext(record, services)
        record.vm = PluginVm(record.module, settings, services.clock, services.trace, record.label, start,
                             services.instruments)
        services.trace.event("vm_start", None, vm=record.label, generation=record.generation,
                             abi_version=record.module.abi_version.value)
        record.vm.start(fuel)
        if record.vm.failure is not None:
            services.runner.record_failure(record.vm.failure)

    # --- plugins ----------------------------------------------------------------------------------

    def load(self, kind: PluginKind, config: PluginConfig) -> Plugin:
        link = PluginLink(kind, config)
        record = self._record(config)
        plugin = Plugin(link, config, record, 0)
        link.plugins.append(plugin)
        self.links.append(link)
        self.services.trace.event("plugin_load", None, plugin=plugin.name, kind=kind.value,
                                  abi_version=record.module.abi_version.value)
        plugin.start(self.services)
        return plugin

    def ready(self, link: PluginLink) -> Plugin:
        """The plugin a new stream or connection uses: the current one, after
        reloading its VM if it failed under ``fail_reload``."""
        plugin = link.current
        if plugin.vm.failed and plugin.config.failure_policy is FailurePolicy.FAIL_RELOAD:
            self.reload(plugin.record)
        return link.current

    def reload(self, record: VmRecord) -> None:
        """A fresh VM for ``record``; every ``fail_reload`` link whose current
        plugin ran in the failed one gets a new plugin in it (others sharing
        the VM keep their failed plugin, as their handles do in Envoy)."""
        record.generation += 1
        failed_vm = record.vm
        self._start_vm(record, None)
        for link in self.links:
            old = link.current
            if old.vm is not failed_vm or old.config.failure_policy is not FailurePolicy.FAIL_RELOAD:
                continue
            link.reloads += 1
            plugin = Plugin(link, old.config, record, old.generation + 1)
            link.plugins.append(plugin)
            self.services.trace.event("plugin_reload", None, plugin=plugin.name, generation=plugin.generation)
            plugin.start(self.services)

    def reconfigure(self, link: PluginLink, configuration: Any, vm_configuration: Any) -> Reconfiguration:
        old = link.current
        config = dataclasses.replace(old.config, configuration=configuration, vm_configuration=vm_configuration)
        record = self._record(config)
        plugin = Plugin(link, config, record, old.generation + 1)
        plugin.start(self.services, rejection_is_failure=False)
        accepted = not plugin.failed
        result = Reconfiguration(link.name, self.services.scheduler.now_ns, accepted, record is old.record,
                                 None if accepted else (plugin.failure.error if plugin.failure else None))
        self.reconfigurations.append(result)
        self.services.trace.event("reconfigure", None, plugin=link.name, accepted=accepted,
                                  same_vm=result.same_vm, error=result.error)
        if accepted:
            link.plugins.append(plugin)
            link.config = config
            old.superseded = True
            self.release(old)
        elif plugin.root is not None and not plugin.vm.failed:
            plugin.root.finish()
        return result

    def release(self, plugin: Plugin) -> None:
        """A stream stopped using ``plugin``: a superseded plugin no stream
        uses any more has its root context finished."""
        if plugin.superseded and plugin.open_streams == 0 and plugin.root is not None:
            plugin.root.finish()

    def shut_down(self) -> None:
        """Finish every root context still alive, links in order."""
        for link in self.links:
            for plugin in link.plugins:
                if plugin.root is not None and not plugin.failed:
                    plugin.root.finish()

    def flush_output(self) -> None:
        for record in self.records.values():
            record.vm.flush_output()

