"""Envoy v3 configuration as input: a bootstrap (``static_resources``,
``bootstrap_extensions``), a single ``Listener``, or a listener discovery
response (``resources``), in YAML or JSON.

Every listener is read, with each filter chain's network filters and the
HTTP filters of its HTTP connection manager; every Wasm filter among them is
translated (its module read, its ``sha256`` checked), as Envoy loads them all
at start.  One listener runs the scenario's traffic (the first, or the one
the scenario or ``--envoy-listener`` names), through one of its filter chains
(the first, or the one named): its ``envoy.filters.http.wasm`` filters
(``envoy.extensions.filters.http.wasm.v3.Wasm``) become the HTTP chain in
order, its ``envoy.filters.network.wasm`` filters the network chain, and
``envoy.bootstrap.wasm`` bootstrap extensions
(``envoy.extensions.wasm.v3.WasmService``) become services.  Filters are
recognised by the type of their ``typed_config`` (a ``TypedStruct`` wrapping
one included), as Envoy recognises them.

Each Wasm filter's ``PluginConfig`` is read field by field as the
``envoy.extensions.wasm.v3`` protos define it (``abi.frontends.plugin_sources``
says how code, environment, configuration and failure policy are honoured);
an unknown field is refused, as Envoy refuses it.  Other filters are passed
over, and those that would act on traffic (all but the router, the HTTP
connection manager and ``tcp_proxy``) are named in a note, as are filters
configured through ECDS and disabled ones.  The rest of the configuration
(clusters, routes, admin...) is Envoy's business and is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from abi.enums import FailurePolicy
from abi.errors import ManifestError
from abi.frontends.plugin_sources import (
    Code,
    FieldReader,
    ModuleFiles,
    ProxyEnvironment,
    Translation,
    WasmConfig,
    any_bytes,
    fetch_refused,
    plugin_spec,
    reload_note,
    settings_line,
    shared_vm_notes,
    verify_sha256,
    vm_environment,
)
from abi.frontends.scenario import PluginSpec, parse_scenario_text, read_scenario_text
from abi.proxy.plugins import PluginKind, PluginOrigin
from abi.wire.key_paths import join_key
from abi.wire.well_known import TYPED_STRUCTS, WellKnownError, base64_bytes

HTTP_CONNECTION_MANAGER = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
HTTP_WASM = "envoy.extensions.filters.http.wasm.v3.Wasm"
NETWORK_WASM = "envoy.extensions.filters.network.wasm.v3.Wasm"
WASM_SERVICE = "envoy.extensions.wasm.v3.WasmService"
ROUTER = "envoy.extensions.filters.http.router.v3.Router"
TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
LISTENER = "envoy.config.listener.v3.Listener"
NULL_RUNTIME = "envoy.wasm.runtime.null"
LEGACY_NAMES = {"envoy.filters.http.router": ROUTER, "envoy.filters.http.wasm": HTTP_WASM,
                "envoy.filters.network.wasm": NETWORK_WASM,
                "envoy.filters.network.http_connection_manager": HTTP_CONNECTION_MANAGER,
                "envoy.filters.network.tcp_proxy": TCP_PROXY}
"""Filters given by name alone (no ``typed_config``)."""
BOOTSTRAP_KEYS = ("static_resources", "dynamic_resources", "bootstrap_extensions", "admin", "node",
                  "cluster_manager", "layered_runtime", "overload_manager", "stats_sinks")
PLUGIN_CONFIG_FIELDS = ("name", "root_id", "vm_config", "configuration", "fail_open", "failure_policy",
                        "reload_config", "capability_restriction_config")
VM_CONFIG_FIELDS = ("vm_id", "runtime", "code", "configuration", "allow_precompiled", "nack_on_code_cache_miss",
                    "environment_variables")
FAILURE_POLICIES = ("UNSPECIFIED", "FAIL_RELOAD", "FAIL_CLOSED", "FAIL_OPEN")
HOST_FAILURE_POLICIES = {"UNSPECIFIED": FailurePolicy.FAIL_CLOSE, "FAIL_CLOSED": FailurePolicy.FAIL_CLOSE,
                         "FAIL_OPEN": FailurePolicy.FAIL_OPEN, "FAIL_RELOAD": FailurePolicy.FAIL_RELOAD}


@dataclass(frozen=True)
class FilterEntry:
    """One filter as read: where it is, its name and type, and either the
    plugin it became or why it was passed over."""

    key_path: str
    name: str
    type_name: str
    plugin: PluginSpec | None = None
    passed_over: str = ""
    acts_on_traffic: bool = False
    listener: str = ""

    def describe(self) -> str:
        where = f" of listener {self.listener}" if self.listener else ""
        return f"{self.name or self.type_name or 'a filter'} ({self.position}{where})"

    @property
    def position(self) -> str:
        """The last step of its key path (``http_filters[2]``)."""
        return self.key_path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class FilterChain:
    label: str
    network: tuple[FilterEntry, ...]
    http: tuple[FilterEntry, ...]


@dataclass(frozen=True)
class Listener:
    name: str
    address: str
    chains: tuple[FilterChain, ...]
    listener_filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvoyConfig:
    """Everything read from one Envoy configuration file."""

    file: str
    listeners: tuple[Listener, ...]
    services: tuple[FilterEntry, ...]
    notes: tuple[str, ...] = ()


def read_envoy_config(path: str, proxy: ProxyEnvironment = ProxyEnvironment(),
                      label: str | None = None) -> EnvoyConfig:
    """Read and translate an Envoy configuration file (relative module paths
    are read from its folder).  ``label`` names the file in reports and
    errors (default: ``path``)."""
    label = label or path
    document = parse_scenario_text(read_scenario_text(path), label)
    return config_from_document(document, label, Path(path).resolve().parent, proxy)


def config_from_document(document: Any, file: str, base: Path,
                         proxy: ProxyEnvironment = ProxyEnvironment()) -> EnvoyConfig:
    reader = FieldReader(file, "")
    top = reader.mapping(document, "")
    context = _Context(file, base, proxy, ModuleFiles())
    notes = []
    if any(key in top for key in BOOTSTRAP_KEYS):
        static = reader.mapping(top.get("static_resources"), "static_resources")
        listeners = [(item, f"static_resources.listeners[{index}]") for index, item in
                     enumerate(reader.listing(static.get("listeners"), "static_resources.listeners"))]
        dynamic = reader.mapping(top.get("dynamic_resources"), "dynamic_resources")
        if dynamic.get("lds_config") is not None or dynamic.get("lds_resources_locator") is not None:
            notes.append(f"{file}: dynamic_resources: listeners from LDS are not read; give them as "
                         f"static_resources.listeners")
        services = tuple(_bootstrap_extension(item, f"bootstrap_extensions[{index}]", context)
                         for index, item in enumerate(reader.listing(top.get("bootstrap_extensions"),
                                                                     "bootstrap_extensions")))
    elif "resources" in top:
        listeners = []
        for index, item in enumerate(reader.listing(top.get("resources"), "resources")):
            resource = reader.mapping(item, f"resources[{index}]")
            type_url = str(resource.get("@type", ""))
            if type_url.rsplit("/", 1)[-1] != LISTENER:
                notes.append(f"{file}: resources[{index}] is a {type_url or 'resource without @type'}, not a "
                             f"Listener: passed over")
                continue
            listeners.append(({key: value for key, value in resource.items() if key != "@type"},
                              f"resources[{index}]"))
        services = ()
    elif any(key in top for key in ("filter_chains", "default_filter_chain", "address")):
        listeners = [(top, "")]
        services = ()
    else:
        raise reader.error("", "not an Envoy bootstrap (static_resources), listener (filter_chains) or listener "
                               "discovery response (resources)")
    return EnvoyConfig(file, tuple(_listener(item, key_path, index, context)
                                   for index, (item, key_path) in enumerate(listeners)), services, tuple(notes))


@dataclass(frozen=True)
class _Context:
    file: str
    base: Path
    proxy: ProxyEnvironment
    files: ModuleFiles


def _listener(value: Any, key_path: str, index: int, context: _Context) -> Listener:
    spec = FieldReader(context.file, f"listeners[{index}]").mapping(value, key_path)
    name = spec.get("name") if isinstance(spec.get("name"), str) and spec.get("name") else f"listeners[{index}]"
    reader = FieldReader(context.file, f"listener {name}")
    chains = [_filter_chain(item, join_key(key_path, f"filter_chains[{position}]"), reader, name, context)
              for position, item in enumerate(reader.listing(spec.get("filter_chains"),
                                                             join_key(key_path, "filter_chains")))]
    if spec.get("default_filter_chain") is not None:
        chains.append(_filter_chain(spec["default_filter_chain"], join_key(key_path, "default_filter_chain"), reader,
                                    name, context))
    listener_filters = tuple(
        str(reader.mapping(item, join_key(key_path, f"listener_filters[{position}]")).get("name", ""))
        for position, item in enumerate(reader.listing(spec.get("listener_filters"),
                                                       join_key(key_path, "listener_filters"))))
    return Listener(name, _address(spec.get("address")), tuple(chains), listener_filters)


def _address(value: Any) -> str:
    socket = value.get("socket_address") if isinstance(value, Mapping) else None
    if not isinstance(socket, Mapping):
        return ""
    return f"{socket.get('address', '')}:{socket.get('port_value', '')}"


def _filter_chain(value: Any, key_path: str, reader: FieldReader, listener: str, context: _Context) -> FilterChain:
    spec = reader.mapping(value, key_path)
    label = spec.get("name") if isinstance(spec.get("name"), str) and spec.get("name") else key_path.rsplit(".")[-1]
    network: list[FilterEntry] = []
    http: tuple[FilterEntry, ...] = ()
    for position, item in enumerate(reader.listing(spec.get("filters"), join_key(key_path, "filters"))):
        entry_path = join_key(key_path, f"filters[{position}]")
        entry, config = _filter(item, entry_path, reader)
        entry = replace(entry, listener=listener)
        if entry.type_name == NETWORK_WASM and not entry.passed_over:
            where = f"{entry.position} ({entry.name or 'network Wasm filter'}) of listener {listener}"
            origin = PluginOrigin("envoy", where, context.file, (("listener", listener), ("filter_chain", label),
                                                                 ("key_path", entry_path)))
            entry = replace(entry, plugin=_wasm_filter(config, join_key(entry_path, "typed_config"), reader,
                                                       PluginKind.NETWORK, entry.name, origin, context))
        elif entry.type_name == HTTP_CONNECTION_MANAGER:
            entry = replace(entry, passed_over="the HTTP connection manager: streams go through its HTTP filters")
            http = _http_filters(config, join_key(entry_path, "typed_config"), reader, listener, label, context)
        elif entry.type_name == TCP_PROXY:
            entry = replace(entry, passed_over="tcp_proxy: the scenario's origin plays the upstream")
        network.append(entry)
    return FilterChain(label, tuple(network), http)


def _http_filters(config: Mapping[str, Any], key_path: str, reader: FieldReader, listener: str, chain: str,
                  context: _Context) -> tuple[FilterEntry, ...]:
    entries: list[FilterEntry] = []
    router_at = None
    for position, item in enumerate(reader.listing(config.get("http_filters"), join_key(key_path, "http_filters"))):
        entry_path = join_key(key_path, f"http_filters[{position}]")
        if router_at is not None:
            raise reader.error(entry_path, f"the router ({router_at}) is a terminal filter and must be the last "
                                           f"filter of the chain, as Envoy requires")
        entry, filter_config = _filter(item, entry_path, reader)
        entry = replace(entry, listener=listener)
        if entry.type_name == ROUTER:
            router_at = entry.position
            entry = replace(entry, passed_over="the router: the chain ends here, and the scenario's origin answers")
        elif entry.type_name == HTTP_WASM and not entry.passed_over:
            where = f"{entry.position} ({entry.name or 'HTTP Wasm filter'}) of listener {listener}"
            origin = PluginOrigin("envoy", where, context.file, (("listener", listener), ("filter_chain", chain),
                                                                 ("key_path", entry_path)))
            entry = replace(entry, plugin=_wasm_filter(filter_config, join_key(entry_path, "typed_config"), reader,
                                                       PluginKind.HTTP, entry.name, origin, context))
        entries.append(entry)
    return tuple(entries)


def _filter(value: Any, key_path: str, reader: FieldReader) -> tuple[FilterEntry, Mapping[str, Any]]:
    """A network or HTTP filter entry and its configuration (a TypedStruct
    unwrapped)."""
    spec = reader.mapping(value, key_path)
    name = reader.text(spec.get("name"), join_key(key_path, "name"))
    if spec.get("config_discovery") is not None:
        return FilterEntry(key_path, name, "", passed_over="configured by extension config discovery (ECDS), which "
                                                           "glasswasm does not read", acts_on_traffic=True), {}
    type_name, config = _typed_config(spec.get("typed_config"), reader, join_key(key_path, "typed_config"))
    if not type_name:
        type_name = LEGACY_NAMES.get(name, "")
        if type_name in (HTTP_WASM, NETWORK_WASM):
            raise reader.error(join_key(key_path, "typed_config"), f"missing: a Wasm filter needs a typed_config "
                                                                   f"({type_name}) with its config")
    disabled = reader.boolean(spec.get("disabled"), join_key(key_path, "disabled"))
    if disabled:
        return FilterEntry(key_path, name, type_name, passed_over="disabled: it runs only where a route enables "
                                                                  "it, and glasswasm reads no routes",
                           acts_on_traffic=True), config
    known = (HTTP_WASM, NETWORK_WASM, HTTP_CONNECTION_MANAGER, ROUTER, TCP_PROXY, WASM_SERVICE)
    if type_name in known:
        return FilterEntry(key_path, name, type_name), config
    return FilterEntry(key_path, name, type_name, passed_over="not a Wasm filter", acts_on_traffic=True), config


def _typed_config(value: Any, reader: FieldReader, key_path: str) -> tuple[str, Mapping[str, Any]]:
    if value is None:
        return "", {}
    spec = reader.mapping(value, key_path)
    type_url = spec.get("@type")
    if not isinstance(type_url, str) or "/" not in type_url:
        raise reader.error(join_key(key_path, "@type"), "missing: a typed_config needs \"@type\": "
                                                        "type.googleapis.com/TYPE")
    type_name = type_url.rsplit("/", 1)[1]
    if type_name in TYPED_STRUCTS:
        inner = reader.text(spec.get("type_url", spec.get("typeUrl")), join_key(key_path, "type_url"))
        return inner.rsplit("/", 1)[-1], reader.mapping(spec.get("value"), join_key(key_path, "value"))
    return type_name, {key: item for key, item in spec.items() if key != "@type"}


def _bootstrap_extension(value: Any, key_path: str, context: _Context) -> FilterEntry:
    reader = FieldReader(context.file, key_path)
    entry, config = _filter(value, key_path, reader)
    if entry.type_name != WASM_SERVICE:
        return replace(entry, passed_over="not a Wasm service", acts_on_traffic=False)
    service = reader.message(config, join_key(key_path, "typed_config"), ("config", "singleton"))
    where = f"{key_path} ({entry.name or 'envoy.bootstrap.wasm'})"
    notes = () if reader.boolean(service.get("singleton"), join_key(key_path, "typed_config.singleton")) else (
        f"{where}: singleton is false, so Envoy runs one copy of the service per worker thread; glasswasm "
        f"runs one",)
    origin = PluginOrigin("envoy", where, context.file, (("key_path", key_path),), notes)
    plugin = _plugin(service.get("config"), join_key(key_path, "typed_config.config"), reader, PluginKind.SERVICE,
                     entry.name, origin, context)
    return replace(entry, plugin=plugin)


def _wasm_filter(config: Mapping[str, Any], key_path: str, reader: FieldReader, kind: PluginKind,
                 filter_name: str, origin: PluginOrigin, context: _Context) -> PluginSpec:
    spec = reader.message(config, key_path, ("config",))
    return _plugin(spec.get("config"), join_key(key_path, "config"), reader, kind, filter_name, origin, context)


def _plugin(value: Any, key_path: str, reader: FieldReader, kind: PluginKind, filter_name: str,
            origin: PluginOrigin, context: _Context) -> PluginSpec:
    return plugin_spec(wasm_config(value, key_path, reader, filter_name, context), kind, origin)


def wasm_config(value: Any, key_path: str, reader: FieldReader, filter_name: str, context: _Context) -> WasmConfig:
    """An ``envoy.extensions.wasm.v3.PluginConfig`` read as glasswasm runs
    it; a plugin without a name is named after its filter."""
    spec = reader.message(value, key_path, PLUGIN_CONFIG_FIELDS)
    name = reader.text(spec.get("name"), join_key(key_path, "name")) or filter_name or "wasm"
    if spec.get("vm_config") is None:
        raise reader.error(join_key(key_path, "vm_config"), "missing: the VM to run (vm_config, with its code)")
    vm_path = join_key(key_path, "vm_config")
    vm = reader.message(spec["vm_config"], vm_path, VM_CONFIG_FIELDS)
    if reader.text(vm.get("runtime"), join_key(vm_path, "runtime")) == NULL_RUNTIME:
        raise reader.error(join_key(vm_path, "runtime"), f"{NULL_RUNTIME} runs plugins compiled into Envoy; glasswasm "
                                                         f"runs Wasm code only")
    if vm.get("code") is None:
        raise reader.error(join_key(vm_path, "code"), "missing: the module to run")
    code, notes = _code(vm["code"], join_key(vm_path, "code"), reader, name, context)
    vm_configuration, vm_notes = any_bytes(vm.get("configuration"), reader, join_key(vm_path, "configuration"), name)
    configuration, config_notes = any_bytes(spec.get("configuration"), reader, join_key(key_path, "configuration"),
                                            name)
    env_path = join_key(vm_path, "environment_variables")
    variables = reader.message(vm.get("environment_variables"), env_path, ("host_env_keys", "key_values"))
    host_env_keys = [reader.text(item, f"{join_key(env_path, 'host_env_keys')}[{index}]") for index, item in
                     enumerate(reader.listing(variables.get("host_env_keys"), join_key(env_path, "host_env_keys")))]
    key_values = reader.labels(variables.get("key_values"), join_key(env_path, "key_values"))
    environment, env_notes = vm_environment(key_values, host_env_keys, name, context.proxy, reader, env_path)
    failure = _failure_policy(spec, reader, key_path)
    notes += vm_notes + config_notes + env_notes
    if failure is FailurePolicy.FAIL_RELOAD:
        notes += (reload_note(name),)
    if spec.get("capability_restriction_config") is not None:
        notes += (f"{name}: capability_restriction_config is not enforced: the plugin may call every host "
                  f"function",)
    return WasmConfig(name=name, root_id=reader.text(spec.get("root_id"), join_key(key_path, "root_id")),
                      vm_id=reader.text(vm.get("vm_id"), join_key(vm_path, "vm_id")), code=code,
                      configuration=configuration, vm_configuration=vm_configuration, environment=environment,
                      failure=failure, notes=notes)


def _failure_policy(spec: Mapping[str, Any], reader: FieldReader, key_path: str) -> FailurePolicy:
    """Envoy's rules: ``fail_open`` means FAIL_OPEN, and may not come with a
    ``failure_policy``; no policy is FAIL_CLOSED."""
    value = spec.get("failure_policy")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(FAILURE_POLICIES):
        value = FAILURE_POLICIES[value]
    policy = reader.enum(value, join_key(key_path, "failure_policy"), FAILURE_POLICIES)
    if reader.boolean(spec.get("fail_open"), join_key(key_path, "fail_open")):
        if policy != "UNSPECIFIED":
            raise reader.error(join_key(key_path, "failure_policy"), "only one of fail_open or failure_policy can be "
                                                                     "set, as Envoy requires")
        return FailurePolicy.FAIL_OPEN
    return HOST_FAILURE_POLICIES[policy]


def _code(value: Any, key_path: str, reader: FieldReader, plugin: str,
          context: _Context) -> tuple[Code, tuple[str, ...]]:
    """``vm_config.code``, an ``AsyncDataSource``: ``local`` (a
    ``DataSource``) or ``remote`` (read from a local copy)."""
    spec = reader.message(value, key_path, ("local", "remote"))
    if len(spec) != 1:
        raise reader.error(key_path, "give one of local or remote")
    if "remote" in spec:
        remote_path = join_key(key_path, "remote")
        remote = reader.message(spec["remote"], remote_path, ("http_uri", "sha256", "retry_policy"))
        uri_spec = reader.message(remote.get("http_uri"), join_key(remote_path, "http_uri"),
                                  ("uri", "cluster", "timeout"))
        uri = reader.text(uri_spec.get("uri"), join_key(remote_path, "http_uri.uri"))
        sha256 = reader.text(remote.get("sha256"), join_key(remote_path, "sha256"))
        if not uri or not sha256:
            raise reader.error(remote_path, "a remote source needs http_uri.uri and sha256")
        copy = context.proxy.local_copy(uri)
        if copy is None:
            raise reader.error(join_key(remote_path, "http_uri.uri"),
                               fetch_refused(uri) + " (or give vm_config.code.local.filename)")
        data = context.files.read(copy[0], reader, join_key(remote_path, "http_uri.uri"))
        verify_sha256(data, sha256, reader, join_key(remote_path, "sha256"), "Envoy refuses remote code that does not "
                                                                             "match its sha256")
        return Code(data, uri), (f"{plugin}: {uri} is fetched by Envoy; glasswasm reads the local copy {copy[1]}",)
    local_path = join_key(key_path, "local")
    local = reader.message(spec["local"], local_path, ("filename", "inline_bytes", "inline_string",
                                                       "environment_variable", "watched_directory"))
    sources = [field for field in ("filename", "inline_bytes", "inline_string", "environment_variable")
               if field in local]
    if len(sources) != 1:
        raise reader.error(local_path, "give one of filename, inline_bytes, inline_string or environment_variable")
    (source,) = sources
    field_path = join_key(local_path, source)
    notes: tuple[str, ...] = ()
    if local.get("watched_directory") is not None:
        notes = (f"{plugin}: {join_key(local_path, 'watched_directory')} is not watched: the module is read once",)
    if source == "filename":
        filename = reader.text(local["filename"], field_path)
        copy = context.proxy.local_copy(filename)
        path = copy[0] if copy is not None else context.base / filename
        return Code(context.files.read(path, reader, field_path), filename), notes
    if source == "inline_bytes":
        try:
            return Code(base64_bytes(local["inline_bytes"]), "<inline_bytes>"), notes
        except WellKnownError as error:
            raise reader.error(field_path, error.problem) from None
    if source == "inline_string":
        return Code(reader.text(local["inline_string"], field_path).encode("utf-8"), "<inline_string>"), notes
    variable = reader.text(local["environment_variable"], field_path)
    text = context.proxy.host_variable(variable)
    if text is None:
        raise reader.error(field_path, f"the scenario's host_environment has no {variable} (Envoy fails to read "
                                       f"a missing variable)")
    return Code(text.encode("utf-8"), f"${variable}"), notes


# --- choosing what runs ------------------------------------------------------------------------------


def translate(config: EnvoyConfig, listener: str | None = None, filter_chain: str | None = None) -> Translation:
    """The plugins of the chosen listener and filter chain, and the
    services, ready to run, with the notes and the explanation."""
    chosen = choose(config, listener, filter_chain)
    entries = [*config.services]
    if chosen is not None:
        entries += [*chosen[1].http, *chosen[1].network]
    specs, notes = _unique_names([entry.plugin for entry in entries if entry.plugin is not None])
    for spec in specs:
        notes += spec.origin.notes if spec.origin is not None else ()
    notes = list(config.notes) + notes
    if not specs:
        notes.append(f"{config.file}: no Wasm filter or service runs: the traffic runs through no plugin")
    if chosen is not None and any(entry.type_name == HTTP_CONNECTION_MANAGER for entry in chosen[1].network):
        notes.extend(f"{entry.plugin.name} ({entry.position} of listener {entry.listener}) sees only the scenario's "
                     f"connections: glasswasm sends streams straight to the HTTP filters, not through the network "
                     f"filters before the connection manager"
                     for entry in chosen[1].network if entry.plugin is not None)
    for entry in entries:
        if entry.acts_on_traffic:
            notes.append(f"{entry.describe()} is passed over ({entry.passed_over}): what it would do to traffic "
                         f"is not simulated")
    notes.extend(shared_vm_notes(specs))
    services = [spec for spec in specs if spec.kind is PluginKind.SERVICE]
    ordered = services + [spec for spec in specs if spec.kind is not PluginKind.SERVICE]
    explanation = explain(config, chosen, {id(entry): spec for entry, spec in
                                           zip([e for e in entries if e.plugin is not None], specs)}, notes)
    return Translation(tuple(ordered), tuple(notes), explanation)


def choose(config: EnvoyConfig, listener: str | None,
           filter_chain: str | None) -> tuple[Listener, FilterChain] | None:
    """The listener and filter chain the traffic runs through (``None``: the
    configuration has no listener with a filter chain)."""
    reader = FieldReader(config.file, "")
    if listener is not None:
        found = [item for item in config.listeners if item.name == listener]
        if not found:
            names = ", ".join(item.name for item in config.listeners) or "none"
            raise ManifestError(f"no listener named {listener!r} in {config.file} (listeners: {names})",
                                "envoy.listener")
        candidates = found
    else:
        candidates = [item for item in config.listeners if item.chains]
        if not candidates:
            if filter_chain is not None:
                raise reader.error("", "no listener has a filter chain")
            return None
    chosen = candidates[0]
    if not chosen.chains:
        raise ManifestError(f"listener {chosen.name} has no filter chain", "envoy.listener")
    if filter_chain is None:
        return chosen, chosen.chains[0]
    for chain in chosen.chains:
        if chain.label == filter_chain:
            return chosen, chain
    labels = ", ".join(chain.label for chain in chosen.chains)
    raise ManifestError(f"listener {chosen.name} has no filter chain named {filter_chain!r} (filter chains: {labels})",
                        "envoy.filter_chain")


def _unique_names(specs: list[PluginSpec]) -> tuple[list[PluginSpec], list[str]]:
    """Plugins need distinct names in glasswasm (Envoy allows repeats, and
    empty names): a repeated name gets ``#2``, ``#3``..."""
    seen: dict[str, int] = {}
    result = []
    notes = []
    for spec in specs:
        count = seen.get(spec.name, 0) + 1
        seen[spec.name] = count
        if count > 1:
            renamed = f"{spec.name}#{count}"
            notes.append(f"{renamed}: another plugin is named {spec.name}, so glasswasm names this one {renamed} "
                         f"(its plugin_name property is {renamed} too)")
            spec = replace(spec, name=renamed)
        result.append(spec)
    return result, notes


