"""HTTP calls (``proxy_http_call``) and the simulated upstream clusters that
answer them.

A cluster is configured with canned answers, used in order; when they run
out the last one repeats.  An answer is a response (status, headers, body,
trailers), ``reset`` (the call fails: the plugin gets zero headers and
``proxy_get_status`` says BROKEN_CONNECTION (11), "reset", as in Envoy) or
``timeout``: the call's own timeout expires (Envoy's async client then
answers 504 with the body "upstream request timeout"; a call without a
timeout, 0 ms, waits for ever).  ``delay_ms`` delays an answer on the
simulated clock; an answer due after the call's timeout times out instead.
A cluster with no answers (only in the Python API) keeps its calls pending
until the test answers them by hand.

``proxy_http_call`` checks, in Envoy's order: the cluster is known
(BAD_ARGUMENT) and the headers have ``:method``, ``:path`` and ``:authority``
(BAD_ARGUMENT).  Header names are lower-cased.

Delivery follows Envoy: the call belongs to the plugin's root context
(proxy-wasm-cpp-host makes ``proxy_http_call`` on the root context), so
``proxy_on_http_call_response`` is called with the root context id; SDKs find
the stream that made the call from the token and switch to it with
``proxy_set_effective_context``.  During that callback the response headers
(map 6), body (buffer 4) and trailers (map 7) can be read from any context
of the plugin.  Tokens are numbered per VM from 1.

An answer without delay arrives right after the callback that made the call
has returned and its actions have been applied, before anything else happens
on the stream (it is scheduled then, ahead of the stream's next move).
``proxy_get_status`` answers (0, "") for a call that got a response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from abi.context_interface import ContextInterface, Pairs, StatusError
from abi.enums import Status
from abi.errors import UsageError
from abi.proxy.callbacks import CalloutDelivery, CallbackRunner, DeliveryTarget
from abi.proxy.headers import HeaderInput, HeaderMap
from abi.proxy.limits import CalloutBudget
from abi.proxy.scheduler import Scheduler, Task
from abi.trace import Trace
from abi.wire.text import as_bytes, from_wire, readable

TIMEOUT_BODY = b"upstream request timeout"
RESET_MESSAGE = "reset"
REQUIRED_HEADERS = (":method", ":path", ":authority")
MAX_CALL_CHAIN = 100
"""How many calls in a row may each be made from the answer to the one
before: answers without delay come at once, so a plugin that always calls
again when answered would otherwise never stop.  The next one is refused
with INTERNAL_FAILURE ("the host failed to send the call")."""
NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class UpstreamResponse:
    """One canned answer of a simulated cluster (see the module docstring)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    trailers: tuple[tuple[str, str], ...] = ()
    reset: bool = False
    timeout: bool = False
    delay_ms: int = 0

    def to_call_response(self) -> HttpCallResponse:
        if self.reset:
            return HttpCallResponse(HeaderMap(), b"", None, RESET_MESSAGE)
        headers = HeaderMap([(":status", str(self.status))])
        for name, value in self.headers:
            headers.add(name, value)
        trailers = HeaderMap(self.trailers) if self.trailers else None
        return HttpCallResponse(headers, bytes(self.body), trailers, None)


@dataclass(frozen=True)
class HttpCallResponse:
    """What ``proxy_on_http_call_response`` delivers: headers (``:status``
    first), body and trailers, or ``failure`` with no headers at all."""

    headers: HeaderMap
    body: bytes
    trailers: HeaderMap | None
    failure: str | None = None

    @classmethod
    def make(cls, status: int = 200, headers: HeaderInput = None, body: str | bytes = b"",
             trailers: HeaderInput = None) -> HttpCallResponse:
        """A response for answering a call by hand."""
        return UpstreamResponse(status, tuple(HeaderMap(headers).items()), as_bytes(body),
                                tuple(HeaderMap(trailers).items())).to_call_response()

    @classmethod
    def reset(cls) -> HttpCallResponse:
        return UpstreamResponse(reset=True).to_call_response()

    @classmethod
    def timed_out(cls) -> HttpCallResponse:
        """Envoy's answer when a call's timeout expires."""
        headers = HeaderMap([(":status", "504"), ("content-length", str(len(TIMEOUT_BODY))),
                             ("content-type", "text/plain")])
        return cls(headers, TIMEOUT_BODY, None, None)

    def to_report(self) -> dict[str, Any]:
        if self.failure is not None:
            return {"failure": self.failure}
        return {"status": int(self.headers.get(":status") or 0), "headers": self.headers.to_report(),
                "body": readable(self.body),
                "trailers": self.trailers.to_report() if self.trailers is not None else []}


class Upstream:
    """A simulated cluster: its answers in order, the last repeating."""

    def __init__(self, name: str, responses: Sequence[UpstreamResponse] = ()) -> None:
        self.name = name
        self.responses = list(responses)
        self.answered = 0

    @property
    def answers_by_itself(self) -> bool:
        return bool(self.responses)

    def next_response(self) -> UpstreamResponse:
        response = self.responses[min(self.answered, len(self.responses) - 1)]
        self.answered += 1
        return response


