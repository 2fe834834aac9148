"""Instantiation, linking, invocation from Python and host functions."""

from __future__ import annotations

import pytest

from interp.errors import FieldKind, HostFunctionError, ModuleField, ResourceLimitError, Trap, UnlinkableError, UsageError
from interp.runtime.function import HostFunction
from interp.runtime.globals import GlobalInstance
from interp.exec.store import EngineConfig, Store
from interp.syntax.types import F32, I32, I64, FuncType, GlobalType
from interp.text.parser import parse_module


def instantiate(text: str, imports=None, config: EngineConfig | None = None):
    store = Store(config)
    return store, store.instantiate(parse_module(text), imports)


def test_invoke_returns_results_as_a_list() -> None:
    _, instance = instantiate("""(module (func (export "pair") (param i32) (result i32 i64)
        local.get 0  i64.const -1))""")
    assert instance.invoke("pair", 7) == [7, 0xFFFF_FFFF_FFFF_FFFF]


def test_arguments_are_checked_and_made_canonical() -> None:
    _, instance = instantiate("""(module (func (export "id") (param i32) (result i32) local.get 0))""")
    assert instance.invoke("id", -1) == [0xFFFF_FFFF]
    with pytest.raises(UsageError, match="expected 1 arguments"):
        instance.invoke("id")
    with pytest.raises(UsageError, match="does not fit"):
        instance.invoke("id", 1 << 32)
    with pytest.raises(UsageError, match="is not an i32"):
        instance.invoke("id", 1.5)
    with pytest.raises(UsageError, match="no exported function 'nope'"):
        instance.invoke("nope")


def test_f32_arguments_are_rounded_to_single_precision() -> None:
    _, instance = instantiate("""(module (func (export "id") (param f32) (result f32) local.get 0))""")
    [result] = instance.invoke("id", 0.1)
    assert result != 0.1 and abs(result - 0.1) < 1e-8


def test_start_function_runs_at_instantiation() -> None:
    _, instance = instantiate("""(module (global $g (export "g") (mut i32) (i32.const 0))
        (func $start (global.set $g (i32.const 42))) (start $start))""")
    assert instance.exports["g"].value == 42


def test_unknown_and_incompatible_imports_are_unlinkable() -> None:
    text = """(module (import "env" "f" (func (param i32))))"""
    with pytest.raises(UnlinkableError) as missing_module:
        instantiate(text, {"other": {}, "spectest": {}})
    assert str(missing_module.value) == \
        'unknown import "env"."f": no module "env" is provided (provided: "other", "spectest")'
    with pytest.raises(UnlinkableError) as missing_name:
        instantiate(text, {"env": {}})
    assert str(missing_name.value) == 'unknown import "env"."f": module "env" has no "f"'
    wrong = HostFunction(FuncType((I64,), ()), lambda x: None)
    with pytest.raises(UnlinkableError) as wrong_function:
        instantiate(text, {"env": {"f": wrong}})
    assert str(wrong_function.value) == \
        'incompatible import type for "env"."f": expected (func (param i32)), got (func (param i64))'
    error = wrong_function.value
    assert (error.import_module, error.import_name, error.expected, error.given) == \
        ("env", "f", "(func (param i32))", "(func (param i64))")
    assert error.field == ModuleField(FieldKind.IMPORT, 0) and error.line is None
    glob = GlobalInstance(GlobalType(I32, False), 1)
    with pytest.raises(UnlinkableError) as wrong_kind:
        instantiate(text, {"env": {"f": glob}})
    assert str(wrong_kind.value) == \
        'incompatible import type for "env"."f": expected (func (param i32)), got (global i32)'
    with pytest.raises(UnlinkableError) as not_extern:
        instantiate(text, {"env": {"f": print}})
    assert str(not_extern.value).endswith("got a Python builtin_function_or_method, which is no extern value")


