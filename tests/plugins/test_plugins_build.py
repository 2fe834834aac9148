"""The committed proxy-wasm test plugins are sound test material.

Each .wasm decodes and validates with glasswasm, exports what a proxy-wasm host
looks for (an ABI version marker, an allocator, its callbacks), imports nothing
but ABI 0.2.1 host functions (with their exact signatures) and WASI, and can be
instantiated without calling the host (hosts refuse most calls while a module
starts). CI does not rebuild the plugins, so manifest.sha256 ties every .wasm to
the sources it was built from, and, where clang is installed, the C build is
re-run to check that it reproduces the committed bytes.
"""

from __future__ import annotations

import hashlib
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
from interp.syntax.module import Module
from interp.syntax.types import I32, I64, FuncType, ValType

PLUGINS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class PluginExpectation:
    """What one plugin must export: its ABI marker, its allocator and its callbacks."""

    path: str
    abi_marker: str
    allocator: str
    callbacks: frozenset[str]


C_ABI = "proxy_abi_version_0_2_1"
C_ALLOCATOR = "proxy_on_memory_allocate"
AS_ABI = "proxy_abi_version_0_2_0"
AS_ALLOCATOR = "malloc"
AS_CALLBACKS = frozenset({
    "proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers",
    "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_response_body",
    "proxy_on_http_call_response", "proxy_on_done", "proxy_on_log", "proxy_on_delete",
})

PLUGINS = (
    PluginExpectation("c/header_rewrite.wasm", C_ABI, C_ALLOCATOR, frozenset({
        "proxy_on_configure", "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_delete"})),
    PluginExpectation("c/auth_call.wasm", C_ABI, C_ALLOCATOR, frozenset({
        "proxy_on_configure", "proxy_on_request_headers", "proxy_on_http_call_response", "proxy_on_delete"})),
    PluginExpectation("c/body_rewrite.wasm", C_ABI, C_ALLOCATOR, frozenset({
        "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers",
        "proxy_on_response_body"})),
    PluginExpectation("c/metrics_properties.wasm", C_ABI, C_ALLOCATOR, frozenset({
        "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_headers", "proxy_on_request_body",
        "proxy_on_response_headers", "proxy_on_log", "proxy_on_delete"})),
    PluginExpectation("c/panic.wasm", C_ABI, C_ALLOCATOR, frozenset({
        "proxy_on_request_headers", "proxy_on_response_headers"})),
    PluginExpectation("assemblyscript/deny_admin.wasm", AS_ABI, AS_ALLOCATOR, AS_CALLBACKS),
    PluginExpectation("assemblyscript/auth_metrics.wasm", AS_ABI, AS_ALLOCATOR, AS_CALLBACKS),
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

# WASI preview1, under its own name and the older one (AssemblyScript imports wasi_unstable.proc_exit).
WASI_MODULES = frozenset({"wasi_snapshot_preview1", "wasi_unstable"})
WASI_PREVIEW1_FUNCTIONS = frozenset({
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
    "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
    "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
    "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
    "fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
    "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
    "sock_recv", "sock_send", "sock_shutdown",
})


def _load(plugin: PluginExpectation) -> Module:
    return read_module(str(PLUGINS_DIR / plugin.path))


def _ids(plugin: PluginExpectation) -> str:
    return Path(plugin.path).stem


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_decodes_and_validates(plugin: PluginExpectation) -> None:
    module = _load(plugin)
    compile_module(module)
    assert module.memories, "a proxy-wasm plugin needs a memory the host can read"


@pytest.mark.parametrize("plugin", PLUGINS, ids=_ids)
def test_plugin_exports_the_entry_points_a_host_looks_for(plugin: PluginExpectation) -> None:
    exports = {export.name for export in _load(plugin).exports}
    markers = {name for name in exports if name.startswith("proxy_abi_version_")}
    assert markers == {plugin.abi_marker}
    assert {"memory", plugin.allocator} <= exports
    assert plugin.callbacks <= exports, f"missing callbacks: {sorted(plugin.callbacks - exports)}"


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
            assert entry.module in WASI_MODULES and entry.name in WASI_PREVIEW1_FUNCTIONS, f"{where} is not WASI"


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
