"""Validation of modules (spec chapter 3).

``validate_module`` checks a whole module and returns its context; the
step-wise ``FunctionValidator`` is public because the translator drives it
instruction by instruction to lower function bodies.  ``native_body`` (a
Cython module, when the installation built it) checks function bodies from
their bytes, answering only "valid" or "don't know"; ``compile_binary`` asks
it first.
"""

from __future__ import annotations

from interp.valid.context import ModuleContext, declared_function_references
from interp.valid.function import (
    ControlFrame,
    FunctionValidator,
    validate_const_expr,
    validate_function,
)
from interp.valid.module import check_memory_type, check_table_type, validate_module

__all__ = [
    "ControlFrame",
    "FunctionValidator",
    "ModuleContext",
    "check_memory_type",
    "check_table_type",
    "declared_function_references",
    "validate_const_expr",
    "validate_function",
    "validate_module",
]
