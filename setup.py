"""Builds the optional compiled loop (interp/exec/native/loop.pyx) and the
native body check (interp/valid/native_body.pyx) with Cython.

The loop's source is generated first, from its template (loop.pyx.in) and the
instruction table: interp/exec/native/cython_semantics.py writes the C cases
of every instruction from its semantics.  Everything else is configured in
pyproject.toml.  When Cython or a C compiler is missing, or the build fails,
glasswasm installs without the compiled loop and runs on its pure-Python
engine (``glasswasm engines`` tells which engines are available).  Set
GLASSWASM_PURE_PYTHON=1 to skip the build on purpose.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A build_ext whose failure only means: no compiled loop."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, missing headers ...
            self._skip(error)

    def build_extension(self, ext) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            self._skip(error)

    @staticmethod
    def _skip(error: Exception) -> None:
        print(f"glasswasm: building the compiled loop failed ({error}); "
              f"installing the pure-Python engine only", file=sys.stderr)


COMPILED_PYTHON_MODULES = (
    "interp/binary/reader.py", "interp/binary/decode.py", "interp/valid/function.py", "interp/translate/lower.py",
    "interp/exec/native/encode.py",
)
ROOT = Path(__file__).resolve().parent
NATIVE = "interp/exec/native"


def generate_loop() -> None:
    """Write loop.pyx from loop.pyx.in and the instruction table (the
    generator reads only the table and the standard library)."""
    sys.path.insert(0, str(ROOT))
    try:
        from interp.exec.native.cython_semantics import write_loop
    finally:
        sys.path.remove(str(ROOT))
    write_loop()


def extensions() -> list:
    if os.environ.get("GLASSWASM_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:
        print("glasswasm: Cython is not available; installing the pure-Python engine only", file=sys.stderr)
        return []
    try:
        generate_loop()
    except Exception as error:  # a mistake in the table: say it, install the pure-Python engine
        print(f"glasswasm: generating the compiled loop failed ({error}); installing the pure-Python engine only",
              file=sys.stderr)
        return []
    loop = Extension("interp.exec.native.loop", [f"{NATIVE}/loop.pyx"], include_dirs=[NATIVE],
                     depends=[f"{NATIVE}/numerics.h", f"{NATIVE}/loop.pyx.in"], extra_compile_args=["-O2"])
    # The native body check reads the opcode table when it is imported, so it needs no generated source.
    body_check = Extension("interp.valid.native_body", ["interp/valid/native_body.pyx"], extra_compile_args=["-O2"])
    # The decoder's, validator's and encoder's hot modules, compiled as they are (pure
    # Python that Cython turns into C calls): loading large modules takes about a fifth
    # less.
    loaders = [Extension(source[:-3].replace("/", "."), [source], extra_compile_args=["-O2"])
               for source in COMPILED_PYTHON_MODULES]
    # The encoder's per-instruction work in C types (encode.py decides, encode_words.pyx writes the words).
    encoder = Extension("interp.exec.native.encode_words", [f"{NATIVE}/encode_words.pyx"], extra_compile_args=["-O2"])
    return cythonize([loop, body_check, encoder], quiet=True, compiler_directives={"language_level": 3}) + cythonize(
        loaders, quiet=True, compiler_directives={"language_level": 3, "annotation_typing": False})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
