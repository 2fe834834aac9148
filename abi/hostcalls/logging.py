"""Logging and time: ``proxy_log``, ``proxy_get_log_level``,
``proxy_get_current_time_nanoseconds``.

What is kept, and the level ``proxy_get_log_level`` answers, is the proxy's
business (``abi.context_interface.Logging``); time is the proxy's simulated
clock.
"""

from __future__ import annotations

from abi.enums import LogLevel, Status
from abi.hostcalls.declaration import Bytes, Enum, HostCall, Out, host_call


@host_call("proxy_log", Enum("level", LogLevel), Bytes("message"))
def proxy_log(call: HostCall, level: LogLevel, message: bytes) -> Status:
    call.context.logging.log(level, message)
    return Status.OK


@host_call("proxy_get_log_level", Out("level_out"))
def proxy_get_log_level(call: HostCall, level_out: int) -> Status:
    level = call.context.logging.log_level()
    call.memory.write_u32(level_out, int(level))
    call.result(level=level.name)
    return Status.OK


@host_call("proxy_get_current_time_nanoseconds", Out("time_out"))
def proxy_get_current_time_nanoseconds(call: HostCall, time_out: int) -> Status:
    call.memory.check(time_out, 8)
    now = call.context.clock.now_ns()
    call.memory.write_u64(time_out, now)
    call.result(time=now)
    return Status.OK
