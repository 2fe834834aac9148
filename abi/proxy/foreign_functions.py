"""Foreign functions: what ``proxy_call_foreign_function`` can call.

Envoy registers ``compress`` and ``uncompress`` (zlib, ``foreign.cc``);
they are built in here too.  A scenario's ``foreign_functions`` adds or
replaces functions by name with one of a few canned behaviours, and the
Python API registers any callable taking the argument bytes and returning
the result bytes (or a ``Status`` to answer instead).  An unknown name is
NOT_FOUND; ``uncompress`` of data that is not zlib is SERIALIZATION_FAILURE.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable

from abi.context_interface import StatusError
from abi.enums import Status
from abi.wire.text import from_wire, readable

ForeignFunction = Callable[[bytes], "bytes | Status"]


def _uncompress(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error as error:
        raise StatusError(Status.SERIALIZATION_FAILURE, f"not zlib data: {error}") from None


def _base64_decode(data: bytes) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise StatusError(Status.SERIALIZATION_FAILURE, f"not base64: {error}") from None


def _ascii_upper(data: bytes) -> bytes:
    return data.upper()


BUILT_IN: dict[str, ForeignFunction] = {
    "compress": zlib.compress,
    "uncompress": _uncompress,
}
"""Envoy's own foreign functions."""

CANNED: dict[str, ForeignFunction] = {
    "identity": bytes,
    "reverse": lambda data: data[::-1],
    "upper": _ascii_upper,
    "lower": lambda data: data.lower(),
    "base64_encode": base64.b64encode,
    "base64_decode": _base64_decode,
}
"""Behaviours a scenario can give a foreign function by name."""


def returning(result: bytes) -> ForeignFunction:
    """A function that always answers ``result``."""
    return lambda data: result


def answering(status: Status) -> ForeignFunction:
    """A function that always answers ``status``."""
    return lambda data: status


class ForeignFunctions:
    """The registry; ``abi.context_interface.ForeignFunctions`` for every
    context."""

    def __init__(self) -> None:
        self.functions: dict[str, ForeignFunction] = dict(BUILT_IN)

    def register(self, name: str, function: ForeignFunction) -> None:
        self.functions[name] = function

    def call(self, name: bytes, arguments: bytes) -> bytes:
        function = self.functions.get(from_wire(name))
        if function is None:
            raise StatusError(Status.NOT_FOUND, f"no foreign function {readable(name)!r}")
        result = function(bytes(arguments))
        if isinstance(result, Status):
            if result is Status.OK:
                return b""
            raise StatusError(result, f"foreign function {readable(name)!r} answered {result.name}")
        return bytes(result)
