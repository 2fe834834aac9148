"""The simulated time a WASI guest sees: deterministic, and moving only when
the guest looks at it or sleeps (see ``WasiConfig`` for the rules)."""

from __future__ import annotations

from interp.wasi.constants import U64_MAX, ClockId

RESOLUTION_NS = 1
"""What ``clock_res_get`` reports for every clock: values are counted in
nanoseconds (the spec asks for a non-zero resolution)."""


class SimulatedClock:
    """One elapsed time shared by the four WASI clocks, each of which adds
    its own origin: ``start_time_ns`` for realtime and monotonic, zero for
    the CPU-time clocks.  Values saturate at the largest u64 instead of
    wrapping, so a guest that sleeps "forever" sees time stop at the end
    rather than run backwards."""

    def __init__(self, start_time_ns: int, tick_ns: int) -> None:
        self.start_time_ns = start_time_ns
        self.tick_ns = tick_ns
        self.elapsed_ns = 0

    def origin(self, clock: ClockId) -> int:
        if clock in (ClockId.REALTIME, ClockId.MONOTONIC):
            return self.start_time_ns
        return 0

    def now(self, clock: ClockId) -> int:
        """The clock's value, without moving time (what ``poll_oneoff``
        measures relative timeouts from)."""
        return min(self.origin(clock) + self.elapsed_ns, U64_MAX)

    def read(self, clock: ClockId) -> int:
        """What ``clock_time_get`` returns: the value now, after which time
        moves on by one tick."""
        value = self.now(clock)
        self.elapsed_ns = min(self.elapsed_ns + self.tick_ns, U64_MAX)
        return value

    def elapsed_at(self, clock: ClockId, value: int) -> int:
        """The elapsed time at which ``clock`` shows ``value`` (0 for values
        before the clock's origin)."""
        return max(0, value - self.origin(clock))

    def advance_to(self, elapsed_ns: int) -> None:
        """Move time forward to ``elapsed_ns``; never backwards."""
        self.elapsed_ns = max(self.elapsed_ns, min(elapsed_ns, U64_MAX))
