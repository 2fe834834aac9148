"""The report of a run: one JSON document (``--json``), or a readable
summary.  Both are deterministic: everything is in the order it happened
(plugins in chain order, streams in run order, logs and failures as they
came) except metrics, sorted by name; bodies and header text are rendered as
``abi.text.readable`` does (undecodable bytes as ``\\xNN``).

Document keys: ``plugins``, ``streams`` (each: ``name``, ``upstream_request``,
``downstream_response``, ``local_response``, ``http_calls``, ``stalled``,
``reset``, ``failed_by``), ``http_calls`` (those made outside any stream),
``logs``, ``metrics``, ``failures``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from abi.text import readable

if TYPE_CHECKING:
    from abi.host import ProxyHost
    from abi.plugin import Plugin
    from abi.stream import HttpStream


def build_report(host: ProxyHost) -> dict[str, Any]:
    return {
        "plugins": [_plugin(plugin) for plugin in host.plugins],
        "streams": [stream.to_report() for stream in host.streams],
        "http_calls": [call.to_report() for call in host.http_calls.calls if call.stream is None],
        "logs": [entry.to_report() for entry in host.logs()],
        "metrics": {readable(name): value for name, value in host.metrics.report().items()},
        "failures": [failure.to_report() for failure in host.failures],
    }


def _plugin(plugin: Plugin) -> dict[str, Any]:
    return {"name": plugin.name, "wasm": plugin.config.wasm_label, "abi_version": plugin.abi_version.value,
            "root_id": plugin.config.root_id, "vm_id": plugin.config.vm_id,
            "failure_policy": plugin.config.failure_policy.value, "failed": plugin.failed}


def render_json(report: dict[str, Any]) -> str:
    """Indented JSON, with lists of plain values (a header pair, histogram
    samples) kept on one line so header lists read one header per line.
    ASCII only (other characters as ``\\u`` escapes): the document prints the
    same on any terminal."""
    return _json(report, 0) + "\n"


def _json(value: Any, depth: int) -> str:
    inner = "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {_json(item, depth + 1)}"
                 for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and value and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + _json(item, depth + 1) for item in value) + "\n" + "  " * depth + "]"
    return json.dumps(value)


def render_summary(host: ProxyHost) -> str:
    lines: list[str] = ["plugins (request order):"]
    for plugin in host.plugins:
        state = "FAILED" if plugin.failed else "ok"
        lines.append(f"  {plugin.name}: ABI {plugin.abi_version.value}, {plugin.config.failure_policy.value}, "
                     f"{state}")
    for stream in host.streams:
        lines.extend(_stream_lines(stream))
    other_calls = [call for call in host.http_calls.calls if call.stream is None]
    if other_calls:
        lines.append("http calls outside streams:")
        lines.extend(_call_line(call) for call in other_calls)
    logs = host.logs()
    lines.append(f"logs ({len(logs)}):")
    lines.extend(f"  [{entry.level.label}] {entry.plugin}: {readable(entry.message)}" for entry in logs)
    metrics = host.metrics.report()
    lines.append(f"metrics ({len(metrics)}):")
    for name, value in metrics.items():
        name = readable(name)
        shown = (f"count {value['count']}, sum {value['sum']}" if isinstance(value, dict) else str(value))
        lines.append(f"  {name} = {shown}")
    lines.append(f"failures ({len(host.failures)}):")
    for failure in host.failures:
        where = f" (stream {failure.stream})" if failure.stream else ""
        lines.append(f"  {failure.plugin} in {failure.callback}{where}: {failure.error}")
        lines.extend(f"    {index}: {frame}" for index, frame in enumerate(failure.backtrace))
    return "\n".join(lines) + "\n"


def _stream_lines(stream: HttpStream) -> list[str]:
    headers = stream.request_headers
    lines = [f"stream {stream.name}: {headers.get(':method') or '?'} {headers.get(':authority') or ''}"
             f"{headers.get(':path') or ''}"]
    upstream = stream.upstream_request
    if upstream is None:
        lines.append("  origin: never reached")
    else:
        state = "" if upstream.end_of_stream else " (incomplete)"
        lines.append(f"  origin got: {len(upstream.headers)} headers, {len(upstream.body)} body bytes{state}")
    reply = stream.local_response
    if reply is not None:
        lines.append(f"  local reply by {reply.plugin}: {reply.status} {readable(reply.details)}")
    response = stream.downstream_response
    if response is None:
        lines.append("  client got: no response")
    else:
        lines.append(f"  client got: {response.status} with {len(response.headers)} headers, "
                     f"{len(response.body)} body bytes")
    lines.extend(_call_line(call) for call in stream.http_calls)
    if stream.stalled:
        lines.append(f"  STALLED: {stream.stalled}")
    if stream.reset_reason:
        lines.append(f"  RESET: {stream.reset_reason}")
    return lines


def _call_line(call: Any) -> str:
    response = call.response
    if response is None:
        outcome = "pending"
    elif response.failure:
        outcome = f"failed ({response.failure})"
    else:
        outcome = f"answered {response.headers.get(':status')}"
    return f"  http call {call.plugin.name}#{call.token} to {readable(call.upstream)}: {outcome}"
