"""Whatever the bytes, decoding either succeeds or raises MalformedError.

That is a hard requirement of the project: no IndexError, struct.error,
UnicodeDecodeError, RecursionError ... may escape.  Whenever a mangled
module still decodes, it must also survive an encode/decode round trip.
"""

from __future__ import annotations

from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interp.binary import decode_module, decode_names, encode_module
from interp.binary.encode import encode_unsigned
from interp.errors import MalformedError
from interp.syntax.module import Module

HEADER = b"\x00asm\x01\x00\x00\x00"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A module with one function () -> () whose body is spliced in: puts random
# bytes straight into the instruction decoder.
ONE_FUNCTION = HEADER + b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00" + b"\x0c\x01\x00"


def with_body(body: bytes) -> bytes:
    entry = encode_unsigned(len(body)) + body
    code = b"\x01" + entry
    return ONE_FUNCTION + b"\x0a" + encode_unsigned(len(code)) + code


def check(data: bytes, without_offsets: Callable[[Module], Module]) -> bool:
    """Decode ``data``; when it decodes, check the round trip.  True when it decoded."""
    try:
        module = decode_module(data)
    except MalformedError as error:
        assert isinstance(error.message, str) and error.message
        assert error.offset is None or 0 <= error.offset <= len(data)
        return False
    encoded = encode_module(module)
    assert without_offsets(decode_module(encoded)) == without_offsets(module)
    return True


@given(data=st.binary(max_size=300))
@FUZZ
def test_random_bytes(data: bytes, without_offsets) -> None:
    check(data, without_offsets)
    check(HEADER + data, without_offsets)


@given(body=st.binary(max_size=200))
@FUZZ
def test_random_function_bodies(body: bytes, without_offsets) -> None:
    check(with_body(body), without_offsets)
    check(with_body(b"\x00" + body + b"\x0b"), without_offsets)


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, arg in mutations:
        if not out:
            break
        at = where % len(out)
        if kind == "flip":
            out[at] ^= 1 << arg
        elif kind == "set":
            out[at] = arg
        elif kind == "insert":
            out.insert(at, arg)
        elif kind == "delete":
            del out[at:at + arg]
        else:
            del out[at:]
    return bytes(out)


@given(data=st.data())
@FUZZ
def test_mutated_testsuite_modules(data: st.DataObject, seed_binaries, without_offsets) -> None:
    seed = data.draw(st.sampled_from(seed_binaries))
    mutations = data.draw(st.lists(_MUTATION, min_size=1, max_size=4))
    check(mutate(seed, mutations), without_offsets)


@given(data=st.data())
@FUZZ
def test_mutated_wat2wasm_modules(data: st.DataObject, wat_binaries, without_offsets) -> None:
    seed = data.draw(st.sampled_from(sorted(wat_binaries.values())))
    mutations = data.draw(st.lists(_MUTATION, min_size=1, max_size=3))
    check(mutate(seed, mutations), without_offsets)


def test_every_truncation_and_single_byte_change(wat_binaries, without_offsets) -> None:
    """Exhaustive over one module that uses every section and immediate kind."""
    seed = wat_binaries["kitchen_sink"]
    complete_prefixes = [length for length in range(len(seed)) if check(seed[:length], without_offsets)]
    # Only prefixes that end between sections are modules in their own
    # right: the bare header, the first sections up to the function section
    # (which a code section must follow), and all but the name section.
    assert complete_prefixes[0] == 8 and len(complete_prefixes) <= 4
    assert decode_module(seed[:complete_prefixes[-1]]).customs == ()
    decoded = 0
    for at in range(8, len(seed)):
        original = seed[at]
        for replacement in (0x00, 0x0B, 0x80, 0xFF, original ^ 0x01):
            if replacement != original:
                decoded += check(seed[:at] + bytes([replacement]) + seed[at + 1:], without_offsets)
    assert decoded > 100  # many changes (names, constants, indices) leave a well-formed module


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_name_sections_never_raise(payload: bytes) -> None:
    decode_names(payload)
    decode_names(b"\x01" + bytes([len(payload) & 0x7F]) + payload)


@pytest.mark.parametrize("depth", [5_000, 50_000])
def test_deep_nesting_does_not_recurse(depth: int, without_offsets) -> None:
    body = b"\x00" + b"\x02\x40" * depth + b"\x0b" * (depth + 1)
    assert check(with_body(body), without_offsets)
    assert not check(with_body(body[:-1]), without_offsets)
