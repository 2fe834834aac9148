"""``glasswasm proxy SCENARIO --html FILE``: the run as one self-contained
web page.

Everything is in the file — styles inline, the diagrams as inline SVG, no
script, no font, no image to fetch — so it opens from disk in any browser,
offline.  Per stream: a sequence diagram of the request and the response
moving through the chain (each plugin's callbacks with their action,
pauses, local replies, the request reaching the origin, callouts and their
answers, in the order they happened), the headers as each plugin received
them and as it left them with the changes marked, the bodies likewise, the
stream's log lines and every callback with its host calls.  Then the
callbacks outside streams, connections, all logs, metrics, shared data, and
failures with their backtraces and source lines.

The page is made from the run's ``RunRecorder`` (abi/debug/recording.py) and
the host's final state; the same run gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from abi.debug.recording import CallbackRecord, EventRecord, Record, RunRecorder
from abi.frontends.report import build_report
from abi.proxy.host import ProxyHost
from abi.proxy.http_stream import HttpStream
from abi.wire.text import readable

LANE_WIDTH = 150
ROW_HEIGHT = 24
TOP = 40
MAX_BODY_SHOWN = 2_000
MAX_ARGUMENT_SHOWN = 300
NS_PER_MS = 1_000_000
HIDDEN_LIFECYCLE = ("proxy_on_context_create", "proxy_on_done", "proxy_on_delete")
HEADER_CALLBACKS = {
    "proxy_on_request_headers": ("request", "request_headers"),
    "proxy_on_response_headers": ("response", "response_headers"),
    "proxy_on_request_trailers": ("request trailers", "request_trailers"),
    "proxy_on_response_trailers": ("response trailers", "response_trailers"),
}
BODY_CALLBACKS = {"proxy_on_request_body": "request_body", "proxy_on_response_body": "response_body"}

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2em 3em; color: #1d232b; background: #fbfbfa; }
h1 { font-size: 1.6em; margin: 1em 0 .3em; } h2 { font-size: 1.25em; margin: 1.8em 0 .4em;
  border-bottom: 2px solid #d8dce2; padding-bottom: .2em; } h3 { font-size: 1.02em; margin: 1.2em 0 .3em; }
code, pre, td.mono { font: 12.5px/1.4 ui-monospace, monospace; }
table { border-collapse: collapse; margin: .3em 0 1em; } th, td { border: 1px solid #d8dce2;
  padding: 3px 8px; vertical-align: top; text-align: left; } th { background: #eef1f4; }
.chips span { display: inline-block; margin: 0 .5em .4em 0; padding: 2px 10px; border-radius: 10px;
  background: #e6ebf0; } .chips span.bad { background: #f6d5d2; color: #8a1c12; }
.badge { font-size: .8em; padding: 1px 7px; border-radius: 8px; background: #e6ebf0; margin-left: .4em; }
.badge.bad { background: #f6d5d2; color: #8a1c12; } .badge.warn { background: #fbe7c2; color: #7a4b00; }
.added { background: #d7f2dc; } .removed { background: #f8d7d4; text-decoration: line-through; }
.changed { background: #fbeec2; } .same { color: #59616b; }
.headers td { font: 12.5px/1.4 ui-monospace, monospace; } .headers ul { list-style: none; margin: 0; padding: 0; }
.headers li { padding: 0 4px; white-space: pre-wrap; word-break: break-all; }
details { margin: .15em 0; } summary { cursor: pointer; } pre { white-space: pre-wrap; word-break: break-all;
  margin: .2em 0; background: #f1f3f5; padding: 4px 8px; }
svg.sequence { background: #fff; border: 1px solid #d8dce2; margin: .4em 0 1em; }
svg text { font: 11.5px system-ui, sans-serif; } svg .lane { font-weight: 600; }
.failure { border-left: 4px solid #c0392b; padding: .2em .8em; background: #fdf1f0; margin: .6em 0; }
.source { color: #0b5394; }
"""


