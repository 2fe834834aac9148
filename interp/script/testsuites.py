"""The official testsuites glasswasm knows, and which of their files need
which features.

github.com/WebAssembly/testsuite keeps its ``.wast`` files at the root of the
repository, one version of the standard at a time: WebAssembly 2.0 at commit
49b5977 (148 files), WebAssembly 3.0 at commit 193e551 (the core files at the
root, and ``legacy/``, ``custom/`` and ``proposals/`` beside them; at the 2.0
commit, ``proposals/`` holds drafts that are no part of the standard).  A
folder is recognised by marker files only its version has; a ``.wast`` file
by the folder it is in, or the nearest folder above that is a testsuite, and
belongs to it when it is one of the testsuite's ``files``.

``needs`` is the data: per testsuite, per feature, the files (patterns
relative to the testsuite's root) that need it; a file under
``proposals/NAME/`` that the table does not name needs the proposal NAME.  A
file runs when the engine supports every feature it needs
(``interp.features.SUPPORTED_FEATURES``); otherwise ``glasswasm spec`` and
``spec_tests`` say which features it needs instead of failing its checks.  As
features are implemented, the engine declares them and their files run, with
no change here.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from interp.features import SUPPORTED_FEATURES, WASM_2_0_FEATURES, WASM_3_0_FEATURES, Feature

REPOSITORY = "github.com/WebAssembly/testsuite"
MAX_DEPTH = 3
"""How many folders above a file are looked at for a testsuite's root
(``proposals/threads/`` is two below it)."""


@dataclass(frozen=True)
class Testsuite:
    """A version of the official testsuite: recognised when every one of
    ``markers`` is in a folder and none of ``absent``; made of the ``files``
    (patterns relative to its root); ``standard`` is what its version of the
    standard has, the features its files are run with besides those they
    need."""

    name: str
    version: str
    commit: str
    markers: tuple[str, ...]
    absent: tuple[str, ...]
    files: tuple[str, ...]
    needs: tuple[tuple[Feature, tuple[str, ...]], ...]
    standard: frozenset[Feature]

    def describe(self) -> str:
        return f"the {self.name} testsuite ({REPOSITORY} at {self.commit})"

    def includes(self, relative: str) -> bool:
        return any(_matches(relative, pattern) for pattern in self.files)

    def features_needed(self, relative: str) -> tuple[str, ...]:
        """The names of the features the file at ``relative`` (to the root,
        with ``/``) needs beyond WebAssembly 2.0, in the order of
        ``Feature``."""
        needed = {feature for feature, patterns in self.needs if any(_matches(relative, pattern) for pattern in patterns)}
        names = tuple(feature.value for feature in Feature if feature in needed)
        parts = relative.split("/")
        if not names and len(parts) == 3 and parts[0] == "proposals":
            return (parts[1],)
        return names

    def features_of(self, relative: str) -> frozenset[Feature]:
        """The features the file at ``relative`` is run with: its standard's,
        and those it needs (a proposal's files, its proposal)."""
        known = {feature.value: feature for feature in Feature}
        return self.standard | {known[name] for name in self.features_needed(relative) if name in known}


def _matches(relative: str, pattern: str) -> bool:
    """``fnmatch`` one folder level at a time (``*`` stays within a folder)."""
    return relative.count("/") == pattern.count("/") and fnmatch.fnmatchcase(relative, pattern)


def _files(names: str) -> tuple[str, ...]:
    return tuple(f"{name}.wast" for name in names.split())


WASM_3_0 = Testsuite(
    name="WebAssembly 3.0",
    version="3.0",
    commit="193e551",
    markers=("memory64.wast", "return_call.wast", "array.wast", "try_table.wast"),
    absent=(),
    files=("*.wast", "custom/*.wast", "legacy/*.wast", "proposals/*/*.wast"),
    needs=(
        (Feature.MEMORY64, _files(
            "address address64 align align64 binary_leb128_64 bulk64 call_indirect64 endianness64 float_memory64 "
            "load64 memory memory64-imports memory64 memory_copy64 memory_fill64 memory_grow64 memory_init64 "
            "memory_redundancy64 memory_trap64 simd_address table64 table_copy64 table_copy_mixed table_fill64 "
            "table_get64 table_grow64 table_init64 table_set64 table_size64")),
        (Feature.MULTI_MEMORY, _files(
            "address0 address1 align0 binary0 data0 data1 data_drop0 exports0 float_exprs0 float_exprs1 "
            "float_memory0 imports0 imports1 imports2 imports3 imports4 instance linking0 linking1 linking2 "
            "linking3 load0 load1 load2 memory-multi memory_copy0 memory_copy1 memory_fill0 memory_grow "
            "memory_init0 memory_size0 memory_size1 memory_size2 memory_size_import memory_trap0 memory_trap1 "
            "simd_memory-multi start0 store0 store1 store2 traps0")),
        (Feature.TAIL_CALL, _files("return_call return_call_indirect return_call_ref try_table")),
        (Feature.EXTENDED_CONST, _files("data elem global")),
        (Feature.FUNCTION_REFERENCES, _files(
            "array array_copy array_fill array_init_data array_init_elem array_new_data array_new_elem br_if "
            "br_on_cast br_on_cast_fail br_on_non_null br_on_null br_table call_ref elem func global i31 instance "
            "linking local_init local_tee ref ref_as_non_null ref_cast ref_eq ref_is_null ref_null ref_test "
            "return_call_ref select struct table-sub table try_table type-canon type-equivalence type-rec "
            "type-subtyping unreached-invalid unreached-valid")),
        (Feature.GC, _files(
            "array array_copy array_fill array_init_data array_init_elem array_new_data array_new_elem br_on_cast "
            "br_on_cast_fail data extern i31 ref_cast ref_eq ref_null ref_test struct table_init table_init64 tag "
            "type-canon type-equivalence type-rec type-subtyping")),
        (Feature.EXCEPTION_HANDLING, _files("exports imports instance ref_null tag throw throw_ref try_table")),
        (Feature.RELAXED_SIMD, _files(
            "i16x8_relaxed_q15mulr_s i32x4_relaxed_trunc i8x16_relaxed_swizzle relaxed_dot_product "
            "relaxed_laneselect relaxed_madd_nmadd relaxed_min_max")),
        (Feature.ANNOTATIONS, ("annotations.wast", "custom/*.wast")),
        (Feature.QUOTED_IDENTIFIERS, _files("id")),
        (Feature.MODULE_DEFINITIONS, tuple(sorted(
            _files("instance memory memory64 table table64")
            + ("proposals/custom-page-sizes/memory_max.wast", "proposals/custom-page-sizes/memory_max_i64.wast")))),
        (Feature.LEGACY_EXCEPTIONS, ("legacy/*.wast",)),
        (Feature.THREADS, ("proposals/threads/*.wast",)),
        (Feature.WIDE_ARITHMETIC, ("proposals/wide-arithmetic/*.wast",)),
        (Feature.CUSTOM_PAGE_SIZES, ("proposals/custom-page-sizes/*.wast",)),
        (Feature.CUSTOM_DESCRIPTORS, ("proposals/custom-descriptors/*.wast",)),
    ),
    standard=WASM_3_0_FEATURES,
)

WASM_2_0 = Testsuite(
    name="WebAssembly 2.0",
    version="2.0",
    commit="49b5977",
    markers=("address.wast", "bulk.wast", "ref_func.wast", "simd_lane.wast"),
    absent=WASM_3_0.markers,
    files=("*.wast",),
    needs=(),
    standard=WASM_2_0_FEATURES,
)

TESTSUITES = (WASM_3_0, WASM_2_0)


@dataclass(frozen=True)
class ScriptPlace:
    """Where a ``.wast`` file sits: in which testsuite, under which root
    (written as the file was: relative or absolute, symbolic links kept),
    what it needs that the engine lacks, and the features it is run with."""

    testsuite: Testsuite
    root: Path
    relative: str
    missing: tuple[str, ...]
    features: frozenset[Feature]


def recognise(folder: Path) -> Testsuite | None:
    """The testsuite ``folder`` is the root of, if any."""
    return _recognise(str(folder.resolve()))


@functools.lru_cache(maxsize=64)
def _recognise(folder: str) -> Testsuite | None:
    root = Path(folder)
    for testsuite in TESTSUITES:
        if all((root / name).is_file() for name in testsuite.markers) and \
                not any((root / name).is_file() for name in testsuite.absent):
            return testsuite
    return None


def place_of(script: Path, supported: frozenset[Feature] = SUPPORTED_FEATURES) -> ScriptPlace | None:
    """The testsuite ``script`` belongs to (``None``: none glasswasm knows,
    such as a script of your own)."""
    absolute = Path(os.path.normpath(script.absolute()))
    names = {feature.value for feature in supported}
    for root in [absolute.parent, *absolute.parent.parents][:MAX_DEPTH]:
        testsuite = recognise(root)
        if testsuite is not None:
            relative = absolute.relative_to(root).as_posix()
            if not testsuite.includes(relative):
                return None
            missing = tuple(name for name in testsuite.features_needed(relative) if name not in names)
            shown = root if script.is_absolute() else Path(os.path.relpath(root))
            return ScriptPlace(testsuite, shown, relative, missing, testsuite.features_of(relative))
    return None


def files_of_testsuite(root: Path, testsuite: Testsuite) -> list[Path]:
    """The testsuite's files under ``root``, sorted."""
    return sorted(path for path in root.rglob("*.wast")
                  if path.is_file() and testsuite.includes(path.relative_to(root).as_posix()))
