"""``poll_oneoff``: sleeping moves the simulated clock, descriptor events are
ready at once, and the record layouts of both WASI versions."""

from __future__ import annotations

import struct

from interp.wasi import Errno, WasiConfig

START = 1_000_000
CLOCK, FD_READ, FD_WRITE = 0, 1, 2
ABSTIME = 1
HANGUP = 1
SUBSCRIPTIONS, EVENTS, COUNT = 1000, 2000, 64
OUTSIDE = 0x1_0000


def clock_subscription(userdata: int, timeout: int, clock: int = 1, flags: int = 0, unstable: bool = False) -> bytes:
    if unstable:  # snapshot 0: an extra u64 identifier before the clock id
        return struct.pack("<QB7xQIxxxxQQH6x", userdata, CLOCK, 0xDEAD, clock, timeout, 0, flags)
    return struct.pack("<QB7xIxxxxQQH6x", userdata, CLOCK, clock, timeout, 0, flags)


def fd_subscription(userdata: int, tag: int, fd: int, unstable: bool = False) -> bytes:
    return struct.pack("<QB7xI36x" if unstable else "<QB7xI28x", userdata, tag, fd)


def events(guest, count: int) -> list[tuple[int, int, int, int, int]]:
    """(userdata, error, type, nbytes, flags) of each event written."""
    return [struct.unpack_from("<QHBxxxxxQH6x", guest.memory, EVENTS + 32 * i) for i in range(count)]


def poll(guest, *subscriptions: bytes) -> int:
    guest.write(SUBSCRIPTIONS, b"".join(subscriptions))
    guest.write(EVENTS, b"\xee" * 32 * len(subscriptions))
    return guest.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, len(subscriptions), COUNT)


def now(guest, clock: int = 1) -> int:
    """The clock's value without moving time (tick 0 in these tests)."""
    assert guest.call("clock_time_get", clock, 0, 64) == Errno.SUCCESS
    return guest.u64(64)


def sleeper(make_guest, **config):
    return make_guest(WasiConfig(start_time_ns=START, clock_tick_ns=0, **config))


def test_relative_sleep_advances_time_exactly(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, clock_subscription(0xABC, 5_000_000)) == Errno.SUCCESS
    assert guest.u32(COUNT) == 1
    assert events(guest, 1) == [(0xABC, 0, CLOCK, 0, 0)]
    assert now(guest) == START + 5_000_000
    assert now(guest, 0) == START + 5_000_000  # all clocks share the elapsed time
    assert now(guest, 2) == 5_000_000


def test_absolute_deadline_on_realtime(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, clock_subscription(1, START + 750, clock=0, flags=ABSTIME)) == Errno.SUCCESS
    assert now(guest) == START + 750
    assert poll(guest, clock_subscription(2, START, clock=0, flags=ABSTIME)) == Errno.SUCCESS  # already past
    assert events(guest, 1) == [(2, 0, CLOCK, 0, 0)]
    assert now(guest) == START + 750


def test_only_the_earliest_timer_fires(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, clock_subscription(1, 900), clock_subscription(2, 300), clock_subscription(3, 300)) == 0
    assert guest.u32(COUNT) == 2
    assert [event[0] for event in events(guest, 2)] == [2, 3]
    assert now(guest) == START + 300


def test_ready_descriptors_answer_without_sleeping(make_guest) -> None:
    guest = sleeper(make_guest, stdin=b"12345")
    assert poll(guest, clock_subscription(1, 10**9), fd_subscription(2, FD_WRITE, 1),
                fd_subscription(3, FD_READ, 0)) == Errno.SUCCESS
    assert guest.u32(COUNT) == 2
    assert events(guest, 2) == [(2, 0, FD_WRITE, 0, 0), (3, 0, FD_READ, 5, 0)]
    assert now(guest) == START


def test_stdin_at_end_of_file_reports_hangup(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, fd_subscription(9, FD_READ, 0)) == Errno.SUCCESS
    assert events(guest, 1) == [(9, 0, FD_READ, 0, HANGUP)]


def test_bad_descriptors_and_clocks_are_error_events(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, fd_subscription(1, FD_READ, 7), fd_subscription(2, FD_READ, 1),
                fd_subscription(3, FD_WRITE, 0), clock_subscription(4, 10, clock=9),
                clock_subscription(5, 10)) == Errno.SUCCESS
    assert guest.u32(COUNT) == 4
    assert events(guest, 4) == [(1, Errno.BADF, FD_READ, 0, 0), (2, Errno.BADF, FD_READ, 0, 0),
                                (3, Errno.BADF, FD_WRITE, 0, 0), (4, Errno.INVAL, CLOCK, 0, 0)]
    assert now(guest) == START  # an event was ready, so no sleep


def test_whole_call_errors_change_nothing(make_guest) -> None:
    guest = sleeper(make_guest)
    guest.put_u32s(COUNT, 77)
    assert guest.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, 0, COUNT) == Errno.INVAL
    bad_tag = bytearray(clock_subscription(1, 10))
    bad_tag[8] = 3
    assert poll(guest, clock_subscription(1, 10), bytes(bad_tag)) == Errno.INVAL
    guest.write(SUBSCRIPTIONS, clock_subscription(1, 10))
    assert guest.call("poll_oneoff", OUTSIDE - 40, EVENTS, 1, COUNT) == Errno.FAULT
    assert guest.call("poll_oneoff", SUBSCRIPTIONS, OUTSIDE - 16, 1, COUNT) == Errno.FAULT
    assert guest.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, 1, OUTSIDE - 2) == Errno.FAULT
    assert guest.call("poll_oneoff", SUBSCRIPTIONS, EVENTS, 0xFFFF_FFFF, COUNT) == Errno.FAULT
    assert guest.u32(COUNT) == 77
    assert now(guest) == START


def test_sleeping_forever_ends_at_the_end_of_time(make_guest) -> None:
    guest = sleeper(make_guest)
    assert poll(guest, clock_subscription(1, 2**64 - 1)) == Errno.SUCCESS
    assert now(guest) == 2**64 - 1


def test_wasi_unstable_subscription_layout(make_guest) -> None:
    guest = make_guest(WasiConfig(start_time_ns=START, clock_tick_ns=0), module_name="wasi_unstable")
    assert poll(guest, clock_subscription(5, 40_000, unstable=True),
                clock_subscription(6, 50_000, unstable=True)) == Errno.SUCCESS
    assert guest.u32(COUNT) == 1 and events(guest, 1) == [(5, 0, CLOCK, 0, 0)]
    assert now(guest) == START + 40_000
    assert poll(guest, fd_subscription(7, FD_WRITE, 2, unstable=True)) == Errno.SUCCESS
    assert events(guest, 1) == [(7, 0, FD_WRITE, 0, 0)]
    # A preview1 record read as snapshot 0: the clock id comes from the timeout's place (1000, no such clock).
    assert poll(guest, clock_subscription(8, 1_000, unstable=False) + bytes(8)) == Errno.SUCCESS
    assert events(guest, 1) == [(8, Errno.INVAL, CLOCK, 0, 0)]
    assert now(guest) == START + 40_000
