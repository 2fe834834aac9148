"""The layout of a module binary: where each section's contents start, how
big they are, how many items they hold; and what the custom sections that
toolchains write say (``producers``, DWARF).  ``glasswasm inspect`` lists
these; the decoded ``Module`` keeps what a module means, not where its parts
sit, so the layout is read from the bytes here.

Offsets are those ``wasm-objdump -h`` prints as a section's ``start``: the
first byte after the section's id and size.
"""

from __future__ import annotations

from dataclasses import dataclass

from interp.binary.decode import (
    CODE,
    CUSTOM,
    DATA,
    DATA_COUNT,
    ELEMENT,
    EXPORT,
    FUNCTION,
    GLOBAL,
    IMPORT,
    MAGIC,
    MEMORY,
    START,
    TABLE,
    TYPE,
    TAG,
    VERSION,
)
from interp.binary.reader import ByteReader
from interp.errors import MalformedError

SECTION_NAMES: dict[int, str] = {
    CUSTOM: "custom", TYPE: "type", IMPORT: "import", FUNCTION: "function", TABLE: "table",
    MEMORY: "memory", GLOBAL: "global", EXPORT: "export", START: "start", ELEMENT: "elem",
    DATA_COUNT: "datacount", CODE: "code", DATA: "data", TAG: "tag",
}
"""Section names as ``wasm-objdump -h`` and the text format spell them."""

VECTOR_SECTIONS = frozenset({TYPE, IMPORT, FUNCTION, TABLE, MEMORY, TAG, GLOBAL, EXPORT, ELEMENT, CODE, DATA})
"""Sections whose contents start with the count of their items."""

PRODUCERS_SECTION = "producers"
DWARF_PREFIX = ".debug_"


@dataclass(frozen=True)
class SectionSpan:
    """One section: its id, where its contents start and how many bytes they
    take, the item count of a vector section, a custom section's name."""

    id: int
    offset: int
    size: int
    count: int | None = None
    custom_name: str | None = None

    @property
    def name(self) -> str:
        return SECTION_NAMES.get(self.id, f"unknown section {self.id}")


def section_layout(data: bytes) -> tuple[SectionSpan, ...]:
    """Every section of a module binary, in order.  Raises ``MalformedError``
    when the section headers do not tile the binary (a module the decoder
    accepts always passes)."""
    if not data.startswith(MAGIC + VERSION):
        raise MalformedError("not a wasm binary of version 1", 0)
    reader = ByteReader(data, len(MAGIC) + len(VERSION))
    spans = []
    while not reader.at_end():
        section_id = reader.byte()
        size = reader.length()
        start = reader.pos
        reader.skip(size)
        contents = ByteReader(data[start:start + size])
        count = custom_name = None
        if section_id == CUSTOM:
            custom_name = contents.name()
        elif section_id in VECTOR_SECTIONS:
            count = contents.u32()
        spans.append(SectionSpan(section_id, start, size, count, custom_name))
    return tuple(spans)


@dataclass(frozen=True)
class Producer:
    """One entry of a ``producers`` field: a tool or language and its version."""

    name: str
    version: str


def decode_producers(payload: bytes) -> dict[str, tuple[Producer, ...]]:
    """The ``producers`` section (tool-conventions ProducersSection.md):
    field name (``language``, ``processed-by``, ``sdk``) -> what it lists.
    Informative only, like the ``name`` section: a payload that cannot be
    decoded gives what was read before the damage."""
    reader = ByteReader(payload)
    fields: dict[str, tuple[Producer, ...]] = {}
    try:
        for _ in range(reader.length()):
            field = reader.name()
            values = tuple(Producer(reader.name(), reader.name()) for _ in range(reader.length()))
            fields[field] = values
    except MalformedError:
        pass
    return fields


def dwarf_sections(spans: tuple[SectionSpan, ...]) -> tuple[str, ...]:
    """The names of the DWARF debugging sections (``.debug_info``,
    ``.debug_line``, ...) the module carries."""
    return tuple(span.custom_name for span in spans
                 if span.custom_name is not None and span.custom_name.startswith(DWARF_PREFIX))
