"""A profile: instructions executed, by call path, by function and by source
line, and the views people read it through.

The data is a call tree (``ProfileNode``): one node per distinct call path,
with the instructions executed in that path's innermost function (``self``)
and how many times it was entered.  Everything else is derived from it:

* per function, ``self`` (its own instructions, wherever it was called from),
  ``total`` (with everything it called; a recursive function's inner calls are
  not counted twice) and ``calls``;
* the collapsed stacks, one line ``outer;inner;innermost COUNT`` per path,
  which flamegraph.pl, speedscope and Perfetto read;
* the flame graph (flame_graph.py).

Who fills the tree does not matter here: ``Profiler`` (profiler.py) fills it
from the step machine with exact counts, and another run (a proxy scenario's
callbacks) can put its own paths above those, as ``root.child(...)`` nodes.
Ties are broken by name, so the same profile always prints the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

from interp.errors import UsageError


class ProfileNode:
    """One call path.  ``key`` tells apart different functions with the same
    name; ``pc_counts`` is the profiler's per-instruction tally for the
    node's function (folded into ``self_count`` when the profile is read)."""

    __slots__ = ("name", "key", "self_count", "calls", "children", "pc_counts", "func")

    def __init__(self, name: str, key: Any = None, func: Any = None) -> None:
        self.name = name
        self.key = key if key is not None else name
        self.func = func
        self.self_count = 0
        self.calls = 0
        self.children: dict[Any, ProfileNode] = {}
        self.pc_counts: list[int] | None = None

    def child(self, name: str, key: Any = None, func: Any = None) -> ProfileNode:
        """The node for calling ``name`` (identified by ``key``) from here."""
        lookup = key if key is not None else name
        node = self.children.get(lookup)
        if node is None:
            node = self.children[lookup] = ProfileNode(name, lookup, func)
        return node

    @property
    def total(self) -> int:
        """Instructions executed in this path and below it."""
        return subtree_totals(self)[id(self)]

    def sorted_children(self) -> list[ProfileNode]:
        """Children in name order (flame graphs' order), then by key."""
        return sorted(self.children.values(), key=lambda node: (node.name, str(node.key)))

    def walk(self) -> Iterator[tuple[int, ProfileNode]]:
        """Every node below this one with its depth (1 for children), depth
        first in name order.  Iterative: recursion in the guest makes call
        paths as deep as its call stack."""
        pending: list[tuple[int, ProfileNode]] = [(1, child) for child in reversed(self.sorted_children())]
        while pending:
            depth, node = pending.pop()
            yield depth, node
            pending.extend((depth + 1, child) for child in reversed(node.sorted_children()))

    def paths(self) -> Iterator[tuple[list[ProfileNode], ProfileNode]]:
        """``walk`` with each node's path from here (the same list, updated
        in place: copy it to keep it)."""
        path: list[ProfileNode] = []
        for depth, node in self.walk():
            del path[depth - 1:]
            path.append(node)
            yield path, node


@dataclass(frozen=True)
class FunctionCost:
    name: str
    self_count: int
    total: int
    calls: int


@dataclass(frozen=True)
class LineCost:
    file: str
    line: int
    count: int
    text: str | None


class Profile:
    """A call tree of instruction counts, and source-line counts when the
    code has line information."""

    def __init__(self) -> None:
        self.root = ProfileNode("")
        self.line_counts: Counter[tuple[str, int]] = Counter()
        self.line_text: dict[tuple[str, int], str | None] = {}
        self.without_line = 0  # instructions of code with line information that no line claims

    @property
    def total(self) -> int:
        return self.root.total

    def functions(self) -> list[FunctionCost]:
        """Per function, the hottest (most self instructions) first."""
        self_counts: Counter = Counter()
        totals: Counter = Counter()
        calls: Counter = Counter()
        names: dict[Any, str] = {}
        subtree = subtree_totals(self.root)
        on_path: Counter = Counter()  # keys on the path to the node, the node included
        path: list[ProfileNode] = []
        for depth, node in self.root.walk():
            for left in path[depth - 1:]:
                on_path[left.key] -= 1
            del path[depth - 1:]
            path.append(node)
            on_path[node.key] += 1
            names[node.key] = node.name
            self_counts[node.key] += node.self_count
            calls[node.key] += node.calls
            if on_path[node.key] == 1:  # the outermost activation counts the total
                totals[node.key] += subtree[id(node)]
        costs = [FunctionCost(names[key], self_counts[key], totals[key], calls[key]) for key in names]
        return sorted(costs, key=lambda cost: (-cost.self_count, -cost.total, cost.name))

    def lines(self) -> list[LineCost]:
        """Per source line, the hottest first."""
        costs = [LineCost(file, line, count, self.line_text.get((file, line)))
                 for (file, line), count in self.line_counts.items() if count]
        return sorted(costs, key=lambda cost: (-cost.count, cost.file, cost.line))

    def collapsed(self) -> str:
        """The collapsed stacks: ``a;b;c COUNT`` per call path that executed
        instructions itself, sorted, one per line."""
        lines = sorted(";".join(_frame_name(step.name) for step in path) + f" {node.self_count}"
                       for path, node in self.root.paths() if node.self_count)
        return "".join(line + "\n" for line in lines)

    def report(self, top: int = 20, top_lines: int = 20) -> str:
        """The hottest functions and source lines as tables."""
        if top < 0 or top_lines < 0:
            raise UsageError("the number of rows must not be negative")
        total = self.total
        out = [f"{total:,} instructions executed (exact counts from the step machine)", ""]
        functions = self.functions()
        out.append(f"{'self':>12} {'self %':>7} {'total':>12} {'total %':>7} {'calls':>10}  function")
        for cost in functions[:top]:
            out.append(f"{cost.self_count:>12,} {_percent(cost.self_count, total):>7} {cost.total:>12,} "
                       f"{_percent(cost.total, total):>7} {cost.calls:>10,}  {cost.name}")
        if len(functions) > top:
            out.append(f"... {len(functions) - top} more functions")
        lines = self.lines()
        if lines and top_lines:
            out += ["", f"{'count':>12} {'share':>7}  source line"]
            for cost in lines[:top_lines]:
                text = f"  {cost.text.strip()}" if cost.text else ""
                out.append(f"{cost.count:>12,} {_percent(cost.count, total):>7}  {cost.file}:{cost.line}{text}")
            if len(lines) > top_lines:
                out.append(f"... {len(lines) - top_lines} more lines")
            if self.without_line:
                out.append(f"{self.without_line:>12,} {_percent(self.without_line, total):>7}  (no source line)")
        return "\n".join(out) + "\n"


def subtree_totals(root: ProfileNode) -> dict[int, int]:
    """``id(node)`` -> instructions executed in the node and below, for every
    node under ``root`` and ``root`` itself, in one pass."""
    order = [root] + [node for _, node in root.walk()]  # every parent before its children
    totals: dict[int, int] = {}
    for node in reversed(order):  # children before their parents
        totals[id(node)] = node.self_count + sum(totals[id(child)] for child in node.children.values())
    return totals


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _frame_name(name: str) -> str:
    """A name as one frame of a collapsed stack: ``;`` separates frames and a
    line break would end the line, so neither may appear."""
    return name.replace(";", ":").replace("\n", " ")
