"""Tokens: kinds, string escapes, comments, annotations, and located errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interp.errors import TextSyntaxError
from interp.text.lexer import ATOM, EOF, ID, LPAR, RPAR, STRING, decode_name, location, tokenize, tokenize_with_annotations


def kinds_and_values(text: str) -> list[tuple[int, object]]:
    return [(kind, value) for kind, value, _ in tokenize(text)]


def test_token_kinds_values_and_offsets() -> None:
    tokens = tokenize('(module $m "s" i32.const -0x1p3 offset=4)')
    assert [(k, v) for k, v, _ in tokens] == [
        (LPAR, None), (ATOM, "module"), (ID, "$m"), (STRING, b"s"), (ATOM, "i32.const"),
        (ATOM, "-0x1p3"), (ATOM, "offset=4"), (RPAR, None), (EOF, None),
    ]
    assert [offset for _, _, offset in tokens] == [0, 1, 8, 11, 15, 25, 32, 40, 41]


def test_parentheses_and_comments_delimit_tokens() -> None:
    assert kinds_and_values("(func(nop)nop)") == [
        (LPAR, None), (ATOM, "func"), (LPAR, None), (ATOM, "nop"), (RPAR, None), (ATOM, "nop"),
        (RPAR, None), (EOF, None),
    ]
    assert kinds_and_values("a;;comment\nb(;c;)d") == [(ATOM, "a"), (ATOM, "b"), (ATOM, "d"), (EOF, None)]


def test_block_comments_nest() -> None:
    assert kinds_and_values("x (; a (; b ;) c ;) y") == [(ATOM, "x"), (ATOM, "y"), (EOF, None)]
    assert kinds_and_values("(;;)(;;;);;") == [(EOF, None)]


def test_line_comment_may_end_the_input() -> None:
    assert kinds_and_values("a ;; no newline") == [(ATOM, "a"), (EOF, None)]


def test_annotations_are_skipped() -> None:
    assert kinds_and_values('(a (@name "x" (nested $y 1) ") ") b)') == [
        (LPAR, None), (ATOM, "a"), (ATOM, "b"), (RPAR, None), (EOF, None),
    ]


@pytest.mark.parametrize(("literal", "expected"), [
    (r'""', b""),
    (r'"\t\n\r\"\'\\"', b"\t\n\r\"'\\"),
    (r'"\00\ff\7F"', b"\x00\xff\x7f"),
    (r'"\u{41}\u{0}\u{10FFFF}"', b"A\x00\xf4\x8f\xbf\xbf"),
    (r'"\u{1_F6_00}"', "\U0001F600".encode()),
    ('"héllo ☃"', "héllo ☃".encode()),
])
def test_string_escapes_produce_bytes(literal: str, expected: bytes) -> None:
    assert tokenize(literal)[0] == (STRING, expected, 0)


@pytest.mark.parametrize(("text", "message"), [
    ('"abc', "unclosed string literal"),
    ('(data "abc)', "unclosed string literal"),
    ('"a\tb"', "illegal control character in string literal"),
    (r'"\q"', "illegal escape"),
    (r'"\u{}"', "illegal escape"),
    (r'"\u{d800}"', "malformed UTF-8 encoding"),
    (r'"\u{110000}"', "malformed UTF-8 encoding"),
    ("(; never closed", "unclosed comment"),
    ("(; (; ;)", "unclosed comment"),
    ('$l"a"', "unknown operator"),
    ('"a""b"', "unknown operator"),
    ('"a"x', "unknown operator"),
    ("a,b", "unknown operator"),
    ("(@x (y)", "unclosed annotation"),
    ("\udc80", "malformed UTF-8 encoding"),
    ('"\udc80"', "malformed UTF-8 encoding"),
    (";;\udc80", "malformed UTF-8 encoding"),
])
def test_lexical_errors(text: str, message: str) -> None:
    with pytest.raises(TextSyntaxError) as info:
        tokenize(text)
    assert info.value.message.startswith(message)


def test_errors_carry_line_and_column() -> None:
    with pytest.raises(TextSyntaxError) as info:
        tokenize('(module\n  (data\n     "ab\\q"))')
    error = info.value
    assert (error.line, error.column) == (3, 9)  # the escape itself
    assert error.offset == 24
    assert "line 3, column 9" in str(error)


def test_location_counts_from_one() -> None:
    assert location("ab\ncd", 0) == (1, 1)
    assert location("ab\ncd", 4) == (2, 2)
    assert location("ab\ncd", 99) == (2, 3)


def test_identifiers_are_idchars_after_a_dollar() -> None:
    assert kinds_and_values("$a.b+c/d:e $l$l") == [(ID, "$a.b+c/d:e"), (ID, "$l$l"), (EOF, None)]
    with pytest.raises(TextSyntaxError, match="empty identifier"):
        tokenize("$")


def test_quoted_identifiers_are_the_names_they_spell() -> None:
    assert kinds_and_values('$"a b" $"fh" $fh $"\\41B"') == [(ID, "$a b"), (ID, "$fh"), (ID, "$fh"), (ID, "$AB"),
                                                            (EOF, None)]
    for text, message in (('$""', "empty identifier"), ('$"\\ef"', "malformed UTF-8"),
                          ('$ "a"', "empty identifier"), ('$"a\tb"', "empty identifier")):
        with pytest.raises(TextSyntaxError, match=message):
            tokenize(text)


def test_annotations_are_left_out_and_known_ones_kept_beside_the_tokens() -> None:
    tokens, annotations = tokenize_with_annotations('(@a x (y) "z") (func (@name "f") (@custom "c" (after func)))')
    assert [kind for kind, _, _ in tokens] == [LPAR, ATOM, RPAR, EOF]
    assert [(a.name, a.position) for a in annotations] == [("name", 2), ("custom", 2)]
    custom = annotations[1]
    assert custom.items[0] == (STRING, b"c", custom.offset + 9) and custom.items[1].items[0][1] == "after"
    for text, message in (("(@)", "empty annotation id"), ('(@"")', "empty annotation id"), ("(@x (y)", "unclosed"),
                          ("(@a \x01)", "illegal character"), ("(@a ü)", "illegal character")):
        with pytest.raises(TextSyntaxError, match=message):
            tokenize(text)


def test_decode_name_checks_utf8() -> None:
    assert decode_name("ü".encode()) == "ü"
    assert decode_name(b"\xc0\x80") is None


@given(st.text(max_size=40))
def test_tokenize_raises_only_syntax_errors(text: str) -> None:
    try:
        tokens = tokenize(text)
    except TextSyntaxError:
        return
    assert tokens[-1][0] == EOF


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"])
def test_line_comments_end_at_any_newline(newline: str) -> None:
    assert kinds_and_values(f"a ;; comment{newline}b") == [(ATOM, "a"), (ATOM, "b"), (EOF, None)]
