"""The store: the world a set of module instances live and run in."""

from __future__ import annotations

from typing import Any

from interp.errors import UsageError
from interp.exec.engines import Engine, EngineConfig, create_machine, resolve_engine
from interp.exec.host_calls import check_arguments
from interp.exec.instantiate import Imports, instantiate
from interp.exec.machine import Invocation, Machine, Observer
from interp.runtime.function import FunctionInstance, HostFunction
from interp.runtime.instance import ModuleInstance
from interp.syntax.module import Module
from interp.translate.compiled import CompiledModule, compile_module

__all__ = ["EngineConfig", "Imports", "Store"]


class Store:
    """Instances and the machine that runs them.  ``engine`` names the engine
    in use; step-wise runs (``start``) always use the step machine, which
    shares the instances' memories, tables and globals."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.engine = resolve_engine(self.config.engine)
        self.machine: Engine = create_machine(self.engine, self.config.max_call_depth)
        self._stepper: Machine | None = self.machine if isinstance(self.machine, Machine) else None
        self.instances: list[ModuleInstance] = []  # every instance made here, in order

    def instantiate(self, module: Module | CompiledModule, imports: Imports | None = None,
                    name: str | None = None, run_start: bool = True) -> ModuleInstance:
        """Validate (if needed), link and instantiate ``module``, running its
        start function (unless ``run_start`` is false: a debugger runs it
        itself).  Raises ``InvalidError``, ``UnlinkableError``,
        ``ResourceLimitError`` or ``Trap``."""
        compiled = module if isinstance(module, CompiledModule) else compile_module(module, features=self.config.features)
        instance = ModuleInstance(compiled, self, name)
        self.instances.append(instance)
        instantiate(instance, imports or {}, self.config, run_start)
        return instance

    def invoke(self, func: FunctionInstance, *args: Any) -> list:
        """Call ``func`` with Python values (checked against its type); its
        results as a list."""
        return self.running_machine.invoke(func, check_arguments(func.type, args))

    @property
    def running_machine(self) -> Engine:
        """The machine calls run on: the engine's, or the step machine while an
        observer (a tracer, a debugger) watches."""
        return self.stepper if self.observer is not None else self.machine

    @property
    def observer(self) -> Observer | None:
        return self._stepper.observer if self._stepper is not None else None

    def observe(self, observer: Observer | None) -> None:
        """Run everything from now on on the step machine, through ``observer``
        (see interp/debug/); ``None`` stops observing."""
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
