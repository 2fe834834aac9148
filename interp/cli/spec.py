"""``glasswasm spec``: run .wast scripts of the official testsuite (or your own).

Given a testsuite glasswasm knows (``interp.script.testsuites``), it says
which one, and does not run the files that need features the engine does
not support yet: one line counts them by feature (``-v`` lists them,
``--run-unsupported`` runs them anyway)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from interp.cli.diagnostics import INDENT, describe_located_error, printable
from interp.cli.engine_option import add_engine_argument
from interp.errors import UsageError
from interp.exec.store import EngineConfig
from interp.features import Feature
from interp.script.run import ScriptResult, run_script_file
from interp.script.testsuites import ScriptPlace, place_of

LISTED_FAILURES = 10
"""Failed checks listed without ``-v``: enough to start on, few enough that a
run against a testsuite the engine does not support stays readable."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".wast files or folders of them")
    parser.add_argument("--json", metavar="FILE", help="write every check's result as JSON to FILE")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every failed check, under its file (without -v: the first few, at the end), "
                             "and every file not run")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="run the .wast files of the folders' subfolders too (a testsuite's legacy/, proposals/ ...)")
    parser.add_argument("--run-unsupported", action="store_true",
                        help="also run the testsuite files that need features glasswasm does not support yet")
    add_engine_argument(parser)


def collect_scripts(paths: list[str], recursive: bool = False) -> list[Path]:
    """The .wast files named, folders expanded (sorted; with ``recursive``,
    their subfolders' files after their own, folder by folder)."""
    scripts: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            scripts.extend(_scripts_in(path, recursive))
        elif path.is_file():
            scripts.append(path)
        else:
            raise UsageError(f"no such file or folder: {name}")
    if not scripts:
        raise UsageError("no .wast files found in " + ", ".join(paths))
    return scripts


def _scripts_in(folder: Path, recursive: bool) -> list[Path]:
    entries = sorted(folder.iterdir())
    scripts = [entry for entry in entries if entry.suffix == ".wast" and entry.is_file()]
    if recursive:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                scripts.extend(_scripts_in(entry, True))
    return scripts


def run(args: argparse.Namespace) -> int:
    """Run every script, one summary line each; then the failed checks (all
    of them with ``-v``, as they come; else the first few, at the end), the
    files not run, and the totals."""
    results: list[ScriptResult] = []
    failures: list[str] = []
    not_run: list[tuple[Path, ScriptPlace]] = []
    roots: set[Path] = set()
    for script in collect_scripts(args.paths, args.recursive):
        place = place_of(script)
        if place is not None and place.root not in roots:
            roots.add(place.root)
            print(f"{printable(str(place.root))}: {place.testsuite.describe()}", flush=True)
        if place is not None and place.missing and not args.run_unsupported:
            not_run.append((script, place))
            if args.verbose:
                print(printable(f"{script}: not run: needs {_feature_names(place.missing)}"), flush=True)
            continue
        result = run_script_file(script, EngineConfig(engine=args.engine))
        results.append(result)
        line = f"{script}: {result.passed} passed, {result.failed} failed"
        if result.syntax_error is not None:
            line += " (cannot parse)"
        elif result.error:
            line += f" ({result.error})"
        print(printable(line), flush=True)
        if result.syntax_error is not None:
            for excerpt_line in describe_located_error(result.syntax_error):
                print(INDENT + excerpt_line)
        failed_here = [printable(f"{script}:{check.line}: {check.command}: {check.detail}")
                       for check in result.checks if not check.passed]
        if args.verbose:
            for failure in failed_here:
                print(INDENT + failure)
        else:
            failures += failed_here
    if failures:
        shown = failures[:LISTED_FAILURES]
        heading = "failed checks" if len(shown) == len(failures) else \
            f"failed checks (the first {len(shown)} of {len(failures)}; -v lists them all)"
        print(f"{heading}:")
        for failure in shown:
            print(INDENT + failure)
    if not_run and not args.verbose:
        print(_not_run_line(not_run))
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    if args.json:
        _write_json(args.json, results, passed, failed, not_run)
    skipped = f", {len(not_run)} file{'s' if len(not_run) > 1 else ''} not run" if not_run else ""
    print(f"{passed} passed, {failed} failed{skipped}")
    return 1 if failed else 0


def _feature_names(features: tuple[str, ...]) -> str:
    return ", ".join(features)


def _not_run_line(not_run: list[tuple[Path, ScriptPlace]]) -> str:
    """One line for every file not run: how many need each feature (in the
    order of ``Feature``, then proposals it does not name)."""
    known = [feature.value for feature in Feature]
    names = sorted({name for _, place in not_run for name in place.missing},
                   key=lambda name: (known.index(name) if name in known else len(known), name))
    needed = ", ".join(f"{name} ({sum(name in place.missing for _, place in not_run)})" for name in names)
    files = f"{len(not_run)} files that need" if len(not_run) > 1 else "1 file that needs"
    return (f"not run: {files} features glasswasm does not support yet: {needed} "
            f"(-v lists them, --run-unsupported runs them)")


def _write_json(path: str, results: list[ScriptResult], passed: int, failed: int,
                not_run: list[tuple[Path, ScriptPlace]]) -> None:
    document = {
        "passed": passed,
        "failed": failed,
        "not_run": [{"path": os.fspath(script), "testsuite": place.testsuite.name,
                     "needs": list(place.missing)} for script, place in not_run],
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
