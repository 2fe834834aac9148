"""The committed proxy-wasm test plugins are sound test material.

Each .wasm decodes and validates with glasswasm, exports what a proxy-wasm host
looks for (an ABI version marker, an allocator, its callbacks, each with the
ABI's type), imports nothing but ABI 0.2.1 host functions and WASI (with their
exact signatures), and can be instantiated without calling the host (hosts
refuse most calls while a module starts). CI does not rebuild the plugins, so
manifest.sha256 ties every .wasm to the sources it was built from, and, where
clang or the AssemblyScript compiler is installed, the builds are re-run to
check that they reproduce the committed bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from interp.translate.compiled import compile_module
from interp.loader import read_module
from interp.runtime.function import HostFunction
from interp.exec.store import Store
from interp.syntax.module import ExternKind, Module
from interp.syntax.types import I32, I64, FuncType, ValType
from interp.wasi.signatures import PREVIEW1_SIGNATURES, UNSTABLE_SIGNATURES

PLUGINS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class PluginExpectation:
    """What one plugin must export: its ABI marker, its allocator and its callbacks.

    ``only_these_callbacks``: the plugin exports no other ``proxy_on_*`` callback (true of
    the C filters, whose README lists their callbacks; SDK modules export every one).
    """

    path: str
    abi_marker: str
    allocator: str
    callbacks: frozenset[str]
    only_these_callbacks: bool = True

    @property
    def name(self) -> str:
        return Path(self.path).stem


C_ABI = "proxy_abi_version_0_2_1"
C_ALLOCATOR = "proxy_on_memory_allocate"
AS_ABI = "proxy_abi_version_0_2_0"
AS_ALLOCATOR = "malloc"
AS_CALLBACKS = frozenset({
    "proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers",
    "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_response_body",
    "proxy_on_http_call_response", "proxy_on_done", "proxy_on_log", "proxy_on_delete",
})


def _c_plugin(name: str, *callbacks: str) -> PluginExpectation:
    return PluginExpectation(f"c/{name}.wasm", C_ABI, C_ALLOCATOR, frozenset(callbacks))


def _as_plugin(name: str, *callbacks: str) -> PluginExpectation:
    return PluginExpectation(f"assemblyscript/{name}.wasm", AS_ABI, AS_ALLOCATOR, AS_CALLBACKS | set(callbacks),
                             only_these_callbacks=False)


PLUGINS = (
    _c_plugin("header_rewrite", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_response_headers",
              "proxy_on_delete"),
    _c_plugin("auth_call", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_http_call_response",
              "proxy_on_delete"),
    _c_plugin("body_rewrite", "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers",
              "proxy_on_response_body"),
    _c_plugin("metrics_properties", "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers",
              "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_log", "proxy_on_delete"),
    _c_plugin("panic", "proxy_on_request_headers", "proxy_on_response_headers"),
    _c_plugin("tick_postpone", "proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers",
              "proxy_on_tick", "proxy_on_delete"),
    _c_plugin("shared_counter", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_http_call_response",
              "proxy_on_log", "proxy_on_delete"),
    _c_plugin("queue_producer", "proxy_on_configure", "proxy_on_request_headers"),
    _c_plugin("queue_consumer", "proxy_on_configure", "proxy_on_queue_ready"),
    _c_plugin("grpc_client", "proxy_on_configure", "proxy_on_request_headers",
              "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive",
              "proxy_on_grpc_receive_trailing_metadata", "proxy_on_grpc_close", "proxy_on_delete"),
    _c_plugin("foreign_calls", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_request_body",
              "proxy_on_foreign_function"),
    _c_plugin("tcp_rewrite", "proxy_on_new_connection", "proxy_on_downstream_data", "proxy_on_upstream_data",
              "proxy_on_downstream_connection_close", "proxy_on_upstream_connection_close", "proxy_on_log",
              "proxy_on_delete"),
    _c_plugin("vm_counter", "proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure",
              "proxy_on_request_headers", "proxy_on_delete"),
    _c_plugin("sdk_strict", "proxy_on_configure", "proxy_on_tick", "proxy_on_request_headers"),
    _c_plugin("hostile", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_request_body",
              "proxy_on_delete"),
    _as_plugin("deny_admin"),
    _as_plugin("auth_metrics"),
    _as_plugin("tick_hits", "proxy_on_tick"),
    _as_plugin("queue_pair", "proxy_on_queue_ready"),
)


def _signature(params: str) -> FuncType:
    """A host function type from its parameters ('i' = i32, 'I' = i64); all return an i32 status."""
    kinds: dict[str, ValType] = {"i": I32, "I": I64}
    return FuncType(tuple(kinds[p] for p in params), (I32,))


# Every host function of ABI 0.2.1 (spec: abi-versions/v0.2.1), module "env".
ABI_0_2_1_HOST_FUNCTIONS: dict[str, FuncType] = {name: _signature(params) for name, params in {
    "proxy_log": "iii", "proxy_get_log_level": "i", "proxy_get_current_time_nanoseconds": "i",
    "proxy_set_tick_period_milliseconds": "i", "proxy_done": "", "proxy_set_effective_context": "i",
    "proxy_get_buffer_bytes": "iiiii", "proxy_get_buffer_status": "iii", "proxy_set_buffer_bytes": "iiiii",
    "proxy_get_header_map_size": "ii", "proxy_get_header_map_pairs": "iii", "proxy_set_header_map_pairs": "iii",
    "proxy_get_header_map_value": "iiiii", "proxy_add_header_map_value": "iiiii",
    "proxy_replace_header_map_value": "iiiii", "proxy_remove_header_map_value": "iii",
    "proxy_continue_stream": "i", "proxy_close_stream": "i", "proxy_get_status": "iii",
    "proxy_send_local_response": "i" * 8, "proxy_http_call": "i" * 10, "proxy_grpc_call": "i" * 12,
    "proxy_grpc_stream": "i" * 9, "proxy_grpc_send": "iiii", "proxy_grpc_cancel": "i", "proxy_grpc_close": "i",
    "proxy_set_shared_data": "iiiii", "proxy_get_shared_data": "iiiii", "proxy_register_shared_queue": "iii",
    "proxy_resolve_shared_queue": "iiiii", "proxy_enqueue_shared_queue": "iii",
    "proxy_dequeue_shared_queue": "iii", "proxy_define_metric": "iiii", "proxy_record_metric": "iI",
    "proxy_increment_metric": "iI", "proxy_get_metric": "ii", "proxy_get_property": "iiii",
    "proxy_set_property": "iiii", "proxy_call_foreign_function": "iiiiii",
}.items()}

# The WASI preview1 functions the ABI 0.2.1 spec lists besides the `env` ones (47 in all).
ABI_0_2_1_WASI_FUNCTIONS = frozenset({
    "fd_write", "clock_time_get", "random_get", "environ_sizes_get", "environ_get", "args_sizes_get", "args_get",
    "proc_exit",
})

# Any WASI preview1 function may be imported, under its own module name or the older one
# (AssemblyScript imports wasi_unstable.proc_exit), with the type WASI gives it.
WASI_SIGNATURES: dict[str, dict[str, FuncType]] = {
    "wasi_snapshot_preview1": PREVIEW1_SIGNATURES, "wasi_unstable": UNSTABLE_SIGNATURES,
}


def _callback(params: int, returns_value: bool) -> FuncType:
    """A callback's type: every parameter and the result (when there is one) is an i32."""
    return FuncType((I32,) * params, (I32,) if returns_value else ())


