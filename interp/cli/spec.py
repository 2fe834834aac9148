"""``glasswasm spec``: run .wast scripts of the official testsuite (or your own)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from interp.cli.engine_option import add_engine_argument
from interp.errors import UsageError
from interp.exec.store import EngineConfig
from interp.script.run import ScriptResult, run_script_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".wast files or folders of them")
    parser.add_argument("--json", metavar="FILE", help="write every check's result as JSON to FILE")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failed check")
    add_engine_argument(parser)


def collect_scripts(paths: list[str]) -> list[Path]:
    """The .wast files named, folders expanded (sorted, not recursive)."""
    scripts: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            scripts.extend(sorted(p for p in path.iterdir() if p.suffix == ".wast" and p.is_file()))
        elif path.is_file():
            scripts.append(path)
        else:
            raise UsageError(f"no such file or folder: {name}")
    if not scripts:
        raise UsageError("no .wast files found in " + ", ".join(paths))
    return scripts


def run(args: argparse.Namespace) -> int:
    results: list[ScriptResult] = []
    for script in collect_scripts(args.paths):
        result = run_script_file(script, EngineConfig(engine=args.engine))
        results.append(result)
        line = f"{script}: {result.passed} passed, {result.failed} failed"
        if result.error:
            line += f" ({result.error})"
        print(line, flush=True)
        if args.verbose:
            for check in result.checks:
                if not check.passed:
                    print(f"  {script}:{check.line}: {check.command}: {check.detail}")
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    if args.json:
        _write_json(args.json, results, passed, failed)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _write_json(path: str, results: list[ScriptResult], passed: int, failed: int) -> None:
    document = {
        "passed": passed,
        "failed": failed,
        "message_mismatches": sum(r.message_mismatches for r in results),
        "files": [
            {
                "path": os.fspath(r.path),
                "passed": r.passed,
                "failed": r.failed,
                "error": r.error,
                "checks": [
                    {"line": c.line, "command": c.command, "passed": c.passed, "detail": c.detail,
                     "message_matched": c.message_matched}
                    for c in r.checks
                ],
            }
            for r in results
        ],
    }
    try:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1)
            stream.write("\n")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