def render_html(host: ProxyHost, recorder: RunRecorder, title: str) -> str:
    """The page of a finished run (module docstring)."""
    report = build_report(host)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>glasswasm proxy: {escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>glasswasm proxy: {escape(title)}</h1>", _summary(host, recorder, report),
             _plugins(report)]
    for stream in host.streams:
        parts.append(_stream_section(stream, recorder))
    for connection in host.connections:
        parts.append(_connection_section(connection.name, recorder))
    parts.append(_outside_streams(host, recorder))
    parts.append(_logs(report))
    parts.append(_metrics(report))
    parts.append(_failures(host, recorder))
    parts.append("</body></html>\n")
    return "\n".join(part for part in parts if part)


# --- the top --------------------------------------------------------------------------------------


def _summary(host: ProxyHost, recorder: RunRecorder, report: dict[str, Any]) -> str:
    callbacks = sum(1 for record in recorder.records if isinstance(record, CallbackRecord))
    chips = [f"{len(report['plugins']) + len(report['network_plugins']) + len(report['services'])} plugins",
             f"{len(host.streams)} streams", f"{len(host.connections)} connections", f"{callbacks} callbacks",
             f"{report['time_ms']:g} ms simulated"]
    failures = f"<span class=\"bad\">{len(host.failures)} failures</span>" if host.failures else \
        "<span>no failures</span>"
    dropped = f"<p>The recording stopped after {len(recorder.records):,} items; {recorder.dropped:,} more are " \
              f"not shown.</p>" if recorder.dropped else ""
    return "<div class=\"chips\">" + "".join(f"<span>{escape(chip)}</span>" for chip in chips) + failures + \
        "</div>" + dropped


def _plugins(report: dict[str, Any]) -> str:
    rows = []
    for plugin in [*report["services"], *report["plugins"], *report["network_plugins"]]:
        state = "<span class=\"badge bad\">failed</span>" if plugin["failed"] else "ok"
        vm = "" if plugin["vm"] == plugin["name"] else f"VM of {escape(plugin['vm'])}"
        rows.append(f"<tr><td>{escape(plugin['name'])}</td><td>{plugin['kind']}</td><td class=\"mono\">"
                    f"{escape(plugin['wasm'])}</td><td>{plugin['abi_version']}</td><td>{plugin['failure_policy']}"
                    f"</td><td>{vm}</td><td>{state}</td></tr>")
    return ("<h2 id=\"plugins\">Plugins</h2><table><tr><th>plugin</th><th>kind</th><th>module</th><th>ABI</th>"
            "<th>on failure</th><th>VM</th><th>state</th></tr>" + "".join(rows) + "</table>")


# --- a stream -------------------------------------------------------------------------------------


def _stream_section(stream: HttpStream, recorder: RunRecorder) -> str:
    records = recorder.of_stream(stream.name)
    request = stream.request_headers
    head = f"{request.get(':method') or '?'} {request.get(':authority') or ''}{request.get(':path') or ''}"
    response = stream.downstream_response
    badges = [f"<span class=\"badge\">{response.status if response is not None else 'no response'}</span>"]
    if stream.local_response is not None:
        badges.append(f"<span class=\"badge warn\">local reply by {escape(stream.local_response.plugin or 'the proxy')}"
                      f"</span>")
    for label, value in (("stalled", stream.stalled), ("reset", stream.reset_reason),
                         ("failed by", stream.failed_by)):
        if value:
            badges.append(f"<span class=\"badge bad\">{label}: {escape(value)}</span>")
    lanes = ["client", *[slot.plugin.name for slot in stream.slots], "origin"]
    lanes += sorted({call.upstream for call in stream.http_calls} | {f"grpc {call.cluster}" for call in
                                                                     stream.grpc_calls})
    parts = [f"<section class=\"stream\" id=\"stream-{escape(stream.name)}\" data-stream=\"{escape(stream.name)}\">",
             f"<h2>stream {escape(stream.name)}: <code>{escape(head)}</code>{''.join(badges)}</h2>",
             _sequence_diagram(lanes, records, [slot.plugin.name for slot in stream.slots]),
             _header_changes(records), _body_changes(records), _stream_logs(records),
             _callback_details(records), "</section>"]
    return "\n".join(part for part in parts if part)