# Every function a plugin may export for the host (spec: abi-versions/v0.2.1), with its type.
ABI_0_2_1_CALLBACKS: dict[str, FuncType] = {name: _callback(*shape) for name, shape in {
    "proxy_on_memory_allocate": (1, True), "proxy_on_context_create": (2, False), "proxy_on_done": (1, True),
    "proxy_on_log": (1, False), "proxy_on_delete": (1, False), "proxy_on_vm_start": (2, True),
    "proxy_on_configure": (2, True), "proxy_on_tick": (1, False), "proxy_on_new_connection": (1, True),
    "proxy_on_downstream_data": (3, True), "proxy_on_downstream_connection_close": (2, False),
    "proxy_on_upstream_data": (3, True), "proxy_on_upstream_connection_close": (2, False),
    "proxy_on_request_headers": (3, True), "proxy_on_request_body": (3, True),
    "proxy_on_request_trailers": (2, True), "proxy_on_response_headers": (3, True),
    "proxy_on_response_body": (3, True), "proxy_on_response_trailers": (2, True),
    "proxy_on_http_call_response": (5, False), "proxy_on_grpc_receive_initial_metadata": (3, False),
    "proxy_on_grpc_receive": (3, False), "proxy_on_grpc_receive_trailing_metadata": (3, False),
    "proxy_on_grpc_close": (3, False), "proxy_on_queue_ready": (2, False), "proxy_on_foreign_function": (3, False),
}.items()}
ABI_MARKER_TYPE = FuncType((), ())
ALLOCATOR_TYPE = FuncType((I32,), (I32,))


def _load(plugin: PluginExpectation) -> Module:
    return read_module(str(PLUGINS_DIR / plugin.path))


def _ids(plugin: PluginExpectation) -> str:
    return plugin.name


