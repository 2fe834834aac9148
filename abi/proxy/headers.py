"""``HeaderMap``: an HTTP header (or trailer, or gRPC metadata) map as Envoy
keeps one.

An ordered multimap of bytes: names are lower-cased on the way in (ASCII
only, like Envoy's ``LowerCaseString``), a name may appear several times,
and iteration keeps insertion order except that pseudo-headers
(``:method``, ``:status``...) stay in front, as Envoy's header maps keep
them.  Every method accepts ``str`` or ``bytes`` (text is UTF-8, see
``abi.wire.text``); reading answers text (``get``, ``items``) for the
Python API and bytes (``get_bytes``, ``wire_pairs``) for the host.

The operations are the ones the ABI maps onto:

* ``get`` – the first value (Envoy answers the first entry);
* ``add`` – one more entry, even if the name exists;
* ``replace`` – the first entry takes the value and later ones go (adds when
  absent);
* ``remove`` – every entry of the name;
* ``set_pairs`` – everything replaced.

``byte_size`` (names and values) and ``len`` are what the host's header
limits count (``abi.proxy.limits``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from abi.wire.pairs import encode_pairs, encoded_size
from abi.wire.text import as_bytes, ascii_lower, from_wire, readable

HeaderInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | None


class HeaderMap:
    __slots__ = ("_entries",)

    def __init__(self, headers: HeaderInput | HeaderMap = None) -> None:
        self._entries: list[tuple[bytes, bytes]] = []
        if headers is None:
            return
        if isinstance(headers, HeaderMap):
            self._entries = list(headers._entries)
            return
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            self.add(name, value)

    # --- reading ----------------------------------------------------------------

    def get_bytes(self, name: str | bytes) -> bytes | None:
        """The first value of ``name``, or ``None``."""
        key = _name(name)
        for entry_name, value in self._entries:
            if entry_name == key:
                return value
        return None

    def get(self, name: str | bytes) -> str | None:
        value = self.get_bytes(name)
        return None if value is None else from_wire(value)

    def get_all(self, name: str | bytes) -> list[str]:
        key = _name(name)
        return [from_wire(value) for entry_name, value in self._entries if entry_name == key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, (str, bytes)) and self.get_bytes(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return [(from_wire(name), from_wire(value)) for name, value in self._entries]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HeaderMap):
            return self._entries == other._entries
        return NotImplemented

    def __repr__(self) -> str:
        return f"HeaderMap({self.items()!r})"

    def copy(self) -> HeaderMap:
        return HeaderMap(self)

    def byte_size(self) -> int:
        """Bytes of names and values (what Envoy's ``byteSize`` counts)."""
        return sum(len(name) + len(value) for name, value in self._entries)

    # --- changing ---------------------------------------------------------------

    def add(self, name: str | bytes, value: str | bytes) -> None:
        key = _name(name)
        entry = (key, as_bytes(value))
        if key.startswith(b":"):
            position = 0
            while position < len(self._entries) and self._entries[position][0].startswith(b":"):
                position += 1
            self._entries.insert(position, entry)
        else:
            self._entries.append(entry)

    def replace(self, name: str | bytes, value: str | bytes) -> None:
        key = _name(name)
        data = as_bytes(value)
        for index, (entry_name, _) in enumerate(self._entries):
            if entry_name == key:
                self._entries[index] = (key, data)
                self._entries[index + 1:] = [e for e in self._entries[index + 1:] if e[0] != key]
                return
        self.add(key, data)

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
        return list(self._entries)

    def serialize(self) -> bytes:
        """The pairs encoding the guest receives."""
        return encode_pairs(self._entries)

    def serialized_size(self) -> int:
        return encoded_size(self._entries)

    def to_report(self) -> list[list[str]]:
        """``[[name, value], ...]`` with readable text (see ``abi.wire.text``)."""
        return [[readable(name), readable(value)] for name, value in self._entries]


def _name(name: str | bytes) -> bytes:
    return ascii_lower(as_bytes(name))