@dataclass(frozen=True)
class _Arrow:
    """One row of a sequence diagram: an arrow between lanes (``source`` ==
    ``target``: a note on one lane)."""

    source: int
    target: int
    label: str
    style: str = "call"  # call, pause, reply, callout, answer, note, bad


def _sequence_diagram(lanes: list[str], records: list[Record], chain: list[str]) -> str:
    index = {lane: position for position, lane in enumerate(lanes)}
    arrows: list[_Arrow] = []
    callouts: dict[tuple[str, Any], int] = {}  # (plugin, token) -> the cluster's lane
    for record in records:
        arrows.extend(_arrows(record, index, chain, callouts))
    width = LANE_WIDTH * len(lanes)
    height = TOP + ROW_HEIGHT * (len(arrows) + 1)
    out = [f"<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
           f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"sequence diagram\">",
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
           "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#445\"/>"
           "</marker></defs>"]
    for position, lane in enumerate(lanes):
        x = _lane_x(position)
        out.append(f"<line x1=\"{x}\" y1=\"{TOP - 8}\" x2=\"{x}\" y2=\"{height - 6}\" stroke=\"#c3c9d1\" "
                   f"stroke-dasharray=\"4 3\"/>")
        out.append(f"<text class=\"lane\" x=\"{x}\" y=\"{TOP - 16}\" text-anchor=\"middle\">{escape(lane)}</text>")
    colours = {"call": "#2b5c8a", "pause": "#b26a00", "reply": "#8a1c12", "callout": "#6b3fa0",
               "answer": "#6b3fa0", "note": "#59616b", "bad": "#c0392b"}
    for row, arrow in enumerate(arrows):
        y = TOP + ROW_HEIGHT * row + ROW_HEIGHT // 2
        colour = colours[arrow.style]
        x1, x2 = _lane_x(arrow.source), _lane_x(arrow.target)
        if arrow.source == arrow.target:
            out.append(f"<rect x=\"{x1 - 5}\" y=\"{y - 8}\" width=\"10\" height=\"16\" fill=\"{colour}\" "
                       f"opacity=\"0.8\"/>")
            out.append(f"<text x=\"{x1 + 9}\" y=\"{y + 4}\" fill=\"{colour}\">{escape(arrow.label)}</text>")
            continue
        dash = " stroke-dasharray=\"5 3\"" if arrow.style in ("answer", "reply") else ""
        out.append(f"<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"1.6\""
                   f"{dash} marker-end=\"url(#arrow)\"/>")
        left = min(x1, x2)
        out.append(f"<text x=\"{left + 6}\" y=\"{y - 4}\" fill=\"{colour}\">{escape(arrow.label)}</text>")
    out.append("</svg>")
    return "".join(out)


def _lane_x(position: int) -> int:
    return LANE_WIDTH * position + LANE_WIDTH // 2


