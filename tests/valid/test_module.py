"""Module-level validation: limits, constant expressions of globals and
segments, the start function, exports, imports, the memory count, and the
context ``validate_module`` returns (notably ``refs``, the declared function
references)."""

from __future__ import annotations

import pytest

from interp.errors import FieldKind, InvalidError, ModuleField
from interp.features import SUPPORTED_FEATURES, WASM_2_0_FEATURES, Feature
from interp.syntax.module import Data, Elem, Export, Func, Global, Import, Module, SegmentMode
from interp.syntax.types import (
    EXTERNREF,
    F32,
    F64,
    FUNCREF,
    I32,
    I64,
    ExternKind,
    FuncType,
    GlobalType,
    Limits,
    MemoryType,
    TableType,
)
from interp.valid import ModuleContext, validate_const_expr, validate_module
from tests.valid.assemble import expr, func_module

VOID = FuncType((), ())


def message_of(module: Module, features: frozenset[Feature] = SUPPORTED_FEATURES) -> str | None:
    try:
        validate_module(module, features=features)
    except InvalidError as error:
        return error.message
    return None


def assert_invalid(module: Module, expected: str, features: frozenset[Feature] = SUPPORTED_FEATURES) -> None:
    message = message_of(module, features)
    assert message is not None, f"expected {expected!r}, but it validated"
    assert message.startswith(expected), f"expected {expected!r}, got {message!r}"


def funcs(count: int) -> tuple[Func, ...]:
    return tuple(Func(0, (), expr()) for _ in range(count))


# --- limits ----------------------------------------------------------------


@pytest.mark.parametrize("limits, expected", [
    (Limits(0), None),
    (Limits(0, 0), None),
    (Limits(65536, 65536), None),
    (Limits(65537), "memory size must be at most 65536 pages (4GiB)"),
    (Limits(0, 65537), "memory size must be at most 65536 pages (4GiB)"),
    (Limits(0x1_0000_0000), "memory size must be at most 65536 pages (4GiB)"),
    (Limits(2, 1), "size minimum must not be greater than maximum"),
])
def test_memory_limits(limits: Limits, expected: str | None) -> None:
    for module in (Module(memories=(MemoryType(limits),)),
                   Module(imports=(Import("m", "mem", MemoryType(limits)),))):
        message = message_of(module)
        assert message == expected if expected is None else message is not None and message.startswith(expected)


@pytest.mark.parametrize("limits, expected", [
    (Limits(0), None),
    (Limits(0xFFFF_FFFF, 0xFFFF_FFFF), None),
    (Limits(10, 1), "size minimum must not be greater than maximum"),
    (Limits(0x1_0000_0000), "table size must be at most 2^32-1"),
])
def test_table_limits(limits: Limits, expected: str | None) -> None:
    for module in (Module(tables=(TableType(limits, FUNCREF),)),
                   Module(imports=(Import("m", "t", TableType(limits, EXTERNREF)),))):
        message = message_of(module)
        assert message == expected if expected is None else message is not None and message.startswith(expected)


def test_multiple_tables_are_allowed() -> None:
    assert message_of(Module(tables=(TableType(Limits(0), FUNCREF), TableType(Limits(0), EXTERNREF)))) is None


@pytest.mark.parametrize("module", [
    Module(memories=(MemoryType(Limits(0)), MemoryType(Limits(0)))),
    Module(imports=(Import("m", "mem", MemoryType(Limits(0))),), memories=(MemoryType(Limits(0)),)),
    Module(imports=(Import("m", "a", MemoryType(Limits(0))), Import("m", "b", MemoryType(Limits(0))))),
])
def test_multiple_memories(module: Module) -> None:
    """Only one in WebAssembly 2.0; any number with multi-memory."""
    assert_invalid(module, "multiple memories", WASM_2_0_FEATURES)
    assert message_of(module) is None


