"""A flame graph of a profile, as a self-contained SVG file.

The layout is the classic one (Brendan Gregg's flamegraph.pl): the outermost
calls at the bottom, each call path a box as wide as the instructions executed
in it and below it, callees stacked on their callers, siblings in name order.
Every box has a tooltip (its SVG ``title``) with the path's function, its
count and share; a name is written in its box when it fits.

Everything is deterministic: the layout follows from the counts and names,
and each function's colour from its name (a hash into a warm palette; host
functions in a cool one), so the same profile gives the same bytes.  The
file uses no script and no external resource: it opens anywhere an SVG does.
"""

from __future__ import annotations

import zlib
from xml.sax.saxutils import escape

from interp.debug.profile import Profile, ProfileNode, subtree_totals

WIDTH = 1200
FRAME_HEIGHT = 16
FONT_SIZE = 12
CHAR_WIDTH = 0.59 * FONT_SIZE  # the average width of a character of the font, to fit names in boxes
PAD_TOP = 40
PAD_BOTTOM = 24
PAD_SIDE = 10
MIN_WIDTH = 0.1  # narrower boxes are left out, as flamegraph.pl does
HOST_PREFIX = "host "


def flame_graph_svg(profile: Profile, title: str = "Flame graph", subtitle: str = "") -> str:
    """The SVG text of ``profile``'s flame graph."""
    totals = subtree_totals(profile.root)
    total = totals[id(profile.root)]
    boxes: list[tuple[int, float, float, ProfileNode]] = []  # depth, x, width, node
    if total:
        scale = (WIDTH - 2 * PAD_SIDE) / total
        start: dict[int, float] = {id(profile.root): PAD_SIDE}
        parents: list[ProfileNode] = [profile.root]
        for depth, node in profile.root.walk():
            del parents[depth:]
            parent = parents[-1]
            x = start[id(parent)]
            start[id(parent)] = x + totals[id(node)] * scale
            start[id(node)] = x
            parents.append(node)
            width = totals[id(node)] * scale
            if width >= MIN_WIDTH:
                boxes.append((depth, x, width, node))
    depth_max = max((depth for depth, _, _, _ in boxes), default=0)
    height = PAD_TOP + (depth_max + 1) * FRAME_HEIGHT + PAD_BOTTOM
    out = [
        '<?xml version="1.0" standalone="no"?>',
        f'<svg version="1.1" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#f8f8f2"/>',
        f'<text x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" font-family="Verdana, sans-serif" '
        f'font-size="17">{escape(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text x="{WIDTH / 2:.0f}" y="34" text-anchor="middle" font-family="Verdana, sans-serif" '
                   f'font-size="11" fill="#555">{escape(subtitle)}</text>')
    out.append(f'<g font-family="Verdana, sans-serif" font-size="{FONT_SIZE}">')
    # The root box: everything.
    bottom = height - PAD_BOTTOM
    if total:
        out.append(_box(PAD_SIDE, bottom - FRAME_HEIGHT, WIDTH - 2 * PAD_SIDE, "all", total, total, "#e0e0e0"))
    for depth, x, width, node in boxes:
        y = bottom - (depth + 1) * FRAME_HEIGHT
        out.append(_box(x, y, width, node.name, totals[id(node)], total, _colour(node.name)))
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


def _box(x: float, y: float, width: float, name: str, count: int, total: int, colour: str) -> str:
    share = 100 * count / total
    label = _fit(name, width)
    text = (f'<text x="{x + 3:.2f}" y="{y + FRAME_HEIGHT - 4:.2f}">{escape(label)}</text>' if label else "")
    return (f'<g><title>{escape(name)} ({count:,} instructions, {share:.2f}%)</title>'
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{FRAME_HEIGHT - 1}" fill="{colour}" '
            f'rx="2" ry="2"/>{text}</g>')


def _fit(name: str, width: float) -> str:
    """``name``, shortened with ``..`` to fit ``width``, or nothing when not even that fits."""
    room = int((width - 6) / CHAR_WIDTH)
    if room < 3:
        return ""
    if len(name) <= room:
        return name
    return name[:room - 2] + ".."


def _colour(name: str) -> str:
    """A colour from the name alone: warm for wasm functions, cool for host functions."""
    digest = zlib.crc32(name.encode("utf-8", "replace"))
    a, b, c = (digest & 0xFF) / 255, (digest >> 8 & 0xFF) / 255, (digest >> 16 & 0xFF) / 255
    if name.startswith(HOST_PREFIX):
        red, green, blue = 50 + 60 * a, 150 + 60 * b, 190 + 50 * c
    else:
        red, green, blue = 205 + 50 * a, 80 + 150 * b, 40 * c
    return f"#{int(red):02x}{int(green):02x}{int(blue):02x}"
