"""Structs, arrays, i31 and host references through the Python API, on
both engines: what ``invoke`` returns, what it takes back, what host
functions receive and return, the errors, and that nothing the engines
hold keeps an object Python could reclaim."""

from __future__ import annotations

import gc
import weakref
from typing import Callable

import pytest

from interp import GcArray, GcStruct, HostFunction, HostRef, I31, Store
from interp.errors import HostFunctionError, Trap, TrapKind, UsageError
from interp.exec.engines import available_engines
from interp.exec.store import EngineConfig
from interp.runtime.instance import ModuleInstance
from interp.runtime.references import TypeNames
from interp.syntax.types import ANYREF, EXTERNREF, I32, FuncType, ref_type
from interp.text import parse_module
from interp.translate.compiled import compile_module

POINTS = """(module
  (type $point (struct (field $x i32) (field $y (mut f64)) (field $tag i8)))
  (type $bytes (array (mut i8)))
  (import "host" "scale" (func $scale (param (ref null $point)) (result (ref $point))))
  (func (export "make") (param $x i32) (param $y f64) (result (ref $point))
    (struct.new $point (local.get $x) (local.get $y) (i32.const 0x1ff)))
  (func (export "x") (param $p (ref null $point)) (result i32) (struct.get $point $x (local.get $p)))
  (func (export "same") (param $a eqref) (param $b eqref) (result i32) (ref.eq (local.get $a) (local.get $b)))
  (func (export "bytes") (param $n i32) (result (ref $bytes))
    (array.new $bytes (i32.const 300) (local.get $n)))
  (func (export "get") (param $a (ref null $bytes)) (param $i i32) (result i32)
    (array.get_u $bytes (local.get $a) (local.get $i)))
  (func (export "i31") (param $v i32) (result i31ref) (ref.i31 (local.get $v)))
  (func (export "as-point") (param $v anyref) (result (ref $point)) (ref.cast (ref $point) (local.get $v)))
  (func (export "inside") (param $v externref) (result anyref) (any.convert_extern (local.get $v)))
  (func (export "outside") (param $v anyref) (result externref) (extern.convert_any (local.get $v)))
  (func (export "scaled") (param $x i32) (result i32)
    (struct.get $point $x (call $scale (struct.new $point (local.get $x) (f64.const 0) (i32.const 0)))))
)"""

ENGINES = available_engines()


def instantiate(engine: str, scale: Callable[[GcStruct], object] | None = None) -> tuple[Store, ModuleInstance]:
    """The module, with a host function for its import: the import's type
    refers to the module's own struct type, so the host function's type is
    made from the compiled module's defined type."""
    store = Store(EngineConfig(engine=engine))
    compiled = compile_module(parse_module(POINTS))
    point = compiled.context.types[0]
    host_type = FuncType((ref_type(True, point),), (ref_type(False, point),))
    host = HostFunction(host_type, scale or (lambda p: GcStruct(point, [p.fields[0] * 10, 0.0, 0])))
    return store, store.instantiate(compiled, {"host": {"scale": host}})


@pytest.mark.parametrize("engine", ENGINES)
def test_a_struct_is_returned_readable_and_taken_back(engine: str) -> None:
    _, instance = instantiate(engine)
    (point,) = instance.invoke("make", 7, 2.5)
    assert isinstance(point, GcStruct)
    assert point.fields == [7, 2.5, 0xFF]  # a packed field keeps its bits
    assert point.type is instance.types[0] and point.type.is_struct
    assert instance.invoke("x", point) == [7]
    assert instance.invoke("same", point, point) == [1]
    assert instance.invoke("same", point, instance.invoke("make", 7, 2.5)[0]) == [0]
    names = TypeNames(instance.types, instance.module.names)
    assert point.show(names) == "struct $point {x 7, y 2.5, tag 255}"


@pytest.mark.parametrize("engine", ENGINES)
def test_arrays_and_i31(engine: str) -> None:
    _, instance = instantiate(engine)
    (array,) = instance.invoke("bytes", 3)
    assert isinstance(array, GcArray) and array.elements == [44, 44, 44] and len(array) == 3
    array.elements[1] = 9  # the host may change them: the guest sees it
    assert instance.invoke("get", array, 1) == [9]
    (small,) = instance.invoke("i31", 0xFFFF_FFFF)
    assert small == I31(0x7FFF_FFFF) and small.signed == -1
    assert instance.invoke("same", small, I31(0x7FFF_FFFF)) == [1]


