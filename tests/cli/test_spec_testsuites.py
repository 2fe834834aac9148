"""Known testsuites (``interp.script.testsuites``): recognised by their files,
and their files that need features the engine does not support yet named in
one line by ``glasswasm spec`` instead of failing their checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interp.cli.main import main
from interp.features import SUPPORTED_FEATURES, Feature
from interp.features import WASM_2_0_FEATURES, WASM_3_0_FEATURES
from interp.script.testsuites import TESTSUITES, WASM_2_0, WASM_3_0, place_of, recognise, files_of_testsuite

PASSING = "(module (func (export \"one\") (result i32) (i32.const 1)))\n(assert_return (invoke \"one\") (i32.const 1))\n"
GC_SCRIPT = "(module (type $p (struct (field i32))))\n"
SHARED_MEMORY_SCRIPT = "(module (memory 1 1 shared))\n"


def make_suite(folder: Path, markers: tuple[str, ...], extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True)
    for name in markers:
        (folder / name).write_text(PASSING)
    for name, text in (extra or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_testsuites_are_recognised_by_their_files(tmp_path: Path) -> None:
    assert recognise(make_suite(tmp_path / "two", WASM_2_0.markers)) is WASM_2_0
    assert recognise(make_suite(tmp_path / "three", (*WASM_2_0.markers, *WASM_3_0.markers))) is WASM_3_0
    assert recognise(make_suite(tmp_path / "mine", ("address.wast", "bulk.wast"))) is None


def test_a_script_is_placed_in_the_testsuite_above_it(tmp_path: Path) -> None:
    root = make_suite(tmp_path / "suite", WASM_3_0.markers, {"proposals/threads/atomic.wast": PASSING})
    place = place_of(root / "proposals" / "threads" / "atomic.wast")
    assert place is not None
    assert (place.testsuite, place.root, place.relative, place.missing) == \
        (WASM_3_0, root, "proposals/threads/atomic.wast", ("threads",))
    array = place_of(root / "array.wast", SUPPORTED_FEATURES - {Feature.FUNCTION_REFERENCES, Feature.GC})
    assert array is not None and array.missing == ("function-references", "gc")
    assert place_of(root / "array.wast").missing == ()  # type: ignore[union-attr]
    assert place_of(root / "return_call.wast", SUPPORTED_FEATURES | {Feature.TAIL_CALL}).missing == ()  # type: ignore[union-attr]
    assert place_of(Path(__file__)) is None


def test_which_files_make_up_a_testsuite(tmp_path: Path) -> None:
    """3.0's proposals are part of it (a proposal the table does not name is
    needed by name); the drafts under 2.0's proposals/ are not part of 2.0."""
    three = make_suite(tmp_path / "three", WASM_3_0.markers, {"proposals/new-idea/x.wast": PASSING,
                                                              "legacy/throw.wast": PASSING,
                                                              "tools/notes.wast": PASSING})
    assert place_of(three / "proposals" / "new-idea" / "x.wast").missing == ("new-idea",)  # type: ignore[union-attr]
    assert place_of(three / "tools" / "notes.wast") is None
    assert [path.relative_to(three).as_posix() for path in files_of_testsuite(three, WASM_3_0)] == [
        "array.wast", "legacy/throw.wast", "memory64.wast", "proposals/new-idea/x.wast", "return_call.wast",
        "try_table.wast"]
    two = make_suite(tmp_path / "two", WASM_2_0.markers, {"proposals/gc/struct.wast": GC_SCRIPT})
    assert place_of(two / "proposals" / "gc" / "struct.wast") is None
    assert [path.name for path in files_of_testsuite(two, WASM_2_0)] == sorted(WASM_2_0.markers)


