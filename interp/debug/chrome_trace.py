"""The Chrome Trace Event format, written as events arrive.

Perfetto UI (ui.perfetto.dev) and chrome://tracing open these files.  The
format (the "Trace Event Format" document of the Chromium project) is one JSON
object, ``{"traceEvents": [...]}``; every event has a phase ``ph``, a
timestamp ``ts`` in microseconds, and the process ``pid`` and thread ``tid``
whose track it is drawn on.  What glasswasm writes:

* slices: ``B`` (begin) and ``E`` (end) events, which nest on their track
  like calls;
* instant events (``i``), scoped to a track, a process or the whole trace;
* flows (``s`` start, ``f`` finish), arrows from one slice to another (a
  request and its answer), bound to the slices enclosing them;
* counters (``C``);
* metadata (``M``): the names and order of processes and threads.

``ChromeTraceWriter`` keeps the rules a viewer relies on, so whoever feeds it
cannot write a broken file: times never go back on a track, an end always
closes an open slice of its track, and ``close`` ends whatever is still open.
It knows nothing about wasm: ``glasswasm trace`` feeds it calls on a
step-count timeline (trace_formats.py), and any other run can feed it its own
tracks (one per plugin, one per stream, ...).

Events are written one per line as they come, so a long run never holds its
trace in memory.  Keys are written in a fixed order and floats never appear
unless given, so the same events give byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from interp.errors import UsageError

SCOPES = {"thread": "t", "process": "p", "global": "g"}


@dataclass(frozen=True, order=True)
class Track:
    """Where events are drawn: a thread ``tid`` of process ``pid``."""

    pid: int
    tid: int


class ChromeTraceWriter:
    """Writes one trace to ``out``; call ``close`` at the end."""

    def __init__(self, out: TextIO, other_data: dict[str, Any] | None = None) -> None:
        self.out = out
        self.other_data = dict(other_data or {})
        self._open: dict[Track, list[tuple[str, str]]] = {}  # the open slices' names and categories
        self._last: dict[Track, float] = {}
        self._count = 0
        self._closed = False
        out.write('{"traceEvents": [\n')

    # --- naming ------------------------------------------------------------------

    def name_process(self, pid: int, name: str, sort_index: int | None = None) -> None:
        self._metadata("process_name", Track(pid, 0), {"name": name})
        if sort_index is not None:
            self._metadata("process_sort_index", Track(pid, 0), {"sort_index": sort_index})

    def name_thread(self, track: Track, name: str, sort_index: int | None = None) -> None:
        self._metadata("thread_name", track, {"name": name})
        if sort_index is not None:
            self._metadata("thread_sort_index", track, {"sort_index": sort_index})

    def _metadata(self, kind: str, track: Track, args: dict[str, Any]) -> None:
        self._write({"name": kind, "ph": "M", "pid": track.pid, "tid": track.tid, "args": args})

    # --- events ------------------------------------------------------------------

    def begin(self, track: Track, name: str, ts: float, category: str = "", args: dict[str, Any] | None = None) -> None:
        """Open a slice on ``track``; it nests inside the one open there."""
        self._advance(track, ts)
        self._open.setdefault(track, []).append((name, category))
        self._write(self._event(name, category, "B", ts, track, args))

    def end(self, track: Track, ts: float, args: dict[str, Any] | None = None) -> None:
        """Close the innermost open slice of ``track``."""
        stack = self._open.get(track)
        if not stack:
            raise UsageError(f"no slice is open on track {track.pid}/{track.tid}")
        self._advance(track, ts)
        name, category = stack.pop()
        self._write(self._event(name, category, "E", ts, track, args))

    def open_slices(self, track: Track) -> tuple[str, ...]:
        """The names of the slices open on ``track``, outermost first."""
        return tuple(name for name, _ in self._open.get(track, ()))

    def instant(self, track: Track, name: str, ts: float, category: str = "", args: dict[str, Any] | None = None,
                scope: str = "thread") -> None:
        """A moment: on the track, across its process, or across the trace (``scope``)."""
        if scope not in SCOPES:
            raise UsageError(f"instant event scope must be one of {', '.join(SCOPES)}")
        self._advance(track, ts)
        event = self._event(name, category, "i", ts, track, args)
        event["s"] = SCOPES[scope]
        self._write(event)

    def flow_start(self, track: Track, flow_id: int, name: str, ts: float, category: str = "flow") -> None:
        """The tail of an arrow, bound to the slice open on ``track`` at ``ts``."""
        self._flow("s", track, flow_id, name, ts, category)

    def flow_end(self, track: Track, flow_id: int, name: str, ts: float, category: str = "flow") -> None:
        """The head of the arrow ``flow_id``, bound to the slice open on ``track`` at ``ts``."""
        self._flow("f", track, flow_id, name, ts, category)

    def _flow(self, phase: str, track: Track, flow_id: int, name: str, ts: float, category: str) -> None:
        if not self._open.get(track):
            raise UsageError(f"a flow event needs an open slice on track {track.pid}/{track.tid}")
        self._advance(track, ts)
        event = self._event(name, category, phase, ts, track, None)
        event["id"] = flow_id
        event["bp"] = "e"
        self._write(event)

    def counter(self, track: Track, name: str, ts: float, values: dict[str, float]) -> None:
        self._advance(track, ts)
        self._write(self._event(name, "", "C", ts, track, dict(values)))

    def close(self, ts: float | None = None) -> None:
        """End every slice still open (at ``ts``, else at each track's last
        time) and finish the file.  Closing twice does nothing."""
        if self._closed:
            return
        for track in sorted(self._open):
            while self._open[track]:
                self.end(track, max(ts, self._last[track]) if ts is not None else self._last[track])
        self._closed = True
        other = json.dumps({"otherData": self.other_data}, ensure_ascii=True, sort_keys=True)
        self.out.write("\n],\n" + other[1:] + "\n")

    # --- writing -----------------------------------------------------------------

    @staticmethod
    def _event(name: str, category: str, phase: str, ts: float, track: Track,
               args: dict[str, Any] | None) -> dict[str, Any]:
        event: dict[str, Any] = {"name": name, "cat": category, "ph": phase, "ts": ts,
                                 "pid": track.pid, "tid": track.tid}
        if args:
            event["args"] = args
        return event

    def _advance(self, track: Track, ts: float) -> None:
        if self._closed:
            raise UsageError("the trace is closed")
        if ts < 0:
            raise UsageError("trace times cannot be negative")
        last = self._last.get(track)
        if last is not None and ts < last:
            raise UsageError(f"time goes back on track {track.pid}/{track.tid}: {ts} after {last}")
        self._last[track] = ts

    def _write(self, event: dict[str, Any]) -> None:
        if self._closed:
            raise UsageError("the trace is closed")
        self.out.write((",\n" if self._count else "") + json.dumps(event, ensure_ascii=True))
        self._count += 1
