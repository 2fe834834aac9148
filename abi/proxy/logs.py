"""The proxy's log: what plugins log through ``proxy_log`` and what they write
to standard output (info) and error (error).

A line is kept when its level is at least the host's log level (``info`` by
default, Envoy's default), which is also what ``proxy_get_log_level``
answers, so plugins can skip building lines nobody keeps.  Each line is
attributed to the context that logged it: its plugin, and its stream or
connection when it has one.
"""

from __future__ import annotations

from abi.enums import LogLevel
from abi.proxy.records import LogEntry
from abi.wire.text import from_wire


class LogStore:
    """Every kept line, in order."""

    def __init__(self, level: LogLevel) -> None:
        self.level = level
        self.entries: list[LogEntry] = []

    def record(self, entry: LogEntry) -> None:
        if entry.level >= self.level:
            self.entries.append(entry)

    def select(self, level: LogLevel | None = None, plugin: str | None = None) -> list[LogEntry]:
        return [entry for entry in self.entries
                if (level is None or entry.level is level) and (plugin is None or entry.plugin == plugin)]


class ContextLogging:
    """``abi.context_interface.Logging`` for one context."""

    def __init__(self, store: LogStore, plugin: str, stream: str | None, context_id: int | None) -> None:
        self.store = store
        self.plugin = plugin
        self.stream = stream
        self.context_id = context_id

    def log(self, level: LogLevel, message: bytes) -> None:
        self.store.record(LogEntry(self.plugin, level, from_wire(message), self.stream, self.context_id))

    def log_level(self) -> LogLevel:
        return self.store.level
