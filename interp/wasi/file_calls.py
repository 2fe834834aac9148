"""The WASI preview1 functions over files, directories and paths:
``path_open`` and the other ``path_*`` functions, the preopened directories
(``fd_prestat_*``), and the descriptor functions only files and directories
have (``fd_readdir``, ``fd_pread``, ``fd_filestat_*``, ``fd_sync``, ...).

Every path goes through ``filesystem.resolve``, which keeps the guest inside
the directory the path starts from.  What the guest sees of times and inode
numbers is simulated (``filesystem.FileViews``).  Where POSIX leaves the
answer to the host, this host gives the answer Linux gives: the errno of the
host call, mapped by name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from interp.wasi.constants import (
    ADVICE_COUNT,
    DIRECTORY_RIGHTS,
    DIRENT_SIZE,
    FILE_RIGHTS,
    PREOPENTYPE_DIR,
    PRESTAT_SIZE,
    WRITE_RIGHTS,
    ApiVersion,
    Errno,
    FdFlags,
    FstFlags,
    LookupFlags,
    OFlags,
    Rights,
)
from interp.wasi.descriptors import (
    DescriptorTable,
    DirectoryDescriptor,
    FileDescriptor,
    HostDescriptor,
)
from interp.wasi.filesystem import FileViews, Target, decode_path, errno_of, file_type, host_call, resolve
from interp.wasi.guest_memory import GuestMemory, WasiErrorReturn

MAX_FILE_OFFSET = (1 << 63) - 1
"""Offsets and sizes beyond this do not fit the host's ``off_t``: INVAL."""

_ALL_RIGHTS = DIRECTORY_RIGHTS | FILE_RIGHTS
# getattr: hosts without these flags (Windows) have no preopens (filesystem.SUPPORTED).
_SYNC = getattr(os, "O_SYNC", 0)
_FDFLAG_OPEN_FLAGS = {
    FdFlags.APPEND: os.O_APPEND,
    FdFlags.DSYNC: getattr(os, "O_DSYNC", _SYNC),
    FdFlags.NONBLOCK: getattr(os, "O_NONBLOCK", 0),
    FdFlags.RSYNC: getattr(os, "O_RSYNC", _SYNC),
    FdFlags.SYNC: _SYNC,
}
_OFLAG_OPEN_FLAGS = {OFlags.CREAT: os.O_CREAT, OFlags.DIRECTORY: getattr(os, "O_DIRECTORY", 0),
                     OFlags.EXCL: os.O_EXCL, OFlags.TRUNC: os.O_TRUNC}
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_ADVICE = tuple(getattr(os, f"POSIX_FADV_{name}", None)
                for name in ("NORMAL", "SEQUENTIAL", "RANDOM", "WILLNEED", "DONTNEED", "NOREUSE"))


