"""Loading plugins: ABI detection, imports, start-up order, failures to
start, allocators and WASI."""

from __future__ import annotations

import pytest

from abi.enums import AbiVersion, FailurePolicy, LogLevel, Status
from abi.errors import PluginLoadError
from abi.proxy.host import ProxyHost
from abi.proxy.services import HostConfig
from abi.proxy.plugins import PluginConfig
from abi.proxy.http_stream import OriginResponse
from tests.abi.wat_plugins import load, on_request_headers, results, returned, u32


def module(body: str) -> bytes:
    return f"(module {body})".encode()


@pytest.mark.parametrize(("markers", "version"), [
    (["0_2_0"], AbiVersion.V0_2_0), (["0_2_1"], AbiVersion.V0_2_1), (["0_2_0", "0_2_1"], AbiVersion.V0_2_1)])
def test_abi_version_from_the_marker_export(markers: list[str], version: AbiVersion) -> None:
    exports = " ".join(f'(func (export "proxy_abi_version_{marker}"))' for marker in markers)
    plugin = ProxyHost().load_plugin(PluginConfig("p", module(exports)))
    assert plugin.abi_version is version


@pytest.mark.parametrize(("wasm", "message"), [
    (module(""), "plugin p: not a proxy-wasm plugin: it exports no ABI version marker "
                 "(proxy_abi_version_0_2_0 or proxy_abi_version_0_2_1)"),
    (module('(func (export "proxy_abi_version_0_1_0"))'),
     "plugin p: exports proxy_abi_version_0_1_0; this host runs ABI 0.2.0 and 0.2.1 only "
     "(proxy_abi_version_0_2_0 or proxy_abi_version_0_2_1)"),
    (b"\0asm\x01\0\0\0\x01", "plugin p: <bytes>: malformed: unexpected end of section or function (at offset 0x9)"),
    (module('(func (export "proxy_abi_version_0_2_1")) (func (export "proxy_on_request_headers") '
            '(param i32 i32) (result i32) i32.const 0)'),
     "plugin p: export proxy_on_request_headers has type [i32 i32] -> [i32], ABI 0.2.1 gives it "
     "[i32 i32 i32] -> [i32]"),
    (module('(import "env" "proxy_log" (func (param i32 i32) (result i32))) (func (export "proxy_abi_version_0_2_1"))'),
     "plugin p: imports env.proxy_log with type [i32 i32] -> [i32], but ABI 0.2.1 defines it as "
     "[i32 i32 i32] -> [i32]"),
    (module('(import "other" "f" (func)) (func (export "proxy_abi_version_0_2_1"))'),
     "plugin p: imports other.f, which a proxy-wasm host does not provide (only env and WASI preview1)"),
    (module('(import "env" "memory" (memory 1)) (func (export "proxy_abi_version_0_2_1"))'),
     "plugin p: imports env.memory as a MemoryType; a proxy-wasm host provides only functions"),
    (module('(memory (export "memory") i64 1) (func (export "proxy_abi_version_0_2_1"))'),
     "plugin p: <bytes>: memory 0 is 64-bit (memory64), but proxy-wasm passes 32-bit pointers into it"),
])
def test_modules_that_cannot_be_plugins_are_refused_clearly(wasm: bytes, message: str) -> None:
    with pytest.raises(PluginLoadError) as raised:
        ProxyHost().load_plugin(PluginConfig("p", wasm))
    assert str(raised.value) == message


def test_an_unreadable_file_is_refused(tmp_path: object) -> None:
    with pytest.raises(PluginLoadError, match="plugin p: .*missing.wasm: error: cannot read"):
        ProxyHost().load_plugin(PluginConfig("p", f"{tmp_path}/missing.wasm"))


@pytest.mark.parametrize(("extra", "message"), [
    ('(import "env" "proxy_grpc_cancel" (func $grpc (param i32 i32) (result i32)))',
     "plugin t: imports env.proxy_grpc_cancel with type [i32 i32] -> [i32], but ABI 0.2.1 defines it as "
     "[i32] -> [i32]"),
    ('(import "env" "proxy_something_new" (func $future (param i64) (result i32)))',
     "plugin t: imports env.proxy_something_new, which is not a proxy-wasm host function (ABI 0.2.1)"),
])
def test_imports_the_host_does_not_provide_are_refused(extra: str, message: str) -> None:
    """As in Envoy, where a missing import fails linking."""
    with pytest.raises(PluginLoadError) as raised:
        load(ProxyHost(), on_request_headers(""), extra=extra)
    assert str(raised.value) == message


