"""Source-level variables from DWARF: functions, their parameters and local
variables by scope, global variables, and their types and locations.

pyelftools decodes the DWARF structure (compile units, DIEs and their
attributes, location and range lists of DWARF 2 to 5, and the expression
operations, WebAssembly's ``DW_OP_WASM_location`` 0xED among them); what is
built here is what a debugger asks: which variables are in scope at a code
address, what type each has (c_types.py), and where its bytes are.

Locations are DWARF expressions, evaluated here against a paused frame
(``LocationContext``).  WebAssembly adds one operation (tool-conventions,
Debugging.md): ``DW_OP_WASM_location KIND INDEX`` names a wasm local (0), a
global (1, or 3 with a fixed 4-byte index) or an operand-stack entry (2,
counted from the bottom of the function's operand stack), as a register
would be named on other machines.  clang at -O0 keeps variables in the shadow
stack in linear memory, at ``DW_OP_fbreg`` offsets from a frame base that is
itself a wasm local (``DW_AT_frame_base``); with optimization, variables live
in locals, on the operand stack, as constants, or in pieces of these, and
location lists say which at each code address.  Code addresses are offsets
into the code section's contents, as in the line tables (source_map.py gives
where that starts).

Reading is lazy: the compile units' address ranges are read at once, a
unit's functions and variables when a frame in it is first looked at, and
all units only when a global is looked up by name.  The sections are
untrusted: a unit pyelftools cannot read is left out, and types that refer to
themselves end in bounded walks (c_types.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.locationlists import BaseAddressEntry, LocationEntry, LocationExpr, LocationParser
from elftools.dwarf.ranges import BaseAddressEntry as RangeBaseAddressEntry

from interp.debug.c_types import (
    MAX_VALUE_BYTES,
    UNKNOWN,
    VOID,
    ArrayType,
    BaseType,
    CType,
    Encoding,
    EnumType,
    FunctionType,
    Member,
    PointerType,
    QualifiedType,
    Storage,
    StructType,
    TypedefType,
)
from interp.dwarf.lines import dwarf_info
from interp.syntax.module import Module

Expression = bytes
LocationList = tuple[tuple[int, int, Expression], ...]
"""(begin, end, expression) per range of code addresses."""

MAX_EXPRESSION_STEPS = 10_000
TOMBSTONE = 0xFFFF_FFFE
"""Linkers mark the addresses of code they dropped 0, -1 or -2: no code lies
at 0 (the code section starts with its function count) or at these."""
ADDRESS_MASK = 0xFFFF_FFFF_FFFF_FFFF

_ENCODINGS = {
    0x02: Encoding.BOOL, 0x04: Encoding.FLOAT, 0x05: Encoding.SIGNED, 0x06: Encoding.SIGNED_CHAR,
    0x07: Encoding.UNSIGNED, 0x08: Encoding.UNSIGNED_CHAR, 0x10: Encoding.UNSIGNED,  # DW_ATE_UTF
}
_QUALIFIERS = {"DW_TAG_const_type": "const", "DW_TAG_volatile_type": "volatile",
               "DW_TAG_restrict_type": "restrict", "DW_TAG_atomic_type": "_Atomic"}
_STRUCTS = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union", "DW_TAG_class_type": "class"}
_SCOPES = ("DW_TAG_lexical_block", "DW_TAG_inlined_subroutine")
_VARIABLES = ("DW_TAG_variable", "DW_TAG_formal_parameter")
_INDEXED_ADDRESSES = ("DW_OP_addrx", "DW_OP_constx", "DW_OP_GNU_addr_index")


class LocationUnavailable(Exception):
    """A location expression that cannot be evaluated here and now."""


@dataclass(frozen=True)
class Variable:
    """A source variable: where it is (``location``, an expression or a list
    by code address; ``const_value`` when the compiler folded it to a
    constant), its type, and whether it is a parameter."""

    name: str
    type: CType
    location: Expression | LocationList | None
    const_value: bytes | None
    parameter: bool
    line: int
    addresses: tuple[tuple[int, int], ...] = ()  # DW_OP_addrx indices of the location, resolved


@dataclass
class Scope:
    """A function body, a lexical block or an inlined call: code ranges and
    the variables declared directly in it."""

    ranges: tuple[tuple[int, int], ...]
    variables: list[Variable] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)

    def contains(self, address: int) -> bool:
        return any(low <= address < high for low, high in self.ranges)


@dataclass
class FunctionScope(Scope):
    name: str = ""
    frame_base: Expression | LocationList | None = None


class LocationContext(Protocol):
    """A paused frame as location expressions see it; values as unsigned
    integers of their bits, ``None`` when not there."""

    def local(self, index: int) -> tuple[int, int] | None:
        """Wasm local ``index``: its bits and size in bytes."""

    def global_(self, index: int) -> tuple[int, int] | None: ...

    def operand(self, index: int) -> tuple[int, int] | None:
        """Operand-stack entry ``index``, counted from the bottom."""

    def frame_base(self) -> int | None: ...

    def read(self, address: int, length: int) -> bytes | None: ...


class DebugVariables:
    """The variables of one module's DWARF; ``code_start`` is where the code
    section's contents start (code addresses + ``code_start`` = module offsets)."""

    def __init__(self, sections: dict[str, bytes], code_start: int) -> None:
        self.code_start = code_start
        self._info = dwarf_info(sections)
        self._locations = LocationParser(self._info.location_lists())
        self._expressions: DWARFExprParser | None = None
        self._units: list[tuple[Any, tuple[tuple[int, int], ...]]] = []
        self._functions: dict[int, list[FunctionScope]] = {}  # unit offset -> its functions
        self._globals: dict[str, Variable] | None = None
        self._types: dict[int, CType] = {}
        self._named_types: dict[str, CType] = {}
        self._read_units()

    @staticmethod
    def for_module(module: Module, code_start: int) -> DebugVariables | None:
        sections = {custom.name: custom.data for custom in module.customs if custom.name.startswith(".debug_")}
        if ".debug_info" not in sections or ".debug_abbrev" not in sections:
            return None
        try:
            variables = DebugVariables(sections, code_start)
        except Exception:  # pyelftools on corrupt DWARF (see dwarf_lines.py)
            return None
        return variables if variables._units else None

    # --- lookups -------------------------------------------------------------------

    def function_at(self, address: int) -> FunctionScope | None:
        """The function whose code holds code address ``address``."""
        for unit, ranges in self._units:
            if any(low <= address < high for low, high in ranges) or not ranges:
                for function in self._unit_functions(unit):
                    if function.contains(address):
                        return function
        return None

    def scopes_at(self, address: int) -> list[Scope]:
        """The scopes open at ``address``, the function first, innermost last."""
        function = self.function_at(address)
        if function is None:
            return []
        chain: list[Scope] = [function]
        while True:
            inner = next((scope for scope in chain[-1].scopes if scope.contains(address)), None)
            if inner is None:
                return chain
            chain.append(inner)

    def global_variable(self, name: str) -> Variable | None:
        return self._all_globals().get(name)

    def global_variables(self) -> list[Variable]:
        return sorted(self._all_globals().values(), key=lambda variable: variable.name)

    def type_named(self, name: str) -> CType | None:
        """A type by the name C gives it (``struct point``, ``uint32_t``, ``int``)."""
        self._all_globals()  # reads every unit, so every named type is known
        return self._named_types.get(name)

    # --- locations -------------------------------------------------------------------

    def location_at(self, location: Expression | LocationList | None, address: int) -> Expression | None:
        """The expression of ``location`` that holds at code address ``address``."""
        if location is None or isinstance(location, bytes):
            return location
        for low, high, expression in location:
            if low <= address < high:
                return expression
        return None

    def storage(self, variable: Variable, address: int, context: LocationContext) -> Storage:
        """The bytes of ``variable`` when the frame stands at code address
        ``address``; unknown bytes where the compiler kept none."""
        size = min(variable.type.byte_size(), MAX_VALUE_BYTES)
        if variable.const_value is not None:
            return Storage.of(variable.const_value[:size].ljust(size, b"\0"))
        expression = self.location_at(variable.location, address)
        if expression is None:
            return Storage.unknown(size)
        try:
            return self.evaluate(expression, context, size, variable.addresses)
        except LocationUnavailable:
            return Storage.unknown(size)

    def frame_base(self, function: FunctionScope, address: int, context: LocationContext) -> int | None:
        """The value of ``function``'s frame base (``DW_AT_frame_base``) at ``address``."""
        expression = self.location_at(function.frame_base, address)
        if expression is None:
            return None
        try:
            storage = self.evaluate(expression, context, 4)
        except LocationUnavailable:
            return None
        return int.from_bytes(storage.data, "little") if storage.complete else None

    def evaluate(self, expression: Expression, context: LocationContext, size: int,
                 addresses: tuple[tuple[int, int], ...] = ()) -> Storage:
        """Run a location expression (DWARF 5, section 2.6): the bytes it locates.

        A simple location is memory at the address on top of the stack, a
        register (a wasm local, global or operand) or a value
        (``DW_OP_stack_value``, ``DW_OP_implicit_value``); ``DW_OP_piece``
        joins several into one variable, and a piece with no location is
        bytes the compiler did not keep."""
        if self._expressions is None:
            self._expressions = DWARFExprParser(self._info.structs)
        try:
            operations = self._expressions.parse_expr(expression)
        except Exception as error:  # a truncated or unknown operation
            raise LocationUnavailable(f"unreadable location ({error})") from None
        if len(operations) > MAX_EXPRESSION_STEPS:
            raise LocationUnavailable("location expression too long")
        stack: list[int] = []
        pieces: list[Storage] = []
        kind = "empty"  # what the current piece is: empty, memory, value (bits on the stack), register, implicit
        register: tuple[int, int] | None = None
        implicit = b""
        for operation in operations:
            name, args = operation.op_name, operation.args
            if name == "DW_OP_piece":
                pieces.append(_piece(kind, stack, register, implicit, args[0], context))
                kind, register, implicit = "empty", None, b""
                stack.clear()
                continue
            if kind in ("register", "value", "implicit") and name != "DW_OP_stack_value":
                if kind == "register":  # a register read used as a number, as in a frame base
                    stack.append(register[0])  # type: ignore[index]
                    kind, register = "memory", None
                else:
                    raise LocationUnavailable(f"{name} after a value location")
            if name == "DW_OP_WASM_location":
                register = _wasm_location(args[0], args[1], context)
                kind = "register"
            elif name == "DW_OP_stack_value":
                if kind == "register":
                    stack.append(register[0])  # type: ignore[index]
                if not stack:
                    raise LocationUnavailable("DW_OP_stack_value on an empty stack")
                kind = "value"
            elif name == "DW_OP_implicit_value":
                implicit, kind = bytes(args[0]), "implicit"
            elif name == "DW_OP_fbreg":
                base = context.frame_base()
                if base is None:
                    raise LocationUnavailable("no frame base")
                stack.append((base + args[0]) & ADDRESS_MASK)
                kind = "memory"
            elif name in _INDEXED_ADDRESSES:
                resolved = dict(addresses).get(args[0])
                if resolved is None:
                    raise LocationUnavailable("address index out of range")
                stack.append(resolved)
                kind = "memory"
            else:
                _arithmetic(name, args, stack, context)
                kind = "memory"
        if kind != "empty" or not pieces:
            pieces.append(_piece(kind, stack, register, implicit, size, context))
        return _join(pieces, size)

    # --- reading the DWARF -------------------------------------------------------------

    def _read_units(self) -> None:
        for unit in self._info.iter_CUs():
            try:
                top = unit.get_top_DIE()
                self._units.append((unit, tuple(self._ranges(top, unit))))
            except Exception:
                continue

    def _unit_functions(self, unit: Any) -> list[FunctionScope]:
        functions = self._functions.get(unit.cu_offset)
        if functions is None:
            functions = self._functions[unit.cu_offset] = []
            try:
                self._read_unit(unit, functions, None)
            except Exception:
                pass
        return functions

    def _all_globals(self) -> dict[str, Variable]:
        if self._globals is None:
            self._globals = {}
            for unit, _ in self._units:
                functions = self._functions.get(unit.cu_offset)
                if functions is None:
                    self._functions[unit.cu_offset] = functions = []
                try:
                    self._read_unit(unit, functions, self._globals)
                except Exception:
                    continue
        return self._globals

    def _read_unit(self, unit: Any, functions: list[FunctionScope], globals_: dict[str, Variable] | None) -> None:
        reading_functions = not functions
        for die in unit.get_top_DIE().iter_children():
            tag = die.tag
            if tag == "DW_TAG_subprogram" and reading_functions:
                function = self._function(die, unit)
                if function is not None:
                    functions.append(function)
            elif tag == "DW_TAG_variable" and globals_ is not None:
                variable = self._variable(die, unit)
                if variable is not None and variable.name not in globals_:
                    globals_[variable.name] = variable
            elif globals_ is not None and tag in ("DW_TAG_typedef", "DW_TAG_base_type", "DW_TAG_enumeration_type",
                                                  *_STRUCTS):
                self._type(die)

    def _function(self, die: Any, unit: Any) -> FunctionScope | None:
        if "DW_AT_declaration" in die.attributes:
            return None
        ranges = tuple(self._ranges(die, unit))
        if not ranges:
            return None
        function = FunctionScope(ranges, name=_name(_origin(die)), frame_base=self._location(die, "DW_AT_frame_base",
                                                                                              unit))
        self._fill_scope(function, die, unit, 0)
        return function

    def _fill_scope(self, scope: Scope, die: Any, unit: Any, depth: int) -> None:
        if depth > 64:
            return
        for child in die.iter_children():
            if child.tag in _VARIABLES:
                variable = self._variable(child, unit)
                if variable is not None:
                    scope.variables.append(variable)
            elif child.tag in _SCOPES:
                ranges = tuple(self._ranges(child, unit))
                if ranges:
                    inner = Scope(ranges)
                    self._fill_scope(inner, child, unit, depth + 1)
                    scope.scopes.append(inner)

    def _variable(self, die: Any, unit: Any) -> Variable | None:
        origin = _origin(die)
        name = _name(die) or _name(origin) or _name(_specification(die))
        if not name:
            return None
        location = self._location(die, "DW_AT_location", unit)
        const = die.attributes.get("DW_AT_const_value")
        if location is None and const is None:
            return None
        type_die = _referenced(die, "DW_AT_type") or _referenced(origin, "DW_AT_type") or \
            _referenced(_specification(die), "DW_AT_type")
        ctype = self._type(type_die) if type_die is not None else UNKNOWN
        return Variable(name, ctype, location, _const_bytes(const, ctype), die.tag == "DW_TAG_formal_parameter",
                        _int(die.attributes.get("DW_AT_decl_line")) or 0,
                        addresses=self._indexed_addresses(unit, location))

    def _location(self, die: Any, attribute: str, unit: Any) -> Expression | LocationList | None:
        value = die.attributes.get(attribute)
        if value is None:
            return None
        try:
            parsed = self._locations.parse_from_attribute(value, unit["version"], die)
        except Exception:
            return None
        if isinstance(parsed, LocationExpr):
            return bytes(parsed.loc_expr)
        base = _int(unit.get_top_DIE().attributes.get("DW_AT_low_pc")) or 0
        entries = []
        for entry in parsed:
            if isinstance(entry, BaseAddressEntry):
                base = entry.base_address
            elif isinstance(entry, LocationEntry):
                offset = 0 if entry.is_absolute else base
                entries.append((entry.begin_offset + offset, entry.end_offset + offset, bytes(entry.loc_expr)))
        return tuple(entries)

    def _indexed_addresses(self, unit: Any, location: Expression | LocationList | None) -> tuple[tuple[int, int], ...]:
        """The ``.debug_addr`` entries a location's ``DW_OP_addrx`` operations name."""
        expressions = [location] if isinstance(location, bytes) else [entry[2] for entry in location or ()]
        if self._expressions is None:
            self._expressions = DWARFExprParser(self._info.structs)
        resolved = {}
        for expression in expressions:
            try:
                operations = self._expressions.parse_expr(expression)
            except Exception:
                continue
            for operation in operations:
                if operation.op_name in _INDEXED_ADDRESSES and operation.args[0] not in resolved:
                    try:
                        resolved[operation.args[0]] = self._info.get_addr(unit, operation.args[0])
                    except Exception:
                        continue
        return tuple(sorted(resolved.items()))

    def _ranges(self, die: Any, unit: Any) -> Iterable[tuple[int, int]]:
        attributes = die.attributes
        low = _int(attributes.get("DW_AT_low_pc"))
        high_attribute = attributes.get("DW_AT_high_pc")
        if low is not None and high_attribute is not None:
            high = _int(high_attribute) or 0
            if high_attribute.form != "DW_FORM_addr":
                high += low  # a length
            if 0 < low < high < TOMBSTONE:
                yield low, high
            return
        if "DW_AT_ranges" in attributes:
            lists = self._info.range_lists()
            if lists is None:
                return
            base = _int(unit.get_top_DIE().attributes.get("DW_AT_low_pc")) or 0
            offset = attributes["DW_AT_ranges"].value
            for entry in lists.get_range_list_at_offset(offset, cu=unit):
                if isinstance(entry, RangeBaseAddressEntry):
                    base = entry.base_address
                    continue
                begin = entry.begin_offset + (0 if entry.is_absolute else base)
                end = entry.end_offset + (0 if entry.is_absolute else base)
                if 0 < begin < end < TOMBSTONE:
                    yield begin, end

    # --- types -----------------------------------------------------------------------------

    def _type(self, die: Any, depth: int = 0) -> CType:
        known = self._types.get(die.offset)
        if known is not None:
            return known
        if depth > 64:
            return UNKNOWN
        tag = die.tag
        name = _name(die)
        size = _int(die.attributes.get("DW_AT_byte_size")) or 0
        target_die = _referenced(die, "DW_AT_type")
        ctype: CType
        if tag == "DW_TAG_base_type":
            encoding = _ENCODINGS.get(_int(die.attributes.get("DW_AT_encoding")) or 0, Encoding.UNSIGNED)
            ctype = BaseType(name or "?", size, encoding)
            self._types[die.offset] = ctype
        elif tag in ("DW_TAG_pointer_type", "DW_TAG_reference_type", "DW_TAG_rvalue_reference_type"):
            pointer = PointerType(reference=tag != "DW_TAG_pointer_type")
            self._types[die.offset] = ctype = pointer
            pointer.target = self._type(target_die, depth + 1) if target_die is not None else None
        elif tag in _STRUCTS:
            structure = StructType(_STRUCTS[tag], name, size)
            self._types[die.offset] = ctype = structure
            for member in die.iter_children():
                if member.tag == "DW_TAG_member":
                    structure.members.append(self._member(member, depth))
        elif tag == "DW_TAG_array_type":
            element = self._type(target_die, depth + 1) if target_die is not None else UNKNOWN
            counts = [_count(child) for child in die.iter_children() if child.tag == "DW_TAG_subrange_type"]
            for count in reversed(counts or [None]):
                element = ArrayType(element, count)
            ctype = element
            self._types[die.offset] = ctype
        elif tag == "DW_TAG_enumeration_type":
            underlying = self._type(target_die, depth + 1).resolved() if target_die is not None else None
            signed = isinstance(underlying, BaseType) and underlying.is_signed
            size = size or (underlying.size if underlying is not None else 4)
            enumerators = []
            for child in die.iter_children():
                if child.tag == "DW_TAG_enumerator":
                    value = _int(child.attributes.get("DW_AT_const_value")) or 0
                    if signed and value >> (8 * size - 1):
                        value -= 1 << (8 * size)
                    enumerators.append((_name(child), value))
            ctype = EnumType(name, size, enumerators, signed)
            self._types[die.offset] = ctype
        elif tag == "DW_TAG_typedef":
            typedef = TypedefType(name or "?", None)
            self._types[die.offset] = ctype = typedef
            typedef.target = self._type(target_die, depth + 1) if target_die is not None else VOID
        elif tag in _QUALIFIERS:
            qualified = QualifiedType(_QUALIFIERS[tag], None)
            self._types[die.offset] = ctype = qualified
            qualified.target = self._type(target_die, depth + 1) if target_die is not None else VOID
        elif tag == "DW_TAG_subroutine_type":
            function = FunctionType(None, [])
            self._types[die.offset] = ctype = function
            function.result = self._type(target_die, depth + 1) if target_die is not None else None
            function.params = [self._type(param, depth + 1) for param in
                               (_referenced(child, "DW_AT_type") for child in die.iter_children()
                                if child.tag == "DW_TAG_formal_parameter") if param is not None]
        elif tag == "DW_TAG_unspecified_type":
            ctype = VOID
        else:
            ctype = UNKNOWN
        if name and tag != "DW_TAG_pointer_type":
            self._named_types.setdefault(str(ctype), ctype)
        return ctype

    def _member(self, die: Any, depth: int) -> Member:
        type_die = _referenced(die, "DW_AT_type")
        ctype = self._type(type_die, depth + 1) if type_die is not None else UNKNOWN
        location = die.attributes.get("DW_AT_data_member_location")
        offset = 0
        if location is not None:
            if isinstance(location.value, int):
                offset = location.value
            elif isinstance(location.value, list) and location.value[:1] == [0x23]:  # DW_OP_plus_uconst
                offset = _uleb(location.value[1:])
        bit_size = _int(die.attributes.get("DW_AT_bit_size")) or 0
        bit_offset = 0
        if bit_size:
            data_bit_offset = _int(die.attributes.get("DW_AT_data_bit_offset"))
            if data_bit_offset is not None:
                offset, bit_offset = data_bit_offset // 8, data_bit_offset % 8
            else:  # DWARF 2 and 3: counted from the most significant bit of the storage unit
                storage_bits = 8 * (_int(die.attributes.get("DW_AT_byte_size")) or ctype.byte_size() or 4)
                bit_offset = storage_bits - (_int(die.attributes.get("DW_AT_bit_offset")) or 0) - bit_size
        return Member(_name(die), ctype, offset, bit_size, max(bit_offset, 0))


