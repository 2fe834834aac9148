"""The debugger's expressions: C-like, over the names of a paused frame.

``print``, ``display`` and breakpoint conditions take an expression::

    count                     a variable (inspection.py says how names resolve)
    count * 2 + 1             arithmetic: + - * / % << >> & | ^ ~, comparisons, && || !
    box.origin.x  p->next     members, through pointers too
    corners[2]  *cursor  &here   indexing, dereferencing, taking an address
    *0x10040                  an int at an address of linear memory
    *(struct point *)0x10440  {double} 0x10448   typed memory: a cast, or gdb's {TYPE} ADDRESS
    (unsigned char) letter    casts to C types, the module's own types, wasm's (i32, u8, f64 ...)
    $n  $counter              wasm locals and globals by name, even when a C name hides them

Arithmetic follows C on wasm32: integer operands are promoted to ``int`` (32
bits) or to 64 bits, unsigned when an operand of that width is, and results
wrap; a floating operand makes the result floating; a pointer plus an
integer moves by elements.  Values of wasm's own types stay wasm values
(``i32:5``).  Errors are ``ExpressionError``, a ``UsageError``: the debugger
prints them and goes on.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Protocol

from interp.debug.c_types import (
    BUILTIN_TYPES,
    MAX_VALUE_BYTES,
    DOUBLE,
    INT,
    LONG_LONG,
    UNSIGNED_INT,
    UNSIGNED_LONG_LONG,
    ArrayType,
    BaseType,
    CType,
    EnumType,
    MemoryReader,
    PointerType,
    Storage,
    StructType,
    Value,
    scalar,
)
from interp.errors import UsageError

MAX_EXPRESSION_LENGTH = 4096
MAX_DEPTH = 40
"""Parentheses and unary operators nested deeper are refused (each level is a
dozen Python frames of the parser)."""


class ExpressionError(UsageError):
    """An expression that cannot be read or evaluated here."""


class ExpressionScope(Protocol):
    read: MemoryReader

    def lookup(self, name: str) -> Value | None: ...

    def type_named(self, name: str) -> CType | None: ...


@dataclass(frozen=True)
class Token:
    kind: str   # "number", "float", "char", "name", "op", "end"
    text: str
    position: int


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)[uUlL]*)
  | (?P<char>'(?:\\.|[^'\\])')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*|\$[A-Za-z0-9_.:@#$]+)
  | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&|^!~()\[\]{}.,])
""", re.VERBOSE)
_TOKEN_KINDS = ("space", "float", "number", "char", "name", "op")

_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, "'": 39, '"': 34}

_BINARY_PRECEDENCE = [
    ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="), ("<<", ">>"), ("+", "-"),
    ("*", "/", "%"),
]

