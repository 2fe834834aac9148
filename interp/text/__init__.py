"""The WebAssembly text format: modules (``parse_module``) and the WAST
script language of the spec testsuite (``parse_script``)."""

from __future__ import annotations

from interp.text.parser import parse_module
from interp.text.script import parse_script

__all__ = ["parse_module", "parse_script"]
