"""What the Istio and Envoy front ends share: both end in Envoy's plugin
configuration (``envoy.extensions.wasm.v3.PluginConfig`` — istiod writes one
per WasmPlugin), and this module turns one into the ``PluginSpec`` the host
runs, as Envoy would run it.

* **Code** is read only from local files: a ``file://`` URL or a path, an
  Envoy ``code.local`` (``filename``, ``inline_bytes``, ``inline_string``,
  ``environment_variable``), or any URL the scenario maps to a local copy
  (``module_files``).  Nothing is fetched: an ``oci://`` or ``http(s)://``
  URL without such a copy is a one-line error saying how to give one.  A
  ``sha256`` is checked against the bytes read, and a mismatch is an error
  (Istio does not load the module then).
* **The VM's environment** is built as Envoy builds it: ``key_values``, then
  each of ``host_env_keys`` found in the *simulated* host's environment
  (``host_environment`` in the scenario; glasswasm never reads its own); a
  key in both is refused, as Envoy refuses it; a host key the host lacks is
  left out, as Envoy leaves it out (and the simulation says so).
* **Configuration** (an ``Any``) reaches the plugin as Envoy's
  ``anyToBytes`` hands it over: a ``StringValue``'s text, a
  ``BytesValue``'s bytes, else the message's protobuf encoding
  (``abi.wire.well_known``).
* **Failure policy**: ``FAIL_CLOSED`` (the default), ``FAIL_OPEN`` (or the
  deprecated ``fail_open``; both at once is refused, as Envoy refuses it) and
  ``FAIL_RELOAD`` map to the host's ``fail_close``, ``fail_open`` and
  ``fail_reload``; the reload backoff is not simulated (a failed VM is
  reloaded for the next stream), and each such plugin says so.

Whatever the simulation cannot honour becomes a *note*: one line, shown by
``glasswasm proxy`` on standard error, by ``--explain``, and in the plugin's
``origin`` in the report.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from abi.enums import FailurePolicy
from abi.errors import ManifestError
from abi.frontends.document_shapes import ShapeReader
from abi.frontends.scenario import PluginSpec
from abi.proxy.plugins import DEFAULT_FUEL_PER_CALLBACK, PluginKind, PluginOrigin
from abi.wire.key_paths import join_key
from abi.wire.text import readable
from abi.wire.well_known import (
    BYTES_VALUE,
    ENCODED_TYPES,
    STRING_VALUE,
    TYPED_STRUCTS,
    WellKnownError,
    base64_bytes,
    encode_message,
    value_kind,
)
from interp.errors import UsageError
from interp.loader import read_file

FETCHED_SCHEMES = ("oci://", "http://", "https://")


# --- reading manifests ---------------------------------------------------------------------------


class FieldReader(ShapeReader):
    """Reads the fields of one resource (a WasmPlugin, a listener...): every
    error is a ``ManifestError`` naming the file, the resource and the
    field.  A missing field is its type's default, as in Kubernetes and
    protobuf JSON."""

    missing_is_default = True
    key_word = "field"

    def __init__(self, source: str, resource: str) -> None:
        self.source = source
        self.resource = resource

    def error(self, key_path: str, problem: str) -> ManifestError:
        return ManifestError(problem, key_path, self.source, self.resource)

    def message(self, value: Any, key_path: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """A protobuf message in its JSON form: each field under its name or
        its lowerCamelCase JSON name (Envoy reads both); an unknown field is
        refused, as Envoy refuses it."""
        spec = self.mapping(value, key_path)
        by_json_name = {json_name(field): field for field in fields}
        result: dict[str, Any] = {}
        for key, item in spec.items():
            field = key if key in fields else by_json_name.get(key)
            if field is None:
                raise self.error(join_key(key_path, key), f"unknown field (expected one of: {', '.join(fields)})")
            if field in result:
                raise self.error(join_key(key_path, key), f"{field} is given twice")
            result[field] = item
        return result

    def text(self, value: Any, key_path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            quote = " (quote it: YAML reads it as a number)" if isinstance(value, (int, float)) else ""
            raise self.error(key_path, f"expected text, got {value_kind(value)}{quote}")
        if "\0" in value:
            raise self.error(key_path, "text may not hold a NUL character")
        return value

    def enum(self, value: Any, key_path: str, names: tuple[str, ...]) -> str:
        """One of ``names`` (the first is the default, for a missing value)."""
        if value is None:
            return names[0]
        if value not in names:
            raise self.error(key_path, f"expected one of {', '.join(names)}, got {value!r}")
        return str(value)

    def labels(self, value: Any, key_path: str) -> tuple[tuple[str, str], ...]:
        """A ``{name: value}`` mapping of text."""
        return tuple((key, self.text(item, join_key(key_path, key)))
                     for key, item in self.mapping(value, key_path).items())


def json_name(field: str) -> str:
    """Protobuf's JSON name of a field: ``root_id`` → ``rootId``."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# --- the simulated proxy's machine ----------------------------------------------------------------


