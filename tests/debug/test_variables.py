"""Source-level variables from DWARF and the debugger's expressions, on
variables.c built four ways (see programs/build.sh): -O0 and -O2, DWARF 4 and
5.  At -O0 every variable lives in the shadow stack at a frame-base offset;
at -O2 in wasm locals, on the operand stack, as constants or in pieces, by
location lists, and partly nowhere (optimized out)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.binary.decode import decode_module
from interp.debug.c_types import FormatMode, format_c_value
from interp.debug.dwarf_variables import DebugVariables, LocationUnavailable
from interp.debug.expressions import ExpressionError
from interp.debug.session import DebugSession, StopReason
from interp.dwarf.source_map import SourceMap
from interp.loader import read_module
from interp.exec.store import EngineConfig, Store
from interp.syntax.module import CustomSection

from tests.debug.modules import PROGRAMS, REPOSITORY

UNOPTIMIZED = ["variables.wasm", "variables_dwarf5.wasm"]
OPTIMIZED = ["variables_O2.wasm", "variables_O2_dwarf5.wasm"]
LOOP_BODY = 45  # variables.c: `total = total * 2;`


def session_on(name: str, steps: int = 3) -> DebugSession:
    module = read_module(PROGRAMS / name)
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module)
    return DebugSession(store, instance.exports["walk"], [steps],
                        source_map=SourceMap.for_module(module, search_paths=[PROGRAMS]))


def shown(session: DebugSession, frame: int | None = None) -> dict[str, str]:
    scope = session.scope(frame)
    return {variable.name: variable.describe(scope.read) for variable in scope.source_variables()}


def value_of(session: DebugSession, expression: str, mode: FormatMode = FormatMode.NATURAL) -> str:
    return format_c_value(session.evaluate(expression), session.scope().read, mode)


@pytest.mark.parametrize("name", UNOPTIMIZED)
def test_every_kind_of_variable_at_frame_base_offsets(name: str) -> None:
    session = session_on(name)
    session.break_at_line("variables.c", LOOP_BODY)
    assert session.continue_().reason is StopReason.BREAKPOINT
    assert shown(session) == {
        "steps": "steps = 3 (int)",
        "here": "here = {x = 0, y = -1} (struct point)",
        "cursor": "cursor = 0x10440 (struct point *)",
        "colour": "colour = GREEN (enum colour)",
        "total": "total = 0.5 (double)",
        "letter": "letter = 119 'w' (char)",
        "big": "big = 1099511627776 (unsigned long long)",
        "box": "box = {name = 0x400 \"box\", origin = {x = 1, y = 1}, sides = 4 '\\004', scale = 1.5, "
               "corner = 0x438} (struct shape)",
        "step": "step = 0 (int)",  # the for loop's block
    }
    assert [v.name for v in session.source_variables() if v.parameter] == ["steps"]
    session.continue_()
    session.continue_()
    assert shown(session)["here"] == "here = {x = 3, y = -3} (struct point)"  # 0 + 1 + 2, three decrements
    assert shown(session)["total"] == "total = 2.0 (double)" and shown(session)["step"] == "step = 2 (int)"
    assert value_of(session, "counter") == "5"  # a global: 3, plus one per finished iteration


@pytest.mark.parametrize("name", UNOPTIMIZED + OPTIMIZED)
def test_parameters_in_a_called_function_and_in_its_caller(name: str) -> None:
    session = session_on(name)
    session.break_at_function("area")
    assert session.continue_().reason is StopReason.BREAKPOINT  # past the prologue: parameters are in place
    area = shown(session, 0)
    assert area["a"] == f"a = {value_of(session, '&origin')} (struct point *)"
    assert area["b"] == f"b = {value_of(session, '&corners[2]')} (struct point *)"
    assert value_of(session, "*a") == "{x = 1, y = 2}" and value_of(session, "b->y") == "3"
    assert value_of(session, "a == &origin") == "1" and value_of(session, "b - &corners[0]") == "2"
    walk = shown(session, 1)
    assert walk["colour"] == "colour = GREEN (enum colour)" and walk["letter"] == "letter = 119 'w' (char)"
    assert walk["big"] == "big = 1099511627776 (unsigned long long)"
    session.select_frame(1)
    assert value_of(session, "letter + 1") == "120" and value_of(session, "big >> 40") == "1"
    assert session.continue_().reason is StopReason.FINISHED and session.results == [139]


def test_optimized_code_shows_what_the_location_lists_keep() -> None:
    session = session_on("variables_O2.wasm")
    session.break_at_line("variables.c", LOOP_BODY)
    session.continue_()
    variables = shown(session)
    assert variables["here"] == "here = {x = 0, y = <optimized out>} (struct point)"  # a piece in a wasm local
    assert variables["colour"] == "colour = GREEN (enum colour)"  # DW_AT_const_value
    assert variables["box"].startswith("box = {name = <optimized out>,") and "sides = 4 '\\004'" in variables["box"]
    with pytest.raises(ExpressionError, match="optimized out"):
        session.evaluate("box.scale + 1")
    session.continue_()
    assert shown(session)["here"] == "here = {x = 1, y = <optimized out>} (struct point)"
    debug_variables = session.debug_variables
    walk = debug_variables.function_at(session.scope().address)
    total = next(variable for variable in walk.variables if variable.name == "total")
    assert isinstance(total.location, tuple) and len(total.location) > 10  # by location list
    ranges = [(low, high) for low, high, _ in total.location]
    inside = next(low for low, high in ranges if low >= ranges[1][0])
    assert debug_variables.location_at(total.location, inside) is not None
    assert debug_variables.location_at(total.location, 0) is None  # before the function: nowhere


def test_expressions() -> None:
    session = session_on("variables.wasm")
    session.break_at_line("variables.c", LOOP_BODY)
    session.continue_()
    session.continue_()
    cases = {
        "steps * 2 + 1": "7", "-steps": "-3", "!steps": "0", "~0": "-1", "7 / -2": "-3", "7 % -2": "1",
        "-1 >> 1": "-1", "0xffffffff + 1": "0", "1 << 40": None, "(long long) 1 << 40": "1099511627776",
        "here.x": "1", "cursor->y": "-2", "*cursor": "{x = 1, y = -2}", "&here": "0x10440",
        "box.name": '0x400 "box"', "*box.name": "98 'b'", "box.name[2]": "120 'x'", "box.origin.x + box.sides": "5",
        "corners[2]": "{x = 4, y = 3}", "corners[1].x * corners[2].y": "12", "&corners[1] == box.corner": "1",
        "*box.corner": "{x = 4, y = 0}", "box.corner->x": "4", "(corners + 2)->y": "3",
        "total / 4": "0.25", "(float) total": "1.0", "(int) 2.9": "2", "letter": "119 'w'", "'a' + 1": "98",
        "(unsigned char) 300": "44 ','", "colour": "GREEN", "colour == 5": "1", "(enum colour) 6": "BLUE",
        "origin": "{x = 1, y = 2}", "*(struct point *)0x448": "{x = 1, y = 2}", "{int} 0x420": "4",
        "*0x420": "4", "steps > 2 && counter == 4": "1", "steps < 2 || here.y == -2": "1",
        "$param0": "i32:3", "(i32) 5 + 1": "i32:6", "(u8) 511": "255", "2.5e1": "25.0",
    }
    for expression, expected in cases.items():
        if expected is None:
            with pytest.raises(ExpressionError):
                session.evaluate(expression)
            continue
        assert value_of(session, expression) == expected, expression
    assert value_of(session, "here", FormatMode.HEX) == "{x = 0x1, y = 0xfffffffe}"
    assert value_of(session, "steps", FormatMode.BINARY) == "11"
    for bad, message in [("nope", "no variable 'nope'"), ("1 +", "ends too early"), ("3 / 0", "division by zero"),
                         ("(struct point) here", "cannot cast"), ("here.z", "no member 'z'"),
                         ("steps.x", "has no members"), ("*steps_", "no variable"), ("(struct nope *) 0", "no type"),
                         ("{int} 0xfffffff0", "outside the memory"), ("1 @ 2", "cannot read"),
                         ("&steps + &steps", "on two pointers"), ("(", "ends too early")]:
        with pytest.raises(ExpressionError, match=message):
            session.evaluate(bad)


def test_types_by_name_and_globals() -> None:
    session = session_on("variables_dwarf5.wasm")
    variables = session.debug_variables
    assert [variable.name for variable in variables.global_variables()] == ["corners", "counter", "origin"]
    assert str(variables.type_named("struct shape")) == "struct shape"
    assert [member.name for member in variables.type_named("struct shape").members] == [
        "name", "origin", "sides", "scale", "corner"]
    assert [name for name, _ in variables.type_named("enum colour").enumerators] == ["RED", "GREEN", "BLUE"]
    assert value_of(session, "corners") == "{{x = 0, y = 0}, {x = 4, y = 0}, {x = 4, y = 3}}"
    assert str(session.evaluate("corners").type) == "struct point [3]"
    assert str(session.evaluate("&corners[1]").type) == "struct point *"


@pytest.mark.parametrize("section", [".debug_info", ".debug_abbrev", ".debug_loc", ".debug_str"])
def test_corrupt_dwarf_never_raises(section: str) -> None:
    module = read_module(PROGRAMS / "variables_O2.wasm")
    source_map = SourceMap.for_module(module, search_paths=[PROGRAMS])
    original = {custom.name: custom.data for custom in module.customs}[section]
    read_anything = 0
    for cut in range(0, len(original), max(1, len(original) // 40)):
        for damaged in (original[:cut], original[:cut] + bytes(range(256))[:len(original) - cut],
                        original[:cut] + b"\xff" * (len(original) - cut)):
            customs = tuple(CustomSection(custom.name, damaged if custom.name == section else custom.data,
                                          custom.after) for custom in module.customs)
            variables = DebugVariables.for_module(replace(module, customs=customs), source_map.code_start)
            if variables is None:
                continue
            for address in range(0, 0x200, 5):
                for scope in variables.scopes_at(address):
                    for variable in scope.variables:
                        read_anything += 1
                        str(variable.type)
                        variables.storage(variable, address, _NOWHERE)
            variables.global_variables()
    if section != ".debug_abbrev":  # any damage there leaves no unit readable
        assert read_anything  # some damage leaves readable variables, and they are read


class _Nowhere:
    """A frame with nothing in it: every location is unavailable or out of memory."""

    def local(self, index: int):
        return (index * 7, 4) if index < 3 else None

    def global_(self, index: int):
        return (0x10000, 4) if index == 0 else None

    def operand(self, index: int):
        return None

    def frame_base(self):
        return 0x100

    def read(self, address: int, length: int):
        return bytes(length) if 0 <= address < 0x1000 - length else None


_NOWHERE = _Nowhere()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(min_value=0, max_value=40))
def test_any_location_expression_gives_bytes_or_is_unavailable(expression: bytes, size: int) -> None:
    variables = _VARIABLES
    try:
        storage = variables.evaluate(expression, _NOWHERE, size)
    except LocationUnavailable:
        return
    assert len(storage.data) == len(storage.known) == size


_VARIABLES = DebugVariables.for_module(read_module(PROGRAMS / "variables.wasm"), 0)


def test_modules_without_dwarf_fall_back_to_wasm_names(tmp_path: Path) -> None:
    module = decode_module((REPOSITORY / "benchmarks" / "programs" / "fib.wasm").read_bytes())
    store = Store(EngineConfig(engine="python"))
    instance = store.instantiate(module)
    session = DebugSession(store, instance.exports["fib"], [5], source_map=SourceMap.for_module(module))
    assert session.debug_variables is None and session.source_variables() == []
    assert format_c_value(session.evaluate("param0 + 1"), session.scope().read) == "i32:6"
