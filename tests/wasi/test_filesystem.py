"""The WASI filesystem, function by function, called from wasm against a
preopened temporary directory: preopens, path_open and what it opens,
reading and writing, directories and their listings, metadata as the guest
sees it (deterministic), links, every escape route refused, the snapshot-0
record layouts, and the host's descriptors released at the end."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from interp.errors import UsageError
from interp.wasi import DEFAULT_START_TIME_NS, Errno, Preopen, WasiConfig, WasiProcess
from interp.wasi.constants import DIRECTORY_RIGHTS, FILE_RIGHTS, FileType, Rights
from interp.wasi import descriptors
from interp.wasi.descriptors import MAX_DESCRIPTORS
from interp.wasi.streams import InputStream
from tests.wasi.conftest import EVERY_CALL, Guest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="preopened directories need a POSIX host")

SUCCESS = Errno.SUCCESS
SANDBOX = 3
FOLLOW = 1
CREAT, DIRECTORY, EXCL, TRUNC = 1, 2, 4, 8
READ = Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_READDIR
WRITE = Rights.FD_WRITE | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_SET_SIZE
PATH, OUT, BUFFER, IOVEC = 1000, 2000, 4000, 3000


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    root = tmp_path / "sandbox"
    (root / "sub").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"hello, world")
    (tmp_path / "outside.txt").write_bytes(b"secret")
    return root


@pytest.fixture
def guest(make_guest, sandbox: Path) -> Guest:
    return make_guest(WasiConfig(preopens=(Preopen(str(sandbox), "/sandbox"),)), module=EVERY_CALL)


def open_path(guest: Guest, path: str, oflags: int = 0, rights: int = READ, fdflags: int = 0,
              dirflags: int = 0, directory: int = SANDBOX) -> tuple[int, int]:
    """``path_open``: the errno and the new descriptor."""
    pointer, length = guest.put_string(PATH, path)
    errno = guest.call("path_open", directory, dirflags, pointer, length, oflags, int(rights),
                       int(rights), fdflags, OUT)
    return errno, guest.u32(OUT) if errno == SUCCESS else -1


def on_path(guest: Guest, function: str, path: str, *rest: int, directory: int = SANDBOX) -> int:
    pointer, length = guest.put_string(PATH, path)
    return guest.call(function, directory, pointer, length, *rest)


def read_all(guest: Guest, fd: int, size: int = 64) -> tuple[int, bytes]:
    guest.put_u32s(IOVEC, BUFFER, size)
    errno = guest.call("fd_read", fd, IOVEC, 1, OUT)
    return errno, guest.read(BUFFER, guest.u32(OUT)) if errno == SUCCESS else b""


def write_all(guest: Guest, fd: int, data: bytes) -> int:
    guest.write(BUFFER, data)
    guest.put_u32s(IOVEC, BUFFER, len(data))
    return guest.call("fd_write", fd, IOVEC, 1, OUT)


# --- preopens ------------------------------------------------------------------------------


def test_preopens_are_descriptors_from_3_with_their_guest_names(make_guest, sandbox: Path) -> None:
    guest = make_guest(WasiConfig(preopens=(Preopen(str(sandbox), "/sandbox"), Preopen(str(sandbox / "sub"), "."))),
                       module=EVERY_CALL)
    assert guest.call("fd_prestat_get", 3, 100) == SUCCESS
    assert (guest.read(100, 1), guest.u32(104)) == (b"\0", len("/sandbox"))
    assert guest.call("fd_prestat_dir_name", 3, 200, 8) == SUCCESS
    assert guest.read(200, 8) == b"/sandbox"
    assert guest.call("fd_prestat_dir_name", 3, 200, 7) == Errno.NAMETOOLONG
    assert guest.call("fd_prestat_get", 4, 100) == SUCCESS and guest.u32(104) == 1
    assert guest.call("fd_prestat_get", 5, 100) == Errno.BADF
    assert guest.call("fd_prestat_get", 1, 100) == Errno.BADF  # open, but no preopen
    guest.write(300, b"\xaa" * 24)
    assert guest.call("fd_fdstat_get", 3, 300) == SUCCESS
    filetype, flags, base, inheriting = struct.unpack_from("<BxHxxxxQQ", guest.memory, 300)
    assert (filetype, flags, base, inheriting) == (FileType.DIRECTORY, 0, DIRECTORY_RIGHTS,
                                                   DIRECTORY_RIGHTS | FILE_RIGHTS)


def test_a_missing_preopen_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot preopen .*missing: No such file or directory"):
        WasiProcess(WasiConfig(preopens=(Preopen(str(tmp_path / "missing"), "/x"),)))
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot preopen .*file: Not a directory"):
        WasiProcess(WasiConfig(preopens=(Preopen(str(tmp_path / "file"), "/x"),)))


@pytest.mark.parametrize("text, preopen", [
    ("data", Preopen("data", "data")),
    ("data::/srv", Preopen("data", "/srv")),
    ("/tmp/x::.", Preopen("/tmp/x", ".")),
])
def test_dir_option_syntax(text: str, preopen: Preopen) -> None:
    assert Preopen.parse(text) == preopen


@pytest.mark.parametrize("text", ["", "::/x", "data::"])
def test_bad_dir_options(text: str) -> None:
    with pytest.raises(UsageError, match="--dir expects HOST or HOST::GUEST"):
        Preopen.parse(text)


# --- opening, reading, writing ---------------------------------------------------------------


def test_open_read_seek_and_tell(guest: Guest) -> None:
    errno, fd = open_path(guest, "hello.txt")
    assert (errno, fd) == (SUCCESS, 4)
    assert read_all(guest, fd, 5) == (SUCCESS, b"hello")
    assert guest.call("fd_tell", fd, OUT) == SUCCESS and guest.u64(OUT) == 5
    assert guest.call("fd_seek", fd, -5 & (2**64 - 1), 2, OUT) == SUCCESS and guest.u64(OUT) == 7  # from the end
    assert read_all(guest, fd) == (SUCCESS, b"world")
    assert read_all(guest, fd) == (SUCCESS, b"")  # end of file
    assert guest.call("fd_seek", fd, -100 & (2**64 - 1), 1, OUT) == Errno.INVAL
    assert guest.call("fd_seek", fd, 0, 3, OUT) == Errno.INVAL  # no such whence
    assert write_all(guest, fd, b"x") == Errno.BADF  # opened for reading only
    assert guest.call("fd_close", fd) == SUCCESS
    assert read_all(guest, fd) == (Errno.BADF, b"")


def test_create_write_append_and_truncate(guest: Guest, sandbox: Path) -> None:
    errno, fd = open_path(guest, "new.txt", CREAT | EXCL, WRITE)
    assert errno == SUCCESS
    assert write_all(guest, fd, b"first") == SUCCESS and guest.u32(OUT) == 5
    assert open_path(guest, "new.txt", CREAT | EXCL, WRITE)[0] == Errno.EXIST
    errno, appender = open_path(guest, "new.txt", 0, WRITE | Rights.FD_FDSTAT_SET_FLAGS, fdflags=1)  # APPEND
    assert errno == SUCCESS
    assert guest.call("fd_seek", appender, 0, 0, OUT) == SUCCESS
    assert write_all(guest, appender, b"+more") == SUCCESS
    assert sandbox.joinpath("new.txt").read_bytes() == b"first+more"
    assert guest.call("fd_fdstat_set_flags", appender, 0) == SUCCESS  # appending no more
    assert guest.call("fd_seek", appender, 0, 0, OUT) == SUCCESS
    assert write_all(guest, appender, b"F") == SUCCESS
    assert sandbox.joinpath("new.txt").read_bytes() == b"First+more"
    assert guest.call("fd_filestat_set_size", fd, 3) == SUCCESS
    assert sandbox.joinpath("new.txt").read_bytes() == b"Fir"
    assert open_path(guest, "new.txt", TRUNC, WRITE)[0] == SUCCESS
    assert sandbox.joinpath("new.txt").read_bytes() == b""


def test_pread_and_pwrite_leave_the_position(guest: Guest, sandbox: Path) -> None:
    errno, fd = open_path(guest, "hello.txt", 0, READ | WRITE)
    assert errno == SUCCESS
    guest.put_u32s(IOVEC, BUFFER, 3, BUFFER + 10, 2)  # two buffers
    assert guest.call("fd_pread", fd, IOVEC, 2, 7, OUT) == SUCCESS
    assert guest.u32(OUT) == 5 and guest.read(BUFFER, 3) + guest.read(BUFFER + 10, 2) == b"world"
    guest.write(BUFFER, b"HELLO")
    guest.put_u32s(IOVEC, BUFFER, 5)
    assert guest.call("fd_pwrite", fd, IOVEC, 1, 0, OUT) == SUCCESS
    assert guest.call("fd_tell", fd, OUT) == SUCCESS and guest.u64(OUT) == 0
    assert sandbox.joinpath("hello.txt").read_bytes() == b"HELLO, world"
    assert guest.call("fd_pread", fd, IOVEC, 1, 2**63, OUT) == Errno.INVAL
    assert guest.call("fd_pread", 0, IOVEC, 1, 0, OUT) == Errno.SPIPE  # stdin has no offsets
    assert guest.call("fd_pread", SANDBOX, IOVEC, 1, 0, OUT) == Errno.BADF  # no FD_READ on a directory


def test_open_flags_and_rights_are_checked(guest: Guest) -> None:
    assert open_path(guest, "hello.txt", 16)[0] == Errno.INVAL  # no such oflag
    assert open_path(guest, "hello.txt", fdflags=32)[0] == Errno.INVAL
    assert open_path(guest, "hello.txt", dirflags=2)[0] == Errno.INVAL
    assert open_path(guest, "x", CREAT | DIRECTORY)[0] == Errno.INVAL
    assert open_path(guest, "hello.txt", TRUNC, READ)[0] == Errno.INVAL  # truncating without writing
    assert open_path(guest, "hello.txt", DIRECTORY)[0] == Errno.NOTDIR
    assert open_path(guest, "sub", 0, WRITE)[0] == Errno.ISDIR
    assert open_path(guest, "missing")[0] == Errno.NOENT
    assert open_path(guest, "hello.txt/x")[0] == Errno.NOTDIR
    assert open_path(guest, "hello.txt", directory=1)[0] == Errno.NOTDIR  # stdout is no directory
    assert open_path(guest, "hello.txt", directory=9)[0] == Errno.BADF
    guest.write(PATH, b"\xff")
    assert guest.call("path_open", SANDBOX, 0, PATH, 1, 0, 0, 0, 0, OUT) == Errno.ILSEQ
    guest.write(PATH, b"a\0b")
    assert guest.call("path_open", SANDBOX, 0, PATH, 3, 0, 0, 0, 0, OUT) == Errno.INVAL
    assert guest.call("path_open", SANDBOX, 0, 0xFFFF, 4, 0, 0, 0, 0, OUT) == Errno.FAULT
    assert guest.call("path_open", SANDBOX, 0, PATH, 1, 0, 0, 0, 0, 0xFFFF) == Errno.FAULT


def test_opened_descriptors_get_the_rights_asked_for_within_the_directory(guest: Guest) -> None:
    errno, fd = open_path(guest, "hello.txt", 0, READ | Rights.PATH_OPEN)  # a directory right: dropped
    assert errno == SUCCESS
    assert guest.call("fd_fdstat_get", fd, 300) == SUCCESS
    filetype, _, base, inheriting = struct.unpack_from("<BxHxxxxQQ", guest.memory, 300)
    assert (filetype, base, inheriting) == (FileType.REGULAR_FILE, READ & FILE_RIGHTS, 0)
    assert guest.call("fd_fdstat_set_rights", fd, int(Rights.FD_READ), 0) == SUCCESS  # dropping is fine
    assert guest.call("fd_tell", fd, OUT) == Errno.NOTCAPABLE
    assert guest.call("fd_fdstat_set_rights", fd, int(Rights.FD_READ | Rights.FD_SEEK), 0) == Errno.NOTCAPABLE
    errno, sub = open_path(guest, "sub", DIRECTORY, Rights.PATH_OPEN)
    assert errno == SUCCESS
    assert open_path(guest, "x", CREAT, WRITE, directory=sub)[0] == Errno.NOTCAPABLE  # no PATH_CREATE_FILE


def test_descriptors_take_the_lowest_free_number_and_renumber(guest: Guest) -> None:
    first, second = open_path(guest, "hello.txt")[1], open_path(guest, "sub", DIRECTORY)[1]
    assert (first, second) == (4, 5)
    assert guest.call("fd_close", first) == SUCCESS
    assert open_path(guest, "hello.txt")[1] == 4
    assert guest.call("fd_renumber", 4, 5) == SUCCESS
    assert guest.call("fd_fdstat_get", 4, 300) == Errno.BADF
    assert guest.call("fd_fdstat_get", 5, 300) == SUCCESS and guest.read(300, 1)[0] == FileType.REGULAR_FILE
    assert guest.call("fd_renumber", 5, 9) == Errno.BADF
    assert guest.call("fd_renumber", 9, 5) == Errno.BADF


def test_a_guest_cannot_hold_more_than_its_share_of_host_descriptors(guest: Guest, monkeypatch) -> None:
    assert MAX_DESCRIPTORS == 1024
    monkeypatch.setattr(descriptors, "MAX_DESCRIPTORS", 10)  # the same rule, without holding 1024 host files
    opened = [open_path(guest, "hello.txt") for _ in range(10 - 4)]
    assert [fd for _, fd in opened] == list(range(4, 10))
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    assert open_path(guest, "hello.txt")[0] == Errno.NFILE
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before  # the host file opened was closed again


def test_a_fifo_opens_without_waiting_for_a_writer(guest: Guest, sandbox: Path) -> None:
    os.mkfifo(sandbox / "pipe")
    errno, fd = open_path(guest, "pipe")
    assert errno == SUCCESS
    assert read_all(guest, fd) == (SUCCESS, b"")


# --- directories ---------------------------------------------------------------------------------


def test_create_list_and_remove_directories(guest: Guest, sandbox: Path) -> None:
    assert on_path(guest, "path_create_directory", "made") == SUCCESS
    assert on_path(guest, "path_create_directory", "made") == Errno.EXIST
    assert on_path(guest, "path_create_directory", "missing/deeper") == Errno.NOENT
    assert (sandbox / "made").is_dir()
    (sandbox / "made" / "file").write_text("x")
    assert on_path(guest, "path_remove_directory", "made") == Errno.NOTEMPTY
    assert on_path(guest, "path_unlink_file", "made") == Errno.ISDIR
    assert on_path(guest, "path_remove_directory", "made/file") == Errno.NOTDIR
    assert on_path(guest, "path_unlink_file", "made/file/") == Errno.NOTDIR
    assert on_path(guest, "path_unlink_file", "made/file") == SUCCESS
    assert on_path(guest, "path_remove_directory", "made/") == SUCCESS
    assert not (sandbox / "made").exists()
    assert on_path(guest, "path_remove_directory", ".") == Errno.INVAL
    assert (sandbox / "sub").is_dir()


def entries(guest: Guest, fd: int, cookie: int = 0, size: int = 4096) -> list[tuple[int, str, int]]:
    """``fd_readdir``'s complete entries: (d_next, name, type)."""
    assert guest.call("fd_readdir", fd, BUFFER, size, cookie, OUT) == SUCCESS
    data = guest.read(BUFFER, guest.u32(OUT))
    found = []
    while len(data) >= 24:
        next_cookie, _, length, kind = struct.unpack_from("<QQIB", data)
        if len(data) < 24 + length:
            break
        found.append((next_cookie, data[24:24 + length].decode(), kind))
        data = data[24 + length:]
    return found


