"""The store: the world a set of module instances live and run in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interp.exec.compiled import CompiledModule, compile_module
from interp.errors import UsageError
from interp.exec.host_calls import check_arguments
from interp.exec.engines import AUTO, create_machine, resolve_engine
from interp.exec.machine import Invocation, Machine
from interp.runtime.function import FunctionInstance, HostFunction
from interp.runtime.instance import ExternValue, ModuleInstance
from interp.syntax.module import Module

Imports = Mapping[str, Mapping[str, ExternValue]]
"""Import values by module name, then field name.  A module instance's
``exports`` is such an inner mapping, so registering an instance under a name
is ``imports[name] = instance.exports``."""


@dataclass(frozen=True)
class EngineConfig:
    """Limits the engine enforces on behalf of its host.

    ``max_call_depth`` bounds guest recursion ("call stack exhausted");
    ``max_memory_pages`` and ``max_table_elements`` bound what a module may
    allocate (growing further fails as the spec permits; a module that needs
    more from the start is refused with ``ResourceLimitError``).
    """

    max_call_depth: int = 10_000
    max_memory_pages: int = 16_384  # 1 GiB
    max_table_elements: int = 10_000_000
    engine: str = AUTO  # "python", "cython", or "auto" (see interp/exec/engines.py)


class Store:
    """Instances and the machine that runs them.  ``engine`` names the engine
    in use; step-wise runs (``start``) always use the step machine, which
    shares the instances' memories, tables and globals."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.engine = resolve_engine(self.config.engine)
        self.machine = create_machine(self.engine, self.config.max_call_depth)
        self._stepper: Machine | None = self.machine if isinstance(self.machine, Machine) else None
        self.instances: list[ModuleInstance] = []  # every instance made here, in order

    def instantiate(self, module: Module | CompiledModule, imports: Imports | None = None,
                    name: str | None = None, run_start: bool = True) -> ModuleInstance:
        """Validate (if needed), link and instantiate ``module``, running its
        start function (unless ``run_start`` is false: a debugger runs it
        itself).  Raises ``InvalidError``, ``UnlinkableError``,
        ``ResourceLimitError`` or ``Trap``."""
        from interp.runtime.instantiate import instantiate

        compiled = module if isinstance(module, CompiledModule) else compile_module(module)
        return instantiate(self, compiled, imports or {}, name, run_start)

    def invoke(self, func: FunctionInstance, *args: Any) -> list:
        """Call ``func`` with Python values (checked against its type); its
        results as a list."""
        return self.running_machine.invoke(func, check_arguments(func.type, args))

    @property
    def running_machine(self) -> Any:
        """The machine calls run on: the engine's, or the step machine while an
        observer (a tracer, a debugger) watches."""
        return self.stepper if self.observer is not None else self.machine

    @property
    def observer(self) -> Any:
        return self._stepper.observer if self._stepper is not None else None

    def observe(self, observer: Any) -> None:
        """Run everything from now on on the step machine, through ``observer``
        (``run(invocation)``; see interp/debug/); ``None`` stops observing."""
        self.stepper.observer = observer

    def start(self, func: FunctionInstance, *args: Any) -> Invocation:
        """Begin a call without running it; ``invocation.run(steps)`` then
        executes it a given number of instructions at a time."""
        if isinstance(func, HostFunction):
            raise UsageError("only wasm functions can be run step by step")
        return Invocation(self.stepper, func, check_arguments(func.type, args))

    @property
    def stepper(self) -> Machine:
        """The step machine of this store (the machine itself for the python engine)."""
        if self._stepper is None:
            self._stepper = Machine(self.config.max_call_depth)
            self._stepper.set_fuel(self.machine.remaining_fuel)
        return self._stepper

    def set_fuel(self, fuel: int | None) -> None:
        """Allow ``fuel`` more instructions in total (``None``: unlimited);
        running out raises ``FuelExhaustedError``."""
        self.machine.set_fuel(fuel)
        if self._stepper is not None and self._stepper is not self.machine:
            self._stepper.set_fuel(fuel)

    @property
    def fuel(self) -> int | None:
        return self.machine.remaining_fuel