@dataclass(frozen=True)
class ProxyEnvironment:
    """What the simulated proxy's machine holds: its environment variables
    (read for Istio's ``valueFrom: HOST`` and Envoy's ``host_env_keys``; the
    real environment is never read) and local copies of modules named by
    URL or path in the configuration (``module_files``: a ``file://`` URL
    also matches by its path)."""

    host_environment: tuple[tuple[str, str], ...] = ()
    module_files: tuple[tuple[str, str], ...] = ()
    base: str = "."
    """The folder relative ``module_files`` are read from."""

    def host_variable(self, name: str) -> str | None:
        return dict(self.host_environment).get(name)

    def local_copy(self, reference: str) -> tuple[Path, str] | None:
        """The local copy of ``reference``: its path, and the path as
        written (for reports)."""
        files = dict(self.module_files)
        written = files.get(reference)
        if written is None and reference.startswith("file://"):
            written = files.get(reference[len("file://"):])
        return None if written is None else (Path(self.base) / written, written)


# --- code -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """A plugin's module: its bytes, and how reports name it (the URL or
    path as written)."""

    wasm: bytes
    label: str


class ModuleFiles:
    """Reads module files once each (several plugins often share one)."""

    def __init__(self) -> None:
        self._read: dict[str, bytes] = {}

    def read(self, path: Path, reader: FieldReader, key_path: str) -> bytes:
        resolved = os.path.realpath(path)
        data = self._read.get(resolved)
        if data is None:
            if not os.path.exists(resolved):
                raise reader.error(key_path, f"no such file: {path}")
            if not os.path.isfile(resolved):
                raise reader.error(key_path, f"not a regular file: {path}")
            try:
                data = read_file(resolved)
            except UsageError as error:
                raise reader.error(key_path, str(error)) from None
            self._read[resolved] = data
        return data


def verify_sha256(data: bytes, expected: str, reader: FieldReader, key_path: str, consequence: str) -> None:
    """A mismatch is an error saying what the real proxy would do."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise reader.error(key_path, f"the module's sha256 is {actual}, not {expected}: {consequence}")


def fetch_refused(reference: str) -> str:
    return (f"{reference} is not fetched (glasswasm reads only local files): download it and name the local copy "
            f"in the scenario, `module_files: {{{reference!r}: FILE}}`")


# --- the VM's environment -------------------------------------------------------------------------


