"""The report of a run: one JSON document (``--json``), or a readable
summary.  Both are deterministic: everything is in the order it happened
(plugins in load order, streams and connections in the order they opened,
logs and failures as they came) except metrics, shared data and host-call
errors, sorted by name; bodies and header text are rendered as
``abi.wire.text.readable`` does (undecodable bytes as ``\\xNN``).

Document keys: ``plugins`` (the HTTP chain), ``network_plugins``,
``services`` (each: ``name``, ``kind``, ``wasm``, ``abi_version``,
``root_id``, ``vm_id``, ``vm`` (the plugin whose VM it shares, itself when
alone), ``failure_policy``, ``failed``, ``reloads``, ``generation``,
``ticks``, ``origin``), ``streams`` (each: ``name``, ``plugins``, ``upstream_request``,
``downstream_response``, ``local_response``, ``http_calls``,
``grpc_calls``, ``stalled``, ``reset``, ``failed_by``), ``connections``
(each: ``name``, ``plugins``, ``origin_received``, ``client_received``,
``closed_by``, ``upstream_closed_by``, ``stalled``, ``failed_by``,
``http_calls``), ``http_calls`` and ``grpc_calls`` (those made outside any
stream or connection), ``logs``, ``logs_dropped`` (``{plugin: count}`` of
lines past the log limits), ``metrics``, ``shared_data``
(``{vm_id: {key: {value, cas}}}``), ``queues`` (each: ``id``, ``vm_id``,
``name``, ``registered_by``, ``enqueued``, ``left``), ``reconfigurations``,
``host_call_errors`` (``[{plugin, call, status, count}]``: every host call
that answered an error status), ``failures``, ``time_ms`` (simulated time at
the end).  A plugin's ``origin`` is ``null``, or for one translated from
Istio or Envoy configuration ``{source, resource, file, ..., notes}``.
"""

from __future__ import annotations

import json
from typing import Any

from abi.frontends.changes import message_change_lines, quoted
from abi.proxy.connection import NetworkConnection
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import HttpStream
from abi.proxy.plugins import Plugin, PluginLink
from abi.proxy.records import LogEntry
from abi.vm.callbacks import Failure
from abi.wire.text import readable


def build_report(host: ProxyHost) -> dict[str, Any]:
    services = host.services
    traffic = {item.name for item in [*host.streams, *host.connections]}
    links = host.plugin_set.links
    return {
        "plugins": [_plugin(link) for link in links if link.kind.value == "http"],
        "network_plugins": [_plugin(link) for link in links if link.kind.value == "network"],
        "services": [_plugin(link) for link in links if link.kind.value == "service"],
        "streams": [stream.to_report() for stream in host.streams],
        "connections": [connection.to_report() for connection in host.connections],
        "http_calls": [call.to_report() for call in host.http_calls if call.stream_name not in traffic],
        "grpc_calls": [call.to_report() for call in host.grpc_calls if call.stream_name is None],
        "logs": [entry.to_report() for entry in host.logs()],
        "logs_dropped": dict(sorted(services.logs.dropped.items())),
        "metrics": {readable(name): value for name, value in services.metrics.report().items()},
        "shared_data": services.shared_data.report(),
        "queues": services.shared_queues.report(),
        "reconfigurations": [item.to_report() for item in host.plugin_set.reconfigurations],
        "host_call_errors": host_call_errors(host),
        "failures": [failure.to_report() for failure in host.failures],
        "time_ms": services.scheduler.now_ns / 1_000_000,
    }


def host_call_errors(host: ProxyHost) -> list[dict[str, Any]]:
    return [{"plugin": plugin, "call": call, "status": status, "count": count}
            for (plugin, call, status), count in sorted(host.trace.error_statuses.items())]


