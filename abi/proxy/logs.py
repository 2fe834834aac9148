"""The proxy's log: what plugins log through ``proxy_log`` and what they write
to standard output (info) and error (error).

A line is kept when its level is at least the host's log level (``info`` by
default, Envoy's default), which is also what ``proxy_get_log_level``
answers, so plugins can skip building lines nobody keeps, and while the log
holds fewer than ``max_lines`` lines and ``max_bytes`` bytes
(``abi.proxy.limits``); later lines are dropped and counted per plugin.  Each line is
attributed to the context that logged it: its plugin, and its stream or
connection when it has one.
"""

from __future__ import annotations

from abi.enums import LogLevel
from abi.proxy.records import LogEntry
from abi.wire.text import from_wire


class LogStore:
    """Every kept line, in order, and how many were dropped per plugin."""

    def __init__(self, level: LogLevel, max_lines: int, max_bytes: int) -> None:
        self.level = level
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.entries: list[LogEntry] = []
        self.bytes = 0
        self.dropped: dict[str, int] = {}

    def record(self, entry: LogEntry) -> None:
        if entry.level < self.level:
            return
        size = len(entry.message)
        if len(self.entries) >= self.max_lines or self.bytes + size > self.max_bytes:
            self.dropped[entry.plugin] = self.dropped.get(entry.plugin, 0) + 1
            return
        self.entries.append(entry)
        self.bytes += size

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
