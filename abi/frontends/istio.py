"""Istio ``WasmPlugin`` resources (``extensions.istio.io/v1alpha1``) as
input: the chains istiod would build for one workload, translated into the
plugins the host runs.

**Reading.**  A file holds one or many resources (multi-document YAML, and
``List`` kinds with ``items``), as ``kubectl apply -f`` reads it.  Resources
of other kinds are passed over (and listed by ``--explain``); a WasmPlugin
is validated as the API server would (its CRD's fields, enums and rules), and
every error names the file, the resource and the field.

**Which resources apply** (istiod's ``WasmPluginsByListenerInfo`` and
``WorkloadPolicyMatcher``): only those in the workload's namespace, the root
namespace (and, for a waypoint, its services' namespaces) are considered.
For a workload that is not a Gateway API gateway (it has no
``gateway.networking.k8s.io/gateway-name`` label), a resource with
``targetRefs`` is ignored and ``selector.matchLabels`` must be a subset of
the workload's labels (no selector: every workload).  For a Gateway API
gateway, ``targetRefs`` must name it (``kind: Gateway`` in its namespace),
and without ``targetRefs`` the selector decides — except on a waypoint, which
only takes ``targetRefs`` (its ``Service``/``ServiceEntry``, or the
``istio-waypoint`` GatewayClass from the root namespace).  Then ``match``:
one of its entries must select the traffic, by ``mode`` (``CLIENT`` is
outbound traffic and every gateway's, ``SERVER`` inbound and a waypoint's)
and ``ports``.  ``type`` (``HTTP``, the default, or ``NETWORK``) picks the
chain.

**Order**: by ``phase`` — ``AUTHN`` (before Istio's authentication filters),
``AUTHZ`` (before its authorization filters), ``STATS`` (before its stats
filters), then the unspecified phase, last before the router — and within a
phase by ``priority``, higher first.  A resource without ``priority`` comes
after every one with a priority, negative ones included: istiod sorts it as
the lowest int32 (the reference says the default is 0; the two differ only
for negative priorities).  Ties keep istiod's order: the workload's namespace
first, then the root namespace, and within one by ``creationTimestamp``,
``name``.

**Translation** (istiod's ``buildWasmPluginConfigCommon``): the plugin is
named ``NAMESPACE.NAME``; ``pluginName`` is its root id; ``pluginConfig`` its
configuration, as JSON text (``abi.wire.well_known.struct_json``);
``failStrategy`` its failure policy; ``vmConfig.env`` its VM's environment
(``valueFrom: HOST`` from the scenario's ``host_environment``), with the
``ISTIO_META_WASM_*`` variables istiod adds, which reach the VM for a
``file://`` module (Istio's agent removes them only from modules it fetches).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abi.enums import FailurePolicy
from abi.frontends.plugin_sources import (
    FETCHED_SCHEMES,
    Code,
    FieldReader,
    ModuleFiles,
    ProxyEnvironment,
    Translation,
    WasmConfig,
    fetch_refused,
    plugin_spec,
    reload_note,
    settings_line,
    shared_vm_notes,
    verify_sha256,
    vm_environment,
)
from abi.frontends.scenario import PluginSpec, parse_scenario_documents, read_scenario_text
from abi.proxy.plugins import PluginKind, PluginOrigin
from abi.wire.key_paths import join_key
from abi.wire.well_known import WellKnownError, struct_json

API_VERSION = "extensions.istio.io/v1alpha1"
DEFAULT_ROOT_NAMESPACE = "istio-system"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
WAYPOINT_GATEWAY_CLASS = "istio-waypoint"
MIN_INT32 = -(1 << 31)
MAX_INT32 = (1 << 31) - 1

PHASES = ("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS")
CHAIN_PHASES = ("AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE")
ISTIO_FILTERS_AFTER = {"AUTHN": "Istio's authentication filters", "AUTHZ": "Istio's authorization filters",
                       "STATS": "", "UNSPECIFIED_PHASE": "Istio's stats and telemetry filters"}
"""The Istio filters (not simulated) after each phase's plugins in an HTTP
chain, as istiod's listener builder places them."""
FAIL_STRATEGIES = {"FAIL_CLOSE": FailurePolicy.FAIL_CLOSE, "FAIL_OPEN": FailurePolicy.FAIL_OPEN,
                   "FAIL_RELOAD": FailurePolicy.FAIL_RELOAD}