def _arrows(record: Record, index: dict[str, int], chain: list[str],
            callouts: dict[tuple[str, Any], int]) -> list[_Arrow]:
    if isinstance(record, EventRecord):
        return _event_arrows(record, index, chain, callouts)
    plugin = index.get(record.plugin)
    if plugin is None or record.name in HIDDEN_LIFECYCLE:
        return []
    arrows = []
    name = record.name.removeprefix("proxy_")
    outcome = f" → {record.result}" if record.result is not None else ""
    if record.error is not None:
        return [_Arrow(plugin, plugin, f"{name}: {record.error}", "bad")]
    if record.name.startswith("proxy_on_request_"):
        arrows.append(_Arrow(plugin - 1, plugin, f"{name}{outcome}", "pause" if record.result == "PAUSE" else "call"))
    elif record.name.startswith("proxy_on_response_"):
        arrows.append(_Arrow(plugin + 1, plugin, f"{name}{outcome}", "pause" if record.result == "PAUSE" else "call"))
    else:
        arrows.append(_Arrow(plugin, plugin, f"{name}{outcome}", "note"))
    for call in record.hostcalls:
        if call["name"] in ("proxy_http_call", "proxy_dispatch_http_call") and call["status"] == "OK":
            cluster = index.get(str(call["args"].get("upstream", "")))
            if cluster is not None:
                path = _header(call["args"].get("headers"), ":path")
                callouts[(record.plugin, call["result"].get("token"))] = cluster
                arrows.append(_Arrow(plugin, cluster, f"http call #{call['result'].get('token')} {path}", "callout"))
        elif call["name"] in ("proxy_grpc_call", "proxy_grpc_stream") and call["status"] == "OK":
            cluster = index.get(f"grpc {call['args'].get('service', '')}")
            if cluster is not None:
                callouts[(record.plugin, call["result"].get("token"))] = cluster
                arrows.append(_Arrow(plugin, cluster, f"grpc #{call['result'].get('token')}", "callout"))
        elif call["name"] == "proxy_continue_stream":
            arrows.append(_Arrow(plugin, plugin, f"continue {call['args'].get('stream_type', '')}".rstrip(), "note"))
    return arrows


def _event_arrows(record: EventRecord, index: dict[str, int], chain: list[str],
                  callouts: dict[tuple[str, Any], int]) -> list[_Arrow]:
    details = record.details
    origin = len(chain) + 1
    if record.event == "origin_request_headers":
        return [_Arrow(len(chain), origin, "request reaches the origin", "call")]
    if record.event == "origin_request_complete":
        return [_Arrow(origin, origin, f"request complete ({details.get('body_size', 0)} body bytes)", "note")]
    if record.event == "local_response":
        plugin = index.get(str(details.get("plugin")), len(chain))
        return [_Arrow(plugin, 0, f"local reply {details.get('status')}", "reply")]
    if record.event == "http_call_response":
        plugin = index.get(str(details.get("plugin")))
        response = details.get("response") or {}
        cluster = callouts.get((str(details.get("plugin")), details.get("token")))
        status = response.get("failure") or _header(response.get("headers"), ":status") or "answer"
        if plugin is not None and cluster is not None:
            return [_Arrow(cluster, plugin, f"answer #{details.get('token')}: {status}", "answer")]
        if plugin is not None:
            return [_Arrow(plugin, plugin, f"answer #{details.get('token')}: {status}", "answer")]
        return []
    if record.event in ("stream_end", "stream_open"):
        return [_Arrow(0, 0, record.event.replace("_", " "), "note")]
    if record.event in ("stalled", "reset", "plugin_failed", "buffer_limit", "header_limit"):
        where = index.get(str(details.get("plugin")), 0)
        reason = details.get("reason") or details.get("error") or ""
        return [_Arrow(where, where, f"{record.event.replace('_', ' ')}: {reason}", "bad")]
    return []


def _header(pairs: Any, name: str) -> str:
    for pair in pairs or ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] == name:
            return str(pair[1])
    return ""


# --- headers and bodies through the chain ---------------------------------------------------------


def _header_changes(records: list[Record]) -> str:
    rows = []
    for record in records:
        if not isinstance(record, CallbackRecord) or record.name not in HEADER_CALLBACKS:
            continue
        label, attribute = HEADER_CALLBACKS[record.name]
        before = getattr(record.before, attribute) if record.before is not None else None
        after = getattr(record.after, attribute) if record.after is not None else None
        if before is None and after is None:
            continue
        received, left = _header_diff(before or (), after or ())
        rows.append(f"<tr data-plugin=\"{escape(record.plugin)}\" data-callback=\"{escape(record.name)}\">"
                    f"<td>{escape(record.plugin)}</td><td>{escape(label)}</td><td>{received}</td><td>{left}</td>"
                    f"</tr>")
    if not rows:
        return ""
    return ("<h3>Headers through the chain</h3><table class=\"headers\"><tr><th>plugin</th><th>map</th>"
            "<th>as received</th><th>as left</th></tr>" + "".join(rows) + "</table>")