@pytest.mark.parametrize("memory, expected", [
    (MemoryType(Limits(2**48), I64), None),
    (MemoryType(Limits(0, 2**48 + 1), I64), "memory size must be at most 281474976710656 pages"),
    (MemoryType(Limits(2**32 - 1), I32, 1), None),
    (MemoryType(Limits(2**32), I32, 1), "memory size must be at most 4294967295 pages"),
    (MemoryType(Limits(2**64 - 1), I64, 1), None),
    (MemoryType(Limits(1), I32, 4096), "invalid custom page size"),
])
def test_64_bit_memories_and_page_sizes(memory: MemoryType, expected: str | None) -> None:
    """A memory's limits are bounded by what its address type can address
    in its pages (and by what that type holds); pages are 1 or 64 KiB."""
    assert message_of(Module(memories=(memory,))) == expected


def test_64_bit_tables_have_64_bit_limits() -> None:
    assert message_of(Module(tables=(TableType(Limits(0, 2**64 - 1), FUNCREF, I64),))) is None
    assert message_of(Module(tables=(TableType(Limits(0, 2**32), FUNCREF),))) == "table size must be at most 2^32-1"


def test_segment_offsets_have_the_address_type_of_their_memory_or_table() -> None:
    memory64 = (MemoryType(Limits(1), I64),)
    assert message_of(data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i64.const 0")), memories=memory64)) is None
    assert message_of(data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i32.const 0")),
                                  memories=memory64)).startswith("type mismatch")
    table64 = Module(tables=(TableType(Limits(1), FUNCREF, I64),),
                     elems=(active((), FUNCREF, 0, "i64.const 0"),))
    assert message_of(table64) is None


# --- globals and constant expressions ----------------------------------------

IMPORTED_I32 = Import("m", "g", GlobalType(I32, False))
IMPORTED_MUT_I32 = Import("m", "mg", GlobalType(I32, True))


def global_module(valtype, *lines: str, imports=(IMPORTED_I32,), extra_globals=()) -> Module:
    return Module(types=(VOID,), imports=imports, funcs=funcs(2),
                  globals=(*extra_globals, Global(GlobalType(valtype, False), expr(*lines))))


@pytest.mark.parametrize("valtype, lines, expected", [
    (I32, ("i32.const 1",), None),
    (I64, ("i64.const 1",), None),
    (F32, ("f32.const 0",), None),
    (F64, ("f64.const 0",), None),
    (FUNCREF, ("ref.null funcref",), None),
    (FUNCREF, ("ref.func 1",), None),
    (EXTERNREF, ("ref.null externref",), None),
    (I32, ("global.get 0",), None),
    (I32, (), "type mismatch"),
    (I32, ("i64.const 1",), "type mismatch"),
    (I32, ("i32.const 0", "i32.const 0"), "type mismatch"),
    (I32, ("i32.const 0", "global.get 0"), "type mismatch"),
    (FUNCREF, ("ref.null externref",), "type mismatch"),
    (EXTERNREF, ("ref.func 0",), "type mismatch"),
    (I32, ("nop",), "constant expression required"),
    (I32, ("i32.const 0", "nop"), "constant expression required"),
    (I32, ("i32.const 1", "i32.const 2", "i32.add"), None),
    (I64, ("i64.const 1", "i64.const 3", "i64.mul", "i64.const 2", "i64.sub"), None),
    (I32, ("i32.const 1", "i32.eqz"), "constant expression required"),
    (I32, ("i32.const 1", "i32.const 2", "i32.div_u"), "constant expression required"),
    (I32, ("local.get 0",), "constant expression required"),
    (I32, ("block i32", "i32.const 0", "end"), "constant expression required"),
    (I32, ("global.get 1",), "unknown global"),
    (FUNCREF, ("ref.func 2",), "unknown function"),
])
def test_global_initializers(valtype, lines: tuple[str, ...], expected: str | None) -> None:
    message = message_of(global_module(valtype, *lines))
    assert message == expected if expected is None else message is not None and message.startswith(expected)


def test_global_initializer_sees_only_imported_globals_in_2_0() -> None:
    earlier = Global(GlobalType(I32, False), expr("i32.const 0"))
    message = message_of(global_module(I32, "global.get 0", imports=(), extra_globals=(earlier,)), WASM_2_0_FEATURES)
    assert message == "unknown global 0"
    assert message_of(global_module(I32, "global.get 1", extra_globals=(earlier,)), WASM_2_0_FEATURES) \
        == "unknown global 1"


