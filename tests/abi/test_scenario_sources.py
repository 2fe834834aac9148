"""Scenarios naming Istio and Envoy configuration, and ``glasswasm proxy``
with ``--istio``, ``--envoy``, ``--envoy-listener`` and ``--explain``: the
chains run, the report names each plugin's origin, ``--explain`` says why,
bad input is one line with exit status 1, and reruns are byte-identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from abi.errors import ManifestError, ScenarioError
from abi.frontends.scenario import parse_scenario_documents
from abi.frontends.scenario_sources import load_scenario_with_sources
from interp.cli.main import main

REPOSITORY = Path(__file__).resolve().parents[2]
ISTIO_EXAMPLE = REPOSITORY / "examples" / "istio" / "scenario.yaml"
ENVOY_EXAMPLE = REPOSITORY / "examples" / "envoy" / "scenario.yaml"
MESH = Path(__file__).parent / "istio" / "mesh.yaml"
BOOTSTRAP = Path(__file__).parent / "envoy" / "bootstrap.yaml"
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def write(folder: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["proxy", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- the multi-document reader ---------------------------------------------------------------------------


def test_documents_are_read_with_the_scenario_bounds() -> None:
    assert parse_scenario_documents("a: 1\n---\n---\n- b\n", "x.yaml") == [{"a": 1}, None, ["b"]]
    assert parse_scenario_documents('{"a": [1]}', "x.json") == [{"a": [1]}]
    with pytest.raises(ScenarioError, match="^x.yaml: invalid YAML at line 4, column 4: aliases"):
        parse_scenario_documents("a: &x 1\n---\nb: 2\nc: *x\n", "x.yaml")
    with pytest.raises(ScenarioError, match="nested more than 64 levels deep"):
        parse_scenario_documents("a: 1\n---\n" + "[" * 70 + "]" * 70 + "\n", "x.yaml")
    with pytest.raises(ScenarioError, match="lone surrogate"):
        parse_scenario_documents('---\na: "\\ud800"\n', "x.yaml")


# --- scenario keys ---------------------------------------------------------------------------------------


def test_a_scenario_names_resources_the_workload_and_the_host(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        istio:
          resources:
            - {MESH}
            - apiVersion: extensions.istio.io/v1alpha1
              kind: WasmPlugin
              metadata: {{name: inline, namespace: shop}}
              spec:
                url: file://{PLUGINS / 'c' / 'header_rewrite.wasm'}
                phase: AUTHN
                vmConfig: {{env: [{{name: POD, valueFrom: HOST}}]}}
          root_namespace: istio-system
          workload: {{namespace: shop, labels: {{app: cart}}, port: 8080}}
        host_environment: {{POD: cart-0}}
        plugins:
          - {{name: own, wasm: {PLUGINS / 'c' / 'header_rewrite.wasm'}}}
        expect: {{failures: [shop.inline]}}
        streams:
          - request: {{headers: {{":path": /}}}}
          - reconfigure: {{plugin: shop.cart, configuration: x}}
        """)
    sourced = load_scenario_with_sources(path)
    scenario = sourced.scenario
    # AUTHN: mesh-authn (priority 10), then inline (no priority); then shop's cart, then the scenario's own.
    assert [spec.name for spec in scenario.plugins] == ["istio-system.mesh-authn", "shop.inline", "shop.cart", "own"]
    inline = scenario.plugins[1]
    assert inline.environment == (("ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION", ""), ("POD", "cart-0"))
    assert inline.origin is not None and inline.origin.file == f"{path} (istio.resources[1])"
    assert scenario.expected_failures == ("shop.inline",)
    assert sourced.explanation()[-2:] == ("the scenario's own plugins, after the translated ones:",
                                          "  HTTP chain: own")


