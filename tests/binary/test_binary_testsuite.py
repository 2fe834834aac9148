"""The official testsuite against the decoder and the encoder.

Error messages are compared the way the spec's own script runner does: the
reported message must start with the expected one (the testsuite writes
"unexpected end" where the reference interpreter says "unexpected end of
section or function", "illegal opcode" for "illegal opcode ff", ...).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from interp.binary import decode_module, encode_module
from interp.errors import MalformedError
from interp.syntax.module import Module
from spec_tests.expectations import configured_testsuite, features_of_testsuite

FEATURES = features_of_testsuite(configured_testsuite())
"""The testsuite read here is 2.0's (when configured), whose binaries are 2.0's:
decoded as 2.0 (where 3.0 gave bytes a meaning, such as the opcode 0x0a or the
import kind 4, they are malformed as 2.0 says)."""


def test_wast_binary_module(wast_binary_case) -> None:
    case = wast_binary_case
    if case.expect == "valid":
        decode_module(case.data, FEATURES)
        return
    with pytest.raises(MalformedError) as raised:
        decode_module(case.data, FEATURES)
    assert raised.value.message.startswith(case.message), (raised.value.message, case.message)


def test_the_extractor_finds_every_binary_module(all_wast_binary_cases) -> None:
    malformed = [case for case in all_wast_binary_cases if case.expect == "malformed"]
    valid = [case for case in all_wast_binary_cases if case.expect == "valid"]
    # The 2.0 testsuite's numbers: a parser that misses forms fails here.
    assert len(malformed) == 719
    assert len(valid) == 69
    assert all(case.message for case in malformed)
    assert {case.file for case in all_wast_binary_cases} >= {"binary.wast", "binary-leb128.wast", "custom.wast"}


def _outcomes(modules) -> tuple[dict[str, int], list[tuple]]:
    counts = {"decoded": 0, "malformed as expected": 0, "wabt artifact": 0}
    failures = []
    for module in modules:
        command = module.command
        data = module.path.read_bytes()
        malformed_expected = command["type"] == "assert_malformed"
        try:
            decode_module(data, FEATURES)
        except MalformedError as error:
            # wast2json's line is the module's, one after its assertion's.
            if malformed_expected and error.message.startswith(command["text"]):
                counts["malformed as expected"] += 1
            elif (error.message == "data count section required" and command["type"] == "assert_invalid"
                  and command.get("module_type") == "binary"):
                # wabt writes no data count section for a text module whose
                # memory.init/data.drop refer to a data segment that does
                # not exist; the reference interpreter never encodes it.
                counts["wabt artifact"] += 1
            else:
                failures.append((module.file, command.get("line"), command["type"], error.message,
                                 command.get("text")))
            continue
        if malformed_expected:
            failures.append((module.file, command.get("line"), "decoded", command.get("text")))
        else:
            counts["decoded"] += 1
    return counts, failures


def test_every_testsuite_module_decodes_as_expected(testsuite_as_binaries) -> None:
    counts, failures = _outcomes(testsuite_as_binaries)
    assert failures == []
    assert counts["decoded"] > 2000
    assert counts["malformed as expected"] >= 700
    assert counts["wabt artifact"] <= 2


def _decoded_testsuite_modules(testsuite_as_binaries) -> list[tuple[str, bytes, Module]]:
    decoded = []
    for module in testsuite_as_binaries:
        if module.command["type"] == "assert_malformed":
            continue
        data = module.path.read_bytes()
        try:
            decoded.append((module.path.name, data, decode_module(data, FEATURES)))
        except MalformedError:
            continue
    return decoded


def test_testsuite_modules_round_trip(testsuite_as_binaries, without_offsets) -> None:
    decoded = _decoded_testsuite_modules(testsuite_as_binaries)
    assert len(decoded) > 2000
    identical = 0
    for name, data, module in decoded:
        encoded = encode_module(module)
        again = decode_module(encoded, FEATURES)
        assert without_offsets(again) == without_offsets(module), name
        assert encode_module(again) == encoded, name
        identical += encoded == data
    # wabt writes minimal LEB128s too, so most binaries come back byte for byte.
    assert identical > len(decoded) // 2


OBJDUMP_LINE = re.compile(r"^ ([0-9a-f]{6}): [^|\n]*\|(?![ \t]*local\[)(?=[ \t]*\S)", re.MULTILINE)
"""An instruction line: not a local declaration (``local[i..j] type=t``) nor
the continuation of a long instruction's bytes (nothing after the bar)."""
OBJDUMP_FUNC = re.compile(r"^([0-9a-f]{6}) func\[(\d+)\]", re.MULTILINE)


def objdump_offsets(path) -> tuple[list[int], list[int]] | None:
    """Instruction offsets and function body offsets wasm-objdump -d prints
    (``None`` when wasm-objdump cannot read the module, which happens for
    sub-opcodes in long LEB128 form)."""
    done = subprocess.run(["wasm-objdump", "-d", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return ([int(hexa, 16) for hexa in OBJDUMP_LINE.findall(done.stdout)],
            [int(hexa, 16) for hexa, _ in OBJDUMP_FUNC.findall(done.stdout)])


def test_instruction_offsets_match_wasm_objdump(testsuite_as_binaries) -> None:
    if shutil.which("wasm-objdump") is None:
        pytest.skip("wasm-objdump is not installed")
    largest: dict[str, tuple[int, object]] = {}
    for module in testsuite_as_binaries:
        if module.command["type"] != "module":
            continue
        size = module.path.stat().st_size
        if size > largest.get(module.file, (0, None))[0]:
            largest[module.file] = (size, module.path)
    checked = 0
    for _, path in largest.values():
        try:
            module = decode_module(path.read_bytes(), FEATURES)
        except MalformedError:
            continue
        listed = objdump_offsets(path)
        if listed is None:
            continue
        instruction_offsets, func_offsets = listed
        assert [i.offset for f in module.funcs for i in f.body] == instruction_offsets, path.name
        assert [f.offset for f in module.funcs] == func_offsets, path.name
        checked += 1
    assert checked > 50
