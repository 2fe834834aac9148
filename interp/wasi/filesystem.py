"""The host directories a WASI guest is given, and how it sees into them.

Path resolution is the sandbox.  Every path a guest names is relative to a
directory descriptor and is walked here one component at a time, each
directory opened relative to the previous one (``openat``-style, with
``O_NOFOLLOW``), the way cap-std does it for wasmtime; the host's own path
resolution only ever sees a single name inside a directory already reached.
So the guest cannot get out of the directory it starts from: an absolute
path, a ``..`` above it, and a symbolic link that is absolute or leads above
it are all refused with PERM, which is what wasmtime answers today (its older
wasi-common said NOTCAPABLE; the WASI filesystem spec calls it
``not-permitted``).  A link swapped in while a path is being walked is not
followed (``O_NOFOLLOW``), so a race cannot lead out either.

What the guest sees of a file is deterministic: sizes, types and link counts
are the host's, but device and inode numbers are numbered in the order the
guest first meets them, and times are simulated: every file shows the
process clock's start time until the guest changes it, and then the
simulated time of the change (writes and truncations set the modification
and change times, creating a file sets all three, ``*_set_times`` set what
it asks for, in the guest's view only).  wasmtime shows the host's real
metadata instead; here the same directory contents and the same program give
byte-identical runs, whenever and wherever the files were checked out.
"""

from __future__ import annotations

import errno as host_errno
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from interp.wasi.clock import SimulatedClock
from interp.wasi.constants import FILESTAT_LAYOUTS, ApiVersion, ClockId, Errno, FileType
from interp.wasi.guest_memory import WasiErrorReturn

P = ParamSpec("P")
R = TypeVar("R")

MAX_SYMLINKS = 40
"""Symbolic links one resolution follows before answering LOOP (Linux's limit)."""

# getattr: hosts without these flags (Windows) have no preopens (SUPPORTED).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_WALK_FLAGS = _DIRECTORY_FLAGS | getattr(os, "O_PATH", 0)
"""Directories passed through are opened for lookups only (``O_PATH`` where
the host has it, so a directory one may search but not list still works)."""

SUPPORTED = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd
"""Whether this host can resolve paths relative to a directory descriptor,
which the sandbox needs (every POSIX system; not Windows)."""

HOST_ERRNOS: dict[int, Errno] = {
    number: Errno[name]
    for name in Errno.__members__
    if (number := getattr(host_errno, "E" + ("2BIG" if name == "TOO_BIG" else name), None)) is not None
}
"""Host ``errno`` values by the WASI errno of the same name."""


def errno_of(error: OSError) -> Errno:
    """The WASI errno for a host error (IO for one WASI has no name for)."""
    return HOST_ERRNOS.get(error.errno or 0, Errno.IO)


_FILE_TYPES = (
    (stat.S_ISREG, FileType.REGULAR_FILE),
    (stat.S_ISDIR, FileType.DIRECTORY),
    (stat.S_ISLNK, FileType.SYMBOLIC_LINK),
    (stat.S_ISCHR, FileType.CHARACTER_DEVICE),
    (stat.S_ISBLK, FileType.BLOCK_DEVICE),
    (stat.S_ISSOCK, FileType.SOCKET_STREAM),
)


def file_type(mode: int) -> FileType:
    """The WASI file type of a host ``st_mode`` (UNKNOWN for a FIFO)."""
    return next((filetype for is_type, filetype in _FILE_TYPES if is_type(mode)), FileType.UNKNOWN)


@dataclass(frozen=True)
class Target:
    """Where a resolved path leads: the name ``name`` in the directory open as
    ``directory`` (``"."`` when the path names that directory itself).
    ``must_be_directory``: the path ended with a slash."""

    directory: int
    name: str
    must_be_directory: bool = False


def decode_path(data: bytes) -> str:
    """A guest path: UTF-8 (else ILSEQ), without NUL (else INVAL)."""
    try:
        path = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WasiErrorReturn(Errno.ILSEQ) from None
    if "\0" in path:
        raise WasiErrorReturn(Errno.INVAL)
    return path


