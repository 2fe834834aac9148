"""Host calls on threads of their own, so that a debugger can step through
guest code a host function calls back into.

A plain host function that calls back (``Caller.invoke``) runs that guest code
to its end before it goes on, on the Python stack of the call.  To pause in
the middle of it, the debugger runs each host call that takes a caller on a
``HostThread``: when the host function calls back, the invocation it makes is
handed to the debugger's thread (``NestedRunner`` is the machine's observer
for that), whose frames are then on the machine like any others, and the host
function waits; when that invocation ends, the debugger hands its results (or
its trap) back and waits in turn.  The two threads pass control through two
queues, so only one runs at a time and a run stays deterministic.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from typing import Any

from interp.exec.machine import Invocation


class SessionClosed(BaseException):
    """Raised into a host function still waiting on its thread when the session closes."""


class HostThread:
    """One host call, run on a thread of its own so that guest code it calls
    back can be stepped while it waits.  The debugger's thread and this one
    hand control to each other through two queues: only one runs at a time.

    Events from the host thread: ``("nested", invocation)`` (it called back:
    the invocation's frames are on the machine), ``("done", None)`` (the call
    instruction completed), ``("error", exception)``."""

    local = threading.local()

    def __init__(self, invocation: Invocation) -> None:
        self._to_host: queue.Queue[tuple[str, BaseException | None]] = queue.Queue()
        self._to_debugger: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.waiting_for: Invocation | None = None
        self.thread = threading.Thread(target=self._main, args=(invocation,), daemon=True,
                                       name="glasswasm host call")

    def start(self) -> tuple[str, Any]:
        self.thread.start()
        return self._wait()

    def _main(self, invocation: Invocation) -> None:
        HostThread.local.current = self
        try:
            invocation.run(1)
            self._to_debugger.put(("done", None))
        except BaseException as error:
            self._to_debugger.put(("error", error))

    def run_nested(self, invocation: Invocation) -> None:
        """On the host's thread: wait while the debugger runs ``invocation``."""
        self.waiting_for = invocation
        self._to_debugger.put(("nested", invocation))
        _, error = self._to_host.get()
        self.waiting_for = None
        if error is not None:
            raise error

    def resume(self, error: BaseException | None = None) -> tuple[str, Any]:
        """On the debugger's thread: the guest code it waits for is over
        (``error``: it failed so); wait for what the host does next."""
        self._to_host.put(("resume", error))
        return self._wait()

    def _wait(self) -> tuple[str, Any]:
        while True:
            try:
                return self._to_debugger.get()
            except KeyboardInterrupt:  # interrupt the host code instead, and hear how it ended
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread.ident),
                                                           ctypes.py_object(KeyboardInterrupt))


class NestedRunner:
    """The machine's observer while debugging: runs the invocations host
    functions make (``Caller.invoke``) under the debugger when they come from
    a host thread."""

    def run(self, invocation: Invocation) -> None:
        host = getattr(HostThread.local, "current", None)
        if host is not None:
            host.run_nested(invocation)
            return
        machine = invocation.machine  # a call from Python meanwhile: as without a debugger
        kept, machine.keep_frames_on_error = machine.keep_frames_on_error, False
        try:
            invocation.run()
        finally:
            machine.keep_frames_on_error = kept