PLUGIN_TYPES = ("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK")
MODES = ("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER")
PULL_POLICIES = ("UNSPECIFIED_POLICY", "IfNotPresent", "Always")
SPEC_FIELDS = ("selector", "targetRef", "targetRefs", "url", "sha256", "imagePullPolicy", "imagePullSecret",
               "verificationKey", "pluginConfig", "pluginName", "phase", "priority", "failStrategy", "vmConfig",
               "match", "type")
SECRET_ENV = "ISTIO_META_WASM_IMAGE_PULL_SECRET"
POLICY_ENV = "ISTIO_META_WASM_IMAGE_PULL_POLICY"
RESOURCE_VERSION_ENV = "ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION"
SHA256_DIGITS = frozenset("0123456789abcdef")


# --- the workload ------------------------------------------------------------------------------------


class WorkloadKind(enum.Enum):
    SIDECAR = "sidecar"
    GATEWAY = "gateway"
    WAYPOINT = "waypoint"


class Direction(enum.Enum):
    """Traffic a sidecar handles: ``inbound`` (to its workload; mode
    ``SERVER``) or ``outbound`` (from it; mode ``CLIENT``)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True)
class ServiceRef:
    """A service a waypoint serves (``kind`` ``Service`` or ``ServiceEntry``)."""

    name: str
    namespace: str
    kind: str = "Service"


@dataclass(frozen=True)
class Workload:
    """The proxy the chains are built for: a sidecar (with the direction of
    the traffic), a gateway or a waypoint, its namespace, labels and the
    port the traffic uses (``None``: not given, so no ``match.ports``
    selects it)."""

    namespace: str = "default"
    labels: tuple[tuple[str, str], ...] = ()
    kind: WorkloadKind = WorkloadKind.SIDECAR
    direction: Direction = Direction.INBOUND
    port: int | None = None
    services: tuple[ServiceRef, ...] = ()
    name: str = ""

    @property
    def mode(self) -> str:
        """Istio's workload mode for the traffic: ``CLIENT`` or ``SERVER``."""
        return mode_of(self.kind, self.direction)

    @classmethod
    def make(cls, namespace: str = "default", labels: Mapping[str, str] | None = None, kind: str = "sidecar",
             direction: str = "inbound", port: int | None = None, services: Iterable[ServiceRef] = (),
             name: str = "") -> Workload:
        """A workload from plain values (``labels`` as a mapping, ``kind`` and
        ``direction`` by name)."""
        return cls(namespace, tuple((labels or {}).items()), WorkloadKind(kind), Direction(direction), port,
                   tuple(services), name)

    def directions(self) -> tuple[Direction, ...]:
        """The run direction first; a sidecar has the other one too."""
        if self.kind is not WorkloadKind.SIDECAR:
            return (self.direction,)
        return (self.direction, *(d for d in Direction if d is not self.direction))

    def describe(self) -> str:
        labels = ", ".join(f"{key}={value}" for key, value in self.labels) or "none"
        title = f"{self.namespace}/{self.name}" if self.name else f"in namespace {self.namespace}"
        return f"workload {title} ({self.kind.value}; labels {labels})"


def mode_of(kind: WorkloadKind, direction: Direction) -> str:
    if kind is WorkloadKind.GATEWAY:
        return "CLIENT"
    if kind is WorkloadKind.WAYPOINT:
        return "SERVER"
    return "SERVER" if direction is Direction.INBOUND else "CLIENT"


def workload_from_mapping(value: Any, reader: FieldReader, key_path: str) -> Workload:
    """The scenario's ``istio.workload``."""
    spec = reader.mapping(value, key_path, ("name", "namespace", "labels", "kind", "direction", "port",
                                            "services"))
    kinds = tuple(kind.value for kind in WorkloadKind)
    directions = tuple(direction.value for direction in Direction)
    services = []
    for index, item in enumerate(reader.listing(spec.get("services"), join_key(key_path, "services"))):
        where = f"{join_key(key_path, 'services')}[{index}]"
        service = reader.mapping(item, where, ("name", "namespace", "kind"))
        services.append(ServiceRef(
            name=_required_text(reader, service.get("name"), join_key(where, "name")),
            namespace=reader.text(service.get("namespace"), join_key(where, "namespace")) or "default",
            kind=reader.enum(service.get("kind"), join_key(where, "kind"), ("Service", "ServiceEntry"))))
    port = spec.get("port")
    return Workload(
        namespace=reader.text(spec.get("namespace"), join_key(key_path, "namespace")) or "default",
        labels=reader.labels(spec.get("labels"), join_key(key_path, "labels")),
        kind=WorkloadKind(reader.enum(spec.get("kind"), join_key(key_path, "kind"), kinds)),
        direction=Direction(reader.enum(spec.get("direction"), join_key(key_path, "direction"), directions)),
        port=None if port is None else reader.integer(port, join_key(key_path, "port"), 1, 65535),
        services=tuple(services),
        name=reader.text(spec.get("name"), join_key(key_path, "name")),
    )