def test_link_errors_name_table_memory_and_global_types() -> None:
    store = Store()
    provider = store.instantiate(parse_module("""(module (memory (export "m") 1 2) (table (export "t") 3 funcref)
        (global (export "g") (mut f64) (f64.const 0)))"""))
    cases = [
        ('(import "p" "m" (memory 2))', "expected (memory 2), got (memory 1 2)"),
        ('(import "p" "t" (table 1 2 funcref))', "expected (table 1 2 funcref), got (table 3 funcref)"),
        ('(import "p" "g" (global f64))', "expected (global f64), got (global (mut f64))"),
    ]
    for field, expected in cases:
        with pytest.raises(UnlinkableError) as info:
            store.instantiate(parse_module(f"(module {field})"), {"p": provider.exports})
        assert str(info.value).endswith(expected), str(info.value)


def test_host_function_receives_arguments_and_returns_results() -> None:
    seen = []

    def add(a: int, b: float) -> int:
        seen.append((a, b))
        return a + int(b)

    host = HostFunction(FuncType((I32, F32), (I32,)), add)
    _, instance = instantiate("""(module (import "env" "add" (func $add (param i32 f32) (result i32)))
        (func (export "run") (result i32) (call $add (i32.const 40) (f32.const 2.5))))""",
                              {"env": {"add": host}})
    assert instance.invoke("run") == [42]
    assert seen == [(40, 2.5)]


def test_host_function_can_call_back_into_the_guest_through_its_caller() -> None:
    text = """(module
      (import "env" "host" (func $host (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (func (export "run") (param i32) (result i32) (call $host (local.get 0))))"""

    def host(caller, value: int) -> int:
        [doubled] = caller.invoke("double", value)
        caller.memory.write(0, doubled.to_bytes(4, "little"))
        return doubled + 1

    _, instance = instantiate(text, {"env": {"host": HostFunction(FuncType((I32,), (I32,)), host,
                                                                  takes_caller=True)}})
    assert instance.invoke("run", 20) == [41]
    assert instance.memory.read(0, 4) == (40).to_bytes(4, "little")


def test_host_exception_becomes_a_trap_with_a_backtrace() -> None:
    def broken() -> None:
        raise ValueError("boom")

    _, instance = instantiate("""(module (import "env" "broken" (func $broken))
        (func $inner (call $broken)) (func (export "run") (call $inner)))""",
                              {"env": {"broken": HostFunction(FuncType((), ()), broken)}})
    with pytest.raises(HostFunctionError, match="ValueError: boom") as caught:
        instance.invoke("run")
    assert [entry.func_name for entry in caught.value.backtrace] == ["inner", "run"]  # export name as fallback
    assert isinstance(caught.value.__cause__, ValueError)


def test_host_result_of_the_wrong_type_is_reported() -> None:
    _, instance = instantiate("""(module (import "env" "f" (func $f (result i32)))
        (func (export "run") (result i32) (call $f)))""",
                              {"env": {"f": HostFunction(FuncType((), (I32,)), lambda: "text")}})
    with pytest.raises(HostFunctionError, match="bad value"):
        instance.invoke("run")
    _, instance = instantiate("""(module (import "env" "f" (func $f (result i32)))
        (func (export "run") (result i32) (call $f)))""",
                              {"env": {"f": HostFunction(FuncType((), (I32,)), lambda: (1, 2))}})
    with pytest.raises(HostFunctionError, match="returned 2 values"):
        instance.invoke("run")


def test_memory_larger_than_the_engine_limit_is_refused() -> None:
    with pytest.raises(ResourceLimitError, match="exceeds this engine's limit"):
        instantiate("(module (memory 5))", config=EngineConfig(max_memory_pages=4))


def test_memory_grow_fails_softly_at_the_engine_limit() -> None:
    _, instance = instantiate("""(module (memory 1)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))""",
                              config=EngineConfig(max_memory_pages=4))
    assert instance.invoke("grow", 3) == [1]
    assert instance.invoke("grow", 1) == [0xFFFF_FFFF]
    assert instance.memory.pages == 4


def test_trap_in_active_segment_keeps_earlier_effects() -> None:
    store = Store()
    provider = store.instantiate(parse_module('(module (memory (export "m") 1))'))
    text = """(module (import "p" "m" (memory 1))
        (data (i32.const 0) "hi") (data (i32.const 65535) "xx"))"""
    with pytest.raises(Trap, match="out of bounds memory access"):
        store.instantiate(parse_module(text), {"p": provider.exports})
    assert provider.exports["m"].read(0, 2) == b"hi"
