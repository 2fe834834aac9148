"""The step machine: runs bound functions with an explicit frame stack.

Wasm calls never recurse in Python.  A call pushes a ``Frame`` on the
machine's own stack and the loop carries on in the callee; a return pops it;
a tail call (``return_call``) replaces the caller's frame with the callee's,
so a tail-recursive loop runs in constant frame space (and the replaced
frame is no longer in a backtrace, as in other engines).  A thrown exception
(``UncaughtException``) leaves the loop and looks for its handler frame by
frame (``_catch``, with exceptions.py), then the loop goes on there.
So guest recursion is limited only by ``max_call_depth`` (ending in the spec's
"call stack exhausted"), and every frame's state — its function, ``pc`` and
slots — is plain data that can be read between instructions.

An ``Invocation`` is one call from Python into the guest.  It can run to the
end, or a given number of instructions at a time: pausing leaves every frame in
place and the next ``run`` carries on from there.

Host functions are called from the loop, in one of two styles:

* a plain function returns its results; it may call back into the guest with
  ``Caller.invoke``, which runs a nested invocation on top of the current
  frames (the proxy-wasm host does this to allocate guest memory in the middle
  of a host call).  A nested invocation always runs to its end;
* a generator function ``yield``s ``caller.call(...)`` requests and receives
  their results, then ``return``s its own.  The machine runs each request as a
  frame of its own stack, so execution can pause inside the guest code a host
  function called, like anywhere else.
"""

from __future__ import annotations

import struct
from types import GeneratorType
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from interp.errors import (
    BacktraceEntry,
    ExecutionError,
    ExhaustionError,
    FuelExhaustedError,
    Trap,
    TrapKind,
    UncaughtException,
    UsageError,
)
from interp.exec.bind import (
    BREAK,
    CALL,
    CALL_INDIRECT,
    CALL_REF,
    RESUME,
    RETURN,
    TAIL_CALL_INDIRECT,
    TAIL_CALL_REF,
    UNBOUND,
    BoundFunction,
    IndirectCall,
    ReferenceCall,
    bind_first_run,
    bind_function,
    table_callee,
)
from interp.exec.blocks import install_blocks, make_tiered
from interp.exec.exceptions import find_handler
from interp.exec.host_calls import EXHAUSTED, Caller, GuestCall, call_host, resume_generator
from interp.exec.whole import MAX_FRAME_SLOTS, MAX_NESTED_CALLS, Deoptimize, WholeCompiler, frame_slots, rebuilt_frames
from interp.runtime.function import HostFunction, WasmFunction

if TYPE_CHECKING:
    from interp.runtime.instance import ModuleInstance

__all__ = ["Caller", "Frame", "HostFrame", "Invocation", "Machine", "Observer"]

ExceptionListener = Callable[["UncaughtException", "list[Frame | HostFrame]", "Frame | HostFrame | None", int], None]
"""Told, as ``Machine.exception_listener``, of a thrown exception: the
frames it leaves (outermost first), the frame that catches it (``None``: no
frame of the invocation) and the pc its handler goes on at (-1: none)."""

UNLIMITED_FUEL = 1 << 62
MAX_STACK_SLOTS = 1 << 24
"""The most slots (locals and operand stacks) all frames may hold together,
as the compiled loop bounds its stack: deep recursion through functions with
many locals ends in "call stack exhausted" before it exhausts the host."""
RESULTS_TO_HOST = -1  # a frame's return slot when its results go to Python or a host generator


class Frame:
    """One activation of a wasm function.  ``regs`` are its slots (locals,
    then the operand stack); ``pc`` is the instruction being executed (for
    callers: the call instruction); ``return_slot`` is where in the caller's
    slots the results go, or ``RESULTS_TO_HOST``."""

    __slots__ = ("func", "bound", "regs", "pc", "return_slot")

    def __init__(self, func: WasmFunction, bound: BoundFunction, regs: list, return_slot: int) -> None:
        self.func = func
        self.bound = bound
        self.regs = regs
        self.pc = 0
        self.return_slot = return_slot

    @property
    def offset(self) -> int:
        return self.bound.lowered.offsets[self.pc]

    def backtrace_entry(self) -> BacktraceEntry:
        return self.func.backtrace_entry(self.offset)


