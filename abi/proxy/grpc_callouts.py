"""gRPC callouts (``proxy_grpc_call``, ``proxy_grpc_stream``, ``proxy_grpc_send``,
``proxy_grpc_close``, ``proxy_grpc_cancel``) and the simulated gRPC services
that answer them.

**The service argument**, as Envoy reads it (``context.cc``, ``grpcCall``):
first as a serialized ``GrpcService``; one naming a cluster
(``envoy_grpc.cluster_name``) is used without checking the cluster (Envoy
creates the client with ``skip_cluster_check``), so a cluster the scenario
does not define closes the call with status 14 (UNAVAILABLE) after the
callback returns.  Bytes that are not a ``GrpcService`` are a cluster name,
which must be defined: an unknown one answers PARSE_FAILURE at once, as
Envoy does.  A ``GrpcService`` naming no Envoy cluster is BAD_ARGUMENT (only
Envoy's own gRPC client is simulated).

**Tokens** count per VM from one counter: odd for calls, even for streams,
as Envoy numbers them.  Answers reach the plugin's root context, as HTTP call
answers do; during each callback the gRPC metadata maps (4, 5) and the
GRPC_RECEIVE buffer (5) are readable from any context of the plugin, and
``proxy_get_status`` gives the close status and message.

**What the simulated server answers** (``GrpcAnswer``, per cluster and
``package.Service/Method``; a list is used in order, the last repeating):

* a unary call gets, like Envoy's raw async request: on success (status 0)
  ``proxy_on_grpc_receive`` with the first message (an empty one if the
  answer has none); otherwise ``proxy_on_grpc_close`` with the status.
  Initial and trailing metadata are not delivered for unary calls (Envoy's
  request callbacks have none, and the Rust SDK panics on metadata for a
  call token);
* a stream gets its initial metadata when opened, one reply message for each
  message the plugin sends (in the answer's order), then trailing metadata
  and ``proxy_on_grpc_close`` when the plugin closes its side (a send with
  end_of_stream, or ``proxy_grpc_close``) or when the answer's messages have
  run out;
* ``delay_ms`` delays every answer event on the simulated clock;
  ``timeout: true`` answers a unary call with DEADLINE_EXCEEDED (4) when its
  timeout expires (never, for a timeout of 0) and leaves a stream unanswered;
  a unary answer delayed past its timeout times out too;
* a method the cluster does not define closes the call with 12
  (UNIMPLEMENTED), as a gRPC server answers.

``proxy_grpc_close`` cancels a call, half-closes a stream; ``proxy_grpc_cancel``
cancels either (no callback follows).  Both, and ``proxy_grpc_send``, answer
NOT_FOUND for a token that is not open.  A cluster added through the Python
API without answers keeps its calls waiting for answers given by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from abi.context_interface import ContextInterface, Pairs, StatusError
from abi.enums import Status
from abi.errors import UsageError
from abi.proxy.callbacks import CalloutDelivery, CallbackRunner, DeliveryTarget
from abi.proxy.headers import HeaderInput, HeaderMap
from abi.proxy.limits import CalloutBudget
from abi.proxy.scheduler import Scheduler, Task
from abi.trace import Trace
from abi.wire.protobuf import ProtobufError, parse_message, string_field
from abi.wire.text import as_bytes, from_wire, readable

NS_PER_MS = 1_000_000
GRPC_OK = 0
GRPC_DEADLINE_EXCEEDED = 4
GRPC_UNIMPLEMENTED = 12
GRPC_UNAVAILABLE = 14
GRPC_SERVICE_ENVOY_GRPC = 1
ENVOY_GRPC_CLUSTER_NAME = 1


@dataclass(frozen=True)
class GrpcAnswer:
    """One canned answer of a simulated gRPC method (module docstring)."""

    initial_metadata: tuple[tuple[str, str], ...] = ()
    messages: tuple[bytes, ...] = ()
    trailing_metadata: tuple[tuple[str, str], ...] = ()
    status: int = GRPC_OK
    message: str = ""
    delay_ms: int = 0
    timeout: bool = False

    @classmethod
    def make(cls, messages: Sequence[str | bytes] = (), status: int = GRPC_OK, message: str = "",
             initial_metadata: HeaderInput = None, trailing_metadata: HeaderInput = None,
             delay_ms: int = 0, timeout: bool = False) -> GrpcAnswer:
        return cls(tuple(HeaderMap(initial_metadata).items()), tuple(as_bytes(m) for m in messages),
                   tuple(HeaderMap(trailing_metadata).items()), status, message, delay_ms, timeout)


class GrpcCluster:
    """A simulated gRPC cluster: canned answers per ``Service/Method``; with
    none at all, calls wait for answers given by hand."""

    def __init__(self, name: str, methods: dict[str, Sequence[GrpcAnswer]] | None = None) -> None:
        self.name = name
        self.methods = {method: list(answers) for method, answers in (methods or {}).items()}
        self._answered: dict[str, int] = {}

    @property
    def answers_by_itself(self) -> bool:
        return bool(self.methods)

    def next_answer(self, method: str) -> GrpcAnswer | None:
        answers = self.methods.get(method)
        if not answers:
            return None
        count = self._answered.get(method, 0)
        self._answered[method] = count + 1
        return answers[min(count, len(answers) - 1)]


class GrpcKind(enum.Enum):
    CALL = "unary"
    STREAM = "stream"


class GrpcState(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class GrpcCall:
    """One gRPC call or stream a plugin opened: what it sent, what it got."""

    token: int
    kind: GrpcKind
    root: DeliveryTarget
    context_id: int
    stream_name: str | None
    cluster: str | None
    service: str
    method: str
    metadata: HeaderMap
    timeout_ms: int
    sent: list[bytes] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    state: GrpcState = GrpcState.OPEN
    local_closed: bool = False
    remote_closed: bool = False
    status: tuple[int, str] | None = None
    answer: GrpcAnswer | None = None
    replies_given: int = 0
    by_hand: bool = False
    tasks: list[Task] = field(default_factory=list)

    @property
    def plugin(self) -> Any:
        return self.root.plugin

    @property
    def path(self) -> str:
        return f"{self.service}/{self.method}"

    @property
    def pending(self) -> bool:
        """Open and waiting for answers given by hand."""
        return self.state is GrpcState.OPEN and self.by_hand

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin.name, "token": self.token, "kind": self.kind.value,
                "context_id": self.context_id, "cluster": self.cluster, "method": self.path,
                "metadata": self.metadata.to_report(), "sent": [readable(message) for message in self.sent],
                "received": self.received, "state": self.state.value,
                "status": None if self.status is None else {"code": self.status[0], "message": self.status[1]}}

    def __repr__(self) -> str:
        return f"<GrpcCall {self.plugin.name}#{self.token} {self.path}>"


class GrpcCallouts:
    """Every gRPC call and stream of a run, and the clusters answering them."""

    def __init__(self, scheduler: Scheduler, runner: CallbackRunner, trace: Trace, budget: CalloutBudget) -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.trace = trace
        self.budget = budget
        self.clusters: dict[str, GrpcCluster] = {}
        self.calls: list[GrpcCall] = []
        self._open: dict[tuple[int, int], GrpcCall] = {}

    def add_cluster(self, cluster: GrpcCluster) -> None:
        self.clusters[cluster.name] = cluster

    @property
    def pending(self) -> list[GrpcCall]:
        return [call for call in self.calls if call.pending]

    # --- from plugins -------------------------------------------------------------------------

    def _cluster_of(self, service: bytes, known: set[str]) -> str | None:
        """The cluster a service argument names (module docstring)."""
        try:
            fields = parse_message(bytes(service))
            envoy_grpc = string_field(fields, GRPC_SERVICE_ENVOY_GRPC)
            cluster = string_field(parse_message(envoy_grpc), ENVOY_GRPC_CLUSTER_NAME) if envoy_grpc else None
        except ProtobufError:
            name = from_wire(service)
            if name not in known:
                raise StatusError(Status.PARSE_FAILURE, f"{readable(service)!r} is neither a GrpcService nor a "
                                                        f"known cluster") from None
            return name
        if cluster is None:
            raise StatusError(Status.BAD_ARGUMENT, "the GrpcService names no envoy_grpc cluster")
        return from_wire(cluster)

    def open(self, kind: GrpcKind, next_token: Callable[[bool], int], root: DeliveryTarget,
             context: ContextInterface, service: bytes, service_name: bytes, method: bytes, metadata: Pairs,
             message: bytes | None, timeout_ms: int) -> GrpcCall:
        """Open a call or stream for ``root``'s plugin, made from ``context``;
        the token is taken only once the service argument is accepted."""
        cluster = self._cluster_of(service, set(self.clusters))
        self.budget.acquire(root)
        call = GrpcCall(next_token(kind is GrpcKind.STREAM), kind, root, context.id, context.stream_name, cluster, from_wire(service_name),
                        from_wire(method), HeaderMap(metadata), timeout_ms)
        if message is not None:
            call.sent.append(bytes(message))
        self.calls.append(call)
        self._open[(id(root.plugin.vm), call.token)] = call
        self.runner.when_callback_returns(lambda: self._start(call))
        return call

    def _start(self, call: GrpcCall) -> None:
        if call.state is not GrpcState.OPEN:
            return  # cancelled in the callback that opened it
        cluster = self.clusters.get(call.cluster or "")
        if cluster is None:
            self._schedule(call, 0, lambda: self._close(call, GRPC_UNAVAILABLE,
                                                         f"no healthy upstream: cluster {call.cluster!r} "
                                                         f"is not defined"))
            return
        if not cluster.answers_by_itself:
            call.by_hand = True
            return
        answer = cluster.next_answer(call.path)
        if answer is None:
            self._schedule(call, 0, lambda: self._close(call, GRPC_UNIMPLEMENTED,
                                                         f"unknown method {call.method} for service "
                                                         f"{call.service}"))
            return
        call.answer = answer
        if call.kind is GrpcKind.CALL:
            self._answer_call(call, answer)
        elif not answer.timeout:
            self._schedule(call, answer.delay_ms, lambda: self._initial_metadata(call, answer.initial_metadata))
            self._reply_to_sends(call)

    def _answer_call(self, call: GrpcCall, answer: GrpcAnswer) -> None:
        timeout_ms = call.timeout_ms if call.timeout_ms > 0 else None
        if answer.timeout or (timeout_ms is not None and answer.delay_ms > timeout_ms):
            if timeout_ms is not None:
                self._schedule(call, timeout_ms, lambda: self._close(call, GRPC_DEADLINE_EXCEEDED,
                                                                     "deadline exceeded"))
            return
        if answer.status == GRPC_OK:
            reply = answer.messages[0] if answer.messages else b""
            self._schedule(call, answer.delay_ms, lambda: self._message(call, reply, finishes_call=True))
        else:
            self._schedule(call, answer.delay_ms, lambda: self._close(call, answer.status, answer.message))

    def _reply_to_sends(self, call: GrpcCall) -> None:
        """The stream's server side: one reply per message received, then
        trailing metadata and close once the client has closed or the
        replies have run out."""
        answer = call.answer
        if answer is None or answer.timeout or call.remote_closed or call.state is not GrpcState.OPEN:
            return
        while call.replies_given < min(len(call.sent), len(answer.messages)):
            reply = answer.messages[call.replies_given]
            call.replies_given += 1
            self._schedule(call, answer.delay_ms, lambda reply=reply: self._message(call, reply))
        if call.local_closed or call.replies_given >= len(answer.messages):
            call.remote_closed = True
            self._schedule(call, answer.delay_ms, lambda: self._trailing_metadata(call, answer.trailing_metadata))
            self._schedule(call, answer.delay_ms, lambda: self._close(call, answer.status, answer.message))

    def send(self, vm: object, token: int, message: bytes, end_of_stream: bool) -> None:
        call = self._find(vm, token)
        if call.kind is not GrpcKind.STREAM:
            raise StatusError(Status.NOT_FOUND, f"{token} is a call, not a stream")
        call.sent.append(bytes(message))
        if end_of_stream:
            call.local_closed = True
        self.runner.when_callback_returns(lambda: self._reply_to_sends(call))

    def close(self, vm: object, token: int) -> None:
        call = self._find(vm, token)
        if call.kind is GrpcKind.CALL:
            self._cancel(call)
            return
        call.local_closed = True
        self.runner.when_callback_returns(lambda: self._reply_to_sends(call))

    def cancel(self, vm: object, token: int) -> None:
        self._cancel(self._find(vm, token))

    def _find(self, vm: object, token: int) -> GrpcCall:
        call = self._open.get((id(vm), token))
        if call is None:
            raise StatusError(Status.NOT_FOUND, f"no open gRPC call or stream {token}")
        return call

    def _cancel(self, call: GrpcCall) -> None:
        call.state = GrpcState.CANCELLED
        for task in call.tasks:
            task.cancel()
        self._forget(call)

    def _forget(self, call: GrpcCall) -> None:
        if self._open.pop((id(call.root.plugin.vm), call.token), None) is not None:
            self.budget.release(call.root)

    # --- the server's events --------------------------------------------------------------------

    def _schedule(self, call: GrpcCall, delay_ms: int, action: Any) -> None:
        call.tasks.append(self.scheduler.after(delay_ms * NS_PER_MS, action,
                                               f"grpc {call.plugin.name}#{call.token}"))

    def _deliver(self, call: GrpcCall, name: str, delivery: CalloutDelivery, args: list[int],
                 record: dict[str, Any]) -> None:
        call.received.append(record)
        self.trace.event("grpc_" + record["event"], call.stream_name, plugin=call.plugin.name, token=call.token,
                         **{key: value for key, value in record.items() if key != "event"})
        if call.plugin.failed:
            return
        self.runner.deliver(call.root, delivery, name, [call.token, *args])

    def _initial_metadata(self, call: GrpcCall, metadata: Sequence[tuple[str, str]]) -> None:
        headers = HeaderMap(metadata)
        self._deliver(call, "proxy_on_grpc_receive_initial_metadata", CalloutDelivery(grpc_initial_metadata=headers),
                      [len(headers)], {"event": "initial_metadata", "metadata": headers.to_report()})

    def _message(self, call: GrpcCall, message: bytes, finishes_call: bool = False) -> None:
        if finishes_call:
            call.state = GrpcState.CLOSED
            call.status = (GRPC_OK, "")
            self._forget(call)
        self._deliver(call, "proxy_on_grpc_receive", CalloutDelivery(grpc_message=message), [len(message)],
                      {"event": "message", "message": readable(message)})

    def _trailing_metadata(self, call: GrpcCall, metadata: Sequence[tuple[str, str]]) -> None:
        headers = HeaderMap(metadata)
        self._deliver(call, "proxy_on_grpc_receive_trailing_metadata",
                      CalloutDelivery(grpc_trailing_metadata=headers), [len(headers)],
                      {"event": "trailing_metadata", "metadata": headers.to_report()})

    def _close(self, call: GrpcCall, status: int, message: str) -> None:
        call.state = GrpcState.CLOSED
        call.status = (status, message)
        call.remote_closed = True
        self._forget(call)
        self._deliver(call, "proxy_on_grpc_close", CalloutDelivery(status=(status, message.encode("utf-8"))),
                      [status], {"event": "close", "status": status, "message": message})

    # --- answering by hand (Python API) -----------------------------------------------------------

    def _check_manual(self, call: GrpcCall) -> None:
        if not call.pending:
            raise UsageError(f"{call!r} is not waiting for answers given by hand")

    def respond(self, call: GrpcCall, message: bytes = b"", status: int = GRPC_OK, status_message: str = "") -> None:
        """Answer a unary call: its message, or a non-zero status."""
        self._check_manual(call)
        if call.kind is not GrpcKind.CALL:
            raise UsageError(f"{call!r} is a stream: send its events one by one")
        if status == GRPC_OK:
            self._schedule(call, 0, lambda: self._message(call, message, finishes_call=True))
        else:
            self._schedule(call, 0, lambda: self._close(call, status, status_message))

    def stream_event(self, call: GrpcCall, event: str, value: Any = None, status: int = GRPC_OK,
                     status_message: str = "") -> None:
        """Play the server of a stream: ``initial_metadata``, ``message``,
        ``trailing_metadata`` or ``close``."""
        self._check_manual(call)
        if call.kind is not GrpcKind.STREAM:
            raise UsageError(f"{call!r} is a unary call: use respond")
        actions = {
            "initial_metadata": lambda: self._initial_metadata(call, tuple(HeaderMap(value).items())),
            "message": lambda: self._message(call, as_bytes(value or b"")),
            "trailing_metadata": lambda: self._trailing_metadata(call, tuple(HeaderMap(value).items())),
            "close": lambda: self._close(call, status, status_message),
        }
        if event not in actions:
            raise UsageError(f"unknown gRPC stream event {event!r} (expected one of: {', '.join(actions)})")
        self._schedule(call, 0, actions[event])