def test_readdir_lists_dot_entries_then_names_in_order(guest: Guest, sandbox: Path) -> None:
    for name in ("zeta", "alpha", "Mid"):
        (sandbox / name).write_text(name)
    os.symlink("alpha", sandbox / "link")
    errno, fd = open_path(guest, ".", DIRECTORY)
    assert errno == SUCCESS
    listing = entries(guest, fd)
    assert [(name, kind) for _, name, kind in listing] == [
        (".", FileType.DIRECTORY), ("..", FileType.DIRECTORY), ("Mid", FileType.REGULAR_FILE),
        ("alpha", FileType.REGULAR_FILE), ("hello.txt", FileType.REGULAR_FILE),
        ("link", FileType.SYMBOLIC_LINK), ("sub", FileType.DIRECTORY), ("zeta", FileType.REGULAR_FILE)]
    assert [cookie for cookie, _, _ in listing] == list(range(1, 9))
    assert [name for _, name, _ in entries(guest, fd, cookie=6)] == ["sub", "zeta"]
    assert entries(guest, fd, cookie=8) == []
    assert guest.call("fd_readdir", fd, BUFFER, 30, 0, OUT) == SUCCESS
    assert guest.u32(OUT) == 30  # full: the second entry is cut short, ask again from its cookie
    assert guest.read(BUFFER + 24, 1) == b"."  # the first entry, whole
    assert guest.read(BUFFER + 25, 5) == (2).to_bytes(8, "little")[:5]  # the start of the second one's header
    assert guest.call("fd_readdir", 4, BUFFER, 100, 0, OUT) == SUCCESS  # the same descriptor again
    assert guest.call("fd_readdir", 1, BUFFER, 100, 0, OUT) == Errno.NOTCAPABLE
    _, file = open_path(guest, "hello.txt")
    assert guest.call("fd_readdir", file, BUFFER, 100, 0, OUT) == Errno.NOTCAPABLE