def _exported_function_types(module: Module) -> dict[str, FuncType]:
    type_indices = module.func_type_indices()
    return {export.name: module.types[type_indices[export.index]]
            for export in module.exports if export.kind is ExternKind.FUNC}


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_decodes_and_validates(plugin: PluginExpectation) -> None:
    module = _load(plugin)
    compile_module(module)
    assert module.memories, "a proxy-wasm plugin needs a memory the host can read"


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_exports_the_entry_points_a_host_looks_for(plugin: PluginExpectation) -> None:
    module = _load(plugin)
    exports = {export.name for export in module.exports}
    functions = _exported_function_types(module)
    markers = {name for name in exports if name.startswith("proxy_abi_version_")}
    assert markers == {plugin.abi_marker}
    assert functions[plugin.abi_marker] == ABI_MARKER_TYPE
    assert "memory" in exports
    assert functions.get(plugin.allocator) == ALLOCATOR_TYPE
    assert plugin.callbacks <= exports, f"missing callbacks: {sorted(plugin.callbacks - exports)}"
    if plugin.only_these_callbacks:
        exported_callbacks = {name for name in functions if name.startswith("proxy_on_")} - {C_ALLOCATOR}
        assert exported_callbacks == plugin.callbacks


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_callbacks_have_the_abi_types(plugin: PluginExpectation) -> None:
    assert plugin.callbacks <= set(ABI_0_2_1_CALLBACKS)
    for name, func_type in _exported_function_types(_load(plugin)).items():
        if name in ABI_0_2_1_CALLBACKS:
            assert func_type == ABI_0_2_1_CALLBACKS[name], f"{name} has the wrong type"


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_imports_only_abi_0_2_1_functions_and_wasi(plugin: PluginExpectation) -> None:
    module = _load(plugin)
    assert module.imports, "every plugin talks to the host"
    for entry in module.imports:
        assert isinstance(entry.desc, int), f"{entry.module}.{entry.name} is not a function import"
        where = f"{entry.module}.{entry.name}"
        if entry.module == "env":
            assert entry.name in ABI_0_2_1_HOST_FUNCTIONS, f"{where} is not an ABI 0.2.1 host function"
            assert module.types[entry.desc] == ABI_0_2_1_HOST_FUNCTIONS[entry.name], f"{where} has the wrong type"
        else:
            assert entry.name in WASI_SIGNATURES.get(entry.module, {}), f"{where} is not WASI"
            assert module.types[entry.desc] == WASI_SIGNATURES[entry.module][entry.name], f"{where} has the wrong type"


def _header() -> str:
    return (PLUGINS_DIR / "c" / "proxy_wasm.h").read_text()


def test_c_header_declares_every_abi_0_2_1_host_function_and_callback() -> None:
    imports = set(re.findall(r"^PROXY_IMPORT\((\w+)\)$", _header(), re.M))
    assert imports == set(ABI_0_2_1_HOST_FUNCTIONS)
    assert len(ABI_0_2_1_HOST_FUNCTIONS) + len(ABI_0_2_1_WASI_FUNCTIONS) == 47
    assert ABI_0_2_1_WASI_FUNCTIONS <= set(PREVIEW1_SIGNATURES)
    callbacks = set(re.findall(r"\b(proxy_on_\w+)\(", _header()))
    assert callbacks == set(ABI_0_2_1_CALLBACKS)


def _refusing_imports(module: Module) -> dict[str, dict[str, HostFunction]]:
    """Host functions that fail when called: instantiation must not call any."""
    imports: dict[str, dict[str, HostFunction]] = {}
    for entry in module.imports:
        def refuse(*_args: object, name: str = f"{entry.module}.{entry.name}") -> None:
            raise RuntimeError(f"{name} was called while the module started")
        imports.setdefault(entry.module, {})[entry.name] = HostFunction(module.types[entry.desc], refuse, entry.name)
    return imports


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_starts_without_host_calls_and_allocates(plugin: PluginExpectation) -> None:
    module = _load(plugin)
    instance = Store().instantiate(module, _refusing_imports(module), "plugin")
    memory = instance.memories[0]
    first = instance.invoke(plugin.allocator, 100)[0]
    second = instance.invoke(plugin.allocator, 100)[0]
    assert first != 0 and second != 0
    assert abs(second - first) >= 100, "two live allocations overlap"
    assert max(first, second) + 100 <= len(memory.data)
    # More than the initial memory holds: the allocator has to grow it.
    big_size = len(memory.data) + 65536
    big = instance.invoke(plugin.allocator, big_size)[0]
    assert big != 0 and big + big_size <= len(memory.data)


def _manifest() -> dict[str, str]:
    lines = (PLUGINS_DIR / "manifest.sha256").read_text().splitlines()
    return {path: digest for digest, path in (line.split("  ", 1) for line in lines)}