def _plugin(link: PluginLink) -> dict[str, Any]:
    plugin = link.current
    config = plugin.config
    return {"name": plugin.name, "kind": link.kind.value, "wasm": config.wasm_label,
            "abi_version": plugin.abi_version.value, "root_id": config.root_id, "vm_id": config.vm_id,
            "vm": plugin.record.label, "failure_policy": config.failure_policy.value, "failed": plugin.failed,
            "reloads": link.reloads, "generation": plugin.generation,
            "ticks": sum(p.root.timer.ticks for p in link.plugins if p.root is not None),
            "origin": config.origin.to_report() if config.origin is not None else None}


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
    lines: list[str] = []
    for title, links in (("plugins (request order):", "http"), ("network plugins:", "network"),
                         ("services:", "service")):
        chosen = [link for link in host.plugin_set.links if link.kind.value == links]
        if chosen:
            lines.append(title)
            lines.extend(_plugin_line(link.current, link) for link in chosen)
    for stream in host.streams:
        lines.extend(_stream_lines(stream))
    for connection in host.connections:
        lines.extend(_connection_lines(connection))
    traffic = {item.name for item in [*host.streams, *host.connections]}
    other_calls = [call for call in host.http_calls if call.stream_name not in traffic]
    if other_calls:
        lines.append("http calls outside streams:")
        lines.extend(_call_line(call) for call in other_calls)
    other_grpc = [call for call in host.grpc_calls if call.stream_name is None]
    if other_grpc:
        lines.append("grpc calls outside streams:")
        lines.extend(_grpc_line(call) for call in other_grpc)
    logs = host.logs()
    lines.append(f"logs ({len(logs)}):")
    lines.extend(f"  {log_line(entry)}" for entry in logs)
    lines.extend(f"  {line}" for line in _dropped_lines(host))
    metrics = host.services.metrics.report()
    lines.append(f"metrics ({len(metrics)}):")
    for name, value in metrics.items():
        shown = (f"count {value['count']}, sum {value['sum']}" if isinstance(value, dict) else str(value))
        lines.append(f"  {readable(name)} = {shown}")
    shared = host.services.shared_data.report()
    if shared:
        lines.append("shared data:")
        for vm_id, entries in shared.items():
            for key, entry in entries.items():
                lines.append(f"  [vm {vm_id!r}] {key} = {entry['value']!r} (cas {entry['cas']})")
    queues = host.services.shared_queues.report()
    if queues:
        lines.append("queues:")
        lines.extend(f"  {queue['name']} (vm {queue['vm_id']!r}, id {queue['id']}): {queue['enqueued']} enqueued, "
                     f"{len(queue['left'])} left" for queue in queues)  # type: ignore[arg-type]
    if host.plugin_set.reconfigurations:
        lines.append("reconfigurations:")
        for item in host.plugin_set.reconfigurations:
            outcome = "accepted" if item.accepted else f"rejected ({item.error})"
            lines.append(f"  {item.plugin} at {item.at_ns / 1_000_000:g} ms: {outcome}"
                         f"{', same VM' if item.same_vm else ', new VM'}")
    errors = host_call_errors(host)
    if errors:
        lines.append(f"host calls that answered an error ({sum(e['count'] for e in errors)}):")
    lines.extend(f"  {e['plugin']}: {e['call']} -> {e['status']} x{e['count']}" for e in errors)
    lines.append(f"failures ({len(host.failures)}):")
    for failure in host.failures:
        lines.extend(f"  {line}" for line in failure_lines(failure))
    return "\n".join(lines) + "\n"


def render_logs(host: ProxyHost, traffic: str | None = None) -> str:
    """The host's log lines and plugin failures, as the summary shows them;
    with ``traffic``, only those of that stream or connection and of root
    contexts."""
    logs = [entry for entry in host.logs() if traffic is None or entry.stream in (None, traffic)]
    failures = [failure for failure in host.failures if traffic is None or failure.stream in (None, traffic)]
    lines = [log_line(entry) for entry in logs] or ["(no log lines)"]
    lines += _dropped_lines(host)
    if failures:
        lines.append(f"failures ({len(failures)}):")
        lines.extend(f"  {line}" for failure in failures for line in failure_lines(failure))
    return "\n".join(lines) + "\n"


def _dropped_lines(host: ProxyHost) -> list[str]:
    return [f"... {count} more lines of {plugin} dropped (limits.max_log_lines / max_log_bytes)"
            for plugin, count in sorted(host.services.logs.dropped.items())]


def log_line(entry: LogEntry) -> str:
    """A log line as the summary shows it: ``[info] plugin: message``."""
    return f"[{entry.level.label}] {entry.plugin}: {readable(entry.message)}"


