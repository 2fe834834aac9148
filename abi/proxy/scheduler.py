"""The one scheduler of the simulated proxy: every piece of pending work —
a stream or connection moving on, a callout's answer, a timer tick, a
queue-ready notification, a timeline step of the scenario — is a task with a
time on the simulated clock, and tasks run in (time, sequence) order.

Rules, which make every run reproducible:

* the clock only moves forward: by ``callback_step_ns`` before every
  callback into a plugin, by ``tick_ns`` after every clock read, when a
  plugin sleeps (WASI ``poll_oneoff``), and when the scheduler reaches a
  task whose time is ahead of it;
* a task scheduled for a time that has passed (the clock moved on while the
  work before it ran) runs as soon as that work is done — tasks never run
  early and never overtake an earlier-scheduled task of the same time;
* work a callback causes (actions taking effect when it returns, answers
  due at once) is scheduled while it runs, so it happens after the callback
  and in the order it was caused;
* *posted* work (``post``) runs once nothing scheduled is due any more, the
  way Envoy's dispatcher runs a posted callback after the event it is
  handling (a stream moving through the whole chain) is done;
* a task never runs inside another: callbacks only change state and
  schedule, and the API's entry points (``run_due``, ``advance_to``) refuse
  to be called from a task.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from abi.errors import UsageError
from interp.wasi import ClockId, SimulatedClock


@dataclass(eq=False)
class Task:
    """One piece of scheduled work.  ``label`` says what it is (traces, the
    debugger); a cancelled task is skipped when its time comes."""

    time_ns: int
    sequence: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: Task) -> bool:
        return (self.time_ns, self.sequence) < (other.time_ns, other.sequence)


class Scheduler:
    """The simulated clock and the tasks waiting on it (see the module
    docstring).  Times are nanoseconds since the run started."""

    def __init__(self, clock: SimulatedClock, callback_step_ns: int) -> None:
        self.clock = clock
        self.callback_step_ns = callback_step_ns
        self._tasks: list[Task] = []
        self._posted: deque[Task] = deque()
        self._sequence = 0
        self._running = False
        self.tasks_run = 0

    # --- time -------------------------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """Elapsed simulated time (the clock's reading, minus its start)."""
        return self.clock.elapsed_ns

    def wall_time_ns(self) -> int:
        """The clock's absolute value now, without moving it."""
        return self.clock.now(ClockId.REALTIME)

    def read_clock(self) -> int:
        """The time a plugin reads; the clock then moves one tick."""
        return self.clock.read(ClockId.REALTIME)

    def step_for_callback(self) -> None:
        """Every callback into a plugin takes ``callback_step_ns``."""
        self.clock.advance_to(self.clock.elapsed_ns + self.callback_step_ns)

    # --- scheduling -------------------------------------------------------------------------

    def at(self, time_ns: int, action: Callable[[], None], label: str) -> Task:
        """Run ``action`` at ``time_ns`` (or as soon as possible if that has
        passed)."""
        task = Task(time_ns, self._sequence, action, label)
        self._sequence += 1
        heapq.heappush(self._tasks, task)
        return task

    def soon(self, action: Callable[[], None], label: str) -> Task:
        """Run ``action`` now, after the work already due."""
        return self.at(self.now_ns, action, label)

    def after(self, delay_ns: int, action: Callable[[], None], label: str) -> Task:
        return self.at(self.now_ns + delay_ns, action, label)

    def post(self, action: Callable[[], None], label: str) -> Task:
        """Run ``action`` once nothing scheduled is due (module docstring)."""
        task = Task(self.now_ns, self._sequence, action, label)
        self._sequence += 1
        self._posted.append(task)
        return task

    @property
    def running(self) -> bool:
        """Whether a task is running (so the caller is inside the proxy)."""
        return self._running

    def pending(self) -> list[Task]:
        """Tasks still to run: the scheduled ones in time order, then the
        posted ones."""
        return sorted(task for task in self._tasks if not task.cancelled) + \
            [task for task in self._posted if not task.cancelled]

    def next_time(self) -> int | None:
        self._drop_cancelled()
        if self._posted:
            return self.now_ns
        return self._tasks[0].time_ns if self._tasks else None

    # --- running ----------------------------------------------------------------------------

    def run_due(self) -> None:
        """Run every task due by now, including those that fall due while
        they run (callbacks move the clock)."""
        self._enter()
        try:
            while self._run_one_due():
                pass
        finally:
            self._running = False

    def advance_to(self, time_ns: int) -> None:
        """Run every task due by ``time_ns`` in order, the clock moving to
        each task's time as it goes; then move the clock to ``time_ns``."""
        self._enter()
        try:
            while True:
                if self._run_one_due():
                    continue
                if not self._tasks or self._tasks[0].time_ns > time_ns:
                    break
                task = heapq.heappop(self._tasks)
                self.clock.advance_to(task.time_ns)
                self._run(task)
            self.clock.advance_to(time_ns)
        finally:
            self._running = False

    def run_next(self) -> bool:
        """Move the clock to the next task's time and run what is due then;
        false when nothing is scheduled."""
        next_time = self.next_time()
        if next_time is None:
            return False
        self.advance_to(max(next_time, self.now_ns))
        return True

    def _enter(self) -> None:
        if self._running:
            raise UsageError("the simulated proxy is busy: drive it from outside plugin callbacks")
        self._running = True

    def _run_one_due(self) -> bool:
        """Run the next task due now — a scheduled one first, else a posted
        one; false when there is none."""
        self._drop_cancelled()
        if self._tasks and self._tasks[0].time_ns <= self.now_ns:
            self._run(heapq.heappop(self._tasks))
            return True
        if self._posted:
            self._run(self._posted.popleft())
            return True
        return False

    def _run(self, task: Task) -> None:
        self.tasks_run += 1
        task.action()

    def _drop_cancelled(self) -> None:
        while self._tasks and self._tasks[0].cancelled:
            heapq.heappop(self._tasks)
        while self._posted and self._posted[0].cancelled:
            self._posted.popleft()
