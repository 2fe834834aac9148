"""The execution engines: the interface both implement, and choosing one.

* ``python``: the step machine (machine.py) — pure Python, runs everywhere,
  pauses between instructions, and is the engine of tracing and debugging.
* ``cython``: the compiled loop (native/loop.pyx) — the same semantics in C,
  built at install time when Cython and a C compiler are available.

Both run the same lowered code, with the semantics generated from the one
instruction table (python_semantics.py, native/cython_semantics.py),
and a store talks to either only through ``Engine``.  The default is the
compiled loop when it was built, else the step machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from types import ModuleType
from typing import Protocol, Sequence, runtime_checkable

from interp.errors import BacktraceEntry, UsageError
from interp.features import SUPPORTED_FEATURES, Feature
from interp.exec.host_calls import HostCallingMachine
from interp.exec.machine import Machine
from interp.exec.native.cython_semantics import source_digest
from interp.runtime.function import FunctionInstance

ENGINES = ("python", "cython")
AUTO = "auto"


@dataclass(frozen=True)
class EngineConfig:
    """Limits the engine enforces on behalf of its host, and which engine runs.

    ``max_call_depth`` bounds guest recursion ("call stack exhausted");
    ``max_memory_pages`` and ``max_table_elements`` bound what a module may
    allocate (growing further fails as the spec permits; a module that needs
    more from the start is refused with ``ResourceLimitError``).
    ``features`` are the standard's features modules are validated by
    (``interp.features.WASM_2_0_FEATURES`` keeps 2.0's rules).
    """

    max_call_depth: int = 10_000
    max_memory_pages: int = 16_384  # 1 GiB
    max_table_elements: int = 10_000_000
    engine: str = AUTO  # "python", "cython", or "auto" (the default engine)
    features: frozenset[Feature] = SUPPORTED_FEATURES


@runtime_checkable
class Engine(HostCallingMachine, Protocol):
    """What a store asks of the machine that runs its instances' code.

    ``invoke`` runs a call from Python to its end (arguments already checked);
    fuel counts executed instructions across calls; ``call_depth`` is the
    number of frames on the machine's call stack, 0 whenever no call from
    Python is running; ``backtrace`` describes those frames, innermost first.
    ``max_call_depth`` bounds guest recursion; ``host_depth`` counts host
    functions running on the Python stack (``host_calls.py``)."""

    max_call_depth: int
    host_depth: int

    @property
    def remaining_fuel(self) -> int | None: ...

    @property
    def call_depth(self) -> int: ...

    def set_fuel(self, fuel: int | None) -> None: ...

    def invoke(self, func: FunctionInstance, args: Sequence[object]) -> list: ...

    def backtrace(self) -> tuple[BacktraceEntry, ...]: ...


NOT_BUILT = "not built"
OUT_OF_DATE = "out of date (its instruction table changed since it was built: pip install -e . again)"


@cache
def _compiled_loop_state() -> tuple[ModuleType | None, str]:
    """The compiled loop's module, or ``None`` and why not: it was not built,
    or it was generated from another instruction table than this one."""
    try:
        loop = import_module("interp.exec.native.loop")
    except ImportError:
        return None, NOT_BUILT
    if getattr(loop, "SOURCE_DIGEST", None) != source_digest():
        return None, OUT_OF_DATE
    return loop, "available"


def _compiled_loop() -> ModuleType | None:
    return _compiled_loop_state()[0]


def engine_state(name: str) -> str:
    """``available``, or why the engine ``name`` is not."""
    return _compiled_loop_state()[1] if name == "cython" else "available"


def available_engines() -> tuple[str, ...]:
    return ENGINES if _compiled_loop() is not None else ("python",)


def default_engine() -> str:
    return "cython" if _compiled_loop() is not None else "python"


def resolve_engine(name: str) -> str:
    """``name`` checked (``auto`` becoming the default); a clear error for an
    engine that does not exist or was not built."""
    if name == AUTO:
        return default_engine()
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r} (engines: {', '.join(ENGINES)})")
    if name not in available_engines():
        if engine_state(name) == NOT_BUILT:
            raise UsageError("the cython engine is not available: glasswasm was installed without its compiled "
                             "loop (reinstall with Cython and a C compiler present)")
        raise UsageError(f"the cython engine is not available: its compiled loop is {engine_state(name)}")
    return name


def create_machine(name: str, max_call_depth: int) -> Engine:
    """A machine of engine ``name`` (``auto`` for the default)."""
    loop = _compiled_loop() if resolve_engine(name) == "cython" else None
    if loop is not None:
        machine: Engine = loop.NativeMachine(max_call_depth)
        return machine
    return Machine(max_call_depth)
