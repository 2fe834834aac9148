"""The callbacks a proxy-wasm host calls into a plugin (spec v0.2.1), with
the types the ABI gives them and what their results mean; how a callback
ended (``CallbackOutcome``) and how a plugin failed (``Failure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abi.enums import Action
from interp.errors import GlasswasmError
from interp.syntax.types import I32, FuncType
from interp.wasi import ProcessExit


@dataclass(frozen=True)
class CallbackSignature:
    params: tuple[str, ...]
    returns: bool
    kind: str = "none"  # what the result means: "action", "bool", "pointer", "none"

    @property
    def func_type(self) -> FuncType:
        return FuncType(tuple(I32 for _ in self.params), (I32,) if self.returns else ())


def _action(*params: str) -> CallbackSignature:
    return CallbackSignature(("context_id", *params), True, "action")


def _void(*params: str) -> CallbackSignature:
    return CallbackSignature(("context_id", *params), False)


def _boolean(*params: str) -> CallbackSignature:
    return CallbackSignature(("context_id", *params), True, "bool")


CALLBACKS: dict[str, CallbackSignature] = {
    "_initialize": CallbackSignature((), False),
    "_start": CallbackSignature((), False),
    "proxy_on_memory_allocate": CallbackSignature(("size",), True, "pointer"),
    "malloc": CallbackSignature(("size",), True, "pointer"),
    "proxy_on_context_create": _void("parent_context_id"),
    "proxy_on_vm_start": _boolean("vm_configuration_size"),
    "proxy_on_configure": _boolean("plugin_configuration_size"),
    "proxy_on_tick": _void(),
    "proxy_on_queue_ready": _void("queue_id"),
    "proxy_on_new_connection": _action(),
    "proxy_on_downstream_data": _action("data_size", "end_of_stream"),
    "proxy_on_upstream_data": _action("data_size", "end_of_stream"),
    "proxy_on_downstream_connection_close": _void("peer_type"),
    "proxy_on_upstream_connection_close": _void("peer_type"),
    "proxy_on_request_headers": _action("num_headers", "end_of_stream"),
    "proxy_on_request_body": _action("body_size", "end_of_stream"),
    "proxy_on_request_trailers": _action("num_trailers"),
    "proxy_on_response_headers": _action("num_headers", "end_of_stream"),
    "proxy_on_response_body": _action("body_size", "end_of_stream"),
    "proxy_on_response_trailers": _action("num_trailers"),
    "proxy_on_log": _void(),
    "proxy_on_done": _boolean(),
    "proxy_on_delete": _void(),
    "proxy_on_http_call_response": _void("token", "num_headers", "body_size", "num_trailers"),
    "proxy_on_grpc_receive_initial_metadata": _void("token", "num_headers"),
    "proxy_on_grpc_receive": _void("token", "message_size"),
    "proxy_on_grpc_receive_trailing_metadata": _void("token", "num_trailers"),
    "proxy_on_grpc_close": _void("token", "status_code"),
    "proxy_on_foreign_function": _void("function_id", "data_size"),
}
"""The callbacks this host calls, with the types ABI 0.2.x gives them."""

ACTION_RESULTS: dict[str, dict[int, Action]] = {
    # The C++ SDK's FilterHeadersStatus: Continue, StopIteration, ContinueAndEndStream,
    # StopAllIterationAndBuffer, StopAllIterationAndWatermark.
    "headers": {0: Action.CONTINUE, 1: Action.PAUSE, 2: Action.CONTINUE, 3: Action.PAUSE, 4: Action.PAUSE},
    # FilterDataStatus: Continue, StopIterationAndBuffer, StopIterationAndWatermark, StopIterationNoBuffer.
    "body": {0: Action.CONTINUE, 1: Action.PAUSE, 2: Action.PAUSE, 3: Action.PAUSE},
    "trailers": {0: Action.CONTINUE, 1: Action.PAUSE},
    # Network FilterStatus: Continue, StopIteration.
    "connection": {0: Action.CONTINUE, 1: Action.PAUSE},
    "data": {0: Action.CONTINUE, 1: Action.PAUSE},
}
"""What each kind of stream or connection callback may answer."""


def action_kind(callback: str) -> str:
    """``proxy_on_request_headers`` → ``headers``; ``proxy_on_new_connection``
    → ``connection``; ``proxy_on_downstream_data`` → ``data``."""
    return callback.rsplit("_", 1)[1]


@dataclass(frozen=True)
class Failure:
    """A plugin failed: ``callback`` is the entry point that failed (or
    ``"proxy_on_configure"`` for a false return...), ``error`` one line,
    ``backtrace`` the wasm frames, innermost first; ``stream`` the stream or
    connection the failing context belonged to."""

    plugin: str
    callback: str
    error: str
    backtrace: tuple[str, ...] = ()
    stream: str | None = None

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "callback": self.callback, "error": self.error,
                "backtrace": list(self.backtrace), "stream": self.stream}

    def describe(self) -> str:
        return f"plugin {self.plugin} failed in {self.callback}: {self.error}"


@dataclass(frozen=True)
class CallbackOutcome:
    """How a callback ended: its raw result (``None`` for no result, a
    callback the plugin does not export, or a failure) and the failure if it
    failed."""

    result: int | None
    failure: Failure | None = None
    called: bool = True

    @property
    def failed(self) -> bool:
        return self.failure is not None


def error_line(error: GlasswasmError) -> str:
    """A failure as one line: its kind, then the message."""
    label = "proc_exit" if isinstance(error, ProcessExit) else error.label
    return f"{label}: {error}"


def traced_argument(name: str, value: int) -> Any:
    return bool(value) if name == "end_of_stream" else value


def traced_result(name: str, result: int | None) -> Any:
    """A callback's result as the trace shows it: an action by name, a
    boolean, or the number."""
    signature = CALLBACKS.get(name)
    if signature is None or result is None:
        return result
    if signature.kind == "bool":
        return bool(result)
    if signature.kind == "action":
        action = ACTION_RESULTS[action_kind(name)].get(result)
        return action.name if action is not None and result in (0, 1) else result
    return result
