"""WASI preview1 host functions, one ``WasiProcess`` per guest process.

Implemented (what Rust, Go, TinyGo, AssemblyScript and C/emscripten programs
import, as wasmtime offers it): arguments and environment, the clocks,
``random_get``, ``proc_exit``, ``sched_yield``, ``poll_oneoff``, the
descriptor functions (``fd_read``, ``fd_write``, ``fd_seek``, ``fd_tell``,
``fd_close``, ``fd_fdstat_*``), and files and directories under the
preopened directories (``path_open`` and the rest, in ``file_calls``).  The
sockets and ``proc_raise`` exist with their exact types and answer NOSYS, so
any WASI module links.

Descriptors 0, 1 and 2 are the standard streams (character devices that
cannot seek); the preopened directories follow from 3, in the configured
order.  Faults in guest pointers answer FAULT; a function that fails changes
nothing in guest memory (pointers are checked before anything is written,
read or delivered).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interp.errors import BacktraceEntry, ExecutionError, UsageError
from interp.runtime.function import HostFunction
from interp.wasi import filesystem
from interp.wasi.clock import RESOLUTION_NS, SimulatedClock
from interp.wasi.config import Preopen, WasiConfig, encode_text
from interp.wasi.constants import (
    ALL_FD_FLAGS,
    DIRECTORY_RIGHTS,
    EVENT_SIZE,
    FDSTAT_SIZE,
    FILE_RIGHTS,
    SUBSCRIPTION_LAYOUTS,
    WASI_MODULE_NAMES,
    WHENCE_CODES,
    ApiVersion,
    ClockId,
    Errno,
    EventRwFlags,
    EventType,
    FdFlags,
    Rights,
    SubclockFlags,
    SubscriptionLayout,
    Whence,
)
from interp.wasi.descriptors import DescriptorTable, DirectoryDescriptor, FileDescriptor
from interp.wasi.file_calls import FileCalls
from interp.wasi.filesystem import FileViews
from interp.wasi.guest_memory import GuestMemory, WasiErrorReturn
from interp.wasi.signatures import PREVIEW1_SIGNATURES, UNSTABLE_SIGNATURES
from interp.wasi.streams import InputStream, OutputStream

if TYPE_CHECKING:
    from interp.exec.machine import Caller

_HOST_WHENCE = {Whence.SET: os.SEEK_SET, Whence.CUR: os.SEEK_CUR, Whence.END: os.SEEK_END}


class ProcessExit(ExecutionError):
    """The guest called ``proc_exit(code)``: the process is over.  Raised
    through the engine like a trap (so every frame unwinds), but it is a
    normal end: callers catch it and read ``code``."""

    def __init__(self, code: int, backtrace: tuple[BacktraceEntry, ...] = ()) -> None:
        super().__init__(f"process exited with status {code}", backtrace)
        self.code = code


@dataclass(frozen=True)
class _Subscription:
    userdata: int
    tag: EventType
    clock: ClockId | None = None
    deadline: int = 0  # elapsed time (clock subscriptions)
    fd: int = 0


class WasiProcess:
    """The state of one guest process: its descriptors, simulated clock,
    random generator and exit status.  ``imports()`` gives its host functions
    under both WASI module names, to merge into a store's imports.

    Host functions of one process must serve one instance (they are bound to
    its streams and clock); make a new ``WasiProcess`` per instance.
    """

    def __init__(self, config: WasiConfig | None = None, clock: SimulatedClock | None = None) -> None:
        """``clock``: a simulated clock to share with the embedder (the
        proxy-wasm host reads the same one); by default the process's own."""
        self.config = config or WasiConfig()
        self.clock = clock or SimulatedClock(self.config.start_time_ns, self.config.clock_tick_ns)
        self.exit_code: int | None = None
        self._random = random.Random(self.config.random_seed)
        self._argv = self.config.encoded_argv()
        self._environment = self.config.encoded_environment()
        self._stdout = OutputStream(self.config.stdout)
        self._stderr = OutputStream(self.config.stderr)
        self.descriptors = DescriptorTable()
        self.descriptors.install_standard_streams(InputStream(self.config.stdin), self._stdout, self._stderr)
        self._preopen(self.config.preopens)
        self.files = FileCalls(self.descriptors, FileViews(self.clock))
        self._host_functions: dict[ApiVersion, dict[str, HostFunction]] = {}

    def _preopen(self, preopens: tuple[Preopen, ...]) -> None:
        """Open the configured directories as descriptors 3, 4, ...; a
        missing one is the embedder's error, reported before the guest runs."""
        if preopens and not filesystem.SUPPORTED:
            raise UsageError("preopened directories need a host that resolves paths relative to a "
                             "directory descriptor (not Windows)")
        for preopen in preopens:
            try:
                host_fd = filesystem.open_directory(preopen.host)
            except OSError as error:
                self.close()
                raise UsageError(f"cannot preopen {preopen.host}: {error.strerror or error}") from None
            self.descriptors.add(DirectoryDescriptor(host_fd, DIRECTORY_RIGHTS, DIRECTORY_RIGHTS | FILE_RIGHTS,
                                                     preopen_name=encode_text(preopen.guest)))

    def close(self) -> None:
        """End the process: deliver unfinished output lines and close every
        descriptor, releasing the host's open files and directories."""
        self.descriptors.close_all()

    def __enter__(self) -> WasiProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the mapping for a store ---------------------------------------------------

    def imports(self) -> dict[str, dict[str, HostFunction]]:
        """``{"wasi_snapshot_preview1": {...}, "wasi_unstable": {...}}``, every
        function of each; a store links only what a module imports."""
        return {version.value: self.host_functions(version) for version in ApiVersion}

    def host_functions(self, version: ApiVersion | str = ApiVersion.PREVIEW1) -> dict[str, HostFunction]:
        """Every function of one WASI module name, by function name."""
        try:
            version = ApiVersion(version)
        except ValueError:
            raise UsageError(f"no WASI module named {version!r} (names: {', '.join(WASI_MODULE_NAMES)})") from None
        functions = self._host_functions.get(version)
        if functions is None:
            functions = self._build_host_functions(version)
            self._host_functions[version] = functions
        return dict(functions)

    def _build_host_functions(self, version: ApiVersion) -> dict[str, HostFunction]:
        signatures = PREVIEW1_SIGNATURES if version is ApiVersion.PREVIEW1 else UNSTABLE_SIGNATURES
        implementations = self._implementations(version)
        functions = {}
        for name, func_type in signatures.items():
            qualified = f"{version.value}.{name}"
            implementation = implementations.get(name)
            if implementation is None:
                functions[name] = HostFunction(func_type, _answer_nosys, qualified)
            else:
                functions[name] = HostFunction(func_type, _with_guest_memory(implementation), qualified,
                                               takes_caller=True)
        return functions

    def _implementations(self, version: ApiVersion) -> dict[str, Callable[..., Any]]:
        def poll_oneoff(memory: GuestMemory, subscriptions: int, events: int, count: int,
                        count_out: int) -> Errno:
            return self.poll_oneoff(memory, subscriptions, events, count, count_out, version)

        def fd_seek(memory: GuestMemory, fd: int, offset: int, whence: int, offset_out: int) -> Errno:
            return self.fd_seek(memory, fd, offset, whence, offset_out, version)

        return {
            "args_get": self.args_get,
            "args_sizes_get": self.args_sizes_get,
            "environ_get": self.environ_get,
            "environ_sizes_get": self.environ_sizes_get,
            "clock_res_get": self.clock_res_get,
            "clock_time_get": self.clock_time_get,
            "fd_close": self.fd_close,
            "fd_fdstat_get": self.fd_fdstat_get,
            "fd_fdstat_set_flags": self.fd_fdstat_set_flags,
            "fd_read": self.fd_read,
            "fd_seek": fd_seek,
            "fd_tell": self.fd_tell,
            "fd_write": self.fd_write,
            "poll_oneoff": poll_oneoff,
            "proc_exit": self.proc_exit,
            "random_get": self.random_get,
            "sched_yield": self.sched_yield,
            **self.files.implementations(version),
        }

    def flush(self) -> None:
        """Deliver the unfinished last lines of stdout and stderr (for sinks
        in line mode).  Exiting through ``proc_exit`` and closing a stream
        flush too; call this when the guest's run ends otherwise."""
        self._stdout.flush()
        self._stderr.flush()

    # --- arguments and environment ----------------------------------------------

    def args_sizes_get(self, memory: GuestMemory, count_out: int, size_out: int) -> Errno:
        return _write_list_sizes(memory, self._argv, count_out, size_out)

    def args_get(self, memory: GuestMemory, pointers: int, buffer: int) -> Errno:
        return _write_list(memory, self._argv, pointers, buffer)

    def environ_sizes_get(self, memory: GuestMemory, count_out: int, size_out: int) -> Errno:
        return _write_list_sizes(memory, self._environment, count_out, size_out)

    def environ_get(self, memory: GuestMemory, pointers: int, buffer: int) -> Errno:
        return _write_list(memory, self._environment, pointers, buffer)

    # --- clocks and randomness ----------------------------------------------------

    def clock_res_get(self, memory: GuestMemory, clock_id: int, resolution_out: int) -> Errno:
        _clock(clock_id)
        memory.write_u64(resolution_out, RESOLUTION_NS)
        return Errno.SUCCESS

    def clock_time_get(self, memory: GuestMemory, clock_id: int, precision: int, time_out: int) -> Errno:
        clock = _clock(clock_id)
        memory.check(time_out, 8)  # before reading, so a fault does not move time
        memory.write_u64(time_out, self.clock.read(clock))
        return Errno.SUCCESS

    def random_get(self, memory: GuestMemory, buffer: int, length: int) -> Errno:
        limit = self.config.max_random_get_bytes
        if limit is not None and length > limit:
            return Errno.INVAL
        memory.check(buffer, length)  # before drawing, so a fault leaves the generator where it was
        memory.write(buffer, self._random.randbytes(length))
        return Errno.SUCCESS

    # --- process -----------------------------------------------------------------

    def proc_exit(self, memory: GuestMemory, code: int) -> None:
        self.exit_code = code
        self.flush()
        raise ProcessExit(code)

    def sched_yield(self, memory: GuestMemory) -> Errno:
        return Errno.SUCCESS

    # --- descriptors ---------------------------------------------------------------

    def fd_close(self, memory: GuestMemory, fd: int) -> Errno:
        self.descriptors.close(fd)
        return Errno.SUCCESS

    def fd_fdstat_get(self, memory: GuestMemory, fd: int, stat_out: int) -> Errno:
        descriptor = self.descriptors.get(fd)
        record = bytearray(FDSTAT_SIZE)
        record[0] = descriptor.filetype
        record[2:4] = int(descriptor.flags).to_bytes(2, "little")
        record[8:16] = int(descriptor.rights).to_bytes(8, "little")
        record[16:24] = int(descriptor.inheriting).to_bytes(8, "little")
        memory.write(stat_out, bytes(record))
        return Errno.SUCCESS

    def fd_fdstat_set_flags(self, memory: GuestMemory, fd: int, flags: int) -> Errno:
        """APPEND takes effect on a file; the other flags are recorded, the
        host file keeping the sync and blocking modes it was opened with."""
        descriptor = self.descriptors.get(fd, Rights.FD_FDSTAT_SET_FLAGS)
        if flags & ~int(ALL_FD_FLAGS):
            return Errno.INVAL
        descriptor.flags = FdFlags(flags)
        if isinstance(descriptor, FileDescriptor):
            descriptor.set_append(FdFlags.APPEND in descriptor.flags)
        return Errno.SUCCESS

    def fd_seek(self, memory: GuestMemory, fd: int, offset: int, whence: int, offset_out: int,
                version: ApiVersion = ApiVersion.PREVIEW1) -> Errno:
        descriptor = self.descriptors.get(fd)
        memory.check(offset_out, 8)
        position = WHENCE_CODES[version].get(whence)
        if position is None:
            return Errno.INVAL
        signed = offset - (1 << 64) if offset >= 1 << 63 else offset
        memory.write_u64(offset_out, descriptor.seek(signed, _HOST_WHENCE[position]))
        return Errno.SUCCESS

    def fd_tell(self, memory: GuestMemory, fd: int, offset_out: int) -> Errno:
        descriptor = self.descriptors.get(fd)
        memory.check(offset_out, 8)
        memory.write_u64(offset_out, descriptor.seek(0, os.SEEK_CUR))
        return Errno.SUCCESS

    def fd_write(self, memory: GuestMemory, fd: int, iovecs: int, iovec_count: int, written_out: int) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_WRITE, Errno.BADF)
        buffers = memory.iovecs(iovecs, iovec_count)
        memory.check(written_out, 4)
        written = descriptor.write(memory.gather(buffers))
        self.files.written(descriptor)
        memory.write_u32(written_out, written)
        return Errno.SUCCESS

    def fd_read(self, memory: GuestMemory, fd: int, iovecs: int, iovec_count: int, read_out: int) -> Errno:
        descriptor = self.descriptors.get(fd, Rights.FD_READ, Errno.BADF)
        buffers = memory.iovecs(iovecs, iovec_count)
        memory.check(read_out, 4)
        data = descriptor.read(sum(length for _, length in buffers))
        memory.scatter(buffers, data)
        memory.write_u32(read_out, len(data))
        return Errno.SUCCESS

    # --- poll_oneoff -------------------------------------------------------------------

    def poll_oneoff(self, memory: GuestMemory, subscriptions: int, events: int, count: int,
                    count_out: int, version: ApiVersion = ApiVersion.PREVIEW1) -> Errno:
        """Wait for the first of ``count`` subscriptions.  Descriptor
        subscriptions are ready at once (stdin holds all its data already,
        stdout and stderr never block); if none is and no clock deadline has
        passed, simulated time jumps to the earliest deadline.  Every event
        ready at that point is reported, in subscription order."""
        if count == 0:
            return Errno.INVAL
        layout = SUBSCRIPTION_LAYOUTS[version]
        memory.check(subscriptions, count * layout.size)
        memory.check(events, count * EVENT_SIZE)
        memory.check(count_out, 4)
        parsed = [self._read_subscription(memory, subscriptions + i * layout.size, layout)
                  for i in range(count)]

        immediate: list[Errno | None] = []  # None: a timer, decided once time has moved
        for sub in parsed:
            if sub.tag is not EventType.CLOCK:
                immediate.append(self._descriptor_event(sub))
            else:
                immediate.append(Errno.INVAL if sub.clock is None else None)
        timers = [sub.deadline for sub, outcome in zip(parsed, immediate) if outcome is None]
        if timers and all(outcome is None for outcome in immediate):
            self.clock.advance_to(min(timers))
        now = self.clock.elapsed_ns
        ready = [(sub, Errno.SUCCESS if outcome is None else outcome)
                 for sub, outcome in zip(parsed, immediate)
                 if outcome is not None or sub.deadline <= now]

        for position, (sub, error) in enumerate(ready):
            memory.write(events + position * EVENT_SIZE, self._event_record(sub, error))
        memory.write_u32(count_out, len(ready))
        return Errno.SUCCESS

    def _read_subscription(self, memory: GuestMemory, address: int, layout: SubscriptionLayout) -> _Subscription:
        userdata = memory.u64(address)
        tag = memory.u8(address + layout.tag)
        if tag == EventType.CLOCK:
            try:
                clock = ClockId(memory.u32(address + layout.clock_id))
            except ValueError:
                return _Subscription(userdata, EventType.CLOCK)  # answered with an INVAL event
            timeout = memory.u64(address + layout.timeout)
            if memory.u16(address + layout.flags) & SubclockFlags.SUBSCRIPTION_CLOCK_ABSTIME:
                deadline = self.clock.elapsed_at(clock, timeout)
            else:
                deadline = self.clock.elapsed_ns + timeout
            return _Subscription(userdata, EventType.CLOCK, clock=clock, deadline=deadline)
        if tag in (EventType.FD_READ, EventType.FD_WRITE):
            return _Subscription(userdata, EventType(tag), fd=memory.u32(address + layout.fd))
        raise WasiErrorReturn(Errno.INVAL)

    def _descriptor_event(self, sub: _Subscription) -> Errno:
        needed = Rights.FD_READ if sub.tag is EventType.FD_READ else Rights.FD_WRITE
        try:
            self.descriptors.get(sub.fd, needed | Rights.POLL_FD_READWRITE, Errno.BADF)
        except WasiErrorReturn as error:
            return error.errno
        return Errno.SUCCESS

    def _event_record(self, sub: _Subscription, error: Errno) -> bytes:
        """An ``event``: for a readable descriptor, ``nbytes`` is what can be
        read now (a stream's buffered input, waiting for some if there is
        none yet; a file's bytes after its position) and HANGUP marks the
        end; writes report 0 bytes (no limit)."""
        record = bytearray(EVENT_SIZE)
        record[0:8] = sub.userdata.to_bytes(8, "little")
        record[8:10] = int(error).to_bytes(2, "little")
        record[10] = sub.tag
        if sub.tag is EventType.FD_READ and error is Errno.SUCCESS:
            try:
                readable = self.descriptors.get(sub.fd).readable_bytes()
            except WasiErrorReturn as failure:
                record[8:10] = int(failure.errno).to_bytes(2, "little")
                return bytes(record)
            record[16:24] = readable.to_bytes(8, "little")
            if readable == 0:
                record[24:26] = int(EventRwFlags.FD_READWRITE_HANGUP).to_bytes(2, "little")
        return bytes(record)