def _build_files() -> set[str]:
    """The files build.sh records: the same selection as its `find`."""
    suffixes = {".c", ".h", ".sh", ".ts", ".json", ".wasm"}
    found = {"build.sh"}
    for folder in ("c", "assemblyscript"):
        for path in (PLUGINS_DIR / folder).rglob("*"):
            relative = path.relative_to(PLUGINS_DIR)
            if "node_modules" in relative.parts or not path.is_file():
                continue
            if path.suffix in suffixes or path.name == ".npmrc":
                found.add(relative.as_posix())
    return found


def test_manifest_lists_every_source_and_plugin() -> None:
    listed = set(_manifest())
    assert {plugin.path for plugin in PLUGINS} <= listed
    assert listed == _build_files(), "rerun tests/plugins/build.sh after adding or removing a source"


@pytest.mark.parametrize("path", sorted(_manifest()))
def test_committed_file_matches_manifest(path: str) -> None:
    digest = hashlib.sha256((PLUGINS_DIR / path).read_bytes()).hexdigest()
    assert digest == _manifest()[path], f"{path} changed since the last build: rerun tests/plugins/build.sh"


def _clang_version() -> str | None:
    """The installed clang's version ("14.0.6"), or None without clang and wasm-ld."""
    if not (shutil.which("clang") and shutil.which("wasm-ld")):
        return None
    banner = subprocess.run(["clang", "--version"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"clang version (\S+)", banner)
    return match.group(1) if match else None


def _built_with(plugin: PluginExpectation) -> bytes:
    """The `producers` section, which names the compiler that built the plugin."""
    sections = [custom.data for custom in _load(plugin).customs if custom.name == "producers"]
    return sections[0] if sections else b""


C_PLUGINS = tuple(plugin for plugin in PLUGINS if plugin.path.startswith("c/"))
AS_PLUGINS = tuple(plugin for plugin in PLUGINS if plugin.path.startswith("assemblyscript/"))
AS_DIR = PLUGINS_DIR / "assemblyscript"


def test_c_build_builds_every_c_plugin() -> None:
    listed = re.search(r'^FILTERS="([^"]*)"', (PLUGINS_DIR / "c" / "build.sh").read_text(), re.M)
    assert listed is not None
    assert listed.group(1).split() == [plugin.name for plugin in C_PLUGINS]


def _npm_scripts() -> dict[str, str]:
    scripts: dict[str, str] = json.loads((AS_DIR / "package.json").read_text())["scripts"]
    return scripts


def test_npm_build_builds_every_assemblyscript_plugin() -> None:
    scripts = _npm_scripts()
    assert scripts["build"] == " && ".join(f"npm run build:{plugin.name}" for plugin in AS_PLUGINS)
    for plugin in AS_PLUGINS:
        assert scripts[f"build:{plugin.name}"].split()[:4] == [
            "asc", f"assembly/{plugin.name}.ts", "-b", f"{plugin.name}.wasm"]


def test_readme_documents_every_plugin() -> None:
    headings = set(re.findall(r"^### (\w+)$", (PLUGINS_DIR / "README.md").read_text(), re.M))
    assert {plugin.name for plugin in PLUGINS} <= headings


def test_c_build_reproduces_the_committed_plugins(tmp_path: Path) -> None:
    version = _clang_version()
    if version is None:
        pytest.skip("needs clang and wasm-ld")
    if not all(version.encode() in _built_with(plugin) for plugin in C_PLUGINS):
        pytest.skip(f"the plugins were built with another clang than {version}")
    sources = PLUGINS_DIR / "c"
    for path in sources.iterdir():
        if path.suffix in {".c", ".h", ".sh"}:
            shutil.copy(path, tmp_path / path.name)
    subprocess.run(["sh", str(tmp_path / "build.sh")], check=True, capture_output=True, timeout=300)
    for plugin in C_PLUGINS:
        name = Path(plugin.path).name
        assert (tmp_path / name).read_bytes() == (sources / name).read_bytes(), f"{name} is not reproducible"


@pytest.mark.parametrize("plugin", AS_PLUGINS, ids=_ids)
def test_assemblyscript_build_reproduces_the_committed_plugin(plugin: PluginExpectation, tmp_path: Path) -> None:
    asc = AS_DIR / "node_modules" / ".bin" / "asc"
    if not (asc.exists() and shutil.which("node")):
        pytest.skip("needs node and `npm ci` in tests/plugins/assemblyscript")
    command = _npm_scripts()[f"build:{plugin.name}"].split()
    command[command.index("-b") + 1] = str(tmp_path / f"{plugin.name}.wasm")
    subprocess.run([str(asc), *command[1:]], cwd=AS_DIR, check=True, capture_output=True, timeout=300)
    built = (tmp_path / f"{plugin.name}.wasm").read_bytes()
    assert built == (PLUGINS_DIR / plugin.path).read_bytes(), f"{plugin.name}.wasm is not reproducible"
