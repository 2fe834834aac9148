"""A scenario together with the Istio or Envoy configuration it names: the
plugins come from the very YAML a user applies to a cluster or gives Envoy,
translated (``abi.frontends.istio``, ``abi.frontends.envoy_config``) into
the ``PluginSpec``s the runner runs like any other.

Scenario keys, besides those of ``abi.frontends.scenario``::

    istio:
      resources: [mesh.yaml, {kind: WasmPlugin, ...}]   # files (relative to the scenario) or resources
      root_namespace: istio-system                      # the mesh's root namespace (default)
      workload:                                         # the proxy the chains are built for
        name: reviews-v1                                # optional, for the explanation
        namespace: bookinfo                             # default: default
        labels: {app: reviews}
        kind: sidecar                                   # or gateway, waypoint
        direction: inbound                              # a sidecar's traffic: inbound or outbound
        port: 9080                                      # the traffic's port (for match.ports)
        services: [{name: reviews, namespace: bookinfo, kind: Service}]   # a waypoint's
    envoy: envoy.yaml                   # or {file: envoy.yaml, listener: NAME, filter_chain: NAME}
    host_environment: {POD_NAME: reviews-v1-0}          # the simulated host's environment variables
    module_files: {"oci://registry/stamp:1.0": stamp.wasm}   # local copies of modules named by URL or path

The command line adds ``--istio FILE`` (repeatable), ``--envoy FILE`` and
``--envoy-listener NAME``.  Translated plugins come first in their chains,
then the scenario's own ``plugins`` (and ``network_plugins``, ``services``)
if it has some too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abi.frontends import envoy_config, istio
from abi.frontends.plugin_sources import FieldReader, ProxyEnvironment, Translation
from abi.frontends.scenario import Scenario, parse_scenario_text, read_scenario_text, scenario_from_document

SOURCE_KEYS = ("istio", "envoy", "host_environment", "module_files")
ISTIO_KEYS = ("resources", "root_namespace", "workload")
ENVOY_KEYS = ("file", "listener", "filter_chain")

IstioResource = str | os.PathLike[str] | Mapping[str, Any]
"""A file of resources, or one resource as a mapping."""


@dataclass(frozen=True)
class SourcedScenario:
    """A loaded scenario and, when its plugins came from Istio or Envoy
    configuration, the translation they came from."""

    scenario: Scenario
    translation: Translation | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.translation.notes if self.translation is not None else ()

    def explanation(self) -> tuple[str, ...]:
        """The lines ``glasswasm proxy --explain`` prints."""
        scenario = self.scenario
        lines = list(self.translation.explanation) if self.translation is not None else []
        own = [(title, [spec.name for spec in specs if spec.origin is None]) for title, specs in
               (("HTTP chain", scenario.plugins), ("network chain", scenario.network_plugins),
                ("services", scenario.services))]
        own = [(title, names) for title, names in own if names]
        if own:
            lines.append("the scenario's own plugins" + (", after the translated ones:" if lines else ":"))
            lines.extend(f"  {title}: {', '.join(names)}" for title, names in own)
        return tuple(lines)


def load_scenario_with_sources(path: str | os.PathLike[str], istio_files: Sequence[str] = (),
                               envoy_file: str | None = None,
                               envoy_listener: str | None = None) -> SourcedScenario:
    """Read a scenario file and the Istio or Envoy configuration it names
    (and ``istio_files``, ``envoy_file``, ``envoy_listener`` from the command
    line, relative to the working directory); every problem is one
    ``ScenarioError`` (a ``ManifestError`` when it is in a resource)."""
    source = os.fspath(path)
    document = parse_scenario_text(read_scenario_text(source), source)
    base = Path(source).resolve().parent
    if not isinstance(document, Mapping):
        return SourcedScenario(scenario_from_document(document, source, base))
    sources = {key: document[key] for key in SOURCE_KEYS if key in document}
    rest = {key: value for key, value in document.items() if key not in SOURCE_KEYS}
    translation = _translate(sources, FieldReader(source, ""), base, istio_files, envoy_file, envoy_listener)
    extra = translation.plugins if translation is not None else None
    return SourcedScenario(scenario_from_document(rest, source, base, extra), translation)


def _translate(sources: Mapping[str, Any], reader: FieldReader, base: Path, istio_files: Sequence[str],
               envoy_file: str | None, envoy_listener: str | None) -> Translation | None:
    proxy = ProxyEnvironment(reader.labels(sources.get("host_environment"), "host_environment"),
                             reader.labels(sources.get("module_files"), "module_files"), str(base))
    wants_istio = sources.get("istio") is not None or bool(istio_files)
    wants_envoy = sources.get("envoy") is not None or envoy_file is not None
    if wants_istio and wants_envoy:
        raise reader.error("istio", "give Istio resources or an Envoy configuration, not both (an Istio proxy's "
                                    "Envoy configuration comes from istiod)")
    if wants_istio:
        spec = reader.mapping(sources.get("istio"), "istio", ISTIO_KEYS)
        parts = []
        for index, item in enumerate(reader.listing(spec.get("resources"), "istio.resources")):
            key_path = f"istio.resources[{index}]"
            if isinstance(item, Mapping):
                parts.append(istio.manifests_from_documents([item], f"{reader.source} ({key_path})", base))
            else:
                written = reader.text(item, key_path)
                parts.append(istio.read_manifests(str(base / written), written))
        parts.extend(istio.read_manifests(file) for file in istio_files)
        workload = istio.workload_from_mapping(spec.get("workload"), reader, "istio.workload")
        root = reader.text(spec.get("root_namespace"), "istio.root_namespace") or istio.DEFAULT_ROOT_NAMESPACE
        return istio.translate(istio.combine(parts), workload, root, proxy)
    if wants_envoy:
        envoy = sources.get("envoy")
        spec = reader.mapping({"file": envoy} if isinstance(envoy, str) else envoy, "envoy", ENVOY_KEYS)
        listener = envoy_listener or reader.text(spec.get("listener"), "envoy.listener") or None
        filter_chain = reader.text(spec.get("filter_chain"), "envoy.filter_chain") or None
        if envoy_file is not None:
            config = envoy_config.read_envoy_config(envoy_file, proxy)
        else:
            written = reader.text(spec.get("file"), "envoy.file")
            if not written:
                raise reader.error("envoy.file", "missing: the Envoy configuration file")
            config = envoy_config.read_envoy_config(str(base / written), proxy, written)
        return envoy_config.translate(config, listener, filter_chain)
    return None


# --- the Python API --------------------------------------------------------------------------------


def istio_plugins(*resources: IstioResource, workload: istio.Workload = istio.Workload(),
                  root_namespace: str = istio.DEFAULT_ROOT_NAMESPACE,
                  host_environment: Mapping[str, str] | None = None,
                  module_files: Mapping[str, str | os.PathLike[str]] | None = None) -> Translation:
    """The plugins istiod would give ``workload`` from ``resources`` (files,
    or resources as mappings, whose relative ``file://`` URLs are read from
    the working directory), as the scenario's ``istio`` key builds them."""
    manifests = istio.combine(
        istio.manifests_from_documents([item], f"resources[{index}]", Path.cwd()) if isinstance(item, Mapping)
        else istio.read_manifests(os.fspath(item)) for index, item in enumerate(resources))
    return istio.translate(manifests, workload, root_namespace, _proxy(host_environment, module_files))


def envoy_plugins(config: str | os.PathLike[str], listener: str | None = None, filter_chain: str | None = None,
                  host_environment: Mapping[str, str] | None = None,
                  module_files: Mapping[str, str | os.PathLike[str]] | None = None) -> Translation:
    """The plugins Envoy would run for ``config``'s listener (the first, or
    ``listener``) and its bootstrap Wasm services."""
    read = envoy_config.read_envoy_config(os.fspath(config), _proxy(host_environment, module_files))
    return envoy_config.translate(read, listener, filter_chain)


def _proxy(host_environment: Mapping[str, str] | None,
           module_files: Mapping[str, str | os.PathLike[str]] | None) -> ProxyEnvironment:
    return ProxyEnvironment(tuple((host_environment or {}).items()),
                            tuple((key, os.fspath(value)) for key, value in (module_files or {}).items()))
