"""``HeaderMap``: an HTTP header (or trailer) map as Envoy keeps one.

An ordered multimap: names are lower-cased on the way in (ASCII only, like
Envoy's ``LowerCaseString``), a name may appear several times, and iteration
keeps insertion order except that pseudo-headers (``:method``, ``:status``...)
stay in front, as Envoy's header maps keep them.  Names and values are host
text (see ``abi.text``: undecodable bytes survive as surrogates), and every
method accepts ``str`` or ``bytes``.

The operations are the ones the ABI maps onto:

* ``get`` – the first value (Envoy answers the first entry);
* ``add`` – one more entry, even if the name exists;
* ``replace`` – the first entry takes the value and later ones go (adds when
  absent);
* ``remove`` – every entry of the name;
* ``set_pairs`` – everything replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from abi.wire.pairs import encode_pairs, encoded_size
from abi.wire.text import as_text, ascii_lower, readable, to_wire

HeaderInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | None


class HeaderMap:
    __slots__ = ("_entries",)

    def __init__(self, headers: HeaderInput | HeaderMap = None) -> None:
        self._entries: list[tuple[str, str]] = []
        if headers is None:
            return
        items = headers.items() if isinstance(headers, (Mapping, HeaderMap)) else headers
        for name, value in items:
            self.add(name, value)

    # --- reading ----------------------------------------------------------------

    def get(self, name: str | bytes) -> str | None:
        """The first value of ``name``, or ``None``."""
        key = _name(name)
        for entry_name, value in self._entries:
            if entry_name == key:
                return value
        return None

    def get_all(self, name: str | bytes) -> list[str]:
        key = _name(name)
        return [value for entry_name, value in self._entries if entry_name == key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, (str, bytes)) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HeaderMap):
            return self._entries == other._entries
        return NotImplemented

    def __repr__(self) -> str:
        return f"HeaderMap({self._entries!r})"

    def copy(self) -> HeaderMap:
        copy = HeaderMap()
        copy._entries = list(self._entries)
        return copy

    # --- changing ---------------------------------------------------------------

    def add(self, name: str | bytes, value: str | bytes) -> None:
        key = _name(name)
        entry = (key, as_text(value))
        if key.startswith(":"):
            position = 0
            while position < len(self._entries) and self._entries[position][0].startswith(":"):
                position += 1
            self._entries.insert(position, entry)
        else:
            self._entries.append(entry)

    def replace(self, name: str | bytes, value: str | bytes) -> None:
        key = _name(name)
        text = as_text(value)
        for index, (entry_name, _) in enumerate(self._entries):
            if entry_name == key:
                self._entries[index] = (key, text)
                self._entries[index + 1:] = [e for e in self._entries[index + 1:] if e[0] != key]
                return
        self.add(key, text)

    def remove(self, name: str | bytes) -> None:
        key = _name(name)
        self._entries = [entry for entry in self._entries if entry[0] != key]

    def set_pairs(self, pairs: Iterable[tuple[str | bytes, str | bytes]]) -> None:
        self._entries = []
        for name, value in pairs:
            self.add(name, value)

    def clear(self) -> None:
        self._entries = []

    # --- the wire ---------------------------------------------------------------

    def wire_pairs(self) -> list[tuple[bytes, bytes]]:
        return [(to_wire(name), to_wire(value)) for name, value in self._entries]

    def serialize(self) -> bytes:
        """The pairs encoding the guest receives."""
        return encode_pairs(self.wire_pairs())

    def serialized_size(self) -> int:
        return encoded_size(self.wire_pairs())

    def to_report(self) -> list[list[str]]:
        """``[[name, value], ...]`` with readable text (see ``abi.text``)."""
        return [[readable(name), readable(value)] for name, value in self._entries]


def _name(name: str | bytes) -> str:
    return ascii_lower(as_text(name))
