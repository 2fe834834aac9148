"""Each implemented WASI function, called from wasm: results, memory effects,
and the errno for bad descriptors and out-of-bounds pointers."""

from __future__ import annotations

import random
import struct

import pytest

from interp.errors import ExecutionError
from interp.wasi import DEFAULT_CLOCK_TICK_NS, DEFAULT_START_TIME_NS, Errno, OutputSink, ProcessExit, WasiConfig

SUCCESS, BADF, FAULT, INVAL, SPIPE = Errno.SUCCESS, Errno.BADF, Errno.FAULT, Errno.INVAL, Errno.SPIPE
REALTIME, MONOTONIC, PROCESS_CPUTIME, THREAD_CPUTIME = 0, 1, 2, 3
OUTSIDE = 0x1_0000  # the first address past calls.wat's one page


def collecting() -> tuple[list, OutputSink]:
    received: list = []
    return received, OutputSink.raw(received.append)


# --- arguments and environment --------------------------------------------------


def test_args_sizes_and_args(make_guest) -> None:
    guest = make_guest(WasiConfig(argv=("prog", "two words", "ü")))
    assert guest.call("args_sizes_get", 100, 104) == SUCCESS
    assert (guest.u32(100), guest.u32(104)) == (3, len(b"prog\0two words\0\xc3\xbc\0"))
    assert guest.call("args_get", 200, 300) == SUCCESS
    assert [guest.u32(200 + 4 * i) for i in range(3)] == [300, 305, 315]
    assert guest.read(300, 18) == b"prog\0two words\0\xc3\xbc\0"


def test_environment_keeps_its_order(make_guest) -> None:
    guest = make_guest(WasiConfig(environment={"Z": "last?", "A": "x=y", "EMPTY": ""}))
    assert guest.call("environ_sizes_get", 100, 104) == SUCCESS
    expected = b"Z=last?\0A=x=y\0EMPTY=\0"
    assert (guest.u32(100), guest.u32(104)) == (3, len(expected))
    assert guest.call("environ_get", 200, 300) == SUCCESS
    assert [guest.u32(200 + 4 * i) for i in range(3)] == [300, 308, 314]
    assert guest.read(300, len(expected)) == expected


def test_empty_argv_and_environment(make_guest) -> None:
    guest = make_guest()
    guest.put_u32s(100, 7, 7)
    assert guest.call("args_sizes_get", 100, 104) == SUCCESS
    assert (guest.u32(100), guest.u32(104)) == (0, 0)
    assert guest.call("environ_get", OUTSIDE, OUTSIDE) == SUCCESS  # nothing to write, nothing checked past the end


def test_list_functions_fault_without_writing_anything(make_guest) -> None:
    guest = make_guest(WasiConfig(argv=("prog", "arg")))
    assert guest.call("args_get", 100, OUTSIDE - 4) == FAULT  # the strings do not fit
    assert guest.read(100, 8) == bytes(8)  # not even the pointers were written
    assert guest.call("args_get", OUTSIDE - 4, 100) == FAULT  # the pointer array does not fit
    assert guest.read(100, 9) == bytes(9)
    assert guest.call("args_sizes_get", 100, OUTSIDE - 2) == FAULT
    assert guest.call("environ_sizes_get", 0xFFFF_FFFF, 100) == FAULT
    assert guest.u32(100) == 0


# --- clocks ------------------------------------------------------------------------


def test_clock_reads_start_at_the_configured_time_and_advance_one_tick_per_read(make_guest) -> None:
    guest = make_guest(WasiConfig(start_time_ns=5_000, clock_tick_ns=10))
    values = []
    for clock in (REALTIME, REALTIME, MONOTONIC, PROCESS_CPUTIME, THREAD_CPUTIME):
        assert guest.call("clock_time_get", clock, 0, 64) == SUCCESS
        values.append(guest.u64(64))
    assert values == [5_000, 5_010, 5_020, 30, 40]


def test_clock_defaults(make_guest) -> None:
    guest = make_guest()
    assert guest.call("clock_time_get", REALTIME, 1, 64) == SUCCESS
    assert guest.u64(64) == DEFAULT_START_TIME_NS
    assert guest.call("clock_time_get", MONOTONIC, 1, 64) == SUCCESS
    assert guest.u64(64) == DEFAULT_START_TIME_NS + DEFAULT_CLOCK_TICK_NS