# --- evaluating expressions ------------------------------------------------------------------


def _wasm_location(kind: int, index: int, context: LocationContext) -> tuple[int, int]:
    if kind == 0:
        found = context.local(index)
    elif kind in (1, 3):
        found = context.global_(index)
    elif kind == 2:
        found = context.operand(index)
    else:
        raise LocationUnavailable(f"unknown DW_OP_WASM_location kind {kind}")
    if found is None:
        raise LocationUnavailable("the wasm location is not there at this point")
    return found


def _piece(kind: str, stack: list[int], register: tuple[int, int] | None, implicit: bytes, size: int,
           context: LocationContext) -> Storage:
    if kind == "empty":
        return Storage.unknown(size)
    if kind == "implicit":
        return Storage.of(implicit[:size].ljust(size, b"\0"))
    if kind == "register":
        bits, width = register  # type: ignore[misc]
        return Storage.of((bits & ((1 << (8 * width)) - 1)).to_bytes(width, "little")[:size].ljust(size, b"\0"))
    if not stack:
        raise LocationUnavailable("empty location")
    if kind == "value":
        return Storage.of((stack[-1] & ADDRESS_MASK).to_bytes(8, "little")[:size].ljust(size, b"\0"))
    address = stack[-1]
    data = context.read(address, size)
    if data is None:
        return Storage(bytes(size), bytes(size), address)
    return Storage.of(data, address)


