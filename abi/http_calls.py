"""HTTP calls (``proxy_http_call``) and the simulated upstream clusters that
answer them.

A cluster is configured with canned answers, used in order; when they run
out the last one repeats.  An answer is a response (status, headers, body,
trailers), ``reset`` (the call fails: the plugin gets zero headers and
``proxy_get_status`` says BROKEN_CONNECTION (11), "reset", as in Envoy) or
``timeout`` (Envoy's async client then answers 504 with the body "upstream
request timeout").  A cluster with no answers (only in the Python API) keeps
its calls pending until the test answers them by hand.

Delivery follows Envoy: the call belongs to the plugin's root context
(proxy-wasm-cpp-host makes ``proxy_http_call`` on the root context), so
``proxy_on_http_call_response`` is called with the root context id; SDKs find
the stream that made the call from the token and switch to it with
``proxy_set_effective_context``.  During that callback the response headers
(map 6), body (buffer 4) and trailers (map 7) can be read from any context
of the plugin.  Tokens are numbered per plugin from 1.

Canned answers arrive right after the callback that made the call has
returned and its result has been applied (a network round trip always takes
longer than the rest of the callback), before anything else happens on the
stream.  ``proxy_get_status`` answers (0, "") for a call that got a response.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from abi.enums import Status
from abi.headers import HeaderMap
from abi.plugin import CallbackPhase
from abi.text import as_bytes, readable

if TYPE_CHECKING:
    from abi.host import ProxyHost
    from abi.plugin import Context, Plugin
    from abi.stream import HttpStream

TIMEOUT_BODY = b"upstream request timeout"
RESET_MESSAGE = "reset"
MAX_CALL_CHAIN = 100
"""How many calls in a row may each be made from the answer to the one
before: canned answers come at once, so a plugin that always calls again
when answered would otherwise never stop.  The next one is refused with
INTERNAL_FAILURE ("the host failed to send the call")."""


@dataclass(frozen=True)
class UpstreamResponse:
    """One canned answer of a simulated cluster (see the module docstring)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    trailers: tuple[tuple[str, str], ...] = ()
    reset: bool = False
    timeout: bool = False

    def to_call_response(self) -> HttpCallResponse:
        if self.reset:
            return HttpCallResponse(HeaderMap(), b"", None, RESET_MESSAGE)
        if self.timeout:
            headers = HeaderMap([(":status", "504"), ("content-length", str(len(TIMEOUT_BODY))),
                                 ("content-type", "text/plain")])
            return HttpCallResponse(headers, TIMEOUT_BODY, None, None)
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
    def make(cls, status: int = 200, headers: Any = None, body: str | bytes = b"",
             trailers: Any = None) -> HttpCallResponse:
        """A response for answering a call by hand."""
        return UpstreamResponse(status, tuple(HeaderMap(headers).items()), as_bytes(body),
                                tuple(HeaderMap(trailers).items())).to_call_response()

    @classmethod
    def reset(cls) -> HttpCallResponse:
        return UpstreamResponse(reset=True).to_call_response()

    def to_report(self) -> dict[str, Any]:
        if self.failure is not None:
            return {"failure": self.failure}
        return {"status": int(self.headers.get(":status") or 0), "headers": self.headers.to_report(),
                "body": readable(self.body),
                "trailers": self.trailers.to_report() if self.trailers is not None else []}


class CallChainTooLong(Exception):
    """See ``MAX_CALL_CHAIN``."""


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

    def __init__(self, token: int, plugin: Plugin, context: Context | None, stream: HttpStream | None,
                 upstream: str, headers: HeaderMap, body: bytes, trailers: HeaderMap, timeout_ms: int,
                 chain: int = 0) -> None:
        self.token = token
        self.chain = chain
        self.plugin = plugin
        self.context_id = context.id if context is not None else None
        self.stream = stream
        self.upstream = upstream
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.timeout_ms = timeout_ms
        self.response: HttpCallResponse | None = None

    @property
    def pending(self) -> bool:
        return self.response is None

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin.name, "token": self.token, "context_id": self.context_id,
                "upstream": readable(self.upstream), "headers": self.headers.to_report(),
                "body": readable(self.body),
                "trailers": self.trailers.to_report(), "timeout_ms": self.timeout_ms,
                "response": self.response.to_report() if self.response is not None else None}

    def __repr__(self) -> str:
        return f"<HttpCall {self.plugin.name}#{self.token} to {self.upstream}>"


class HttpCallDispatcher:
    """Every call of a run, the clusters, and the answers waiting to be
    delivered."""

    def __init__(self, host: ProxyHost) -> None:
        self.host = host
        self.upstreams: dict[str, Upstream] = {}
        self.calls: list[HttpCall] = []
        self._ready: deque[HttpCall] = deque()

    def add_upstream(self, upstream: Upstream) -> None:
        self.upstreams[upstream.name] = upstream

    @property
    def pending(self) -> list[HttpCall]:
        return [call for call in self.calls if call.pending and call not in self._ready]

    def dispatch(self, plugin: Plugin, context: Context | None, upstream: str, headers: HeaderMap, body: bytes,
                 trailers: HeaderMap, timeout_ms: int) -> HttpCall:
        """Record a call (the caller has checked the cluster and headers);
        ``CallChainTooLong`` past ``MAX_CALL_CHAIN``."""
        answering = plugin.frame.answering if plugin.frame is not None else None
        chain = answering.chain + 1 if answering is not None else 0
        if chain > MAX_CALL_CHAIN:
            raise CallChainTooLong(f"{MAX_CALL_CHAIN} calls in a row were each made from the answer to the "
                                   f"one before")
        token = plugin.next_http_call_token
        plugin.next_http_call_token += 1
        stream = context.slot.stream if context is not None and context.slot is not None else None
        call = HttpCall(token, plugin, context, stream, upstream, headers, body, trailers, timeout_ms, chain)
        self.calls.append(call)
        cluster = self.upstreams[upstream]
        if cluster.answers_by_itself:
            call.response = cluster.next_response().to_call_response()
            self._ready.append(call)
        return call

    def respond(self, call: HttpCall, response: HttpCallResponse) -> None:
        """Answer a pending call by hand; it is delivered at once."""
        from abi.errors import UsageError

        if not call.pending or call in self._ready:
            raise UsageError(f"{call!r} was already answered")
        call.response = response
        self._ready.append(call)
        self.host.settle()

    def deliver_ready(self) -> None:
        """Deliver every answered call not yet delivered, oldest first."""
        while self._ready:
            self._deliver(self._ready.popleft())

    def _deliver(self, call: HttpCall) -> None:
        response = call.response
        if response is None:
            return
        plugin = call.plugin
        root = plugin.root_context
        self.host.trace.event("http_call_response", call.stream.name if call.stream else None,
                              plugin=plugin.name, token=call.token, response=response.to_report())
        if root is None or plugin.failed:
            return
        trailers = len(response.trailers) if response.trailers is not None else 0
        status = (int(Status.BROKEN_CONNECTION), response.failure) if response.failure else (0, "")
        outcome = plugin.call("proxy_on_http_call_response", root,
                              [root.id, call.token, len(response.headers), len(response.body), trailers],
                              CallbackPhase.HTTP_CALL_RESPONSE, http_response=response, call_status=status,
                              answering=call)
        self.host.apply(outcome)
