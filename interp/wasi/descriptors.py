"""A WASI process's descriptor table: the standard streams, preopened
directories, and the files and directories the guest opens.

Each kind of descriptor answers the operations it supports and refuses the
others with the errno a POSIX host gives (seeking a stream is SPIPE), so the
functions in ``preview1`` and ``file_calls`` can treat every descriptor
alike.  Rights are checked before that: an operation whose right a
descriptor lacks is NOTCAPABLE, or BADF for reading and writing, as POSIX has
it (a directory, which has neither right, reads and writes as BADF, as in
wasmtime).
"""

from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # not a POSIX host: it has no files to give guests (see filesystem.SUPPORTED)
    fcntl = None  # type: ignore[assignment]

from interp.wasi.constants import STDERR, STDIN, STDOUT, Errno, FdFlags, FileType, Rights
from interp.wasi.filesystem import CHARACTER_DEVICE_STAT, Filestat, FileViews, host_call
from interp.wasi.guest_memory import WasiErrorReturn
from interp.wasi.streams import InputStream, OutputStream

MAX_DESCRIPTORS = 1024
"""Most descriptors one guest may have open (then NFILE): every open file or
directory holds a host descriptor, and a guest must not exhaust the host's."""


class Descriptor:
    """An open descriptor: what it may do (``rights``), what descriptors
    opened through it may do (``inheriting``), its flags."""

    filetype = FileType.UNKNOWN

    def __init__(self, rights: Rights, inheriting: Rights = Rights(0), flags: FdFlags = FdFlags(0)) -> None:
        self.rights = rights
        self.inheriting = inheriting
        self.flags = flags

    def require(self, needed: Rights, errno: Errno = Errno.NOTCAPABLE) -> None:
        if needed & ~self.rights:
            raise WasiErrorReturn(errno)

    def read(self, size: int) -> bytes:
        raise WasiErrorReturn(Errno.BADF)

    def write(self, data: bytes) -> int:
        raise WasiErrorReturn(Errno.BADF)

    def pread(self, size: int, offset: int) -> bytes:
        raise WasiErrorReturn(Errno.SPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise WasiErrorReturn(Errno.SPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise WasiErrorReturn(Errno.SPIPE)

    def readable_bytes(self) -> int:
        """What ``poll_oneoff`` reports as ready to read."""
        return 0

    def stat(self, views: FileViews) -> Filestat:
        return CHARACTER_DEVICE_STAT

    def sync(self, data_only: bool) -> None:
        raise WasiErrorReturn(Errno.INVAL)

    def close(self) -> None:
        """Release what the descriptor holds on the host."""


class StreamDescriptor(Descriptor):
    """Standard input, output or error: a character device that cannot seek
    (no FD_SEEK or FD_TELL: with a character device that is what makes
    wasi-libc's ``isatty`` say yes, and line-buffer stdout)."""

    filetype = FileType.CHARACTER_DEVICE
    READ_RIGHTS = Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.POLL_FD_READWRITE | Rights.FD_FILESTAT_GET
    WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.POLL_FD_READWRITE | Rights.FD_FILESTAT_GET

    def __init__(self, input: InputStream | None = None, output: OutputStream | None = None) -> None:
        super().__init__(self.READ_RIGHTS if input is not None else self.WRITE_RIGHTS)
        self.input = input
        self.output = output

    def read(self, size: int) -> bytes:
        if self.input is None:
            raise WasiErrorReturn(Errno.BADF)
        try:
            return self.input.read(size)
        except OSError:
            raise WasiErrorReturn(Errno.IO) from None

    def write(self, data: bytes) -> int:
        if self.output is None:
            raise WasiErrorReturn(Errno.BADF)
        try:
            self.output.write(data)
        except BrokenPipeError:  # the reader went away, as with `| head`
            raise WasiErrorReturn(Errno.PIPE) from None
        except OSError:
            raise WasiErrorReturn(Errno.IO) from None
        return len(data)

    def readable_bytes(self) -> int:
        if self.input is None:
            return 0
        try:
            return self.input.available()
        except OSError:
            return 0

    def close(self) -> None:
        if self.output is not None:
            self.output.flush()


class HostDescriptor(Descriptor):
    """A descriptor backed by a host descriptor (``host_fd``)."""

    def __init__(self, host_fd: int, rights: Rights, inheriting: Rights = Rights(0),
                 flags: FdFlags = FdFlags(0)) -> None:
        super().__init__(rights, inheriting, flags)
        self.host_fd = host_fd

    def host_stat(self) -> os.stat_result:
        return host_call(os.fstat, self.host_fd)

    def stat(self, views: FileViews) -> Filestat:
        return views.stat(self.host_stat())

    def sync(self, data_only: bool) -> None:
        host_call(os.fdatasync if data_only and hasattr(os, "fdatasync") else os.fsync, self.host_fd)

    def close(self) -> None:
        os.close(self.host_fd)


class FileDescriptor(HostDescriptor):
    """An open file (or any entry that is not a directory)."""

    filetype = FileType.REGULAR_FILE

    def __init__(self, host_fd: int, rights: Rights, flags: FdFlags, filetype: FileType) -> None:
        super().__init__(host_fd, rights, Rights(0), flags)
        self.filetype = filetype

    def read(self, size: int) -> bytes:
        return host_call(os.read, self.host_fd, size)

    def write(self, data: bytes) -> int:
        return host_call(os.write, self.host_fd, data)

    def pread(self, size: int, offset: int) -> bytes:
        return host_call(os.pread, self.host_fd, size, offset)

    def pwrite(self, data: bytes, offset: int) -> int:
        return host_call(os.pwrite, self.host_fd, data, offset)

    def seek(self, offset: int, whence: int) -> int:
        """Move the position (FD_SEEK), or only tell it (FD_TELL suffices)."""
        self.require(Rights.FD_TELL if offset == 0 and whence == os.SEEK_CUR else Rights.FD_SEEK)
        return host_call(os.lseek, self.host_fd, offset, whence)

    def readable_bytes(self) -> int:
        position = self.seek(0, os.SEEK_CUR)
        return max(0, self.host_stat().st_size - position)

    def set_append(self, append: bool) -> None:
        """Make every write go to the end of the file, or stop doing so."""
        if fcntl is None:
            raise WasiErrorReturn(Errno.NOTSUP)
        status = host_call(fcntl.fcntl, self.host_fd, fcntl.F_GETFL)
        status = status | os.O_APPEND if append else status & ~os.O_APPEND
        host_call(fcntl.fcntl, self.host_fd, fcntl.F_SETFL, status)


class DirectoryDescriptor(HostDescriptor):
    """An open directory; ``preopen_name`` is the guest's name for it when
    it was preopened (``fd_prestat_dir_name``)."""

    filetype = FileType.DIRECTORY

    def __init__(self, host_fd: int, rights: Rights, inheriting: Rights, flags: FdFlags = FdFlags(0),
                 preopen_name: bytes | None = None) -> None:
        super().__init__(host_fd, rights, inheriting, flags)
        self.preopen_name = preopen_name

    def seek(self, offset: int, whence: int) -> int:
        raise WasiErrorReturn(Errno.BADF)


class DescriptorTable:
    """Descriptor numbers to descriptors.  A new descriptor gets the lowest
    free number, as on POSIX (so after ``fd_close(3)`` the next open is 3)."""

    def __init__(self) -> None:
        self._open: dict[int, Descriptor] = {}

    def install_standard_streams(self, stdin: InputStream, stdout: OutputStream, stderr: OutputStream) -> None:
        self._open[STDIN] = StreamDescriptor(input=stdin)
        self._open[STDOUT] = StreamDescriptor(output=stdout)
        self._open[STDERR] = StreamDescriptor(output=stderr)

    def get(self, fd: int, needed: Rights = Rights(0), errno: Errno = Errno.NOTCAPABLE) -> Descriptor:
        """The open descriptor ``fd`` (BADF when there is none) with the
        ``needed`` rights (``errno`` when it lacks one)."""
        descriptor = self._open.get(fd)
        if descriptor is None:
            raise WasiErrorReturn(Errno.BADF)
        descriptor.require(needed, errno)
        return descriptor

    def directory(self, fd: int, needed: Rights) -> DirectoryDescriptor:
        """``fd`` as the directory a path is resolved from (NOTDIR when it is
        something else)."""
        descriptor = self.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor):
            raise WasiErrorReturn(Errno.NOTDIR)
        descriptor.require(needed)
        return descriptor

    def add(self, descriptor: Descriptor) -> int:
        if len(self._open) >= MAX_DESCRIPTORS:
            descriptor.close()
            raise WasiErrorReturn(Errno.NFILE)
        fd = next(number for number in range(len(self._open) + 1) if number not in self._open)
        self._open[fd] = descriptor
        return fd

    def close(self, fd: int) -> None:
        self.get(fd)
        self._open.pop(fd).close()

    def renumber(self, fd: int, to: int) -> None:
        """Move ``fd`` to ``to``, closing what ``to`` was (both must be open)."""
        self.get(fd)
        self.get(to)
        if fd == to:
            return
        self._open.pop(to).close()
        self._open[to] = self._open.pop(fd)

    def close_all(self) -> None:
        """Close every descriptor (the process is over)."""
        for fd in sorted(self._open):
            self._open.pop(fd).close()
        self._open.clear()