def test_clock_errors_do_not_move_time(make_guest) -> None:
    guest = make_guest(WasiConfig(start_time_ns=1_000, clock_tick_ns=1))
    assert guest.call("clock_time_get", 4, 0, 64) == INVAL
    assert guest.call("clock_time_get", REALTIME, 0, OUTSIDE - 7) == FAULT
    assert guest.call("clock_time_get", REALTIME, 0, 64) == SUCCESS
    assert guest.u64(64) == 1_000


def test_clock_resolution(make_guest) -> None:
    guest = make_guest()
    for clock in (REALTIME, MONOTONIC, PROCESS_CPUTIME, THREAD_CPUTIME):
        guest.write(64, b"\xff" * 8)
        assert guest.call("clock_res_get", clock, 64) == SUCCESS
        assert guest.u64(64) == 1
    assert guest.call("clock_res_get", 99, 64) == INVAL
    assert guest.call("clock_res_get", REALTIME, OUTSIDE) == FAULT


def test_clock_saturates_instead_of_wrapping(make_guest) -> None:
    guest = make_guest(WasiConfig(start_time_ns=2**64 - 2, clock_tick_ns=5))
    readings = []
    for _ in range(3):
        assert guest.call("clock_time_get", REALTIME, 0, 64) == SUCCESS
        readings.append(guest.u64(64))
    assert readings == [2**64 - 2, 2**64 - 1, 2**64 - 1]


# --- randomness ---------------------------------------------------------------------


def test_random_get_is_the_seeded_generator(make_guest) -> None:
    guest = make_guest(WasiConfig(random_seed=1234))
    assert guest.call("random_get", 100, 16) == SUCCESS
    assert guest.call("random_get", 200, 5) == SUCCESS
    expected = random.Random(1234)
    assert guest.read(100, 16) == expected.randbytes(16)
    assert guest.read(200, 5) == expected.randbytes(5)


def test_random_get_is_deterministic_per_seed(make_guest) -> None:
    def draw(seed: int) -> bytes:
        guest = make_guest(WasiConfig(random_seed=seed))
        assert guest.call("random_get", 100, 32) == SUCCESS
        return guest.read(100, 32)

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_random_get_limit(make_guest) -> None:
    guest = make_guest(WasiConfig(max_random_get_bytes=65536))
    assert guest.call("random_get", 0, 65537) == INVAL
    assert guest.read(0, 16) == bytes(16)
    assert guest.call("random_get", 0, 65536) == SUCCESS
    assert guest.read(0, 65536) == random.Random(0).randbytes(65536)


def test_random_get_out_of_bounds(make_guest) -> None:
    guest = make_guest()
    assert guest.call("random_get", OUTSIDE - 4, 8) == FAULT
    assert guest.read(OUTSIDE - 4, 4) == bytes(4)
    assert guest.call("random_get", OUTSIDE, 0) == SUCCESS  # empty, at the very end


# --- fd_write -------------------------------------------------------------------------


def test_fd_write_gathers_iovecs_to_stdout_and_stderr(make_guest) -> None:
    out, out_sink = collecting()
    err, err_sink = collecting()
    guest = make_guest(WasiConfig(stdout=out_sink, stderr=err_sink))
    guest.write(300, b"hello, world\n")
    guest.put_u32s(100, 300, 7, 307, 6)  # "hello, " + "world\n"
    assert guest.call("fd_write", 1, 100, 2, 64) == SUCCESS
    assert guest.u32(64) == 13
    assert guest.call("fd_write", 2, 108, 1, 64) == SUCCESS
    assert guest.u32(64) == 6
    assert out == [b"hello, world\n"] and err == [b"world\n"]


def test_fd_write_with_no_bytes(make_guest) -> None:
    out, sink = collecting()
    guest = make_guest(WasiConfig(stdout=sink))
    guest.put_u32s(64, 99)
    assert guest.call("fd_write", 1, 100, 0, 64) == SUCCESS
    assert guest.u32(64) == 0 and out == []


def test_fd_write_errors_deliver_nothing(make_guest) -> None:
    out, sink = collecting()
    guest = make_guest(WasiConfig(stdout=sink))
    guest.put_u32s(100, 300, 4, OUTSIDE - 2, 4)
    assert guest.call("fd_write", 0, 100, 1, 64) == BADF  # stdin is not writable
    assert guest.call("fd_write", 3, 100, 1, 64) == BADF
    assert guest.call("fd_write", 1, 100, 2, 64) == FAULT  # second buffer runs off the end
    assert guest.call("fd_write", 1, OUTSIDE - 4, 1, 64) == FAULT  # the iovec array does
    assert guest.call("fd_write", 1, 100, 1, OUTSIDE - 1) == FAULT  # the result pointer does
    assert guest.call("fd_write", 1, 100, 1025, 64) == INVAL  # more than IOV_MAX iovecs
    assert out == []