def test_global_initializer_sees_earlier_globals_in_3_0() -> None:
    earlier = Global(GlobalType(I32, False), expr("i32.const 0"))
    assert message_of(global_module(I32, "global.get 0", imports=(), extra_globals=(earlier,))) is None
    assert message_of(global_module(I32, "global.get 1", extra_globals=(earlier,))) is None
    later = Global(GlobalType(I32, False), expr("global.get 1"))
    module = global_module(I32, "i32.const 0", imports=(), extra_globals=(later,))
    assert message_of(Module(globals=tuple(reversed(module.globals)))) == "unknown global 1"


def test_global_initializer_needs_immutable_global() -> None:
    assert_invalid(global_module(I32, "global.get 0", imports=(IMPORTED_MUT_I32,)), "constant expression required")


def test_extended_constant_expressions_are_not_webassembly_2_0() -> None:
    assert_invalid(global_module(I32, "i32.const 1", "i32.const 2", "i32.add"), "constant expression required",
                   WASM_2_0_FEATURES)


def test_constant_expression_errors_carry_no_function() -> None:
    with pytest.raises(InvalidError) as info:
        validate_module(global_module(I32, "i32.const 1", "i32.const 2", "i32.eqz"))
    assert info.value.function is None and info.value.offset == 2
    assert info.value.field == ModuleField(FieldKind.GLOBAL, 0)


def test_validate_const_expr_directly() -> None:
    context = ModuleContext.of_module(Module(imports=(IMPORTED_I32, IMPORTED_MUT_I32)))
    validate_const_expr(context, expr("global.get 0"), I32)
    with pytest.raises(InvalidError, match="constant expression required"):
        validate_const_expr(context, expr("global.get 1"), I32)
    with pytest.raises(InvalidError, match="type mismatch"):
        validate_const_expr(context, expr("global.get 0"), I64)
    with pytest.raises(InvalidError, match="after the end"):
        validate_const_expr(context, expr("i32.const 0", "end", "i32.const 1"), I32)


# --- element and data segments -------------------------------------------------

FUNCREF_TABLE = TableType(Limits(1), FUNCREF)


def elem_module(*elems: Elem, tables=(FUNCREF_TABLE,), globals=(), imports=(IMPORTED_I32,)) -> Module:
    return Module(types=(VOID,), imports=imports, funcs=funcs(1), tables=tables, globals=globals, elems=elems)


def active(init: tuple, elem_type=FUNCREF, table: int = 0, *offset: str) -> Elem:
    return Elem(elem_type, init, SegmentMode.ACTIVE, table, expr(*(offset or ("i32.const 0",))))


@pytest.mark.parametrize("module, expected", [
    (elem_module(active((expr("ref.func 0"),))), None),
    (elem_module(active((expr("ref.null funcref"),), FUNCREF, 0, "global.get 0")), None),
    (elem_module(Elem(FUNCREF, (expr("ref.func 0"),), SegmentMode.PASSIVE)), None),
    (elem_module(Elem(FUNCREF, (expr("ref.func 0"),), SegmentMode.DECLARATIVE), tables=()), None),
    (elem_module(Elem(EXTERNREF, (expr("ref.null externref"),), SegmentMode.PASSIVE)), None),
    (elem_module(active((), FUNCREF, 1)), "unknown table 1"),
    (elem_module(active(()), tables=()), "unknown table 0"),
    (elem_module(active((), EXTERNREF)), "type mismatch"),
    (elem_module(active((expr("ref.null externref"),))), "type mismatch"),
    (elem_module(Elem(FUNCREF, (expr("i32.const 0"),), SegmentMode.PASSIVE)), "type mismatch"),
    (elem_module(active((), FUNCREF, 0, "i64.const 0")), "type mismatch"),
    (elem_module(active((), FUNCREF, 0, "i32.const 0", "i32.const 0", "i32.add")), None),
    (elem_module(active((), FUNCREF, 0, "i32.const 0", "i32.const 0", "i32.and")),
     "constant expression required"),
    (elem_module(active((), FUNCREF, 0, "nop", "i32.const 0")), "constant expression required"),
    (elem_module(Elem(FUNCREF, (expr("ref.func 0", "nop"),), SegmentMode.PASSIVE)), "constant expression required"),
    (elem_module(Elem(FUNCREF, (expr("ref.func 5"),), SegmentMode.PASSIVE)), "unknown function 5"),
    (elem_module(active((), FUNCREF, 0, "global.get 0"), imports=(IMPORTED_MUT_I32,)),
     "constant expression required"),
])
def test_element_segments(module: Module, expected: str | None) -> None:
    message = message_of(module)
    assert message == expected if expected is None else message is not None and message.startswith(expected)


