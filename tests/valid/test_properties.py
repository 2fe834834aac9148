"""Properties of the validator over generated code.

* Whatever instruction sequence it is given (immediates shaped as the opcode
  table says, indices in or out of range), it either accepts or raises
  ``InvalidError``: nothing else escapes.
* Straight-line code generated to be well typed is accepted, and the operand
  stack the validator ends with is the one the generator tracked.
* Inserting ``unreachable`` anywhere into valid code keeps it valid (the
  polymorphic stack supplies whatever the rest of the code pops).
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from interp.errors import InvalidError
from interp.syntax.module import Catch, CatchKind, Instruction
from interp.syntax.opcodes import OPS, SELECT_TYPED, Imm, MemArg, Op, op
from interp.syntax.types import F32, F64, I32, I64, FuncType, HeapKind, ValType, ref_type
from interp.valid import FunctionValidator, ModuleContext, validate_module
from tests.valid.assemble import environment_module

_INDEX = st.one_of(st.integers(0, 5), st.sampled_from([-1, 2**32 - 1, 2**32]))
_VALTYPE = st.sampled_from(ValType.all_simple())
_IMMEDIATES: dict[Imm, st.SearchStrategy] = {
    Imm.NONE: st.none(),
    Imm.BLOCKTYPE: st.one_of(st.none(), _VALTYPE, _INDEX),
    Imm.LABEL: _INDEX,
    Imm.BR_TABLE: st.tuples(st.lists(_INDEX, max_size=4).map(tuple), _INDEX),
    Imm.FUNC: _INDEX,
    Imm.CALL_INDIRECT: st.tuples(_INDEX, _INDEX),
    Imm.LOCAL: _INDEX,
    Imm.GLOBAL: _INDEX,
    Imm.TABLE: _INDEX,
    Imm.ELEM: _INDEX,
    Imm.DATA: _INDEX,
    Imm.TABLE_INIT: st.tuples(_INDEX, _INDEX),
    Imm.TABLE_COPY: st.tuples(_INDEX, _INDEX),
    Imm.MEMARG: st.builds(MemArg, st.one_of(st.integers(0, 4), st.just(63)), st.integers(0, 2**64 - 1), _INDEX),
    Imm.MEMORY: _INDEX,
    Imm.MEMORY_INIT: st.tuples(_INDEX, _INDEX),
    Imm.MEMORY_COPY: st.tuples(_INDEX, _INDEX),
    Imm.I32: st.integers(0, 2**32 - 1),
    Imm.I64: st.integers(0, 2**64 - 1),
    Imm.F32: st.integers(0, 2**32 - 1),
    Imm.F64: st.integers(0, 2**64 - 1),
    Imm.HEAPTYPE: st.sampled_from([HeapKind.FUNC, HeapKind.EXTERN, HeapKind.ANY, 0, 5]),
    Imm.TYPE: _INDEX,
    Imm.FIELD: st.tuples(_INDEX, _INDEX),
    Imm.ARRAY_FIXED: st.tuples(_INDEX, st.integers(0, 5)),
    Imm.ARRAY_DATA: st.tuples(_INDEX, _INDEX),
    Imm.ARRAY_ELEM: st.tuples(_INDEX, _INDEX),
    Imm.ARRAY_COPY: st.tuples(_INDEX, _INDEX),
    Imm.CAST: st.sampled_from([ref_type(False, HeapKind.I31), ref_type(False, 0)]),
    Imm.CAST_NULL: st.sampled_from([ref_type(True, HeapKind.STRUCT), ref_type(True, 2)]),
    Imm.BR_ON_CAST: st.tuples(_INDEX, st.just(ref_type(True, HeapKind.ANY)),
                              st.sampled_from([ref_type(False, HeapKind.EQ), ref_type(True, 0)])),
    Imm.SELECT_TYPES: st.lists(_VALTYPE, max_size=2).map(tuple),
    Imm.V128: st.integers(0, 2**128 - 1),
    Imm.LANE: st.integers(0, 255),
    Imm.SHUFFLE: st.lists(st.integers(0, 255), min_size=16, max_size=16).map(tuple),
}
_IMMEDIATES[Imm.MEMARG_LANE] = st.tuples(_IMMEDIATES[Imm.MEMARG], _IMMEDIATES[Imm.LANE])
_IMMEDIATES[Imm.TAG] = _INDEX
_IMMEDIATES[Imm.TYPE] = _INDEX
_CATCH = st.builds(lambda kind, tag, label: Catch(kind, tag if kind.has_tag else None, label),
                   st.sampled_from(CatchKind), _INDEX, _INDEX)
_IMMEDIATES[Imm.TRY_TABLE] = st.tuples(_IMMEDIATES[Imm.BLOCKTYPE], st.lists(_CATCH, max_size=3).map(tuple))


@st.composite
def any_instruction(draw: st.DrawFn) -> Instruction:
    chosen: Op = draw(st.sampled_from(OPS))
    return Instruction(chosen, draw(_IMMEDIATES[chosen.imm]), draw(st.integers(-1, 1000)))


@settings(max_examples=300, deadline=None)
@given(body=st.lists(any_instruction(), max_size=12), params=st.lists(_VALTYPE, max_size=2),
       results=st.lists(_VALTYPE, max_size=2))
def test_only_invalid_error_escapes(body: list[Instruction], params: list[ValType],
                                    results: list[ValType]) -> None:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType(tuple(params), tuple(results)), (I32, I64))
    try:
        validator.run(body)
        validator.finish()
    except InvalidError as error:
        assert error.message
    else:
        assert not validator.ctrls  # accepted only if the body was closed


_NUMERIC = (I32, I64, F32, F64)
_CONSTANTS = {op(f"{t.text}.const"): t for t in _NUMERIC}
_STRAIGHT_LINE_OPS = tuple(candidate for candidate in OPS
                           if candidate.imm is Imm.NONE and candidate.params is not None
                           and candidate.results is not None and candidate.params
                           and all(t in _NUMERIC for t in candidate.params + candidate.results))
_LOCALS = (I32, I64, F32, F64)


@st.composite
def well_typed_code(draw: st.DrawFn) -> tuple[list[Instruction], list[ValType]]:
    """Straight-line numeric code and the operand stack it leaves, built by
    only ever choosing an instruction whose operands are on the stack."""
    stack: list[ValType] = []
    code: list[Instruction] = []
    for _ in range(draw(st.integers(0, 25))):
        choice = draw(st.integers(0, 4))
        if choice == 0 or not stack:
            const = draw(st.sampled_from(sorted(_CONSTANTS, key=lambda c: c.id)))
            code.append(Instruction(const, 0))
            stack.append(_CONSTANTS[const])
        elif choice == 1:
            index = draw(st.integers(0, len(_LOCALS) - 1))
            code.append(Instruction(op("local.get"), index))
            stack.append(_LOCALS[index])
        elif choice == 2 and stack[-1] in _LOCALS:
            index = _LOCALS.index(stack[-1])
            code.append(Instruction(op(draw(st.sampled_from(["local.set", "local.tee"]))), index))
            if code[-1].op.name == "local.set":
                stack.pop()
        elif choice == 3 and len(stack) >= 3 and stack[-1] is I32 and stack[-2] is stack[-3]:
            code.append(Instruction(draw(st.sampled_from([op("select"), SELECT_TYPED])), (stack[-2],)))
            if code[-1].op is not SELECT_TYPED:
                code[-1] = Instruction(code[-1].op, None)
            del stack[-2:]
        else:
            fitting = [candidate for candidate in _STRAIGHT_LINE_OPS
                       if list(candidate.params) == stack[len(stack) - len(candidate.params):]]
            if fitting:
                chosen = draw(st.sampled_from(fitting))
                code.append(Instruction(chosen))
                del stack[len(stack) - len(chosen.params):]
                stack.extend(chosen.results)
            else:
                code.append(Instruction(op("drop")))
                stack.pop()
    return code, stack


def run(code: list[Instruction], results: list[ValType]) -> FunctionValidator:
    context = ModuleContext.of_module(environment_module())
    validator = FunctionValidator(context, 0, FuncType((), tuple(results)), _LOCALS)
    validator.run(code)
    return validator


@settings(max_examples=200, deadline=None)
@given(well_typed_code())
def test_well_typed_code_is_accepted(generated: tuple[list[Instruction], list[ValType]]) -> None:
    code, stack = generated
    validator = run(code, stack)
    assert validator.vals == stack
    validator.step(Instruction(op("end")))
    validator.finish()


@settings(max_examples=200, deadline=None)
@given(well_typed_code(), st.data())
def test_unreachable_anywhere_keeps_code_valid(generated: tuple[list[Instruction], list[ValType]],
                                               data: st.DataObject) -> None:
    code, stack = generated
    position = data.draw(st.integers(0, len(code)))
    changed = code[:position] + [Instruction(op("unreachable"))] + code[position:]
    validator = run(changed + [Instruction(op("end"))], stack)
    validator.finish()


@settings(max_examples=200, deadline=None)
@given(well_typed_code(), st.sampled_from(_NUMERIC))
def test_wrong_result_type_is_rejected(generated: tuple[list[Instruction], list[ValType]],
                                       extra: ValType) -> None:
    """The same code declared with one more result, or with its last result
    of another type, does not validate."""
    code, stack = generated
    wrong_results = [stack + [extra]]
    if stack and stack[-1] is not extra:
        wrong_results.append(stack[:-1] + [extra])
    for results in wrong_results:
        try:
            run(code + [Instruction(op("end"))], results)
        except InvalidError as error:
            assert error.message.startswith("type mismatch")
        else:
            raise AssertionError(f"accepted results {results} for stack {stack}")


def test_generated_modules_validate_as_a_whole() -> None:
    """The environment used above is itself a valid module."""
    validate_module(environment_module())