def test_fd_write_reports_a_reader_gone_as_epipe_and_other_os_errors_as_eio(make_guest) -> None:
    def gone(data: bytes) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def full(data: bytes) -> None:
        raise OSError(28, "No space left on device")

    guest = make_guest(WasiConfig(stdout=OutputSink.raw(gone), stderr=OutputSink.raw(full)))
    guest.put_u32s(100, 300, 5)
    assert guest.call("fd_write", 1, 100, 1, 64) == Errno.PIPE
    assert guest.call("fd_write", 2, 100, 1, 64) == Errno.IO


def test_fd_write_output_is_discarded_without_a_sink(make_guest) -> None:
    guest = make_guest()
    guest.put_u32s(100, 300, 5)
    assert guest.call("fd_write", 1, 100, 1, 64) == SUCCESS
    assert guest.u32(64) == 5


def test_line_mode_delivers_complete_lines_and_flushes_the_rest(make_guest) -> None:
    lines: list[str] = []
    guest = make_guest(WasiConfig(stdout=OutputSink.lines(lines.append)))
    guest.write(300, b"one\ntw")
    guest.write(400, b"o\n\nthr\xffee")
    guest.put_u32s(100, 300, 6, 400, 9)
    assert guest.call("fd_write", 1, 100, 1, 64) == SUCCESS
    assert lines == ["one"]
    assert guest.call("fd_write", 1, 108, 1, 64) == SUCCESS
    assert lines == ["one", "two", ""]
    guest.process.flush()
    assert lines == ["one", "two", "", "thr\ufffdee"]
    guest.process.flush()
    assert len(lines) == 4


def test_per_write_mode_is_one_message_per_write(make_guest) -> None:
    messages: list[str] = []
    guest = make_guest(WasiConfig(stdout=OutputSink.per_write(messages.append)))
    guest.write(300, b"a\nb\n\n")
    for iovec in ((300, 4), (300, 5), (300, 1), (300, 0)):
        guest.put_u32s(100, *iovec)
        assert guest.call("fd_write", 1, 100, 1, 64) == SUCCESS
    guest.process.flush()
    assert messages == ["a\nb", "a\nb\n", "a"]  # one trailing newline dropped; empty writes are no message


def test_closing_a_stream_flushes_its_last_line(make_guest) -> None:
    lines: list[str] = []
    guest = make_guest(WasiConfig(stderr=OutputSink.lines(lines.append)))
    guest.write(300, b"unfinished")
    guest.put_u32s(100, 300, 10)
    assert guest.call("fd_write", 2, 100, 1, 64) == SUCCESS
    assert lines == []
    assert guest.call("fd_close", 2) == SUCCESS
    assert lines == ["unfinished"]


# --- fd_read ------------------------------------------------------------------------------


def test_fd_read_scatters_stdin_then_reports_end_of_file(make_guest) -> None:
    guest = make_guest(WasiConfig(stdin=b"abcdefgh"))
    guest.put_u32s(100, 300, 3, 400, 2)
    assert guest.call("fd_read", 0, 100, 2, 64) == SUCCESS
    assert guest.u32(64) == 5
    assert (guest.read(300, 3), guest.read(400, 2)) == (b"abc", b"de")
    assert guest.call("fd_read", 0, 100, 2, 64) == SUCCESS
    assert guest.u32(64) == 3 and guest.read(300, 3) == b"fgh" and guest.read(400, 2) == b"de"
    assert guest.call("fd_read", 0, 100, 2, 64) == SUCCESS
    assert guest.u32(64) == 0


def test_fd_read_errors_consume_nothing(make_guest) -> None:
    guest = make_guest(WasiConfig(stdin=b"data"))
    guest.put_u32s(100, 300, 4, OUTSIDE - 1, 4)
    assert guest.call("fd_read", 1, 100, 1, 64) == BADF  # stdout is not readable
    assert guest.call("fd_read", 5, 100, 1, 64) == BADF
    assert guest.call("fd_read", 0, 100, 2, 64) == FAULT
    assert guest.call("fd_read", 0, 100, 1, OUTSIDE) == FAULT
    assert guest.call("fd_read", 0, 100, 1, 64) == SUCCESS
    assert guest.read(300, 4) == b"data"