def test_reading_a_directory_descriptor(guest: Guest) -> None:
    _, fd = open_path(guest, "sub", DIRECTORY, READ)
    assert read_all(guest, fd) == (Errno.BADF, b"")
    assert write_all(guest, fd, b"x") == Errno.BADF
    assert guest.call("fd_seek", fd, 0, 0, OUT) == Errno.BADF


# --- metadata ------------------------------------------------------------------------------------------


def filestat(guest: Guest, address: int = OUT) -> tuple[int, ...]:
    return struct.unpack_from("<QQBxxxxxxxQQQQQ", guest.memory, address)


def test_filestat_is_the_hosts_size_with_simulated_identity_and_times(guest: Guest, sandbox: Path) -> None:
    pointer, length = guest.put_string(PATH, "hello.txt")
    assert guest.call("path_filestat_get", SANDBOX, 0, pointer, length, OUT) == SUCCESS
    start = DEFAULT_START_TIME_NS
    dev, ino, kind, nlink, size, atim, mtim, ctim = filestat(guest)
    assert (dev, kind, nlink, size, atim, mtim, ctim) == (1, FileType.REGULAR_FILE, 1, 12, start, start, start)
    first_ino = ino
    pointer, length = guest.put_string(PATH, "sub")
    assert guest.call("path_filestat_get", SANDBOX, 0, pointer, length, OUT) == SUCCESS
    assert filestat(guest)[1:3] == (first_ino + 1, FileType.DIRECTORY)  # numbered as first met
    _, fd = open_path(guest, "hello.txt", 0, READ | WRITE | Rights.FD_FILESTAT_SET_TIMES)
    assert guest.call("fd_filestat_get", fd, OUT) == SUCCESS
    assert filestat(guest)[1] == first_ino
    assert guest.call("clock_time_get", 0, 1, 500) == SUCCESS  # the clock moves on by a tick
    assert write_all(guest, fd, b"!") == SUCCESS
    assert guest.call("fd_filestat_get", fd, OUT) == SUCCESS
    assert filestat(guest)[5:] == (start, start + 1_000, start + 1_000)
    assert guest.call("fd_filestat_set_times", fd, 5, 7, 1 | 4) == SUCCESS  # ATIM | MTIM
    assert guest.call("fd_filestat_get", fd, OUT) == SUCCESS
    assert filestat(guest)[5:7] == (5, 7)
    assert guest.call("fd_filestat_set_times", fd, 5, 7, 1 | 2) == Errno.INVAL  # ATIM and ATIM_NOW
    assert guest.call("fd_filestat_set_times", fd, 5, 7, 16) == Errno.INVAL
    pointer, length = guest.put_string(PATH, "hello.txt")
    assert guest.call("path_filestat_set_times", SANDBOX, 0, pointer, length, 0, 0, 2 | 8) == SUCCESS
    assert guest.call("fd_filestat_get", fd, OUT) == SUCCESS
    assert filestat(guest)[5:7] == (start + 1_000, start + 1_000)  # now, without moving the clock
    assert os.stat(sandbox / "hello.txt").st_mtime_ns != 7  # the host file keeps its own times


