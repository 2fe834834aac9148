"""Where the parts of a text module are written, kept beside the module (the
syntax of a module knows nothing of its text).

The parser records the character offset of every instruction of function
bodies and global initialisers, and of every field (``TextPositions``).  A
text module is run from its binary encoding, decoded again, so that its
instructions have the byte offsets ``wasm-objdump -d`` would show;
``TextSource`` pairs those byte offsets with the recorded positions.  Any
error that knows the byte offset of its instruction, or its field, can then be
shown where it is written (``TextSource.locate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from interp.errors import FieldKind, InvalidError, ModuleField, TextLocation, UnlinkableError
from interp.syntax.module import Expr, Module
from interp.text.lexer import text_location, token_length


@dataclass(frozen=True)
class TextPositions:
    """Character offsets in the text of a parsed module, parallel to its
    parts: per defined function, one per instruction of its body; per defined
    global, one per instruction of its initialiser; and per ``ModuleField``,
    the keyword that opens it (for an inline export, ``export``; an inline
    import is the field that holds it, ``func``, ``memory``, ...)."""

    bodies: tuple[tuple[int, ...], ...]
    global_inits: tuple[tuple[int, ...], ...]
    fields: Mapping[ModuleField, int]


@dataclass(frozen=True)
class TextSource:
    """The text a module was read from, and where its parts are: by the byte
    offset of an instruction in the module's binary encoding
    (``instructions``), and by field.  ``file`` names the text's file, if
    any."""

    text: str
    file: str | None
    instructions: Mapping[int, int]
    fields: Mapping[ModuleField, int]
    imported_funcs: int

    @classmethod
    def of(cls, text: str, positions: TextPositions, module: Module, file: str | None = None) -> TextSource:
        """The source of ``module``, the decoding of the binary encoding of
        the module ``text`` was parsed into (with ``positions``)."""
        instructions: dict[int, int] = {}
        for func, places in zip(module.funcs, positions.bodies):
            _pair(func.body, places, instructions)
        for global_, places in zip(module.globals, positions.global_inits):
            _pair(global_.init, places, instructions)
        imported_funcs = len(module.func_type_indices()) - len(module.funcs)
        return cls(text, file, instructions, positions.fields, imported_funcs)

    def location(self, offset: int) -> TextLocation:
        """Where character ``offset`` is, underlining the token there."""
        return text_location(self.text, offset, token_length(self.text, offset), self.file)

    def position_of(self, error: InvalidError | UnlinkableError) -> int | None:
        """The character offset ``error`` is about: its instruction's, else
        its field's, else (for a function that does not end properly) its
        function's; ``None`` when it says nothing this source knows."""
        if isinstance(error, InvalidError):
            if error.offset is not None and error.offset in self.instructions:
                return self.instructions[error.offset]
            if error.function is not None:
                return self.fields.get(ModuleField(FieldKind.FUNC, error.function.index - self.imported_funcs))
        return self.fields.get(error.field) if error.field is not None else None

    def locate(self, error: InvalidError | UnlinkableError) -> None:
        """Locate ``error`` in the text, when this source knows where it is."""
        position = self.position_of(error)
        if position is not None:
            error.place(self.location(position))


def _pair(expr: Expr, places: tuple[int, ...], instructions: dict[int, int]) -> None:
    """Record where the instructions of ``expr`` (decoded, with byte offsets)
    are written.  ``places`` was recorded for the same instructions as parsed;
    a count that differs is no pairing at all, and the errors of that
    expression are then located by their field only."""
    if len(expr) != len(places):
        return
    for instr, place in zip(expr, places):
        if instr.offset >= 0:
            instructions[instr.offset] = place