def _header_diff(before: tuple[tuple[str, str], ...], after: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The two lists: a header the plugin removed is marked in the first,
    one it added or changed in the second."""
    before_names = {name for name, _ in before}
    after_names = {name for name, _ in after}
    received = []
    for pair in before:
        gone = pair not in after
        cls = "removed" if gone and pair[0] not in after_names else ("changed" if gone else "same")
        received.append(_header_item(pair, cls))
    left = []
    for pair in after:
        cls = "same" if pair in before else ("changed" if pair[0] in before_names else "added")
        left.append(_header_item(pair, cls))
    return "<ul>" + "".join(received) + "</ul>", "<ul>" + "".join(left) + "</ul>"


def _header_item(pair: tuple[str, str], cls: str) -> str:
    return f"<li class=\"{cls}\">{escape(pair[0])}: {escape(pair[1])}</li>"


def _body_changes(records: list[Record]) -> str:
    rows = []
    for record in records:
        if not isinstance(record, CallbackRecord) or record.name not in BODY_CALLBACKS:
            continue
        attribute = BODY_CALLBACKS[record.name]
        before = getattr(record.before, attribute) if record.before is not None else None
        after = getattr(record.after, attribute) if record.after is not None else None
        changed = " class=\"changed\"" if before != after else ""
        rows.append(f"<tr data-plugin=\"{escape(record.plugin)}\"><td>{escape(record.plugin)}</td>"
                    f"<td>{escape(record.name.removeprefix('proxy_on_'))} → {escape(str(record.result))}</td>"
                    f"<td class=\"mono\">{_body(before)}</td><td class=\"mono\"{changed}>{_body(after)}</td></tr>")
    if not rows:
        return ""
    return ("<h3>Bodies through the chain</h3><table><tr><th>plugin</th><th>callback</th><th>buffered when "
            "called</th><th>as left</th></tr>" + "".join(rows) + "</table>")


def _body(data: bytes | None) -> str:
    if data is None:
        return "<span class=\"same\">(none)</span>"
    shown = readable(data[:MAX_BODY_SHOWN])
    more = f" … {len(data) - MAX_BODY_SHOWN} more bytes" if len(data) > MAX_BODY_SHOWN else ""
    return escape(shown) + more


def _stream_logs(records: list[Record]) -> str:
    lines = [(record, call) for record in records if isinstance(record, CallbackRecord) for call in record.logs()]
    if not lines:
        return ""
    rows = "".join(f"<tr><td>{escape(str(call['args'].get('level')))}</td><td>{escape(record.plugin)}</td>"
                   f"<td>{escape(record.name)}</td><td class=\"mono\">{escape(str(call['args'].get('message')))}"
                   f"</td></tr>" for record, call in lines)
    return ("<h3>Log lines</h3><table><tr><th>level</th><th>plugin</th><th>callback</th><th>message</th></tr>"
            + rows + "</table>")


def _callback_details(records: list[Record]) -> str:
    items = []
    for record in records:
        if not isinstance(record, CallbackRecord):
            continue
        items.append(_callback_item(record))
    if not items:
        return ""
    return "<h3>Callbacks and host calls</h3>" + "".join(items)


def _callback_item(record: CallbackRecord) -> str:
    outcome = f"error: {record.error}" if record.error is not None else f"→ {record.result}"
    arguments = ", ".join(f"{name}={value}" for name, value in record.args.items())
    rows = "".join(f"<tr><td>{escape(call['name'])}</td><td class=\"mono\">{escape(_short(call['args']))}</td>"
                   f"<td>{escape(str(call['status']))}</td><td class=\"mono\">{escape(_short(call['result']))}</td>"
                   f"</tr>" for call in record.hostcalls)
    table = ("<table><tr><th>host call</th><th>arguments</th><th>status</th><th>result</th></tr>" + rows
             + "</table>") if rows else "<p>no host calls</p>"
    return (f"<details data-plugin=\"{escape(record.plugin)}\"><summary>{record.time_ns / NS_PER_MS:g} ms "
            f"<b>{escape(record.plugin)}</b> {escape(record.name)}({escape(arguments)}) {escape(outcome)} "
            f"<span class=\"same\">({len(record.hostcalls)} host calls)</span></summary>{table}</details>")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= MAX_ARGUMENT_SHOWN else text[:MAX_ARGUMENT_SHOWN] + " …"


# --- the rest -------------------------------------------------------------------------------------


def _connection_section(name: str, recorder: RunRecorder) -> str:
    records = recorder.of_stream(name)
    return (f"<section class=\"connection\" id=\"connection-{escape(name)}\" data-stream=\"{escape(name)}\">"
            f"<h2>connection {escape(name)}</h2>{_stream_logs(records)}{_callback_details(records)}</section>")


def _outside_streams(host: ProxyHost, recorder: RunRecorder) -> str:
    traffic = {item.name for item in [*host.streams, *host.connections]}
    records = [record for record in recorder.records
               if isinstance(record, CallbackRecord) and record.stream not in traffic]
    if not records:
        return ""
    return ("<h2 id=\"outside\">Callbacks outside streams</h2><p>Start, configuration, ticks, queues, callout "
            "answers for no stream, shutdown.</p>" + "".join(_callback_item(record) for record in records))


def _logs(report: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(entry['level'])}</td><td>{escape(entry['plugin'])}</td>"
                   f"<td>{escape(entry['stream'] or '')}</td><td class=\"mono\">{escape(entry['message'])}</td></tr>"
                   for entry in report["logs"])
    return (f"<h2 id=\"logs\">Logs ({len(report['logs'])})</h2><table><tr><th>level</th><th>plugin</th>"
            f"<th>stream</th><th>message</th></tr>{rows}</table>")


def _metrics(report: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td class=\"mono\">{escape(name)}</td><td class=\"mono\">{escape(json.dumps(value))}</td>"
                   f"</tr>" for name, value in report["metrics"].items())
    shared = "".join(f"<tr><td>{escape(vm_id)}</td><td class=\"mono\">{escape(key)}</td><td class=\"mono\">"
                     f"{escape(str(entry['value']))}</td><td>{entry['cas']}</td></tr>"
                     for vm_id, entries in report["shared_data"].items() for key, entry in entries.items())
    out = f"<h2 id=\"metrics\">Metrics ({len(report['metrics'])})</h2><table><tr><th>metric</th><th>value</th>" \
          f"</tr>{rows}</table>"
    if shared:
        out += ("<h2 id=\"shared-data\">Shared data</h2><table><tr><th>vm_id</th><th>key</th><th>value</th>"
                f"<th>cas</th></tr>{shared}</table>")
    return out


def _failures(host: ProxyHost, recorder: RunRecorder) -> str:
    traced = {(record.plugin, record.name): record for record in recorder.records
              if isinstance(record, CallbackRecord) and record.backtrace}
    items = []
    for failure in host.failures:
        where = f" on stream {escape(failure.stream)}" if failure.stream else ""
        record = traced.get((failure.plugin, failure.callback))
        if record is not None:
            frames = "".join(f"<li><code>{escape(line.frame)}</code>"
                             + (f"<br><code class=\"source\">{escape(line.source)}</code>" if line.source else "")
                             + "</li>" for line in record.backtrace)
        else:
            frames = "".join(f"<li><code>{escape(frame)}</code></li>" for frame in failure.backtrace)
        items.append(f"<div class=\"failure\" data-plugin=\"{escape(failure.plugin)}\"><b>{escape(failure.plugin)}"
                     f"</b> in {escape(failure.callback)}{where}: {escape(failure.error)}"
                     + (f"<ol start=\"0\">{frames}</ol>" if frames else "") + "</div>")
    body = "".join(items) if items else "<p>none</p>"
    return f"<h2 id=\"failures\">Failures ({len(host.failures)})</h2>{body}"