@pytest.mark.parametrize(("text", "message"), [
    ("istio: {resources: [missing.yaml]}\n", "missing.yaml: cannot read the scenario"),
    ("istio: {workloads: {}}\n", "istio.workloads: unknown field (expected one of: resources, root_namespace, "
                                 "workload)"),
    ("istio: {workload: {labels: {app: 1}}}\n", "istio.workload.labels.app: expected text, got a number"),
    ("istio: {}\nenvoy: envoy.yaml\n", "istio: give Istio resources or an Envoy configuration, not both"),
    ("envoy: {listener: x}\n", "envoy.file: missing: the Envoy configuration file"),
    ("envoy: {file: e.yaml, listeners: x}\n", "envoy.listeners: unknown field"),
    ("host_environment: [A]\n", "host_environment: expected a mapping, got a list"),
    ("module_files: {oci://x: 5}\n", "module_files.oci://x: expected text, got a number"),
])
def test_bad_scenario_keys(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario_with_sources(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_workload_no_resource_applies_to_runs_through_no_plugin(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, f"""\
        istio:
          resources: [{MESH}]
          workload: {{namespace: elsewhere}}
          root_namespace: none
        streams:
          - request: {{headers: {{":path": /}}}}
            response: {{body: hi}}
        connections:
          - events: [{{downstream: "x"}}]
        """)
    status, out, err = run([str(path), "--json"], capsys)
    report = json.loads(out)
    assert status == 0 and report["plugins"] == [] and report["network_plugins"] == []
    assert report["streams"][0]["downstream_response"]["body"] == "hi"
    assert report["connections"][0]["origin_received"]["data"] == "x"
    assert ("glasswasm proxy: note: no WasmPlugin applies to the workload in namespace elsewhere (sidecar; labels "
            "none) for its SERVER traffic: it runs through no plugin\n") in err
    status, out, _ = run([str(path), "--explain"], capsys)
    assert status == 0 and "  HTTP chain: no plugins" in out.splitlines()


# --- the command line ------------------------------------------------------------------------------------


def test_the_istio_example_runs_and_reports_origins(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPOSITORY)
    status, out, err = run(["examples/istio/scenario.yaml", "--json"], capsys)
    assert status == 0
    assert err == ("glasswasm proxy: note: bookinfo.admin-guard: oci://registry.example.com/filters/deny-admin:1.0 "
                   "is fetched by Istio's agent; glasswasm reads the local copy "
                   "../../tests/plugins/assemblyscript/deny_admin.wasm\n")
    report = json.loads(out)
    assert [(p["name"], p["origin"]["resource"], p["origin"]["phase"], p["origin"]["priority"])
            for p in report["plugins"]] == [
        ("istio-system.mesh-counter", "WasmPlugin istio-system/mesh-counter", "AUTHN", None),
        ("bookinfo.admin-guard", "WasmPlugin bookinfo/admin-guard", "AUTHZ", 100),
        ("bookinfo.reviews-counter", "WasmPlugin bookinfo/reviews-counter", "AUTHZ", 10),
        ("bookinfo.request-metrics", "WasmPlugin bookinfo/request-metrics", "UNSPECIFIED_PHASE", None)]
    assert report["plugins"][0]["origin"]["file"] == "wasmplugins.yaml"
    review, admin = report["streams"]
    headers = review["upstream_request"]["headers"]
    assert [value for name, value in headers if name == "x-config"] == ['{"tier":"mesh"}',
                                                                         '{"greeting":"hello","limit":3}']
    assert admin["local_response"]["status"] == 403 and admin["local_response"]["plugin"] == "bookinfo.admin-guard"
    assert report["connections"][0]["origin_received"]["data"] == "HELLO\n"


def test_explain_prints_the_chains_without_running(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPOSITORY)
    status, out, err = run(["examples/istio/scenario.yaml", "--explain"], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:6] == [
        "istio: workload bookinfo/reviews-v1 (sidecar; labels app=reviews, version=v1), root namespace istio-system",
        "  8 WasmPlugins read from wasmplugins.yaml",
        "  passed over: Service bookinfo/reviews (wasmplugins.yaml document 9): not a WasmPlugin",
        "inbound traffic on port 9080 (mode SERVER), which the scenario runs:",
        "  HTTP chain, in request order:",
        "    1. istio-system.mesh-counter (WasmPlugin istio-system/mesh-counter, AUTHN, no priority)"]
    assert ("       module file:///opt/filters/vm_counter.wasm; failure policy fail_close; root id mesh; "
            "configuration {\"tier\":\"mesh\"}; environment ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION=") in lines
    assert "outbound traffic on port 9080 (mode CLIENT), for comparison (not run):" in lines
    assert ("    WasmPlugin bookinfo/outbound-only: does not apply: no match entry selects SERVER traffic on port "
            "9080: match[0] mode CLIENT") in lines
    assert "logs" not in out


def test_the_envoy_example_and_another_listener(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPOSITORY)
    status, out, _ = run(["examples/envoy/scenario.yaml"], capsys)
    assert status == 0
    assert out.splitlines()[:5] == [
        "plugins (request order):",
        "  auth: ABI 0.2.1, fail_close, ok (from http_filters[0] (envoy.filters.http.wasm) of listener ingress_http)",
        "  path_sender: ABI 0.2.0, fail_open, ok, VM of path_collector (from http_filters[2] "
        "(envoy.filters.http.wasm) of listener ingress_http)",
        "  stamp: ABI 0.2.1, fail_reload, ok (from http_filters[3] (envoy.filters.http.wasm) of listener "
        "ingress_http)",
        "services:"]
    status, out, _ = run(["examples/envoy/tcp.yaml", "--json"], capsys)
    report = json.loads(out)
    assert status == 0 and [p["name"] for p in report["network_plugins"]] == ["upper"]
    assert report["connections"][0]["origin_received"]["data"] == "HELLO\n"


def test_command_line_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write(tmp_path, """\
        istio:
          workload: {namespace: bookinfo, labels: {app: reviews, version: v1}, port: 9080}
        streams:
          - request: {headers: {":path": /}}
        """)
    status, out, err = run([str(scenario), "--istio", str(MESH), "--json"], capsys)
    assert status == 0
    assert len(json.loads(out)["plugins"]) == 10
    assert err == (
        f"glasswasm proxy: note: EnvoyFilter istio-system/lua-patch ({MESH} document 18): EnvoyFilter patches are not "
        f"applied by glasswasm\n"
        f"glasswasm proxy: note: bookinfo.local-authn and istio-system.mesh-authn: Envoy runs them in one VM (same "
        f"vm_id, code and VM configuration; its VM key leaves out the environment, so the VM has "
        f"bookinfo.local-authn's); glasswasm runs them in separate VMs, as their environments differ\n")
    # --envoy gives the plugins instead; --envoy-listener picks the listener.
    plain = write(tmp_path, "streams:\n  - request: {headers: {\":path\": /}}\n", "plain.yaml")
    status, out, err = run([str(plain), "--envoy", str(BOOTSTRAP), "--envoy-listener", "public", "--json"], capsys)
    assert status == 0
    assert [p["name"] for p in json.loads(out)["plugins"]] == ["stamp", "counter", "path_sender"]
    assert err.count("glasswasm proxy: note: ") == 6


def test_bad_manifests_are_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, """\
        apiVersion: extensions.istio.io/v1alpha1
        kind: WasmPlugin
        metadata: {name: broken, namespace: bookinfo}
        spec: {url: "oci://registry/x:1", phase: LATE}
        """, "bad.yaml")
    scenario = write(tmp_path, "streams: []\n")
    status, out, err = run([str(scenario), "--istio", str(bad)], capsys)
    assert (status, out) == (1, "")
    assert err == (f"error: {bad}: WasmPlugin bookinfo/broken: spec.phase: expected one of UNSPECIFIED_PHASE, AUTHN, "
                   f"AUTHZ, STATS, got 'LATE'\n")
    status, _, err = run([str(scenario), "--envoy", str(BOOTSTRAP), "--envoy-listener", "nope"], capsys)
    assert status == 1 and err.startswith("error: envoy.listener: no listener named 'nope'") and err.count("\n") == 1


def test_reruns_are_byte_identical() -> None:
    outputs = []
    for _ in range(2):
        for args in (["examples/istio/scenario.yaml", "--json"], ["examples/istio/scenario.yaml", "--explain"],
                     ["examples/envoy/scenario.yaml", "--explain"], ["examples/envoy/scenario.yaml"]):
            result = subprocess.run([sys.executable, "-m", "interp", "proxy", *args], capture_output=True,
                                    cwd=REPOSITORY, env={**os.environ, "PYTHONHASHSEED": str(len(outputs))},
                                    timeout=120)
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout + result.stderr)
    assert outputs[:4] == outputs[4:]


def test_manifest_errors_are_scenario_errors() -> None:
    assert issubclass(ManifestError, ScenarioError)