def test_element_offsets_read_defined_globals_in_3_0_only() -> None:
    module = elem_module(active((), FUNCREF, 0, "global.get 0"), imports=(),
                         globals=(Global(GlobalType(I32, False), expr("i32.const 0")),))
    assert message_of(module) is None
    assert message_of(module, WASM_2_0_FEATURES) == "unknown global 0"


def data_module(*datas: Data, memories=(MemoryType(Limits(1)),)) -> Module:
    return Module(imports=(IMPORTED_I32,), memories=memories, datas=datas)


@pytest.mark.parametrize("module, expected", [
    (data_module(Data(b"ab", SegmentMode.ACTIVE, 0, expr("i32.const 0"))), None),
    (data_module(Data(b"ab", SegmentMode.ACTIVE, 0, expr("global.get 0"))), None),
    (data_module(Data(b"ab", SegmentMode.PASSIVE), memories=()), None),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i32.const 0")), memories=()), "unknown memory 0"),
    (data_module(Data(b"", SegmentMode.ACTIVE, 1, expr("i32.const 0"))), "unknown memory 1"),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i64.const 0"))), "type mismatch"),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr())), "type mismatch"),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i32.const 1", "i32.const 1", "i32.sub"))), None),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("i32.const 1", "i32.const 1", "i32.shl"))),
     "constant expression required"),
    (data_module(Data(b"", SegmentMode.ACTIVE, 0, expr("global.get 1"))), "unknown global 1"),
])
def test_data_segments(module: Module, expected: str | None) -> None:
    message = message_of(module)
    assert message == expected if expected is None else message is not None and message.startswith(expected)


# --- functions, start, exports, imports -----------------------------------------


def test_function_with_unknown_type() -> None:
    assert_invalid(Module(types=(VOID,), funcs=(Func(1, (), expr()),)), "unknown type 1")


def test_imported_function_with_unknown_type() -> None:
    assert_invalid(Module(imports=(Import("m", "f", 0),)), "unknown type 0")


@pytest.mark.parametrize("start_type, start, expected", [
    (VOID, 0, None),
    (VOID, 1, "unknown function 1"),
    (FuncType((I32,), ()), 0, "start function"),
    (FuncType((), (I32,)), 0, "start function"),
])
def test_start_function(start_type: FuncType, start: int, expected: str | None) -> None:
    body = expr("i32.const 0") if start_type.results else expr()
    module = Module(types=(start_type,), funcs=(Func(0, (), body),), start=start)
    message = message_of(module)
    assert message == expected if expected is None else message is not None and message.startswith(expected)


def test_imported_start_function() -> None:
    assert message_of(Module(types=(VOID,), imports=(Import("m", "f", 0),), start=0)) is None


EXPORTABLE = Module(types=(VOID,), funcs=funcs(1), tables=(FUNCREF_TABLE,), memories=(MemoryType(Limits(0)),),
                    globals=(Global(GlobalType(I32, True), expr("i32.const 0")),))


