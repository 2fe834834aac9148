"""Decoding the ``name`` custom section (spec appendix 7.4, with the
subsections of the extended-name-section proposal) into :class:`Names`.
(``interp.binary.encode`` writes it back, using the ids defined here.)

Names are informative only: a module with a broken name section is still a
well-formed module.  So decoding never raises; a subsection that cannot be
decoded completely is dropped as a whole (partial maps would be misleading),
and decoding stops at a subsection header that cannot be read.
"""

from __future__ import annotations

from interp.binary.reader import ByteReader
from interp.errors import MalformedError
from interp.syntax.module import Names

SECTION_NAME = "name"

MODULE_NAME = 0
FUNCTION_NAMES = 1
LOCAL_NAMES = 2
LABEL_NAMES = 3
TYPE_NAMES = 4
TABLE_NAMES = 5
MEMORY_NAMES = 6
GLOBAL_NAMES = 7
ELEM_NAMES = 8
DATA_NAMES = 9
FIELD_NAMES = 10
TAG_NAMES = 11

NAME_MAP_FIELDS: dict[int, str] = {
    FUNCTION_NAMES: "funcs",
    TYPE_NAMES: "types",
    TABLE_NAMES: "tables",
    MEMORY_NAMES: "memories",
    GLOBAL_NAMES: "globals",
    ELEM_NAMES: "elems",
    DATA_NAMES: "datas",
    TAG_NAMES: "tags",
}
"""Subsections holding a plain index -> name map, by the ``Names`` field they fill."""


def _read_name_map(reader: ByteReader) -> dict[int, str]:
    names: dict[int, str] = {}
    for _ in range(reader.length()):
        index = reader.u32()
        names[index] = reader.name()
    return names


def _read_indirect_name_map(reader: ByteReader) -> dict[int, dict[int, str]]:
    names: dict[int, dict[int, str]] = {}
    for _ in range(reader.length()):
        index = reader.u32()
        names[index] = _read_name_map(reader)
    return names


def _decode_subsection(subsection_id: int, content: bytes) -> tuple[str, object] | None:
    """The ``Names`` field and value a subsection provides, or ``None`` when
    it is one we do not keep or cannot decode."""
    reader = ByteReader(content)
    field: str
    value: object
    try:
        if subsection_id == MODULE_NAME:
            field, value = "module", reader.name()
        elif subsection_id == LOCAL_NAMES:
            field, value = "locals", _read_indirect_name_map(reader)
        elif subsection_id == FIELD_NAMES:
            field, value = "fields", _read_indirect_name_map(reader)
        elif subsection_id in NAME_MAP_FIELDS:
            field, value = NAME_MAP_FIELDS[subsection_id], _read_name_map(reader)
        else:
            return None
    except MalformedError:
        return None
    if not reader.at_end():
        return None
    return field, value


def decode_names(payload: bytes) -> Names:
    """Decode the content of a ``name`` custom section (after its name).
    Never raises: whatever cannot be decoded is left out."""
    reader = ByteReader(payload)
    fields: dict[str, object] = {}
    while not reader.at_end():
        try:
            subsection_id = reader.byte()
            content = reader.bytes(reader.length())
        except MalformedError:
            break
        decoded = _decode_subsection(subsection_id, content)
        if decoded is not None and decoded[0] not in fields:
            fields[decoded[0]] = decoded[1]
    return Names(**fields)  # type: ignore[arg-type]


def has_names(names: Names) -> bool:
    return names.module is not None or any(
        getattr(names, field) for field in ("locals", "fields", *NAME_MAP_FIELDS.values()))
