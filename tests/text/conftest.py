"""Shared material for the text-format tests (test modules cannot import one
another, so it comes as fixtures): comparing a parsed module with the module
decoded from wabt's binary for the same text."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from interp.syntax.module import Elem, Expr, Module
from interp.syntax.opcodes import OPS_BY_NAME, SELECT_TYPED
from interp.syntax.types import FUNCREF, HeapKind, ValType, ref_type

_UNTYPED_SELECT = OPS_BY_NAME["select"]
_REF_FUNC = OPS_BY_NAME["ref.func"]
FUNC_INDICES = ref_type(False, HeapKind.FUNC)


def _clean(expr: Expr | None) -> Expr | None:
    """``expr`` without byte offsets; ``select (result)`` with no types is
    written by wabt as the untyped ``select`` while the spec keeps it typed
    (the testsuite then expects "invalid result arity"), so both become the
    untyped form."""
    if expr is None:
        return None
    return tuple(
        instruction._replace(op=_UNTYPED_SELECT, imm=None, offset=-1)
        if instruction.op is SELECT_TYPED and not instruction.imm else instruction._replace(offset=-1)
        for instruction in expr
    )


def _elem_type(elem: Elem) -> ValType:
    """wabt 1.0.32 predates WebAssembly 3.0: it writes a ``funcref`` segment
    of plain ``ref.func`` items in the function-index form, whose type is
    ``(ref func)`` since 3.0, so such segments compare as ``funcref``."""
    if elem.type is FUNC_INDICES or (elem.type is FUNCREF and all(
            len(item) == 2 and item[0].op is _REF_FUNC for item in elem.init)):
        return FUNCREF
    return elem.type


def comparable_module(module: Module) -> Module:
    """``module`` without what text and binary need not agree on: byte
    offsets, names and custom sections."""
    return dataclasses.replace(
        module,
        funcs=tuple(dataclasses.replace(f, offset=-1, body=_clean(f.body)) for f in module.funcs),
        globals=tuple(dataclasses.replace(g, init=_clean(g.init)) for g in module.globals),
        elems=tuple(dataclasses.replace(e, type=_elem_type(e), init=tuple(_clean(i) for i in e.init),
                                        offset=_clean(e.offset))
                    for e in module.elems),
        datas=tuple(dataclasses.replace(d, offset=_clean(d.offset)) for d in module.datas),
        names=type(module.names)(),
        customs=(),
    )


@pytest.fixture(scope="session")
def comparable() -> Callable[[Module], Module]:
    return comparable_module


def wat2wasm_binary(text: str, workdir: Path, stem: str = "module") -> bytes | None:
    """wabt's binary for a module text (without validating it), or ``None``
    when wabt rejects the text."""
    source, binary = workdir / f"{stem}.wat", workdir / f"{stem}.wasm"
    source.write_text(text, encoding="utf-8")
    result = subprocess.run(["wat2wasm", "--no-check", str(source), "-o", str(binary)],
                            capture_output=True, check=False)
    return binary.read_bytes() if result.returncode == 0 else None


@pytest.fixture(scope="session")
def wat2wasm() -> Callable[[str, Path, str], bytes | None]:
    """``wat2wasm_binary``; skips the test when wabt is missing."""
    if shutil.which("wat2wasm") is None:
        pytest.skip("wabt is not installed")
    return wat2wasm_binary


@pytest.fixture
def wat2wasm_module(tmp_path: Path, wat2wasm) -> Callable[[str], Module]:  # type: ignore[no-untyped-def]
    """Text -> the Module decoded from wabt's binary; skips the test when the
    decoder is missing."""
    decode = pytest.importorskip("interp.binary.decode")

    def convert(text: str) -> Module:
        binary = wat2wasm(text, tmp_path, "module")
        assert binary is not None, "wat2wasm rejected the text"
        return decode.decode_module(binary)

    return convert
