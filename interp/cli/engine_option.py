"""The ``--engine`` option shared by every command that executes code."""

from __future__ import annotations

import argparse

from interp.exec.engines import AUTO, ENGINES, default_engine


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=(AUTO, *ENGINES), default=AUTO,
                        help=f"execution engine (default: the compiled one when it is built; "
                             f"here: {default_engine()})")
