"""Exceptions (exception handling): throwing them, and finding where one is
caught.  Both engines run this, so the semantics exist once.

Throwing is raising ``UncaughtException`` with the exception instance (an
``exnref`` value): ``throw`` and ``throw_ref`` are ``RUNTIME`` instructions
(instance_ops.py builds them from ``throw`` and ``throw_ref`` here), the
legacy ``rethrow`` calls ``throw_ref``, and a host function may raise one too.
The machine that sees it go by asks each of its frames, innermost first,
``find_handler``: the function's handler table (built by the lowering,
interp/translate/lower.py) says which catch clause, if any, takes an
exception thrown at that frame's current instruction, where execution goes
on and what is put on the operand stack.  The machine then drops the frames
above, writes the values into the frame's slots and carries on; each engine
does only that part itself, in its own frames.
"""

from __future__ import annotations

from typing import Any, NoReturn, Sequence

from interp.errors import Trap, TrapKind, UncaughtException
from interp.runtime.tag import ExceptionInstance, TagInstance
from interp.syntax.types import EXNREF, ValType
from interp.translate.lower import HandlerClause, LoweredFunction


class Catching:
    """Where an exception is caught in a frame: go on at ``target`` with
    ``values`` (of ``types``) on the operand stack from ``height`` on, and,
    when ``exception_height`` is not ``None``, the exception itself in the
    slot at that height (for a legacy ``rethrow``)."""

    __slots__ = ("target", "height", "values", "types", "exception_height", "exception")

    def __init__(self, clause: HandlerClause, exception: ExceptionInstance) -> None:
        values: list[Any] = []
        types: tuple[ValType, ...] = ()
        if clause.payload:
            values.extend(exception.values)
            types = exception.tag.type.params
        if clause.reference:
            values.append(exception)
            types += (EXNREF,)
        self.target = clause.target
        self.height = clause.height
        self.values = values
        self.types = types
        self.exception_height = clause.exception_height
        self.exception = exception


def find_handler(lowered: LoweredFunction, tags: Sequence[TagInstance], pc: int,
                 exception: ExceptionInstance) -> Catching | None:
    """How the function ``lowered`` (of an instance whose tags are ``tags``)
    catches ``exception`` thrown by its instruction ``pc`` (for a caller: the
    call it is in), or ``None`` when it lets the exception through."""
    handlers = lowered.handlers
    while True:
        for handler in handlers:
            if not handler.start <= pc < handler.end:
                continue
            if handler.delegate_to is not None:  # a legacy delegate: look again from where it points
                if handler.delegate_to < 0:
                    return None
                pc = handler.delegate_to
                break
            for clause in handler.clauses:
                if clause.tag is None or tags[clause.tag] is exception.tag:
                    return Catching(clause, exception)
        else:
            return None


def throw(tag: TagInstance, values: Sequence[Any]) -> NoReturn:
    """``throw``: a new exception of ``tag`` with ``values`` as its payload."""
    raise UncaughtException(ExceptionInstance(tag, values))


def throw_ref(exception: ExceptionInstance | None) -> NoReturn:
    """``throw_ref``, and the legacy ``rethrow`` (of what a ``catch``
    caught): throw an exception again, as it was."""
    if exception is None:
        raise Trap(TrapKind.NULL_EXCEPTION_REFERENCE)
    raise UncaughtException(exception)

