"""Every preview1 function links with its exact type under both module
names; the ones not implemented answer NOSYS; wrong types are refused."""

from __future__ import annotations

import pytest

from interp.errors import UnlinkableError
from interp.loader import module_from_bytes
from interp.runtime.function import HostFunction
from interp.exec.store import Store
from interp.syntax.types import FuncType
from interp.wasi import (
    PREVIEW1_SIGNATURES,
    UNSTABLE_SIGNATURES,
    Errno,
    ProcessExit,
    WasiProcess,
    imports_wasi,
    initialize_reactor,
    run_command,
)
from tests.wasi.conftest import WAT_FOLDER


def instantiate(text: str, process: WasiProcess | None = None):
    process = process or WasiProcess()
    store = Store()
    return store, store.instantiate(module_from_bytes(text.encode()), process.imports()), process


def test_a_module_importing_every_function_of_both_versions_links() -> None:
    text = (WAT_FOLDER / "all_imports.wat").read_text()
    _, instance, _ = instantiate(text)
    assert len(instance.module.imports) == 46 + 45
    for stub in ("sock_accept", "unstable_proc_raise"):
        assert instance.invoke(stub) == [Errno.NOSYS] == [52]
    assert instance.invoke("path_open") == [Errno.BADF]  # no descriptor 3: nothing is preopened
    assert instance.invoke("fd_pread") == [Errno.SPIPE]  # stdin has no offsets


def test_the_host_table_matches_the_independent_import_list() -> None:
    module = module_from_bytes((WAT_FOLDER / "all_imports.wat").read_bytes())
    declared = {(imp.module, imp.name): module.types[imp.desc] for imp in module.imports}
    expected = {("wasi_snapshot_preview1", name): t for name, t in PREVIEW1_SIGNATURES.items()}
    expected.update({("wasi_unstable", name): t for name, t in UNSTABLE_SIGNATURES.items()})
    assert declared == expected


def test_host_functions_have_the_table_types_and_names() -> None:
    functions = WasiProcess().imports()
    assert sorted(functions) == ["wasi_snapshot_preview1", "wasi_unstable"]
    assert {name: f.type for name, f in functions["wasi_snapshot_preview1"].items()} == PREVIEW1_SIGNATURES
    assert "sock_accept" not in functions["wasi_unstable"]
    assert functions["wasi_unstable"]["fd_write"].name == "wasi_unstable.fd_write"


@pytest.mark.parametrize("import_decl", [
    '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32) (result i32)))',
    '(import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i32 i32) (result i32)))',
    '(import "wasi_snapshot_preview1" "proc_exit" (func (param i32) (result i32)))',
    '(import "wasi_unstable" "sock_accept" (func (param i32 i32 i32) (result i32)))',
    '(import "wasi_snapshot_preview1" "no_such_function" (func))',
])
def test_wrong_types_and_unknown_names_do_not_link(import_decl: str) -> None:
    with pytest.raises(UnlinkableError):
        instantiate(f"(module {import_decl})")


def test_the_same_function_imported_twice_under_one_name() -> None:
    # Go's wasip1 runtime imports fd_write twice.
    text = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func $a (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $b (param i32 i32 i32 i32) (result i32)))
      (memory 1)
      (func (export "both") (result i32 i32)
        (call $a (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 0))
        (call $b (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))))"""
    _, instance, _ = instantiate(text)
    assert instance.invoke("both") == [Errno.BADF, Errno.SUCCESS]


def test_a_module_without_memory_gets_fault_for_pointers() -> None:
    text = """(module
      (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
      (func (export "write") (result i32) (call $write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))
      (func (export "_start") (call $exit (i32.const 3))))"""
    store, instance, process = instantiate(text)
    assert instance.invoke("write") == [Errno.FAULT]
    assert run_command(store, instance, process) == 3


def test_imports_wasi() -> None:
    def module(text: str):
        return module_from_bytes(text.encode())

    assert imports_wasi(module('(module (import "wasi_unstable" "sched_yield" (func (result i32))))'))
    assert imports_wasi(module('(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))))'))
    assert not imports_wasi(module('(module (import "env" "f" (func)))'))


COMMAND = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (global $state (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $state (i32.const 40)))
  (func (export "state") (result i32) (global.get $state))
  (func (export "_start") (if (global.get $state) (then (call $exit (global.get $state))))))"""


def test_run_command_returns_the_exit_status() -> None:
    store, instance, process = instantiate(COMMAND)
    assert run_command(store, instance, process) == 0  # _start returned
    initialize_reactor(store, instance)
    assert instance.invoke("state") == [40]
    assert run_command(store, instance, process) == 40
    assert process.exit_code == 40


def test_initialize_reactor_without_an_initializer_does_nothing() -> None:
    store, instance, _ = instantiate('(module (func (export "f")))')
    initialize_reactor(store, instance)


def test_proc_exit_inside_a_nested_host_call_unwinds_everything() -> None:
    text = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (import "env" "callback" (func $callback))
      (func (export "inner") (call $exit (i32.const 5)))
      (func (export "outer") (call $callback))
      (func (export "state") (result i32) (i32.const 0)))"""
    process = WasiProcess()
    store = Store()
    callback = HostFunction(FuncType((), ()), lambda caller: caller.invoke("inner"), "callback", takes_caller=True)
    instance = store.instantiate(module_from_bytes(text.encode()),
                                 {**process.imports(), "env": {"callback": callback}})
    with pytest.raises(ProcessExit) as caught:
        instance.invoke("outer")
    assert caught.value.code == 5
    with pytest.raises(ProcessExit):  # everything unwound: the store runs the same call again
        instance.invoke("outer")
    assert instance.invoke("state") == [0]


def test_running_a_command_or_reactor_checks_memory_0_is_32_bit() -> None:
    text = """(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                (memory i64 1) (func (export "_start")))"""
    store, instance, process = instantiate(text)
    with pytest.raises(UnlinkableError, match="memory 0 is 64-bit"):
        run_command(store, instance, process)
    with pytest.raises(UnlinkableError, match="memory 0 is 64-bit"):
        initialize_reactor(store, instance)
