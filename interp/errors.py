"""The one exception hierarchy of the engine.

Everything a user's module (or a user's call into it) can cause ends in one of
these classes; nothing else may escape the public API.  The classes follow the
outcomes the WebAssembly spec distinguishes, because the testsuite asserts on
exactly those: a module is *malformed* (cannot be decoded or parsed), *invalid*
(decodes but fails validation), *unlinkable* (its imports do not fit); running it
*traps* or *exhausts* the call stack.  Fuel and resource limits are the engine's
own, so they get their own classes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class GlasswasmError(Exception):
    """Root of every error the engine reports on purpose.  ``label`` names the
    kind of failure in one word, as the command line prints it."""

    label = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(GlasswasmError):
    """The caller of the API (not the module) asked for something impossible:
    an unknown export, the wrong number or type of arguments, an unreadable file."""


class WasmError(GlasswasmError):
    """Something the module itself caused."""


class MalformedError(WasmError):
    """The binary or text cannot be decoded or parsed.

    ``offset`` is the byte offset in the binary, or the character offset in the
    text, where decoding stopped (``None`` when unknown).
    """

    label = "malformed"

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at offset {self.offset:#x})"


class TextSyntaxError(MalformedError):
    """Malformed text format.  ``offset`` is a character offset; ``line`` and
    ``column`` (1-based) locate it for people, ``source_line`` is the text of
    that line and ``length`` how many characters the offending token spans (so
    a tool can show the line with the token underlined, as the command line
    does), and ``file`` names the file the text came from, when it did."""

    def __init__(self, message: str, offset: int | None = None,
                 line: int | None = None, column: int | None = None, *,
                 source_line: str | None = None, length: int = 1, file: str | None = None) -> None:
        super().__init__(message, offset)
        self.line = line
        self.column = column
        self.source_line = source_line
        self.length = length
        self.file = file

    def in_file(self, file: str) -> TextSyntaxError:
        """The same error, located in ``file``."""
        return TextSyntaxError(self.message, self.offset, self.line, self.column,
                               source_line=self.source_line, length=self.length, file=file)

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.file is None:
            return f"{self.message} (at line {self.line}, column {self.column})"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class InvalidError(WasmError):
    """The module decodes but does not validate.

    ``func`` is the index of the function being validated (``None`` outside
    function bodies) and ``offset`` the byte offset of the instruction.
    """

    label = "invalid"

    def __init__(self, message: str, func: int | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.func = func
        self.offset = offset

    def __str__(self) -> str:
        where = []
        if self.func is not None:
            where.append(f"in function {self.func}")
        if self.offset is not None:
            where.append(f"at offset {self.offset:#x}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class UnlinkableError(WasmError):
    """The module's imports cannot be satisfied ("unknown import",
    "incompatible import type")."""

    label = "unlinkable"


class InternalError(GlasswasmError):
    """Code on the host's side (a host function's implementation, not the
    guest) failed.  It is never turned into a trap: the guest did nothing
    wrong, so the error reaches whoever drives the engine, as what it is."""

    label = "internal error"


class ResourceLimitError(WasmError):
    """The module asks for more than this engine allows (for example a memory
    larger than the configured limit).  The spec permits an implementation to
    refuse such modules; we say so plainly instead of exhausting the host."""

    label = "resource limit"


@dataclass(frozen=True)
class BacktraceEntry:
    """One wasm frame of a backtrace: function index, its name when the module
    names it, the byte offset of the instruction being executed, and its
    source line when the module has debug information."""

    func_index: int | None
    func_name: str | None
    offset: int | None
    module_name: str | None = None
    source: str | None = None  # "file.c:12" when the module has line information

    def describe(self) -> str:
        name = self.func_name if self.func_name is not None else f"func[{self.func_index}]"
        if self.module_name:
            name = f"{self.module_name}!{name}"
        where = f" @ {self.offset:#x}" if self.offset is not None else ""
        source = f" ({self.source})" if self.source else ""
        return f"{name}{where}{source}"


class ExecutionError(WasmError):
    """Execution stopped abnormally.  ``backtrace`` lists the wasm frames,
    innermost first, at the moment it stopped."""

    def __init__(self, message: str, backtrace: tuple[BacktraceEntry, ...] = ()) -> None:
        super().__init__(message)
        self.backtrace = backtrace

    def format_backtrace(self) -> list[str]:
        return [f"  {i}: {entry.describe()}" for i, entry in enumerate(self.backtrace)]


class TrapKind(enum.Enum):
    """Every trap the engine raises by itself: a code (the number the compiled
    loop reports it by) and the spec's message, which the testsuite's
    ``assert_trap`` compares with.  Both engines and the runtime name traps
    only through this table."""

    UNREACHABLE = (1, "unreachable")
    MEMORY_OUT_OF_BOUNDS = (2, "out of bounds memory access")
    TABLE_OUT_OF_BOUNDS = (3, "out of bounds table access")
    INTEGER_DIVIDE_BY_ZERO = (4, "integer divide by zero")
    INTEGER_OVERFLOW = (5, "integer overflow")
    INVALID_CONVERSION = (6, "invalid conversion to integer")
    UNDEFINED_ELEMENT = (7, "undefined element")
    UNINITIALIZED_ELEMENT = (8, "uninitialized element")
    INDIRECT_CALL_TYPE_MISMATCH = (9, "indirect call type mismatch")
    NULL_REFERENCE = (20, "null reference")
    NULL_FUNCTION = (21, "null function reference")
    NULL_STRUCT = (22, "null structure reference")
    NULL_ARRAY = (23, "null array reference")
    NULL_I31 = (24, "null i31 reference")
    CAST_FAILURE = (25, "cast failure")
    ARRAY_OUT_OF_BOUNDS = (26, "out of bounds array access")

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message


class Trap(ExecutionError):
    """A WebAssembly trap.  ``message`` is the spec's wording (``"integer
    divide by zero"``, ``"out of bounds memory access"``, ...): give the
    engine's ``TrapKind`` (and, for some, a ``detail`` such as the element
    index), or any text when a host function traps.  ``kind`` is the
    ``TrapKind``, or ``None`` for a host function's own trap."""

    label = "trap"

    def __init__(self, message: str | TrapKind, backtrace: tuple[BacktraceEntry, ...] = (),
                 detail: str | None = None) -> None:
        self.kind = message if isinstance(message, TrapKind) else None
        text = message.message if isinstance(message, TrapKind) else message
        super().__init__(f"{text} {detail}" if detail else text, backtrace)


class HostFunctionError(Trap):
    """A host function (written in Python) failed; the original exception is
    the ``__cause__``.  The guest sees it as a trap."""


class ExhaustionError(ExecutionError):
    """The call stack is exhausted (deep or infinite recursion)."""

    label = "exhaustion"


class FuelExhaustedError(ExecutionError):
    """The instruction budget given as fuel ran out."""

    label = "fuel"