class HttpCall:
    """One call a plugin made: the request as sent and, once answered, the
    response."""

    def __init__(self, token: int, root: DeliveryTarget, context: ContextInterface, upstream: str,
                 headers: HeaderMap, body: bytes, trailers: HeaderMap, timeout_ms: int, chain: int,
                 sent_ns: int) -> None:
        self.token = token
        self.root = root
        self.plugin = root.plugin
        self.chain = chain
        self.context_id = context.id
        self.stream_name = context.stream_name
        self.upstream = upstream
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.timeout_ms = timeout_ms
        self.sent_ns = sent_ns
        self.response: HttpCallResponse | None = None
        self.answered_ns: int | None = None
        self.delivered = False
        self.task: Task | None = None

    @property
    def pending(self) -> bool:
        return self.response is None

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin.name, "token": self.token, "context_id": self.context_id,
                "upstream": readable(self.upstream), "headers": self.headers.to_report(),
                "body": readable(self.body), "trailers": self.trailers.to_report(),
                "timeout_ms": self.timeout_ms, "sent_at_ns": self.sent_ns, "answered_at_ns": self.answered_ns,
                "response": self.response.to_report() if self.response is not None else None}

    def __repr__(self) -> str:
        return f"<HttpCall {self.plugin.name}#{self.token} to {self.upstream}>"


class HttpCallouts:
    """Every HTTP call of a run and the clusters that answer them."""

    def __init__(self, scheduler: Scheduler, runner: CallbackRunner, trace: Trace, budget: CalloutBudget) -> None:
        self.scheduler = scheduler
        self.runner = runner
        self.trace = trace
        self.budget = budget
        self.upstreams: dict[str, Upstream] = {}
        self.calls: list[HttpCall] = []
        self._answering: HttpCall | None = None

    def add_upstream(self, upstream: Upstream) -> None:
        self.upstreams[upstream.name] = upstream

    @property
    def pending(self) -> list[HttpCall]:
        """Calls waiting to be answered by hand."""
        return [call for call in self.calls if call.pending and call.task is None]

    def dispatch(self, root: DeliveryTarget, context: ContextInterface, next_token: Callable[[], int],
                 cluster: bytes, headers: Pairs, body: bytes, trailers: Pairs, timeout_ms: int) -> HttpCall:
        """Send a call for ``root``'s plugin, made from ``context``; the token
        is taken only once the call is accepted."""
        name = from_wire(cluster)
        upstream = self.upstreams.get(name)
        if upstream is None:
            raise StatusError(Status.BAD_ARGUMENT, f"unknown cluster {readable(cluster)!r}")
        request_headers = HeaderMap(headers)
        missing = [header for header in REQUIRED_HEADERS if request_headers.get(header) is None]
        if missing:
            raise StatusError(Status.BAD_ARGUMENT, f"the call's headers lack {', '.join(missing)}")
        chain = self._answering.chain + 1 if self._answering is not None else 0
        if chain > MAX_CALL_CHAIN:
            raise StatusError(Status.INTERNAL_FAILURE, f"{MAX_CALL_CHAIN} calls in a row were each made from "
                                                       f"the answer to the one before")
        self.budget.acquire(root)
        call = HttpCall(next_token(), root, context, name, request_headers, bytes(body), HeaderMap(trailers),
                        timeout_ms, chain, self.scheduler.now_ns)
        self.calls.append(call)
        if upstream.answers_by_itself:
            answer = upstream.next_response()
            self.runner.when_callback_returns(lambda: self._schedule_answer(call, answer))
        return call

    def _schedule_answer(self, call: HttpCall, answer: UpstreamResponse) -> None:
        timeout_ns = call.timeout_ms * NS_PER_MS if call.timeout_ms > 0 else None
        if answer.timeout or (timeout_ns is not None and answer.delay_ms * NS_PER_MS > timeout_ns):
            if timeout_ns is None:
                return  # no timeout: the call waits for ever
            response, delay_ns = HttpCallResponse.timed_out(), timeout_ns
        else:
            response, delay_ns = answer.to_call_response(), answer.delay_ms * NS_PER_MS
        call.task = self.scheduler.after(delay_ns, lambda: self._deliver(call, response),
                                         f"http call {call.plugin.name}#{call.token} answered")

    def respond(self, call: HttpCall, response: HttpCallResponse) -> None:
        """Answer a pending call by hand; it is delivered with the work due
        now."""
        if not call.pending or call.task is not None:
            raise UsageError(f"{call!r} was already answered")
        call.task = self.scheduler.soon(lambda: self._deliver(call, response),
                                        f"http call {call.plugin.name}#{call.token} answered")

    def _deliver(self, call: HttpCall, response: HttpCallResponse) -> None:
        self.budget.release(call.root)
        call.response = response
        call.answered_ns = self.scheduler.now_ns
        call.delivered = True
        self.trace.event("http_call_response", call.stream_name, plugin=call.plugin.name,
                                   token=call.token, response=response.to_report())
        if call.plugin.failed:
            return
        trailers = len(response.trailers) if response.trailers is not None else 0
        status = (int(Status.BROKEN_CONNECTION), response.failure.encode()) if response.failure else (0, b"")
        delivery = CalloutDelivery(http_headers=response.headers if response.failure is None else None,
                                   http_body=response.body if response.failure is None else None,
                                   http_trailers=(response.trailers or HeaderMap())
                                   if response.failure is None else None,
                                   status=status)
        self._answering = call
        try:
            self.runner.deliver(call.root, delivery, "proxy_on_http_call_response",
                                [call.token, len(response.headers), len(response.body), trailers])
        finally:
            self._answering = None

    def calls_of_stream(self, stream_name: str) -> list[HttpCall]:
        return [call for call in self.calls if call.stream_name == stream_name]
