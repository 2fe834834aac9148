"""``WasiConfig`` checks its input; line-mode output does not depend on how
the guest chunks its writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interp.errors import UsageError
from interp.wasi import OutputSink, WasiConfig, WasiProcess
from interp.wasi.streams import OutputStream


@pytest.mark.parametrize("kwargs, message", [
    ({"argv": "prog"}, "argv must be a sequence of strings"),
    ({"argv": ("a\0b",)}, "contains a NUL"),
    ({"argv": (1,)}, "argument must be a string"),
    ({"argv": ("\ud800",)}, "cannot be encoded as UTF-8"),
    ({"environment": {"A=B": "c"}}, "must be non-empty and contain no '='"),
    ({"environment": {"": "c"}}, "must be non-empty"),
    ({"environment": {"A": "x\0"}}, "contains a NUL"),
    ({"environment": 5}, "environment must be a mapping"),
    ({"stdin": "text"}, "stdin must be bytes"),
    ({"stdout": print}, "stdout must be an OutputSink"),
    ({"start_time_ns": -1}, "start_time_ns must be an integer from 0"),
    ({"start_time_ns": 2**64}, "start_time_ns must be an integer from 0"),
    ({"clock_tick_ns": 1.5}, "clock_tick_ns must be an integer"),
    ({"random_seed": "seed"}, "random_seed must be an integer"),
    ({"max_random_get_bytes": -1}, "max_random_get_bytes must be an integer from 0"),
])
def test_bad_configuration_is_a_usage_error(kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        WasiConfig(**kwargs)


def test_configuration_is_normalised_and_read_only() -> None:
    config = WasiConfig(argv=["prog", "x"], environment=[("B", "2"), ("A", "1")], stdin=bytearray(b"in"))
    assert config.argv == ("prog", "x")
    assert list(config.environment.items()) == [("B", "2"), ("A", "1")]
    assert config.stdin == b"in" and isinstance(config.stdin, bytes)
    with pytest.raises(TypeError):
        config.environment["C"] = "3"  # type: ignore[index]
    assert config.encoded_environment() == (b"B=2\0", b"A=1\0")


def test_host_functions_of_an_unknown_module_name() -> None:
    with pytest.raises(UsageError, match="no WASI module named 'wasi'"):
        WasiProcess().host_functions("wasi")


def test_undecodable_command_line_bytes_reach_the_guest_unchanged() -> None:
    argument = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python hands over such an argv entry
    assert WasiConfig(argv=(argument,)).encoded_argv() == (b"caf\xe9\0",)


@given(st.binary(max_size=200), st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_line_mode_does_not_depend_on_chunking(data: bytes, cuts: list[int]) -> None:
    lines: list[str] = []
    stream = OutputStream(OutputSink.lines(lines.append))
    positions = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    for start, end in zip(positions, positions[1:]):
        stream.write(data[start:end])
    stream.flush()
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert lines == [line.decode("utf-8", "replace") for line in expected]


def test_bytes_mode_passes_each_write_through() -> None:
    chunks: list[bytes] = []
    stream = OutputStream(OutputSink.raw(chunks.append))
    stream.write(b"a\nb")
    stream.write(b"")
    stream.write(b"c")
    stream.flush()
    assert chunks == [b"a\nb", b"c"]
