"""A real network filter, tcp_rewrite: it holds client data until a line is
complete and rewrites it, rewrites what the origin sends, closes the
connection on QUIT, reads connection properties and reports its totals in
``proxy_on_log`` — through the scenario file and the Python API."""

from __future__ import annotations

import pytest

from abi.testing import Action, LogLevel, PluginConfig, ProxyHost, assert_no_failures, callback_names
from tests.abi.scenario_runs import C, by_name, messages, run_json

TCP_REWRITE = C / "tcp_rewrite.wasm"


def test_tcp_rewrite_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json("tcp_rewrite.yaml", capsys)
    connections = by_name(report["connections"])

    chat = connections["chat"]
    assert chat["origin_received"] == {"data": "HELLO\nBYE\n", "bytes": 10, "end_of_stream": False}
    assert chat["client_received"] == {"data": "[up] hi[up] ok", "bytes": 14, "end_of_stream": True}
    assert chat["upstream_closed_by"] == "origin (end of stream)"
    assert chat["closed_by"] == "the proxy (shutting down)"  # the scenario ended with the client's side open

    quit_ = connections["quit"]
    assert quit_["origin_received"]["data"] == "" and quit_["client_received"]["data"] == ""
    assert quit_["closed_by"] == "plugin tcp_rewrite"

    origin_closes = connections["origin-closes"]
    assert origin_closes["client_received"]["data"] == "[up] banner"
    assert (origin_closes["upstream_closed_by"], origin_closes["closed_by"]) == ("origin",
                                                                                "the proxy (origin side closed)")
    client_closes = connections["client-closes"]
    assert (client_closes["origin_received"]["data"], client_closes["closed_by"]) == ("X\n", "client")
    assert all(connection["stalled"] is None and connection["failed_by"] is None
               for connection in report["connections"])

    assert messages(report, "tcp_rewrite") == [
        "tcp_rewrite: new connection from 192.0.2.7:40000",  # the connection's own property
        "tcp_rewrite: downstream data 3 bytes, end_of_stream=0",
        "tcp_rewrite: downstream data 6 bytes, end_of_stream=0",  # the held bytes and the new ones
        "tcp_rewrite: upstream data 2 bytes, end_of_stream=0",
        "tcp_rewrite: downstream data 4 bytes, end_of_stream=0",
        "tcp_rewrite: upstream data 2 bytes, end_of_stream=1",
        "tcp_rewrite: upstream closed by unknown peer",
        "tcp_rewrite: downstream closed by local peer",
        "tcp_rewrite: log downstream=10 upstream=4 bytes",
        "tcp_rewrite: new connection from 198.51.100.1:5555",  # the scenario's
        "tcp_rewrite: downstream data 7 bytes, end_of_stream=0",
        "tcp_rewrite: QUIT, closing the connection",
        "tcp_rewrite: downstream closed by local peer",
        "tcp_rewrite: log downstream=7 upstream=0 bytes",
        "tcp_rewrite: new connection from 198.51.100.1:5555",
        "tcp_rewrite: upstream data 6 bytes, end_of_stream=0",
        "tcp_rewrite: upstream closed by remote peer",
        "tcp_rewrite: downstream closed by local peer",
        "tcp_rewrite: log downstream=0 upstream=6 bytes",
        "tcp_rewrite: new connection from 198.51.100.1:5555",
        "tcp_rewrite: downstream data 2 bytes, end_of_stream=0",
        "tcp_rewrite: downstream closed by remote peer",
        "tcp_rewrite: log downstream=2 upstream=0 bytes",
    ]
    assert report["network_plugins"][0]["kind"] == "network" and report["plugins"] == []
    assert report["host_call_errors"] == [] and report["failures"] == []


def tcp_host() -> ProxyHost:
    host = ProxyHost()
    host.load_network_plugin(PluginConfig("tcp_rewrite", TCP_REWRITE))
    return host


def test_data_both_ways_through_the_api() -> None:
    host = tcp_host()
    connection = host.open_connection("api", properties={"source.address": "203.0.113.9:1234"})
    assert connection.send_downstream("abc") is Action.PAUSE  # no complete line yet: held by the filter
    assert connection.origin_received.data == b""
    assert connection.send_downstream("def\nghi") is Action.CONTINUE
    assert connection.origin_received.data == b"ABCDEF\nGHI"  # the whole buffer, held part included
    assert connection.send_upstream("pong") is Action.CONTINUE
    assert connection.client_received.data == b"[up] pong"
    assert connection.send_upstream("") is Action.CONTINUE  # an empty chunk gets no prefix
    assert connection.client_received.data == b"[up] pong"
    connection.close_side("downstream")
    assert connection.completed and connection.closed_by == "client"
    assert host.log_messages(LogLevel.INFO) == [
        "tcp_rewrite: new connection from 203.0.113.9:1234",
        "tcp_rewrite: downstream data 3 bytes, end_of_stream=0",
        "tcp_rewrite: downstream data 10 bytes, end_of_stream=0",
        "tcp_rewrite: upstream data 4 bytes, end_of_stream=0",
        "tcp_rewrite: upstream data 0 bytes, end_of_stream=0",
        "tcp_rewrite: downstream closed by remote peer",
        "tcp_rewrite: log downstream=10 upstream=4 bytes",
    ]
    # Envoy's TCP order after the close (the plugin exports no proxy_on_done).
    assert callback_names(host, "tcp_rewrite")[-3:] == ["proxy_on_downstream_connection_close", "proxy_on_log",
                                                        "proxy_on_delete"]
    assert_no_failures(host)


def test_end_of_stream_forwards_a_partial_line_and_quit_closes() -> None:
    host = tcp_host()
    last = host.open_connection("last")
    assert last.send_downstream("no newline", end_of_stream=True) is Action.CONTINUE
    assert last.origin_received.data == b"NO NEWLINE" and last.origin_received.end_of_stream

    quitting = host.open_connection("quit")
    assert quitting.send_downstream("QUIT") is Action.PAUSE  # no newline yet: held
    assert quitting.send_downstream("\n") is Action.PAUSE  # the line QUIT: held back, and the filter closes
    assert quitting.completed and quitting.closed_by == "plugin tcp_rewrite"
    assert quitting.origin_received.data == b""
    assert "tcp_rewrite: QUIT, closing the connection" in host.log_messages(LogLevel.INFO)
    assert host.log_messages(LogLevel.INFO)[-1] == "tcp_rewrite: log downstream=5 upstream=0 bytes"
    host.shutdown()
    assert last.completed and last.closed_by == "the proxy (shutting down)"
