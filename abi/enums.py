"""The numbers of the proxy-wasm ABI (spec ``abi-versions/v0.2.1``), as IntEnums.

Values are the spec's; the names used in traces and reports are the enum
member names, so a trace reads ``"map": "REQUEST_HEADERS"`` instead of ``0``.
"""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """``proxy_status_t``: what every ``proxy_*`` host function returns.
    ``BAD_EXPRESSION``, ``RESULT_MISMATCH`` and ``BROKEN_CONNECTION`` are not in
    the 0.2.1 list but are used by Envoy (a failed HTTP call reports
    ``BROKEN_CONNECTION`` through ``proxy_get_status``)."""

    OK = 0
    NOT_FOUND = 1
    BAD_ARGUMENT = 2
    SERIALIZATION_FAILURE = 3
    PARSE_FAILURE = 4
    BAD_EXPRESSION = 5
    INVALID_MEMORY_ACCESS = 6
    EMPTY = 7
    CAS_MISMATCH = 8
    RESULT_MISMATCH = 9
    INTERNAL_FAILURE = 10
    BROKEN_CONNECTION = 11
    UNIMPLEMENTED = 12


class Action(enum.IntEnum):
    """``proxy_action_t``: what a stream callback answers."""

    CONTINUE = 0
    PAUSE = 1


class LogLevel(enum.IntEnum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        """The lower-case name used in reports (``"info"``)."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> LogLevel:
        """``"warn"`` or ``"WARN"`` (also ``"warning"``) to ``LogLevel.WARN``;
        ``ValueError`` for anything else."""
        name = label.strip().upper()
        if name == "WARNING":
            name = "WARN"
        try:
            return cls[name]
        except KeyError:
            raise ValueError(f"unknown log level {label!r}") from None


class BufferType(enum.IntEnum):
    REQUEST_BODY = 0
    RESPONSE_BODY = 1
    DOWNSTREAM_DATA = 2
    UPSTREAM_DATA = 3
    HTTP_CALL_RESPONSE_BODY = 4
    GRPC_RECEIVE_BUFFER = 5
    VM_CONFIGURATION = 6
    PLUGIN_CONFIGURATION = 7
    FOREIGN_FUNCTION_ARGUMENTS = 8


class MapType(enum.IntEnum):
    REQUEST_HEADERS = 0
    REQUEST_TRAILERS = 1
    RESPONSE_HEADERS = 2
    RESPONSE_TRAILERS = 3
    GRPC_INITIAL_METADATA = 4
    GRPC_TRAILING_METADATA = 5
    HTTP_CALL_RESPONSE_HEADERS = 6
    HTTP_CALL_RESPONSE_TRAILERS = 7


class StreamType(enum.IntEnum):
    REQUEST = 0
    RESPONSE = 1
    DOWNSTREAM = 2
    UPSTREAM = 3


class PeerType(enum.IntEnum):
    UNKNOWN = 0
    LOCAL = 1
    REMOTE = 2


class MetricType(enum.IntEnum):
    COUNTER = 0
    GAUGE = 1
    HISTOGRAM = 2


class AbiVersion(enum.Enum):
    """The ABI versions this host runs, keyed by the marker export that
    advertises them (``proxy_abi_version_0_2_1``)."""

    V0_2_0 = "0.2.0"
    V0_2_1 = "0.2.1"

    @property
    def marker(self) -> str:
        return "proxy_abi_version_" + self.value.replace(".", "_")


class FailurePolicy(enum.Enum):
    """What a stream does when a plugin has failed (trapped, ran out of fuel,
    returned nonsense, or never started): ``FAIL_CLOSE`` ends the stream with a
    503 local reply (Envoy's default), ``FAIL_OPEN`` skips the plugin,
    ``FAIL_RELOAD`` ends the failing stream as ``FAIL_CLOSE`` does and gives
    the next stream a fresh VM (Envoy's FAIL_RELOAD)."""

    FAIL_CLOSE = "fail_close"
    FAIL_OPEN = "fail_open"
    FAIL_RELOAD = "fail_reload"
