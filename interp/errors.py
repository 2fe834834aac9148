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
from typing import Any


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


class FieldKind(enum.Enum):
    """The kinds of module field an error outside function bodies can be in;
    the value is how messages name it."""

    IMPORT = "import"
    FUNC = "function"
    TABLE = "table"
    MEMORY = "memory"
    GLOBAL = "global"
    EXPORT = "export"
    START = "start function"
    ELEM = "elem segment"
    DATA = "data segment"


@dataclass(frozen=True, slots=True)
class ModuleField:
    """One field of a module: its kind and its position among the module's
    fields of that kind (``Module.imports[index]``, ``Module.globals[index]``,
    ...; defined functions, tables, memories and globals are counted without
    the imported ones)."""

    kind: FieldKind
    index: int

    def __str__(self) -> str:
        return self.kind.value if self.kind is FieldKind.START else f"{self.kind.value} {self.index}"


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function named in an error: its index in the function index space
    (imports first) and its name, from the ``name`` section or the
    ``$identifier`` of a text module, when it has one."""

    index: int
    name: str | None = None

    def __str__(self) -> str:
        return f"function {self.index}" if self.name is None else f"function {self.index} ${self.name}"


@dataclass(frozen=True, slots=True)
class TextLocation:
    """A place in the text of a module: ``line`` and ``column`` (1-based),
    the text of that line and how many characters the token there spans, and
    the file the text came from, when it did."""

    line: int
    column: int
    source_line: str
    length: int = 1
    file: str | None = None


class SourceLocated:
    """What an error about a module says about where in the module's text it
    is: ``file``, ``line``, ``column``, ``source_line`` and ``length`` (see
    ``TextLocation``; ``None``, and ``length`` 1, when the module did not come
    from text or the place is not known).  The command line shows them as
    ``FILE:LINE:COL: error: HEADLINE``, the line and carets under the token.
    ``headline`` is the message as that line shows it, ``context`` what else
    locates it (the function, the byte offset, the field); ``str()`` is all
    of it on one line."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    source_line: str | None = None
    length: int = 1

    def place(self, location: TextLocation) -> None:
        """Locate the error at ``location`` in the module's text."""
        self.file = location.file
        self.line = location.line
        self.column = location.column
        self.source_line = location.source_line
        self.length = location.length

    @property
    def headline(self) -> str:
        return self.message

    def context(self) -> list[str]:
        return []

    def __str__(self) -> str:
        context = self.context()
        if self.line is not None and self.file is not None:
            where = f" ({', '.join(context)})" if context else ""
            return f"{self.file}:{self.line}:{self.column}: {self.headline}{where}"
        if self.line is not None:
            context.insert(0, f"at line {self.line}, column {self.column}")
        return f"{self.headline} ({', '.join(context)})" if context else self.headline


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


class TextSyntaxError(SourceLocated, MalformedError):
    """Malformed text format.  ``offset`` is a character offset; the
    ``SourceLocated`` attributes locate it for people (``length`` is how many
    characters the offending token spans)."""

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


class InvalidError(SourceLocated, WasmError):
    """The module decodes but does not validate.

    ``message`` starts with the spec's wording (what the testsuite's
    ``assert_invalid`` compares).  Where it is known: ``function`` is the
    function being validated (``FunctionRef``: index and name),
    ``instruction`` the text name of the instruction (``"i64.add"``) and
    ``offset`` its byte offset in the binary, the one ``wasm-objdump -d``
    shows; outside function bodies, ``field`` names the module field
    (``ModuleField``: an export, a global, ...).  For a module read from
    text, the ``SourceLocated`` attributes say where the instruction or the
    field is written.  ``str()`` is one line, naming the instruction in the
    message (``type mismatch in i64.add: expected [i64 i64], got [i32
    i64]``) and the rest after it.
    """

    label = "invalid"

    def __init__(self, message: str, func: int | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.function = FunctionRef(func) if func is not None else None
        self.offset = offset
        self.instruction: str | None = None
        self.field: ModuleField | None = None

    @property
    def headline(self) -> str:
        """The message with the instruction named after the spec's words
        (which end at the first colon, when there is more to say)."""
        if self.instruction is None:
            return self.message
        words, colon, rest = self.message.partition(": ")
        return f"{words} in {self.instruction}{colon}{rest}"

    def context(self) -> list[str]:
        context = []
        if self.function is not None:
            context.append(f"in {self.function}")
        elif self.field is not None:
            context.append(f"in {self.field}")
        if self.offset is not None:
            context.append(f"at offset {self.offset:#x}")
        return context


class UnlinkableError(SourceLocated, WasmError):
    """The module's imports cannot be satisfied ("unknown import",
    "incompatible import type").

    ``import_module`` and ``import_name`` name the import, ``expected`` is its
    type and ``given`` the type of what was provided (``None`` when nothing
    was), both in the text format (``(func (param i32))``, ``(memory 1 2)``);
    ``field`` is the import's ``ModuleField``, and ``function``, for a
    function import, the function it would be (``FunctionRef``).  For a
    module read from text, the ``SourceLocated`` attributes say where the
    import is written.  ``instruction`` and ``offset`` are ``None``: a link
    error is about no instruction."""

    label = "unlinkable"

    def __init__(self, message: str, *, import_module: str | None = None, import_name: str | None = None,
                 expected: str | None = None, given: str | None = None, field: ModuleField | None = None) -> None:
        super().__init__(message)
        self.import_module = import_module
        self.import_name = import_name
        self.expected = expected
        self.given = given
        self.field = field
        self.function: FunctionRef | None = None
        self.instruction: str | None = None
        self.offset: int | None = None


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
    NULL_EXCEPTION_REFERENCE = (27, "null exception reference")

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


class UncaughtException(ExecutionError):
    """A WebAssembly exception (``throw``) that no handler caught before it
    left the guest.  ``exception`` is the exception instance (an ``exnref``
    value, ``interp.runtime.tag.ExceptionInstance``): ``tag`` is its tag
    instance and ``values`` its payload, as Python values.

    Raised inside the engine too, while a thrown exception looks for its
    handler; a host function raises one (``tag.exception(*values)``) to
    throw into the guest that called it, and one that guest code called
    back through a host function throws passes through that host function
    unless it catches it."""

    label = "uncaught exception"

    def __init__(self, exception: Any, backtrace: tuple[BacktraceEntry, ...] = ()) -> None:
        super().__init__(exception.describe(), backtrace)
        self.exception = exception

    @property
    def tag(self) -> Any:
        return self.exception.tag

    @property
    def values(self) -> list:
        return list(self.exception.values)


class HostFunctionError(Trap):
    """A host function (written in Python) failed; the original exception is
    the ``__cause__``.  The guest sees it as a trap."""


class ExhaustionError(ExecutionError):
    """The call stack is exhausted (deep or infinite recursion)."""

    label = "exhaustion"


class FuelExhaustedError(ExecutionError):
    """The instruction budget given as fuel ran out."""

    label = "fuel"