def vm_environment(key_values: Iterable[tuple[str, str]], host_env_keys: Iterable[str], plugin: str,
                   proxy: ProxyEnvironment, reader: FieldReader,
                   key_path: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The WASI environment Envoy gives the VM, and the notes about it."""
    environment = list(key_values)
    names = {name for name, _ in environment}
    notes = []
    for name, value in environment:
        _check_variable(name, value, reader, key_path)
    for name in host_env_keys:
        if name in names:
            raise reader.error(key_path, f"key {name} is duplicated in the environment variables of {plugin}; "
                                         f"Envoy requires every key to be unique")
        names.add(name)
        value = proxy.host_variable(name)
        if value is None:
            notes.append(f"{plugin}: host variable {name} is not in the scenario's host_environment, so the VM "
                         f"does not get it (Envoy leaves out a variable its host lacks)")
            continue
        _check_variable(name, value, reader, key_path)
        environment.append((name, value))
    return tuple(environment), tuple(notes)


def _check_variable(name: str, value: str, reader: FieldReader, key_path: str) -> None:
    if not name or "=" in name or "\0" in name or "\0" in value:
        raise reader.error(key_path, f"environment variable {name!r}: a name is not empty and has no '=', and "
                                     f"neither name nor value has a NUL character")


# --- configuration --------------------------------------------------------------------------------


def any_bytes(value: Any, reader: FieldReader, key_path: str, plugin: str) -> tuple[bytes, tuple[str, ...]]:
    """What the plugin reads for an Envoy ``google.protobuf.Any``
    configuration (``anyToBytes``), and a note when that is a protobuf
    encoding."""
    if value is None:
        return b"", ()
    spec = reader.mapping(value, key_path)
    type_url = spec.get("@type")
    if not isinstance(type_url, str) or "/" not in type_url:
        raise reader.error(join_key(key_path, "@type"), "an Any needs \"@type\": type.googleapis.com/TYPE (for "
                                                        f"text, type.googleapis.com/{STRING_VALUE} with value: TEXT)")
    type_name = type_url.rsplit("/", 1)[1]
    if type_name in TYPED_STRUCTS:
        body: Any = {key: item for key, item in spec.items() if key != "@type"}
    else:
        unknown = sorted(set(spec) - {"@type", "value"})
        if unknown:
            raise reader.error(join_key(key_path, unknown[0]), f"unknown field of a {type_name} (its JSON form is "
                                                               f"\"@type\" and value)")
        body = spec.get("value")
    try:
        if type_name == STRING_VALUE:
            if not isinstance(body, str):
                raise WellKnownError(f"expected text, got {value_kind(body)}", "value")
            return body.encode("utf-8"), ()
        if type_name == BYTES_VALUE:
            return base64_bytes(body, "value"), ()
        if type_name not in ENCODED_TYPES:
            raise reader.error(join_key(key_path, "@type"), f"Envoy hands the plugin the protobuf encoding of a "
                                                            f"{type_name}, which glasswasm cannot write: give it as "
                                                            f"a {BYTES_VALUE} (the encoding, in base64) or a "
                                                            f"{STRING_VALUE}")
        encoded = encode_message(type_name, body, "" if type_name in TYPED_STRUCTS else "value")
    except WellKnownError as error:
        raise reader.error(join_key(key_path, error.key_path), error.problem) from None
    note = (f"{plugin}: its {key_path} is a {type_name}, which Envoy hands the plugin as the message's protobuf "
            f"encoding ({len(encoded)} bytes), not as JSON; a {STRING_VALUE} holding JSON reaches it as text")
    return encoded, (note,)


# --- from a plugin configuration to a plugin ------------------------------------------------------


@dataclass(frozen=True)
class WasmConfig:
    """An ``envoy.extensions.wasm.v3.PluginConfig`` as glasswasm runs it."""

    name: str
    root_id: str
    vm_id: str
    code: Code
    configuration: bytes
    vm_configuration: bytes
    environment: tuple[tuple[str, str], ...]
    failure: FailurePolicy
    notes: tuple[str, ...] = ()


def reload_note(plugin: str) -> str:
    return (f"{plugin}: FAIL_RELOAD reloads a failed VM for the next stream; Envoy waits for its reload backoff "
            f"(reload_config, 1 s by default) first, which glasswasm does not simulate")


def plugin_spec(config: WasmConfig, kind: PluginKind, origin: PluginOrigin) -> PluginSpec:
    """The plugin the host runs for ``config``; ``origin`` gets its notes."""
    return PluginSpec(
        name=config.name, wasm=config.code.wasm, wasm_as_written=config.code.label, root_id=config.root_id,
        vm_id=config.vm_id, configuration=config.configuration, vm_configuration=config.vm_configuration,
        environment=config.environment, failure=config.failure, fuel=DEFAULT_FUEL_PER_CALLBACK, kind=kind,
        origin=replace(origin, notes=origin.notes + config.notes))


def shared_vm_notes(specs: Iterable[PluginSpec]) -> tuple[str, ...]:
    """Plugins Envoy would run in one VM (its VM key is the ``vm_id``, the
    VM configuration and the code, not the environment) that glasswasm runs
    in two because their environments differ."""
    first: dict[tuple[Any, ...], PluginSpec] = {}
    notes = []
    for spec in specs:
        code = spec.wasm if isinstance(spec.wasm, bytes) else spec.wasm.encode("utf-8")
        key = (spec.vm_id, bytes(spec.vm_configuration) if isinstance(spec.vm_configuration, bytes)
               else str(spec.vm_configuration), hashlib.sha256(code).digest())
        earlier = first.setdefault(key, spec)
        if earlier is not spec and earlier.environment != spec.environment:
            notes.append(f"{earlier.name} and {spec.name}: Envoy runs them in one VM (same vm_id, code and VM "
                         f"configuration; its VM key leaves out the environment, so the VM has {earlier.name}'s); "
                         f"glasswasm runs them in separate VMs, as their environments differ")
    return tuple(notes)


def settings_line(spec: PluginSpec) -> str:
    """What a plugin is started with, for explanations: root id, vm id,
    configurations and environment, those that are set."""
    parts = [f"module {spec.wasm_as_written}", f"failure policy {spec.failure.value}"]
    if spec.root_id:
        parts.append(f"root id {spec.root_id}")
    if spec.vm_id:
        parts.append(f"vm_id {spec.vm_id}")
    for title, value in (("configuration", spec.configuration), ("VM configuration", spec.vm_configuration)):
        if value:
            parts.append(f"{title} {readable(value)}")
    if spec.environment:
        parts.append("environment " + " ".join(f"{name}={value}" for name, value in spec.environment))
    return "; ".join(parts)


@dataclass(frozen=True)
class Translation:
    """Plugins translated from Istio or Envoy configuration: ``plugins`` in
    chain order (every kind), ``notes`` (one line each: what the simulation
    does differently, or leaves out), ``explanation`` (the lines
    ``glasswasm proxy --explain`` prints)."""

    plugins: tuple[PluginSpec, ...]
    notes: tuple[str, ...]
    explanation: tuple[str, ...]

    def of_kind(self, kind: PluginKind) -> tuple[PluginSpec, ...]:
        return tuple(spec for spec in self.plugins if spec.kind is kind)
