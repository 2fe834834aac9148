"""Istio WasmPlugin resources as input: which resources apply to a workload
and direction, in what order, how each becomes a plugin, and one-line
errors naming the resource and field for bad manifests."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abi.enums import FailurePolicy
from abi.errors import ManifestError, ScenarioError
from abi.frontends import istio
from abi.frontends.istio import Direction, ServiceRef, Workload
from abi.frontends.plugin_sources import FieldReader, ProxyEnvironment
from abi.proxy.plugins import PluginKind
from abi.testing import OriginResponse, assert_no_failures, istio_host, istio_plugins, request_headers

MESH = Path(__file__).parent / "istio" / "mesh.yaml"
PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
VM_COUNTER = PLUGINS / "c" / "vm_counter.wasm"
REVIEWS = Workload.make("bookinfo", {"app": "reviews", "version": "v1"}, port=9080, name="reviews-v1")
GATEWAY = Workload.make("bookinfo", {"gateway.networking.k8s.io/gateway-name": "bookinfo-gateway"}, kind="gateway",
                        port=80)
WAYPOINT = Workload.make("bookinfo", {"gateway.networking.k8s.io/gateway-name": "waypoint"}, kind="waypoint",
                         services=[ServiceRef("reviews", "bookinfo")])


def names(plugins: tuple[istio.WasmPlugin, ...]) -> list[str]:
    return [plugin.name for plugin in plugins]


def manifest(tmp_path: Path, text: str, name: str = "plugins.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def one_plugin(spec: str, metadata: str = "name: p\n  namespace: bookinfo") -> str:
    return (f"apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata:\n  {metadata}\nspec:\n"
            + textwrap.indent(textwrap.dedent(spec).rstrip("\n") + "\n", "  "))


# --- which resources apply, in what order ----------------------------------------------------------


def test_inbound_chain_follows_phase_priority_and_namespace_order() -> None:
    chains = istio.build_chains(istio.read_manifests(str(MESH)), REVIEWS)
    assert chains.mode == "SERVER"
    assert names(chains.http) == [
        "local-authn", "mesh-authn",              # AUTHN, priority 10 both: the workload's namespace first
        "authz-high", "authz-negative", "authz-unset",   # AUTHZ: 1000, -5, then no priority at all
        "inbound-9080", "mesh-stats",             # STATS: priority 5, then the root namespace's (no priority)
        "from-list", "tie-b", "tie-a"]            # no phase: priority 1, then by creation time
    assert names(chains.network) == ["tcp-upper"]


def test_why_each_resource_applied_or_not() -> None:
    reasons = {decision.plugin.name: (decision.applies, decision.reason)
               for decision in istio.build_chains(istio.read_manifests(str(MESH)), REVIEWS).decisions}
    assert reasons["mesh-authn"] == (True, "in the root namespace, without a selector; no match: every "
                                           "direction and port")
    applies, reason = reasons["authz-negative"]
    assert applies and "its selector app=reviews, version=v1 matches" in reason
    assert reasons["ratings"] == (False, "its selector app=ratings does not match the workload's labels "
                                         "(app=reviews)")
    assert reasons["cart"] == (False, "its namespace shop is neither the workload's (bookinfo) nor the root "
                                      "namespace (istio-system)")
    assert reasons["outbound-only"] == (False, "no match entry selects SERVER traffic on port 9080: match[0] "
                                               "mode CLIENT")
    assert reasons["gateway-only"][0] is False
    assert "targetRefs, which attach only to Gateway API gateways and waypoints" in reasons["gateway-only"][1]
    assert reasons["inbound-9080"] == (True, "in the workload's namespace, without a selector; match[0] selects "
                                             "SERVER traffic on port 9080")


def test_outbound_traffic_takes_client_mode_resources() -> None:
    chains = istio.build_chains(istio.read_manifests(str(MESH)), REVIEWS, direction=Direction.OUTBOUND)
    assert chains.mode == "CLIENT"
    assert "outbound-only" in names(chains.http)
    assert "inbound-9080" not in names(chains.http)         # CLIENT only on port 80
    reasons = {d.plugin.name: d.reason for d in chains.decisions}
    assert reasons["inbound-9080"] == ("no match entry selects CLIENT traffic on port 9080: match[0] mode SERVER; "
                                       "match[1] ports 80")


def test_port_match_needs_the_workload_port() -> None:
    chains = istio.build_chains(istio.read_manifests(str(MESH)), Workload.make("bookinfo", {"app": "reviews"}))
    assert "inbound-9080" not in names(chains.http)
    reason = next(d.reason for d in chains.decisions if d.plugin.name == "inbound-9080")
    assert reason.endswith("match[0] ports 9080 (the workload names no port); match[1] mode CLIENT and ports 80 "
                           "(the workload names no port)")


def test_a_gateway_api_gateway_takes_its_target_refs_and_client_mode() -> None:
    chains = istio.build_chains(istio.read_manifests(str(MESH)), GATEWAY)
    assert chains.mode == "CLIENT"
    assert names(chains.http) == ["local-authn", "mesh-authn", "gateway-only", "inbound-9080", "from-list",
                                  "outbound-only", "tie-b", "tie-a"]
    reasons = {d.plugin.name: d.reason for d in chains.decisions}
    assert reasons["gateway-only"].startswith("its targetRef Gateway bookinfo-gateway is this workload")
    assert reasons["reviews-service"] == ("its targetRefs (Service reviews) name nothing this workload is (Gateway "
                                          "bookinfo-gateway, in bookinfo)")


def test_a_waypoint_takes_only_target_refs() -> None:
    chains = istio.build_chains(istio.read_manifests(str(MESH)), WAYPOINT)
    assert chains.mode == "SERVER"
    assert names(chains.http) == ["all-waypoints", "reviews-service"]
    reasons = {d.plugin.name: d.reason for d in chains.decisions}
    assert reasons["mesh-authn"] == "a waypoint takes only WasmPlugins with targetRefs"
    assert reasons["all-waypoints"].startswith("its targetRef GatewayClass istio-waypoint in the root namespace")


def test_root_namespace_resources_reach_every_namespace() -> None:
    shop = Workload.make("shop", {"app": "reviews"})
    assert names(istio.build_chains(istio.read_manifests(str(MESH)), shop).http) == [
        "mesh-authn", "mesh-stats", "cart"]
    other_root = istio.build_chains(istio.read_manifests(str(MESH)), shop, root_namespace="mesh-root")
    assert names(other_root.http) == ["cart"]


def test_other_kinds_are_passed_over() -> None:
    manifests = istio.read_manifests(str(MESH))
    assert [(item.what, item.document, item.reason) for item in manifests.passed_over] == [
        ("Deployment bookinfo/reviews-v1", 17, "not a WasmPlugin"),
        ("EnvoyFilter istio-system/lua-patch", 18, "EnvoyFilter patches are not applied by glasswasm")]
    assert len(manifests.plugins) == 17


# --- the plugins ----------------------------------------------------------------------------------------


def test_resources_become_plugins_as_istiod_configures_them() -> None:
    translation = istio_plugins(MESH, workload=REVIEWS)
    http = translation.of_kind(PluginKind.HTTP)
    first = next(spec for spec in http if spec.name == "istio-system.mesh-authn")
    assert (first.root_id, first.vm_id, first.failure, first.wasm_as_written) == (
        "mesh-authn", "", FailurePolicy.FAIL_CLOSE, "file://../../plugins/c/vm_counter.wasm")
    assert first.configuration == b'{"level":2,"source":"mesh"}'          # keys sorted, as protojson writes them
    assert first.environment == (("ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION", "4711"),)
    assert first.wasm == VM_COUNTER.read_bytes()
    assert first.origin is not None and first.origin.to_report() == {
        "source": "istio", "resource": "WasmPlugin istio-system/mesh-authn", "file": str(MESH), "document": 1,
        "phase": "AUTHN", "priority": 10, "notes": []}
    (network,) = translation.of_kind(PluginKind.NETWORK)
    assert (network.name, network.kind) == ("bookinfo.tcp-upper", PluginKind.NETWORK)


def test_the_chain_runs_in_order_through_the_host() -> None:
    host = istio_host(MESH, workload=REVIEWS)
    stream = host.open_stream()
    stream.send_request_headers(request_headers("/reviews/1"), end_of_stream=True)
    upstream = stream.upstream_request
    assert upstream is not None
    roots = [name.removeprefix("x-root-count-") for name, _ in upstream.headers.items()
             if name.startswith("x-root-count-")]
    assert roots == ["local-authn", "mesh-authn", "authz-high", "authz-negative", "authz-unset", "inbound-9080",
                     "mesh-stats", "from-list", "tie-b", "tie-a"]
    assert upstream.headers.get_all("x-config")[:2] == ["", '{"level":2,"source":"mesh"}']
    # One VM for all: the same code, VM configuration and environment but for mesh-authn's resource version.
    assert [value for name, value in upstream.headers.items() if name == "x-vm-count"] == [
        "1", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert_no_failures(host)
    host.shutdown()


def test_sha256_is_verified(tmp_path: Path) -> None:
    digest = hashlib.sha256(VM_COUNTER.read_bytes()).hexdigest()
    good = manifest(tmp_path, one_plugin(f"url: file://{VM_COUNTER}\nsha256: {digest}\n"))
    assert istio_plugins(good, workload=REVIEWS).plugins[0].wasm == VM_COUNTER.read_bytes()
    bad = manifest(tmp_path, one_plugin(f"url: file://{VM_COUNTER}\nsha256: '{'0' * 64}'\n"), "bad.yaml")
    with pytest.raises(ManifestError) as caught:
        istio_plugins(bad, workload=REVIEWS)
    assert str(caught.value) == (
        f"{bad}: WasmPlugin bookinfo/p: spec.sha256: the module's sha256 is {digest}, not {'0' * 64}: fix the "
        f"sha256 or the file (Istio passes no sha256 for a file:// module, so it would load this one unchecked)")


def test_fetched_modules_need_a_local_copy(tmp_path: Path) -> None:
    url = "oci://registry.example.com/filters/counter:1.0"
    path = manifest(tmp_path, one_plugin(f"url: {url}\nfailStrategy: FAIL_OPEN\n"
                                         f"sha256: '{'1' * 64}'\n"))
    with pytest.raises(ManifestError) as caught:
        istio_plugins(path, workload=REVIEWS)
    assert str(caught.value) == (
        f"{path}: WasmPlugin bookinfo/p: spec.url: {url} is not fetched (glasswasm reads only local files): "
        f"download it and name the local copy in the scenario, `module_files: {{'{url}': FILE}}`")
    with pytest.raises(ManifestError, match="Istio's agent refuses the module and puts a filter that lets every "
                                            "request through in its place"):
        istio_plugins(path, workload=REVIEWS, module_files={url: VM_COUNTER})
    digest = hashlib.sha256(VM_COUNTER.read_bytes()).hexdigest()
    path = manifest(tmp_path, one_plugin(f"url: {url}\nsha256: {digest}\n"), "good.yaml")
    translation = istio_plugins(path, workload=REVIEWS, module_files={url: VM_COUNTER})
    assert translation.plugins[0].environment == ()       # the agent removes ISTIO_META_* from fetched modules
    assert translation.notes == (f"bookinfo.p: {url} is fetched by Istio's agent; glasswasm reads the local copy "
                                 f"{VM_COUNTER}",)


def test_a_url_without_scheme_is_an_oci_image(tmp_path: Path) -> None:
    path = manifest(tmp_path, one_plugin("url: ghcr.io/example/filter:1\n"))
    with pytest.raises(ManifestError, match="ghcr.io/example/filter:1 has no scheme, so Istio pulls it as an OCI "
                                            "image: oci://ghcr.io/example/filter:1 is not fetched"):
        istio_plugins(path, workload=REVIEWS)
    (tmp_path / "filter.wasm").write_bytes(VM_COUNTER.read_bytes())
    local = manifest(tmp_path, one_plugin("url: filter.wasm\n"), "local.yaml")
    assert istio_plugins(local, workload=REVIEWS).notes == (
        "bookinfo.p: spec.url filter.wasm has no scheme, so Istio pulls it as the OCI image oci://filter.wasm; "
        "glasswasm reads the local file filter.wasm (write file://filter.wasm for a file)",)


def test_environment_from_inline_values_and_the_simulated_host(tmp_path: Path) -> None:
    path = manifest(tmp_path, one_plugin(f"""\
        url: file://{VM_COUNTER}
        imagePullPolicy: Always
        imagePullSecret: registry-creds
        vmConfig:
          env:
            - {{name: TRUST_DOMAIN, value: cluster.local}}
            - {{name: POD_NAME, valueFrom: HOST}}
            - {{name: NODE_NAME, valueFrom: HOST}}
        """))
    translation = istio_plugins(path, workload=REVIEWS, host_environment={"POD_NAME": "reviews-v1-0"})
    assert translation.plugins[0].environment == (
        ("ISTIO_META_WASM_IMAGE_PULL_POLICY", "Always"),
        ("ISTIO_META_WASM_IMAGE_PULL_SECRET", "kubernetes://bookinfo/registry-creds"),
        ("ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION", ""),
        ("TRUST_DOMAIN", "cluster.local"),
        ("POD_NAME", "reviews-v1-0"))
    assert translation.notes == ("bookinfo.p: host variable NODE_NAME is not in the scenario's host_environment, "
                                 "so the VM does not get it (Envoy leaves out a variable its host lacks)",)


def test_fail_strategies(tmp_path: Path) -> None:
    for strategy, policy in (("FAIL_CLOSE", FailurePolicy.FAIL_CLOSE), ("FAIL_OPEN", FailurePolicy.FAIL_OPEN),
                             ("FAIL_RELOAD", FailurePolicy.FAIL_RELOAD)):
        path = manifest(tmp_path, one_plugin(f"url: file://{VM_COUNTER}\nfailStrategy: {strategy}\n"), strategy)
        translation = istio_plugins(path, workload=REVIEWS)
        assert translation.plugins[0].failure is policy
        assert bool(translation.notes) is (policy is FailurePolicy.FAIL_RELOAD)


@pytest.mark.parametrize(("strategy", "status"), [("FAIL_OPEN", 200), ("FAIL_CLOSE", 503)])
def test_fail_strategy_acts_on_a_crashing_plugin(tmp_path: Path, strategy: str, status: int) -> None:
    path = manifest(tmp_path, one_plugin(f"url: file://{PLUGINS / 'c' / 'panic.wasm'}\nfailStrategy: {strategy}\n"))
    host = istio_host(path, workload=REVIEWS)
    crashing = host.open_stream()
    crashing.send_request_headers(request_headers("/", headers={"x-crash": "1"}), end_of_stream=True)
    assert [failure.plugin for failure in host.failures] == ["bookinfo.p"]
    after = host.open_stream(origin=OriginResponse.make())
    after.send_request_headers(request_headers("/"), end_of_stream=True)
    after.finish()
    assert after.downstream_response is not None and after.downstream_response.status == status
    assert (after.upstream_request is not None) is (strategy == "FAIL_OPEN")
    host.shutdown()


def test_vm_sharing_that_envoy_would_do_is_noted(tmp_path: Path) -> None:
    path = manifest(tmp_path, one_plugin(f"url: file://{VM_COUNTER}\n", "name: a\n  namespace: bookinfo\n  "
                                                                       "resourceVersion: '1'")
                    + "---\n" + one_plugin(f"url: file://{VM_COUNTER}\n", "name: b\n  namespace: bookinfo\n  "
                                                                          "resourceVersion: '2'"))
    assert istio_plugins(path, workload=REVIEWS).notes == (
        "bookinfo.a and bookinfo.b: Envoy runs them in one VM (same vm_id, code and VM configuration; its VM key "
        "leaves out the environment, so the VM has bookinfo.a's); glasswasm runs them in separate VMs, as their "
        "environments differ",)


# --- bad manifests: one line naming the resource and the field --------------------------------------------


@pytest.mark.parametrize(("spec", "message"), [
    ("url: file:///x.wasm\nselector: {matchLabels: {a: b}}\ntargetRefs: [{kind: Gateway, name: g}]\n",
     "WasmPlugin bookinfo/p: spec: only one of targetRefs or selector can be set"),
    ("url: file:///x.wasm\nphase: EARLY\n",
     "WasmPlugin bookinfo/p: spec.phase: expected one of UNSPECIFIED_PHASE, AUTHN, AUTHZ, STATS, got 'EARLY'"),
    ("url: file:///x.wasm\npriority: 1.5\n",
     "WasmPlugin bookinfo/p: spec.priority: expected an integer from -2147483648 to 2147483647, got a number"),
    ("url: file:///x.wasm\npriority: 2147483648\n",
     "WasmPlugin bookinfo/p: spec.priority: expected an integer from -2147483648 to 2147483647, got a number"),
    ("url: file:///x.wasm\nsha256: ABC\n",
     "WasmPlugin bookinfo/p: spec.sha256: expected 64 lower-case hexadecimal digits"),
    ("url: file:///x.wasm\nfailstrategy: FAIL_OPEN\n",
     "WasmPlugin bookinfo/p: spec.failstrategy: unknown field (expected one of: selector, targetRef, targetRefs, "
     "url, sha256, imagePullPolicy, imagePullSecret, verificationKey, pluginConfig, pluginName, phase, priority, "
     "failStrategy, vmConfig, match, type)"),
    ("pluginName: x\n", "WasmPlugin bookinfo/p: spec.url: missing: must not be empty"),
    ("url: ftp://host/x.wasm\n", "WasmPlugin bookinfo/p: spec.url: the URL's scheme must be one of file, oci, "
                                 "http, https"),
    ("url: https://host/x.wasm\n", "WasmPlugin bookinfo/p: spec.url: https://host/x.wasm is not fetched"),
    ("url: file:///x.wasm\nvmConfig: {env: [{name: A, valueFrom: HOST, value: v}]}\n",
     "WasmPlugin bookinfo/p: spec.vmConfig.env[0].value: value may only be set when valueFrom is INLINE"),
    ("url: file:///x.wasm\nvmConfig: {env: [{name: A}, {name: A, value: b}]}\n",
     "WasmPlugin bookinfo/p: spec.vmConfig.env[1].name: A is given twice"),
    ("url: file:///x.wasm\nmatch: [{mode: CLIENT, ports: [{number: 0}]}]\n",
     "WasmPlugin bookinfo/p: spec.match[0].ports[0].number: expected an integer from 1 to 65535, got a number"),
    ("url: file:///x.wasm\npluginConfig: {limit: .inf}\n",
     "WasmPlugin bookinfo/p: spec.pluginConfig.limit: a Struct's numbers are finite (no NaN or infinity)"),
    ("url: file:///x.wasm\npluginConfig: {since: 2024-01-01}\n",
     "WasmPlugin bookinfo/p: spec.pluginConfig.since: an unquoted date or time: quote it"),
    ("url: file:///x.wasm\ntargetRefs: [{kind: Gateway}]\n",
     "WasmPlugin bookinfo/p: spec.targetRefs[0].name: missing: must not be empty"),
])
def test_bad_resources_are_one_line_naming_resource_and_field(tmp_path: Path, spec: str, message: str) -> None:
    path = manifest(tmp_path, one_plugin(spec))
    with pytest.raises(ManifestError) as caught:
        translation = istio_plugins(path, workload=Workload.make("bookinfo"))
        pytest.fail(f"no error, got {translation}")
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {message}")


def test_bad_documents(tmp_path: Path) -> None:
    wrong_version = manifest(tmp_path, one_plugin("url: x").replace("v1alpha1", "v1beta1"))
    with pytest.raises(ManifestError, match="document 1 \\(WasmPlugin\\): apiVersion: expected "
                                            "extensions.istio.io/v1alpha1, got 'extensions.istio.io/v1beta1'"):
        istio.read_manifests(wrong_version)
    nameless = manifest(tmp_path, "---\n---\n" + one_plugin("url: x", "namespace: a"), "nameless.yaml")
    with pytest.raises(ManifestError, match="document 2 \\(WasmPlugin\\): metadata.name: missing"):
        istio.read_manifests(nameless)
    twice = manifest(tmp_path, one_plugin("url: x") + "---\n" + one_plugin("url: y"), "twice.yaml")
    with pytest.raises(ManifestError, match="WasmPlugin bookinfo/p: metadata.name: given twice: also in .*twice.yaml "
                                            "document 1"):
        istio.read_manifests(twice)
    aliased = manifest(tmp_path, "a: &x 1\n---\nb: *x\n", "aliased.yaml")
    with pytest.raises(ScenarioError, match="aliases"):
        istio.read_manifests(aliased)


def test_workload_errors_name_the_scenario_key() -> None:
    reader = FieldReader("scenario.yaml", "")
    with pytest.raises(ManifestError, match="^scenario.yaml: istio.workload.kind: expected one of sidecar, gateway, "
                                            "waypoint, got 'ingress'$"):
        istio.workload_from_mapping({"kind": "ingress"}, reader, "istio.workload")
    with pytest.raises(ManifestError, match="^scenario.yaml: istio.workload.port: expected an integer from 1 to "
                                            "65535"):
        istio.workload_from_mapping({"port": "80"}, reader, "istio.workload")


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) |
    st.sampled_from(["WasmPlugin", "extensions.istio.io/v1alpha1", "List", "HOST", "CLIENT", "AUTHN", "file:///x"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["apiVersion", "kind", "metadata", "spec", "items", "name", "namespace", "url", "selector",
                         "matchLabels", "match", "mode", "ports", "number", "vmConfig", "env", "valueFrom", "value",
                         "targetRefs", "priority", "phase", "pluginConfig", "type", "creationTimestamp"])
        | st.text(max_size=4),
        children, max_size=5),
    max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.lists(documents, max_size=3))
def test_any_document_gives_resources_or_one_manifest_error(items: list[object]) -> None:
    wasm_plugins = [{"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin", **item}
                    if isinstance(item, dict) else item for item in items]
    try:
        manifests = istio.manifests_from_documents(wasm_plugins, "fuzz.yaml", Path("."))
        istio.translate(manifests, REVIEWS)
    except ScenarioError as error:
        assert "\n" not in str(error)


VALID = {"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin",
         "metadata": {"name": "p", "namespace": "bookinfo", "creationTimestamp": "2024-01-01T00:00:00Z"},
         "spec": {"url": f"file://{VM_COUNTER}", "selector": {"matchLabels": {"app": "reviews"}},
                  "pluginConfig": {"a": [1, {"b": None}]}, "phase": "AUTHZ", "priority": 3,
                  "vmConfig": {"env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": "HOST"}]},
                  "match": [{"mode": "SERVER", "ports": [{"number": 9080}]}], "failStrategy": "FAIL_OPEN"}}
FIELDS = [("metadata", "name"), ("metadata", "namespace"), ("metadata", "creationTimestamp"), ("spec", "url"),
          ("spec", "selector"), ("spec", "pluginConfig"), ("spec", "phase"), ("spec", "priority"), ("spec", "vmConfig"),
          ("spec", "match"), ("spec", "failStrategy"), ("spec", "targetRefs"), ("spec", "sha256"), ("spec", "type")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELDS), documents), min_size=1, max_size=3))
def test_a_resource_with_any_field_changed_gives_a_plugin_or_one_manifest_error(
        changes: list[tuple[tuple[str, str], object]]) -> None:
    resource = {"apiVersion": VALID["apiVersion"], "kind": VALID["kind"], "metadata": dict(VALID["metadata"]),
                "spec": dict(VALID["spec"])}
    for (section, field), value in changes:
        resource[section][field] = value  # type: ignore[index]
    try:
        istio.translate(istio.manifests_from_documents([resource], "fuzz.yaml", Path(".")), REVIEWS,
                        proxy=ProxyEnvironment((("B", "b"),)))
    except ScenarioError as error:
        assert "\n" not in str(error)