@contextmanager
def resolve(base: int, path: str, follow: bool) -> Iterator[Target]:
    """Walk ``path`` from the directory open as ``base`` and give the target
    for one operation; descriptors opened on the way are closed after it.

    ``follow``: a symbolic link as the last component is followed (the
    guest's ``LOOKUPFLAGS_SYMLINK_FOLLOW``; a trailing slash follows too);
    links before the last component are always followed.  Either way a link
    is followed by this walk, inside the sandbox, never by the host.
    """
    if not path:
        raise WasiErrorReturn(Errno.NOENT)
    if path.startswith("/"):
        raise WasiErrorReturn(Errno.PERM)
    must_be_directory = path.endswith("/")
    pending = deque(path.split("/"))
    stack = [base]
    links = 0
    try:
        while pending:
            part = pending.popleft()
            if part in ("", "."):
                continue
            if part == "..":
                if len(stack) == 1:
                    raise WasiErrorReturn(Errno.PERM)
                os.close(stack.pop())
                continue
            last = all(rest == "" for rest in pending)
            info = _lstat(stack[-1], part)
            if info is not None and stat.S_ISLNK(info.st_mode) and (not last or follow or must_be_directory):
                links += 1
                if links > MAX_SYMLINKS:
                    raise WasiErrorReturn(Errno.LOOP)
                target = host_call(os.readlink, part, dir_fd=stack[-1])
                if target.startswith("/"):
                    raise WasiErrorReturn(Errno.PERM)
                pending.extendleft(reversed(target.split("/")))
                continue
            if last:
                if must_be_directory and info is not None and not stat.S_ISDIR(info.st_mode):
                    raise WasiErrorReturn(Errno.NOTDIR)
                yield Target(stack[-1], part, must_be_directory)
                return
            if info is None:
                raise WasiErrorReturn(Errno.NOENT)
            if not stat.S_ISDIR(info.st_mode):
                raise WasiErrorReturn(Errno.NOTDIR)
            stack.append(host_call(os.open, part, _WALK_FLAGS, dir_fd=stack[-1]))
        yield Target(stack[-1], ".", True)
    finally:
        for descriptor in stack[1:]:
            os.close(descriptor)


def _lstat(directory: int, name: str) -> os.stat_result | None:
    """The entry ``name`` of ``directory`` itself (a link is not followed),
    ``None`` when there is none."""
    try:
        return os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise WasiErrorReturn(errno_of(error)) from None


def host_call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args, **kwargs)``, a host error becoming the guest's errno."""
    try:
        return function(*args, **kwargs)
    except OSError as error:
        raise WasiErrorReturn(errno_of(error)) from None


def open_directory(path: str) -> int:
    """A descriptor of the host directory ``path``, to preopen."""
    return os.open(path, _DIRECTORY_FLAGS & ~_NOFOLLOW)


@dataclass(frozen=True)
class Filestat:
    """A ``filestat`` record as the guest sees it (see the module docstring)."""

    dev: int
    ino: int
    filetype: FileType
    nlink: int
    size: int
    atim: int
    mtim: int
    ctim: int

    def encode(self, version: ApiVersion) -> bytes:
        layout = FILESTAT_LAYOUTS[version]
        record = bytearray(layout.size)
        record[layout.dev:layout.dev + 8] = self.dev.to_bytes(8, "little")
        record[layout.ino:layout.ino + 8] = self.ino.to_bytes(8, "little")
        record[layout.filetype] = self.filetype
        nlink = min(self.nlink, (1 << (8 * layout.nlink_width)) - 1)
        record[layout.nlink:layout.nlink + layout.nlink_width] = nlink.to_bytes(layout.nlink_width, "little")
        for offset, value in ((layout.file_size, self.size), (layout.atim, self.atim), (layout.mtim, self.mtim),
                              (layout.ctim, self.ctim)):
            record[offset:offset + 8] = value.to_bytes(8, "little")
        return bytes(record)


CHARACTER_DEVICE_STAT = Filestat(0, 0, FileType.CHARACTER_DEVICE, 1, 0, 0, 0, 0)
"""What ``fd_filestat_get`` shows for the standard streams."""


class FileViews:
    """The guest's deterministic view of host files: device and inode
    numbers in order of first sight, and simulated times (see the module
    docstring), kept for as long as the process lives."""

    def __init__(self, clock: SimulatedClock) -> None:
        self._clock = clock
        self._devices: dict[int, int] = {}
        self._inodes: dict[tuple[int, int], int] = {}
        self._times: dict[tuple[int, int], tuple[int, int, int]] = {}

    def now(self) -> int:
        """The simulated realtime clock, read without moving it."""
        return self._clock.now(ClockId.REALTIME)

    def stat(self, info: os.stat_result) -> Filestat:
        key = (info.st_dev, info.st_ino)
        dev = self._devices.setdefault(info.st_dev, len(self._devices) + 1)
        ino = self._inodes.setdefault(key, len(self._inodes) + 1)
        start = self._clock.start_time_ns
        atim, mtim, ctim = self._times.get(key, (start, start, start))
        return Filestat(dev, ino, file_type(info.st_mode), info.st_nlink, info.st_size, atim, mtim, ctim)

    def inode(self, info: os.stat_result) -> int:
        return self.stat(info).ino

    def created(self, info: os.stat_result) -> None:
        now = self.now()
        self._times[(info.st_dev, info.st_ino)] = (now, now, now)

    def modified(self, info: os.stat_result) -> None:
        current = self.stat(info)
        now = self.now()
        self._times[(info.st_dev, info.st_ino)] = (current.atim, now, now)

    def set_times(self, info: os.stat_result, atim: int | None, mtim: int | None) -> None:
        current = self.stat(info)
        self._times[(info.st_dev, info.st_ino)] = (
            current.atim if atim is None else atim, current.mtim if mtim is None else mtim, self.now())

    def forget(self, info: os.stat_result) -> None:
        """The file is gone (its last link removed): a new file the host puts
        at the same inode starts afresh."""
        self._times.pop((info.st_dev, info.st_ino), None)
