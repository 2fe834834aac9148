"""Scenario files: the plugins, the simulated world and the traffic, in YAML
or JSON, loaded and validated into frozen dataclasses.

::

    plugins:                    # the HTTP filter chain, in request order
      - name: auth              # unique; defaults to the file's stem
        wasm: auth.wasm         # relative to the scenario file
        root_id: ""             # optional
        vm_id: ""               # optional: plugins with the same vm_id, wasm,
                                #   vm_configuration and environment share one VM
        configuration: "..."    # optional: text, or a mapping/list sent as JSON text
        vm_configuration: "..." # optional, same forms
        environment: {K: V}     # optional WASI environment
        failure: fail_close     # or fail_open, fail_reload
        fuel: 100000000         # optional: instructions per callback
    network_plugins: []         # the TCP filter chain (same keys)
    services: []                # root-context-only plugins outside any chain (same keys)
    log_level: info             # optional: trace, debug, info, warn, error, critical
    random_seed: 0              # optional: seeds WASI random_get
    clock_start_ns: 1704067200000000000   # optional: the simulated clock's start
    stall_after_ms: 60000       # optional: no progress for that long is a stall
    limits: {max_body_bytes: 1048576}     # optional: the host's limits (abi.proxy.limits)
    properties: {"source.address": "10.0.0.1:5000"}
    shared_data: {"": {key: value}}       # initial shared data per vm_id
    foreign_functions: {rev: reverse}     # identity, reverse, upper, lower, base64_encode,
                                          #   base64_decode, {result: TEXT}, {status: NAME}
    upstreams:                  # clusters for proxy_http_call
      auth:                     # one answer, or a list used in order (the last repeats)
        - {status: 200, headers: {x-user: alice}, body: "ok", trailers: {}, delay_ms: 5}
        - {reset: true}         # the call fails
        - {timeout: true}       # the call's timeout expires (Envoy answers 504)
    grpc_upstreams:             # clusters for proxy_grpc_call / proxy_grpc_stream
      grpc:
        "echo.Echo/Say":        # one answer, or a list used in order (the last repeats)
          initial_metadata: {x-a: b}
          messages: ["hi", {base64: "AAE="}]
          trailing_metadata: {}
          status: 0             # 0-16
          message: ""
          delay_ms: 0
          timeout: false
    streams:                    # the HTTP timeline, one item after another:
      - name: first             # a stream (name optional: stream-N)
        at_ms: 0                # optional: starts at that time instead, overlapping others
        properties: {}          # optional: this stream's own properties
        request:
          headers: {":method": GET, ":path": /, ":authority": example.com}
          body: ["part one", "part two"]   # optional: text or a list of chunks
          trailers: {}                     # optional
        response:               # what the origin answers (default: 200, no body)
          headers: {":status": "200"}
          body: hello
      - wait_ms: 100            # let simulated time pass
      - reconfigure: {plugin: auth, configuration: "...", vm_configuration: "..."}
    connections:                # TCP connections, one after another unless at_ms
      - name: tcp-1
        at_ms: 0
        properties: {}
        events:
          - {downstream: "hello\\n", end_of_stream: false}   # the client sends
          - {upstream: "hi\\n"}                              # the origin sends
          - {wait_ms: 10}
          - {close: downstream}                             # or upstream
    expect:                     # what the run must show (abi.frontends.expectations):
      failures: [panic]         #   plugins expected to fail (or true: any); logs, metrics
                                # streams[N].expect and connections[N].expect: per stream / connection

Headers are a mapping or a list of ``[name, value]`` pairs (for repeated
names); values may be text or integers.  Bodies, data and messages are text
or ``{base64: ...}``.  Every error names the key path that is wrong, e.g.
``streams[1].request.headers: expected a mapping or a list of [name, value]
pairs``.

A scenario file is input like any other, and may be hostile: it is read
only if it is a regular file of at most 16 MiB; YAML aliases (``*name``) are
refused (they are how "billion laughs" documents and circular structures
are built; write the value again instead), as is nesting deeper than 64
levels; text must be encodable (no lone surrogates such as ``"\ud800"``),
and every number is checked against its range (times as unsigned 64-bit
nanoseconds or milliseconds up to ``MAX_MS``, statuses 100-999, gRPC
statuses 0-16, ...).  Every refusal is a one-line ``ScenarioError``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from abi.enums import FailurePolicy, LogLevel, Status
from abi.errors import ScenarioError
from abi.frontends.document_shapes import ShapeReader
from abi.frontends.expectations import (
    ConnectionExpectations,
    ExpectationReader,
    RunExpectations,
    ScenarioExpectations,
    StreamExpectations,
)
from abi.proxy.grpc_callouts import GrpcAnswer
from abi.proxy.http_callouts import UpstreamResponse
from abi.proxy.http_stream import OriginResponse
from abi.proxy.limits import HostLimits
from abi.proxy.plugins import DEFAULT_FUEL_PER_CALLBACK, PluginKind, PluginOrigin
from abi.wire.key_paths import join_key, value_kind
from abi.wire.text import as_bytes

Headers = tuple[tuple[str, str | bytes], ...]
MAX_SCENARIO_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_U64 = (1 << 64) - 1
MAX_MS = 10 ** 12
"""The longest time a scenario may name, in milliseconds (about 31 years)."""
FOREIGN_FUNCTION_BEHAVIOURS = ("identity", "reverse", "upper", "lower", "base64_encode", "base64_decode")
MAX_COUNT = (1 << 63) - 1
PLUGIN_KEYS = ("name", "wasm", "root_id", "vm_id", "configuration", "vm_configuration", "environment", "failure",
               "fuel")


@dataclass(frozen=True)
class PluginSpec:
    """One plugin to load: from the scenario's plugin lists, or translated
    from Istio or Envoy configuration (``origin`` says from what; ``wasm`` is
    then a path or the module's bytes)."""

    name: str
    wasm: str | bytes
    wasm_as_written: str = ""
    root_id: str = ""
    vm_id: str = ""
    configuration: Any = ""
    vm_configuration: Any = ""
    environment: tuple[tuple[str, str], ...] = ()
    failure: FailurePolicy = FailurePolicy.FAIL_CLOSE
    fuel: int | None = DEFAULT_FUEL_PER_CALLBACK
    kind: PluginKind = PluginKind.HTTP
    origin: PluginOrigin | None = None


@dataclass(frozen=True)
class RequestSpec:
    headers: Headers
    body: tuple[bytes, ...] = ()
    trailers: Headers = ()


@dataclass(frozen=True)
class StreamSpec:
    name: str
    request: RequestSpec
    response: OriginResponse
    properties: tuple[tuple[str, Any], ...] = ()
    at_ms: int | None = None
    expect: StreamExpectations | None = None


@dataclass(frozen=True)
class WaitStep:
    wait_ms: int


@dataclass(frozen=True)
class ReconfigureStep:
    plugin: str
    configuration: Any = None  # None: unchanged
    vm_configuration: Any = None


TimelineItem = StreamSpec | WaitStep | ReconfigureStep


@dataclass(frozen=True)
class ConnectionEvent:
    """One step of a connection: ``kind`` is ``downstream`` or ``upstream``
    (data sent by the client or the origin), ``close`` (``side`` closes) or
    ``wait``."""

    kind: str
    data: bytes = b""
    end_of_stream: bool = False
    side: str = ""
    wait_ms: int = 0


@dataclass(frozen=True)
class ConnectionSpec:
    name: str
    events: tuple[ConnectionEvent, ...]
    properties: tuple[tuple[str, Any], ...] = ()
    at_ms: int | None = None
    expect: ConnectionExpectations | None = None


@dataclass(frozen=True)
class Scenario:
    source: str
    plugins: tuple[PluginSpec, ...]
    timeline: tuple[TimelineItem, ...] = ()
    upstreams: tuple[tuple[str, tuple[UpstreamResponse, ...]], ...] = ()
    properties: tuple[tuple[str, Any], ...] = ()
    log_level: LogLevel = LogLevel.INFO
    random_seed: int = 0
    clock_start_ns: int | None = None
    network_plugins: tuple[PluginSpec, ...] = ()
    services: tuple[PluginSpec, ...] = ()
    connections: tuple[ConnectionSpec, ...] = ()
    grpc_upstreams: tuple[tuple[str, tuple[tuple[str, tuple[GrpcAnswer, ...]], ...]], ...] = ()
    foreign_functions: tuple[tuple[str, Any], ...] = ()
    shared_data: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...] = ()
    stall_after_ms: int | None = None
    run_expectations: RunExpectations = RunExpectations()
    limits: HostLimits = HostLimits()

    @property
    def streams(self) -> tuple[StreamSpec, ...]:
        return tuple(item for item in self.timeline if isinstance(item, StreamSpec))

    @property
    def all_plugins(self) -> tuple[PluginSpec, ...]:
        return (*self.plugins, *self.network_plugins, *self.services)

    @property
    def expectations(self) -> ScenarioExpectations:
        return ScenarioExpectations(
            self.run_expectations,
            tuple((stream.name, stream.expect) for stream in self.streams if stream.expect is not None),
            tuple((connection.name, connection.expect) for connection in self.connections
                  if connection.expect is not None))

    @property
    def expected_failures(self) -> tuple[str, ...] | bool:
        """The plugins ``expect.failures`` names (``True``: any may fail)."""
        failures = self.run_expectations.failures
        return failures if isinstance(failures, bool) else tuple(item.plugin for item in failures)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file (``.json`` as JSON, anything else as
    YAML); ``ScenarioError`` names the file and the offending key."""
    source = os.fspath(path)
    document = parse_scenario_text(read_scenario_text(source), source)
    return scenario_from_document(document, source, Path(source).resolve().parent)


def read_scenario_text(source: str) -> str:
    """The file's text: a regular file, at most ``MAX_SCENARIO_BYTES``, UTF-8."""
    try:
        with open(source, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise ScenarioError("not a regular file", source=source)
            data = stream.read(MAX_SCENARIO_BYTES + 1)
    except OSError as error:
        raise ScenarioError(f"cannot read the scenario: {error.strerror or error}", source=source) from None
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"larger than {MAX_SCENARIO_BYTES} bytes", source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("the scenario is not UTF-8 text", source=source) from None


class _ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and deep nesting (see the module
    docstring)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted in scenario files: "
                                                          "write the value out", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_scenario_text(text: str, source: str) -> Any:
    """The document in ``text`` (JSON when ``source`` ends in ``.json``, else
    YAML), checked for depth and encodable text."""
    (document,) = _parse_documents(text, source, lambda loader: [loader.get_single_data()])
    return document


def parse_scenario_documents(text: str, source: str) -> list[Any]:
    """Every document of a multi-document YAML text (``---`` between them, as
    ``kubectl apply -f`` reads them; empty documents are ``None``), or the one
    of a JSON file, each checked as ``parse_scenario_text`` checks one."""
    return _parse_documents(text, source, lambda loader: list(_documents(loader)))


def _documents(loader: _ScenarioLoader) -> Any:
    while loader.check_data():
        yield loader.get_data()


def _parse_documents(text: str, source: str, read: Any) -> list[Any]:
    if source.endswith(".json"):
        try:
            documents = [json.loads(text)]
        except json.JSONDecodeError as error:
            raise ScenarioError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
                                source=source) from None
        except RecursionError:
            raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep", source=source) from None
    else:
        try:
            loader = _ScenarioLoader(text)
            try:
                documents = read(loader)
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise ScenarioError(f"invalid YAML at {where}{error.problem}", source=source) from None
        except yaml.YAMLError as error:
            raise ScenarioError(f"invalid YAML: {' '.join(str(error).split())}", source=source) from None
    for document in documents:
        _check_values(document, source)
    return documents