def _join(pieces: list[Storage], size: int) -> Storage:
    if len(pieces) == 1:
        piece = pieces[0]
        return piece if len(piece.data) == size else piece.part(0, size)
    data = b"".join(piece.data for piece in pieces)
    known = b"".join(piece.known for piece in pieces)
    return Storage(data, known).part(0, size)


_BINARY = {
    "DW_OP_plus": lambda a, b: a + b, "DW_OP_minus": lambda a, b: a - b, "DW_OP_mul": lambda a, b: a * b,
    "DW_OP_and": lambda a, b: a & b, "DW_OP_or": lambda a, b: a | b, "DW_OP_xor": lambda a, b: a ^ b,
    "DW_OP_shl": lambda a, b: a << min(b, 64), "DW_OP_shr": lambda a, b: a >> min(b, 64),
    "DW_OP_eq": lambda a, b: int(a == b), "DW_OP_ne": lambda a, b: int(a != b), "DW_OP_lt": lambda a, b: int(a < b),
    "DW_OP_gt": lambda a, b: int(a > b), "DW_OP_le": lambda a, b: int(a <= b), "DW_OP_ge": lambda a, b: int(a >= b),
}
_CONSTANTS = frozenset({"DW_OP_const1u", "DW_OP_const1s", "DW_OP_const2u", "DW_OP_const2s", "DW_OP_const4u",
                        "DW_OP_const4s", "DW_OP_const8u", "DW_OP_const8s", "DW_OP_constu", "DW_OP_consts",
                        "DW_OP_addr"})


