"""How errors look on the command line: one line naming the kind of error,
then, for a trap, the backtrace; and for an error located in the text of a
module (malformed text, a validation or link error in a text module), the
source line with the offending token underlined (``FILE:LINE:COL: error:
MESSAGE``, as ``wat2wasm`` and ``rustc`` write it), then what else locates
it (the function and the byte offset, the field)."""

from __future__ import annotations

import unicodedata

from interp.errors import ExecutionError, GlasswasmError, SourceLocated

MAX_BACKTRACE_LINES = 20
EXCERPT_WIDTH = 100
"""Most characters of a source line shown around an error; longer lines
(minified text, generated modules) are cut to a window around the token."""
INDENT = "  "


def describe_error(error: GlasswasmError) -> list[str]:
    """The lines printed for an error: one line, then a backtrace for
    execution errors, or the source excerpt for errors located in a text."""
    if isinstance(error, SourceLocated) and error.line is not None:
        return describe_located_error(error)
    lines = [f"{error.label}: {printable(str(error))}"]
    if isinstance(error, ExecutionError):
        trace = error.format_backtrace()
        if len(trace) > MAX_BACKTRACE_LINES:
            hidden = len(trace) - MAX_BACKTRACE_LINES
            trace = trace[:MAX_BACKTRACE_LINES] + [f"  ... {hidden} more frames"]
        lines.extend(trace)
    return lines


def describe_located_error(error: SourceLocated) -> list[str]:
    """``FILE:LINE:COL: error: MESSAGE``, the source line and a caret line
    under the token (``LINE:COL`` when the text came from no file), then the
    error's context (``in function 1 $add, at offset 0x24``), if any."""
    where = f"{error.line}:{error.column}"
    if error.file is not None:
        where = f"{printable(error.file)}:{where}"
    lines = [f"{where}: error: {printable(error.headline)}"]
    if error.source_line is not None and error.column is not None:
        source, underline = _excerpt(error.source_line, error.column - 1, error.length)
        lines += [INDENT + source, INDENT + underline]
    context = error.context()
    if context:
        lines.append(INDENT + printable(", ".join(context)))
    return lines


def _excerpt(line: str, start: int, length: int) -> tuple[str, str]:
    """The line as shown, and the line of spaces and carets that underlines
    characters ``start .. start+length`` in it.  Tabs stay tabs (so the carets
    line up whatever the tab width), other unprintable characters are shown
    escaped, wide characters count two columns."""
    length = max(1, min(length, len(line) - start)) if start < len(line) else 1
    window_start = max(0, start - EXCERPT_WIDTH // 2)
    window_end = min(len(line), max(start + length, window_start + EXCERPT_WIDTH))
    shown: list[str] = ["..."] if window_start > 0 else []
    under: list[str] = ["   "] if window_start > 0 else []
    for position in range(window_start, window_end):
        char = line[position]
        text = char if char == "\t" or char.isprintable() else ascii(char)[1:-1]
        shown.append(text)
        if position >= start + length:
            continue
        if char == "\t" and position < start:
            under.append("\t")
            continue
        width = 2 if unicodedata.east_asian_width(char) in ("W", "F") else len(text)
        under.append(("^" if position >= start else " ") * width)
    if window_end < len(line):
        shown.append("...")
    if start >= len(line):  # the error is at the end of the line (or of the text)
        under.append(" " * (start - len(line)) + "^")
    return "".join(shown), "".join(under)


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped, so a
    message quoting the input stays on one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
