"""The execution engines, and choosing one.

* ``python``: the step machine (machine.py) — pure Python, runs everywhere,
  pauses between instructions, and is the engine of tracing and debugging.
* ``cython``: the compiled loop (native/loop.pyx) — the same semantics in C,
  built at install time when Cython and a C compiler are available.

The default is the compiled loop when it was built, else the step machine.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from interp.errors import UsageError

ENGINES = ("python", "cython")
AUTO = "auto"


def _compiled_loop() -> Any | None:
    try:
        return import_module("interp.exec.native.loop")
    except ImportError:
        return None


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
        raise UsageError("the cython engine is not available: glasswasm was installed without its compiled "
                         "loop (reinstall with Cython and a C compiler present)")
    return name


def create_machine(name: str, max_call_depth: int) -> Any:
    """A machine of engine ``name`` (already resolved)."""
    if name == "cython":
        return _compiled_loop().NativeMachine(max_call_depth)
    from interp.exec.machine import Machine

    return Machine(max_call_depth)