_TAGS = frozenset({"struct", "union", "enum", "class"})
_TYPE_WORDS = frozenset({"struct", "union", "enum", "class", "unsigned", "signed", "const", "volatile", "short",
                         "long", "int", "char", "float", "double", "void", "_Bool", "bool"})


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError("expression too long")
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"cannot read {text[position:position + 10]!r} in the expression")
        kind = next(name for name in _TOKEN_KINDS if match.group(name) is not None)
        if kind != "space":
            tokens.append(Token(kind, match.group(0), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def evaluate(text: str, scope: ExpressionScope) -> Value:
    """The value of expression ``text`` in ``scope``."""
    parser = _Parser(tokenize(text), scope)
    if parser.peek().kind == "end":
        raise ExpressionError("an expression is needed")
    value = parser.expression()
    if parser.peek().kind != "end":
        raise ExpressionError(f"unexpected {parser.peek().text!r} at column {parser.peek().position + 1}")
    return value


def truth(value: Value) -> bool:
    """Whether a value counts as true (conditions): a non-zero scalar."""
    resolved = value.type.resolved()
    if isinstance(resolved, (StructType, ArrayType)):
        raise ExpressionError(f"a {resolved} is not a condition")
    if not value.storage.part(0, resolved.size).complete:
        raise ExpressionError("the value is optimized out")
    return bool(scalar(value))


class _Parser:
    """Recursive descent over the tokens, evaluating as it goes (expressions
    are short and have no side effects)."""

    def __init__(self, tokens: list[Token], scope: ExpressionScope) -> None:
        self.tokens = tokens
        self.index = 0
        self.scope = scope
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise ExpressionError(f"expected {text!r} at column {token.position + 1}")

    def expression(self) -> Value:
        return self.binary(0)

    def binary(self, level: int) -> Value:
        if level == len(_BINARY_PRECEDENCE):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in _BINARY_PRECEDENCE[level]:
            operator = self.take().text
            if operator in ("&&", "||"):
                decided = truth(left)
                right = self.binary(level + 1)
                result = (decided and truth(right)) if operator == "&&" else (decided or truth(right))
                left = _int_value(int(result), INT)
            else:
                left = binary_operation(operator, left, self.binary(level + 1))
        return left

    def unary(self) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression nested too deeply")
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Value:
        token = self.peek()
        if token.kind == "op":
            if token.text in ("-", "+", "!", "~"):
                self.take()
                return unary_operation(token.text, self.unary())
            if token.text == "*":
                self.take()
                return dereference(self.unary(), self.scope.read)
            if token.text == "&":
                self.take()
                return address_of(self.unary())
            if token.text == "(" and self._type_follows(1):
                self.take()
                ctype = self.type_name()
                self.expect(")")
                return cast(self.unary(), ctype, self.scope.read)
            if token.text == "{":
                self.take()
                ctype = self.type_name()
                self.expect("}")
                return at_address(ctype, scalar_int(self.unary()), self.scope.read)
        return self.postfix(self.primary())

    def postfix(self, value: Value) -> Value:
        while True:
            token = self.peek()
            if token.text == "." and token.kind == "op":
                self.take()
                value = member(value, self._member_name(), self.scope.read)
            elif token.text == "->":
                self.take()
                value = member(dereference(value, self.scope.read), self._member_name(), self.scope.read)
            elif token.text == "[":
                self.take()
                index = self.expression()
                self.expect("]")
                value = subscript(value, index, self.scope.read)
            else:
                return value

    def _member_name(self) -> str:
        token = self.take()
        if token.kind != "name" or token.text.startswith("$"):
            raise ExpressionError(f"expected a member name at column {token.position + 1}")
        return token.text

    def primary(self) -> Value:
        token = self.take()
        if token.kind == "number":
            return _literal(token.text)
        if token.kind == "float":
            return Value(DOUBLE, Storage.of(struct.pack("<d", float(token.text))))
        if token.kind == "char":
            return _int_value(_char_code(token.text[1:-1]), BUILTIN_TYPES["char"])
        if token.kind == "name":
            value = self.scope.lookup(token.text)
            if value is None:
                raise ExpressionError(f"no variable {token.text!r} here")
            return value
        if token.text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if token.kind == "end":
            raise ExpressionError("the expression ends too early")
        raise ExpressionError(f"unexpected {token.text!r} at column {token.position + 1}")

    # --- type names ----------------------------------------------------------------------

    def _type_follows(self, ahead: int) -> bool:
        """Whether a type name starts ``ahead`` tokens on (a cast, rather than parentheses)."""
        token = self.peek(ahead)
        if token.kind != "name":
            return False
        if token.text in _TYPE_WORDS:
            return True
        if self.scope.lookup(token.text) is not None:
            return False
        return token.text in BUILTIN_TYPES or self.scope.type_named(token.text) is not None

    def type_name(self) -> CType:
        """``int``, ``unsigned char``, ``struct point``, ``uint32_t``, ``u8``, ... then any ``*``."""
        first = self.peek()
        if first.kind != "name":
            raise ExpressionError(f"expected a type at column {first.position + 1}")
        words = [self.take().text]
        if words[0] in _TAGS:
            tag = self.take()
            if tag.kind != "name":
                raise ExpressionError(f"expected a {words[0]} name at column {tag.position + 1}")
            words.append(tag.text)
        elif words[0] in _TYPE_WORDS:
            while self.peek().kind == "name" and self.peek().text in _TYPE_WORDS:
                words.append(self.take().text)
        name = _normal_type_name([word for word in words if word not in ("const", "volatile")])
        ctype = self.scope.type_named(name) or BUILTIN_TYPES.get(name)
        if ctype is None:
            raise ExpressionError(f"no type {name!r}")
        while self.peek().text == "*":
            self.take()
            ctype = PointerType(ctype)
        return ctype


def _normal_type_name(words: list[str]) -> str:
    """C's spellings of one basic type made one: ``long int`` is ``long``,
    ``signed`` is ``int``, ``signed short`` is ``short``."""
    if len(words) > 1 and words[-1] == "int" and words[-2] in ("short", "long", "unsigned"):
        words = words[:-1] if words[-2] != "unsigned" else words
    if words and words[0] == "signed":
        words = words[1:] or ["int"]
        if words == ["char"]:
            return "signed char"
    return " ".join(words)


# --- operations ---------------------------------------------------------------------------


def _literal(text: str) -> Value:
    digits = text.rstrip("uUlL")
    suffix = text[len(digits):].lower()
    number = int(digits, 0) if not (len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()) else int(digits, 8)
    unsigned = "u" in suffix
    if number < 1 << 31 and not unsigned and "l" not in suffix:
        return _int_value(number, INT)
    if number < 1 << 32 and "ll" not in suffix and (unsigned or digits.lower().startswith(("0x", "0b"))):
        return _int_value(number, UNSIGNED_INT)
    if number < 1 << 63 and not unsigned:
        return _int_value(number, LONG_LONG)
    if number < 1 << 64:
        return _int_value(number, UNSIGNED_LONG_LONG)
    raise ExpressionError(f"{text} does not fit in 64 bits")


def _char_code(body: str) -> int:
    if body.startswith("\\"):
        code = _ESCAPES.get(body[1:])
        if code is None:
            raise ExpressionError(f"unknown escape {body!r}")
        return code
    code = ord(body)
    if code > 0xFF:
        raise ExpressionError("only single-byte characters")
    return code


def _int_value(number: int, ctype: CType) -> Value:
    size = ctype.byte_size()
    return Value(ctype, Storage.of((number & ((1 << (8 * size)) - 1)).to_bytes(size, "little")))


def _float_value(number: float, ctype: BaseType) -> Value:
    return Value(ctype, Storage.of(struct.pack("<f" if ctype.size == 4 else "<d", number)))


def _number(value: Value) -> int | float:
    resolved = value.type.resolved()
    if not isinstance(resolved, (BaseType, PointerType, EnumType)):
        raise ExpressionError(f"a {value.type} is not a number")
    if not value.storage.part(0, resolved.size).complete:
        raise ExpressionError("the value is optimized out")
    return scalar(Value(resolved, value.storage.part(0, resolved.size)))


def scalar_int(value: Value) -> int:
    number = _number(value)
    if isinstance(number, float):
        raise ExpressionError("an address must be an integer")
    return number


def _arithmetic_type(left: CType, right: CType) -> BaseType:
    """C's usual arithmetic conversions for wasm32 (wasm's own types kept as such)."""
    types = [left.resolved(), right.resolved()]
    bases = [t if isinstance(t, BaseType) else INT for t in types]
    floats = [t for t in bases if t.is_float]
    if floats:
        return max(floats, key=lambda t: (t.size, t.wasm))
    width = max(8 if t.size == 8 else 4 for t in bases)
    unsigned = any(not t.is_signed and t.size == width for t in bases)
    wasm = [t for t in bases if t.wasm and t.size == width]
    if wasm and all(t.wasm or not t.size or t is INT for t in bases):
        return wasm[0]
    if width == 8:
        return UNSIGNED_LONG_LONG if unsigned else LONG_LONG
    return UNSIGNED_INT if unsigned else INT


def _wrap(number: int, ctype: BaseType) -> int:
    bits = 8 * ctype.size
    number &= (1 << bits) - 1
    return number - (1 << bits) if ctype.is_signed and number >> (bits - 1) else number


def binary_operation(operator: str, left: Value, right: Value) -> Value:
    left_type, right_type = left.type.resolved(), right.type.resolved()
    if isinstance(left_type, (PointerType, ArrayType)) or isinstance(right_type, (PointerType, ArrayType)):
        return _pointer_arithmetic(operator, left, right)
    a, b = _number(left), _number(right)
    if operator in ("==", "!=", "<", "<=", ">", ">="):
        result = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
        return _int_value(int(result), INT)
    ctype = _arithmetic_type(left_type, right_type)
    if ctype.is_float:
        if operator in ("%", "<<", ">>", "&", "|", "^"):
            raise ExpressionError(f"{operator} needs integers")
        if operator == "/" and b == 0:
            raise ExpressionError("division by zero")
        number = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[operator]
        return _float_value(number, ctype)
    a, b = _wrap(int(a), ctype), _wrap(int(b), ctype)
    if operator in ("/", "%"):
        if b == 0:
            raise ExpressionError("division by zero")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward zero
        number = quotient if operator == "/" else a - quotient * b
    elif operator in ("<<", ">>"):
        if b < 0 or b >= 8 * ctype.size:
            raise ExpressionError(f"shift by {b} of a {8 * ctype.size}-bit value")
        number = a << b if operator == "<<" else a >> b
    else:
        number = {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[operator]
    return _int_value(_wrap(number, ctype), ctype)


_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def _pointer_arithmetic(operator: str, left: Value, right: Value) -> Value:
    left_pointer, right_pointer = _as_pointer(left), _as_pointer(right)
    if left_pointer is not None and right_pointer is not None:
        a, b = scalar_int(left_pointer), scalar_int(right_pointer)
        if operator == "-":
            return _int_value((a - b) // _element_size(left_pointer.type), INT)
        if operator in _COMPARISONS:
            return binary_operation(operator, _int_value(a, UNSIGNED_INT), _int_value(b, UNSIGNED_INT))
        raise ExpressionError(f"{operator} on two pointers")
    if left_pointer is not None:
        pointer, other = left_pointer, right
    else:
        pointer, other = right_pointer, left  # type: ignore[assignment]
    if operator in _COMPARISONS:
        address = _int_value(scalar_int(pointer), UNSIGNED_INT)
        return binary_operation(operator, address, other) if pointer is left_pointer else \
            binary_operation(operator, other, address)
    count = _number(other)
    if isinstance(count, float) or operator not in ("+", "-") or (operator == "-" and left_pointer is None):
        raise ExpressionError(f"{operator} between a pointer and a {other.type}")
    step = _element_size(pointer.type) * count
    return _int_value(scalar_int(pointer) + (step if operator == "+" else -step), pointer.type)


def _as_pointer(value: Value) -> Value | None:
    """A pointer value, or an array decayed to a pointer to its first element."""
    resolved = value.type.resolved()
    if isinstance(resolved, PointerType):
        return value
    if isinstance(resolved, ArrayType):
        if value.storage.address is None:
            raise ExpressionError("the array is not in memory")
        return _int_value(value.storage.address, PointerType(resolved.element))
    return None


def _element_size(pointer_type: CType) -> int:
    resolved = pointer_type.resolved()
    target = resolved.target if isinstance(resolved, PointerType) else None
    size = target.byte_size() if target is not None else 1
    return size or 1


def unary_operation(operator: str, value: Value) -> Value:
    if operator == "!":
        return _int_value(int(not truth(value)), INT)
    number = _number(value)
    ctype = _arithmetic_type(value.type, INT)
    if operator == "+":
        return _float_value(number, ctype) if ctype.is_float else _int_value(int(number), ctype)
    if operator == "-":
        return _float_value(-number, ctype) if ctype.is_float else _int_value(_wrap(-int(number), ctype), ctype)
    if ctype.is_float:
        raise ExpressionError("~ needs an integer")
    return _int_value(_wrap(~int(number), ctype), ctype)


def at_address(ctype: CType, address: int, read: MemoryReader) -> Value:
    """The value of type ``ctype`` in linear memory at ``address``."""
    size = ctype.byte_size()
    if size <= 0:
        raise ExpressionError(f"a {ctype} has no size to read")
    if size > MAX_VALUE_BYTES:
        raise ExpressionError(f"a {ctype} is too large to read ({size} bytes)")
    data = read(address, size)
    if data is None:
        raise ExpressionError(f"cannot read {size} bytes at {address:#x}: outside the memory")
    return Value(ctype, Storage.of(data, address))


def dereference(value: Value, read: MemoryReader) -> Value:
    resolved = value.type.resolved()
    if isinstance(resolved, ArrayType):
        return subscript(value, _int_value(0, INT), read)
    if isinstance(resolved, PointerType):
        if resolved.target is None or resolved.target.resolved().size == 0:
            raise ExpressionError(f"cannot dereference a {value.type}")
        return at_address(resolved.target, scalar_int(value), read)
    if isinstance(resolved, BaseType) and not resolved.is_float:
        return at_address(INT, scalar_int(value), read)  # an address: what is there, as an int
    raise ExpressionError(f"cannot dereference a {value.type}")


def address_of(value: Value) -> Value:
    if value.storage.address is None:
        raise ExpressionError("the value is not in memory: it has no address")
    return _int_value(value.storage.address, PointerType(value.type))


def member(value: Value, name: str, read: MemoryReader) -> Value:
    resolved = value.type.resolved()
    if not isinstance(resolved, StructType):
        raise ExpressionError(f"a {value.type} has no members")
    found = resolved.member(name)
    if found is None:
        raise ExpressionError(f"{value.type} has no member {name!r}")
    if found.bit_size:
        width = (found.bit_offset + found.bit_size + 7) // 8
        part = value.storage.part(found.offset, width)
        bits = int.from_bytes(part.data, "little") >> found.bit_offset & ((1 << found.bit_size) - 1)
        member_type = found.type.resolved()
        if isinstance(member_type, BaseType) and member_type.is_signed and bits >> (found.bit_size - 1):
            bits -= 1 << found.bit_size
        if not part.complete:
            return Value(found.type, Storage.unknown(found.type.byte_size()))
        return _int_value(bits, found.type)
    return Value(found.type, value.storage.part(found.offset, found.type.byte_size()))


def subscript(value: Value, index_value: Value, read: MemoryReader) -> Value:
    index = scalar_int(index_value)
    resolved = value.type.resolved()
    if isinstance(resolved, ArrayType):
        size = resolved.element.byte_size()
        if resolved.count is not None and 0 <= index < resolved.count and \
                (value.storage.address is None or value.storage.complete):
            return Value(resolved.element, value.storage.part(index * size, size))
        if value.storage.address is None:
            raise ExpressionError(f"index {index} is outside the array")
        return at_address(resolved.element, value.storage.address + index * size, read)
    if isinstance(resolved, PointerType) and resolved.target is not None:
        return at_address(resolved.target, scalar_int(value) + index * _element_size(resolved), read)
    raise ExpressionError(f"a {value.type} cannot be indexed")


def cast(value: Value, ctype: CType, read: MemoryReader) -> Value:
    target = ctype.resolved()
    if isinstance(target, (StructType, ArrayType)):
        raise ExpressionError(f"cannot cast to {ctype}")
    source = _as_pointer(value) if isinstance(value.type.resolved(), ArrayType) else value
    number = _number(source)  # type: ignore[arg-type]
    if isinstance(target, BaseType) and target.is_float:
        return _float_value(float(number), target)
    if isinstance(number, float):
        number = int(number)
    return _int_value(number, ctype)

