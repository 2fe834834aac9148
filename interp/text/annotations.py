"""The annotations of the text format that mean something to a module
(the annotations proposal's appendix, and the code metadata proposal):

* ``(@custom "name" (before|after section)? "bytes"*)``, a custom section
  and where it goes in the binary (by default at its end);
* ``(@name "text")`` after a module's, function's or tag's (and table's,
  memory's, global's) identifier: its name in the ``name`` section, which
  need not be an identifier at all;
* ``(@metadata.code.branch_hint "\\00" | "\\01")`` before an ``if`` or
  ``br_if``: whether the branch is likely taken, kept as the
  ``metadata.code.branch_hint`` custom section, whose offsets are the
  hinted instructions' byte offsets in their function's code entry.

The lexer keeps these beside the token list (``interp.text.lexer.Annotation``);
the module parser reads them here.  Errors are the ones the testsuite's
``custom/`` scripts expect: a malformed annotation is a ``TextSyntaxError``,
a branch hint on another instruction an ``InvalidError``.
"""

from __future__ import annotations

from interp.binary.decode import CUSTOM, DATA, SECTION_ORDER, TAG
from interp.binary.encode import encode_unsigned, instruction_offsets
from interp.errors import TextSyntaxError
from interp.syntax.module import CustomSection, Func
from interp.text.lexer import ATOM, STRING, Annotation, Parenthesized, Token, TokenReader, decode_name

BRANCH_HINT = "metadata.code.branch_hint"
"""The branch hints' annotation, and the name of their custom section."""

SECTION_KEYWORDS: dict[str, int] = {
    "type": 1, "import": 2, "func": 3, "table": 4, "memory": 5, "tag": TAG, "global": 6, "export": 7,
    "start": 8, "elem": 9, "datacount": 12, "code": 10, "data": 11,
}
"""The sections a custom section may be placed before or after, by keyword."""

_FIRST, _LAST = "first", "last"
_BRANCH_HINT_PLACE = SECTION_ORDER[SECTION_ORDER.index(10) - 1]
"""Branch hints go just before the code section (they are read before the
code they describe)."""


def _section_after(direction: str, keyword: str) -> int:
    """The ``CustomSection.after`` of a placement: the id of the standard
    section it follows (0: before all, ``DATA``: after all)."""
    if keyword == _FIRST:
        return CUSTOM
    if keyword == _LAST:
        return DATA
    section = SECTION_KEYWORDS[keyword]
    if direction == "after":
        return section
    position = SECTION_ORDER.index(section)
    return SECTION_ORDER[position - 1] if position else CUSTOM


def placement_text(after: int) -> str:
    """How the printer writes where a custom section goes: ``(after func)``,
    ``(before first)``."""
    if after == CUSTOM:
        return f"(before {_FIRST})"
    keyword = next((word for word, section in SECTION_KEYWORDS.items() if section == after), _LAST)
    return f"(after {keyword})"


def custom_section(reader: TokenReader, annotation: Annotation) -> CustomSection:
    """The custom section a ``@custom`` annotation stands for."""
    items = list(annotation.items)

    def fail(message: str, offset: int = annotation.offset) -> TextSyntaxError:
        return reader.error_at(offset, f"@custom annotation: {message}")

    if not items or _kind(items[0]) != STRING:
        raise fail("missing section name")
    name = decode_name(items.pop(0)[1])  # type: ignore[index,arg-type]
    if name is None:
        raise fail("malformed UTF-8 encoding")
    after = DATA
    if items and isinstance(items[0], Parenthesized):
        place = items.pop(0)
        words = [item[1] if _kind(item) == ATOM else None for item in place.items]  # type: ignore[union-attr]
        if not words or words[0] not in ("before", "after"):
            raise fail("malformed placement", place.offset)
        if len(words) < 2 or (words[1] not in SECTION_KEYWORDS and words[1] not in (_FIRST, _LAST)):
            raise fail("malformed section kind", place.offset)
        if len(words) > 2:
            raise fail("malformed placement", place.offset)
        after = _section_after(words[0], words[1])  # type: ignore[arg-type]
    content = bytearray()
    for item in items:
        if _kind(item) != STRING:
            raise fail("unexpected token", _offset(item))
        content += item[1]  # type: ignore[index,operator]
    return CustomSection(name, bytes(content), after)


def annotated_name(reader: TokenReader, annotation: Annotation) -> str:
    """The name a ``@name`` annotation gives."""
    items = annotation.items
    if not items or _kind(items[0]) != STRING:
        raise reader.error_at(annotation.offset, "@name annotation: string expected")
    if len(items) > 1:
        raise reader.error_at(_offset(items[1]), "@name annotation: unexpected token")
    name = decode_name(items[0][1])  # type: ignore[index,arg-type]
    if name is None:
        raise reader.error_at(annotation.offset, "@name annotation: malformed UTF-8 encoding")
    return name


def branch_hint_value(reader: TokenReader, annotation: Annotation) -> int:
    """A branch hint's value: 0 (unlikely) or 1 (likely)."""
    items = annotation.items
    if len(items) != 1 or _kind(items[0]) != STRING or items[0][1] not in (b"\0", b"\1"):  # type: ignore[index]
        raise reader.error_at(annotation.offset, f"@{BRANCH_HINT} annotation: invalid hint value")
    return items[0][1][0]  # type: ignore[index]


def branch_hint_section(hints: dict[int, list[tuple[int, int]]], funcs: tuple[Func, ...],
                        first_defined: int) -> CustomSection:
    """The ``metadata.code.branch_hint`` section of ``hints``: per function
    index (of a defined function), the hinted instructions (by position in
    the body) and their values."""
    entries = []
    for func_index in sorted(hints):
        offsets = instruction_offsets(funcs[func_index - first_defined])
        items = [encode_unsigned(offsets[position]) + b"\x01" + bytes([value])
                 for position, value in sorted(hints[func_index])]
        entries.append(encode_unsigned(func_index) + encode_unsigned(len(items)) + b"".join(items))
    return CustomSection(BRANCH_HINT, encode_unsigned(len(entries)) + b"".join(entries), _BRANCH_HINT_PLACE)


def _kind(item: Token | Parenthesized) -> int | None:
    """A token's kind (``None`` for a parenthesised group)."""
    return None if isinstance(item, Parenthesized) else item[0]


def _offset(item: Token | Parenthesized) -> int:
    return item.offset if isinstance(item, Parenthesized) else item[2]
