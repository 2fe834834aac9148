"""Scenario files: the filter chain, the simulated world and the traffic, in
YAML or JSON, loaded and validated into frozen dataclasses.

::

    plugins:                    # the HTTP filter chain, in request order
      - name: auth              # unique; defaults to the file's stem
        wasm: auth.wasm         # relative to the scenario file
        root_id: ""             # optional
        vm_id: ""               # optional (the plugin_vm_id property)
        configuration: "..."    # optional: text, or a mapping/list sent as JSON text
        vm_configuration: "..." # optional, same forms
        environment: {K: V}     # optional WASI environment
        failure: fail_close     # or fail_open
        fuel: 100000000         # optional: instructions per callback
    log_level: info             # optional: trace, debug, info, warn, error, critical
    random_seed: 0              # optional: seeds WASI random_get
    clock_start_ns: 1704067200000000000   # optional: the simulated clock's start
    properties: {"source.address": "10.0.0.1:5000"}
    upstreams:                  # clusters for proxy_http_call
      auth:                     # one answer, or a list used in order (the last repeats)
        - {status: 200, headers: {x-user: alice}, body: "ok", trailers: {}}
        - {reset: true}         # the call fails
        - {timeout: true}       # the call times out (Envoy answers 504)
    streams:                    # run one after another, sharing the plugins' VMs
      - name: first             # optional; defaults to stream-N
        properties: {}          # optional: this stream's own properties
        request:
          headers: {":method": GET, ":path": /, ":authority": example.com}
          body: ["part one", "part two"]   # optional: text or a list of chunks
          trailers: {}                     # optional
        response:               # what the origin answers (default: 200, no body)
          headers: {":status": "200"}
          body: hello

Headers are a mapping or a list of ``[name, value]`` pairs (for repeated
names); values may be text or integers.  Every error names the key path that
is wrong, e.g. ``streams[1].request.headers: expected a mapping or a list of
[name, value] pairs``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abi.enums import FailurePolicy, LogLevel
from abi.errors import ScenarioError
from abi.http_calls import UpstreamResponse
from abi.plugin import DEFAULT_FUEL_PER_CALLBACK
from abi.stream import OriginResponse
from abi.text import as_bytes

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PluginSpec:
    name: str
    wasm: str
    wasm_as_written: str = ""
    root_id: str = ""
    vm_id: str = ""
    configuration: Any = ""
    vm_configuration: Any = ""
    environment: tuple[tuple[str, str], ...] = ()
    failure: FailurePolicy = FailurePolicy.FAIL_CLOSE
    fuel: int | None = DEFAULT_FUEL_PER_CALLBACK


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


@dataclass(frozen=True)
class Scenario:
    source: str
    plugins: tuple[PluginSpec, ...]
    streams: tuple[StreamSpec, ...] = ()
    upstreams: tuple[tuple[str, tuple[UpstreamResponse, ...]], ...] = ()
    properties: tuple[tuple[str, Any], ...] = ()
    log_level: LogLevel = LogLevel.INFO
    random_seed: int = 0
    clock_start_ns: int | None = None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file (``.json`` as JSON, anything else as
    YAML); ``ScenarioError`` names the file and the offending key."""
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read the scenario: {error.strerror or error}", source=source) from None
    except UnicodeDecodeError:
        raise ScenarioError("the scenario is not UTF-8 text", source=source) from None
    document = _parse(text, source)
    return scenario_from_document(document, source, Path(source).resolve().parent)


def _parse(text: str, source: str) -> Any:
    if source.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ScenarioError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
                                source=source) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(f"invalid YAML at {where}{error.problem}", source=source) from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"invalid YAML: {error}", source=source) from None


def scenario_from_document(document: Any, source: str, base: Path) -> Scenario:
    """Validate a parsed scenario; relative ``wasm`` paths are resolved
    against ``base``."""
    return _Validator(source, base).scenario(document)