def test_emscripten_memory_growth_notifications_are_accepted() -> None:
    host = ProxyHost()
    plugin = load(host, on_request_headers("(call $memory_growth (i32.const 0))"),
                  extra='(import "env" "emscripten_notify_memory_growth" (func $memory_growth (param i32)))')
    host.open_stream().send_request_headers({})
    assert not plugin.failed


START_ORDER = """
(func (export "_initialize") (call $keep (i32.const 0) (i32.const 1)))
(func (export "main") (param i32 i32) (result i32) (call $keep (i32.const 1) (i32.const 2)) (i32.const 0))
(func (export "_start") (call $keep (i32.const 2) (i32.const 3)))
(func (export "proxy_on_context_create") (param $ctx i32) (param $parent i32)
  (call $keep (i32.const 3) (local.get $ctx)) (call $keep (i32.const 4) (local.get $parent)))
(func (export "proxy_on_vm_start") (param $ctx i32) (param $size i32) (result i32)
  (call $keep (i32.const 5) (local.get $size)) (i32.const 1))
(func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
  (call $keep (i32.const 6) (local.get $size)) (i32.const 1))
"""


def test_start_up_order_and_arguments() -> None:
    host = ProxyHost()
    plugin = load(host, START_ORDER, configuration="four", vm_configuration="vm")
    assert results(plugin, 7) == [1, 2, 0, 1, 0, 2, 4]  # _start is not called when _initialize exists
    assert [name for _, name, _ in host.trace.callbacks()] == [
        "_initialize", "main", "proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure"]
    assert not plugin.failed and plugin.root.id == 1


def test_start_without_initialize() -> None:
    plugin = load(ProxyHost(), '(func (export "_start") (call $keep (i32.const 0) (i32.const 9)))')
    assert results(plugin, 1) == [9]


@pytest.mark.parametrize(("body", "callback", "error"), [
    ('(func (export "_initialize") unreachable)', "_initialize", "trap: unreachable"),
    ('(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0))', "proxy_on_vm_start",
     "returned false: the plugin rejected its configuration"),
    ('(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))', "proxy_on_configure",
     "returned false: the plugin rejected its configuration"),
    ('(func (export "proxy_on_configure") (param i32 i32) (result i32) (loop $l (br $l)) (i32.const 1))',
     "proxy_on_configure", "fuel: fuel exhausted"),
])
def test_failing_to_start(body: str, callback: str, error: str) -> None:
    host = ProxyHost()
    plugin = load(host, body, fuel_per_callback=10_000)
    assert plugin.failed
    assert (plugin.failure.callback, plugin.failure.error) == (callback, error)
    assert host.failures == [plugin.failure]


@pytest.mark.parametrize(("policy", "status"), [(FailurePolicy.FAIL_CLOSE, 503), (FailurePolicy.FAIL_OPEN, 200)])
def test_a_plugin_that_failed_to_start_applies_its_policy_to_every_stream(policy: FailurePolicy,
                                                                         status: int) -> None:
    host = ProxyHost()
    load(host, '(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))',
         failure_policy=policy)
    for _ in range(2):
        stream = host.open_stream(origin=OriginResponse.make())
        stream.send_request_headers({}, end_of_stream=True)
        assert stream.downstream_response.status == status
    assert [name for _, name, _ in host.trace.callbacks()] == ["proxy_on_configure"]


GET_CONFIG = ('(func (export "proxy_on_configure") (param i32 i32) (result i32)'
              ' (call $keep (i32.const 0) (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 9)'
              ' (i32.const 0x200) (i32.const 0x204))) (i32.const 1))')


def test_malloc_is_the_allocator_without_proxy_on_memory_allocate() -> None:
    plugin = load(ProxyHost(), GET_CONFIG, allocator="malloc", configuration="conf")
    assert results(plugin, 1) == [Status.OK]
    assert returned(plugin, 0x200, 0x204) == b"conf"
    assert plugin.vm.allocator_export == "malloc"


def test_without_an_allocator_results_cannot_be_handed_over() -> None:
    plugin = load(ProxyHost(), GET_CONFIG, allocator=None, configuration="conf")
    assert results(plugin, 1) == [Status.INVALID_MEMORY_ACCESS]