class HostFrame:
    """A generator host function waiting for the guest call it requested."""

    __slots__ = ("func", "generator", "return_slot")

    def __init__(self, func: HostFunction, generator: GeneratorType, return_slot: int) -> None:
        self.func = func
        self.generator = generator
        self.return_slot = return_slot

    def backtrace_entry(self) -> BacktraceEntry:
        return BacktraceEntry(None, self.func.describe(), None)


class Invocation:
    """One call from Python into the guest, runnable in steps.

    ``run()`` runs to the end; ``run(n)`` executes at most ``n`` more
    instructions and returns whether the call has finished.  Once finished,
    ``results`` holds the results.  A trap (or exhaustion, or running out of
    fuel) raises, and unwinds the invocation's frames.  Invocations nest: only
    the most recently started unfinished one can run.
    """

    def __init__(self, machine: Machine, func: WasmFunction, args: list) -> None:
        self.machine = machine
        self.func = func
        self.base = len(machine.frames)
        self.finished = False
        self.abandoned = False
        self.error: BaseException | None = None  # what stopped it, when it stopped with an error
        self.results: list = []
        machine._push_call(func, list(args), RESULTS_TO_HOST)
        machine.invocations.append(self)

    @property
    def frames(self) -> list[Frame | HostFrame]:
        """This invocation's frames, outermost first."""
        return self.machine.frames[self.base:]

    def run(self, steps: int | None = None) -> bool:
        if self.finished:
            return True
        if self.abandoned:
            raise UsageError("this invocation stopped with an error and cannot continue")
        if self.machine.invocations[-1] is not self:
            raise UsageError("another invocation started later is still running")
        if steps is not None and steps < 0:
            raise UsageError("steps must not be negative")
        try:
            outcome = self.machine.run_until(self.base, steps)
        except BaseException as error:
            self.abandoned = True
            self.error = error
            self.machine.invocations.pop()
            raise
        if outcome is not None:
            self.finished = True
            self.results = outcome
            self.machine.invocations.pop()
        return self.finished


class Observer(Protocol):
    """Runs every invocation in the machine's stead, looking at it between
    instructions (a tracer, a debugger: interp/debug/)."""

    def run(self, invocation: Invocation) -> None: ...


