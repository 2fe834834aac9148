"""``glasswasm inspect``: what a module holds, as text or ``--json``.  A text
module is inspected as the binary it assembles to."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from interp.cli.diagnostics import printable
from interp.loader import binary_from_bytes, is_binary, read_file
from interp.summary import Summary, summarize

SECTION_ITEMS = {
    "type": ("type", "types"), "import": ("import", "imports"), "function": ("function", "functions"),
    "table": ("table", "tables"), "memory": ("memory", "memories"), "global": ("global", "globals"),
    "export": ("export", "exports"), "elem": ("segment", "segments"), "code": ("body", "bodies"),
    "data": ("segment", "segments"), "tag": ("tag", "tags"),
}
"""What a vector section's count counts, singular and plural."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("module", metavar="MODULE", help="a .wasm binary or .wat text module")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")


def run(args: argparse.Namespace) -> int:
    data = read_file(args.module)
    binary = binary_from_bytes(data, os.fspath(args.module))
    summary = summarize(binary)
    summary = {"module": os.fspath(args.module), "format": "binary" if is_binary(data) else "text", **summary}
    if args.json:
        print(json.dumps(summary, indent=1, ensure_ascii=False))
    else:
        for line in render_text(summary):
            print(printable(line))
    return 0


def render_text(summary: Summary) -> list[str]:
    """The summary for people: one block per part, ``none`` for what the
    module does not have."""
    if summary["format"] == "text":
        lines = [f"{summary['module']}: text module, {summary['size']} bytes when assembled"]
    else:
        lines = [f"{summary['module']}: binary module, {summary['size']} bytes"]
    lines.append("sections (contents' start and size, as wasm-objdump -h shows them):")
    width = max([8] + [len(str(section["size"])) + 2 for section in summary["sections"]])
    lines += [f"  {section['name']:<10} start {section['offset']:#010x}  size {section['size']:<{width}}"
              f"{_section_contents(section)}".rstrip()
              for section in summary["sections"]]
    lines += _block("types", [f"{index}: {func_type}" for index, func_type in enumerate(summary["types"])])
    lines += _block("imports", [f'{imp["kind"]} "{imp["module"]}"."{imp["name"]}": {imp["type"]}'
                                for imp in summary["imports"]])
    functions = summary["functions"]
    lines.append(f"functions: {functions['defined']} defined, {functions['imported']} imported")
    for part in ("tables", "memories", "globals", "tags"):
        if part == "tags" and not summary[part]:
            continue  # a WebAssembly 3.0 part: said only when there is one
        lines += _block(part, [f"{entity['index']}{_name(entity['name'])}: {entity['type']}"
                               f"{' (imported)' if entity['imported'] else ''}" for entity in summary[part]])
    lines += _block("exports", [f'{export["kind"]} "{export["name"]}": {export["kind"]} {export["index"]}'
                                f'{_name(export["internal_name"])}'
                                f'{", " + _drop_kind(export["type"]) if export["type"] else ""}'
                                for export in summary["exports"]])
    start = summary["start"]
    lines.append(f"start function: {'none' if start is None else str(start['index']) + _name(start['name'])}")
    lines += _block("custom sections", _custom_lines(summary))
    lines += _purpose_lines(summary)
    return lines


def _section_contents(section: dict[str, Any]) -> str:
    if section["custom_name"] is not None:
        return f'"{section["custom_name"]}"'
    items = SECTION_ITEMS.get(section["name"])
    if items is None or section["count"] is None:
        return ""
    return _count(section["count"], *items)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _block(title: str, entries: list[str]) -> list[str]:
    if not entries:
        return [f"{title}: none"]
    return [f"{title}:"] + [f"  {entry}" for entry in entries]


def _name(name: str | None) -> str:
    return f" ${name}" if name is not None else ""


def _drop_kind(described: str) -> str:
    """``func [i32] -> []`` -> ``[i32] -> []``: the kind is said already."""
    return described.partition(" ")[2]


def _custom_lines(summary: Summary) -> list[str]:
    lines = []
    names = summary["names"]
    if names is not None:
        module_name = f"module ${names['module']}, " if names["module"] is not None else ""
        lines.append(f"name: {module_name}names of {_count(names['functions'], 'function')}, "
                     f"local names in {_count(names['functions_with_local_names'], 'function')}")
    producers = summary["producers"]
    if producers is not None:
        fields = [f"{field} " + ", ".join(f"{p['name']} {p['version']}".strip() for p in values)
                  for field, values in producers.items()]
        lines.append("producers: " + ("; ".join(fields) if fields else "empty"))
    dwarf = summary["dwarf"]
    lines.append("DWARF debug information: " + (", ".join(dwarf) if dwarf else "none"))
    described = {"name", "producers", *dwarf}
    others = [f'"{custom["name"]}" ({custom["size"]} bytes)' for custom in summary["custom_sections"]
              if custom["name"] not in described]
    if others:
        lines.append("other: " + ", ".join(others))
    return lines


def _purpose_lines(summary: Summary) -> list[str]:
    lines = []
    wasi = summary["wasi"]
    if wasi is not None:
        lines.append(f"WASI: a {wasi['kind']}, importing {_count(wasi['functions'], 'function')} of "
                     f"{', '.join(wasi['modules'])}")
    proxy = summary["proxy_wasm"]
    if proxy is not None:
        lines.append(f"proxy-wasm plugin: ABI {', '.join(proxy['abi_versions'])}, "
                     f"exports {_count(len(proxy['callbacks']), 'callback')}")
        lines += [f"  {callback}" for callback in proxy["callbacks"]]
    return lines
