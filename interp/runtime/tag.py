"""Tag and exception instances (exception handling, spec 4.2.x).

A tag is what an exception is an instance of: ``throw $e`` makes an
exception of tag ``$e`` carrying the values its type's parameters describe,
and a ``catch $e`` clause catches exactly the exceptions of that tag
instance.  Tags are generative: every instantiation of a module that defines
one makes a new tag, while an imported tag is the exporter's own, so two
modules catch each other's exceptions only through a tag they share.

An ``exnref`` value is an ``ExceptionInstance``: the tag, the payload, and
nothing else, so that ``throw_ref`` can throw it again unchanged.
"""

from __future__ import annotations

from typing import Any, Sequence

from interp.errors import UncaughtException
from interp.syntax.types import FuncType, ValType
from interp.text.values import format_value


class TagInstance:
    """A tag.  ``type`` is its function type: the parameters are the payload
    of its exceptions (the results are always empty).  ``name`` labels it in
    messages (an export name or ``$identifier``), when known.  ``deftype``,
    for a tag a module defines, is the canonical defined type of its type
    (interp/syntax/defined.py), which imports of it must name exactly; a
    host's tag, without one, matches any import of its function type."""

    __slots__ = ("type", "name", "deftype")

    def __init__(self, type: FuncType, name: str | None = None, deftype: Any = None) -> None:
        self.type = type
        self.name = name
        self.deftype = deftype

    def matches(self, deftype: Any) -> bool:
        """Whether an import of a tag of the defined type ``deftype`` may take this tag."""
        if self.deftype is not None:
            return self.deftype is deftype
        return self.type == deftype.comp

    def describe(self) -> str:
        return f"tag {self.name}" if self.name else f"tag {self.type}"

    def exception(self, *values: Any) -> UncaughtException:
        """The Python exception that throws a new exception of this tag with
        ``values`` as its payload: a host function does ``raise
        tag.exception(1, 2.5)`` to throw into the guest that called it (the
        values are checked against the tag's type when it is raised there)."""
        return UncaughtException(ExceptionInstance(self, tuple(values)))

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


class ExceptionInstance:
    """A thrown (or caught) exception: an ``exnref`` value."""

    __slots__ = ("tag", "values")

    def __init__(self, tag: TagInstance, values: Sequence[Any]) -> None:
        self.tag = tag
        self.values = tuple(values)

    def describe(self) -> str:
        """``tag $e (i32:1, f64:2.5)``: the tag and the payload with its types."""
        payload = ", ".join(f"{valtype.text}:{_value_text(value, valtype)}"
                            for value, valtype in zip(self.values, self.tag.type.params))
        return f"{self.tag.describe()} ({payload})"

    def __repr__(self) -> str:
        return f"<exception {self.describe()}>"


def _value_text(value: Any, valtype: ValType) -> str:
    """A payload value as traces show values; a host function's exception
    may carry one that is not of its type (it is refused when thrown)."""
    try:
        return format_value(value, valtype)
    except (TypeError, ValueError, OverflowError):
        return repr(value)