def test_standard_streams_are_character_devices(guest: Guest) -> None:
    assert guest.call("fd_filestat_get", 1, OUT) == SUCCESS
    assert filestat(guest)[2] == FileType.CHARACTER_DEVICE


def test_snapshot_0_filestat_layout_and_whence(make_guest, sandbox: Path) -> None:
    guest = make_guest(WasiConfig(preopens=(Preopen(str(sandbox), "/sandbox"),)), module_name="wasi_unstable",
                       module=EVERY_CALL)
    pointer, length = guest.put_string(PATH, "hello.txt")
    assert guest.call("path_filestat_get", SANDBOX, 0, pointer, length, OUT) == SUCCESS
    dev, ino, kind, nlink, size, atim, mtim, ctim = struct.unpack_from("<QQBxxxIQQQQ", guest.memory, OUT)
    assert (kind, nlink, size, mtim) == (FileType.REGULAR_FILE, 1, 12, DEFAULT_START_TIME_NS)
    errno, fd = open_path(guest, "hello.txt")
    assert errno == SUCCESS
    assert guest.call("fd_seek", fd, 3, 2, OUT) == SUCCESS and guest.u64(OUT) == 3  # 2 is SET in snapshot 0
    assert guest.call("fd_seek", fd, 1, 0, OUT) == SUCCESS and guest.u64(OUT) == 4  # 0 is CUR
    assert guest.call("fd_seek", fd, 0, 1, OUT) == SUCCESS and guest.u64(OUT) == 12  # 1 is END


