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
tool-specific information) are skipped, balanced parentheses and all.

Strings in the source are ``str``; raw bytes that are not valid UTF-8 can reach
the lexer only as lone surrogates (``surrogateescape`` decoding, used for
``module quote`` texts), and they are reported as "malformed UTF-8 encoding".
"""

from __future__ import annotations

import re

from interp.errors import TextSyntaxError
from interp.syntax.opcodes import OPS_BY_NAME
from interp.text.numbers import MAX_U32, looks_numeric, parse_nat

LPAR, RPAR, ATOM, ID, STRING, EOF = range(6)

Token = tuple[int, object, int]


_IDCHARS = r"0-9a-zA-Z!#$%&'*+\-./:<=>?@\\^_`|~"

# White space is absorbed in front of each token, so one match yields one
# token.  A "word" is the longest run of characters that are neither white
# space, nor parentheses, nor the start of a comment; a string glued to other
# characters is part of the word, which makes ``$l"a"`` or ``"a"x`` one
# reserved (hence malformed) token, as the spec requires.  Words made of
# identifier characters only and lone strings get groups of their own; any
# other word is ``reserved``.
_WORD_END = r'(?![^ \t\n\r();])'
_STRING = r'"(?:[^"\\\x00-\x1f\x7f]++|\\[\s\S])*+"'
_TOKEN_RE = re.compile(
    rf"""[ \t\n\r]*+(?:
      (?P<annotation>\(@)
    | (?P<lpar>\()(?!;)
    | (?P<rpar>\))
    | (?P<atom>[{_IDCHARS}]++){_WORD_END}
    | (?P<string>{_STRING}){_WORD_END}
    | (?P<line_comment>;;[^\n\r]*+)
    | (?P<block_comment>\(;)
    | (?P<reserved>(?:[^ \t\n\r"();]++|"(?:[^"\\]++|\\[\s\S])*+")++)
    | (?P<bad>[\s\S])
    )""",
    re.VERBOSE,
)
(_ANNOTATION, _LPAR, _RPAR, _ATOM, _STRING_TOKEN, _LINE_COMMENT, _BLOCK_COMMENT, _RESERVED,
 _BAD) = range(1, 10)

_ESCAPE_RE = re.compile(r"\\(?:([0-9a-fA-F]{2})|u\{([0-9a-fA-F](?:_?[0-9a-fA-F])*)\}|([ntr\"'\\]))|\\")
_SIMPLE_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_COMMENT_DELIMITER_RE = re.compile(r"\(;|;\)")


def location(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def syntax_error(text: str, offset: int, message: str, length: int = 1) -> TextSyntaxError:
    """A ``TextSyntaxError`` located at ``offset``, spanning ``length``
    characters, with the line it is on."""
    line, column = location(text, offset)
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", start)
    source_line = text[start:end if end >= 0 else len(text)].rstrip("\r")
    return TextSyntaxError(message, offset, line, column, source_line=source_line, length=max(1, length))


def token_length(text: str, offset: int) -> int:
    """How many characters the token starting at ``offset`` spans (1 when no
    token starts there), for underlining it in an error message."""
    match = _TOKEN_RE.match(text, offset)
    if match is None or match.lastindex is None or match.start(match.lastindex) != offset:
        return 1
    return match.end(match.lastindex) - offset


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an ``EOF`` token.

    Raises ``TextSyntaxError`` for malformed strings, unclosed comments,
    reserved words (words that are not made of identifier characters only:
    "unknown operator") and malformed UTF-8.
    """
    tokens: list[Token] = []
    append = tokens.append
    finditer = _TOKEN_RE.finditer
    annotation_depth = 0  # > 0 while inside an annotation, which is skipped
    annotation_start = 0
    pos = 0
    while pos is not None:
        resume = None
        for m in finditer(text, pos):
            kind = m.lastindex
            if annotation_depth:
                if kind == _LPAR or kind == _ANNOTATION:
                    annotation_depth += 1
                    continue
                if kind == _RPAR:
                    annotation_depth -= 1
                    continue
                if kind == _ATOM or kind == _STRING_TOKEN or kind == _LINE_COMMENT or kind == _RESERVED:
                    continue
            if kind == _ATOM:
                start = m.start(kind)
                word = m.group(kind)
                if word[0] == "$" and len(word) > 1:
                    append((ID, word, start))
                else:
                    append((ATOM, word, start))
            elif kind == _LPAR:
                append((LPAR, None, m.end() - 1))
            elif kind == _RPAR:
                append((RPAR, None, m.end() - 1))
            elif kind == _STRING_TOKEN:
                start = m.start(kind)
                append((STRING, decode_string(text, start, m.group(kind)), start))
            elif kind == _LINE_COMMENT:
                if _SURROGATE_RE.search(m.group(kind)):
                    raise syntax_error(text, m.start(kind), "malformed UTF-8 encoding")
            elif kind == _BLOCK_COMMENT:
                resume = _skip_block_comment(text, m.start(kind))
                break
            elif kind == _ANNOTATION:
                annotation_depth = 1
                annotation_start = m.start(kind)
            elif kind == _RESERVED:
                raise _reserved(text, m.start(kind), m.group(kind))
            else:
                raise _bad_character(text, m.start(kind))
        pos = resume
    if annotation_depth:
        raise syntax_error(text, annotation_start, "unclosed annotation")
    append((EOF, None, len(text)))
    return tokens


def _bad_character(text: str, pos: int) -> TextSyntaxError:
    char = text[pos]
    if char == '"':
        return syntax_error(text, pos, "unclosed string literal")
    if "\ud800" <= char <= "\udfff":
        return syntax_error(text, pos, "malformed UTF-8 encoding")
    return syntax_error(text, pos, f"unexpected character {char!r}")


def _reserved(text: str, pos: int, word: str) -> TextSyntaxError:
    if _SURROGATE_RE.search(word):
        return syntax_error(text, pos, "malformed UTF-8 encoding")
    if word.count('"') % 2:
        return syntax_error(text, pos, "unclosed string literal")
    control = _CONTROL_RE.search(word)
    if word[0] == '"' and word[-1] == '"' and control is not None:
        return syntax_error(text, pos + control.start(), "illegal control character in string literal")
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
    "ref", "null", "struct", "array", "field", "sub", "final", "rec", "i8", "i16",
    "any", "eq", "i31", "none", "nofunc", "noextern", "exn", "noexn",
    "anyref", "eqref", "i31ref", "structref", "arrayref", "nullref", "nullfuncref", "nullexternref",
    "exnref", "nullexnref", "ref.host", "ref.struct", "ref.array", "ref.i31", "ref.eq", "ref.any",
})


class TokenReader:
    """A cursor over the token list with the small vocabulary every parser in
    this package shares: look ahead, consume what must come, and build errors
    located at a token."""

    __slots__ = ("text", "tokens", "pos")

    def __init__(self, text: str, tokens: list[Token], pos: int = 0) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = pos

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
        word = self.atom()
        value = parse_nat(word) if word is not None else None
        if value is None:
            raise self.unexpected()
        if value > MAX_U32:
            raise self.error("i32 constant out of range")
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
