"""Envoy v3 configuration as input: a multi-listener bootstrap with HTTP and
network Wasm filters and a bootstrap Wasm service, the PluginConfig fields
and their Any forms, and one-line errors for bad configuration."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abi.enums import FailurePolicy
from abi.errors import ManifestError
from abi.frontends import envoy_config
from abi.frontends.plugin_sources import ProxyEnvironment
from abi.proxy.plugins import PluginKind
from abi.testing import OriginResponse, assert_no_failures, envoy_host, envoy_plugins, request_headers

BOOTSTRAP = Path(__file__).parent / "envoy" / "bootstrap.yaml"
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
VM_COUNTER = PLUGINS / "c" / "vm_counter.wasm"


def names(specs: object) -> list[str]:
    return [spec.name for spec in specs]  # type: ignore[attr-defined]


def listener_with(tmp_path: Path, plugin_config: str, name: str = "listener.yaml") -> str:
    """A single listener whose only HTTP filter is a Wasm filter with this
    ``config`` (YAML, indented as written here)."""
    config = textwrap.indent(textwrap.dedent(plugin_config).strip("\n"), " " * 18)
    text = f"""\
name: single
filter_chains:
  - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          http_filters:
            - name: envoy.filters.http.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                config:
{config}
            - name: envoy.filters.http.router
