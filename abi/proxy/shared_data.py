"""Shared data: a key-value store per ``vm_id`` with compare-and-swap, as
proxy-wasm-cpp-host keeps it (``src/shared_data.cc``).

* ``get`` answers the value and its cas, or NOT_FOUND;
* ``set`` with cas 0 writes unconditionally; with another cas it writes only
  if that is the key's current cas, else CAS_MISMATCH; a key that does not
  exist yet is created whatever the cas;
* every write gives the key a new cas from one counter of the whole proxy,
  starting at 1 (0 is never a cas).

Values a scenario gives (``shared_data``) are written first, in order.
"""

from __future__ import annotations

from abi.context_interface import LimitExceeded, StatusError
from abi.enums import Status
from abi.wire.text import readable


class SharedDataStore:
    """``max_bytes`` bounds the keys and values of one vm_id (``abi.proxy.limits``)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: dict[bytes, dict[bytes, tuple[bytes, int]]] = {}
        self._sizes: dict[bytes, int] = {}
        self._next_cas = 1

    def _cas(self) -> int:
        cas = self._next_cas
        self._next_cas = self._next_cas + 1 if self._next_cas < 0xFFFF_FFFF else 1
        return cas

    def get(self, vm_id: bytes, key: bytes) -> tuple[bytes, int]:
        entry = self._data.get(vm_id, {}).get(key)
        if entry is None:
            raise StatusError(Status.NOT_FOUND, f"no shared data {readable(key)!r} in vm {readable(vm_id)!r}")
        return entry

    def set(self, vm_id: bytes, key: bytes, value: bytes, cas: int) -> None:
        entries = self._data.setdefault(vm_id, {})
        current = entries.get(key)
        if current is not None and cas and cas != current[1]:
            raise StatusError(Status.CAS_MISMATCH, f"cas {cas} is not the current {current[1]}")
        grown = len(value) - len(current[0]) if current is not None else len(key) + len(value)
        size = self._sizes.get(vm_id, 0) + grown
        if size > self.max_bytes:
            raise LimitExceeded("max_shared_data_bytes", f"shared data of vm {readable(vm_id)!r} would hold "
                                                         f"{size} bytes, more than {self.max_bytes}")
        self._sizes[vm_id] = size
        entries[key] = (bytes(value), self._cas())

    def report(self) -> dict[str, dict[str, dict[str, object]]]:
        """``{vm_id: {key: {"value", "cas"}}}``, sorted by vm id and key."""
        return {readable(vm_id): {readable(key): {"value": readable(value), "cas": cas}
                                  for key, (value, cas) in sorted(self._data[vm_id].items())}
                for vm_id in sorted(self._data)}


class VmSharedData:
    """``abi.context_interface.SharedData`` for the contexts of one VM."""

    def __init__(self, store: SharedDataStore, vm_id: bytes) -> None:
        self.store = store
        self.vm_id = vm_id

    def get(self, key: bytes) -> tuple[bytes, int]:
        return self.store.get(self.vm_id, key)

    def set(self, key: bytes, value: bytes, cas: int) -> None:
        self.store.set(self.vm_id, key, value, cas)