def test_advise_allocate_and_sync(guest: Guest, sandbox: Path) -> None:
    _, fd = open_path(guest, "hello.txt", 0, READ | WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE
                      | Rights.FD_SYNC | Rights.FD_DATASYNC)
    assert guest.call("fd_advise", fd, 0, 12, 2) == SUCCESS
    assert guest.call("fd_advise", fd, 0, 12, 6) == Errno.INVAL
    assert guest.call("fd_allocate", fd, 10, 20) == SUCCESS
    assert (sandbox / "hello.txt").stat().st_size == 30
    assert guest.call("fd_allocate", fd, 0, 5) == SUCCESS  # never shrinks
    assert (sandbox / "hello.txt").stat().st_size == 30
    assert guest.call("fd_sync", fd) == SUCCESS and guest.call("fd_datasync", fd) == SUCCESS
    assert guest.call("fd_sync", 1) == Errno.NOTCAPABLE
    assert guest.call("fd_allocate", SANDBOX, 0, 1) == Errno.NOTCAPABLE


# --- links and renames --------------------------------------------------------------------------------


def two_paths(guest: Guest, function: str, old: str, new: str, *flags: int) -> int:
    old_pointer, old_length = guest.put_string(PATH, old)
    new_pointer, new_length = guest.put_string(PATH + 200, new)
    if function == "path_link":
        return guest.call(function, SANDBOX, *flags, old_pointer, old_length, SANDBOX, new_pointer, new_length)
    if function == "path_symlink":
        return guest.call(function, old_pointer, old_length, SANDBOX, new_pointer, new_length)
    return guest.call(function, SANDBOX, old_pointer, old_length, SANDBOX, new_pointer, new_length)