"""
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CODE = f"vm_config: {{code: {{local: {{filename: {VM_COUNTER}}}}}}}"


# --- the bootstrap ----------------------------------------------------------------------------------------


def test_the_first_listener_and_chain_run_with_the_services() -> None:
    translation = envoy_plugins(BOOTSTRAP)
    assert names(translation.of_kind(PluginKind.SERVICE)) == ["path_collector"]
    assert names(translation.of_kind(PluginKind.HTTP)) == ["stamp", "counter", "path_sender"]
    assert names(translation.of_kind(PluginKind.NETWORK)) == ["conn-audit"]
    counter = next(spec for spec in translation.plugins if spec.name == "counter")
    assert (counter.root_id, counter.vm_id, counter.configuration, counter.failure) == (
        "c1", "counters", b"hello", FailurePolicy.FAIL_RELOAD)
    assert counter.origin is not None and counter.origin.to_report() == {
        "source": "envoy", "resource": "http_filters[2] (envoy.filters.http.wasm) of listener public",
        "file": str(BOOTSTRAP), "listener": "public", "filter_chain": "plain",
        "key_path": "static_resources.listeners[0].filter_chains[0].filters[1].typed_config.http_filters[2]",
        "notes": ["counter: FAIL_RELOAD reloads a failed VM for the next stream; Envoy waits for its reload backoff "
                  "(reload_config, 1 s by default) first, which glasswasm does not simulate"]}


def test_what_is_not_simulated_is_named() -> None:
    assert envoy_plugins(BOOTSTRAP).notes == (
        f"{BOOTSTRAP}: dynamic_resources: listeners from LDS are not read; give them as static_resources.listeners",
        "counter: FAIL_RELOAD reloads a failed VM for the next stream; Envoy waits for its reload backoff "
        "(reload_config, 1 s by default) first, which glasswasm does not simulate",
        "conn-audit (filters[0] of listener public) sees only the scenario's connections: glasswasm sends streams "
        "straight to the HTTP filters, not through the network filters before the connection manager",
        "envoy.filters.http.ext_authz (http_filters[1] of listener public) is passed over (not a Wasm filter): what "
        "it would do to traffic is not simulated",
        "extensions.istio.io/wasmplugin/bookinfo.stats (http_filters[4] of listener public) is passed over "
        "(configured by extension config discovery (ECDS), which glasswasm does not read): what it would do to "
        "traffic is not simulated",
        "envoy.filters.http.wasm (http_filters[5] of listener public) is passed over (disabled: it runs only where a "
        "route enables it, and glasswasm reads no routes): what it would do to traffic is not simulated")


def test_the_explanation_lists_every_listener_and_filter() -> None:
    explanation = envoy_plugins(BOOTSTRAP, listener="tcp").explanation
    assert explanation[0] == f"envoy: {BOOTSTRAP}: 2 listeners, 1 bootstrap Wasm service"
    assert ("    bootstrap_extensions[1] envoy.bootstrap.internal_listener: passed over (not a Wasm service)"
            in explanation)
    assert "  filter chain plain (not run):" in explanation
    assert "      http_filters[0] envoy.filters.http.wasm: HTTP plugin stamp (not loaded)" in explanation
    assert "  filter chain filter_chains[0] (the scenario's traffic runs through it):" in explanation
    index = explanation.index("      filters[0] envoy.filters.network.wasm: network plugin upper")
    assert explanation[index + 1] == "        module ../../plugins/c/tcp_rewrite.wasm; failure policy fail_open"


def test_http_traffic_runs_through_the_chosen_chain() -> None:
    host = envoy_host(BOOTSTRAP)
    stream = host.open_stream(origin=OriginResponse.make(body="ok"))
    stream.send_request_headers(request_headers("/orders"), end_of_stream=True)
    upstream = stream.upstream_request
    assert upstream is not None
    added = [name for name, _ in upstream.headers.items() if name.startswith("x-")]
    assert added == ["x-stamp", "x-vm-count", "x-root-count-c1", "x-config", "x-as-enqueued"]
    assert upstream.headers.get("x-stamp") == "public" and upstream.headers.get("x-config") == "hello"
    host.advance(1)
    assert host.log_messages(plugin="path_collector")[-2:] == ["queue_receiver: got /orders",
                                                             "queue_receiver: queue 1 drained after 1 items"]
    path_sender = host.plugin_set.link("path_sender")
    assert path_sender is not None and path_sender.current.record.label == "path_collector"   # one VM, as vm_id says
    assert_no_failures(host)
    host.shutdown()


def test_another_filter_chain_and_listener() -> None:
    tls = envoy_plugins(BOOTSTRAP, filter_chain="tls")
    assert names(tls.of_kind(PluginKind.HTTP)) == ["stamp"] and tls.of_kind(PluginKind.HTTP)[0].configuration == (
        b"x-stamp=tls")
    host = envoy_host(BOOTSTRAP, listener="tcp")
    connection = host.open_connection()
    connection.send_downstream(b"hi\n")
    assert bytes(connection.origin_received.data) == b"HI\n"
    assert host.plugin_set.link("upper").current.config.failure_policy is FailurePolicy.FAIL_OPEN  # type: ignore
    host.shutdown()


def test_unknown_listener_or_chain() -> None:
    with pytest.raises(ManifestError, match="^envoy.listener: no listener named 'edge' in .*bootstrap.yaml "
                                            "\\(listeners: public, tcp\\)$"):
        envoy_plugins(BOOTSTRAP, listener="edge")
    with pytest.raises(ManifestError, match="^envoy.filter_chain: listener public has no filter chain named 'x' "
                                            "\\(filter chains: plain, tls\\)$"):
        envoy_plugins(BOOTSTRAP, filter_chain="x")


def test_a_listener_discovery_response(tmp_path: Path) -> None:
    path = tmp_path / "lds.yaml"
    path.write_text(f"""\
version_info: "7"
resources:
  - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
    name: c
  - "@type": type.googleapis.com/envoy.config.listener.v3.Listener
    name: from-lds
    filter_chains:
      - filters:
          - name: envoy.filters.network.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
              config: {{name: tcp, {CODE}}}
