"""What a WASI guest is given: arguments, environment, standard streams,
preopened directories, a simulated clock and a seeded random source.
Nothing else of the host leaks in: no wall clock, no host environment, no
files outside the directories given (and of those, no host times or inode
numbers, see ``interp.wasi.filesystem``), no entropy; so the same
configuration, the same files and the same module give byte-identical runs."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, BinaryIO

from interp.errors import UsageError
from interp.wasi.constants import U32_MAX, U64_MAX

DEFAULT_START_TIME_NS = 1_704_067_200_000_000_000
"""2024-01-01T00:00:00Z: what the realtime clock first reads, unless configured."""

DEFAULT_CLOCK_TICK_NS = 1_000
"""How far the simulated time moves on each clock read: a microsecond, so a
guest that busy-waits on the clock still gets there (and time is never seen
to stand still), yet a thousand reads cost only a millisecond of guest time."""


class OutputMode(enum.Enum):
    """How an ``OutputSink`` receives what the guest writes."""

    BYTES = "bytes"
    """Every ``fd_write`` as it happens, as ``bytes``."""
    LINES = "lines"
    """Complete lines only, as ``str`` (UTF-8, undecodable bytes replaced,
    without the ``\\n``); the unfinished last line is delivered when the
    stream is flushed or closed, or the process exits."""
    WRITES = "writes"
    """Every non-empty ``fd_write`` as one ``str`` (decoded as in ``LINES``)
    with one trailing ``\\n`` removed: how Envoy (proxy-wasm-cpp-host) turns
    a plugin's stdout/stderr into log messages, one per write."""


@dataclass(frozen=True)
class OutputSink:
    """Where a guest's standard output or standard error goes.

    The proxy-wasm host turns output into log entries, hence ``lines`` (and
    ``per_write``, Envoy's own way); a command-line runner passes bytes
    straight through, hence ``raw``.
    """

    callback: Callable[[Any], None]
    mode: OutputMode = OutputMode.BYTES

    @classmethod
    def raw(cls, callback: Callable[[bytes], None]) -> OutputSink:
        return cls(callback, OutputMode.BYTES)

    @classmethod
    def lines(cls, callback: Callable[[str], None]) -> OutputSink:
        return cls(callback, OutputMode.LINES)

    @classmethod
    def per_write(cls, callback: Callable[[str], None]) -> OutputSink:
        return cls(callback, OutputMode.WRITES)


@dataclass(frozen=True)
class Preopen:
    """A host directory given to the guest, under the name ``guest`` (what
    wasi-libc matches paths against: ``/data``, or ``.``)."""

    host: str
    guest: str

    @classmethod
    def parse(cls, text: str) -> Preopen:
        """``HOST[::GUEST]``, as wasmtime's ``--dir`` takes it; without
        ``::GUEST`` the guest sees the directory under its host name."""
        host, separator, guest = text.partition("::")
        if not host or (separator and not guest):
            raise UsageError(f"--dir expects HOST or HOST::GUEST, got {text!r}")
        return cls(host, guest if separator else host)

    def __post_init__(self) -> None:
        _check_text(self.host, "preopened directory")
        _check_text(self.guest, "guest name of a preopened directory")
        if not self.guest:
            raise UsageError("the guest name of a preopened directory must not be empty")


