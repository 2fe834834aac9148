"""The numbers of WASI preview1 (``wasi_snapshot_preview1.witx`` and its
``typenames.witx``): errno values, clocks, file types, flags, rights, and the
byte layouts of the records the host reads and writes in guest memory.

``wasi_unstable`` (the older snapshot 0) lowers every function to the same
core types, but some records differ.  The one this host reads is
``subscription`` (snapshot 0 has an extra ``identifier`` field), ``filestat``
(snapshot 0's link count is 32 bits wide) and the order of ``whence``; both
forms of each are here, selected by ``ApiVersion``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

PREVIEW1_MODULE = "wasi_snapshot_preview1"
UNSTABLE_MODULE = "wasi_unstable"
WASI_MODULE_NAMES: tuple[str, ...] = (PREVIEW1_MODULE, UNSTABLE_MODULE)

STDIN, STDOUT, STDERR = 0, 1, 2

U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


class ApiVersion(enum.Enum):
    """Which of the two module names a guest imported a function under."""

    PREVIEW1 = PREVIEW1_MODULE
    UNSTABLE = UNSTABLE_MODULE


class Errno(enum.IntEnum):
    """``errno``: every WASI function but ``proc_exit`` returns one."""

    SUCCESS = 0
    TOO_BIG = 1  # "2big"
    ACCES = 2
    ADDRINUSE = 3
    ADDRNOTAVAIL = 4
    AFNOSUPPORT = 5
    AGAIN = 6
    ALREADY = 7
    BADF = 8
    BADMSG = 9
    BUSY = 10
    CANCELED = 11
    CHILD = 12
    CONNABORTED = 13
    CONNREFUSED = 14
    CONNRESET = 15
    DEADLK = 16
    DESTADDRREQ = 17
    DOM = 18
    DQUOT = 19
    EXIST = 20
    FAULT = 21
    FBIG = 22
    HOSTUNREACH = 23
    IDRM = 24
    ILSEQ = 25
    INPROGRESS = 26
    INTR = 27
    INVAL = 28
    IO = 29
    ISCONN = 30
    ISDIR = 31
    LOOP = 32
    MFILE = 33
    MLINK = 34
    MSGSIZE = 35
    MULTIHOP = 36
    NAMETOOLONG = 37
    NETDOWN = 38
    NETRESET = 39
    NETUNREACH = 40
    NFILE = 41
    NOBUFS = 42
    NODEV = 43
    NOENT = 44
    NOEXEC = 45
    NOLCK = 46
    NOLINK = 47
    NOMEM = 48
    NOMSG = 49
    NOPROTOOPT = 50
    NOSPC = 51
    NOSYS = 52
    NOTCONN = 53
    NOTDIR = 54
    NOTEMPTY = 55
    NOTRECOVERABLE = 56
    NOTSOCK = 57
    NOTSUP = 58
    NOTTY = 59
    NXIO = 60
    OVERFLOW = 61
    OWNERDEAD = 62
    PERM = 63
    PIPE = 64
    PROTO = 65
    PROTONOSUPPORT = 66
    PROTOTYPE = 67
    RANGE = 68
    ROFS = 69
    SPIPE = 70
    SRCH = 71
    STALE = 72
    TIMEDOUT = 73
    TXTBSY = 74
    XDEV = 75
    NOTCAPABLE = 76


class ClockId(enum.IntEnum):
    REALTIME = 0
    MONOTONIC = 1
    PROCESS_CPUTIME_ID = 2
    THREAD_CPUTIME_ID = 3


class FileType(enum.IntEnum):
    UNKNOWN = 0
    BLOCK_DEVICE = 1
    CHARACTER_DEVICE = 2
    DIRECTORY = 3
    REGULAR_FILE = 4
    SOCKET_DGRAM = 5
    SOCKET_STREAM = 6
    SYMBOLIC_LINK = 7


class FdFlags(enum.IntFlag):
    APPEND = 1 << 0
    DSYNC = 1 << 1
    NONBLOCK = 1 << 2
    RSYNC = 1 << 3
    SYNC = 1 << 4


ALL_FD_FLAGS = FdFlags.APPEND | FdFlags.DSYNC | FdFlags.NONBLOCK | FdFlags.RSYNC | FdFlags.SYNC


class Rights(enum.IntFlag):
    FD_DATASYNC = 1 << 0
    FD_READ = 1 << 1
    FD_SEEK = 1 << 2
    FD_FDSTAT_SET_FLAGS = 1 << 3
    FD_SYNC = 1 << 4
    FD_TELL = 1 << 5
    FD_WRITE = 1 << 6
    FD_ADVISE = 1 << 7
    FD_ALLOCATE = 1 << 8
    PATH_CREATE_DIRECTORY = 1 << 9
    PATH_CREATE_FILE = 1 << 10
    PATH_LINK_SOURCE = 1 << 11
    PATH_LINK_TARGET = 1 << 12
    PATH_OPEN = 1 << 13
    FD_READDIR = 1 << 14
    PATH_READLINK = 1 << 15
    PATH_RENAME_SOURCE = 1 << 16
    PATH_RENAME_TARGET = 1 << 17
    PATH_FILESTAT_GET = 1 << 18
    PATH_FILESTAT_SET_SIZE = 1 << 19
    PATH_FILESTAT_SET_TIMES = 1 << 20
    FD_FILESTAT_GET = 1 << 21
    FD_FILESTAT_SET_SIZE = 1 << 22
    FD_FILESTAT_SET_TIMES = 1 << 23
    PATH_SYMLINK = 1 << 24
    PATH_REMOVE_DIRECTORY = 1 << 25
    PATH_UNLINK_FILE = 1 << 26
    POLL_FD_READWRITE = 1 << 27
    SOCK_SHUTDOWN = 1 << 28
    SOCK_ACCEPT = 1 << 29


DIRECTORY_RIGHTS = (
    Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_ADVISE | Rights.PATH_CREATE_DIRECTORY
    | Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE | Rights.PATH_LINK_TARGET | Rights.PATH_OPEN
    | Rights.FD_READDIR | Rights.PATH_READLINK | Rights.PATH_RENAME_SOURCE | Rights.PATH_RENAME_TARGET
    | Rights.PATH_FILESTAT_GET | Rights.PATH_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_TIMES
    | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_TIMES | Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY
    | Rights.PATH_UNLINK_FILE
)
"""What a directory descriptor can do at most (a preopened one has all of it)."""

FILE_RIGHTS = (
    Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC
    | Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_GET
    | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES | Rights.POLL_FD_READWRITE
)
"""What a regular file's descriptor can do at most."""

WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_DATASYNC | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE
"""Rights asked for in ``path_open`` that make the host open a file for
writing (as wasmtime decides); ``FD_READ`` makes it open it for reading."""


class OFlags(enum.IntFlag):
    """``path_open``'s open flags."""

    CREAT = 1 << 0
    DIRECTORY = 1 << 1
    EXCL = 1 << 2
    TRUNC = 1 << 3


class LookupFlags(enum.IntFlag):
    SYMLINK_FOLLOW = 1 << 0


class FstFlags(enum.IntFlag):
    """Which timestamps ``*_filestat_set_times`` sets, and whether to "now"."""

    ATIM = 1 << 0
    ATIM_NOW = 1 << 1
    MTIM = 1 << 2
    MTIM_NOW = 1 << 3


class Whence(enum.Enum):
    SET = "set"
    CUR = "cur"
    END = "end"


WHENCE_CODES: dict[ApiVersion, dict[int, Whence]] = {
    ApiVersion.PREVIEW1: {0: Whence.SET, 1: Whence.CUR, 2: Whence.END},
    ApiVersion.UNSTABLE: {0: Whence.CUR, 1: Whence.END, 2: Whence.SET},
}
"""``whence`` values: snapshot 0 lists them in another order."""

ADVICE_COUNT = 6
"""``advice`` values are 0 (normal) to 5 (noreuse)."""

PREOPENTYPE_DIR = 0


class EventType(enum.IntEnum):
    CLOCK = 0
    FD_READ = 1
    FD_WRITE = 2


class SubclockFlags(enum.IntFlag):
    SUBSCRIPTION_CLOCK_ABSTIME = 1 << 0


class EventRwFlags(enum.IntFlag):
    FD_READWRITE_HANGUP = 1 << 0


# --- record layouts (byte offsets and sizes, little-endian) -------------------

IOVEC_SIZE = 8  # iovec / ciovec: buf u32 @0, buf_len u32 @4
FDSTAT_SIZE = 24  # filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16
EVENT_SIZE = 32  # userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
PRESTAT_SIZE = 8  # tag u8 @0, then for a directory its name's length u32 @4
DIRENT_SIZE = 24  # d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; the name follows


@dataclass(frozen=True)
class FilestatLayout:
    """Where the fields of a ``filestat`` record are: snapshot 0's ``nlink``
    is a u32, which moves everything after it."""

    size: int
    nlink: int
    nlink_width: int
    file_size: int
    atim: int
    mtim: int
    ctim: int
    dev: int = 0
    ino: int = 8
    filetype: int = 16


FILESTAT_LAYOUTS = {
    ApiVersion.PREVIEW1: FilestatLayout(size=64, nlink=24, nlink_width=8, file_size=32, atim=40, mtim=48, ctim=56),
    ApiVersion.UNSTABLE: FilestatLayout(size=56, nlink=20, nlink_width=4, file_size=24, atim=32, mtim=40, ctim=48),
}


@dataclass(frozen=True)
class SubscriptionLayout:
    """Where the fields of a ``subscription`` record are.  The variant's tag
    is at 8 in both versions; snapshot 0's clock payload starts with an extra
    u64 ``identifier``, which shifts the rest by 8 bytes."""

    size: int
    tag: int
    clock_id: int
    timeout: int
    precision: int
    flags: int
    fd: int


SUBSCRIPTION_LAYOUTS = {
    ApiVersion.PREVIEW1: SubscriptionLayout(size=48, tag=8, clock_id=16, timeout=24, precision=32,
                                            flags=40, fd=16),
    ApiVersion.UNSTABLE: SubscriptionLayout(size=56, tag=8, clock_id=24, timeout=32, precision=40,
                                            flags=48, fd=16),
}
