"""``HeaderMap``: Envoy's header map semantics, and ``abi.text``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from abi.proxy.headers import HeaderMap
from abi.wire.pairs import decode_pairs
from abi.wire.text import ascii_lower, from_wire, readable, to_wire


def test_names_are_lower_cased_on_the_way_in() -> None:
    headers = HeaderMap({"Content-Type": "text/plain", "X-Foo": "Bar"})
    assert headers.items() == [("content-type", "text/plain"), ("x-foo", "Bar")]
    assert headers.get("CONTENT-TYPE") == "text/plain"
    assert "X-FOO" in headers


def test_only_ascii_letters_are_lower_cased() -> None:
    assert ascii_lower("X-Ä-Ω") == "x-Ä-Ω"


def test_get_answers_the_first_value_and_none_when_absent() -> None:
    headers = HeaderMap([("a", "1"), ("a", "2")])
    assert headers.get("a") == "1"
    assert headers.get_all("a") == ["1", "2"]
    assert headers.get("b") is None


def test_add_keeps_existing_entries() -> None:
    headers = HeaderMap({"a": "1"})
    headers.add("A", "2")
    assert headers.items() == [("a", "1"), ("a", "2")]


def test_replace_keeps_the_position_of_the_first_and_drops_the_rest() -> None:
    headers = HeaderMap([("a", "1"), ("b", "x"), ("a", "2")])
    headers.replace("a", "3")
    assert headers.items() == [("a", "3"), ("b", "x")]


def test_replace_adds_when_absent() -> None:
    headers = HeaderMap({"a": "1"})
    headers.replace("b", "2")
    assert headers.items() == [("a", "1"), ("b", "2")]


def test_remove_removes_every_entry_of_a_name() -> None:
    headers = HeaderMap([("a", "1"), ("b", "x"), ("a", "2")])
    headers.remove("A")
    assert headers.items() == [("b", "x")]


def test_pseudo_headers_stay_in_front() -> None:
    headers = HeaderMap({"x-a": "1", ":path": "/"})
    headers.add(":method", "GET")
    assert [name for name, _ in headers] == [":path", ":method", "x-a"]


def test_set_pairs_replaces_everything() -> None:
    headers = HeaderMap({"a": "1"})
    headers.set_pairs([(b"B", b"2"), (b"c", b"3")])
    assert headers.items() == [("b", "2"), ("c", "3")]


def test_serialization_is_the_pairs_encoding() -> None:
    headers = HeaderMap([(":status", "200"), ("x-a", "1")])
    assert decode_pairs(headers.serialize()) == [(b":status", b"200"), (b"x-a", b"1")]
    assert headers.serialized_size() == len(headers.serialize())


@given(st.binary(max_size=30))
def test_guest_bytes_survive_the_round_trip(data: bytes) -> None:
    headers = HeaderMap([(b"x-raw", data)])
    assert to_wire(headers.get("x-raw")) == data  # type: ignore[arg-type]
    assert HeaderMap(headers).serialize() == headers.serialize()


def test_reports_show_undecodable_bytes_as_escapes() -> None:
    assert readable(b"ok \xff\xfe") == "ok \\xff\\xfe"
    assert readable(from_wire(b"caf\xc3\xa9")) == "café"
    assert HeaderMap([("x", b"\x80")]).to_report() == [["x", "\\x80"]]