# --- explanation -----------------------------------------------------------------------------------


def explain(config: EnvoyConfig, chosen: tuple[Listener, FilterChain] | None,
            specs: dict[int, PluginSpec], notes: list[str]) -> tuple[str, ...]:
    """What ``glasswasm proxy --explain`` prints: every listener and filter
    chain, each filter made a plugin or passed over, the services."""
    count = len(config.listeners)
    services = sum(entry.plugin is not None for entry in config.services)
    lines = [f"envoy: {config.file}: {count} listener{'s' if count != 1 else ''}, "
             f"{services} bootstrap Wasm service{'s' if services != 1 else ''}"]
    if config.services:
        lines.append("  bootstrap extensions:")
        lines.extend(line for entry in config.services for line in _entry_lines(entry, specs, "    "))
    for listener in config.listeners:
        address = f" ({listener.address})" if listener.address else ""
        lines.append(f"listener {listener.name}{address}:")
        if listener.listener_filters:
            lines.append(f"  listener filters, passed over: {', '.join(listener.listener_filters)}")
        for chain in listener.chains:
            runs = chosen is not None and chosen[1] is chain
            state = "the scenario's traffic runs through it" if runs else "not run"
            lines.append(f"  filter chain {chain.label} ({state}):")
            lines.append("    network filters, in order:")
            lines.extend(line for entry in chain.network for line in _entry_lines(entry, specs if runs else {},
                                                                                  "      "))
            if chain.http:
                lines.append("    HTTP filters of the connection manager, in request order:")
                lines.extend(line for entry in chain.http for line in _entry_lines(entry, specs if runs else {},
                                                                                   "      "))
    if chosen is None:
        lines.append("no listener runs traffic: only the bootstrap services are loaded")
    if notes:
        lines.append("notes:")
        lines.extend(f"  {note}" for note in notes)
    return tuple(lines)


def _entry_lines(entry: FilterEntry, specs: dict[int, PluginSpec], indent: str) -> list[str]:
    """A filter, and for a plugin that runs what it is started with."""
    head = f"{indent}{entry.position} {entry.name or entry.type_name or '(no name)'}"
    if entry.plugin is None:
        return [f"{head}: passed over ({entry.passed_over})" if entry.passed_over else head]
    spec = specs.get(id(entry))
    kind = {PluginKind.HTTP: "HTTP plugin", PluginKind.NETWORK: "network plugin",
            PluginKind.SERVICE: "service"}[entry.plugin.kind]
    if spec is None:
        return [f"{head}: {kind} {entry.plugin.name} (not loaded)"]
    return [f"{head}: {kind} {spec.name}", f"{indent}  {settings_line(spec)}"]
