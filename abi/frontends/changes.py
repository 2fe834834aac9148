"""What the plugins changed on the way: the headers, body and trailers one
end of a stream sent against what the other end received, as short lines
for the readable summary (``abi.frontends.report``), and the one way bytes
are quoted in it and in the messages of unmet expectations
(``abi.frontends.expectations``).

Header changes are computed per name, as multisets of values, so that the
order plugins add headers in does not show as a change:

* ``+ name: value`` a value only the receiving end got (added);
* ``- name: value`` a value only the sending end had (removed);
* ``~ name: old -> new`` a name with one value on each side, changed.

Names come in the order the receiving end has them, then the removed ones
in the order the sending end had them; the same run gives the same lines.
"""

from __future__ import annotations

from collections import Counter

from abi.proxy.headers import HeaderMap
from abi.proxy.records import HttpMessage
from abi.wire.text import readable

PREVIEW_CHARACTERS = 60
"""Longer text is cut to this many characters (then ``...``), so a large
body keeps the summary compact."""

ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"'}


def quoted(data: bytes | bytearray | str, limit: int = PREVIEW_CHARACTERS) -> str:
    """``data`` as readable text in double quotes, line breaks and tabs
    escaped, cut after ``limit`` characters."""
    text = "".join(ESCAPES.get(character, character) for character in readable(data))
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f'"{text}"'


def header_change_lines(before: HeaderMap, after: HeaderMap, label: str = "") -> list[str]:
    """``+``/``-``/``~`` lines for what differs from ``before`` to ``after``
    (module docstring); ``label`` goes before each name (``"trailer "``)."""
    sent = _values_by_name(before)
    received = _values_by_name(after)
    lines: list[str] = []
    for name in [*received, *(name for name in sent if name not in received)]:
        old = sent.get(name, [])
        new = received.get(name, [])
        if old == new:
            continue
        shown = readable(name)
        if len(old) == 1 and len(new) == 1:
            lines.append(f"~ {label}{shown}: {_value(old[0])} -> {_value(new[0])}")
            continue
        kept = Counter(old) & Counter(new)
        removed = Counter(old) - kept
        added = Counter(new) - kept
        lines.extend(f"- {label}{shown}: {_value(value)}" for value in old if _take(removed, value))
        lines.extend(f"+ {label}{shown}: {_value(value)}" for value in new if _take(added, value))
    return lines


def message_change_lines(before: HttpMessage, after: HttpMessage) -> list[str]:
    """What differs between what one end sent and what the other received:
    headers, the body (``~ body: "..." -> "..."``) and trailers."""
    lines = header_change_lines(before.headers, after.headers)
    if bytes(before.body) != bytes(after.body):
        lines.append(f"~ body: {quoted(before.body)} ({len(before.body)} bytes) -> {quoted(after.body)} "
                     f"({len(after.body)} bytes)")
    lines += header_change_lines(before.trailers or HeaderMap(), after.trailers or HeaderMap(), "trailer ")
    return lines


def _values_by_name(headers: HeaderMap) -> dict[bytes, list[bytes]]:
    values: dict[bytes, list[bytes]] = {}
    for name, value in headers.wire_pairs():
        values.setdefault(name, []).append(value)
    return values


def _take(remaining: Counter[bytes], value: bytes) -> bool:
    """Whether ``value`` is still to be shown (each occurrence once)."""
    if remaining[value] <= 0:
        return False
    remaining[value] -= 1
    return True


def _value(value: bytes) -> str:
    text = quoted(value)[1:-1]
    return text if text and text == text.strip() else f'"{text}"'