class _Validator:
    def __init__(self, source: str, base: Path) -> None:
        self.source = source
        self.base = base

    def error(self, key_path: str, problem: str) -> ScenarioError:
        return ScenarioError(problem, key_path, self.source)

    # --- shapes --------------------------------------------------------------------------

    def mapping(self, value: Any, key_path: str, allowed: tuple[str, ...] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key_path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(key_path, f"keys must be text, got {_kind(key)} {key!r}")
            if allowed is not None and key not in allowed:
                raise self.error(_join(key_path, key), f"unknown key (expected one of: {', '.join(allowed)})")
        return value

    def text(self, value: Any, key_path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(key_path, f"expected text, got {_kind(value)}")
        return str(value)

    def integer(self, value: Any, key_path: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key_path, f"expected an integer of at least {minimum}, got {_kind(value)}")
        return value

    def boolean(self, value: Any, key_path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(key_path, f"expected true or false, got {_kind(value)}")
        return value

    def headers(self, value: Any, key_path: str) -> Headers:
        if value is None:
            return ()
        if isinstance(value, Mapping):
            return tuple((self.text(name, key_path), self.text(item, _join(key_path, str(name))))
                         for name, item in value.items())
        if isinstance(value, list):
            pairs = []
            for index, pair in enumerate(value):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.error(f"{key_path}[{index}]", "expected a [name, value] pair")
                pairs.append((self.text(pair[0], f"{key_path}[{index}]"), self.text(pair[1], f"{key_path}[{index}]")))
            return tuple(pairs)
        raise self.error(key_path, "expected a mapping or a list of [name, value] pairs")

    def body(self, value: Any, key_path: str) -> tuple[bytes, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, bytes)):
            return (as_bytes(value),) if value else ()
        if isinstance(value, list):
            chunks = []
            for index, chunk in enumerate(value):
                if not isinstance(chunk, (str, bytes)):
                    raise self.error(f"{key_path}[{index}]", f"expected text, got {_kind(chunk)}")
                chunks.append(as_bytes(chunk))
            return tuple(chunks)
        raise self.error(key_path, "expected text or a list of text chunks")

    def configuration(self, value: Any, key_path: str) -> Any:
        if value is None:
            return ""
        if isinstance(value, (str, bytes, Mapping, list)):
            return value
        raise self.error(key_path, f"expected text, a mapping or a list, got {_kind(value)}")

    def properties(self, value: Any, key_path: str) -> tuple[tuple[str, Any], ...]:
        if value is None:
            return ()
        mapping = self.mapping(value, key_path)
        for key, item in mapping.items():
            if not key or any(not segment for segment in key.split(".")):
                raise self.error(_join(key_path, key), "a property path needs non-empty segments between dots")
            self.property_value(item, _join(key_path, key))
        return tuple(mapping.items())

    def property_value(self, value: Any, key_path: str) -> None:
        if isinstance(value, (str, bytes, bool, int, float)):
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                self.property_value(item, _join(key_path, str(key)))
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.property_value(item, f"{key_path}[{index}]")
            return
        raise self.error(key_path, f"a property value must be text, a number, true/false, a mapping or a "
                                   f"list, got {_kind(value)}")

    # --- the document ------------------------------------------------------------------------

    def scenario(self, document: Any) -> Scenario:
        top = self.mapping(document, "", ("plugins", "streams", "upstreams", "properties", "log_level",
                                          "random_seed", "clock_start_ns"))
        if "plugins" not in top:
            raise self.error("plugins", "missing: a scenario needs at least one plugin")
        plugins = self.plugins(top["plugins"])
        level = LogLevel.INFO
        if top.get("log_level") is not None:
            try:
                level = LogLevel.from_label(self.text(top["log_level"], "log_level"))
            except ValueError:
                raise self.error("log_level", "expected one of trace, debug, info, warn, error, critical") from None
        streams = top.get("streams") or []
        if not isinstance(streams, list):
            raise self.error("streams", f"expected a list of streams, got {_kind(streams)}")
        stream_specs = tuple(self.stream(item, f"streams[{index}]", index) for index, item in enumerate(streams))
        names = [spec.name for spec in stream_specs]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise self.error(f"streams[{index}].name", f"duplicate stream name {name!r}")
        return Scenario(
            source=self.source,
            plugins=plugins,
            streams=stream_specs,
            upstreams=self.upstreams(top.get("upstreams")),
            properties=self.properties(top.get("properties"), "properties"),
            log_level=level,
            random_seed=self.integer(top.get("random_seed", 0), "random_seed"),
            clock_start_ns=(None if top.get("clock_start_ns") is None
                            else self.integer(top["clock_start_ns"], "clock_start_ns")),
        )

    def plugins(self, value: Any) -> tuple[PluginSpec, ...]:
        if not isinstance(value, list) or not value:
            raise self.error("plugins", "expected a non-empty list of plugins")
        specs = tuple(self.plugin(item, f"plugins[{index}]") for index, item in enumerate(value))
        names = [spec.name for spec in specs]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise self.error(f"plugins[{index}].name", f"duplicate plugin name {name!r}")
        return specs

    def plugin(self, value: Any, key_path: str) -> PluginSpec:
        spec = self.mapping(value, key_path, ("name", "wasm", "root_id", "vm_id", "configuration",
                                              "vm_configuration", "environment", "failure", "fuel"))
        if "wasm" not in spec:
            raise self.error(_join(key_path, "wasm"), "missing: the plugin's .wasm (or .wat) file")
        wasm = self.text(spec["wasm"], _join(key_path, "wasm"))
        path = (self.base / wasm).resolve()
        if not path.is_file():
            raise self.error(_join(key_path, "wasm"), f"no such file: {path}")
        name = self.text(spec["name"], _join(key_path, "name")) if "name" in spec else Path(wasm).stem
        if not name:
            raise self.error(_join(key_path, "name"), "must not be empty")
        environment = self.mapping(spec.get("environment") or {}, _join(key_path, "environment"))
        failure = FailurePolicy.FAIL_CLOSE
        if "failure" in spec:
            try:
                failure = FailurePolicy(self.text(spec["failure"], _join(key_path, "failure")))
            except ValueError:
                raise self.error(_join(key_path, "failure"), "expected fail_close or fail_open") from None
        fuel = spec.get("fuel", DEFAULT_FUEL_PER_CALLBACK)
        return PluginSpec(
            name=name,
            wasm=str(path),
            wasm_as_written=wasm,
            root_id=self.text(spec.get("root_id", ""), _join(key_path, "root_id")),
            vm_id=self.text(spec.get("vm_id", ""), _join(key_path, "vm_id")),
            configuration=self.configuration(spec.get("configuration"), _join(key_path, "configuration")),
            vm_configuration=self.configuration(spec.get("vm_configuration"), _join(key_path, "vm_configuration")),
            environment=tuple((key, self.text(item, _join(_join(key_path, "environment"), key)))
                              for key, item in environment.items()),
            failure=failure,
            fuel=None if fuel is None else self.integer(fuel, _join(key_path, "fuel"), minimum=1),
        )

    def upstreams(self, value: Any) -> tuple[tuple[str, tuple[UpstreamResponse, ...]], ...]:
        if value is None:
            return ()
        clusters = self.mapping(value, "upstreams")
        result = []
        for cluster, answers in clusters.items():
            key_path = _join("upstreams", cluster)
            if isinstance(answers, list):
                if not answers:
                    raise self.error(key_path, "expected at least one answer")
                responses = tuple(self.upstream_response(item, f"{key_path}[{index}]")
                                  for index, item in enumerate(answers))
            else:
                responses = (self.upstream_response(answers, key_path),)
            result.append((cluster, responses))
        return tuple(result)

    def upstream_response(self, value: Any, key_path: str) -> UpstreamResponse:
        spec = self.mapping(value, key_path, ("status", "headers", "body", "trailers", "reset", "timeout"))
        body = self.body(spec.get("body"), _join(key_path, "body"))
        return UpstreamResponse(
            status=self.integer(spec.get("status", 200), _join(key_path, "status"), minimum=100),
            headers=self.headers(spec.get("headers"), _join(key_path, "headers")),
            body=b"".join(body),
            trailers=self.headers(spec.get("trailers"), _join(key_path, "trailers")),
            reset=self.boolean(spec.get("reset", False), _join(key_path, "reset")),
            timeout=self.boolean(spec.get("timeout", False), _join(key_path, "timeout")),
        )

    def stream(self, value: Any, key_path: str, index: int) -> StreamSpec:
        spec = self.mapping(value, key_path, ("name", "request", "response", "properties"))
        if "request" not in spec:
            raise self.error(_join(key_path, "request"), "missing: a stream needs a request")
        request = self.mapping(spec["request"], _join(key_path, "request"), ("headers", "body", "trailers"))
        request_path = _join(key_path, "request")
        if "headers" not in request:
            raise self.error(_join(request_path, "headers"), "missing: a request needs headers")
        response_path = _join(key_path, "response")
        response = self.mapping(spec.get("response") or {}, response_path, ("headers", "body", "trailers"))
        return StreamSpec(
            name=self.text(spec["name"], _join(key_path, "name")) if "name" in spec else f"stream-{index + 1}",
            request=RequestSpec(
                headers=self.headers(request["headers"], _join(request_path, "headers")),
                body=self.body(request.get("body"), _join(request_path, "body")),
                trailers=self.headers(request.get("trailers"), _join(request_path, "trailers")),
            ),
            response=OriginResponse.make(
                self.headers(response.get("headers"), _join(response_path, "headers")),
                list(self.body(response.get("body"), _join(response_path, "body"))),
                self.headers(response.get("trailers"), _join(response_path, "trailers")),
            ),
            properties=self.properties(spec.get("properties"), _join(key_path, "properties")),
        )


def _join(key_path: str, key: str) -> str:
    return f"{key_path}.{key}" if key_path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping",
            bytes: "binary data"}.get(type(value), type(value).__name__)
