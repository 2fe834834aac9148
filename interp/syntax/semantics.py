"""The forms of the instruction table's semantics column (see opcodes.py).

Each instruction says what it does in one of four forms, chosen by how much of
it can be stated as data:

* ``Compute`` — a pure function of its operands, possibly trapping, written
  as an expression of the semantics language (interp/exec/semantics.py) over
  the operands ``a``, ``b``, ``c`` (stack order).  Every numeric instruction
  has this form; both engines are generated from the expression: the step
  machine's closures and compiled blocks (interp/exec/python_semantics.py) and
  the compiled loop's C cases (interp/exec/native/cython_semantics.py, at
  build time).
* ``Access`` — a scalar load or store: its width is the table's access width,
  its value type the signature's, and a load narrower than its value type
  says whether it sign-extends.  Both engines' accesses are generated from
  that.
* ``RUNTIME`` — implemented once, in Python, over the instance's runtime
  objects or over vectors (tables, segments, ``memory.init``, SIMD:
  interp/exec/instance_ops.py); both engines call that function (the
  compiled loop through its ``pyop`` instruction).
* ``MACHINE`` — control flow, calls, variables, constants, and the memory's
  size, growth, fill and copy: what each machine does with its own frames,
  slots and memory pointers (interp/exec/bind.py for the step machine, the
  compiled loop's template native/loop.pyx.in).

Adding a ``Compute`` or ``Access`` instruction is adding its table row; a
``RUNTIME`` one, its row and its Python function.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from interp.errors import TrapKind


@dataclass(frozen=True, slots=True)
class Compute:
    """``expression`` gives the result; each ``(condition, kind)`` of ``traps``,
    checked in order before it, traps with ``kind`` when ``condition`` holds."""

    expression: str
    traps: tuple[tuple[str, TrapKind], ...] = ()


@dataclass(frozen=True, slots=True)
class Access:
    """A scalar memory access: a load (``store`` false), sign-extending a
    value narrower than its type when ``signed``, or a store."""

    store: bool = False
    signed: bool = False


class Implemented(enum.Enum):
    """Semantics that are code rather than data, by where that code lives."""

    RUNTIME = "a Python function over runtime objects or vectors, run by both engines"
    MACHINE = "each machine's own (control, calls, variables, constants, the memory's size and bulk operations)"


LOAD = Access()
LOAD_SIGNED = Access(signed=True)
STORE = Access(store=True)
RUNTIME = Implemented.RUNTIME
MACHINE = Implemented.MACHINE

Semantics = Compute | Access | Implemented