def test_rename_link_symlink_and_readlink(guest: Guest, sandbox: Path) -> None:
    assert two_paths(guest, "path_rename", "hello.txt", "sub/moved.txt") == SUCCESS
    assert (sandbox / "sub" / "moved.txt").read_bytes() == b"hello, world"
    assert two_paths(guest, "path_link", "sub/moved.txt", "hard.txt", 0) == SUCCESS
    assert (sandbox / "hard.txt").stat().st_nlink == 2
    assert two_paths(guest, "path_symlink", "sub/moved.txt", "soft") == SUCCESS
    assert os.readlink(sandbox / "soft") == "sub/moved.txt"
    assert two_paths(guest, "path_symlink", "x", "soft") == Errno.EXIST
    pointer, length = guest.put_string(PATH, "soft")
    assert guest.call("path_readlink", SANDBOX, pointer, length, BUFFER, 100, OUT) == SUCCESS
    assert guest.read(BUFFER, guest.u32(OUT)) == b"sub/moved.txt"
    assert guest.call("path_readlink", SANDBOX, pointer, length, BUFFER, 3, OUT) == SUCCESS
    assert guest.u32(OUT) == 3  # cut to the buffer
    assert open_path(guest, "soft", dirflags=FOLLOW)[0] == SUCCESS
    assert open_path(guest, "soft")[0] == Errno.LOOP  # a link as the last component, not followed
    assert two_paths(guest, "path_link", "soft", "hard_to_target", FOLLOW) == SUCCESS
    assert not (sandbox / "hard_to_target").is_symlink()
    assert two_paths(guest, "path_link", "soft", "hard_to_link", 0) == SUCCESS
    assert (sandbox / "hard_to_link").is_symlink()
    assert two_paths(guest, "path_rename", "sub", "hard.txt") == Errno.NOTDIR


