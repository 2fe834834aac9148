"""The options of ``glasswasm proxy`` that look inside a run (the trace and
its format, focused instruction traces, the profile, the HTML report),
defined without loading the host: the ``glasswasm`` command builds every
subcommand's parser (abi/frontends/run_outputs.py does the work)."""

from __future__ import annotations

import argparse

TRACE_FORMATS = ("jsonl", "chrome")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trace", metavar="FILE",
                        help="write every callback, host call and proxy event to FILE ('-': standard output)")
    parser.add_argument("--trace-format", choices=TRACE_FORMATS, default="jsonl",
                        help="jsonl: one JSON object per line (default); chrome: the Chrome Trace Event format "
                             "(Perfetto UI, chrome://tracing), a track per plugin and per stream")
    parser.add_argument("--trace-instructions", action="append", default=[], metavar="PLUGIN[!FUNCTION]",
                        help="with --trace: also every instruction, call and memory access of this plugin "
                             "(or only inside this function of it); repeatable; runs it on the step machine")
    parser.add_argument("--profile", metavar="FILE",
                        help="count the instructions of every plugin (exact, on the step machine): the report "
                             "to FILE, the collapsed stacks to FILE.folded, a flame graph to FILE.svg "
                             "(FILE's suffix replaced)")
    parser.add_argument("--html", metavar="FILE",
                        help="write a self-contained HTML report: per stream a sequence diagram, headers as each "
                             "plugin received and left them, bodies, logs, metrics, failures")
