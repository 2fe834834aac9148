"""What the simulated proxy records while it runs: log lines, local replies
and HTTP messages (plugin failures are ``abi.vm.callbacks.Failure``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abi.enums import LogLevel
from abi.proxy.headers import HeaderMap
from abi.wire.text import readable


@dataclass(frozen=True)
class LogEntry:
    """One log line of a plugin: through ``proxy_log``, or a line the plugin
    wrote to stdout (info) or stderr (error).  ``stream`` names the stream the
    logging context belonged to (``None`` for root contexts)."""

    plugin: str
    level: LogLevel
    message: str
    stream: str | None = None
    context_id: int | None = None

    def to_report(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "level": self.level.label, "message": readable(self.message),
                "stream": self.stream}


@dataclass(frozen=True)
class LocalResponse:
    """A reply a plugin sent with ``proxy_send_local_response`` (or the 503
    a failing plugin causes under ``fail_close``, with details
    ``wasm_fail_stream`` and ``plugin`` the failed one; or one the proxy
    itself sends when a limit is crossed, ``plugin`` ``None``)."""

    status: int
    details: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    grpc_status: int | None
    plugin: str | None

    def to_report(self) -> dict[str, Any]:
        return {"status": self.status, "details": readable(self.details), "plugin": self.plugin,
                "body": readable(self.body), "headers": [[readable(n), readable(v)] for n, v in self.headers],
                "grpc_status": self.grpc_status}


@dataclass
class HttpMessage:
    """A request or response as one end saw it: the origin (what it
    received) or the client (what it got back).  Headers and trailers are
    copies taken when they arrived."""

    headers: HeaderMap = field(default_factory=HeaderMap)
    body: bytearray = field(default_factory=bytearray)
    trailers: HeaderMap | None = None
    end_of_stream: bool = False

    @property
    def status(self) -> int | None:
        status = self.headers.get(":status")
        return int(status) if status is not None and status.isdigit() else None

    def to_report(self, with_status: bool = False) -> dict[str, Any]:
        report: dict[str, Any] = {}
        if with_status:
            report["status"] = self.status
        report.update({"headers": self.headers.to_report(), "body": readable(bytes(self.body)),
                       "trailers": self.trailers.to_report() if self.trailers is not None else [],
                       "complete": self.end_of_stream})
        return report