@pytest.mark.parametrize(("allocator", "status"), [("(i32.const 0)", Status.INVALID_MEMORY_ACCESS),
                                                   ("(i32.const 0x1ffff)", Status.INVALID_MEMORY_ACCESS)])
def test_allocator_answers_that_cannot_be_used(allocator: str, status: Status) -> None:
    plugin = load(ProxyHost(), GET_CONFIG,
                  f'(func (export "proxy_on_memory_allocate") (param i32) (result i32) {allocator})',
                  allocator=None, configuration="conf")
    assert results(plugin, 1) == [status]


def test_a_trapping_allocator_fails_the_plugin_with_a_backtrace() -> None:
    plugin = load(ProxyHost(), GET_CONFIG,
                  '(func $allocate (export "proxy_on_memory_allocate") (param i32) (result i32) unreachable)',
                  allocator=None, configuration="conf")
    assert plugin.failed
    assert plugin.failure.error == "trap: unreachable"
    assert plugin.failure.backtrace[0].startswith("t!allocate @ 0x")
    assert plugin.failure.backtrace[1].startswith("t!proxy_on_configure @ 0x")


WASI = """
(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
(import "wasi_unstable" "random_get" (func $random_get (param i32 i32) (result i32)))
(import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"""

WASI_CALLS = """
(func (export "proxy_on_configure") (param i32 i32) (result i32)
  (i32.store (i32.const 0x200) (i32.const 0x100)) (i32.store (i32.const 0x204) (i32.const 12))
  (call $keep (i32.const 0) (call $fd_write (i32.const 1) (i32.const 0x200) (i32.const 1) (i32.const 0x210)))
  (i32.store (i32.const 0x200) (i32.const 0x110)) (i32.store (i32.const 0x204) (i32.const 5))
  (call $keep (i32.const 1) (call $fd_write (i32.const 2) (i32.const 0x200) (i32.const 1) (i32.const 0x210)))
  (call $keep (i32.const 2) (call $environ_sizes_get (i32.const 0x220) (i32.const 0x224)))
  (call $keep (i32.const 3) (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 0x230)))
  (call $keep (i32.const 4) (call $proxy_get_current_time_nanoseconds (i32.const 0x238)))
  (call $keep (i32.const 5) (call $random_get (i32.const 0x240) (i32.const 8)))
  (i32.const 1))
(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (call $proc_exit (i32.const 3)) (i32.const 0))
"""


def test_wasi_output_becomes_logs_and_clocks_are_one() -> None:
    def run() -> tuple[ProxyHost, object]:
        host = ProxyHost(HostConfig(log_level=LogLevel.TRACE))
        plugin = load(host, WASI_CALLS, extra=WASI, data={0x100: "hello\nworld!", 0x110: "oops\n"},
                      environment={"A": "1", "BB": "22"})
        return host, plugin

    host, plugin = run()
    assert results(plugin, 6) == [0] * 6
    assert [(entry.level, entry.message) for entry in host.logs()] == [(LogLevel.INFO, "hello"),
                                                                        (LogLevel.ERROR, "oops")]
    assert (u32(plugin, 0x220), u32(plugin, 0x224)) == (2, 10)
    wasi_time = int.from_bytes(plugin.instance.memory.data[0x230:0x238], "little")
    proxy_time = int.from_bytes(plugin.instance.memory.data[0x238:0x240], "little")
    assert proxy_time == wasi_time + 1_000  # one clock, one tick per read
    random_bytes = bytes(plugin.instance.memory.data[0x240:0x248])
    assert bytes(run()[1].instance.memory.data[0x240:0x248]) == random_bytes  # seeded
    host.shutdown()
    assert host.log_messages(LogLevel.INFO) == ["hello", "world!"]  # the last line, at shutdown


def test_proc_exit_in_a_callback_is_a_failure() -> None:
    host = ProxyHost()
    plugin = load(host, WASI_CALLS, extra=WASI, data={0x100: "x", 0x110: "y"})
    stream = host.open_stream(origin=OriginResponse.make())
    stream.send_request_headers({}, end_of_stream=True)
    assert plugin.failure.error == "proc_exit: process exited with status 3"
    assert stream.downstream_response.status == 503
