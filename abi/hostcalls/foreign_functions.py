"""Foreign functions: ``proxy_call_foreign_function`` — a function the
proxy registers by name, called with the guest's argument bytes; its result
goes back through the guest's allocator (``abi.proxy.foreign_functions``)."""

from __future__ import annotations

from abi.enums import Status
from abi.hostcalls.declaration import Bytes, HostCall, Out, host_call


@host_call("proxy_call_foreign_function", Bytes("name"), Bytes("arguments"), Out("results_out"),
           Out("size_out"))
def proxy_call_foreign_function(call: HostCall, name: bytes, arguments: bytes, results_out: int,
                                size_out: int) -> Status:
    call.memory.check(results_out, 4)
    call.memory.check(size_out, 4)
    result = call.context.foreign_functions.call(name, arguments)
    call.hand_over(result, results_out, size_out)
    call.result(size=len(result))
    return Status.OK