@pytest.mark.parametrize("engine", ENGINES)
def test_host_values_become_host_references_in_any(engine: str) -> None:
    _, instance = instantiate(engine)
    token = object()
    (inside,) = instance.invoke("inside", token)
    assert inside == HostRef(token)
    assert instance.invoke("outside", inside) == [token]
    assert instance.invoke("outside", token) == [token]  # a host object given for anyref is wrapped
    (point,) = instance.invoke("make", 1, 0.0)
    assert instance.invoke("outside", point) == [point]  # a struct stays itself as an externref
    assert instance.invoke("as-point", point) == [point]


@pytest.mark.parametrize("engine", ENGINES)
def test_host_functions_receive_and_return_structs(engine: str) -> None:
    seen: list[GcStruct] = []

    def scale(point: GcStruct) -> GcStruct:
        seen.append(point)
        return GcStruct(point.type, [point.fields[0] * 10, 0.0, 0])

    _, instance = instantiate(engine, scale)
    assert instance.invoke("scaled", 4) == [40]
    assert isinstance(seen[0], GcStruct) and seen[0].fields[0] == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_wrong_values_are_usage_errors(engine: str) -> None:
    _, instance = instantiate(engine)
    (array,) = instance.invoke("bytes", 1)
    with pytest.raises(UsageError, match=r"argument 0: .* is not a \(ref null"):
        instance.invoke("x", array)
    with pytest.raises(UsageError, match="argument 0: 5 is not a"):
        instance.invoke("x", 5)
    with pytest.raises(UsageError, match="argument 1: .* is not a"):
        instance.invoke("same", None, HostRef(1))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_host_function_returning_a_wrong_value_traps(engine: str) -> None:
    _, instance = instantiate(engine, lambda point: None)  # null for (ref $point)
    with pytest.raises(HostFunctionError, match="returned a bad value: null is not a"):
        instance.invoke("scaled", 1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("export, args, kind", [
    ("x", (None,), TrapKind.NULL_STRUCT),
    ("get", (None, 0), TrapKind.NULL_ARRAY),
    ("as-point", (I31(1),), TrapKind.CAST_FAILURE),
])
def test_traps_are_typed(engine: str, export: str, args: tuple, kind: TrapKind) -> None:
    _, instance = instantiate(engine)
    with pytest.raises(Trap) as trap:
        instance.invoke(export, *args)
    assert trap.value.kind is kind and str(trap.value) == kind.message


@pytest.mark.parametrize("engine", ENGINES)
def test_out_of_bounds_array_access_traps(engine: str) -> None:
    _, instance = instantiate(engine)
    (array,) = instance.invoke("bytes", 2)
    with pytest.raises(Trap, match="out of bounds array access"):
        instance.invoke("get", array, 2)


CHURN = """(module
  (type $node (struct (field i32) (field (ref null $node))))
  (func (export "churn") (param $n i32) (result (ref null $node))
    (local $last (ref null $node))
    (loop $again
      (local.set $last (struct.new $node (local.get $n) (ref.null $node)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $last)))"""


@pytest.mark.parametrize("engine", ENGINES)
def test_objects_nothing_refers_to_are_reclaimed(engine: str) -> None:
    """The step machine holds references in its frames' slots only; the
    compiled loop keeps handles, which it forgets once no slot, global or
    code refers to them (interp/exec/native/loop.pyx.in)."""
    store = Store(EngineConfig(engine=engine))
    instance = store.instantiate(parse_module(CHURN))
    (first,) = instance.invoke("churn", 1)
    watcher = weakref.ref(first)
    del first
    instance.invoke("churn", 40_000)  # enough allocations for the compiled loop to collect its handles
    gc.collect()
    assert watcher() is None
    held = getattr(store.machine, "references_held", None)
    if held is not None:
        assert held < 40_000


def test_host_function_types_may_refer_to_defined_types() -> None:
    module = parse_module("(module (type $t (struct)) (func (export \"f\") (param (ref $t))))")
    store = Store()
    instance = store.instantiate(module)
    struct_type = instance.types[0]
    host = HostFunction(FuncType((ref_type(False, struct_type),), (ANYREF, EXTERNREF, I32)),
                        lambda value: (value, value, 1))
    value = GcStruct(struct_type, [])
    assert store.invoke(host, value) == [value, value, 1]
    with pytest.raises(ValueError, match="type index"):
        _ = HostFunction(FuncType((ref_type(False, 0),), ()), print).deftype