def test_files_run_with_the_features_of_their_standard_and_those_they_need(tmp_path: Path) -> None:
    """Where standards disagree (2.0 rejects a second memory, 3.0 reads
    limits flags that a proposal extends), each file is decoded, parsed and
    validated by its own standard's rules."""
    two = make_suite(tmp_path / "two", WASM_2_0.markers)
    three = make_suite(tmp_path / "three", WASM_3_0.markers, {"proposals/custom-page-sizes/x.wast": PASSING})
    assert place_of(two / "address.wast").features == WASM_2_0_FEATURES  # type: ignore[union-attr]
    assert place_of(three / "memory64.wast").features == WASM_3_0_FEATURES  # type: ignore[union-attr]
    proposal = place_of(three / "proposals" / "custom-page-sizes" / "x.wast")
    assert proposal is not None and proposal.features == WASM_3_0_FEATURES | {Feature.CUSTOM_PAGE_SIZES}


def test_the_engine_declares_the_features_it_supports() -> None:
    """What it supports is WebAssembly 2.0 plus whatever has been declared
    since; a 2.0 testsuite file never needs more."""
    assert {Feature.SIMD, Feature.REFERENCE_TYPES, Feature.BULK_MEMORY, Feature.MULTI_VALUE} <= SUPPORTED_FEATURES
    assert WASM_2_0.features_needed("simd_lane.wast") == ()


def test_the_feature_table_is_well_formed() -> None:
    for testsuite in TESTSUITES:
        features = [feature for feature, _ in testsuite.needs]
        assert len(features) == len(set(features)), testsuite.name
        for feature, patterns in testsuite.needs:
            assert patterns and all(pattern.endswith(".wast") for pattern in patterns), feature
            assert len(patterns) == len(set(patterns)), feature
            assert list(patterns) == sorted(patterns) or any("*" in pattern for pattern in patterns), feature


def test_spec_says_which_testsuite_and_counts_the_files_not_run(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    threads = "proposals/threads/atomic.wast"
    root = make_suite(tmp_path / "suite", WASM_3_0.markers, {"array.wast": GC_SCRIPT, "id.wast": "(module $\"x\")\n",
                                                             threads: SHARED_MEMORY_SCRIPT})
    assert main(["spec", str(root), str(root / threads), "--json", str(tmp_path / "report.json")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{root}: the WebAssembly 3.0 testsuite (github.com/WebAssembly/testsuite at 193e551)",
        f"{root / 'array.wast'}: 1 passed, 0 failed",
        f"{root / 'id.wast'}: 1 passed, 0 failed",
        f"{root / 'memory64.wast'}: 2 passed, 0 failed",
        f"{root / 'return_call.wast'}: 2 passed, 0 failed",
        f"{root / 'try_table.wast'}: 2 passed, 0 failed",
        "not run: 1 file that needs features glasswasm does not support yet: threads (1) "
        "(-v lists them, --run-unsupported runs them)",
        "8 passed, 0 failed, 1 file not run",
    ]
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(Path(item["path"]).name, item["needs"]) for item in report["not_run"]] == [("atomic.wast", ["threads"])]


def test_spec_lists_or_runs_the_files_not_supported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    threads = "proposals/threads/atomic.wast"
    root = make_suite(tmp_path / "suite", WASM_3_0.markers, {threads: SHARED_MEMORY_SCRIPT, "ok.wast": PASSING})
    assert main(["spec", "-v", str(root / threads), str(root / "ok.wast")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{root}: the WebAssembly 3.0 testsuite (github.com/WebAssembly/testsuite at 193e551)",
        f"{root / threads}: not run: needs threads",
        f"{root / 'ok.wast'}: 2 passed, 0 failed",
        "2 passed, 0 failed, 1 file not run",
    ]
    assert main(["spec", "--run-unsupported", str(root / threads)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"{root / threads}: 0 passed, 1 failed (cannot parse)"
    assert out[-1] == "0 passed, 1 failed"


def test_spec_runs_the_subfolders_with_recursive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_suite(tmp_path / "suite", WASM_3_0.markers, {"legacy/throw.wast": PASSING,
                                                             "proposals/threads/atomic.wast": SHARED_MEMORY_SCRIPT})
    assert main(["spec", str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "8 passed, 0 failed"
    assert main(["spec", "--recursive", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [f"{root / 'legacy' / 'throw.wast'}: 2 passed, 0 failed",
                        "not run: 1 file that needs features glasswasm does not support yet: threads (1) "
                        "(-v lists them, --run-unsupported runs them)",
                        "10 passed, 0 failed, 1 file not run"]
