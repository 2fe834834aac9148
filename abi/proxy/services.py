"""The simulated proxy's settings and the services every context reaches:
one scheduler (and clock), the trace, the log, the stats store, shared data
and queues, foreign functions, the HTTP and gRPC callouts, and the callback
runner.  ``ProxyHost`` makes one ``ProxyServices`` and hands it to every
plugin, stream and connection."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from abi.enums import LogLevel
from abi.proxy.callbacks import CallbackRunner
from abi.proxy.foreign_functions import ForeignFunctions
from abi.proxy.grpc_callouts import GrpcCallouts
from abi.proxy.http_callouts import HttpCallouts
from abi.proxy.limits import CalloutBudget, HostLimits
from abi.proxy.logs import LogStore
from abi.proxy.metrics import MetricStore
from abi.proxy.properties import PropertyPath, dotted_path
from abi.proxy.scheduler import Scheduler
from abi.proxy.shared_data import SharedDataStore
from abi.proxy.shared_queues import SharedQueues
from abi.trace import Trace
from abi.vm.callbacks import Failure
from abi.vm.instruments import VmInstrument
from interp.wasi import SimulatedClock

DEFAULT_CLOCK_START_NS = 1_704_067_200_000_000_000
DEFAULT_CLOCK_TICK_NS = 1_000
DEFAULT_CALLBACK_STEP_NS = 1_000_000
DEFAULT_STALL_AFTER_MS = 60_000


@dataclass(frozen=True)
class HostConfig:
    """Settings of the simulated proxy.  ``properties`` maps dotted paths
    (``"source.address"``) to values (see ``abi.proxy.properties``).
    ``stall_after_ms``: a stream or connection that makes no progress for
    that long (simulated time) is reported stalled.  ``module_cache``: plugin
    modules given as files or bytes are compiled through the module cache
    (``interp.translate.cache.default_cache``: off when ``GLASSWASM_NO_CACHE``
    is set or ``use_cache(False)`` was called)."""

    log_level: LogLevel = LogLevel.INFO
    properties: Mapping[str, Any] = field(default_factory=dict)
    clock_start_ns: int = DEFAULT_CLOCK_START_NS
    clock_tick_ns: int = DEFAULT_CLOCK_TICK_NS
    callback_step_ns: int = DEFAULT_CALLBACK_STEP_NS
    stall_after_ms: int = DEFAULT_STALL_AFTER_MS
    random_seed: int = 0
    engine: str = "auto"  # the engine running every plugin VM (interp/exec/engines.py)
    limits: HostLimits = field(default_factory=HostLimits)  # what plugins can make the host hold or do
    module_cache: bool = True


class ProxyServices:
    """See the module docstring.  ``record_failure`` is called for every
    plugin failure; ``trace`` defaults to one kept in memory; ``instruments``
    watch or drive every VM's plugin code (``abi.vm.instruments``)."""

    def __init__(self, config: HostConfig, record_failure: Callable[[Failure], None],
                 trace: Trace | None = None, instruments: Sequence[VmInstrument] = ()) -> None:
        self.config = config
        self.instruments = tuple(instruments)
        self.clock = SimulatedClock(config.clock_start_ns, config.clock_tick_ns)
        self.scheduler = Scheduler(self.clock, config.callback_step_ns)
        self.trace = trace if trace is not None else Trace()
        self.trace.clock = lambda: self.scheduler.now_ns
        self.logs = LogStore(config.log_level, config.limits.max_log_lines, config.limits.max_log_bytes)
        self.metrics = MetricStore()
        self.shared_data = SharedDataStore(config.limits.max_shared_data_bytes)
        self.foreign_functions = ForeignFunctions()
        self.runner = CallbackRunner(self.scheduler, record_failure)
        self.shared_queues = SharedQueues(self.scheduler, self.runner, config.limits.max_queue_items)
        self.callouts = CalloutBudget(config.limits.max_pending_callouts)
        self.http_callouts = HttpCallouts(self.scheduler, self.runner, self.trace, self.callouts)
        self.grpc_callouts = GrpcCallouts(self.scheduler, self.runner, self.trace, self.callouts)
        self.properties: dict[PropertyPath, Any] = {dotted_path(key): value
                                                    for key, value in config.properties.items()}