class FileCalls:
    """The file functions of one process, over its descriptor table."""

    def __init__(self, descriptors: DescriptorTable, views: FileViews) -> None:
        self.descriptors = descriptors
        self.views = views

    def implementations(self, version: ApiVersion) -> dict[str, Callable[..., Errno]]:
        def fd_filestat_get(memory: GuestMemory, fd: int, out: int) -> Errno:
            return self.fd_filestat_get(memory, fd, out, version)

        def path_filestat_get(memory: GuestMemory, fd: int, flags: int, path: int, length: int,
                              out: int) -> Errno:
            return self.path_filestat_get(memory, fd, flags, path, length, out, version)

        return {
            "fd_advise": self.fd_advise,
            "fd_allocate": self.fd_allocate,
            "fd_datasync": self.fd_datasync,
            "fd_fdstat_set_rights": self.fd_fdstat_set_rights,
            "fd_filestat_get": fd_filestat_get,
            "fd_filestat_set_size": self.fd_filestat_set_size,
            "fd_filestat_set_times": self.fd_filestat_set_times,
            "fd_pread": self.fd_pread,
            "fd_prestat_dir_name": self.fd_prestat_dir_name,
            "fd_prestat_get": self.fd_prestat_get,
            "fd_pwrite": self.fd_pwrite,
            "fd_readdir": self.fd_readdir,
            "fd_renumber": self.fd_renumber,
            "fd_sync": self.fd_sync,
            "path_create_directory": self.path_create_directory,
            "path_filestat_get": path_filestat_get,
            "path_filestat_set_times": self.path_filestat_set_times,
            "path_link": self.path_link,
            "path_open": self.path_open,
            "path_readlink": self.path_readlink,
            "path_remove_directory": self.path_remove_directory,
            "path_rename": self.path_rename,
            "path_symlink": self.path_symlink,
            "path_unlink_file": self.path_unlink_file,
        }

    # --- preopened directories ------------------------------------------------------------

    def _preopen_name(self, fd: int) -> bytes:
        descriptor = self.descriptors.get(fd)
        if not isinstance(descriptor, DirectoryDescriptor) or descriptor.preopen_name is None:
            raise WasiErrorReturn(Errno.BADF)
        return descriptor.preopen_name

    def fd_prestat_get(self, memory: GuestMemory, fd: int, out: int) -> Errno:
        name = self._preopen_name(fd)
        record = bytearray(PRESTAT_SIZE)
        record[0] = PREOPENTYPE_DIR
        record[4:8] = len(name).to_bytes(4, "little")
        memory.write(out, bytes(record))
        return Errno.SUCCESS

    def fd_prestat_dir_name(self, memory: GuestMemory, fd: int, path: int, length: int) -> Errno:
        name = self._preopen_name(fd)
        if length < len(name):
            return Errno.NAMETOOLONG
        memory.write(path, name)
        return Errno.SUCCESS

    # --- opening ------------------------------------------------------------------------------

    def path_open(self, memory: GuestMemory, fd: int, dirflags: int, path: int, length: int, oflags: int,
                  rights_base: int, rights_inheriting: int, fdflags: int, fd_out: int) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_OPEN)
        if oflags & ~sum(OFlags) or fdflags & ~sum(FdFlags) or dirflags & ~sum(LookupFlags):
            return Errno.INVAL
        open_flags, file_flags = OFlags(oflags), FdFlags(fdflags)
        if OFlags.CREAT in open_flags and OFlags.DIRECTORY in open_flags:
            return Errno.INVAL
        if OFlags.CREAT in open_flags:
            directory.require(Rights.PATH_CREATE_FILE)
        if OFlags.TRUNC in open_flags:
            directory.require(Rights.PATH_FILESTAT_SET_SIZE)
        name = decode_path(memory.read(path, length))
        memory.check(fd_out, 4)
        base = Rights(rights_base & _ALL_RIGHTS) & directory.inheriting
        inheriting = Rights(rights_inheriting & _ALL_RIGHTS) & directory.inheriting
        reading, writing = Rights.FD_READ in base, bool(base & WRITE_RIGHTS)
        if OFlags.TRUNC in open_flags and not writing:  # POSIX leaves it open; a read-only open never truncates
            return Errno.INVAL
        access = os.O_RDWR if reading and writing else os.O_WRONLY if writing else os.O_RDONLY
        flags = access | _OPEN_FLAGS
        flags |= sum(host for flag, host in _OFLAG_OPEN_FLAGS.items() if flag in open_flags)
        flags |= sum(host for flag, host in _FDFLAG_OPEN_FLAGS.items() if flag in file_flags)
        with resolve(directory.host_fd, name, bool(dirflags & LookupFlags.SYMLINK_FOLLOW)) as target:
            before = _entry(target)
            if before is not None and stat.S_ISFIFO(before.st_mode):
                flags |= _FDFLAG_OPEN_FLAGS[FdFlags.NONBLOCK]  # a FIFO would wait for a writer: never block
            host_fd = host_call(os.open, target.name, flags, 0o666, dir_fd=target.directory)
            info = os.fstat(host_fd)
            if before is None:
                self.views.created(info)
                self._entries_changed(target)
            elif OFlags.TRUNC in open_flags and stat.S_ISREG(info.st_mode):
                self.views.modified(info)
        if stat.S_ISDIR(info.st_mode):
            opened: HostDescriptor = DirectoryDescriptor(host_fd, base & DIRECTORY_RIGHTS, inheriting, file_flags)
        else:
            opened = FileDescriptor(host_fd, base & FILE_RIGHTS, file_flags, file_type(info.st_mode))
        memory.write_u32(fd_out, self.descriptors.add(opened))
        return Errno.SUCCESS

    def _entries_changed(self, target: Target) -> None:
        """An entry of ``target``'s directory was added, removed or renamed:
        the directory's modification time moves."""
        self.views.modified(os.stat(".", dir_fd=target.directory))

    # --- reading and writing at an offset ---------------------------------------------------------

    def fd_pread(self, memory: GuestMemory, fd: int, iovecs: int, count: int, offset: int, read_out: int) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_READ, Errno.BADF)
        buffers = memory.iovecs(iovecs, count)
        memory.check(read_out, 4)
        _check_offset(offset)
        data = descriptor.pread(sum(length for _, length in buffers), offset)
        memory.scatter(buffers, data)
        memory.write_u32(read_out, len(data))
        return Errno.SUCCESS

    def fd_pwrite(self, memory: GuestMemory, fd: int, iovecs: int, count: int, offset: int,
                  written_out: int) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_WRITE, Errno.BADF)
        buffers = memory.iovecs(iovecs, count)
        memory.check(written_out, 4)
        _check_offset(offset)
        written = descriptor.pwrite(memory.gather(buffers), offset)
        self.written(descriptor)
        memory.write_u32(written_out, written)
        return Errno.SUCCESS

    def written(self, descriptor: object) -> None:
        """``descriptor`` was written to (here or by ``fd_write``): a file's
        modification time moves."""
        if isinstance(descriptor, FileDescriptor):
            self.views.modified(descriptor.host_stat())

    # --- file state ---------------------------------------------------------------------------------

    def fd_filestat_get(self, memory: GuestMemory, fd: int, out: int, version: ApiVersion) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_FILESTAT_GET)
        memory.write(out, descriptor.stat(self.views).encode(version))
        return Errno.SUCCESS

    def fd_filestat_set_size(self, memory: GuestMemory, fd: int, size: int) -> Errno:
        descriptor = self._file(fd, Rights.FD_FILESTAT_SET_SIZE)
        _check_offset(size)
        host_call(os.ftruncate, descriptor.host_fd, size)
        self.views.modified(descriptor.host_stat())
        return Errno.SUCCESS

    def fd_filestat_set_times(self, memory: GuestMemory, fd: int, atim: int, mtim: int, flags: int) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_FILESTAT_SET_TIMES)
        if not isinstance(descriptor, HostDescriptor):
            return Errno.BADF
        access, modification = self._times(atim, mtim, flags)
        self.views.set_times(descriptor.host_stat(), access, modification)
        return Errno.SUCCESS

    def _times(self, atim: int, mtim: int, flags: int) -> tuple[int | None, int | None]:
        """The access and modification times ``*_set_times`` asks for
        (``None``: leave it); asking for a time and "now" at once is INVAL."""
        if flags & ~sum(FstFlags):
            raise WasiErrorReturn(Errno.INVAL)
        given = FstFlags(flags)
        if (FstFlags.ATIM in given and FstFlags.ATIM_NOW in given) or \
                (FstFlags.MTIM in given and FstFlags.MTIM_NOW in given):
            raise WasiErrorReturn(Errno.INVAL)
        now = self.views.now()
        access = atim if FstFlags.ATIM in given else now if FstFlags.ATIM_NOW in given else None
        modification = mtim if FstFlags.MTIM in given else now if FstFlags.MTIM_NOW in given else None
        return access, modification

    def fd_advise(self, memory: GuestMemory, fd: int, offset: int, length: int, advice: int) -> Errno:
        descriptor = self._file(fd, Rights.FD_ADVISE)
        if advice >= ADVICE_COUNT:
            return Errno.INVAL
        _check_offset(offset)
        _check_offset(length)
        host_advice = _ADVICE[advice]
        if host_advice is not None and hasattr(os, "posix_fadvise"):
            host_call(os.posix_fadvise, descriptor.host_fd, offset, length, host_advice)
        return Errno.SUCCESS

    def fd_allocate(self, memory: GuestMemory, fd: int, offset: int, length: int) -> Errno:
        descriptor = self._file(fd, Rights.FD_ALLOCATE)
        _check_offset(offset)
        _check_offset(length)
        if offset + length > MAX_FILE_OFFSET:
            return Errno.FBIG
        size = descriptor.host_stat().st_size
        if offset + length > size:  # only ever grows the file, as posix_fallocate
            host_call(os.ftruncate, descriptor.host_fd, offset + length)
            self.views.modified(descriptor.host_stat())
        return Errno.SUCCESS

    def fd_sync(self, memory: GuestMemory, fd: int) -> Errno:
        self.descriptors.get(fd, Rights.FD_SYNC).sync(data_only=False)
        return Errno.SUCCESS

    def fd_datasync(self, memory: GuestMemory, fd: int) -> Errno:
        self.descriptors.get(fd, Rights.FD_DATASYNC).sync(data_only=True)
        return Errno.SUCCESS

    def fd_renumber(self, memory: GuestMemory, fd: int, to: int) -> Errno:
        self.descriptors.renumber(fd, to)
        return Errno.SUCCESS

    def fd_fdstat_set_rights(self, memory: GuestMemory, fd: int, rights: int, inheriting: int) -> Errno:
        """Rights can be dropped, never gained."""
        descriptor = self.descriptors.get(fd)
        if rights & ~descriptor.rights or inheriting & ~descriptor.inheriting:
            return Errno.NOTCAPABLE
        descriptor.rights, descriptor.inheriting = Rights(rights), Rights(inheriting)
        return Errno.SUCCESS

    def _file(self, fd: int, needed: Rights) -> FileDescriptor:
        descriptor = self.descriptors.get(fd, needed)
        if not isinstance(descriptor, FileDescriptor):
            raise WasiErrorReturn(Errno.BADF)
        return descriptor

    # --- directories ------------------------------------------------------------------------------

    def fd_readdir(self, memory: GuestMemory, fd: int, buffer: int, length: int, cookie: int,
                   used_out: int) -> Errno:
        """Entries from position ``cookie`` on, as many as fit; the last one
        may be cut short (a full buffer tells the guest to ask again from its
        cookie with a larger one).  ``.`` and ``..`` come first, then the
        entries sorted by name, so every listing of a directory is the same."""
        descriptor = self.descriptors.get(fd, Rights.FD_READDIR)
        if not isinstance(descriptor, DirectoryDescriptor):
            return Errno.NOTDIR
        memory.check(buffer, length)
        memory.check(used_out, 4)
        names = [b".", b".."] + sorted(os.fsencode(name) for name in host_call(os.listdir, descriptor.host_fd))
        out = bytearray()
        for position in range(min(cookie, len(names)), len(names)):
            if len(out) >= length:
                break
            try:
                info = os.stat(names[position], dir_fd=descriptor.host_fd, follow_symlinks=False)
            except FileNotFoundError:  # removed since it was listed
                continue
            except OSError as error:
                raise WasiErrorReturn(errno_of(error)) from None
            name = names[position]
            header = bytearray(DIRENT_SIZE)
            header[0:8] = (position + 1).to_bytes(8, "little")
            header[8:16] = self.views.inode(info).to_bytes(8, "little")
            header[16:20] = len(name).to_bytes(4, "little")
            header[20] = file_type(info.st_mode)
            out += header + name
        used = min(len(out), length)
        memory.write(buffer, bytes(out[:used]))
        memory.write_u32(used_out, used)
        return Errno.SUCCESS

    def path_create_directory(self, memory: GuestMemory, fd: int, path: int, length: int) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_CREATE_DIRECTORY)
        name = decode_path(memory.read(path, length))
        with resolve(directory.host_fd, name, follow=False) as target:
            host_call(os.mkdir, target.name, 0o777, dir_fd=target.directory)
            self.views.created(os.stat(target.name, dir_fd=target.directory, follow_symlinks=False))
            self._entries_changed(target)
        return Errno.SUCCESS

    def path_remove_directory(self, memory: GuestMemory, fd: int, path: int, length: int) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_REMOVE_DIRECTORY)
        name = decode_path(memory.read(path, length))
        with resolve(directory.host_fd, name, follow=False) as target:
            info = _existing_entry(target)
            host_call(os.rmdir, target.name, dir_fd=target.directory)
            self.views.forget(info)
            self._entries_changed(target)
        return Errno.SUCCESS

    def path_unlink_file(self, memory: GuestMemory, fd: int, path: int, length: int) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_UNLINK_FILE)
        name = decode_path(memory.read(path, length))
        with resolve(directory.host_fd, name, follow=False) as target:
            info = _existing_entry(target)
            if stat.S_ISDIR(info.st_mode):
                return Errno.ISDIR
            host_call(os.unlink, target.name, dir_fd=target.directory)
            if info.st_nlink <= 1:
                self.views.forget(info)
            self._entries_changed(target)
        return Errno.SUCCESS

    # --- entries by path ---------------------------------------------------------------------------

    def path_filestat_get(self, memory: GuestMemory, fd: int, flags: int, path: int, length: int, out: int,
                          version: ApiVersion) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_FILESTAT_GET)
        name = decode_path(memory.read(path, length))
        with resolve(directory.host_fd, name, bool(flags & LookupFlags.SYMLINK_FOLLOW)) as target:
            info = _existing_entry(target)
        memory.write(out, self.views.stat(info).encode(version))
        return Errno.SUCCESS

    def path_filestat_set_times(self, memory: GuestMemory, fd: int, flags: int, path: int, length: int,
                                atim: int, mtim: int, fst_flags: int) -> Errno:
        directory = self.descriptors.directory(fd, Rights.PATH_FILESTAT_SET_TIMES)
        name = decode_path(memory.read(path, length))
        access, modification = self._times(atim, mtim, fst_flags)
        with resolve(directory.host_fd, name, bool(flags & LookupFlags.SYMLINK_FOLLOW)) as target:
            info = _existing_entry(target)
        self.views.set_times(info, access, modification)
        return Errno.SUCCESS

    def path_rename(self, memory: GuestMemory, fd: int, old_path: int, old_length: int, new_fd: int,
                    new_path: int, new_length: int) -> Errno:
        source = self.descriptors.directory(fd, Rights.PATH_RENAME_SOURCE)
        destination = self.descriptors.directory(new_fd, Rights.PATH_RENAME_TARGET)
        old_name = decode_path(memory.read(old_path, old_length))
        new_name = decode_path(memory.read(new_path, new_length))
        with resolve(source.host_fd, old_name, follow=False) as old, \
                resolve(destination.host_fd, new_name, follow=False) as new:
            replaced = _entry(new)
            host_call(os.rename, old.name, new.name, src_dir_fd=old.directory, dst_dir_fd=new.directory)
            if replaced is not None and replaced.st_nlink <= 1:
                self.views.forget(replaced)
            self._entries_changed(old)
            self._entries_changed(new)
        return Errno.SUCCESS

    def path_link(self, memory: GuestMemory, old_fd: int, old_flags: int, old_path: int, old_length: int,
                  new_fd: int, new_path: int, new_length: int) -> Errno:
        source = self.descriptors.directory(old_fd, Rights.PATH_LINK_SOURCE)
        destination = self.descriptors.directory(new_fd, Rights.PATH_LINK_TARGET)
        old_name = decode_path(memory.read(old_path, old_length))
        new_name = decode_path(memory.read(new_path, new_length))
        follow = bool(old_flags & LookupFlags.SYMLINK_FOLLOW)
        with resolve(source.host_fd, old_name, follow) as old, \
                resolve(destination.host_fd, new_name, follow=False) as new:
            host_call(os.link, old.name, new.name, src_dir_fd=old.directory, dst_dir_fd=new.directory,
                      follow_symlinks=False)
            self._entries_changed(new)
        return Errno.SUCCESS

    def path_symlink(self, memory: GuestMemory, old_path: int, old_length: int, fd: int, new_path: int,
                     new_length: int) -> Errno:
        """A link's contents are never resolved here, but an absolute one
        could only ever lead out, so it is refused (PERM, as wasmtime)."""
        directory = self.descriptors.directory(fd, Rights.PATH_SYMLINK)
        contents = decode_path(memory.read(old_path, old_length))
        new_name = decode_path(memory.read(new_path, new_length))
        if contents.startswith("/"):
            return Errno.PERM
        with resolve(directory.host_fd, new_name, follow=False) as target:
            host_call(os.symlink, contents, target.name, dir_fd=target.directory)
            self._entries_changed(target)
        return Errno.SUCCESS

    def path_readlink(self, memory: GuestMemory, fd: int, path: int, length: int, buffer: int, buffer_length: int,
                      used_out: int) -> Errno:
        """The link's contents, cut to the buffer (as POSIX ``readlink``)."""
        directory = self.descriptors.directory(fd, Rights.PATH_READLINK)
        name = decode_path(memory.read(path, length))
        memory.check(buffer, buffer_length)
        memory.check(used_out, 4)
        with resolve(directory.host_fd, name, follow=False) as target:
            contents = os.fsencode(host_call(os.readlink, target.name, dir_fd=target.directory))
        memory.write(buffer, contents[:buffer_length])
        memory.write_u32(used_out, min(len(contents), buffer_length))
        return Errno.SUCCESS


def _entry(target: Target) -> os.stat_result | None:
    try:
        return os.stat(target.name, dir_fd=target.directory, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise WasiErrorReturn(errno_of(error)) from None


def _existing_entry(target: Target) -> os.stat_result:
    info = _entry(target)
    if info is None:
        raise WasiErrorReturn(Errno.NOENT)
    return info


def _check_offset(value: int) -> None:
    if value > MAX_FILE_OFFSET:
        raise WasiErrorReturn(Errno.INVAL)

