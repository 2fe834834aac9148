"""WASI preview1 for glasswasm: host functions under both ``wasi_snapshot_preview1``
and ``wasi_unstable``, with a deterministic world (simulated clock, seeded
random, configured argv/environment/stdin, callbacks for stdout/stderr, and
preopened host directories the guest cannot get out of).

    with WasiProcess(WasiConfig(argv=("prog",), stdout=OutputSink.lines(print),
                                preopens=(Preopen("data", "/data"),))) as process:
        instance = store.instantiate(module, process.imports())
        status = run_command(store, instance, process)
"""

from __future__ import annotations

from interp.wasi.clock import SimulatedClock
from interp.wasi.command import check_wasi_memory, imports_wasi, initialize_reactor, run_command
from interp.wasi.config import (
    DEFAULT_CLOCK_TICK_NS,
    DEFAULT_START_TIME_NS,
    OutputMode,
    OutputSink,
    Preopen,
    WasiConfig,
)
from interp.wasi.constants import (
    PREVIEW1_MODULE,
    UNSTABLE_MODULE,
    WASI_MODULE_NAMES,
    ApiVersion,
    ClockId,
    Errno,
)
from interp.wasi.preview1 import ProcessExit, WasiProcess
from interp.wasi.signatures import PREVIEW1_SIGNATURES, UNSTABLE_SIGNATURES

__all__ = [
    "DEFAULT_CLOCK_TICK_NS",
    "DEFAULT_START_TIME_NS",
    "PREVIEW1_MODULE",
    "PREVIEW1_SIGNATURES",
    "UNSTABLE_MODULE",
    "UNSTABLE_SIGNATURES",
    "WASI_MODULE_NAMES",
    "ApiVersion",
    "ClockId",
    "Errno",
    "OutputMode",
    "OutputSink",
    "Preopen",
    "ProcessExit",
    "SimulatedClock",
    "WasiConfig",
    "WasiProcess",
    "check_wasi_memory",
    "imports_wasi",
    "initialize_reactor",
    "run_command",
]