def failure_lines(failure: Failure) -> list[str]:
    """A plugin failure as the summary shows it, then its backtrace."""
    where = f" (stream {failure.stream})" if failure.stream else ""
    return [f"{failure.plugin} in {failure.callback}{where}: {failure.error}",
            *(f"  {index}: {frame}" for index, frame in enumerate(failure.backtrace))]


def traffic_lines(host: ProxyHost, name: str) -> list[str]:
    """The summary's lines of the stream or connection called ``name``."""
    lines = [line for stream in host.streams if stream.name == name for line in _stream_lines(stream)]
    return lines + [line for connection in host.connections if connection.name == name
                    for line in _connection_lines(connection)]


def _plugin_line(plugin: Plugin, link: PluginLink) -> str:
    state = "FAILED" if plugin.failed else "ok"
    extra = f", reloaded {link.reloads}x" if link.reloads else ""
    shared = f", VM of {plugin.record.label}" if plugin.record.label != plugin.name else ""
    origin = plugin.config.origin
    source = f" (from {origin.resource})" if origin is not None else ""
    return (f"  {plugin.name}: ABI {plugin.abi_version.value}, {plugin.config.failure_policy.value}, {state}"
            f"{shared}{extra}{source}")


def _stream_lines(stream: HttpStream) -> list[str]:
    """The stream's two ends; under each, what the plugins changed on the
    way (``abi.frontends.changes``): the origin's request against the
    client's, the client's response against the origin's answer."""
    sent = stream.client_request
    lines = [f"stream {stream.name}: {sent.headers.get(':method') or '?'} {sent.headers.get(':authority') or ''}"
             f"{sent.headers.get(':path') or ''}"]
    upstream = stream.upstream_request
    if upstream is None:
        lines.append("  origin: never reached")
    else:
        state = "" if upstream.end_of_stream else " (incomplete)"
        lines.append(f"  origin got: {len(upstream.headers)} headers, {len(upstream.body)} body bytes{state}")
        lines.extend(f"    {line}" for line in message_change_lines(sent, upstream))
    reply = stream.local_response
    if reply is not None:
        lines.append(f"  local reply by {reply.plugin or 'the proxy'}: {reply.status} {readable(reply.details)}")
    response = stream.downstream_response
    answer = stream.origin_response
    if response is None:
        lines.append("  client got: no response")
    else:
        body = f": {quoted(response.body)}" if answer is None and response.body else ""
        lines.append(f"  client got: {response.status} with {len(response.headers)} headers, "
                     f"{len(response.body)} body bytes{body}")
        if answer is not None:
            lines.extend(f"    {line}" for line in message_change_lines(answer, response))
    lines.extend(_call_line(call) for call in stream.http_calls)
    lines.extend(_grpc_line(call) for call in stream.grpc_calls)
    if stream.stalled:
        lines.append(f"  STALLED: {stream.stalled}")
    if stream.reset_reason:
        lines.append(f"  RESET: {stream.reset_reason}")
    return lines


def _connection_lines(connection: NetworkConnection) -> list[str]:
    lines = [f"connection {connection.name}:",
             f"  origin got: {_data(connection.origin_received.data)}",
             f"  client got: {_data(connection.client_received.data)}",
             f"  closed by: {connection.closed_by or 'nobody'}"]
    if connection.stalled:
        lines.append(f"  STALLED: {connection.stalled}")
    return lines


def _data(data: bytes | bytearray) -> str:
    return f"{len(data)} bytes: {quoted(data)}" if data else "0 bytes"


def _call_line(call: Any) -> str:
    response = call.response
    if response is None:
        outcome = "pending"
    elif response.failure:
        outcome = f"failed ({response.failure})"
    else:
        outcome = f"answered {response.headers.get(':status')}"
    return f"  http call {call.plugin.name}#{call.token} to {readable(call.upstream)}: {outcome}"


def _grpc_line(call: Any) -> str:
    status = "open" if call.status is None else f"status {call.status[0]}"
    return f"  grpc {call.kind.value} {call.plugin.name}#{call.token} {call.path}: {call.state.value}, {status}"
