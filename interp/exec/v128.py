"""The ``v128`` instructions on whole vectors (spec 4.3.4: ``vvunop``,
``vvbinop``, ``vvternop``, ``vvtestop``), one function per instruction.

``v128.<name>`` is the function ``<name>`` here (``not_``, ``and_``, ``or_``
for the Python keywords).  These treat the vector as 128 plain bits, so they
are single operations on the int that holds it.  The vector memory
instructions are in ``simd_memory``.
"""

from __future__ import annotations

from interp.exec.lanes import MASK128


def not_(a: int) -> int:
    return a ^ MASK128


def and_(a: int, b: int) -> int:
    return a & b


def andnot(a: int, b: int) -> int:
    return a & ~b & MASK128


def or_(a: int, b: int) -> int:
    return a | b


def xor(a: int, b: int) -> int:
    return a ^ b


def bitselect(a: int, b: int, mask: int) -> int:
    """Bits of ``a`` where ``mask`` is 1, of ``b`` where it is 0."""
    return (a & mask) | (b & ~mask & MASK128)


def any_true(a: int) -> int:
    return 1 if a else 0