# --- the sandbox -----------------------------------------------------------------------------------------


@pytest.fixture
def links(sandbox: Path) -> Path:
    """Links inside the sandbox that point out of it, and one that does not."""
    os.symlink("../outside.txt", sandbox / "out")
    os.symlink(str(sandbox.parent / "outside.txt"), sandbox / "absolute")
    os.symlink("..", sandbox / "parent")
    os.symlink("../../outside.txt", sandbox / "sub" / "up")
    os.symlink("../hello.txt", sandbox / "sub" / "ok")
    os.symlink("a", sandbox / "b")
    os.symlink("b", sandbox / "a")
    os.symlink("../made_outside", sandbox / "dangling")
    return sandbox


ESCAPES = ["../outside.txt", "sub/../../outside.txt", "/etc/passwd", "/", "..", "sub/../.."]
LINKED_ESCAPES = ["out", "absolute", "parent/outside.txt", "sub/up", "parent", "sub/up/"]


@pytest.mark.parametrize("path", ESCAPES)
def test_dot_dot_and_absolute_paths_are_refused(guest: Guest, links: Path, path: str) -> None:
    assert open_path(guest, path)[0] == Errno.PERM
    assert open_path(guest, path, dirflags=FOLLOW)[0] == Errno.PERM
    pointer, length = guest.put_string(PATH, path)
    assert guest.call("path_filestat_get", SANDBOX, 0, pointer, length, OUT) == Errno.PERM


@pytest.mark.parametrize("path", LINKED_ESCAPES)
def test_links_leading_out_are_refused_when_followed(guest: Guest, links: Path, path: str) -> None:
    assert open_path(guest, path, dirflags=FOLLOW)[0] == Errno.PERM
    pointer, length = guest.put_string(PATH, path)
    assert guest.call("path_filestat_get", SANDBOX, FOLLOW, pointer, length, OUT) == Errno.PERM


@pytest.mark.parametrize("function", ["path_create_directory", "path_remove_directory", "path_unlink_file"])
@pytest.mark.parametrize("path", ["../outside.txt", "parent/outside.txt", "/tmp/x", "sub/up/x"])
def test_changes_outside_are_refused(guest: Guest, links: Path, function: str, path: str) -> None:
    assert on_path(guest, function, path) == Errno.PERM
    assert (links.parent / "outside.txt").read_bytes() == b"secret"


def test_renames_and_links_across_the_boundary_are_refused(guest: Guest, links: Path) -> None:
    assert two_paths(guest, "path_rename", "hello.txt", "../moved") == Errno.PERM
    assert two_paths(guest, "path_rename", "../outside.txt", "stolen") == Errno.PERM
    assert two_paths(guest, "path_rename", "hello.txt", "parent/moved") == Errno.PERM
    assert two_paths(guest, "path_link", "../outside.txt", "stolen", 0) == Errno.PERM
    assert two_paths(guest, "path_link", "out", "stolen", FOLLOW) == Errno.PERM
    assert two_paths(guest, "path_symlink", "/etc/passwd", "evil") == Errno.PERM
    assert two_paths(guest, "path_symlink", "x", "../evil") == Errno.PERM
    assert sorted(p.name for p in links.parent.iterdir()) == ["outside.txt", "sandbox"]


