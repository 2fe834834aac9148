"""Binding on the step machine: argument tuples of ints equal to one bound
just before are that one, and sharing them changes no result."""

from __future__ import annotations

from interp.exec.bind import slot_arguments
from interp.exec.store import EngineConfig, Store
from interp.loader import module_from_bytes

TWINS = """(module
  (func $first (export "first") (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.mul (local.get 1) (local.get 1))))
  (func $second (export "second") (param i32 i32) (result i32)
    (i32.add (local.get 0) (i32.mul (local.get 1) (local.get 1)))))"""


def test_equal_slot_arguments_are_one_tuple() -> None:
    made = slot_arguments(3, 4, 5)
    assert slot_arguments(3, 4, 5) is made
    assert slot_arguments(*[3, 4, 5]) == (3, 4, 5)
    other = slot_arguments(3, 4, 6)
    assert other == (3, 4, 6) and other is not made


def test_functions_built_alike_share_their_argument_tuples() -> None:
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module_from_bytes(TWINS.encode()))
    first, second = instance.exported_function("first"), instance.exported_function("second")
    assert store.invoke(first, 2, 3) == [11]
    assert store.invoke(second, 5, 7) == [54]
    first_args, second_args = first.bound.args, second.bound.args
    assert len(first_args) == len(second_args) == 6
    assert all(a is b for a, b in zip(first_args[:5], second_args[:5]))
    assert first_args[1] == (1, 3, 2)  # local 1 into slot 3 (the two locals, then one value), next pc 2