def _check_values(document: Any, source: str) -> None:
    """Every level within ``MAX_DEPTH``, every text encodable (iteratively:
    the document may be deep)."""
    pending: list[tuple[Any, str, int]] = [(document, "", 0)]
    while pending:
        value, key_path, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep", key_path, source)
        if isinstance(value, str):
            _check_text(value, key_path, source)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str):
                    _check_text(key, key_path, source)
                pending.append((item, join_key(key_path, str(key)), depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{key_path}[{index}]", depth + 1) for index, item in enumerate(value))


def _check_text(text: str, key_path: str, source: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ScenarioError(f"the text has the lone surrogate U+{ord(text[error.start]):04X}, which no bytes "
                            f"encode (write the bytes with {{base64: ...}} instead)", key_path, source) from None


def scenario_from_document(document: Any, source: str, base: Path,
                           extra_plugins: tuple[PluginSpec, ...] | None = None) -> Scenario:
    """Validate a parsed scenario; relative ``wasm`` paths are resolved
    against ``base``.  ``extra_plugins`` (translated from Istio or Envoy
    configuration, ``abi.frontends.scenario_sources``) come first in their
    chains, before the scenario's own plugins of the same kind; when given
    (even empty), chains may be empty, as a proxy's may be."""
    return _Validator(source, base).scenario(document, extra_plugins)


class _Validator(ShapeReader):
    def __init__(self, source: str, base: Path) -> None:
        self.source = source
        self.base = base
        self.expectations = ExpectationReader(self, set())

    def error(self, key_path: str, problem: str) -> ScenarioError:
        return ScenarioError(problem, key_path, self.source)

    # --- shapes (the rest are ShapeReader's) -----------------------------------------------

    def text(self, value: Any, key_path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(key_path, f"expected text, got {value_kind(value)}")
        return str(value)

    def headers(self, value: Any, key_path: str) -> Headers:
        if value is None:
            return ()
        if isinstance(value, Mapping):
            return tuple((self.text(name, key_path), self.header_value(item, join_key(key_path, str(name))))
                         for name, item in value.items())
        if isinstance(value, list):
            pairs = []
            for index, pair in enumerate(value):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.error(f"{key_path}[{index}]", "expected a [name, value] pair")
                pairs.append((self.text(pair[0], f"{key_path}[{index}]"),
                              self.header_value(pair[1], f"{key_path}[{index}]")))
            return tuple(pairs)
        raise self.error(key_path, "expected a mapping or a list of [name, value] pairs")

    def header_value(self, value: Any, key_path: str) -> str | bytes:
        """Text (or a number), or ``{base64: ...}`` for bytes that are not text."""
        return self.data(value, key_path) if isinstance(value, Mapping) else self.text(value, key_path)

    def data(self, value: Any, key_path: str) -> bytes:
        """Text, or ``{base64: ...}`` for bytes that are not text."""
        if isinstance(value, (str, bytes)):
            return as_bytes(value)
        if isinstance(value, Mapping):
            encoded = self.mapping(value, key_path, ("base64",)).get("base64")
            if not isinstance(encoded, str):
                raise self.error(join_key(key_path, "base64"), "expected base64 text")
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise self.error(join_key(key_path, "base64"), "not valid base64") from None
        raise self.error(key_path, f"expected text or {{base64: ...}}, got {value_kind(value)}")

    def body(self, value: Any, key_path: str) -> tuple[bytes, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            return tuple(self.data(chunk, f"{key_path}[{index}]") for index, chunk in enumerate(value))
        chunk = self.data(value, key_path)
        return (chunk,) if chunk else ()

    def configuration(self, value: Any, key_path: str) -> Any:
        if value is None:
            return ""
        if isinstance(value, (str, bytes, Mapping, list)):
            return value
        raise self.error(key_path, f"expected text, a mapping or a list, got {value_kind(value)}")

    def properties(self, value: Any, key_path: str) -> tuple[tuple[str, Any], ...]:
        if value is None:
            return ()
        mapping = self.mapping(value, key_path)
        for key, item in mapping.items():
            if not key or any(not segment for segment in key.split(".")):
                raise self.error(join_key(key_path, key), "a property path needs non-empty segments between dots")
            self.property_value(item, join_key(key_path, key))
        return tuple(mapping.items())

    def property_value(self, value: Any, key_path: str) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value <= MAX_U64:
            raise self.error(key_path, "an integer property value must fit in 64 bits")
        if isinstance(value, (str, bytes, bool, int, float)):
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                self.property_value(item, join_key(key_path, str(key)))
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.property_value(item, f"{key_path}[{index}]")
            return
        raise self.error(key_path, f"a property value must be text, a number, true/false, a mapping or a "
                                   f"list, got {value_kind(value)}")

    def optional_ms(self, spec: Mapping[str, Any], key: str, key_path: str) -> int | None:
        return None if spec.get(key) is None else self.integer(spec[key], join_key(key_path, key), maximum=MAX_MS)

    # --- the document ------------------------------------------------------------------------

    def scenario(self, document: Any, extra_plugins: tuple[PluginSpec, ...] | None = None) -> Scenario:
        top = self.mapping(document, "", (
            "plugins", "network_plugins", "services", "streams", "connections", "upstreams", "grpc_upstreams",
            "foreign_functions", "shared_data", "properties", "log_level", "random_seed", "clock_start_ns",
            "stall_after_ms", "limits", "expect"))
        chains = {}
        for key, kind in (("plugins", PluginKind.HTTP), ("network_plugins", PluginKind.NETWORK),
                          ("services", PluginKind.SERVICE)):
            translated = tuple(spec for spec in extra_plugins or () if spec.kind is kind)
            chains[key] = (translated, self.plugins(top.get(key), key, kind))
        plugins, network_plugins, services = (translated + own for translated, own in chains.values())
        if not plugins and not network_plugins and not services and extra_plugins is None:
            raise self.error("plugins", "missing: a scenario needs at least one plugin (plugins, "
                                        "network_plugins or services)")
        placed = [(spec.name, spec.origin.resource if spec.origin else f"{key}[{index - len(translated)}].name")
                  for key, (translated, own) in chains.items()
                  for index, spec in enumerate(translated + own)]
        names = [name for name, _ in placed]
        for index, (name, key_path) in enumerate(placed):
            if name in names[:index]:
                raise self.error(key_path, f"duplicate plugin name {name!r} (names are unique across plugins, "
                                           f"network_plugins and services)")
        level = LogLevel.INFO
        if top.get("log_level") is not None:
            try:
                level = LogLevel.from_label(self.text(top["log_level"], "log_level"))
            except ValueError:
                raise self.error("log_level", "expected one of trace, debug, info, warn, error, critical") from None
        self.expectations = ExpectationReader(self, set(names))
        timeline = self.timeline(top.get("streams"), set(names))
        connections = tuple(self.connection(item, f"connections[{index}]", index)
                            for index, item in enumerate(self.listing(top.get("connections"), "connections",
                                                                      "connections")))
        traffic = [(item.name, f"streams[{index}].name") for index, item in enumerate(timeline)
                   if isinstance(item, StreamSpec)] + \
            [(connection.name, f"connections[{index}].name") for index, connection in enumerate(connections)]
        traffic_names = [name for name, _ in traffic]
        for index, (name, key_path) in enumerate(traffic):
            if name in traffic_names[:index]:
                raise self.error(key_path, f"duplicate stream or connection name {name!r}")
        if connections and not network_plugins and extra_plugins is None:
            raise self.error("connections", "connections need network_plugins to run through")
        return Scenario(
            source=self.source,
            plugins=plugins,
            timeline=timeline,
            upstreams=self.upstreams(top.get("upstreams")),
            properties=self.properties(top.get("properties"), "properties"),
            log_level=level,
            random_seed=self.integer(top.get("random_seed", 0), "random_seed", maximum=MAX_U64),
            clock_start_ns=(None if top.get("clock_start_ns") is None
                            else self.integer(top["clock_start_ns"], "clock_start_ns", maximum=MAX_U64)),
            network_plugins=network_plugins,
            services=services,
            connections=connections,
            grpc_upstreams=self.grpc_upstreams(top.get("grpc_upstreams")),
            foreign_functions=self.foreign_functions(top.get("foreign_functions")),
            shared_data=self.shared_data(top.get("shared_data")),
            stall_after_ms=(None if top.get("stall_after_ms") is None
                            else self.integer(top["stall_after_ms"], "stall_after_ms", minimum=1, maximum=MAX_MS)),
            run_expectations=self.expectations.run(top.get("expect")),
            limits=self.limits(top.get("limits")),
        )

    def limits(self, value: Any) -> HostLimits:
        if value is None:
            return HostLimits()
        spec = self.mapping(value, "limits", HostLimits.names())
        minimum = {"host_work_per_byte": 0}
        return HostLimits(**{key: self.integer(item, join_key("limits", key), minimum=minimum.get(key, 1),
                                               maximum=MAX_COUNT)
                             for key, item in spec.items()})

    def plugins(self, value: Any, key_path: str, kind: PluginKind) -> tuple[PluginSpec, ...]:
        return tuple(self.plugin(item, f"{key_path}[{index}]", kind)
                     for index, item in enumerate(self.listing(value, key_path, "plugins")))

    def plugin(self, value: Any, key_path: str, kind: PluginKind) -> PluginSpec:
        spec = self.mapping(value, key_path, PLUGIN_KEYS)
        if "wasm" not in spec:
            raise self.error(join_key(key_path, "wasm"), "missing: the plugin's .wasm (or .wat) file")
        wasm = self.text(spec["wasm"], join_key(key_path, "wasm"))
        path = (self.base / wasm).resolve()
        if not path.exists():
            raise self.error(join_key(key_path, "wasm"), f"no such file: {path}")
        if not path.is_file():
            raise self.error(join_key(key_path, "wasm"), f"not a regular file: {path}")
        name = self.text(spec["name"], join_key(key_path, "name")) if "name" in spec else Path(wasm).stem
        if not name:
            raise self.error(join_key(key_path, "name"), "must not be empty")
        environment = self.mapping(spec.get("environment") or {}, join_key(key_path, "environment"))
        failure = FailurePolicy.FAIL_CLOSE
        if "failure" in spec:
            failure_path = join_key(key_path, "failure")
            try:
                failure = FailurePolicy(self.text(spec["failure"], failure_path))
            except ValueError:
                raise self.error(failure_path, "expected fail_close, fail_open or fail_reload") from None
        fuel = spec.get("fuel", DEFAULT_FUEL_PER_CALLBACK)
        return PluginSpec(
            name=name,
            wasm=str(path),
            wasm_as_written=wasm,
            root_id=self.text(spec.get("root_id", ""), join_key(key_path, "root_id")),
            vm_id=self.text(spec.get("vm_id", ""), join_key(key_path, "vm_id")),
            configuration=self.configuration(spec.get("configuration"), join_key(key_path, "configuration")),
            vm_configuration=self.configuration(spec.get("vm_configuration"), join_key(key_path, "vm_configuration")),
            environment=tuple((key, self.text(item, join_key(join_key(key_path, "environment"), key)))
                              for key, item in environment.items()),
            failure=failure,
            fuel=None if fuel is None else self.integer(fuel, join_key(key_path, "fuel"), minimum=1, maximum=MAX_COUNT),
            kind=kind,
        )

    def upstreams(self, value: Any) -> tuple[tuple[str, tuple[UpstreamResponse, ...]], ...]:
        if value is None:
            return ()
        clusters = self.mapping(value, "upstreams")
        return tuple((cluster, self.answers(answers, join_key("upstreams", cluster), self.upstream_response))
                     for cluster, answers in clusters.items())

    def answers(self, value: Any, key_path: str, one: Any) -> tuple[Any, ...]:
        """One answer, or a non-empty list of answers."""
        if isinstance(value, list):
            if not value:
                raise self.error(key_path, "expected at least one answer")
            return tuple(one(item, f"{key_path}[{index}]") for index, item in enumerate(value))
        return (one(value, key_path),)

    def upstream_response(self, value: Any, key_path: str) -> UpstreamResponse:
        spec = self.mapping(value, key_path, ("status", "headers", "body", "trailers", "reset", "timeout",
                                              "delay_ms"))
        body = self.body(spec.get("body"), join_key(key_path, "body"))
        return UpstreamResponse(
            status=self.integer(spec.get("status", 200), join_key(key_path, "status"), minimum=100, maximum=999),
            headers=self.headers(spec.get("headers"), join_key(key_path, "headers")),
            body=b"".join(body),
            trailers=self.headers(spec.get("trailers"), join_key(key_path, "trailers")),
            reset=self.boolean(spec.get("reset", False), join_key(key_path, "reset")),
            timeout=self.boolean(spec.get("timeout", False), join_key(key_path, "timeout")),
            delay_ms=self.integer(spec.get("delay_ms", 0), join_key(key_path, "delay_ms"), maximum=MAX_MS),
        )

    def grpc_upstreams(self, value: Any) -> tuple[tuple[str, tuple[tuple[str, tuple[GrpcAnswer, ...]], ...]], ...]:
        if value is None:
            return ()
        clusters = self.mapping(value, "grpc_upstreams")
        result = []
        for cluster, methods in clusters.items():
            cluster_path = join_key("grpc_upstreams", cluster)
            method_specs = self.mapping(methods or {}, cluster_path)
            entries = []
            for method, answers in method_specs.items():
                if method.count("/") != 1 or not all(method.split("/")):
                    raise self.error(join_key(cluster_path, method), "a method is written package.Service/Method")
                entries.append((method, self.answers(answers, join_key(cluster_path, method), self.grpc_answer)))
            result.append((cluster, tuple(entries)))
        return tuple(result)

    def grpc_answer(self, value: Any, key_path: str) -> GrpcAnswer:
        spec = self.mapping(value, key_path, ("initial_metadata", "messages", "trailing_metadata", "status",
                                              "message", "delay_ms", "timeout"))
        messages = spec.get("messages")
        return GrpcAnswer(
            initial_metadata=self.headers(spec.get("initial_metadata"), join_key(key_path, "initial_metadata")),
            messages=tuple(self.data(item, f"{join_key(key_path, 'messages')}[{index}]")
                           for index, item in enumerate(self.listing(messages, join_key(key_path, "messages"),
                                                                     "messages"))),
            trailing_metadata=self.headers(spec.get("trailing_metadata"), join_key(key_path, "trailing_metadata")),
            status=self.integer(spec.get("status", 0), join_key(key_path, "status"), maximum=16),
            message=self.text(spec.get("message", ""), join_key(key_path, "message")),
            delay_ms=self.integer(spec.get("delay_ms", 0), join_key(key_path, "delay_ms"), maximum=MAX_MS),
            timeout=self.boolean(spec.get("timeout", False), join_key(key_path, "timeout")),
        )

    def foreign_functions(self, value: Any) -> tuple[tuple[str, Any], ...]:
        if value is None:
            return ()
        functions = self.mapping(value, "foreign_functions")
        result = []
        for name, behaviour in functions.items():
            key_path = join_key("foreign_functions", name)
            if isinstance(behaviour, str):
                if behaviour not in FOREIGN_FUNCTION_BEHAVIOURS:
                    raise self.error(key_path, f"expected one of {', '.join(FOREIGN_FUNCTION_BEHAVIOURS)}, "
                                               f"{{result: TEXT}} or {{status: NAME}}")
                result.append((name, behaviour))
                continue
            spec = self.mapping(behaviour, key_path, ("result", "status"))
            if len(spec) != 1:
                raise self.error(key_path, "give either result or status")
            if "result" in spec:
                result.append((name, ("result", self.data(spec["result"], join_key(key_path, "result")))))
            else:
                status_name = self.text(spec["status"], join_key(key_path, "status")).upper()
                if status_name not in Status.__members__:
                    raise self.error(join_key(key_path, "status"), f"expected a status name "
                                                                   f"({', '.join(Status.__members__)})")
                result.append((name, ("status", Status[status_name])))
        return tuple(result)

    def shared_data(self, value: Any) -> tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]:
        if value is None:
            return ()
        vms = self.mapping(value, "shared_data")
        return tuple((vm_id, self._shared_entries(entries, join_key("shared_data", vm_id)))
                     for vm_id, entries in vms.items())

    def _shared_entries(self, entries: Any, key_path: str) -> tuple[tuple[str, bytes], ...]:
        return tuple((key, self.data(item, join_key(key_path, key)))
                     for key, item in self.mapping(entries or {}, key_path).items())

    # --- traffic -------------------------------------------------------------------------------------

    def timeline(self, value: Any, plugins: set[str]) -> tuple[TimelineItem, ...]:
        items: list[TimelineItem] = []
        count = 0
        for index, item in enumerate(self.listing(value, "streams", "streams and steps")):
            key_path = f"streams[{index}]"
            if isinstance(item, Mapping) and "wait_ms" in item:
                step = self.mapping(item, key_path, ("wait_ms",))
                items.append(WaitStep(self.integer(step["wait_ms"], join_key(key_path, "wait_ms"), maximum=MAX_MS)))
            elif isinstance(item, Mapping) and "reconfigure" in item:
                self.mapping(item, key_path, ("reconfigure",))
                items.append(self.reconfigure(item["reconfigure"], join_key(key_path, "reconfigure"), plugins))
            else:
                items.append(self.stream(item, key_path, count))
                count += 1
        return tuple(items)

    def reconfigure(self, value: Any, key_path: str, plugins: set[str]) -> ReconfigureStep:
        spec = self.mapping(value, key_path, ("plugin", "configuration", "vm_configuration"))
        if "plugin" not in spec:
            raise self.error(join_key(key_path, "plugin"), "missing: which plugin to reconfigure")
        name = self.text(spec["plugin"], join_key(key_path, "plugin"))
        if name not in plugins:
            raise self.error(join_key(key_path, "plugin"), f"no plugin named {name!r}")
        return ReconfigureStep(
            name,
            None if "configuration" not in spec else self.configuration(spec["configuration"],
                                                                        join_key(key_path, "configuration")),
            None if "vm_configuration" not in spec else self.configuration(spec["vm_configuration"],
                                                                           join_key(key_path, "vm_configuration")))

    def stream(self, value: Any, key_path: str, index: int) -> StreamSpec:
        spec = self.mapping(value, key_path, ("name", "request", "response", "properties", "at_ms", "expect"))
        if "request" not in spec:
            raise self.error(join_key(key_path, "request"), "missing: a stream needs a request")
        request = self.mapping(spec["request"], join_key(key_path, "request"), ("headers", "body", "trailers"))
        request_path = join_key(key_path, "request")
        if "headers" not in request:
            raise self.error(join_key(request_path, "headers"), "missing: a request needs headers")
        response_path = join_key(key_path, "response")
        response = self.mapping(spec.get("response") or {}, response_path, ("headers", "body", "trailers"))
        return StreamSpec(
            name=self.text(spec["name"], join_key(key_path, "name")) if "name" in spec else f"stream-{index + 1}",
            request=RequestSpec(
                headers=self.headers(request["headers"], join_key(request_path, "headers")),
                body=self.body(request.get("body"), join_key(request_path, "body")),
                trailers=self.headers(request.get("trailers"), join_key(request_path, "trailers")),
            ),
            response=OriginResponse.make(
                self.headers(response.get("headers"), join_key(response_path, "headers")),
                list(self.body(response.get("body"), join_key(response_path, "body"))),
                self.headers(response.get("trailers"), join_key(response_path, "trailers")),
            ),
            properties=self.properties(spec.get("properties"), join_key(key_path, "properties")),
            at_ms=self.optional_ms(spec, "at_ms", key_path),
            expect=(None if spec.get("expect") is None
                    else self.expectations.stream(spec["expect"], join_key(key_path, "expect"))),
        )

    def connection(self, value: Any, key_path: str, index: int) -> ConnectionSpec:
        spec = self.mapping(value, key_path, ("name", "at_ms", "properties", "events", "expect"))
        events_path = join_key(key_path, "events")
        events = tuple(self.connection_event(item, f"{events_path}[{position}]")
                       for position, item in enumerate(self.listing(spec.get("events"), events_path, "events")))
        return ConnectionSpec(
            name=self.text(spec["name"], join_key(key_path, "name")) if "name" in spec else f"connection-{index + 1}",
            events=events,
            properties=self.properties(spec.get("properties"), join_key(key_path, "properties")),
            at_ms=self.optional_ms(spec, "at_ms", key_path),
            expect=(None if spec.get("expect") is None
                    else self.expectations.connection(spec["expect"], join_key(key_path, "expect"))),
        )

    def connection_event(self, value: Any, key_path: str) -> ConnectionEvent:
        spec = self.mapping(value, key_path, ("downstream", "upstream", "end_of_stream", "close", "wait_ms"))
        kinds = [key for key in ("downstream", "upstream", "close", "wait_ms") if key in spec]
        if len(kinds) != 1:
            raise self.error(key_path, "an event is one of {downstream: DATA}, {upstream: DATA}, "
                                       "{close: downstream|upstream} or {wait_ms: N}")
        kind = kinds[0]
        if kind in ("close", "wait_ms") and "end_of_stream" in spec:
            raise self.error(join_key(key_path, "end_of_stream"), "only data events have end_of_stream")
        if kind == "wait_ms":
            return ConnectionEvent("wait", wait_ms=self.integer(spec["wait_ms"], join_key(key_path, "wait_ms"),
                                                                maximum=MAX_MS))
        if kind == "close":
            side = self.text(spec["close"], join_key(key_path, "close"))
            if side not in ("downstream", "upstream"):
                raise self.error(join_key(key_path, "close"), "expected downstream or upstream")
            return ConnectionEvent("close", side=side)
        return ConnectionEvent(kind, self.data(spec[kind], join_key(key_path, kind)),
                               self.boolean(spec.get("end_of_stream", False), join_key(key_path, "end_of_stream")))