# --- helpers shared by the functions ----------------------------------------------------


def _with_guest_memory(implementation: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt an implementation taking a ``GuestMemory`` to a host function
    taking the engine's ``Caller``; ``WasiErrorReturn`` becomes the result."""

    def host_function(caller: Caller, *args: int) -> int | None:
        try:
            result = implementation(GuestMemory(caller.memory), *args)
        except WasiErrorReturn as error:
            return int(error.errno)
        return None if result is None else int(result)

    host_function.__name__ = implementation.__name__
    return host_function


def _answer_nosys(*args: int) -> int:
    return int(Errno.NOSYS)


def _clock(clock_id: int) -> ClockId:
    try:
        return ClockId(clock_id)
    except ValueError:
        raise WasiErrorReturn(Errno.INVAL) from None


def _write_list_sizes(memory: GuestMemory, items: tuple[bytes, ...], count_out: int, size_out: int) -> Errno:
    memory.check(count_out, 4)
    memory.check(size_out, 4)
    memory.write_u32(count_out, len(items))
    memory.write_u32(size_out, sum(len(item) for item in items))
    return Errno.SUCCESS


def _write_list(memory: GuestMemory, items: tuple[bytes, ...], pointers: int, buffer: int) -> Errno:
    """``args_get``/``environ_get``: the strings one after another at
    ``buffer``, and a pointer to each in the array at ``pointers``."""
    memory.check(pointers, 4 * len(items))
    memory.check(buffer, sum(len(item) for item in items))
    address = buffer
    for index, item in enumerate(items):
        memory.write_u32(pointers + 4 * index, address)
        memory.write(address, item)
        address += len(item)
    return Errno.SUCCESS


