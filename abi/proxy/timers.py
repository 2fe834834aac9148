"""Tick timers: ``proxy_set_tick_period_milliseconds`` and ``proxy_on_tick``.

Each root context has at most one timer.  Setting a period (from any context
of the plugin: the timer belongs to its root) replaces the previous one and
arms the first tick one period from now; 0 disarms it.  After each
``proxy_on_tick`` returns, the next tick is armed one period later, as
Envoy's ``Wasm::tickHandler`` re-enables its timer after the call — so with
callbacks taking simulated time, ticks are a period apart from the end of
one tick callback to the start of the next.  A failed plugin gets no more
ticks, and a deleted root context's timer is disarmed.
"""

from __future__ import annotations

from abi.proxy.callbacks import CallbackRunner, DeliveryTarget
from abi.proxy.scheduler import Scheduler, Task

NS_PER_MS = 1_000_000


class RootTimer:
    """The timer of one root context; ``abi.context_interface.Timers`` for
    every context of that plugin."""

    def __init__(self, scheduler: Scheduler, runner: CallbackRunner, root: DeliveryTarget) -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.root = root
        self.period_ms = 0
        self.ticks = 0
        self._task: Task | None = None

    def set_tick_period(self, period_ms: int) -> None:
        self.disarm()
        self.period_ms = period_ms
        if period_ms > 0:
            self._arm()

    def disarm(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _arm(self) -> None:
        self._task = self.scheduler.after(self.period_ms * NS_PER_MS, self._tick,
                                          f"tick {self.root.plugin.name}")

    def _tick(self) -> None:
        self._task = None
        if self.root.plugin.failed:
            return
        self.ticks += 1
        self.runner.run(self.root.plugin, self.root, "proxy_on_tick", [self.root.id])  # type: ignore[arg-type]
        if self.period_ms > 0 and self._task is None and not self.root.plugin.failed:
            self._arm()
