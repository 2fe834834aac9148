"""``abi.frontends.changes``: what the summary shows plugins changed."""

from __future__ import annotations

from abi.frontends.changes import header_change_lines, message_change_lines, quoted
from abi.proxy.headers import HeaderMap
from abi.proxy.records import HttpMessage


def test_header_changes_per_name() -> None:
    before = HeaderMap([(":path", "/a"), ("x-same", "1"), ("x-gone", "bye"), ("x-multi", "a"), ("x-multi", "b"),
                        ("x-multi", "b")])
    after = HeaderMap([(":path", "/b"), ("x-new", "hi"), ("x-multi", "b"), ("x-multi", "c"), ("x-same", "1"),
                       ("x-new", "again")])
    assert header_change_lines(before, after) == [
        "~ :path: /a -> /b",
        "+ x-new: hi",
        "+ x-new: again",
        "- x-multi: a",
        "- x-multi: b",
        "+ x-multi: c",
        "- x-gone: bye",
    ]
    assert header_change_lines(after, HeaderMap(after)) == []
    # Reordering is no change; values that need it are quoted.
    assert header_change_lines(HeaderMap([("a", "1"), ("b", "2")]), HeaderMap([("b", "2"), ("a", "1")])) == []
    assert header_change_lines(HeaderMap([("a", " x")]), HeaderMap([("a", "")]), "trailer ") == \
        ['~ trailer a: " x" -> ""']


def test_bodies_and_trailers() -> None:
    sent = HttpMessage(HeaderMap([("a", "1")]), bytearray(b"x" * 100), HeaderMap([("t", "1")]), True)
    got = HttpMessage(HeaderMap([("a", "1")]), bytearray(b"line\n\xff\"q\""), None, True)
    assert message_change_lines(sent, got) == [
        '~ body: "' + "x" * 57 + '..." (100 bytes) -> "line\\n\\xff\\"q\\"" (9 bytes)',
        "- trailer t: 1",
    ]


def test_quoted_is_one_line_and_bounded() -> None:
    assert quoted(b"a\tb\r\n") == '"a\\tb\\r\\n"'
    assert quoted("é" * 100, 10) == '"ééééééé..."'
