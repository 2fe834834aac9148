"""Logging and time: ``proxy_log``, ``proxy_get_log_level``,
``proxy_get_current_time_nanoseconds``.

A log line is kept when its level is at least the host's log level
(``ProxyHost.config.log_level``, ``info`` by default as in Envoy), and
``proxy_get_log_level`` answers that level so plugins can skip building lines
nobody keeps.  Time is the proxy's simulated clock (see ``abi.host``).
"""

from __future__ import annotations

from abi.enums import LogLevel, Status
from abi.hostcalls.base import Enum, HostCall, Out, Text, host_call


@host_call("proxy_log", Enum("level", LogLevel), Text("message"))
def proxy_log(call: HostCall, level: LogLevel, message: str) -> Status:
    call.plugin.log(level, message)
    return Status.OK


@host_call("proxy_get_log_level", Out("level_out"))
def proxy_get_log_level(call: HostCall, level_out: int) -> Status:
    level = call.plugin.host.config.log_level
    call.memory.write_u32(level_out, int(level))
    call.result(level=level.name)
    return Status.OK


@host_call("proxy_get_current_time_nanoseconds", Out("time_out"))
def proxy_get_current_time_nanoseconds(call: HostCall, time_out: int) -> Status:
    call.memory.check(time_out, 8)
    now = call.plugin.host.read_clock()
    call.memory.write_u64(time_out, now)
    call.result(time=now)
    return Status.OK
