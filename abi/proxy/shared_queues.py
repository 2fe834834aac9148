"""Shared queues, as proxy-wasm-cpp-host keeps them (``src/shared_queue.cc``).

A queue is named by (vm_id, name).  ``register`` (from a plugin: its own
vm_id, for its root context) creates it, or takes over an existing one
keeping its items, and answers its id; ids count from 1.  ``resolve`` finds
a queue of any vm_id (0 / NOT_FOUND when there is none).  ``enqueue`` adds
an item and posts ``proxy_on_queue_ready(root, id)`` for the root context
that registered the queue: it runs once the work due now is done (the
stream that enqueued has moved through the chain as far as it can), one
notification per item — as proxy-wasm-cpp-host posts one to Envoy's
dispatcher per enqueue.  ``dequeue``
takes the oldest item, EMPTY when there is none; an unknown id is NOT_FOUND
for both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from abi.context_interface import LimitExceeded, StatusError
from abi.enums import Status
from abi.proxy.callbacks import CallbackRunner, DeliveryTarget
from abi.proxy.scheduler import Scheduler
from abi.wire.text import readable

ReceiverLookup = Callable[[], DeliveryTarget | None]
"""Finds the root context a queue notifies (the registering plugin's
current one: a reloaded VM has a new root context with the same id)."""


@dataclass(eq=False)
class SharedQueue:
    queue_id: int
    vm_id: bytes
    name: bytes
    receiver: ReceiverLookup | None = None
    receiver_name: str = ""
    items: deque[bytes] = field(default_factory=deque)
    enqueued: int = 0

    def to_report(self) -> dict[str, object]:
        return {"id": self.queue_id, "vm_id": readable(self.vm_id), "name": readable(self.name),
                "registered_by": self.receiver_name or None, "enqueued": self.enqueued,
                "left": [readable(item) for item in self.items]}


class SharedQueues:
    """Every queue of the proxy."""

    def __init__(self, scheduler: Scheduler, runner: CallbackRunner, max_items: int) -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.max_items = max_items
        self.queues: dict[int, SharedQueue] = {}
        self._by_name: dict[tuple[bytes, bytes], SharedQueue] = {}

    def register(self, vm_id: bytes, name: bytes, receiver: ReceiverLookup, receiver_name: str) -> int:
        queue = self._by_name.get((vm_id, name))
        if queue is None:
            queue = SharedQueue(len(self.queues) + 1, vm_id, name)
            self.queues[queue.queue_id] = queue
            self._by_name[(vm_id, name)] = queue
        queue.receiver = receiver
        queue.receiver_name = receiver_name
        return queue.queue_id

    def resolve(self, vm_id: bytes, name: bytes) -> int:
        queue = self._by_name.get((vm_id, name))
        if queue is None:
            raise StatusError(Status.NOT_FOUND, f"no queue {readable(name)!r} in vm {readable(vm_id)!r}")
        return queue.queue_id

    def _queue(self, queue_id: int) -> SharedQueue:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise StatusError(Status.NOT_FOUND, f"no queue {queue_id}")
        return queue

    def enqueue(self, queue_id: int, value: bytes) -> None:
        queue = self._queue(queue_id)
        if len(queue.items) >= self.max_items:
            raise LimitExceeded("max_queue_items", f"queue {readable(queue.name)!r} already holds "
                                                   f"{len(queue.items)} items")
        queue.items.append(bytes(value))
        queue.enqueued += 1
        self.scheduler.post(lambda: self._notify(queue), f"queue {queue.queue_id} ready")

    def dequeue(self, queue_id: int) -> bytes:
        queue = self._queue(queue_id)
        if not queue.items:
            raise StatusError(Status.EMPTY, f"queue {queue_id} is empty")
        return queue.items.popleft()

    def _notify(self, queue: SharedQueue) -> None:
        root = queue.receiver() if queue.receiver is not None else None
        if root is None or root.plugin.failed:
            return
        self.runner.run(root.plugin, root, "proxy_on_queue_ready", [root.id, queue.queue_id])  # type: ignore[arg-type]

    def report(self) -> list[dict[str, object]]:
        return [self.queues[queue_id].to_report() for queue_id in sorted(self.queues)]


class VmQueues:
    """``abi.context_interface.SharedQueues`` for the contexts of one plugin:
    queues it registers are its vm_id's, and notify its root context."""

    def __init__(self, queues: SharedQueues, vm_id: bytes, receiver: ReceiverLookup, receiver_name: str) -> None:
        self.queues = queues
        self.vm_id = vm_id
        self.receiver = receiver
        self.receiver_name = receiver_name

    def register(self, name: bytes) -> int:
        return self.queues.register(self.vm_id, name, self.receiver, self.receiver_name)

    def resolve(self, vm_id: bytes, name: bytes) -> int:
        return self.queues.resolve(vm_id, name)

    def enqueue(self, queue_id: int, value: bytes) -> None:
        self.queues.enqueue(queue_id, value)

    def dequeue(self, queue_id: int) -> bytes:
        return self.queues.dequeue(queue_id)
