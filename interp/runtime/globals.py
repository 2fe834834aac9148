"""Global instances (spec 4.2.9)."""

from __future__ import annotations

from interp.syntax.types import GlobalType


class GlobalInstance:
    """A global variable; ``value`` uses the representation of values.py."""

    __slots__ = ("type", "value")

    def __init__(self, type: GlobalType, value: object) -> None:
        self.type = type
        self.value = value

    def __repr__(self) -> str:
        return f"<global {'mut ' if self.type.mutable else ''}{self.type.valtype} = {self.value!r}>"