# --- descriptors ---------------------------------------------------------------------------


def test_fd_fdstat_get_describes_the_standard_streams(make_guest) -> None:
    guest = make_guest()
    expected_rights = {0: (1 << 1) | (1 << 3) | (1 << 21) | (1 << 27), 1: (1 << 6) | (1 << 3) | (1 << 21) | (1 << 27)}
    expected_rights[2] = expected_rights[1]
    for fd in (0, 1, 2):
        guest.write(100, b"\xaa" * 24)
        assert guest.call("fd_fdstat_get", fd, 100) == SUCCESS
        filetype, flags, base, inheriting = struct.unpack_from("<BxHxxxxQQ", guest.memory, 100)
        assert (filetype, flags, base, inheriting) == (2, 0, expected_rights[fd], 0)
        assert guest.read(101, 1) == b"\0" and guest.read(104, 4) == bytes(4)  # padding cleared
    assert guest.call("fd_fdstat_get", 3, 100) == BADF
    assert guest.call("fd_fdstat_get", 1, OUTSIDE - 23) == FAULT


def test_fd_fdstat_set_flags(make_guest) -> None:
    guest = make_guest()
    assert guest.call("fd_fdstat_set_flags", 1, 0b101) == SUCCESS  # APPEND | NONBLOCK
    assert guest.call("fd_fdstat_get", 1, 100) == SUCCESS
    assert guest.u16(102) == 0b101
    assert guest.call("fd_fdstat_set_flags", 1, 0b100000) == INVAL
    assert guest.call("fd_fdstat_set_flags", 9, 0) == BADF
    assert guest.call("fd_fdstat_get", 1, 100) == SUCCESS
    assert guest.u16(102) == 0b101


def test_fd_close(make_guest) -> None:
    out, sink = collecting()
    guest = make_guest(WasiConfig(stdout=sink))
    guest.put_u32s(100, 300, 1)
    assert guest.call("fd_close", 1) == SUCCESS
    assert guest.call("fd_close", 1) == BADF
    assert guest.call("fd_write", 1, 100, 1, 64) == BADF
    assert guest.call("fd_fdstat_get", 1, 100) == BADF
    assert guest.call("fd_close", 3) == BADF
    assert guest.call("fd_close", 0) == SUCCESS
    assert out == []


def test_no_preopened_directories(make_guest) -> None:
    guest = make_guest()
    for fd in (0, 1, 2, 3, 4, 0xFFFF_FFFF):
        assert guest.call("fd_prestat_get", fd, 100) == BADF
        assert guest.call("fd_prestat_dir_name", fd, 100, 16) == BADF


def test_standard_streams_cannot_seek(make_guest) -> None:
    guest = make_guest()
    for fd in (0, 1, 2):
        assert guest.call("fd_seek", fd, 0, 1, 100) == SPIPE
        assert guest.call("fd_tell", fd, 100) == SPIPE
    assert guest.call("fd_seek", 3, 0, 0, 100) == BADF
    assert guest.call("fd_tell", 3, 100) == BADF


# --- process -----------------------------------------------------------------------------------


def test_proc_exit_stops_the_guest_with_its_code(make_guest) -> None:
    lines: list[str] = []
    guest = make_guest(WasiConfig(stdout=OutputSink.lines(lines.append)))
    guest.write(300, b"last words")
    guest.put_u32s(100, 300, 10)
    assert guest.call("fd_write", 1, 100, 1, 64) == SUCCESS
    with pytest.raises(ProcessExit) as caught:
        guest.call("proc_exit", 42)
    assert caught.value.code == 42 and guest.process.exit_code == 42
    assert isinstance(caught.value, ExecutionError)
    assert str(caught.value) == "process exited with status 42"
    assert caught.value.backtrace[0].func_name == "proc_exit"  # the wasm trampoline that called it
    assert lines == ["last words"]  # exiting flushed the unfinished line
    assert guest.call("sched_yield") == SUCCESS  # the store is usable afterwards


def test_proc_exit_code_is_unsigned(make_guest) -> None:
    guest = make_guest()
    with pytest.raises(ProcessExit) as caught:
        guest.call("proc_exit", 0xFFFF_FFFF)
    assert caught.value.code == 0xFFFF_FFFF


def test_sched_yield(make_guest) -> None:
    assert make_guest().call("sched_yield") == SUCCESS