class Machine:
    """Executes the functions of the instances of one store (an ``Engine``,
    see engines.py)."""

    def __init__(self, max_call_depth: int = 10_000) -> None:
        self.frames: list[Frame | HostFrame] = []
        self.slots_in_use = 0  # the regs of every frame, against MAX_STACK_SLOTS
        self.invocations: list[Invocation] = []
        self.max_call_depth = max_call_depth
        self.fuel = UNLIMITED_FUEL
        self.fuel_limited = False
        self.host_depth = 0
        self._ran = 0  # instructions run before the last exception a frame caught
        # For tracing and debugging (interp/debug/): an observer runs every
        # invocation in its stead; bind hooks see every function as it is bound;
        # keep_frames_on_error leaves a failed invocation's frames in place to
        # look at.
        self.observer: Observer | None = None
        self.bind_hooks: list[Callable[[BoundFunction], None]] = []
        self.keep_frames_on_error = False
        # Told where each thrown exception goes, frame by frame (a tracer's):
        # the frames it leaves, innermost last, and the frame that catches it
        # (a generator host function's: it gets the exception; None: none here).
        self.exception_listener: ExceptionListener | None = None
        self.compiler = WholeCompiler(self.bind)

    # --- fuel ------------------------------------------------------------------

    def set_fuel(self, fuel: int | None) -> None:
        """Limit execution to ``fuel`` more instructions (``None``: no limit)."""
        self.fuel_limited = fuel is not None
        self.fuel = UNLIMITED_FUEL if fuel is None else max(0, fuel)

    @property
    def remaining_fuel(self) -> int | None:
        return self.fuel if self.fuel_limited else None

    @property
    def call_depth(self) -> int:
        return len(self.frames)

    # --- entry -----------------------------------------------------------------

    def invoke(self, func: WasmFunction | HostFunction, args: Sequence[object]) -> list:
        """Call ``func`` with ``args`` (already checked) to the end."""
        if isinstance(func, HostFunction):
            results = self.call_host(func, list(args), None)
            if isinstance(results, GeneratorType):
                raise UsageError(f"{func.describe()} is a generator host function; call it from wasm")
            return results
        invocation = Invocation(self, func, list(args))
        if self.observer is not None:
            self.observer.run(invocation)
        else:
            invocation.run()
        return invocation.results

    def bind(self, func: WasmFunction) -> BoundFunction:
        lowered = func.instance.compiled.lowered(func.index)
        bound = bind_function(func, lowered)
        make_tiered(bound)
        if bound.compile_hot is not None:
            bound.compile_hot = self.compile  # hot by its loops: compiled whole too, for its next calls
        func.bound = bound
        for hook in self.bind_hooks:
            hook(bound)
        return bound

    def backtrace(self) -> tuple[BacktraceEntry, ...]:
        """The frames, innermost first."""
        return tuple(frame.backtrace_entry() for frame in reversed(self.frames))

    # --- host calls --------------------------------------------------------------

    def call_host(self, func: HostFunction, args: list, caller: ModuleInstance | None) -> list | GeneratorType:
        return call_host(self, func, args, caller)

    def _advance_host(self, host: HostFrame, results: list | None) -> list | None:
        """Resume a generator host function with the results of its last
        request.  Pushes the frame for its next request and returns ``None``,
        or returns its own results when it has finished."""
        step = resume_generator(self, host.func, host.generator, results)
        if isinstance(step, GuestCall):
            self._push_call(step.func, step.args, RESULTS_TO_HOST)
            return None
        return step

    def _push_call(self, func: WasmFunction | HostFunction, args: list, return_slot: int) -> None:
        if isinstance(func, HostFunction):
            raise UsageError("a generator host function can only call wasm functions")
        if len(self.frames) >= self.max_call_depth:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        bound = func.bound or self.bind(func)
        regs = args + bound.tail
        self._claim_slots(len(regs))
        bound.calls += 1
        if bound.calls == bound.compile_at:
            self.compile(bound)
        self.frames.append(Frame(func, bound, regs, return_slot))

    def compile(self, bound: BoundFunction) -> None:
        """Make a hot function's compiled forms what runs: its blocks, and
        the whole function when it compiles whole (whole.py)."""
        if bound.blocks is None:
            install_blocks(bound)
        self.compiler.install(bound)

    def _nesting(self, depth: int, unclaimed: int = 0) -> int:
        """How many calls may nest in a compiled function entered at call
        depth ``depth`` (its frame's ``unclaimed`` slots not yet counted):
        within the call depth limit, within the slots left (a compiled
        function's frame has at most ``MAX_FRAME_SLOTS``), and within Python's
        recursion.  Negative: the function must not be entered."""
        slots_left = MAX_STACK_SLOTS - self.slots_in_use - unclaimed
        if slots_left < 0:
            return -1
        return min(self.max_call_depth - depth, slots_left // MAX_FRAME_SLOTS, MAX_NESTED_CALLS)

    def _rebuild_frames(self, error: BaseException, return_slot: int, replace: bool, n: int) -> int:
        """Give the compiled functions ``error`` left a frame each on the
        machine's stack (the first one replacing the frame on top when
        ``replace``, else returning to ``return_slot`` of it), at the
        instruction each was running; the budget the innermost one had left."""
        found = rebuilt_frames(error.__traceback__)
        frames = self.frames
        for position, (compiled, python_frame, pc) in enumerate(found):
            regs = frame_slots(compiled, python_frame)
            if position == 0 and replace:
                frame = frames[-1]
                self.slots_in_use += len(regs) - len(frame.regs)
                frame.regs = regs
                frame.pc = pc
            else:
                frame = Frame(compiled.func, compiled.bound, regs, return_slot)
                frame.pc = pc
                frames.append(frame)
                self.slots_in_use += len(regs)
            return_slot = compiled.bound.arg_slots.get(pc, 0)  # a call's (the innermost frame's is not used)
        if not found:
            return n
        innermost, python_frame, pc = found[-1]
        refund = error.refund if isinstance(error, Deoptimize) else innermost.unspent(pc)
        return python_frame.f_locals["n"] + refund

    def _after_whole(self, error: BaseException, return_slot: int, replace: bool, n: int,
                     pausing: bool) -> tuple[int, Frame, BoundFunction, list, list[int], list, list, int]:
        """The machine's state once a compiled function has left by ``error``
        (a trap, a throw, or a ``Deoptimize`` to go on instruction by
        instruction): its frames rebuilt (``_rebuild_frames``), then the budget
        left and the frame on top with what ``_run`` keeps of it (the frame,
        its bound function, what to run, its costs and arguments, its slots,
        its pc)."""
        n = self._rebuild_frames(error, return_slot, replace, n)
        frame = self.frames[-1]
        bound = frame.bound
        code, costs, args = _executable(bound, pausing)
        return n, frame, bound, code, costs, args, frame.regs, frame.pc

    def _claim_slots(self, count: int) -> None:
        if self.slots_in_use + count > MAX_STACK_SLOTS:
            raise ExhaustionError(EXHAUSTED, self.backtrace())
        self.slots_in_use += count

    def recount_slots(self) -> None:
        """Count the slots of the frames again (after they were replaced as a
        whole, as a debugger restoring a snapshot does)."""
        self.slots_in_use = sum(len(frame.regs) for frame in self.frames if type(frame) is Frame)

    # --- the loop ----------------------------------------------------------------

    def run_until(self, base: int, steps: int | None) -> list | None:
        """Run the frames above ``base`` until the one at ``base`` returns (its
        results are returned) or ``steps`` instructions have run (``None``).
        A thrown exception that a frame catches goes on there."""
        while True:
            outcome = self._run(base, steps)
            if outcome is not _CAUGHT:
                return outcome
            if steps is not None:
                steps -= self._ran
                if steps <= 0:
                    return None

    def _run(self, base: int, steps: int | None) -> list | None | object:
        """``run_until`` until an exception is thrown that a frame above
        ``base`` catches: then the frames are ready to go on from its handler,
        ``_ran`` is the number of instructions run, and ``_CAUGHT`` returned.

        Fuel and steps are counted in one budget ``n``.  A dispatch of a
        compiled block costs its instruction count; when less budget is left
        than a block takes, the machine goes on one instruction at a time, so
        running out stops exactly where the budget says."""
        fuel = self.fuel
        budget = fuel if steps is None or steps > fuel else steps
        pausing = steps is not None and steps <= fuel
        frames = self.frames
        frame = frames[-1]
        bound = frame.bound
        code, costs, args = _executable(bound, pausing)
        R, pc = frame.regs, frame.pc
        max_depth = self.max_call_depth
        n = budget
        fuel_cell = self.compiler.fuel
        try:
            if pc == 0 and not pausing and bound.whole is not None:
                # A function starting compiled: run it whole, then return as if from its last instruction.
                try:
                    outcome = bound.whole(n, self._nesting(len(frames)), *R[:bound.num_params])
                except BaseException as error:
                    n, frame, bound, code, costs, args, R, pc = self._after_whole(error, 0, True, n, pausing)
                    if type(error) is not Deoptimize:
                        raise
                else:
                    n = fuel_cell[0]
                    _store_results(R, 0, bound.num_results, outcome)
                    code, costs, args = _RETURNS, _FREE, _NO_ARGS
            while True:
                cost = costs[pc]
                if n >= cost:
                    n -= cost
                    nxt = code[pc](R, args[pc])
                elif n:
                    n -= 1
                    nxt = bound.code[pc](R, args[pc])
                else:
                    frame.pc = pc
                    if pausing:
                        return None
                    raise FuelExhaustedError("fuel exhausted", self.backtrace())
                if nxt >= 0:
                    pc = nxt
                    continue
                if nxt == UNBOUND:  # its first run: it is bound now (bind.py), and runs
                    nxt = bind_first_run(bound, pc, code)(R, args[pc])
                    if nxt >= 0:
                        pc = nxt
                        continue
                if nxt == RESUME:  # the function has just been compiled: go on in its compiled form
                    code, costs, args = _executable(bound, pausing)
                    pc = bound.resume
                    continue
                if nxt == BREAK:  # a debugger's patched instruction: stop before it
                    n += 1  # it did not run
                    frame.pc = pc
                    return None
                if nxt != RETURN:  # a call, or a tail call (nxt < RETURN)
                    callee, base_slot = args[pc]
                    if nxt != CALL:
                        callee = resolve_callee(nxt, callee, R)
                    frame.pc = pc
                    if type(callee) is WasmFunction:
                        callee_bound = callee.bound or self.bind(callee)
                        if nxt < RETURN:  # the callee's frame replaces this one
                            R = R[base_slot:base_slot + callee_bound.num_params] + callee_bound.tail
                            self._claim_slots(len(R) - len(frame.regs))
                            frame = Frame(callee, callee_bound, R, frame.return_slot)
                            frames[-1] = frame
                        else:
                            if len(frames) >= max_depth:
                                raise ExhaustionError(EXHAUSTED, self.backtrace())
                            whole = callee_bound.whole
                            nesting = -1 if whole is None or pausing else \
                                self._nesting(len(frames) + 1, callee_bound.num_params + len(callee_bound.tail))
                            if nesting >= 0:
                                try:
                                    outcome = whole(n, nesting, *R[base_slot:base_slot + callee_bound.num_params])
                                except BaseException as error:
                                    n, frame, bound, code, costs, args, R, pc = \
                                        self._after_whole(error, base_slot, False, n, pausing)
                                    if type(error) is not Deoptimize:
                                        raise
                                    continue
                                n = fuel_cell[0]
                                _store_results(R, base_slot, callee_bound.num_results, outcome)
                                pc += 1
                                continue
                            R = R[base_slot:base_slot + callee_bound.num_params] + callee_bound.tail
                            self._claim_slots(len(R))
                            frame = Frame(callee, callee_bound, R, base_slot)
                            frames.append(frame)
                        bound = callee_bound
                        bound.calls += 1
                        if bound.calls == bound.compile_at:
                            self.compile(bound)
                        code, costs, args = _executable(bound, pausing)
                        pc = 0
                        continue
                    spent = budget - n
                    self.fuel = fuel - spent
                    outcome = self.call_host(callee, R[base_slot:base_slot + len(callee.type.params)],
                                             frame.func.instance)
                    nested = fuel - spent - self.fuel  # run by invocations inside the host function
                    if nested:
                        fuel -= nested
                        if not pausing or n > fuel - spent:
                            # Less fuel is left than steps: run to its end, still pausing between
                            # instructions when asked to (a profiler counts them), so that the next
                            # run stops where it runs out.
                            n = max(0, fuel - spent)
                        budget = spent + n
                    if isinstance(outcome, GeneratorType):
                        if nxt < RETURN:  # in a tail call, the host function's frame replaces this one
                            self.slots_in_use -= len(R)
                            host = HostFrame(callee, outcome, frame.return_slot)
                            frames[-1] = host
                        else:
                            host = HostFrame(callee, outcome, base_slot)
                            frames.append(host)
                        results = self._advance_host(host, None)
                        if results is None:
                            frame = frames[-1]
                            bound = frame.bound
                            code, costs, args = _executable(bound, pausing)
                            R, pc = frame.regs, 0
                            continue
                        if nxt < RETURN:  # it has returned already: so has the function it replaced
                            frame, R = host, []
                        else:
                            frames.pop()
                        outcome = results
                    if nxt > RETURN:
                        R[base_slot:base_slot + len(outcome)] = outcome
                        pc += 1
                        continue
                    results = outcome  # a tail call's host function returned: this function returns that
                    R[:len(outcome)] = outcome  # where a returning function's results are, for observers
                else:
                    results = R[:bound.num_results]
                self.slots_in_use -= len(R)
                frames.pop()
                if len(frames) == base:
                    return results
                return_slot = frame.return_slot
                frame = frames[-1]
                if type(frame) is HostFrame:
                    finished = self._deliver(results, return_slot, base)
                    if finished is not None:
                        return finished
                    frame = frames[-1]
                    bound = frame.bound
                    code, costs, args = _executable(bound, pausing)
                    R, pc = frame.regs, frame.pc
                    continue
                bound = frame.bound
                code, costs, args = _executable(bound, pausing)
                R = frame.regs
                R[return_slot:return_slot + len(results)] = results
                pc = frame.pc + 1
        except BaseException as error:
            failure = error
            if isinstance(error, struct.error):  # a compiled block's load or store
                failure = Trap(TrapKind.MEMORY_OUT_OF_BOUNDS)
            if type(frame) is Frame and not getattr(error, "backtrace", None):
                failing = _failing_pc(bound, pc, error)
                if failing > pc:  # inside a compiled block, charged whole: the rest of it did not run
                    n += costs[pc] - (failing - pc + 1)
                frame.pc = failing
            if isinstance(failure, ExecutionError) and not failure.backtrace:
                failure.backtrace = self.backtrace()
            if type(failure) is UncaughtException:
                try:
                    outcome = self._catch(failure, base)
                except BaseException as other:  # a host function on the way failed
                    outcome = other
                if not isinstance(outcome, BaseException):
                    self._ran = budget - n
                    return _CAUGHT if outcome is None else outcome
                failure = outcome
            if not self.keep_frames_on_error:
                for abandoned in frames[base:]:
                    if type(abandoned) is HostFrame:
                        abandoned.generator.close()
                del frames[base:]
                self.recount_slots()
            if failure is error:
                raise
            raise failure from None
        finally:
            self.fuel = fuel - (budget - n)

    def _deliver(self, results: list, return_slot: int, base: int) -> list | None:
        """Hand ``results`` to the frame on top, a generator host function
        waiting for them (which may finish, and hand its own on), or a wasm
        frame (to ``return_slot``, going on after its call).  The results
        of the invocation when they reach its base, else ``None``: the frame
        on top goes on at its ``pc``."""
        frames = self.frames
        while len(frames) > base:
            frame = frames[-1]
            if type(frame) is Frame:
                frame.regs[return_slot:return_slot + len(results)] = results
                frame.pc += 1
                return None
            finished = self._advance_host(frame, results)
            if finished is None:  # it asked for another call
                return None
            results, return_slot = finished, frame.return_slot
            frames.pop()
        return results

    def _catch(self, thrown: UncaughtException, base: int) -> list | BaseException | None:
        """Find the frame above ``base`` that catches ``thrown`` (innermost
        first, see exceptions.py), leave the frames above it and go on at its
        handler: ``None``.  A generator host function on the way gets the
        exception at its ``yield``: what it does next decides (it returns or
        calls the guest: ``None``, or the invocation's results when it was
        the last frame; it raises: that, which a frame below may catch).
        What to fail with when no frame catches it (the frames are then left
        as they are, for the backtrace and a debugger)."""
        frames = self.frames
        exception = thrown.exception
        while True:
            for level in range(len(frames) - 1, base - 1, -1):
                frame = frames[level]
                if type(frame) is HostFrame:
                    break
                catching = find_handler(frame.bound.lowered, frame.func.instance.tags, frame.pc, exception)
                if catching is not None:
                    if self.exception_listener is not None:
                        self.exception_listener(thrown, frames[level + 1:], frame, catching.target)
                    self._drop_frames(level + 1)
                    regs = frame.regs
                    first = frame.bound.lowered.num_locals
                    regs[first + catching.height:first + catching.height + len(catching.values)] = catching.values
                    if catching.exception_height is not None:
                        regs[first + catching.exception_height] = exception
                    frame.pc = catching.target
                    return None
            else:
                if self.exception_listener is not None:
                    self.exception_listener(thrown, frames[base:], None, -1)
                return thrown
            if self.exception_listener is not None:
                self.exception_listener(thrown, frames[level + 1:], frame, -1)
            self._drop_frames(level + 1)
            try:
                step = resume_generator(self, frame.func, frame.generator, None, thrown)
            except UncaughtException as again:
                frames.pop()
                if not again.backtrace:
                    again.backtrace = self.backtrace()
                thrown, exception = again, again.exception
                continue
            except BaseException as error:
                return error
            if isinstance(step, GuestCall):
                self._push_call(step.func, step.args, RESULTS_TO_HOST)
                return None
            frames.pop()
            return self._deliver(step, frame.return_slot, base)

    def _drop_frames(self, level: int) -> None:
        """Leave the frames from ``level`` up (generator host functions among
        them are closed)."""
        frames = self.frames
        for frame in frames[level:]:
            if type(frame) is HostFrame:
                frame.generator.close()
            else:
                self.slots_in_use -= len(frame.regs)
        del frames[level:]


def _store_results(R: list, slot: int, count: int, outcome: Any) -> None:
    """Put what a compiled function returned in the slots from ``slot``."""
    if count == 1:
        R[slot] = outcome
    elif count:
        R[slot:slot + count] = outcome


def _return_now(R: list, A: Any) -> int:
    return RETURN


_RETURNS = [_return_now]
_FREE = [0]
_NO_ARGS = [None]
"""What the machine runs after a function ran compiled from its start: its return, at no cost."""

_CAUGHT = object()
"""What ``Machine._run`` returns when a frame caught an exception and the
invocation goes on."""


def _executable(bound: BoundFunction, pausing: bool) -> tuple[list, list[int], list]:
    """What to run for ``bound``, what each entry costs, and the entries'
    arguments: its single instructions when pausing between instructions,
    else its fastest form."""
    if pausing:
        return bound.stepping, bound.unit_costs, bound.args
    return bound.fast, bound.fast_costs, bound.args


def _failing_pc(bound: BoundFunction, pc: int, error: BaseException) -> int:
    """The instruction that raised ``error``: ``pc`` itself, or, inside a
    compiled block starting at ``pc``, the one whose source line failed."""
    if bound.blocks is None:
        return pc
    trace = error.__traceback__
    while trace is not None:
        found = bound.blocks.pc_of(trace.tb_frame.f_code, trace.tb_lineno)
        if found is not None:
            return found
        trace = trace.tb_next
    return pc


def resolve_callee(code: int, site: Any, R: list) -> WasmFunction | HostFunction:
    """The callee of a call whose handler answered ``code``, other than a
    direct ``CALL``: through a table, or a function reference in a slot."""
    if code == CALL_INDIRECT or code == TAIL_CALL_INDIRECT:
        return resolve_indirect(site, R)
    if code == CALL_REF or code == TAIL_CALL_REF:
        return resolve_reference(site, R)
    return site


def resolve_reference(site: ReferenceCall, R: list) -> WasmFunction | HostFunction:
    callee = R[site.slot]
    if callee is None:
        raise Trap(TrapKind.NULL_FUNCTION)
    return callee


def resolve_indirect(site: IndirectCall, R: list) -> WasmFunction | HostFunction:
    return table_callee(site, R[site.index_slot])