def _arithmetic(name: str, args: list, stack: list[int], context: LocationContext) -> None:
    """The stack operations of DWARF expressions (section 2.5) that
    WebAssembly code uses; anything else makes the location unavailable."""
    try:
        if name.startswith("DW_OP_lit"):
            stack.append(int(name[len("DW_OP_lit"):]))
        elif name in _CONSTANTS:
            stack.append(args[0] & ADDRESS_MASK)
        elif name == "DW_OP_plus_uconst":
            stack.append((stack.pop() + args[0]) & ADDRESS_MASK)
        elif name in _BINARY:
            right, left = stack.pop(), stack.pop()
            stack.append(_BINARY[name](left, right) & ADDRESS_MASK)
        elif name in ("DW_OP_div", "DW_OP_mod"):
            right, left = stack.pop(), stack.pop()
            if right == 0:
                raise LocationUnavailable("division by zero in a location")
            stack.append((left // right if name == "DW_OP_div" else left % right) & ADDRESS_MASK)
        elif name == "DW_OP_neg":
            stack.append(-stack.pop() & ADDRESS_MASK)
        elif name == "DW_OP_not":
            stack.append(~stack.pop() & ADDRESS_MASK)
        elif name == "DW_OP_dup":
            stack.append(stack[-1])
        elif name == "DW_OP_drop":
            stack.pop()
        elif name == "DW_OP_over":
            stack.append(stack[-2])
        elif name == "DW_OP_pick":
            stack.append(stack[-1 - args[0]])
        elif name == "DW_OP_swap":
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif name == "DW_OP_rot":
            stack[-1], stack[-2], stack[-3] = stack[-2], stack[-3], stack[-1]
        elif name in ("DW_OP_deref", "DW_OP_deref_size"):
            size = args[0] if name == "DW_OP_deref_size" else 4
            data = context.read(stack.pop(), size)
            if data is None:
                raise LocationUnavailable("a location reads outside memory")
            stack.append(int.from_bytes(data, "little"))
        elif name == "DW_OP_nop":
            pass
        else:
            raise LocationUnavailable(f"{name} is not supported")
    except IndexError:
        raise LocationUnavailable(f"{name} on too short a stack") from None


# --- attribute helpers -----------------------------------------------------------------------


def _name(die: Any) -> str:
    if die is None:
        return ""
    value = die.attributes.get("DW_AT_name")
    if value is None or not isinstance(value.value, bytes):
        return ""
    return value.value.decode("utf-8", errors="replace")


def _int(attribute: Any) -> int | None:
    if attribute is None or not isinstance(attribute.value, int):
        return None
    return attribute.value


def _referenced(die: Any, attribute: str) -> Any:
    if die is None or attribute not in die.attributes:
        return None
    try:
        return die.get_DIE_from_attribute(attribute)
    except Exception:
        return None


def _origin(die: Any) -> Any:
    """The abstract DIE an inlined or out-of-line instance refers to, or the DIE itself."""
    return _referenced(die, "DW_AT_abstract_origin") or die


def _specification(die: Any) -> Any:
    return _referenced(die, "DW_AT_specification")


def _count(subrange: Any) -> int | None:
    count = _int(subrange.attributes.get("DW_AT_count"))
    if count is not None:
        return count
    upper = _int(subrange.attributes.get("DW_AT_upper_bound"))
    if upper is None or upper >= 1 << 31:
        return None
    lower = _int(subrange.attributes.get("DW_AT_lower_bound")) or 0
    return upper - lower + 1


def _const_bytes(attribute: Any, ctype: CType) -> bytes | None:
    if attribute is None:
        return None
    value = attribute.value
    size = max(ctype.byte_size(), 1)
    if isinstance(value, list):
        return bytes(value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return None


def _uleb(data: list[int]) -> int:
    result, shift = 0, 0
    for byte in data[:10]:
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    return result