# --- resources -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRef:
    group: str
    kind: str
    name: str
    namespace: str = ""

    def names(self, group: str, kind: str) -> bool:
        """Whether it refers to ``group``/``kind`` (``""`` and ``core`` are
        the same group)."""
        return (self.group or "core") == (group or "core") and self.kind == kind

    def describe(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class TrafficSelector:
    mode: str = "UNDEFINED"
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class EnvVar:
    name: str
    value_from: str = "INLINE"
    value: str = ""


@dataclass(frozen=True)
class WasmPlugin:
    """One validated ``WasmPlugin`` resource, and where it was read
    (``file``, ``document`` counted from 1, ``base``: the folder relative
    ``file://`` URLs are read from)."""

    name: str
    namespace: str
    file: str
    document: int
    base: str
    url: str
    creation: datetime.datetime | None = None
    resource_version: str = ""
    selector: tuple[tuple[str, str], ...] | None = None
    target_refs: tuple[TargetRef, ...] = ()
    sha256: str = ""
    image_pull_policy: str = "UNSPECIFIED_POLICY"
    image_pull_secret: str = ""
    verification_key: str = ""
    plugin_config: str = ""
    plugin_name: str = ""
    phase: str = "UNSPECIFIED_PHASE"
    priority: int | None = None
    fail_strategy: str = "FAIL_CLOSE"
    env: tuple[EnvVar, ...] = ()
    match: tuple[TrafficSelector, ...] = ()
    type: str = "HTTP"

    @property
    def resource(self) -> str:
        return f"WasmPlugin {self.namespace}/{self.name}"

    @property
    def plugin(self) -> str:
        """The Envoy plugin name istiod gives it (and so the plugin's name
        in glasswasm's reports)."""
        return f"{self.namespace}.{self.name}"

    @property
    def kind(self) -> PluginKind:
        return PluginKind.NETWORK if self.type == "NETWORK" else PluginKind.HTTP

    def reader(self) -> FieldReader:
        return FieldReader(self.file, self.resource)

    def position(self) -> str:
        priority = "no priority" if self.priority is None else f"priority {self.priority}"
        phase = "no phase" if self.phase == "UNSPECIFIED_PHASE" else self.phase
        return f"{phase}, {priority}"


@dataclass(frozen=True)
class PassedOver:
    """A document that is not a WasmPlugin."""

    what: str
    file: str
    document: int
    reason: str


@dataclass(frozen=True)
class IstioManifests:
    plugins: tuple[WasmPlugin, ...]
    passed_over: tuple[PassedOver, ...] = ()
    files: tuple[str, ...] = ()


def combine(parts: Iterable[IstioManifests]) -> IstioManifests:
    """Resources of several files (or scenario entries) together; one
    resource given twice is refused (``kubectl apply`` would keep only the
    last)."""
    plugins: dict[tuple[str, str], WasmPlugin] = {}
    passed: list[PassedOver] = []
    files: list[str] = []
    for part in parts:
        for plugin in part.plugins:
            earlier = plugins.setdefault((plugin.namespace, plugin.name), plugin)
            if earlier is not plugin:
                raise plugin.reader().error("metadata.name", f"given twice: also in {earlier.file} document "
                                                             f"{earlier.document}")
        passed.extend(part.passed_over)
        files.extend(part.files)
    return IstioManifests(tuple(plugins.values()), tuple(passed), tuple(files))


def read_manifests(path: str, label: str | None = None) -> IstioManifests:
    """The resources of one file (YAML, several documents allowed, or
    JSON), read with the scenario reader's bounds; relative ``file://`` URLs
    are read from the file's folder.  ``label`` names the file in reports
    and errors (default: ``path``)."""
    label = label or path
    documents = parse_scenario_documents(read_scenario_text(path), label)
    return manifests_from_documents(documents, label, Path(path).resolve().parent)


def manifests_from_documents(documents: Iterable[Any], file: str, base: Path) -> IstioManifests:
    plugins: list[WasmPlugin] = []
    passed: list[PassedOver] = []
    for index, document in enumerate(documents):
        for item, where in _items(document, index + 1, file):
            if item is None:
                continue
            reader = FieldReader(file, where)
            resource = reader.mapping(item, "")
            kind = resource.get("kind")
            if kind != "WasmPlugin":
                metadata = resource.get("metadata") if isinstance(resource.get("metadata"), Mapping) else {}
                name = f"{metadata.get('namespace', 'default')}/{metadata.get('name', '?')}"
                reason = ("EnvoyFilter patches are not applied by glasswasm" if kind == "EnvoyFilter"
                          else "not a WasmPlugin")
                passed.append(PassedOver(f"{kind or 'a document without kind'} {name}", file, index + 1, reason))
                continue
            plugins.append(_wasm_plugin(resource, file, index + 1, base))
    return combine([IstioManifests(tuple(plugins), tuple(passed), (file,))])


def _items(document: Any, number: int, file: str) -> Iterable[tuple[Any, str]]:
    """A document's resources: itself, or the ``items`` of a ``List``."""
    if isinstance(document, Mapping) and str(document.get("kind", "")).endswith("List"):
        reader = FieldReader(file, f"document {number} ({document.get('kind')})")
        for position, item in enumerate(reader.listing(document.get("items"), "items")):
            yield item, f"document {number} items[{position}]"
    else:
        yield document, f"document {number}"


def _wasm_plugin(resource: Mapping[str, Any], file: str, document: int, base: Path) -> WasmPlugin:
    reader = FieldReader(file, f"document {document} (WasmPlugin)")
    reader.mapping(resource, "", ("apiVersion", "kind", "metadata", "spec", "status"))
    if resource.get("apiVersion") != API_VERSION:
        raise reader.error("apiVersion", f"expected {API_VERSION}, got {resource.get('apiVersion')!r}")
    metadata = reader.mapping(resource.get("metadata"), "metadata")
    name = _required_text(reader, metadata.get("name"), "metadata.name")
    namespace = reader.text(metadata.get("namespace"), "metadata.namespace") or "default"
    reader = FieldReader(file, f"WasmPlugin {namespace}/{name}")
    if "spec" not in resource:
        raise reader.error("spec", "missing: a WasmPlugin needs a spec")
    spec = reader.mapping(resource["spec"], "spec", SPEC_FIELDS)
    selector = None
    if spec.get("selector") is not None:
        selector_spec = reader.mapping(spec["selector"], "spec.selector", ("matchLabels",))
        selector = reader.labels(selector_spec.get("matchLabels"), "spec.selector.matchLabels")
    target_refs = [_target_ref(reader, item, f"spec.targetRefs[{index}]")
                   for index, item in enumerate(reader.listing(spec.get("targetRefs"), "spec.targetRefs"))]
    if not target_refs and spec.get("targetRef") is not None:
        target_refs = [_target_ref(reader, spec["targetRef"], "spec.targetRef")]
    if len(target_refs) > 16:
        raise reader.error("spec.targetRefs", "at most 16 targetRefs")
    if selector is not None and target_refs:
        raise reader.error("spec", "only one of targetRefs or selector can be set")
    url = _required_text(reader, spec.get("url"), "spec.url")
    sha256 = reader.text(spec.get("sha256"), "spec.sha256")
    if sha256 and (len(sha256) != 64 or not set(sha256) <= SHA256_DIGITS):
        raise reader.error("spec.sha256", "expected 64 lower-case hexadecimal digits")
    plugin_name = reader.text(spec.get("pluginName"), "spec.pluginName")
    if len(plugin_name) > 256:
        raise reader.error("spec.pluginName", "at most 256 characters")
    secret = reader.text(spec.get("imagePullSecret"), "spec.imagePullSecret")
    if len(secret) > 253:
        raise reader.error("spec.imagePullSecret", "at most 253 characters")
    priority = spec.get("priority")
    return WasmPlugin(
        name=name, namespace=namespace, file=file, document=document, base=str(base), url=url,
        creation=_timestamp(reader, metadata.get("creationTimestamp")),
        resource_version=reader.text(_scalar_text(metadata.get("resourceVersion")), "metadata.resourceVersion"),
        selector=selector,
        target_refs=tuple(target_refs),
        sha256=sha256,
        image_pull_policy=reader.enum(spec.get("imagePullPolicy"), "spec.imagePullPolicy", PULL_POLICIES),
        image_pull_secret=secret,
        verification_key=reader.text(spec.get("verificationKey"), "spec.verificationKey"),
        plugin_config=_plugin_config(reader, spec.get("pluginConfig")),
        plugin_name=plugin_name,
        phase=reader.enum(spec.get("phase"), "spec.phase", PHASES),
        priority=None if priority is None else reader.integer(priority, "spec.priority", MIN_INT32, MAX_INT32),
        fail_strategy=reader.enum(spec.get("failStrategy"), "spec.failStrategy", tuple(FAIL_STRATEGIES)),
        env=_env(reader, spec.get("vmConfig")),
        match=tuple(_traffic_selector(reader, item, f"spec.match[{index}]")
                    for index, item in enumerate(reader.listing(spec.get("match"), "spec.match"))),
        type="NETWORK" if reader.enum(spec.get("type"), "spec.type", PLUGIN_TYPES) == "NETWORK" else "HTTP",
    )


def _required_text(reader: FieldReader, value: Any, key_path: str) -> str:
    text = reader.text(value, key_path)
    if not text:
        raise reader.error(key_path, "missing: must not be empty")
    return text


def _scalar_text(value: Any) -> Any:
    """``resourceVersion`` is text, but YAML reads an unquoted ``123`` as a
    number."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _timestamp(reader: FieldReader, value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise reader.error("metadata.creationTimestamp", "expected an RFC 3339 time such as "
                                                             "2024-05-01T10:00:00Z") from None
    else:
        raise reader.error("metadata.creationTimestamp", "expected an RFC 3339 time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)


def _plugin_config(reader: FieldReader, value: Any) -> str:
    """istiod passes an empty or missing ``pluginConfig`` as no configuration
    at all, anything else as its JSON text."""
    if value is None:
        return ""
    try:
        text = struct_json(value)
    except WellKnownError as error:
        raise reader.error(join_key("spec.pluginConfig", error.key_path), error.problem) from None
    return "" if text == "{}" else text


def _target_ref(reader: FieldReader, value: Any, key_path: str) -> TargetRef:
    spec = reader.mapping(value, key_path, ("group", "kind", "name", "namespace"))
    return TargetRef(group=reader.text(spec.get("group"), join_key(key_path, "group")),
                     kind=_required_text(reader, spec.get("kind"), join_key(key_path, "kind")),
                     name=_required_text(reader, spec.get("name"), join_key(key_path, "name")),
                     namespace=reader.text(spec.get("namespace"), join_key(key_path, "namespace")))


def _traffic_selector(reader: FieldReader, value: Any, key_path: str) -> TrafficSelector:
    spec = reader.mapping(value, key_path, ("mode", "ports"))
    ports = []
    for index, item in enumerate(reader.listing(spec.get("ports"), join_key(key_path, "ports"))):
        where = f"{join_key(key_path, 'ports')}[{index}]"
        port = reader.mapping(item, where, ("number",))
        ports.append(reader.integer(port.get("number"), join_key(where, "number"), 1, 65535))
    return TrafficSelector(reader.enum(spec.get("mode"), join_key(key_path, "mode"), MODES), tuple(ports))


def _env(reader: FieldReader, value: Any) -> tuple[EnvVar, ...]:
    vm_config = reader.mapping(value, "spec.vmConfig", ("env",))
    variables: list[EnvVar] = []
    entries = reader.listing(vm_config.get("env"), "spec.vmConfig.env")
    if len(entries) > 256:
        raise reader.error("spec.vmConfig.env", "at most 256 variables")
    for index, item in enumerate(entries):
        key_path = f"spec.vmConfig.env[{index}]"
        spec = reader.mapping(item, key_path, ("name", "valueFrom", "value"))
        name = _required_text(reader, spec.get("name"), join_key(key_path, "name"))
        value_from = reader.enum(spec.get("valueFrom"), join_key(key_path, "valueFrom"), ("INLINE", "HOST"))
        if value_from == "HOST" and "value" in spec:
            raise reader.error(join_key(key_path, "value"), "value may only be set when valueFrom is INLINE")
        if any(variable.name == name for variable in variables):
            raise reader.error(join_key(key_path, "name"), f"{name} is given twice")
        variables.append(EnvVar(name, value_from, reader.text(spec.get("value"), join_key(key_path, "value"))))
    return tuple(variables)


# --- which resources apply, in what order ----------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    plugin: WasmPlugin
    applies: bool
    reason: str


@dataclass(frozen=True)
class Chains:
    """What istiod builds for one workload and traffic direction: the HTTP
    and network chains in order, and why each resource applied or not."""

    workload: Workload
    direction: Direction
    http: tuple[WasmPlugin, ...]
    network: tuple[WasmPlugin, ...]
    decisions: tuple[Decision, ...]

    @property
    def mode(self) -> str:
        return mode_of(self.workload.kind, self.direction)


def build_chains(manifests: IstioManifests, workload: Workload, root_namespace: str = DEFAULT_ROOT_NAMESPACE,
                 direction: Direction | None = None) -> Chains:
    """The chains for the workload's traffic (or ``direction``)."""
    direction = direction or workload.direction
    mode = mode_of(workload.kind, direction)
    namespaces = list(dict.fromkeys([workload.namespace, root_namespace,
                                     *(service.namespace for service in workload.services)]))
    decisions = []
    applied = []
    for plugin in manifests.plugins:
        applies, reason = _attaches(plugin, workload, root_namespace, namespaces)
        if applies:
            matched, why = _matches_traffic(plugin, mode, workload.port)
            applies, reason = matched, (f"{reason}; {why}" if matched else why)
        decisions.append(Decision(plugin, applies, reason))
        if applies:
            applied.append(plugin)
    ordered = _in_chain_order(applied, namespaces)
    return Chains(workload, direction, tuple(plugin for plugin in ordered if plugin.kind is PluginKind.HTTP),
                  tuple(plugin for plugin in ordered if plugin.kind is PluginKind.NETWORK), tuple(decisions))


def _attaches(plugin: WasmPlugin, workload: Workload, root: str, namespaces: list[str]) -> tuple[bool, str]:
    if plugin.namespace not in namespaces:
        others = f" or its services' ({', '.join(namespaces[2:])})" if len(namespaces) > 2 else ""
        return False, (f"its namespace {plugin.namespace} is neither the workload's ({workload.namespace}){others} "
                       f"nor the root namespace ({root})")
    labels = dict(workload.labels)
    gateway = labels.get(GATEWAY_NAME_LABEL)
    refs = plugin.target_refs
    if gateway is None:
        if refs:
            return False, (f"it has targetRefs, which attach only to Gateway API gateways and waypoints (workloads "
                           f"with the label {GATEWAY_NAME_LABEL}); istiod ignores it elsewhere")
        return _selected(plugin, labels, root)
    if not refs:
        if workload.kind is WorkloadKind.WAYPOINT:
            return False, "a waypoint takes only WasmPlugins with targetRefs"
        return _selected(plugin, labels, root)
    waypoint = workload.kind is WorkloadKind.WAYPOINT
    for ref in refs:
        for service in workload.services if waypoint else ():
            kind = ("", "Service") if service.kind == "Service" else ("networking.istio.io", "ServiceEntry")
            if ref.names(*kind) and ref.name == service.name and plugin.namespace == service.namespace:
                return True, f"its targetRef {ref.describe()} is a service of this waypoint"
        if (waypoint and plugin.namespace == root and ref.names("gateway.networking.k8s.io", "GatewayClass")
                and ref.name == WAYPOINT_GATEWAY_CLASS):
            return True, (f"its targetRef GatewayClass {WAYPOINT_GATEWAY_CLASS} in the root namespace takes every "
                          f"waypoint")
        if plugin.namespace != workload.namespace or ref.namespace not in ("", workload.namespace):
            continue
        if ref.names("gateway.networking.k8s.io", "Gateway") and ref.name == gateway:
            return True, f"its targetRef Gateway {gateway} is this workload"
    named = ", ".join(ref.describe() for ref in refs)
    return False, f"its targetRefs ({named}) name nothing this workload is (Gateway {gateway}, in {workload.namespace})"


def _selected(plugin: WasmPlugin, labels: dict[str, str], root: str) -> tuple[bool, str]:
    where = "in the root namespace" if plugin.namespace == root else "in the workload's namespace"
    if plugin.selector is None:
        return True, f"{where}, without a selector"
    wanted = ", ".join(f"{key}={value}" for key, value in plugin.selector) or "{}"
    mismatched = [key for key, value in plugin.selector if labels.get(key) != value]
    if mismatched:
        found = ", ".join(f"{key}={labels[key]}" if key in labels else f"no {key}" for key in mismatched)
        return False, f"its selector {wanted} does not match the workload's labels ({found})"
    return True, f"{where}, its selector {wanted} matches"


def _matches_traffic(plugin: WasmPlugin, mode: str, port: int | None) -> tuple[bool, str]:
    if not plugin.match:
        return True, "no match: every direction and port"
    misses = []
    for index, selector in enumerate(plugin.match):
        mode_ok = selector.mode in ("UNDEFINED", "CLIENT_AND_SERVER") or selector.mode == mode
        port_ok = not selector.ports or port in selector.ports
        if mode_ok and port_ok:
            return True, f"match[{index}] selects {mode} traffic" + (f" on port {port}" if selector.ports else "")
        problems = []
        if not mode_ok:
            problems.append(f"mode {selector.mode}")
        if not port_ok:
            ports = ", ".join(map(str, selector.ports))
            problems.append(f"ports {ports}" + (" (the workload names no port)" if port is None else ""))
        misses.append(f"match[{index}] {' and '.join(problems)}")
    return False, f"no match entry selects {mode} traffic on port {port}: " + "; ".join(misses)


def _in_chain_order(applied: list[WasmPlugin], namespaces: list[str]) -> list[WasmPlugin]:
    """istiod's order (module docstring): per namespace, by creation time
    and name; then by phase, and stably by priority within a phase."""
    oldest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    collected = [plugin for namespace in namespaces
                 for plugin in sorted((p for p in applied if p.namespace == namespace),
                                      key=lambda p: (p.creation or oldest, p.name))]
    ordered = []
    for phase in CHAIN_PHASES:
        in_phase = [plugin for plugin in collected if plugin.phase == phase]
        ordered.extend(sorted(in_phase, key=lambda p: -(MIN_INT32 if p.priority is None else p.priority)))
    return ordered


# --- translation -----------------------------------------------------------------------------------


def translate(manifests: IstioManifests, workload: Workload, root_namespace: str = DEFAULT_ROOT_NAMESPACE,
              proxy: ProxyEnvironment = ProxyEnvironment()) -> Translation:
    """The plugins of the workload's chains (HTTP, then network), ready to
    run, with the notes and the explanation."""
    chains = build_chains(manifests, workload, root_namespace)
    files = ModuleFiles()
    specs = []
    notes: list[str] = []
    for plugin in (*chains.http, *chains.network):
        config = wasm_config(plugin, proxy, files)
        origin = PluginOrigin("istio", plugin.resource, plugin.file,
                              (("document", plugin.document), ("phase", plugin.phase), ("priority", plugin.priority)))
        specs.append(plugin_spec(config, plugin.kind, origin))
        notes.extend(config.notes)
    if not specs:
        notes.append(f"no WasmPlugin applies to the {workload.describe()} for its {chains.mode} traffic: it runs "
                     f"through no plugin")
    for item in manifests.passed_over:
        if item.reason != "not a WasmPlugin":
            notes.append(f"{item.what} ({item.file} document {item.document}): {item.reason}")
    notes.extend(shared_vm_notes(specs))
    explanation = explain(manifests, workload, root_namespace, chains, {spec.name: spec for spec in specs})
    return Translation(tuple(specs), tuple(notes), explanation + _note_lines(notes))


def wasm_config(plugin: WasmPlugin, proxy: ProxyEnvironment, files: ModuleFiles) -> WasmConfig:
    """The Envoy plugin configuration istiod writes for ``plugin``, read as
    glasswasm runs it."""
    code, notes = _code(plugin, proxy, files)
    key_values = {}
    if plugin.url.startswith("file://"):
        if plugin.image_pull_secret:
            key_values[SECRET_ENV] = f"kubernetes://{plugin.namespace}/{plugin.image_pull_secret}"
        if plugin.image_pull_policy != "UNSPECIFIED_POLICY":
            key_values[POLICY_ENV] = plugin.image_pull_policy
        key_values[RESOURCE_VERSION_ENV] = plugin.resource_version
    key_values.update((variable.name, variable.value) for variable in plugin.env if variable.value_from == "INLINE")
    environment, env_notes = vm_environment(
        sorted(key_values.items()), [variable.name for variable in plugin.env if variable.value_from == "HOST"],
        plugin.plugin, proxy, plugin.reader(), "spec.vmConfig.env")
    failure = FAIL_STRATEGIES[plugin.fail_strategy]
    notes += env_notes
    if failure is FailurePolicy.FAIL_RELOAD:
        notes += (reload_note(plugin.plugin),)
    if plugin.verification_key:
        notes += (f"{plugin.plugin}: spec.verificationKey is not implemented by Istio; ignored",)
    return WasmConfig(name=plugin.plugin, root_id=plugin.plugin_name, vm_id="", code=code,
                      configuration=plugin.plugin_config.encode("utf-8"), vm_configuration=b"",
                      environment=environment, failure=failure, notes=notes)


def _code(plugin: WasmPlugin, proxy: ProxyEnvironment, files: ModuleFiles) -> tuple[Code, tuple[str, ...]]:
    reader = plugin.reader()
    url = plugin.url
    notes: tuple[str, ...] = ()
    copy = proxy.local_copy(url)
    fetched = url.startswith(FETCHED_SCHEMES) or "://" not in url
    if copy is not None:
        path, written = copy
        if fetched:
            notes = (f"{plugin.plugin}: {url} is fetched by Istio's agent; glasswasm reads the local copy "
                     f"{written}",)
    elif url.startswith("file://"):
        path = Path(plugin.base) / url[len("file://"):]
    elif url.startswith(FETCHED_SCHEMES):
        raise reader.error("spec.url", fetch_refused(url))
    elif "://" in url:
        raise reader.error("spec.url", "the URL's scheme must be one of file, oci, http, https")
    elif (Path(plugin.base) / url).is_file():
        path = Path(plugin.base) / url
        notes = (f"{plugin.plugin}: spec.url {url} has no scheme, so Istio pulls it as the OCI image oci://{url}; "
                 f"glasswasm reads the local file {url} (write file://{url} for a file)",)
    else:
        raise reader.error("spec.url", f"{url} has no scheme, so Istio pulls it as an OCI image: "
                                       f"{fetch_refused('oci://' + url)}")
    data = files.read(path, reader, "spec.url")
    if plugin.sha256:
        if fetched:
            refusal = "lets every request through" if plugin.fail_strategy == "FAIL_OPEN" else "denies every request"
            consequence = f"Istio's agent refuses the module and puts a filter that {refusal} in its place"
        else:
            consequence = ("fix the sha256 or the file (Istio passes no sha256 for a file:// module, so it would "
                           "load this one unchecked)")
        verify_sha256(data, plugin.sha256, reader, "spec.sha256", consequence)
    return Code(data, url), notes


# --- explanation -----------------------------------------------------------------------------------


def explain(manifests: IstioManifests, workload: Workload, root_namespace: str, run: Chains,
            specs: Mapping[str, PluginSpec]) -> tuple[str, ...]:
    """What ``glasswasm proxy --explain`` prints: the chains for each
    direction of the workload's traffic (with what each plugin of the run
    direction, in ``specs``, is started with), and why each resource applied
    or not."""
    lines = [f"istio: {workload.describe()}, root namespace {root_namespace}",
             f"  {len(manifests.plugins)} WasmPlugin{'s' if len(manifests.plugins) != 1 else ''} read from "
             f"{', '.join(manifests.files) or 'the scenario'}"]
    lines.extend(f"  passed over: {item.what} ({item.file} document {item.document}): {item.reason}"
                 for item in manifests.passed_over)
    for direction in workload.directions():
        runs = direction is run.direction
        chains = run if runs else build_chains(manifests, workload, root_namespace, direction)
        port = f" on port {workload.port}" if workload.port is not None else " (no port given)"
        traffic = (f"{direction.value} traffic" if workload.kind is WorkloadKind.SIDECAR
                   else f"{workload.kind.value} traffic")
        ran = ", which the scenario runs" if runs else ", for comparison (not run)"
        lines.append(f"{traffic}{port} (mode {chains.mode}){ran}:")
        shown = specs if runs else {}
        lines.extend(_chain_lines("HTTP chain", chains.http, shown, True, "the router"))
        lines.extend(_chain_lines("network chain", chains.network, shown, False,
                                  "the terminal filter (tcp_proxy or the HTTP connection manager)"))
        lines.append("  why:")
        lines.extend(f"    {decision.plugin.resource}: {'applies' if decision.applies else 'does not apply'}: "
                     f"{decision.reason}" for decision in chains.decisions)
    return tuple(lines)


def _chain_lines(title: str, plugins: tuple[WasmPlugin, ...], specs: Mapping[str, PluginSpec], istio_filters: bool,
                 end: str) -> list[str]:
    if not plugins:
        return [f"  {title}: no plugins"]
    lines = [f"  {title}, in request order:"]
    number = 0
    for phase in CHAIN_PHASES:
        for plugin in (plugin for plugin in plugins if plugin.phase == phase):
            number += 1
            lines.append(f"    {number}. {plugin.plugin} ({plugin.resource}, {plugin.position()})")
            spec = specs.get(plugin.plugin)
            if spec is not None:
                lines.append(f"       {settings_line(spec)}")
        if istio_filters and ISTIO_FILTERS_AFTER[phase]:
            lines.append(f"       {ISTIO_FILTERS_AFTER[phase]} (not simulated)")
    lines.append(f"       {end}")
    return lines


def _note_lines(notes: list[str]) -> tuple[str, ...]:
    return ("notes:", *(f"  {note}" for note in notes)) if notes else ()
