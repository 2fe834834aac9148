"""Timers: ``proxy_set_tick_period_milliseconds`` — ``proxy_on_tick`` for
the effective context's root context every period (0 disarms); the proxy's
scheduler keeps the time (``abi.proxy.timers``)."""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.declaration import HostCall, U32, host_call


@host_call("proxy_set_tick_period_milliseconds", U32("period_ms"))
def proxy_set_tick_period_milliseconds(call: HostCall, period_ms: int) -> Status:
    call.context.timers.set_tick_period(period_ms)
    return Status.OK