def test_links_staying_inside_are_followed_and_loops_end(guest: Guest, links: Path) -> None:
    errno, fd = open_path(guest, "sub/ok", dirflags=FOLLOW)
    assert errno == SUCCESS and read_all(guest, fd) == (SUCCESS, b"hello, world")
    assert open_path(guest, "a", dirflags=FOLLOW)[0] == Errno.LOOP
    assert open_path(guest, "a/x")[0] == Errno.LOOP  # links before the last component are always followed
    pointer, length = guest.put_string(PATH, "out")
    assert guest.call("path_filestat_get", SANDBOX, 0, pointer, length, OUT) == SUCCESS  # the link itself
    assert filestat(guest)[2] == FileType.SYMBOLIC_LINK


def test_creating_through_a_dangling_link_out_is_refused(guest: Guest, links: Path) -> None:
    assert open_path(guest, "dangling", CREAT, WRITE, dirflags=FOLLOW)[0] == Errno.PERM
    assert open_path(guest, "dangling", CREAT, WRITE)[0] == Errno.LOOP
    assert not (links.parent / "made_outside").exists()


def test_an_opened_directory_is_a_root_of_its_own(guest: Guest, links: Path) -> None:
    errno, sub = open_path(guest, "sub", DIRECTORY, Rights.PATH_OPEN, dirflags=0)
    assert errno == SUCCESS
    assert open_path(guest, "../hello.txt", directory=sub)[0] == Errno.PERM
    assert open_path(guest, "ok", dirflags=FOLLOW, directory=sub)[0] == Errno.PERM  # ../hello.txt from sub


def test_a_link_swapped_in_after_resolution_is_not_followed(guest: Guest, links: Path, monkeypatch) -> None:
    """Between the walk looking at ``hello.txt`` and the host opening it, the
    file is replaced by a link out: ``O_NOFOLLOW`` makes the open fail."""
    real_open = os.open

    def racing_open(path, flags, mode=0o777, *, dir_fd=None):  # type: ignore[no-untyped-def]
        if path == "hello.txt" and dir_fd is not None:
            os.unlink(links / "hello.txt")
            os.symlink("../outside.txt", links / "hello.txt")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", racing_open)
    assert open_path(guest, "hello.txt", dirflags=FOLLOW)[0] == Errno.LOOP


# --- the process ----------------------------------------------------------------------------------------


def test_closing_the_process_releases_the_host_descriptors(sandbox: Path) -> None:
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    guest = Guest(WasiConfig(preopens=(Preopen(str(sandbox), "/sandbox"),)), module=EVERY_CALL)
    for _ in range(5):
        assert open_path(guest, "hello.txt")[0] == SUCCESS
    guest.process.close()
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
    with WasiProcess(WasiConfig(preopens=(Preopen(str(sandbox), "/sandbox"),))) as process:
        assert process.descriptors.get(3).filetype is FileType.DIRECTORY


class CountingInput:
    """A host stream that records how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.requests: list[int] = []

    def read1(self, size: int) -> bytes:
        self.requests.append(size)
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    read = read1


def test_standard_input_is_read_only_when_and_as_far_as_the_guest_reads(make_guest) -> None:
    source = CountingInput(b"line one\nline two\n")
    guest = make_guest(WasiConfig(stdin=source), module=EVERY_CALL)  # type: ignore[arg-type]
    assert guest.call("fd_write", 1, IOVEC, 0, OUT) == SUCCESS
    assert source.requests == []
    assert read_all(guest, 0, 4) == (SUCCESS, b"line")
    assert source.requests == [4]
    assert read_all(guest, 0, 100) == (SUCCESS, b" one\nline two\n")
    assert read_all(guest, 0, 100) == (SUCCESS, b"")
    assert source.requests == [4, 100, 100]
    assert read_all(guest, 0, 100) == (SUCCESS, b"")  # the end is remembered
    assert source.requests == [4, 100, 100]


def test_a_failing_standard_input_is_an_io_error(make_guest) -> None:
    class Broken:
        def read(self, size: int) -> bytes:
            raise OSError("gone")

    guest = make_guest(WasiConfig(stdin=Broken()), module=EVERY_CALL)  # type: ignore[arg-type]
    assert read_all(guest, 0) == (Errno.IO, b"")


def test_input_stream_availability() -> None:
    stream = InputStream(CountingInput(b"abc"))  # type: ignore[arg-type]
    assert stream.available() == 3
    assert stream.read(2) == b"ab" and stream.available() == 1
    assert stream.read(5) == b"c" and stream.available() == 0