@pytest.mark.parametrize("exports, expected", [
    ((Export("f", ExternKind.FUNC, 0), Export("t", ExternKind.TABLE, 0), Export("m", ExternKind.MEMORY, 0),
      Export("g", ExternKind.GLOBAL, 0)), None),
    ((Export("a", ExternKind.FUNC, 0), Export("a", ExternKind.FUNC, 0)), "duplicate export name"),
    ((Export("a", ExternKind.MEMORY, 0), Export("a", ExternKind.GLOBAL, 0)), "duplicate export name"),
    ((Export("", ExternKind.FUNC, 0), Export("", ExternKind.TABLE, 0)), "duplicate export name"),
    ((Export("a", ExternKind.FUNC, 1),), "unknown function 1"),
    ((Export("a", ExternKind.TABLE, 1),), "unknown table 1"),
    ((Export("a", ExternKind.MEMORY, 1),), "unknown memory 1"),
    ((Export("a", ExternKind.GLOBAL, 1),), "unknown global 1"),
])
def test_exports(exports: tuple[Export, ...], expected: str | None) -> None:
    import dataclasses
    message = message_of(dataclasses.replace(EXPORTABLE, exports=exports))
    assert message == expected if expected is None else message is not None and message.startswith(expected)


# --- the context and declared function references ---------------------------------


def ref_func_body(index: int, **fields) -> Module:
    return func_module(f"ref.func {index}", "drop", funcs=funcs(2), **fields)


@pytest.mark.parametrize("fields", [
    {"exports": (Export("f", ExternKind.FUNC, 1),)},
    {"elems": (Elem(FUNCREF, (expr("ref.func 1"),), SegmentMode.DECLARATIVE),)},
    {"elems": (Elem(FUNCREF, (expr("ref.func 1"),), SegmentMode.PASSIVE),)},
    {"elems": (Elem(FUNCREF, (expr("ref.func 1"),), SegmentMode.ACTIVE, 0, expr("i32.const 0")),),
     "tables": (FUNCREF_TABLE,)},
    {"globals": (Global(GlobalType(FUNCREF, False), expr("ref.func 1")),)},
])
def test_declared_references(fields: dict) -> None:
    assert message_of(ref_func_body(1, **fields)) is None
    assert message_of(ref_func_body(2, **fields)).startswith("undeclared function reference")


def test_references_in_bodies_and_start_do_not_declare() -> None:
    """``ref.func 1`` in one body does not declare it for another; nor does
    being the start function or being called."""
    module = func_module("ref.func 1", "drop", funcs=(Func(0, (), expr("ref.func 1", "drop", "call 1")),), start=1)
    assert_invalid(module, "undeclared function reference")


def test_context_contents() -> None:
    module = Module(
        types=(VOID, FuncType((I32,), (I64,))),
        imports=(Import("m", "f", 1), Import("m", "t", TableType(Limits(0), EXTERNREF)),
                 Import("m", "g", GlobalType(F32, False)), Import("m", "mem", MemoryType(Limits(1)))),
        funcs=(Func(0, (), expr()),),
        tables=(FUNCREF_TABLE,),
        globals=(Global(GlobalType(I64, True), expr("i64.const 0")),),
        exports=(Export("f", ExternKind.FUNC, 1),),
        elems=(Elem(EXTERNREF, (), SegmentMode.PASSIVE), Elem(FUNCREF, (expr("ref.func 0"),), SegmentMode.PASSIVE)),
        datas=(Data(b"", SegmentMode.PASSIVE), Data(b"", SegmentMode.PASSIVE)),
        data_count=2,
    )
    context = validate_module(module)
    assert tuple(defined.comp for defined in context.types) == module.types
    assert context.func_types == (context.types[1], context.types[0])
    assert context.funcs == (FuncType((I32,), (I64,)), VOID)
    assert context.tables == (TableType(Limits(0), EXTERNREF), FUNCREF_TABLE)
    assert context.memories == (MemoryType(Limits(1)),)
    assert context.globals == (GlobalType(F32, False), GlobalType(I64, True))
    assert context.imported_globals == 1
    assert context.elems == (EXTERNREF, FUNCREF)
    assert (context.datas, context.data_count) == (2, 2)
    assert context.refs == frozenset({0, 1})
    assert context.for_constant_expressions().globals == (GlobalType(F32, False),)
    with pytest.raises(Exception):
        context.types = ()  # type: ignore[misc]  # frozen


def test_negative_indices_do_not_wrap_around() -> None:
    """Python would read ``types[-1]``; the module must not."""
    assert_invalid(Module(types=(VOID,), funcs=(Func(-1, (), expr()),)), "unknown type -1")
    assert_invalid(func_module("local.get -1", params=(I32,)), "unknown local -1")
