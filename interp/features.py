"""The WebAssembly features there are, and the ones this engine supports.

A feature is what a version of the standard added, or a proposal past it
(the names are the proposals' own).  The engine declares what it implements
in ``SUPPORTED_FEATURES``; the conformance harness (``interp.script.testsuites``,
``glasswasm spec``, ``spec_tests``) runs a file of a known testsuite only
when every feature the file needs is declared here.  Adding a feature to the
set is what makes the testsuite's files for it run, and then they must pass.

Where a later feature changes what an earlier standard said (WebAssembly 2.0
rejects a second memory, an alignment flag of 32 is malformed there and
invalid in 3.0, a proposal's binary format reuses bits 3.0 rejects), the
decoder, the text parser and the validator take the set of features to apply
(``features=``, all supported ones by default), and the harness runs each
file of a testsuite with the features of its standard plus those the file
needs: the 2.0 files as WebAssembly 2.0, the 3.0 core files as 3.0 without
the proposals past it.
"""

from __future__ import annotations

import enum


class Feature(enum.Enum):
    # WebAssembly 2.0
    MUTABLE_GLOBALS = "mutable-globals"
    SATURATING_CONVERSIONS = "nontrapping-float-to-int"
    SIGN_EXTENSION = "sign-extension"
    MULTI_VALUE = "multi-value"
    REFERENCE_TYPES = "reference-types"
    BULK_MEMORY = "bulk-memory"
    SIMD = "simd"
    # WebAssembly 3.0
    MEMORY64 = "memory64"
    MULTI_MEMORY = "multi-memory"
    TAIL_CALL = "tail-call"
    EXTENDED_CONST = "extended-const"
    FUNCTION_REFERENCES = "function-references"
    GC = "gc"
    EXCEPTION_HANDLING = "exception-handling"
    RELAXED_SIMD = "relaxed-simd"
    ANNOTATIONS = "annotations"
    QUOTED_IDENTIFIERS = "quoted-identifiers"
    MODULE_DEFINITIONS = "module-definitions"
    """The script format's ``(module definition ...)`` and ``(module instance ...)``."""
    # Proposals past 3.0
    LEGACY_EXCEPTIONS = "legacy-exceptions"
    THREADS = "threads"
    WIDE_ARITHMETIC = "wide-arithmetic"
    CUSTOM_PAGE_SIZES = "custom-page-sizes"
    CUSTOM_DESCRIPTORS = "custom-descriptors"


WASM_2_0_FEATURES: frozenset[Feature] = frozenset({
    Feature.MUTABLE_GLOBALS,
    Feature.SATURATING_CONVERSIONS,
    Feature.SIGN_EXTENSION,
    Feature.MULTI_VALUE,
    Feature.REFERENCE_TYPES,
    Feature.BULK_MEMORY,
    Feature.SIMD,
})
"""What WebAssembly 2.0 has: validating by these keeps the rules 3.0
relaxed, as the 2.0 testsuite checks."""

WASM_3_0_FEATURES: frozenset[Feature] = WASM_2_0_FEATURES | frozenset({
    Feature.MEMORY64,
    Feature.MULTI_MEMORY,
    Feature.TAIL_CALL,
    Feature.EXTENDED_CONST,
    Feature.FUNCTION_REFERENCES,
    Feature.GC,
    Feature.EXCEPTION_HANDLING,
    Feature.RELAXED_SIMD,
    Feature.ANNOTATIONS,
    Feature.QUOTED_IDENTIFIERS,
    Feature.MODULE_DEFINITIONS,
})
"""What WebAssembly 3.0 has (the proposals past it are not part of it)."""

SUPPORTED_FEATURES: frozenset[Feature] = WASM_3_0_FEATURES | frozenset({
    Feature.LEGACY_EXCEPTIONS,
    Feature.WIDE_ARITHMETIC,
    Feature.CUSTOM_PAGE_SIZES,
})
"""What the engine implements: decoding, parsing and validation accept
everything of these features by default (``features=`` narrows it, as the
conformance harness does for each testsuite file)."""