@dataclass(frozen=True)
class WasiConfig:
    """The world a WASI guest sees.

    ``argv`` is passed whole (``argv[0]`` is conventionally the program's
    name); ``environment`` keeps its order, which is the order
    ``environ_get`` reports.  ``stdout``/``stderr`` of ``None`` discard the
    output; ``stdin`` is bytes, read once, after which the guest sees end of
    file, or a binary stream (``sys.stdin.buffer``) read when and as far as
    the guest reads it.  ``preopens`` are the directories the guest gets, as
    descriptors 3, 4, ... in this order.

    Time: realtime and monotonic clocks both start at ``start_time_ns`` (the
    monotonic clock's epoch is unspecified, and a non-zero start keeps guests
    that treat zero as "unset", like Go's runtime, happy); the CPU-time clocks
    start at zero.  All clocks share one simulated elapsed time, which moves
    only when the guest looks at it: each ``clock_time_get`` returns the
    current value and then advances it by ``clock_tick_ns``, and a
    ``poll_oneoff`` that sleeps advances it to the earliest deadline.

    ``random_get`` draws from ``random.Random(random_seed)``; with
    ``max_random_get_bytes`` set, a larger request is INVAL (Envoy allows
    64 KiB per call).
    """

    argv: Sequence[str] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    stdin: bytes | BinaryIO = b""
    stdout: OutputSink | None = None
    stderr: OutputSink | None = None
    start_time_ns: int = DEFAULT_START_TIME_NS
    clock_tick_ns: int = DEFAULT_CLOCK_TICK_NS
    random_seed: int = 0
    max_random_get_bytes: int | None = None
    preopens: Sequence[Preopen] = ()

    def __post_init__(self) -> None:
        if isinstance(self.argv, (str, bytes)):
            raise UsageError("argv must be a sequence of strings, not one string")
        argv = tuple(self.argv)
        for argument in argv:
            _check_text(argument, "argument")
        try:
            environment = dict(self.environment)
        except (TypeError, ValueError):
            raise UsageError("environment must be a mapping of names to values") from None
        for name, value in environment.items():
            _check_text(name, "environment variable name")
            _check_text(value, f"value of environment variable {name!r}")
            if not name or "=" in name:
                raise UsageError(f"environment variable name {name!r} must be non-empty and contain no '='")
        stdin = self.stdin
        if isinstance(stdin, (bytes, bytearray, memoryview)):
            stdin = bytes(stdin)
        elif not callable(getattr(stdin, "read", None)):
            raise UsageError("stdin must be bytes or a binary stream")
        preopens = tuple(self.preopens)
        if not all(isinstance(preopen, Preopen) for preopen in preopens):
            raise UsageError("preopens must be Preopen values")
        for label, sink in (("stdout", self.stdout), ("stderr", self.stderr)):
            if sink is not None and not isinstance(sink, OutputSink):
                raise UsageError(f"{label} must be an OutputSink or None")
        _check_integer(self.start_time_ns, "start_time_ns", U64_MAX)
        _check_integer(self.clock_tick_ns, "clock_tick_ns", U64_MAX)
        if not isinstance(self.random_seed, int) or isinstance(self.random_seed, bool):
            raise UsageError("random_seed must be an integer")
        if self.max_random_get_bytes is not None:
            _check_integer(self.max_random_get_bytes, "max_random_get_bytes", U32_MAX)
        object.__setattr__(self, "argv", argv)
        object.__setattr__(self, "environment", MappingProxyType(environment))
        object.__setattr__(self, "stdin", stdin)
        object.__setattr__(self, "preopens", preopens)

    def encoded_argv(self) -> tuple[bytes, ...]:
        """The arguments as the guest receives them: UTF-8, NUL-terminated."""
        return tuple(encode_text(argument) + b"\0" for argument in self.argv)

    def encoded_environment(self) -> tuple[bytes, ...]:
        """``NAME=VALUE`` strings, UTF-8, NUL-terminated, in order."""
        return tuple(encode_text(f"{name}={value}") + b"\0" for name, value in self.environment.items())


def encode_text(text: str) -> bytes:
    """UTF-8, with the undecodable bytes of command-line arguments (which
    Python keeps as lone surrogates) turned back into the original bytes."""
    return text.encode("utf-8", "surrogateescape")


def _check_text(text: object, what: str) -> None:
    if not isinstance(text, str):
        raise UsageError(f"{what} must be a string, not {type(text).__name__}")
    if "\0" in text:
        raise UsageError(f"{what} {text!r} contains a NUL character")
    try:
        encode_text(text)
    except UnicodeEncodeError:
        raise UsageError(f"{what} {text!r} cannot be encoded as UTF-8") from None


def _check_integer(value: object, what: str, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise UsageError(f"{what} must be an integer from 0 to {maximum}")
