"""Tokens of the text format (spec 6.3 "Lexical Format").

The lexer turns the whole source into a flat list of tokens up front, with one
compiled regular expression, because that is by far the fastest way to walk
text in pure Python; the parsers then index into the list.  A token is a plain
tuple ``(kind, value, offset)``:

* ``LPAR`` / ``RPAR``: value ``None``;
* ``ATOM``: a keyword, a number or any other run of identifier characters, as
  ``str`` (the parser decides what it must be from where it stands);
* ``ID``: a ``$identifier``, as ``str`` including the ``$``;
* ``STRING``: the string's *bytes* after escape processing (a string used as a
  name is checked for UTF-8 by the parser, see ``decode_name``);
* ``EOF``: value ``None``, offset ``len(text)``.

Annotations ``(@name ...)`` (a later extension of the text format that carries
tool-specific information) are left out of the token list, balanced
parentheses and all; the ones the parser reads (``KNOWN_ANNOTATIONS``: custom
sections, names, branch hints) are kept beside it, as ``Annotation``s.
Identifiers may be quoted (``$"any name"``): the token's value is then the
name the string spells, so ``$"fh"`` and ``$fh`` are the same identifier.

Strings in the source are ``str``; raw bytes that are not valid UTF-8 can reach
the lexer only as lone surrogates (``surrogateescape`` decoding, used for
``module quote`` texts), and they are reported as "malformed UTF-8 encoding".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interp.errors import TextLocation, TextSyntaxError
from interp.syntax.opcodes import OPS_BY_NAME
from interp.text.numbers import MAX_U32, MAX_U64, looks_numeric, parse_nat

LPAR, RPAR, ATOM, ID, STRING, EOF = range(6)

Token = tuple[int, object, int]


_IDCHARS = r"0-9a-zA-Z!#$%&'*+\-./:<=>?@\\^_`|~"

# White space is absorbed in front of each token, so one match yields one
# token.  A "word" is the longest run of characters that are neither white
# space, nor parentheses, nor the start of a comment (``;;``, or ``(;``); a
# string glued to other characters is part of the word, which makes ``$l"a"``
# or ``"a"x`` one reserved (hence malformed) token, as the spec requires.
# Words made of identifier characters only, lone strings and quoted
# identifiers (``$"..."``) get groups of their own; any other word is
# ``reserved``.
_WORD_END = r'(?![^ \t\n\r();]|;(?!;))'
_STRING = r'"(?:[^"\\\x00-\x1f\x7f]++|\\[\s\S])*+"'
_TOKEN_RE = re.compile(
    rf"""[ \t\n\r]*+(?:
      (?P<annotation>\(@)
    | (?P<lpar>\()(?!;)
    | (?P<rpar>\))
    | (?P<atom>[{_IDCHARS}]++){_WORD_END}
    | (?P<string>{_STRING}){_WORD_END}
    | (?P<quoted_id>\${_STRING}){_WORD_END}
    | (?P<line_comment>;;[^\n\r]*+)
    | (?P<block_comment>\(;)
    | (?P<reserved>(?:[^ \t\n\r"();]++|;(?!;)|"(?:[^"\\]++|\\[\s\S])*+")++)
    | (?P<bad>[\s\S])
    )""",
    re.VERBOSE,
)
(_ANNOTATION, _LPAR, _RPAR, _ATOM, _STRING_TOKEN, _QUOTED_ID, _LINE_COMMENT, _BLOCK_COMMENT, _RESERVED,
 _BAD) = range(1, 11)
_ANNOTATION_ID_RE = re.compile(rf"[{_IDCHARS}]++|{_STRING}")

_ESCAPE_RE = re.compile(r"\\(?:([0-9a-fA-F]{2})|u\{([0-9a-fA-F](?:_?[0-9a-fA-F])*)\}|([ntr\"'\\]))|\\")
_SIMPLE_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_ILLEGAL_RE = re.compile(r"[^\x21-\x7e]")  # outside strings: not printable ASCII
_COMMENT_DELIMITER_RE = re.compile(r"\(;|;\)")

KNOWN_ANNOTATIONS = frozenset({"custom", "name", "metadata.code.branch_hint"})
"""The annotations the parser reads (custom sections, names, branch hints);
any other ``(@id ...)`` is skipped."""


@dataclass(frozen=True)
class Parenthesized:
    """A parenthesised group of an annotation's items, its ``(`` at ``offset``."""

    offset: int
    items: tuple[Token | Parenthesized, ...]


@dataclass(frozen=True)
class Annotation:
    """A known annotation ``(@name item*)``, kept beside the token list:
    ``position`` is the index of the token that follows it, ``offset`` and
    ``end`` its first and past-last characters; ``items`` are its tokens and
    parenthesised groups."""

    name: str
    position: int
    offset: int
    end: int
    items: tuple[Token | Parenthesized, ...]


def location(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def text_location(text: str, offset: int, length: int = 1, file: str | None = None) -> TextLocation:
    """Where character ``offset`` of ``text`` is, for people: line, column
    and the line it is on (of a token ``length`` characters long)."""
    line, column = location(text, offset)
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", start)
    source_line = text[start:end if end >= 0 else len(text)].rstrip("\r")
    return TextLocation(line, column, source_line, max(1, length), file)


def syntax_error(text: str, offset: int, message: str, length: int = 1) -> TextSyntaxError:
    """A ``TextSyntaxError`` located at ``offset``, spanning ``length``
    characters, with the line it is on."""
    place = text_location(text, offset, length)
    return TextSyntaxError(message, offset, place.line, place.column, source_line=place.source_line,
                           length=place.length)


def token_length(text: str, offset: int) -> int:
    """How many characters the token starting at ``offset`` spans (1 when no
    token starts there), for underlining it in an error message."""
    match = _TOKEN_RE.match(text, offset)
    if match is None or match.lastindex is None or match.start(match.lastindex) != offset:
        return 1
    return match.end(match.lastindex) - offset


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an ``EOF`` token (annotations
    left out).

    Raises ``TextSyntaxError`` for malformed strings, unclosed comments,
    reserved words (words that are not made of identifier characters only:
    "unknown operator") and malformed UTF-8.
    """
    return tokenize_with_annotations(text)[0]


def tokenize_with_annotations(text: str) -> tuple[list[Token], list[Annotation]]:
    """The tokens of ``text`` (as ``tokenize``) and, beside them, its known
    annotations (``KNOWN_ANNOTATIONS``), in order."""
    tokens: list[Token] = []
    annotations: list[Annotation] = []
    append = tokens.append
    finditer = _TOKEN_RE.finditer
    pos = 0
    while pos is not None:
        resume = None
        for m in finditer(text, pos):
            kind = m.lastindex
            if kind == _ATOM:
                start = m.start(kind)
                word = m.group(kind)
                if word[0] != "$":
                    append((ATOM, word, start))
                elif len(word) > 1:
                    append((ID, word, start))
                else:
                    raise syntax_error(text, start, "empty identifier")
            elif kind == _LPAR:
                append((LPAR, None, m.end() - 1))
            elif kind == _RPAR:
                append((RPAR, None, m.end() - 1))
            elif kind == _STRING_TOKEN:
                start = m.start(kind)
                append((STRING, decode_string(text, start, m.group(kind)), start))
            elif kind == _QUOTED_ID:
                start = m.start(kind)
                append((ID, "$" + _quoted_name(text, start, m.group(kind), "empty identifier"), start))
            elif kind == _LINE_COMMENT:
                if _SURROGATE_RE.search(m.group(kind)):
                    raise syntax_error(text, m.start(kind), "malformed UTF-8 encoding")
            elif kind == _BLOCK_COMMENT:
                resume = _skip_block_comment(text, m.start(kind))
                break
            elif kind == _ANNOTATION:
                start = m.start(kind)
                name, body = _annotation_id(text, m.end())
                if name is None:
                    raise syntax_error(text, start, "empty annotation id")
                resume, items = _annotation_body(text, start, body)
                if name in KNOWN_ANNOTATIONS:
                    annotations.append(Annotation(name, len(tokens), start, resume, items))
                break
            elif kind == _RESERVED:
                raise _reserved(text, m.start(kind), m.group(kind))
            else:
                raise _bad_character(text, m.start(kind))
        pos = resume
    append((EOF, None, len(text)))
    return tokens, annotations


def _quoted_name(text: str, start: int, literal: str, empty: str) -> str:
    """The name a quoted identifier (``$"..."``, at ``start``) or annotation
    id stands for: UTF-8, and not empty (else the error ``empty``)."""
    data = decode_string(text, start + 1, literal[1:])
    if not data:
        raise syntax_error(text, start, empty)
    name = decode_name(data)
    if name is None:
        raise syntax_error(text, start, "malformed UTF-8 encoding")
    return name


def _annotation_id(text: str, pos: int) -> tuple[str | None, int]:
    """The id of the annotation whose ``(@`` ends at ``pos`` (idchars or a
    string, ``None`` when there is none) and where its body starts."""
    match = _ANNOTATION_ID_RE.match(text, pos)
    if match is None:
        return None, pos
    word = match.group()
    if word[0] != '"':
        return word, match.end()
    return _quoted_name(text, pos - 1, "@" + word, "empty annotation id"), match.end()


def _annotation_body(text: str, start: int, pos: int) -> tuple[int, tuple[Token | Parenthesized, ...]]:
    """Read an annotation's body, from ``pos`` to its balancing ``)``: where
    it ends, and its items.  Anything but malformed text may stand there,
    nested annotations too (a ``(@`` without an id is a parenthesis and the
    atom ``@``)."""
    groups: list[list] = [[]]
    opened = [start]
    finditer = _TOKEN_RE.finditer
    while True:
        resume = None
        for m in finditer(text, pos):
            kind = m.lastindex
            offset = m.start(kind)
            if kind == _LPAR or kind == _ANNOTATION:
                groups.append([])
                opened.append(offset)
                if kind == _ANNOTATION:
                    name, after = _annotation_id(text, m.end())
                    resume = after if name is not None else m.end() - 1
                    if name is not None:
                        groups[-1].append((ATOM, "@" + name, offset))
                    break
            elif kind == _RPAR:
                group = groups.pop()
                group_start = opened.pop()
                if not groups:
                    return m.end(), tuple(group)
                groups[-1].append(Parenthesized(group_start, tuple(group)))
            elif kind == _ATOM:
                word = m.group(kind)
                groups[-1].append((ID if word[0] == "$" and len(word) > 1 else ATOM, word, offset))
            elif kind == _STRING_TOKEN:
                groups[-1].append((STRING, decode_string(text, offset, m.group(kind)), offset))
            elif kind == _QUOTED_ID:
                groups[-1].append((ID, "$" + _quoted_name(text, offset, m.group(kind), "empty identifier"), offset))
            elif kind == _LINE_COMMENT:
                if _SURROGATE_RE.search(m.group(kind)):
                    raise syntax_error(text, offset, "malformed UTF-8 encoding")
            elif kind == _BLOCK_COMMENT:
                resume = _skip_block_comment(text, offset)
                break
            elif kind == _RESERVED:
                word = m.group(kind)
                error = _reserved(text, offset, word)
                if not error.message.startswith("unknown operator"):
                    raise error
                groups[-1].append((ATOM, word, offset))
            else:
                raise _bad_character(text, offset)
        if resume is None:
            raise syntax_error(text, start, "unclosed annotation")
        pos = resume


def _bad_character(text: str, pos: int) -> TextSyntaxError:
    char = text[pos]
    if char == '"':
        return syntax_error(text, pos, "unclosed string literal")
    if "\ud800" <= char <= "\udfff":
        return syntax_error(text, pos, "malformed UTF-8 encoding")
    return syntax_error(text, pos, f"illegal character {char!r}")


def _reserved(text: str, pos: int, word: str) -> TextSyntaxError:
    if _SURROGATE_RE.search(word):
        return syntax_error(text, pos, "malformed UTF-8 encoding")
    if word.count('"') % 2:
        return syntax_error(text, pos, "unclosed string literal")
    control = _CONTROL_RE.search(word)
    if word[0] == '"' and word[-1] == '"' and control is not None:
        return syntax_error(text, pos + control.start(), "illegal control character in string literal")
    if word.startswith('$"'):  # a quoted identifier that is not one
        return syntax_error(text, pos, "empty identifier")
    illegal = _ILLEGAL_RE.search(word)
    if illegal is not None and '"' not in word:
        return syntax_error(text, pos + illegal.start(), f"illegal character {illegal.group()!r}")
    return syntax_error(text, pos, f"unknown operator {word}")


def _skip_block_comment(text: str, pos: int) -> int:
    """The offset just after the block comment starting at ``pos``; block
    comments nest, so this counts delimiters instead of recursing."""
    depth = 0
    search = _COMMENT_DELIMITER_RE.search
    cursor = pos
    while True:
        m = search(text, cursor)
        if m is None:
            raise syntax_error(text, pos, "unclosed comment")
        depth += 1 if m.group() == "(;" else -1
        cursor = m.end()
        if depth == 0:
            if _SURROGATE_RE.search(text, pos, cursor):
                raise syntax_error(text, pos, "malformed UTF-8 encoding")
            return cursor


def decode_string(text: str, pos: int, literal: str) -> bytes:
    """The bytes of a string literal (with its quotes) found at ``pos``.

    Characters stand for their UTF-8 encoding; escapes ``\\t \\n \\r \\" \\'
    \\\\``, ``\\hh`` (one byte) and ``\\u{h+}`` (a Unicode scalar value).
    """
    body = literal[1:-1]
    if "\\" not in body:
        return _encode(text, pos, body)
    out = bytearray()
    last = 0
    for m in _ESCAPE_RE.finditer(body):
        out += _encode(text, pos, body[last:m.start()])
        last = m.end()
        hex_byte, code_point, simple = m.groups()
        if hex_byte is not None:
            out.append(int(hex_byte, 16))
        elif simple is not None:
            out += _SIMPLE_ESCAPES[simple]
        elif code_point is not None:
            value = int(code_point.replace("_", ""), 16)
            if value >= 0x110000 or 0xD800 <= value < 0xE000:
                raise syntax_error(text, pos + 1 + m.start(), "malformed UTF-8 encoding")
            out += chr(value).encode("utf-8")
        else:
            raise syntax_error(text, pos + 1 + m.start(), "illegal escape")
    out += _encode(text, pos, body[last:])
    return bytes(out)


def _encode(text: str, pos: int, chunk: str) -> bytes:
    try:
        return chunk.encode("utf-8")
    except UnicodeEncodeError:
        raise syntax_error(text, pos, "malformed UTF-8 encoding") from None


def decode_name(data: bytes) -> str | None:
    """``data`` as a name (valid UTF-8), or ``None`` when it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# Words the text format gives a meaning to besides instruction names; an
# unexpected one of these is reported as "unexpected token", while a word the
# language does not know at all is "unknown operator" (the reference
# interpreter's lexer rejects those outright).
KEYWORDS = frozenset({
    "module", "type", "func", "param", "result", "local", "global", "table", "memory",
    "elem", "data", "start", "import", "export", "offset", "item", "declare", "mut",
    "funcref", "externref", "extern", "then", "else", "end", "i32", "i64", "f32", "f64",
    "v128", "binary", "quote", "register", "invoke", "get", "script", "input", "output",
    "assert_return", "assert_trap", "assert_exhaustion", "assert_malformed",
    "assert_invalid", "assert_unlinkable", "assert_uninstantiable",
    "nan:canonical", "nan:arithmetic", "ref.extern",
    "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2",
    "tag", "do", "definition", "instance", "assert_exception",
    "assert_malformed_custom", "assert_invalid_custom", "catch_ref", "catch_all_ref",
    "ref", "null", "struct", "array", "field", "sub", "final", "rec", "i8", "i16",
    "any", "eq", "i31", "none", "nofunc", "noextern", "exn", "noexn",
    "anyref", "eqref", "i31ref", "structref", "arrayref", "nullref", "nullfuncref", "nullexternref",
    "exnref", "nullexnref", "ref.host", "ref.struct", "ref.array", "ref.i31", "ref.eq", "ref.any",
})


class TokenReader:
    """A cursor over the token list with the small vocabulary every parser in
    this package shares: look ahead, consume what must come, and build errors
    located at a token."""

    __slots__ = ("text", "tokens", "pos", "annotations")

    def __init__(self, text: str, tokens: list[Token], pos: int = 0,
                 annotations: list[Annotation] | None = None) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = pos
        self.annotations: list[Annotation] = annotations or []

    @classmethod
    def of(cls, text: str) -> TokenReader:
        """A reader over the tokens and the known annotations of ``text``."""
        tokens, annotations = tokenize_with_annotations(text)
        return cls(text, tokens, 0, annotations)

    def error_at(self, offset: int, message: str) -> TextSyntaxError:
        """An error located at character ``offset`` (an annotation's)."""
        return syntax_error(self.text, offset, message, token_length(self.text, offset))

    # -- errors -------------------------------------------------------------

    def error(self, message: str, index: int | None = None) -> TextSyntaxError:
        """An error located at token ``index`` (default: the current one)."""
        tokens = self.tokens
        index = self.pos if index is None else min(index, len(tokens) - 1)
        offset = tokens[index][2]
        return syntax_error(self.text, offset, message, token_length(self.text, offset))

    def unexpected(self, index: int | None = None) -> TextSyntaxError:
        """The error for a token that cannot stand where it is: a word the
        language does not know is an "unknown operator", anything else an
        "unexpected token"."""
        index = self.pos if index is None else index
        kind, value, _ = self.tokens[index]
        if kind == ATOM and not self.is_known_word(value):
            return self.error(f"unknown operator {value}", index)
        return self.error("unexpected token", index)

    @staticmethod
    def is_known_word(word: str) -> bool:
        return word in KEYWORDS or word in OPS_BY_NAME or looks_numeric(word) or word.startswith(("offset=", "align="))

    # -- looking ahead ------------------------------------------------------

    def peek_kind(self) -> int:
        return self.tokens[self.pos][0]

    def lpar_keyword(self, index: int | None = None) -> str | None:
        """The keyword right after the ``(`` at ``index`` (default: current
        token), or ``None`` when there is no ``(`` or no keyword there."""
        index = self.pos if index is None else index
        tokens = self.tokens
        if tokens[index][0] != LPAR:
            return None
        kind, value, _ = tokens[index + 1]
        return value if kind == ATOM else None  # type: ignore[return-value]

    def atom(self) -> str | None:
        """The current token's word when it is an ``ATOM``."""
        kind, value, _ = self.tokens[self.pos]
        return value if kind == ATOM else None  # type: ignore[return-value]

    # -- consuming ----------------------------------------------------------

    def expect_lpar(self) -> None:
        if self.tokens[self.pos][0] != LPAR:
            raise self.unexpected()
        self.pos += 1

    def expect_rpar(self) -> None:
        if self.tokens[self.pos][0] != RPAR:
            raise self.unexpected()
        self.pos += 1

    def expect_keyword(self, word: str) -> None:
        kind, value, _ = self.tokens[self.pos]
        if kind != ATOM or value != word:
            raise self.unexpected()
        self.pos += 1

    def accept_keyword(self, word: str) -> bool:
        kind, value, _ = self.tokens[self.pos]
        if kind == ATOM and value == word:
            self.pos += 1
            return True
        return False

    def accept_lpar_keyword(self, word: str) -> bool:
        """Consume ``(`` and ``word`` when they come next."""
        if self.lpar_keyword() == word:
            self.pos += 2
            return True
        return False

    def optional_id(self) -> str | None:
        kind, value, _ = self.tokens[self.pos]
        if kind == ID:
            self.pos += 1
            return value  # type: ignore[return-value]
        return None

    def string(self) -> bytes:
        kind, value, _ = self.tokens[self.pos]
        if kind != STRING:
            raise self.unexpected()
        self.pos += 1
        return value  # type: ignore[return-value]

    def strings(self) -> bytes:
        """Zero or more strings, concatenated."""
        parts = []
        tokens = self.tokens
        while tokens[self.pos][0] == STRING:
            parts.append(tokens[self.pos][1])
            self.pos += 1
        return b"".join(parts)  # type: ignore[arg-type]

    def name(self) -> str:
        """A string that must be valid UTF-8 (import and export names)."""
        start = self.pos
        data = self.string()
        text = decode_name(data)
        if text is None:
            raise self.error("malformed UTF-8 encoding", start)
        return text

    def nat32(self) -> int:
        """An unsigned 32-bit literal (an index, a limit)."""
        return self._nat(MAX_U32, "i32")

    def nat64(self) -> int:
        """An unsigned 64-bit literal (a limit of a 64-bit memory or table)."""
        return self._nat(MAX_U64, "i64")

    def _nat(self, bound: int, name: str) -> int:
        word = self.atom()
        value = parse_nat(word) if word is not None else None
        if value is None:
            raise self.unexpected()
        if value > bound:
            raise self.error(f"{name} constant out of range")
        self.pos += 1
        return value

    def skip_sexpr(self) -> None:
        """Skip the parenthesised expression starting at the current ``(``."""
        tokens = self.tokens
        pos = self.pos
        depth = 0
        while True:
            kind = tokens[pos][0]
            if kind == LPAR:
                depth += 1
            elif kind == RPAR:
                depth -= 1
                if depth == 0:
                    self.pos = pos + 1
                    return
            elif kind == EOF:
                raise self.error("unexpected end of input", pos)
            pos += 1