""")
    translation = envoy_plugins(path)
    assert names(translation.of_kind(PluginKind.NETWORK)) == ["tcp"]
    assert translation.notes == (f"{path}: resources[0] is a type.googleapis.com/envoy.config.cluster.v3.Cluster, not "
                                 f"a Listener: passed over",)


# --- PluginConfig fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("configuration", "expected"), [
    ('{"@type": type.googleapis.com/google.protobuf.StringValue, value: "a=b"}', b"a=b"),
    ('{"@type": type.googleapis.com/google.protobuf.BytesValue, value: "AAEC/w=="}', b"\x00\x01\x02\xff"),
    ('{"@type": type.googleapis.com/google.protobuf.BytesValue, value: "AAEC_w"}', b"\x00\x01\x02\xff"),
    # A Struct reaches the plugin as its protobuf encoding: {a: 1.0, b: "x"} in key order.
    ('{"@type": type.googleapis.com/google.protobuf.Struct, value: {b: x, a: 1}}',
     bytes.fromhex("0a0e0a0161120911000000000000f03f0a080a016212031a0178")),
    ('{"@type": type.googleapis.com/google.protobuf.UInt32Value, value: 300}', bytes.fromhex("08ac02")),
    ('{"@type": type.googleapis.com/google.protobuf.Int64Value, value: "-1"}', bytes.fromhex("08ffffffffffffffffff01")),
    ('{"@type": type.googleapis.com/google.protobuf.BoolValue, value: true}', bytes.fromhex("0801")),
    ('{"@type": type.googleapis.com/google.protobuf.DoubleValue, value: "Infinity"}',
     bytes.fromhex("09000000000000f07f")),
    ('{"@type": type.googleapis.com/google.protobuf.Empty, value: {}}', b""),
    ('{"@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: t/x, value: {k: true}}',
     bytes.fromhex("0a03742f7812090a070a016b12022001")),
])
def test_configuration_any_forms(tmp_path: Path, configuration: str, expected: bytes) -> None:
    path = listener_with(tmp_path, f"name: p\n{CODE}\nconfiguration: {configuration}")
    (spec,) = envoy_plugins(path).plugins
    assert spec.configuration == expected


def test_vm_configuration_and_structs_are_noted(tmp_path: Path) -> None:
    path = listener_with(tmp_path, f"""\
        name: p
        vm_config:
          code: {{local: {{filename: {VM_COUNTER}}}}}
          configuration: {{"@type": type.googleapis.com/google.protobuf.Struct, value: {{}}}}
        """)
    translation = envoy_plugins(path)
    assert translation.plugins[0].vm_configuration == b""
    assert translation.notes == (f"p: its {PREFIX.split(': ')[1]}.vm_config.configuration is a "
                                 "google.protobuf.Struct, which Envoy hands the plugin as the message's protobuf "
                                 "encoding (0 bytes), not as JSON; a "
                                 "google.protobuf.StringValue holding JSON reaches it as text",)


def test_code_sources(tmp_path: Path) -> None:
    wat = "(module (func (export \"proxy_abi_version_0_2_1\")) (memory (export \"memory\") 1))"
    inline_string = listener_with(tmp_path, f"name: text\nvm_config: {{code: {{local: {{inline_string: '{wat}'}}}}}}",
                                  "a.yaml")
    assert envoy_plugins(inline_string).plugins[0].wasm == wat.encode()
    encoded = base64.b64encode(VM_COUNTER.read_bytes()).decode()
    inline = listener_with(tmp_path, f"name: bytes\nvm_config: {{code: {{local: {{inline_bytes: {encoded}}}}}}}",
                           "b.yaml")
    assert envoy_plugins(inline).plugins[0].wasm == VM_COUNTER.read_bytes()
    from_env = listener_with(tmp_path, "name: e\nvm_config: {code: {local: {environment_variable: MODULE}}}",
                             "c.yaml")
    assert envoy_plugins(from_env, host_environment={"MODULE": wat}).plugins[0].wasm_as_written == "$MODULE"
    with pytest.raises(ManifestError, match="environment_variable: the scenario's host_environment has no MODULE"):
        envoy_plugins(from_env)


def test_remote_code_needs_a_local_copy_with_its_sha256(tmp_path: Path) -> None:
    uri = "https://filters.example.com/counter.wasm"
    digest = hashlib.sha256(VM_COUNTER.read_bytes()).hexdigest()
    path = listener_with(tmp_path, f"""\
        name: remote
        vm_config:
          code:
            remote:
              http_uri: {{uri: "{uri}", cluster: filters, timeout: 10s}}
              sha256: {digest}
        """)
    with pytest.raises(ManifestError) as caught:
        envoy_plugins(path)
    assert str(caught.value) == (
        f"{path}: listener single: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config."
        f"vm_config.code.remote.http_uri.uri: {uri} is not fetched (glasswasm reads only local files): download "
        f"it and name the local copy in the scenario, `module_files: {{'{uri}': FILE}}` (or give "
        f"vm_config.code.local.filename)")
    translation = envoy_plugins(path, module_files={uri: VM_COUNTER})
    assert translation.plugins[0].wasm == VM_COUNTER.read_bytes()
    with pytest.raises(ManifestError, match="sha256: the module's sha256 is [0-9a-f]{64}, not [0-9a-f]{64}: Envoy "
                                            "refuses remote code that does not match its sha256$"):
        envoy_plugins(path, module_files={uri: PLUGINS / "c" / "panic.wasm"})


def test_environment_variables(tmp_path: Path) -> None:
    path = listener_with(tmp_path, f"""\
        name: env
        vm_config:
          code: {{local: {{filename: {VM_COUNTER}}}}}
          environment_variables:
            key_values: {{B: "2", A: "1"}}
            host_env_keys: [HOSTNAME, MISSING]
        """)
    translation = envoy_plugins(path, host_environment={"HOSTNAME": "edge-0"})
    assert translation.plugins[0].environment == (("B", "2"), ("A", "1"), ("HOSTNAME", "edge-0"))
    assert translation.notes == ("env: host variable MISSING is not in the scenario's host_environment, so the VM "
                                 "does not get it (Envoy leaves out a variable its host lacks)",)


@pytest.mark.parametrize(("fields", "policy"), [
    ("", FailurePolicy.FAIL_CLOSE),
    ("failure_policy: FAIL_OPEN", FailurePolicy.FAIL_OPEN),
    ("failure_policy: 1", FailurePolicy.FAIL_RELOAD),
    ("fail_open: true", FailurePolicy.FAIL_OPEN),
    ("failurePolicy: FAIL_CLOSED", FailurePolicy.FAIL_CLOSE),
])
def test_failure_policies(tmp_path: Path, fields: str, policy: FailurePolicy) -> None:
    path = listener_with(tmp_path, f"name: p\n{CODE}\n{fields}")
    assert envoy_plugins(path).plugins[0].failure is policy


def test_repeated_and_missing_names_are_made_unique(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    wasm = (f'- name: envoy.filters.http.wasm\n  typed_config: {{"@type": type.googleapis.com/'
            f'envoy.extensions.filters.http.wasm.v3.Wasm, config: {{{CODE}}}}}\n')
    path.write_text("filter_chains:\n- filters:\n  - typed_config:\n      \"@type\": type.googleapis.com/envoy."
                    "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
                    "      http_filters:\n" + textwrap.indent(wasm * 2, "      "))
    translation = envoy_plugins(path)
    assert names(translation.plugins) == ["envoy.filters.http.wasm", "envoy.filters.http.wasm#2"]
    assert translation.notes[0].startswith("envoy.filters.http.wasm#2: another plugin is named "
                                           "envoy.filters.http.wasm, so glasswasm names this one")


# --- bad configuration: one line naming the resource and the field ----------------------------------------


PREFIX = "listener single: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config"


@pytest.mark.parametrize(("config", "message"), [
    ("name: p", f"{PREFIX}.vm_config: missing: the VM to run (vm_config, with its code)"),
    (f"name: p\n{CODE}\nfail_open: true\nfailure_policy: FAIL_CLOSED",
     f"{PREFIX}.failure_policy: only one of fail_open or failure_policy can be set, as Envoy requires"),
    (f"name: p\n{CODE}\nfailure_policy: FAIL_SOMETIMES",
     f"{PREFIX}.failure_policy: expected one of UNSPECIFIED, FAIL_RELOAD, FAIL_CLOSED, FAIL_OPEN, got "
     f"'FAIL_SOMETIMES'"),
    (f"name: p\n{CODE}\nbogus: 1", f"{PREFIX}.bogus: unknown field (expected one of: name, root_id, vm_config"),
    ("name: p\nvm_config: {runtime: envoy.wasm.runtime.null, code: {local: {inline_string: my_plugin}}}",
     f"{PREFIX}.vm_config.runtime: envoy.wasm.runtime.null runs plugins compiled into Envoy; glasswasm runs Wasm "
     f"code only"),
    ("name: p\nvm_config: {code: {local: {filename: missing.wasm}}}",
     f"{PREFIX}.vm_config.code.local.filename: no such file: "),
    ("name: p\nvm_config: {code: {local: {filename: a.wasm, inline_string: b}}}",
     f"{PREFIX}.vm_config.code.local: give one of filename, inline_bytes, inline_string or environment_variable"),
    (f"name: p\n{CODE}\nconfiguration: text", f"{PREFIX}.configuration: expected a mapping, got text"),
    (f"name: p\n{CODE}\nconfiguration: {{value: text}}", f'{PREFIX}.configuration.@type: an Any needs "@type"'),
    (f'name: p\n{CODE}\nconfiguration: {{"@type": type.googleapis.com/my.Config, value: 1}}',
     f"{PREFIX}.configuration.@type: Envoy hands the plugin the protobuf encoding of a my.Config, which glasswasm "
     f"cannot write"),
    (f'name: p\n{CODE}\nconfiguration: {{"@type": type.googleapis.com/google.protobuf.StringValue, value: 5}}',
     f"{PREFIX}.configuration.value: expected text, got a number"),
    (f'name: p\n{CODE}\nconfiguration: {{"@type": type.googleapis.com/google.protobuf.UInt32Value, value: -1}}',
     f"{PREFIX}.configuration.value: expected an integer from 0 to 4294967295"),
    (f"name: p\nvm_config: {{code: {{local: {{filename: {VM_COUNTER}}}}}, environment_variables: "
     f"{{key_values: {{A: '1'}}, host_env_keys: [A]}}}}",
     f"{PREFIX}.vm_config.environment_variables: key A is duplicated in the environment variables of p; Envoy "
     f"requires every key to be unique"),
])
def test_bad_plugin_configs(tmp_path: Path, config: str, message: str) -> None:
    path = listener_with(tmp_path, config)
    with pytest.raises(ManifestError) as caught:
        envoy_plugins(path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {message}")


def test_the_router_must_be_last(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text("filter_chains:\n- filters:\n  - typed_config:\n      \"@type\": type.googleapis.com/envoy."
                    "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
                    "      http_filters: [{name: envoy.filters.http.router}, {name: envoy.filters.http.cors}]\n")
    with pytest.raises(ManifestError, match="http_filters\\[1\\]: the router \\(http_filters\\[0\\]\\) is a terminal "
                                            "filter and must be the last filter of the chain, as Envoy requires$"):
        envoy_plugins(path)


def test_not_an_envoy_configuration(tmp_path: Path) -> None:
    path = tmp_path / "plugins.yaml"
    path.write_text("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\n")
    with pytest.raises(ManifestError, match="not an Envoy bootstrap \\(static_resources\\), listener "
                                            "\\(filter_chains\\) or listener discovery response \\(resources\\)$"):
        envoy_plugins(path)


def test_reading_is_repeatable() -> None:
    first = envoy_config.translate(envoy_config.read_envoy_config(str(BOOTSTRAP), ProxyEnvironment()))
    assert envoy_plugins(BOOTSTRAP) == first


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) |
    st.sampled_from(["type.googleapis.com/google.protobuf.StringValue", "type.googleapis.com/google.protobuf.Struct",
                     "type.googleapis.com/google.protobuf.UInt32Value", "FAIL_OPEN", "aGk=", str(VM_COUNTER)]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["@type", "value", "local", "remote", "filename", "inline_bytes", "inline_string",
                         "key_values", "host_env_keys", "code", "vm_id", "type_url"]) | st.text(max_size=4),
        children, max_size=4),
    max_leaves=20)
FIELDS = ["name", "root_id", "vm_config", "configuration", "fail_open", "failure_policy", "reload_config",
          "capability_restriction_config", "rootId", "unknown"]
VM_FIELDS = ["vm_id", "runtime", "code", "configuration", "environment_variables", "allow_precompiled"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=3),
       st.dictionaries(st.sampled_from(VM_FIELDS), values, max_size=3))
def test_any_plugin_config_gives_a_plugin_or_one_manifest_error(config: dict[str, object],
                                                                 vm_config: dict[str, object]) -> None:
    plugin_config = {"name": "p", "vm_config": {"code": {"local": {"filename": str(VM_COUNTER)}}, **vm_config},
                     **config}
    listener = {"name": "l", "filter_chains": [{"filters": [{
        "name": "envoy.filters.network.wasm",
        "typed_config": {"@type": "type.googleapis.com/" + envoy_config.NETWORK_WASM, "config": plugin_config}}]}]}
    try:
        envoy_config.translate(envoy_config.config_from_document(listener, "fuzz.yaml", Path(".")))
    except ManifestError as error:
        assert "\n" not in str(error)
