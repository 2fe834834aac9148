"""What a plugin can make the host hold or do, bounded.

Every bound is per plugin or per stream, configurable (``HostConfig.limits``,
the scenario's ``limits:``), and named when it is crossed.  Where Envoy
answers a host call with a status for it, so does the host; where Envoy acts
on the traffic (a body buffered past its limit), so does the host; anything
else fails the plugin by its failure policy with a ``resource limit`` error
naming the limit (``abi.context_interface.LimitExceeded``) — the host
process never runs out of memory because of a plugin.  (Pairs maps a plugin
sends are bounded by the ABI itself: ``abi.wire.pairs``.)

| limit | default | where the default comes from | crossing it |
| --- | --- | --- | --- |
| ``max_body_bytes`` | 1 MiB | Envoy's buffer limit (``per_connection_buffer_limit_bytes``) | buffering a request body past it: 413 local reply, a response body: 500 (Envoy's ``request_payload_too_large`` / ``response_payload_too_large``); TCP data held past it: the connection is closed; ``proxy_set_buffer_bytes`` past it: the plugin fails |
| ``max_header_count`` | 100 | Envoy's ``max_headers_count`` | a request from the client with more: 431 before any plugin; a plugin whose own additions to one map of one stream pass it: that plugin fails |
| ``max_header_bytes`` | 60 KiB | Envoy's ``max_request_headers_kb`` | the same, counting the bytes of names and values |
| ``max_log_lines`` / ``max_log_bytes`` | 10,000 / 4 MiB | glasswasm (a report people read) | later lines are dropped and counted per plugin; the report says how many |
| ``max_pending_callouts`` | 1,000 per plugin | glasswasm | HTTP and gRPC calls beyond it answer INTERNAL_FAILURE, as Envoy does when it cannot send a call |
| ``max_shared_data_bytes`` | 16 MiB per vm_id | glasswasm | a write past it: the plugin fails |
| ``max_queue_items`` | 10,000 per queue | glasswasm | an enqueue past it: the plugin fails |
| ``host_work_per_byte`` | 1 | glasswasm | every byte a host call copies between the guest and the host costs that much of the callback's fuel, so host work is not free |
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from abi.context_interface import StatusError
from abi.enums import Status

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class HostLimits:
    """See the module docstring."""

    max_body_bytes: int = 1 * MIB
    max_header_count: int = 100
    max_header_bytes: int = 60 * KIB
    max_log_lines: int = 10_000
    max_log_bytes: int = 4 * MIB
    max_pending_callouts: int = 1_000
    max_shared_data_bytes: int = 16 * MIB
    max_queue_items: int = 10_000
    host_work_per_byte: int = 1

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))



class CalloutBudget:
    """Outstanding HTTP and gRPC callouts per plugin, against
    ``max_pending_callouts``: one more answers INTERNAL_FAILURE."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pending: dict[int, int] = {}

    def acquire(self, owner: object) -> None:
        count = self._pending.get(id(owner), 0)
        if count >= self.limit:
            raise StatusError(Status.INTERNAL_FAILURE, f"{count} callouts are outstanding, the most a plugin may "
                                                       f"have (limits.max_pending_callouts)")
        self._pending[id(owner)] = count + 1

    def release(self, owner: object) -> None:
        self._pending[id(owner)] = max(0, self._pending.get(id(owner), 0) - 1)
